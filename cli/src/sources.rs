//! Chart sources on the command line: `repo add|update|list|remove|index`, `pull`, `push`,
//! `registry login|logout`, `dependency update|build|list` (Helm v4.3.1's pkg/cmd/repo_*.go,
//! pull.go, push.go, registry_*.go, dependency*.go) and Rudder's `bundle create|import`.
//!
//! Every command takes `--offline` (or `RUDDER_OFFLINE=1`): charts come from the content cache
//! only and nothing touches the network. `pull --verify` is refused (provenance verification
//! needs OpenPGP, which Rudder does not carry); `pull --prov` fetches the `.prov` file beside the
//! chart for HTTP repositories without verifying it.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::{ArgAction, Args, Subcommand};
use rudder_repo::{deps::DepOptions, Entry, HelmPaths, PullOptions};

/// What a command printed before it failed, and the error.
pub type Failure = (String, String);

fn offline(flag: bool) -> bool {
    flag || rudder_repo::cache::offline_from_env()
}

/// Go's `--flag` / `--flag=false` booleans.
#[derive(Args, Debug, Default, Clone)]
pub struct TlsArgs {
    #[arg(long = "ca-file", default_value = "")]
    pub ca_file: String,
    #[arg(long = "cert-file", default_value = "")]
    pub cert_file: String,
    #[arg(long = "key-file", default_value = "")]
    pub key_file: String,
    #[arg(long = "insecure-skip-tls-verify", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub insecure_skip_tls_verify: bool,
}

#[derive(Subcommand, Debug)]
pub enum RepoCommand {
    /// add a chart repository
    Add(RepoAddArgs),
    /// update information of available charts locally from chart repositories
    #[command(alias = "up")]
    Update(RepoUpdateArgs),
    /// list chart repositories
    #[command(alias = "ls")]
    List(RepoListArgs),
    /// remove one or more chart repositories
    #[command(alias = "rm")]
    Remove(RepoRemoveArgs),
    /// generate an index file given a directory containing packaged charts
    Index(RepoIndexArgs),
}

#[derive(Args, Debug)]
pub struct RepoArgs {
    #[command(subcommand)]
    pub command: RepoCommand,
}

#[derive(Args, Debug)]
pub struct RepoAddArgs {
    pub name: String,
    pub url: String,
    #[arg(long = "username", default_value = "")]
    pub username: String,
    #[arg(long = "password", default_value = "")]
    pub password: String,
    #[arg(long = "password-stdin", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub password_stdin: bool,
    #[arg(long = "force-update", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub force_update: bool,
    #[arg(long = "pass-credentials", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub pass_credentials: bool,
    #[arg(long = "allow-deprecated-repos", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub allow_deprecated_repos: bool,
    #[arg(long = "timeout")]
    pub timeout: Option<String>,
    #[arg(long = "offline", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub offline: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
}

#[derive(Args, Debug)]
pub struct RepoUpdateArgs {
    pub names: Vec<String>,
    #[arg(long = "timeout")]
    pub timeout: Option<String>,
    #[arg(long = "offline", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub offline: bool,
}

#[derive(Args, Debug)]
pub struct RepoListArgs {
    #[arg(short = 'o', long = "output", default_value = "table")]
    pub output: String,
    #[arg(long = "no-headers", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub no_headers: bool,
    #[arg(long = "offline", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub offline: bool,
}

#[derive(Args, Debug)]
pub struct RepoRemoveArgs {
    #[arg(required = true)]
    pub names: Vec<String>,
    #[arg(long = "offline", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub offline: bool,
}

#[derive(Args, Debug)]
pub struct RepoIndexArgs {
    pub dir: String,
    #[arg(long = "url", default_value = "")]
    pub url: String,
    #[arg(long = "merge", default_value = "")]
    pub merge: String,
    #[arg(long = "json", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub json: bool,
    #[arg(long = "offline", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub offline: bool,
}

/// Flags of `helm pull` (and the chart-path flags `bundle create` shares).
#[derive(Args, Debug, Default, Clone)]
pub struct PullArgs {
    #[arg(required = true)]
    pub charts: Vec<String>,
    #[arg(long = "version", default_value = "")]
    pub version: String,
    #[arg(long = "devel", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub devel: bool,
    #[arg(long = "untar", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub untar: bool,
    #[arg(long = "untardir", default_value = ".")]
    pub untardir: String,
    #[arg(short = 'd', long = "destination", default_value = ".")]
    pub destination: String,
    #[arg(long = "verify", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub verify: bool,
    #[arg(long = "prov", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub prov: bool,
    #[arg(long = "keyring", default_value = "")]
    pub keyring: String,
    #[arg(long = "repo", default_value = "")]
    pub repo: String,
    #[arg(long = "username", default_value = "")]
    pub username: String,
    #[arg(long = "password", default_value = "")]
    pub password: String,
    #[arg(long = "pass-credentials", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub pass_credentials: bool,
    #[arg(long = "plain-http", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub plain_http: bool,
    #[arg(long = "offline", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub offline: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
}

impl PullArgs {
    fn options(&self) -> PullOptions {
        PullOptions {
            version: self.version.clone(),
            devel: self.devel,
            destination: PathBuf::from(&self.destination),
            repo_url: self.repo.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            pass_credentials_all: self.pass_credentials,
            cert_file: self.tls.cert_file.clone(),
            key_file: self.tls.key_file.clone(),
            ca_file: self.tls.ca_file.clone(),
            insecure_skip_tls_verify: self.tls.insecure_skip_tls_verify,
            plain_http: self.plain_http,
            untar: self.untar,
            untar_dir: PathBuf::from(&self.untardir),
            offline: offline(self.offline),
        }
    }
}

#[derive(Args, Debug)]
pub struct PushArgs {
    pub chart: String,
    pub remote: String,
    #[arg(long = "username", default_value = "")]
    pub username: String,
    #[arg(long = "password", default_value = "")]
    pub password: String,
    #[arg(long = "plain-http", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub plain_http: bool,
    #[arg(long = "offline", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub offline: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
}

#[derive(Subcommand, Debug)]
pub enum RegistryCommand {
    /// login to a registry
    Login(RegistryLoginArgs),
    /// logout from a registry
    Logout(RegistryLogoutArgs),
}

#[derive(Args, Debug)]
pub struct RegistryArgs {
    #[command(subcommand)]
    pub command: RegistryCommand,
}

#[derive(Args, Debug)]
pub struct RegistryLoginArgs {
    pub host: String,
    #[arg(short = 'u', long = "username", default_value = "")]
    pub username: String,
    #[arg(short = 'p', long = "password", default_value = "")]
    pub password: String,
    #[arg(long = "password-stdin", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub password_stdin: bool,
    #[arg(long = "insecure", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub insecure: bool,
    #[arg(long = "plain-http", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub plain_http: bool,
    #[arg(long = "ca-file", default_value = "")]
    pub ca_file: String,
    #[arg(long = "cert-file", default_value = "")]
    pub cert_file: String,
    #[arg(long = "key-file", default_value = "")]
    pub key_file: String,
    #[arg(long = "offline", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub offline: bool,
}

#[derive(Args, Debug)]
pub struct RegistryLogoutArgs {
    pub host: String,
    #[arg(long = "offline", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub offline: bool,
}

#[derive(Subcommand, Debug)]
pub enum DependencyCommand {
    /// update charts/ based on the contents of Chart.yaml
    #[command(alias = "up")]
    Update(DepArgs),
    /// rebuild the charts/ directory based on the Chart.lock file
    Build(DepArgs),
    /// list the dependencies for the given chart
    #[command(alias = "ls")]
    List(DepListArgs),
}

#[derive(Args, Debug)]
pub struct DependencyArgs {
    #[command(subcommand)]
    pub command: DependencyCommand,
}

#[derive(Args, Debug)]
pub struct DepArgs {
    pub chart: Option<String>,
    #[arg(long = "verify", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub verify: bool,
    #[arg(long = "keyring", default_value = "")]
    pub keyring: String,
    #[arg(long = "skip-refresh", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub skip_refresh: bool,
    #[arg(long = "username", default_value = "")]
    pub username: String,
    #[arg(long = "password", default_value = "")]
    pub password: String,
    #[arg(long = "plain-http", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub plain_http: bool,
    #[arg(long = "debug", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub debug: bool,
    #[arg(long = "offline", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub offline: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
}

impl DepArgs {
    pub fn options(&self) -> DepOptions {
        DepOptions {
            skip_refresh: self.skip_refresh,
            offline: offline(self.offline),
            username: self.username.clone(),
            password: self.password.clone(),
            cert_file: self.tls.cert_file.clone(),
            key_file: self.tls.key_file.clone(),
            ca_file: self.tls.ca_file.clone(),
            insecure_skip_tls_verify: self.tls.insecure_skip_tls_verify,
            plain_http: self.plain_http,
            debug: self.debug,
            oci_lines_to_stderr: false,
        }
    }
}

#[derive(Args, Debug)]
pub struct DepListArgs {
    pub chart: Option<String>,
    #[arg(long = "max-col-width", default_value_t = 80)]
    pub max_col_width: usize,
    #[arg(long = "offline", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub offline: bool,
}

#[derive(Subcommand, Debug)]
pub enum BundleCommand {
    /// write one archive holding the charts (exact versions and digests) and an index
    Create(BundleCreateArgs),
    /// seed the content cache from a bundle (so --offline finds its charts)
    Import(BundleImportArgs),
}

#[derive(Args, Debug)]
pub struct BundleArgs {
    #[command(subcommand)]
    pub command: BundleCommand,
}

#[derive(Args, Debug)]
pub struct BundleCreateArgs {
    /// REF[@VERSION]: repo/chart, oci://host/path/chart[:tag|@sha256:…], or a chart URL
    #[arg(required_unless_present = "file")]
    pub refs: Vec<String>,
    /// A helmfile state: bundle every chart its (selected) releases need.
    #[arg(short = 'f', long = "file")]
    pub file: Option<String>,
    /// The helmfile environment (with -f).
    #[arg(short = 'e', long = "environment")]
    pub environment: Option<String>,
    /// helmfile release selectors (with -f; repeatable).
    #[arg(short = 'l', long = "selector")]
    pub selector: Vec<String>,
    #[arg(short = 'o', long = "output", required = true)]
    pub output: PathBuf,
    #[arg(long = "version", default_value = "")]
    pub version: String,
    #[arg(long = "devel", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub devel: bool,
    #[arg(long = "repo", default_value = "")]
    pub repo: String,
    #[arg(long = "username", default_value = "")]
    pub username: String,
    #[arg(long = "password", default_value = "")]
    pub password: String,
    #[arg(long = "plain-http", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub plain_http: bool,
    #[arg(long = "offline", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub offline: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
}

#[derive(Args, Debug)]
pub struct BundleImportArgs {
    pub file: PathBuf,
    /// Also extract the bundle as a chart repository (index.yaml + charts/) into this directory.
    #[arg(long = "repo-dir")]
    pub repo_dir: Option<PathBuf>,
    #[arg(long = "offline", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub offline: bool,
}

fn read_stdin_password() -> Result<String, String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).map_err(|e| e.to_string())?;
    let s = s.strip_suffix('\n').unwrap_or(&s);
    Ok(s.strip_suffix('\r').unwrap_or(s).to_string())
}

fn read_line(prompt: &str) -> Result<String, String> {
    print!("{prompt}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let mut s = String::new();
    std::io::stdin().read_line(&mut s).map_err(|e| e.to_string())?;
    Ok(s.trim_end_matches(['\n', '\r']).to_string())
}

fn e(err: rudder_repo::Error) -> Failure {
    (String::new(), err.0)
}

fn refuse_network(what: &str) -> Failure {
    (String::new(), format!("offline: {what} needs the network (unset --offline / RUDDER_OFFLINE)"))
}

const DEPRECATED_REPOS: &[(&str, &str)] = &[
    ("//kubernetes-charts.storage.googleapis.com", "https://charts.helm.sh/stable"),
    ("//kubernetes-charts-incubator.storage.googleapis.com", "https://charts.helm.sh/incubator"),
];

pub fn run_repo(a: &RepoArgs) -> Result<String, Failure> {
    let paths = HelmPaths::from_env();
    match &a.command {
        RepoCommand::Add(o) => {
            if offline(o.offline) {
                return Err(refuse_network("repo add"));
            }
            if !o.allow_deprecated_repos {
                for (old, new) in DEPRECATED_REPOS {
                    if o.url.contains(old) {
                        return Err((String::new(), format!("repo {:?} is no longer available; try {new:?} instead", o.url)));
                    }
                }
            }
            let mut printed = String::new();
            let mut password = o.password.clone();
            if !o.username.is_empty() && password.is_empty() {
                if o.password_stdin {
                    password = read_stdin_password().map_err(|x| (String::new(), x))?;
                } else {
                    password = read_line("Password: ").map_err(|x| (String::new(), x))?;
                    println!();
                }
            }
            let entry = Entry {
                name: o.name.clone(),
                url: o.url.clone(),
                username: o.username.clone(),
                password,
                cert_file: o.tls.cert_file.clone(),
                key_file: o.tls.key_file.clone(),
                ca_file: o.tls.ca_file.clone(),
                insecure_skip_tls_verify: o.tls.insecure_skip_tls_verify,
                pass_credentials_all: o.pass_credentials,
            };
            let line = rudder_repo::repo_add(&paths, entry, o.force_update).map_err(e)?;
            printed.push_str(&line);
            printed.push('\n');
            Ok(printed)
        }
        RepoCommand::Update(o) => {
            if offline(o.offline) {
                return Err(refuse_network("repo update"));
            }
            let names: Vec<&str> = o.names.iter().map(String::as_str).collect();
            let mut out = String::new();
            match rudder_repo::repo_update(&paths, &names, &mut out) {
                Ok(()) => Ok(out),
                Err(err) => Err((out, err.0)),
            }
        }
        RepoCommand::List(o) => {
            let f = rudder_repo::RepoFile::load(&paths.repository_config).unwrap_or_default();
            match o.output.as_str() {
                "json" => {
                    let items: Vec<serde_json::Value> =
                        f.repositories.iter().map(|r| serde_json::json!({"name": r.name, "url": r.url})).collect();
                    let v = rudder_engine::Value::from_json(&serde_json::Value::Array(items));
                    Ok(format!("{}\n", rudder_engine::json::to_json(&v).map_err(|x| (String::new(), x))?))
                }
                "yaml" => {
                    let items: Vec<serde_json::Value> =
                        f.repositories.iter().map(|r| serde_json::json!({"name": r.name, "url": r.url})).collect();
                    let v = rudder_engine::Value::from_json(&serde_json::Value::Array(items));
                    rudder_engine::yaml::to_yaml(&v).map_err(|x| (String::new(), x))
                }
                "table" => {
                    if f.repositories.is_empty() {
                        eprintln!("no repositories to show");
                        return Ok(String::new());
                    }
                    let mut rows = Vec::new();
                    if !o.no_headers {
                        rows.push(vec!["NAME".to_string(), "URL".to_string()]);
                    }
                    rows.extend(f.repositories.iter().map(|r| vec![r.name.clone(), r.url.clone()]));
                    Ok(format!("{}\n", rudder_repo::deps::table(&rows, 0)))
                }
                other => Err((String::new(), format!("invalid argument {other:?} for \"-o, --output\" flag: invalid format type"))),
            }
        }
        RepoCommand::Remove(o) => {
            let names: Vec<&str> = o.names.iter().map(String::as_str).collect();
            rudder_repo::repo_remove(&paths, &names).map_err(e)
        }
        RepoCommand::Index(o) => {
            let dir = std::path::absolute(&o.dir).unwrap_or_else(|_| PathBuf::from(&o.dir));
            rudder_repo::index::repo_index_merge(&dir, &o.url, &o.merge, o.json).map_err(e)?;
            Ok(String::new())
        }
    }
}

/// `helm pull`: one chart after another; the OCI lines (`Pulled:`, `Digest:`) as Helm prints.
pub fn run_pull(a: &PullArgs) -> Result<String, Failure> {
    let paths = HelmPaths::from_env();
    let mut opts = a.options();
    if opts.version.is_empty() && opts.devel {
        opts.version = ">0.0.0-0".into();
    }
    if a.verify {
        return Err((
            String::new(),
            "--verify is not supported by rudder: provenance verification needs OpenPGP; use --prov to fetch the .prov file and verify it with helm or gpg".into(),
        ));
    }
    let mut out = String::new();
    for c in &a.charts {
        let p = rudder_repo::pull(&paths, c, &opts).map_err(|err| (out.clone(), err.0))?;
        if c.starts_with("oci://") && !opts.offline {
            let r = rudder_repo::oci::Reference::parse(c).map_err(|err| (out.clone(), err.0))?;
            let reference = if r.digest.is_empty() || !opts.version.is_empty() || !r.tag.is_empty() {
                format!("{}/{}:{}", r.registry, r.repository, rudder_repo::oci::version_to_tag(&p.version))
            } else {
                format!("{}/{}@{}", r.registry, r.repository, r.digest)
            };
            out.push_str(&format!("Pulled: {reference}\nDigest: {}\n", p.manifest));
            if reference.contains('_') {
                out.push_str(&format!("{reference} contains an underscore.\n{}\n", UNDERSCORE));
            }
        } else if a.prov && !c.starts_with("oci://") && !opts.offline {
            let prov_url = format!("{}.prov", p.url);
            let g = rudder_repo::http::GetOptions {
                url: p.url.clone(),
                username: opts.username.clone(),
                password: opts.password.clone(),
                ca_file: opts.ca_file.clone(),
                cert_file: opts.cert_file.clone(),
                key_file: opts.key_file.clone(),
                insecure_skip_tls_verify: opts.insecure_skip_tls_verify,
                ..Default::default()
            };
            match rudder_repo::http::get(&prov_url, &g) {
                Ok(body) => {
                    let dest = PathBuf::from(format!("{}.prov", p.path.display()));
                    rudder_repo::atomic_write(&dest, &body, 0o644).map_err(|err| (out.clone(), err.0))?;
                }
                Err(err) => out.push_str(&format!("WARNING: Verification not found for {c}: {err}\n")),
            }
        }
    }
    Ok(out)
}

const UNDERSCORE: &str = "\nOCI artifact references (e.g. tags) do not support the plus sign (+). To support\nstoring semantic versions, Helm adopts the convention of changing plus (+) to\nan underscore (_) in chart version tags when pushing to a registry and back to\na plus (+) when pulling from a registry.";

pub fn run_push(a: &PushArgs) -> Result<String, Failure> {
    if offline(a.offline) {
        return Err(refuse_network("push"));
    }
    let paths = HelmPaths::from_env();
    let opts = PullOptions {
        username: a.username.clone(),
        password: a.password.clone(),
        ca_file: a.tls.ca_file.clone(),
        cert_file: a.tls.cert_file.clone(),
        key_file: a.tls.key_file.clone(),
        insecure_skip_tls_verify: a.tls.insecure_skip_tls_verify,
        plain_http: a.plain_http,
        ..PullOptions::default()
    };
    if !a.remote.starts_with("oci://") {
        return Err((String::new(), format!("scheme prefix missing from remote (e.g. \"{}://\")", "oci")));
    }
    let p = rudder_repo::oci::push(&paths, Path::new(&a.chart), &a.remote, &opts).map_err(e)?;
    let mut out = p.output;
    if out.contains("contains an underscore.") {
        out.push_str(UNDERSCORE);
        out.push('\n');
    }
    Ok(out)
}

pub fn run_registry(a: &RegistryArgs) -> Result<String, Failure> {
    let paths = HelmPaths::from_env();
    match &a.command {
        RegistryCommand::Login(o) => {
            if offline(o.offline) {
                return Err(refuse_network("registry login"));
            }
            let mut username = o.username.clone();
            let mut password = o.password.clone();
            if o.password_stdin {
                password = read_stdin_password().map_err(|x| (String::new(), x))?;
            } else if password.is_empty() {
                if username.is_empty() {
                    username = read_line("Username: ").map_err(|x| (String::new(), x))?.trim().to_string();
                }
                let what = if username.is_empty() { "Token: " } else { "Password: " };
                password = read_line(what).map_err(|x| (String::new(), x))?;
                println!();
                if password.is_empty() {
                    let req = if username.is_empty() { "token required" } else { "password required" };
                    return Err((String::new(), req.into()));
                }
            } else {
                eprintln!("level=WARN msg=\"using --password via the CLI is insecure. Use --password-stdin\"");
            }
            let opts = PullOptions {
                ca_file: o.ca_file.clone(),
                cert_file: o.cert_file.clone(),
                key_file: o.key_file.clone(),
                insecure_skip_tls_verify: o.insecure,
                plain_http: o.plain_http,
                ..PullOptions::default()
            };
            let line = rudder_repo::oci::registry_login(&paths, &o.host, &username, &password, &opts).map_err(e)?;
            Ok(format!("{line}\n"))
        }
        RegistryCommand::Logout(o) => {
            let line = rudder_repo::oci::registry_logout(&paths, &o.host).map_err(e)?;
            Ok(format!("{line}\n"))
        }
    }
}

pub fn run_dependency(a: &DependencyArgs) -> Result<String, Failure> {
    let paths = HelmPaths::from_env();
    let chart_of = |c: &Option<String>| PathBuf::from(rudder_repo::paths::go_clean(c.as_deref().unwrap_or(".")));
    match &a.command {
        DependencyCommand::Update(o) => {
            let mut out = String::new();
            match rudder_repo::deps::update(&paths, &chart_of(&o.chart), &o.options(), &mut out) {
                Ok(()) => Ok(out),
                Err(err) => Err((out, err.0)),
            }
        }
        DependencyCommand::Build(o) => {
            let mut out = String::new();
            match rudder_repo::deps::build(&paths, &chart_of(&o.chart), &o.options(), &mut out) {
                Ok(()) => Ok(out),
                Err(err) => Err((out, err.0)),
            }
        }
        DependencyCommand::List(o) => rudder_repo::deps::list(&chart_of(&o.chart), o.max_col_width).map_err(e),
    }
}

pub fn run_bundle(a: &BundleArgs) -> Result<String, Failure> {
    let paths = HelmPaths::from_env();
    match &a.command {
        BundleCommand::Create(o) => {
            let opts = PullOptions {
                version: o.version.clone(),
                devel: o.devel,
                repo_url: o.repo.clone(),
                username: o.username.clone(),
                password: o.password.clone(),
                ca_file: o.tls.ca_file.clone(),
                cert_file: o.tls.cert_file.clone(),
                key_file: o.tls.key_file.clone(),
                insecure_skip_tls_verify: o.tls.insecure_skip_tls_verify,
                plain_http: o.plain_http,
                offline: offline(o.offline),
                ..PullOptions::default()
            };
            match &o.file {
                None => rudder_repo::bundle::create(&paths, &o.refs, &opts, &o.output).map_err(e),
                Some(file) => bundle_helmfile(&paths, file, o, &opts),
            }
        }
        BundleCommand::Import(o) => {
            let mut out = rudder_repo::bundle::import(&paths, &o.file).map_err(e)?;
            if let Some(d) = &o.repo_dir {
                rudder_repo::bundle::extract_repo(&o.file, d).map_err(|x| (out.clone(), x.0))?;
                out.push_str(&format!("Extracted a chart repository into {}\n", d.display()));
            }
            Ok(out)
        }
    }
}

/// `bundle create -f helmfile.yaml`: the charts the state's selected releases need (see
/// `rudder_helmfile::bundle`), plus any REFs given beside it.
fn bundle_helmfile(paths: &HelmPaths, file: &str, o: &BundleCreateArgs, opts: &PullOptions) -> Result<String, Failure> {
    let load = rudder_helmfile::LoadOptions {
        environment: o.environment.clone(),
        selectors: o.selector.clone(),
        ..Default::default()
    };
    let cwd = std::env::current_dir().map_err(|x| (String::new(), x.to_string()))?;
    let plan = rudder_helmfile::bundle::plan(Some(file), &cwd, &load, opts.plain_http, opts.offline)
        .map_err(|x| (String::new(), x))?;
    let mut items: Vec<(String, PullOptions)> = plan
        .sources
        .iter()
        .map(|s| {
            let mut so = s.options.clone();
            so.plain_http = so.plain_http || opts.plain_http;
            (s.reference.clone(), so)
        })
        .collect();
    for r in &o.refs {
        let (reference, v) = rudder_repo::bundle::split_ref(r);
        let mut ro = opts.clone();
        if !v.is_empty() {
            ro.version = v;
        }
        items.push((reference, ro));
    }
    if items.is_empty() {
        return Err((plan.log, format!("{file}: no release needs a chart from a repository")));
    }
    let lines = rudder_repo::bundle::create_items(paths, &items, &o.output).map_err(|x| (plan.log.clone(), x.0))?;
    Ok(format!("{}{lines}", plan.log))
}

/// For `template`/`install`: a chart reference that is not a local path (`repo/chart`,
/// `oci://…`, a URL, or a name with `--repo`) fetched into the content cache (offline: found
/// there); returns the cached archive.
pub fn locate_remote_chart(reference: &str, opts: &PullOptions) -> Result<PathBuf, String> {
    let paths = HelmPaths::from_env();
    let mut o = opts.clone();
    o.offline = offline(o.offline);
    let p = rudder_repo::download_to_cache(&paths, reference, &o).map_err(|e| e.0)?;
    // Helm's registry client under `template` reports the pull on stderr.
    if reference.starts_with("oci://") && !o.offline {
        if let Ok(r) = rudder_repo::oci::Reference::parse(reference) {
            eprintln!("Pulled: {}/{}:{}\nDigest: {}", r.registry, r.repository, rudder_repo::oci::version_to_tag(&p.version), p.manifest);
        }
    }
    Ok(p.path)
}

/// Cobra's words for a missing positional argument of the commands above (`"helm pull" requires
/// at least 1 argument` and the usage line); `None` for other commands and errors.
pub fn arg_error(e: &clap::Error, args: &[String], program: &str) -> Option<String> {
    if e.kind() != clap::error::ErrorKind::MissingRequiredArgument {
        return None;
    }
    let words: Vec<&str> = args.iter().skip(1).filter(|a| !a.starts_with('-')).map(String::as_str).collect();
    let (path, n, exact, usage) = match (words.first().copied()?, words.get(1).copied()) {
        ("pull" | "fetch", _) => ("pull", 1, false, "pull [chart URL | repo/chartname] [...]"),
        ("push", _) => ("push", 2, false, "push [chart] [remote]"),
        ("repo", Some("add")) => ("repo add", 2, true, "repo add [NAME] [URL]"),
        ("repo", Some("remove" | "rm")) => ("repo remove", 1, false, "repo remove [REPO1 [REPO2 ...]]"),
        ("repo", Some("index")) => ("repo index", 1, true, "repo index [DIR]"),
        ("registry", Some("login")) => ("registry login", 1, false, "registry login [host]"),
        ("registry", Some("logout")) => ("registry logout", 1, false, "registry logout [host]"),
        ("bundle", Some("create")) => ("bundle create", 1, false, "bundle create (REF... | -f helmfile.yaml [-e ENV] [-l SELECTOR]) -o FILE"),
        ("bundle", Some("import")) => ("bundle import", 1, true, "bundle import FILE"),
        _ => return None,
    };
    let plural = if n == 1 { "argument" } else { "arguments" };
    let at_least = if exact { "" } else { "at least " };
    Some(format!("\"{program} {path}\" requires {at_least}{n} {plural}\n\nUsage:  {program} {usage} [flags]"))
}
