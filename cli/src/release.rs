//! `install`, `upgrade`, `rollback`, `uninstall` (Helm v4.3.1 pkg/cmd/{install,upgrade,
//! rollback,uninstall,status}.go): Helm's flags, its output block and messages, on top of
//! `rudder_release::action`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{ArgAction, Args};
use rudder_chart::render::template::check_if_installable;
use rudder_release::action::{self, Config, DryRun, WaitSettings};
use rudder_release::kube::{Kube, KubeOptions};
use rudder_state::driver::DriverKind;
use rudder_state::release::Release;

use crate::flags::{ChartPathArgs, ValuesArgs};

/// Flags every cluster command takes (Helm's global flags).
#[derive(Args, Debug, Default, Clone)]
pub struct GlobalArgs {
    /// Rudder only: a pending revision nobody works on any more (its client was killed) is
    /// marked failed and the operation continues from the last deployed revision
    /// (docs/stale-operations.md).
    #[arg(long = "recover", global = true)]
    pub recover: bool,
    #[arg(short = 'n', long = "namespace", global = true)]
    pub namespace: Option<String>,
    #[arg(long = "kube-context", global = true)]
    pub kube_context: Option<String>,
    #[arg(long = "kubeconfig", global = true)]
    pub kubeconfig: Option<String>,
    #[arg(long = "kube-apiserver", global = true)]
    pub kube_apiserver: Option<String>,
    #[arg(long = "kube-token", global = true)]
    pub kube_token: Option<String>,
    #[arg(long = "kube-as-user", global = true)]
    pub kube_as_user: Option<String>,
    #[arg(long = "kube-as-group", global = true, action = ArgAction::Append)]
    pub kube_as_group: Vec<String>,
    #[arg(long = "kube-ca-file", global = true)]
    pub kube_ca_file: Option<String>,
    #[arg(long = "kube-insecure-skip-tls-verify", global = true, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub kube_insecure_skip_tls_verify: bool,
    #[arg(long = "kube-tls-server-name", global = true)]
    pub kube_tls_server_name: Option<String>,
    #[arg(long = "debug", global = true, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub debug: bool,
    #[arg(
        long = "color",
        alias = "colour",
        global = true,
        default_value = "auto"
    )]
    pub color: String,
    // Accepted for compatibility; the kubeconfig carries these.
    #[arg(long = "burst-limit", global = true)]
    pub burst_limit: Option<String>,
    #[arg(long = "qps", global = true)]
    pub qps: Option<String>,
    #[arg(long = "registry-config", global = true)]
    pub registry_config: Option<String>,
    #[arg(long = "repository-config", global = true)]
    pub repository_config: Option<String>,
    #[arg(long = "repository-cache", global = true)]
    pub repository_cache: Option<String>,
    #[arg(long = "content-cache", global = true)]
    pub content_cache: Option<String>,
}

/// Flags `install` and `upgrade` share (Helm's `addInstallFlags` / upgrade's).
#[derive(Args, Debug, Default, Clone)]
pub struct DeployArgs {
    #[command(flatten)]
    pub vals: ValuesArgs,
    #[arg(long = "create-namespace", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub create_namespace: bool,
    #[arg(long = "dry-run", num_args = 0..=1, require_equals = true, default_missing_value = "unset")]
    pub dry_run: Option<String>,
    #[arg(long = "no-hooks", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub no_hooks: bool,
    #[arg(long = "timeout", default_value = "5m0s")]
    pub timeout: String,
    #[arg(long = "wait", num_args = 0..=1, require_equals = true, default_missing_value = "watcher")]
    pub wait: Option<String>,
    #[arg(long = "wait-for-jobs", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub wait_for_jobs: bool,
    #[arg(long = "description")]
    pub description: Option<String>,
    #[arg(long = "atomic", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub atomic: bool,
    #[arg(long = "rollback-on-failure", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub rollback_on_failure: bool,
    #[arg(long = "skip-crds", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub skip_crds: bool,
    #[arg(long = "render-subchart-notes", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub render_subchart_notes: bool,
    #[arg(long = "skip-schema-validation", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub skip_schema_validation: bool,
    #[arg(short = 'l', long = "labels", action = ArgAction::Append, value_delimiter = ',')]
    pub labels: Vec<String>,
    #[arg(long = "take-ownership", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub take_ownership: bool,
    #[arg(long = "force-conflicts", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub force_conflicts: bool,
    #[arg(long = "hide-notes", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub hide_notes: bool,
    #[arg(short = 'o', long = "output", default_value = "table")]
    pub output: String,
    #[arg(long = "server-side", default_value = "true")]
    pub server_side: String,
    #[arg(long = "disable-openapi-validation", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub disable_openapi_validation: bool,
    #[arg(long = "enable-dns", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub enable_dns: bool,
    #[arg(long = "hide-secret", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub hide_secret: bool,
    #[arg(long = "dependency-update", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub dependency_update: bool,
    #[arg(long = "force-replace", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub force_replace: bool,
    #[arg(long = "force", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub force: bool,
    #[command(flatten)]
    pub chart: ChartPathArgs,
}

#[derive(Args, Debug, Default, Clone)]
pub struct InstallArgs {
    /// [NAME] [CHART]
    #[arg(num_args = 1.., required = true)]
    pub args: Vec<String>,
    #[command(flatten)]
    pub deploy: DeployArgs,
    #[arg(short = 'g', long = "generate-name", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub generate_name: bool,
    #[arg(long = "name-template")]
    pub name_template: Option<String>,
    #[arg(long = "replace", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub replace: bool,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Args, Debug, Default, Clone)]
pub struct UpgradeArgs {
    /// [RELEASE] [CHART]
    #[arg(num_args = 2, required = true)]
    pub args: Vec<String>,
    #[command(flatten)]
    pub deploy: DeployArgs,
    #[arg(short = 'i', long = "install", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub install: bool,
    #[arg(long = "reuse-values", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub reuse_values: bool,
    #[arg(long = "reset-values", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub reset_values: bool,
    #[arg(long = "reset-then-reuse-values", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub reset_then_reuse_values: bool,
    #[arg(long = "history-max")]
    pub history_max: Option<usize>,
    #[arg(long = "cleanup-on-fail", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub cleanup_on_fail: bool,
    /// Rudder only: also create and update the chart's CRDs (HIP-0011).
    #[arg(long = "update-crds", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub update_crds: bool,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Args, Debug, Default, Clone)]
pub struct RollbackArgs {
    /// <RELEASE> [REVISION]
    #[arg(num_args = 1..=2, required = true)]
    pub args: Vec<String>,
    #[arg(long = "description")]
    pub description: Option<String>,
    #[arg(long = "no-hooks", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub no_hooks: bool,
    #[arg(long = "timeout", default_value = "5m0s")]
    pub timeout: String,
    #[arg(long = "wait", num_args = 0..=1, require_equals = true, default_missing_value = "watcher")]
    pub wait: Option<String>,
    #[arg(long = "wait-for-jobs", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub wait_for_jobs: bool,
    #[arg(long = "cleanup-on-fail", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub cleanup_on_fail: bool,
    #[arg(long = "history-max")]
    pub history_max: Option<usize>,
    #[arg(long = "dry-run", num_args = 0..=1, require_equals = true, default_missing_value = "unset")]
    pub dry_run: Option<String>,
    #[arg(long = "force-conflicts", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub force_conflicts: bool,
    #[arg(long = "force-replace", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub force_replace: bool,
    #[arg(long = "force", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub force: bool,
    #[arg(long = "server-side", default_value = "auto")]
    pub server_side: String,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Args, Debug, Default, Clone)]
pub struct UninstallArgs {
    /// RELEASE_NAME [...]
    #[arg(num_args = 1.., required = true)]
    pub args: Vec<String>,
    #[arg(long = "dry-run", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub dry_run: bool,
    #[arg(long = "no-hooks", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub no_hooks: bool,
    #[arg(long = "ignore-not-found", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub ignore_not_found: bool,
    #[arg(long = "keep-history", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub keep_history: bool,
    #[arg(long = "cascade", default_value = "background")]
    pub cascade: String,
    #[arg(long = "timeout", default_value = "5m0s")]
    pub timeout: String,
    #[arg(long = "description")]
    pub description: Option<String>,
    #[arg(long = "wait", num_args = 0..=1, require_equals = true, default_missing_value = "watcher")]
    pub wait: Option<String>,
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// A command's stdout and its error (the text after `Error: `).
pub type Outcome = Result<String, (String, String)>;

/// Go's `time.ParseDuration` for the forms Helm users write (`300s`, `5m0s`, `1h30m`, `1.5m`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("time: invalid duration {}", rudder_engine::print::quote(s));
    let t = s.strip_prefix('+').unwrap_or(s);
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    if t.is_empty() || t.starts_with('-') {
        return Err(bad());
    }
    let mut rest = t;
    let mut total = 0f64;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if n == 0 {
            return Err(bad());
        }
        let num: f64 = rest[..n].parse().map_err(|_| bad())?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => {
                return Err(format!(
                    "time: missing unit in duration {}",
                    rudder_engine::print::quote(s)
                ))
            }
            other => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    rudder_engine::print::quote(other),
                    rudder_engine::print::quote(s)
                ))
            }
        };
        total += num * unit;
        rest = &rest[u..];
    }
    Ok(Duration::from_secs_f64(total))
}

fn timeout_flag(s: &str) -> Result<Duration, (String, String)> {
    parse_duration(s).map_err(|e| {
        (
            String::new(),
            format!(
                "invalid argument {} for \"--timeout\" flag: {e}",
                rudder_engine::print::quote(s)
            ),
        )
    })
}

/// Helm's `cmdGetDryRunFlagStrategy`.
fn dry_run_strategy(v: &Option<String>) -> Result<DryRun, String> {
    let Some(v) = v else { return Ok(DryRun::None) };
    match v.as_str() {
        "unset" => {
            eprintln!("level=WARN msg=\"--dry-run is deprecated and should be replaced with '--dry-run=client'\"");
            Ok(DryRun::Client)
        }
        "client" => Ok(DryRun::Client),
        "server" => Ok(DryRun::Server),
        "none" => Ok(DryRun::None),
        other => {
            let b = match other {
                "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
                "0" | "f" | "F" | "false" | "FALSE" | "False" => false,
                _ => {
                    return Err(format!(
                        "invalid dry-run value ({}). Must be \"none\", \"server\", or \"client\"",
                        rudder_engine::print::quote(other)
                    ))
                }
            };
            let r = if b { "client" } else { "none" };
            eprintln!("level=WARN msg=\"boolean '--dry-run={other}' flag is deprecated and must be replaced with '--dry-run={r}'\"");
            Ok(if b { DryRun::Client } else { DryRun::None })
        }
    }
}

/// `--wait`: `watcher` / `legacy` wait for resources, `hookOnly` (the default) only for hooks.
fn wait_strategy(v: &Option<String>) -> Result<bool, String> {
    match v.as_deref() {
        None | Some("hookOnly") => Ok(false),
        Some("watcher") | Some("legacy") => Ok(true),
        Some("true") => {
            eprintln!("level=WARN msg=\"--wait=true is deprecated (boolean value) and can be replaced with --wait=watcher\"");
            Ok(true)
        }
        Some("false") => {
            eprintln!("level=WARN msg=\"--wait=false is deprecated (boolean value) and can be replaced with --wait=hookOnly\"");
            Ok(false)
        }
        Some(other) => Err(format!(
            "invalid argument {q} for \"--wait\" flag: invalid wait input {q}. Valid inputs are watcher, hookOnly, and legacy",
            q = rudder_engine::print::quote(other)
        )),
    }
}

/// `--labels k=v,k2=v2` (pflag's StringToString).
fn parse_labels(items: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for it in items {
        let Some((k, v)) = it.split_once('=') else {
            return Err(format!(
                "invalid argument {} for \"-l, --labels\" flag: {it} must be formatted as key=value",
                rudder_engine::print::quote(it)
            ));
        };
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

fn deprecations(d: &DeployArgs) {
    if d.atomic {
        eprintln!("Flag --atomic has been deprecated, use --rollback-on-failure instead");
    }
    if d.force {
        eprintln!("Flag --force has been deprecated, use --force-replace instead");
    }
}

/// Helm's `LocateChart`: a local directory or archive, else a chart fetched from a repository
/// (`repo/chart`, `--repo URL`, an `http(s)://` archive URL or `oci://`) into a scratch directory.
pub(crate) async fn load_chart(
    chart_ref: &str,
    d: &DeployArgs,
) -> Result<rudder_chart::model::Chart, String> {
    let name = chart_ref.trim();
    let p = Path::new(name);
    let path = if p.exists() {
        std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
    } else if d.chart.repo.is_none() && (p.is_absolute() || name.starts_with('.')) {
        return Err(format!(
            "path {} not found",
            rudder_engine::print::quote(name)
        ));
    } else {
        fetch_chart(name, d).await?
    };
    let chart = rudder_chart::load(&path).map_err(|e| e.to_string())?;
    check_if_installable(&chart)?;
    if !chart.metadata.dependencies.is_empty() {
        rudder_chart::check_dependencies(&chart).map_err(|e| {
            format!("an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: {e}")
        })?;
    }
    Ok(chart)
}

/// Pulls a remote chart archive with the repo crate (blocking I/O, so off the async threads).
async fn fetch_chart(reference: &str, d: &DeployArgs) -> Result<PathBuf, String> {
    let dest = std::env::temp_dir().join(format!(
        "rudder-chart-{}-{}",
        std::process::id(),
        reference.len()
    ));
    std::fs::create_dir_all(&dest).map_err(|e| e.to_string())?;
    let opts = rudder_repo::ops::PullOptions {
        destination: dest.clone(),
        untar: false,
        untar_dir: PathBuf::new(),
        offline: rudder_repo::cache::offline_from_env(),
        ..d.chart.pull_options()
    };
    let reference = reference.to_string();
    let pulled = tokio::task::spawn_blocking(move || {
        let paths = rudder_repo::HelmPaths::from_env();
        if reference.starts_with("oci://") {
            rudder_repo::oci::pull(&paths, &reference, &opts)
        } else {
            rudder_repo::ops::pull(&paths, &reference, &opts)
        }
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    Ok(pulled.path)
}

pub(crate) async fn connect(g: &GlobalArgs) -> Result<Config, String> {
    let mut opts = KubeOptions::resolve(
        g.kubeconfig.clone(),
        g.kube_context.clone(),
        g.namespace.clone(),
    );
    let flag = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    opts.api_server = flag(&g.kube_apiserver).or(opts.api_server);
    opts.token = flag(&g.kube_token).or(opts.token);
    opts.as_user = flag(&g.kube_as_user).or(opts.as_user);
    if !g.kube_as_group.is_empty() {
        opts.as_groups = g.kube_as_group.clone();
    }
    opts.ca_file = flag(&g.kube_ca_file).map(PathBuf::from).or(opts.ca_file);
    opts.insecure_skip_tls_verify |= g.kube_insecure_skip_tls_verify;
    opts.tls_server_name = flag(&g.kube_tls_server_name).or(opts.tls_server_name);
    let kube = Kube::connect(&opts).await.map_err(|e| e.0)?;
    let kind = DriverKind::from_env().map_err(|e| e.to_string())?;
    Ok(Config::new(kube, kind))
}

fn driver_kind() -> Result<DriverKind, (String, String)> {
    DriverKind::from_env().map_err(|e| (String::new(), e.to_string()))
}

fn history_max(flag: Option<usize>) -> usize {
    flag.or_else(|| {
        std::env::var("HELM_MAX_HISTORY")
            .ok()
            .and_then(|v| v.parse().ok())
    })
    .unwrap_or(10)
}

pub(crate) fn no_color(g: &GlobalArgs) -> bool {
    match g.color.as_str() {
        "never" => true,
        "always" => false,
        _ => std::env::var_os("NO_COLOR").is_some() || !std::io::stdout().is_terminal(),
    }
}

/// Go's `time.ANSIC` (`Mon Jan _2 15:04:05 2006`) of an RFC 3339 timestamp, in its own offset.
pub fn ansic(ts: &str) -> String {
    let parse = || -> Option<String> {
        let (date, time) = ts.split_once('T')?;
        let mut d = date.split('-');
        let (y, m, day): (i64, i64, i64) = (
            d.next()?.parse().ok()?,
            d.next()?.parse().ok()?,
            d.next()?.parse().ok()?,
        );
        let hms = time.get(0..8)?;
        // Days since 1970-01-01 → weekday (1970-01-01 was a Thursday).
        let (yy, mm) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
        let era = yy.div_euclid(400);
        let yoe = yy - era * 400;
        let doy = (153 * mm + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
        let mon = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ][(m - 1) as usize];
        Some(format!("{wd} {mon} {day:>2} {hms} {y}"))
    };
    parse().unwrap_or_else(|| ts.to_string())
}

fn colored(s: &str, code: &str, no_color: bool) -> String {
    if no_color {
        s.to_string()
    } else {
        format!("\x1b[{code}m{s}\x1b[0m")
    }
}

/// Helm's `statusPrinter.WriteTable` (showMetadata false).
pub fn status_table(rel: &Release, debug: bool, hide_notes: bool, no_color: bool) -> String {
    let mut out = String::new();
    let info = rel.info.clone().unwrap_or_default();
    out.push_str(&format!("NAME: {}\n", rel.name));
    if let Some(ld) = &info.last_deployed {
        out.push_str(&format!("LAST DEPLOYED: {}\n", ansic(ld)));
    }
    out.push_str(&format!(
        "NAMESPACE: {}\n",
        colored(&rel.namespace, "36", no_color)
    ));
    let st = rel.status();
    let st_s = match st.as_str() {
        "deployed" => colored(st.as_str(), "32", no_color),
        "failed" | "unknown" => colored(st.as_str(), "31", no_color),
        "pending-install" | "pending-upgrade" | "pending-rollback" | "uninstalling" => {
            colored(st.as_str(), "33", no_color)
        }
        s => s.to_string(),
    };
    out.push_str(&format!("STATUS: {st_s}\n"));
    out.push_str(&format!("REVISION: {}\n", rel.version));
    out.push_str(&format!("DESCRIPTION: {}\n", info.description));
    let tests: Vec<_> = rel
        .hooks
        .iter()
        .filter(|h| h.events.iter().any(|e| e == "test"))
        .collect();
    if tests.is_empty() {
        out.push_str("TEST SUITE: None\n");
    } else {
        for h in tests {
            let Some(started) = &h.last_run.started_at else {
                continue;
            };
            out.push_str(&format!(
                "TEST SUITE:     {}\nLast Started:   {}\nLast Completed: {}\nPhase:          {}\n",
                h.name,
                ansic(started),
                h.last_run
                    .completed_at
                    .as_deref()
                    .map(ansic)
                    .unwrap_or_else(|| "Mon Jan  1 00:00:00 0001".into()),
                h.last_run.phase
            ));
        }
    }
    if info.description.eq_ignore_ascii_case("Dry run complete") || debug {
        out.push_str("HOOKS:\n");
        for h in &rel.hooks {
            out.push_str(&format!("---\n# Source: {}\n{}\n", h.path, h.manifest));
        }
        out.push_str(&format!("MANIFEST:\n{}\n", rel.manifest));
    }
    if !hide_notes && !info.notes.is_empty() {
        out.push_str(&format!("NOTES:\n{}\n", info.notes.trim()));
    }
    out
}

/// `-o json|yaml|table` of a release.
fn write_release(
    rel: &Release,
    output: &str,
    g: &GlobalArgs,
    hide_notes: bool,
    prefix: &str,
) -> Result<String, String> {
    match output {
        "table" => Ok(format!(
            "{prefix}{}",
            status_table(rel, g.debug, hide_notes, no_color(g))
        )),
        "json" => {
            let b = rudder_state::codec::to_json(rel).map_err(|e| e.to_string())?;
            Ok(format!("{}\n", String::from_utf8_lossy(&b)))
        }
        "yaml" => {
            let b = rudder_state::codec::to_json(rel).map_err(|e| e.to_string())?;
            let v = rudder_engine::json::from_json(&String::from_utf8_lossy(&b))?;
            rudder_engine::yaml::to_yaml(&v)
        }
        other => Err(format!(
            "invalid format type {}",
            rudder_engine::print::quote(other)
        )),
    }
}

fn check_output(o: &str) -> Result<(), (String, String)> {
    match o {
        "table" | "json" | "yaml" => Ok(()),
        other => Err((
            String::new(),
            format!(
                "invalid argument {} for \"-o, --output\" flag: invalid format type",
                rudder_engine::print::quote(other)
            ),
        )),
    }
}

/// Helm's `NameAndChart`.
fn name_and_chart(a: &InstallArgs) -> Result<(String, String), String> {
    let args = &a.args;
    if args.len() > 2 {
        return Err(format!(
            "expected at most two arguments, unexpected arguments: {}",
            args[2..].join(", ")
        ));
    }
    if args.len() == 2 {
        if a.generate_name {
            return Err("cannot set --generate-name and also specify a name".into());
        }
        if a.name_template.as_deref().is_some_and(|t| !t.is_empty()) {
            return Err("cannot set --name-template and also specify a name".into());
        }
        return Ok((args[0].clone(), args[1].clone()));
    }
    if let Some(t) = a.name_template.as_deref().filter(|t| !t.is_empty()) {
        let mut set = rudder_engine::TemplateSet::new(rudder_engine::funcs::sprig());
        set.parse("name-template", t).map_err(|e| e.message)?;
        let n = set
            .execute("name-template", &rudder_engine::Value::Nil)
            .map_err(|e| e.message)?;
        return Ok((n, args[0].clone()));
    }
    if !a.generate_name {
        return Err("must either provide a name or specify --generate-name".into());
    }
    let base = Path::new(&args[0])
        .file_name()
        .map(|b| b.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = if base.is_empty() || base == "." {
        "chart".to_string()
    } else {
        base
    };
    let base = base.split('.').next().unwrap_or("chart").to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Ok((format!("{base}-{now}"), args[0].clone()))
}

fn install_options(
    d: &DeployArgs,
    name: &str,
    replace: bool,
) -> Result<action::InstallOptions, (String, String)> {
    let e = |m: String| (String::new(), m);
    Ok(action::InstallOptions {
        release_name: name.to_string(),
        create_namespace: d.create_namespace,
        description: d.description.clone(),
        labels: parse_labels(&d.labels).map_err(e)?,
        wait: WaitSettings {
            wait: wait_strategy(&d.wait).map_err(e)?,
            wait_for_jobs: d.wait_for_jobs,
            timeout: timeout_flag(&d.timeout)?,
        },
        rollback_on_failure: d.atomic || d.rollback_on_failure,
        dry_run: dry_run_strategy(&d.dry_run).map_err(e)?,
        skip_crds: d.skip_crds,
        disable_hooks: d.no_hooks,
        take_ownership: d.take_ownership,
        force_conflicts: d.force_conflicts,
        skip_schema_validation: d.skip_schema_validation,
        sub_notes: d.render_subchart_notes,
        hide_secret: d.hide_secret,
        enable_dns: d.enable_dns,
        replace,
        client_caps: None,
    })
}

async fn run_install(
    cfg: &Config,
    d: &DeployArgs,
    opts: &action::InstallOptions,
    chart_ref: &str,
) -> Result<Release, String> {
    let vals = d.vals.options().merge_values().map_err(|e| e.to_string())?;
    let chart = load_chart(chart_ref, d).await?;
    action::install(cfg, chart, vals, opts)
        .await
        .map_err(|e| e.message)
}

/// Cobra's `MarkFlagsMutuallyExclusive("force-replace", "force-conflicts")` (and `force`).
fn exclusive(
    force_replace: bool,
    force: bool,
    force_conflicts: bool,
) -> Result<(), (String, String)> {
    if force_conflicts && force_replace {
        return Err((String::new(), "if any flags in the group [force-replace force-conflicts] are set none of the others can be; [force-conflicts force-replace] were all set".into()));
    }
    if force_conflicts && force {
        return Err((String::new(), "if any flags in the group [force force-conflicts] are set none of the others can be; [force force-conflicts] were all set".into()));
    }
    Ok(())
}

pub async fn install(a: &InstallArgs) -> Outcome {
    deprecations(&a.deploy);
    check_output(&a.deploy.output)?;
    exclusive(
        a.deploy.force_replace,
        a.deploy.force,
        a.deploy.force_conflicts,
    )?;
    let mut opts = install_options(&a.deploy, "", a.replace)?;
    let (name, chart_ref) =
        name_and_chart(a).map_err(|e| (String::new(), format!("INSTALLATION FAILED: {e}")))?;
    opts.release_name = name;
    let cfg = connect(&a.global).await.map_err(|e| {
        // Helm loads the kubeconfig lazily, at its reachability check.
        let msg = format!("cluster reachability check failed: {e}");
        eprintln!(
            "level=ERROR msg={}",
            rudder_chart::manifest::sorter::slog_value(&msg)
        );
        (String::new(), format!("INSTALLATION FAILED: {msg}"))
    })?;
    if opts.dry_run.interacts() {
        // Discovery overlaps the lease and the release lookups.
        cfg.kube.mapper.prefetch();
    }
    let guard = install_lease(&cfg, &opts, a.global.recover)
        .await
        .map_err(|e| (String::new(), format!("INSTALLATION FAILED: {e}")))?;
    let res = run_install(&cfg, &a.deploy, &opts, &chart_ref).await;
    action::lease::end(guard).await;
    let rel = res.map_err(|e| (String::new(), format!("INSTALLATION FAILED: {e}")))?;
    write_release(&rel, &a.deploy.output, &a.global, a.deploy.hide_notes, "")
        .map_err(|e| (String::new(), e))
}

/// The release lease around an install (not for dry runs, nor for a name the install will
/// refuse anyway: Helm's own message comes first then). An unreachable cluster reads as
/// install's reachability check.
async fn install_lease(
    cfg: &Config,
    opts: &action::InstallOptions,
    recover: bool,
) -> Result<Option<rudder_state::lease::LeaseGuard>, String> {
    if opts.dry_run.is_dry_run()
        || rudder_chart::render::template::validate_release_name(&opts.release_name).is_err()
    {
        return Ok(None);
    }
    action::lease::begin(
        cfg,
        driver_kind().map_err(|e| e.1)?,
        &opts.release_name,
        "install",
        recover,
    )
    .await
    .map_err(|err| {
        if err.message.starts_with("kubernetes cluster unreachable") {
            let msg = format!("cluster reachability check failed: {}", err.message);
            eprintln!(
                "level=ERROR msg={}",
                rudder_chart::manifest::sorter::slog_value(&msg)
            );
            msg
        } else {
            err.message
        }
    })
}

pub async fn upgrade(a: &UpgradeArgs) -> Outcome {
    let d = &a.deploy;
    deprecations(d);
    check_output(&d.output)?;
    exclusive(d.force_replace, d.force, d.force_conflicts)?;
    let (name, chart_ref) = (a.args[0].clone(), a.args[1].clone());
    install_options(d, &name, false)?;
    let mut cfg = connect(&a.global)
        .await
        .map_err(|e| (String::new(), format!("UPGRADE FAILED: {e}")))?;
    if dry_run_strategy(&d.dry_run).is_ok_and(|s| s.interacts()) {
        // Discovery overlaps the lease and the release lookups.
        cfg.kube.mapper.prefetch();
    }
    let mut prefix = String::new();
    if a.install {
        let missing = action::upgrade::needs_install(&cfg, &name)
            .await
            .map_err(|e| (String::new(), e.message))?;
        if missing {
            let uninstalled = cfg
                .storage
                .history(&name)
                .await
                .map(|h| !h.is_empty())
                .unwrap_or(false);
            if d.output == "table" {
                prefix = format!(
                    "Release {} does not exist. Installing it now.\n",
                    rudder_engine::print::quote(&name)
                );
            }
            let opts = install_options(d, &name, uninstalled)?;
            let guard = install_lease(&cfg, &opts, a.global.recover)
                .await
                .map_err(|e| (prefix.clone(), e))?;
            let res = run_install(&cfg, d, &opts, &chart_ref).await;
            action::lease::end(guard).await;
            let rel = res.map_err(|e| (prefix.clone(), e))?;
            return write_release(&rel, &d.output, &a.global, d.hide_notes, &prefix)
                .map_err(|e| (String::new(), e));
        }
    }
    let e = |m: String| (String::new(), m);
    let opts = action::UpgradeOptions {
        description: d.description.clone(),
        labels: parse_labels(&d.labels).map_err(e)?,
        wait: WaitSettings {
            wait: wait_strategy(&d.wait).map_err(e)?,
            wait_for_jobs: d.wait_for_jobs,
            timeout: timeout_flag(&d.timeout)?,
        },
        rollback_on_failure: d.atomic || d.rollback_on_failure,
        cleanup_on_fail: a.cleanup_on_fail,
        dry_run: dry_run_strategy(&d.dry_run).map_err(e)?,
        disable_hooks: d.no_hooks,
        take_ownership: d.take_ownership,
        force_conflicts: d.force_conflicts,
        force_replace: d.force_replace || d.force,
        skip_schema_validation: d.skip_schema_validation,
        sub_notes: d.render_subchart_notes,
        hide_secret: d.hide_secret,
        enable_dns: d.enable_dns,
        reuse_values: a.reuse_values,
        reset_values: a.reset_values,
        reset_then_reuse_values: a.reset_then_reuse_values,
        max_history: history_max(a.history_max),
        update_crds: a.update_crds,
    };
    let vals = d
        .vals
        .options()
        .merge_values()
        .map_err(|e| (String::new(), e.to_string()))?;
    let chart = load_chart(&chart_ref, d).await.map_err(e)?;
    let guard = if opts.dry_run.is_dry_run() {
        None
    } else {
        action::lease::begin(&cfg, driver_kind()?, &name, "upgrade", a.global.recover)
            .await
            .map_err(|err| (String::new(), format!("UPGRADE FAILED: {}", err.message)))?
    };
    let res = action::upgrade(&mut cfg, &name, chart, vals, &opts).await;
    action::lease::end(guard).await;
    let rel = res.map_err(|err| (String::new(), format!("UPGRADE FAILED: {}", err.message)))?;
    let prefix = if d.output == "table" {
        format!(
            "Release {} has been upgraded. Happy Helming!\n",
            rudder_engine::print::quote(&name)
        )
    } else {
        String::new()
    };
    write_release(&rel, &d.output, &a.global, d.hide_notes, &prefix).map_err(e)
}

pub async fn rollback(a: &RollbackArgs) -> Outcome {
    let e = |m: String| (String::new(), m);
    if a.force {
        eprintln!("Flag --force has been deprecated, use --force-replace instead");
    }
    exclusive(a.force_replace, a.force, a.force_conflicts)?;
    let version = match a.args.get(1) {
        None => 0,
        Some(v) => v.parse::<i64>().map_err(|_| {
            e(format!(
                "could not convert revision to a number: strconv.Atoi: parsing {}: invalid syntax",
                rudder_engine::print::quote(v)
            ))
        })?,
    };
    let opts = action::RollbackOptions {
        version,
        wait: WaitSettings {
            wait: wait_strategy(&a.wait).map_err(e)?,
            wait_for_jobs: a.wait_for_jobs,
            timeout: timeout_flag(&a.timeout)?,
        },
        disable_hooks: a.no_hooks,
        dry_run: dry_run_strategy(&a.dry_run).map_err(e)?,
        force_conflicts: a.force_conflicts,
        force_replace: a.force_replace || a.force,
        cleanup_on_fail: a.cleanup_on_fail,
        max_history: history_max(a.history_max),
        description: a.description.clone(),
    };
    let mut cfg = connect(&a.global).await.map_err(e)?;
    let guard = if opts.dry_run.is_dry_run() {
        None
    } else {
        action::lease::begin(
            &cfg,
            driver_kind()?,
            &a.args[0],
            "rollback",
            a.global.recover,
        )
        .await
        .map_err(|err| e(err.message))?
    };
    let res = action::rollback(&mut cfg, &a.args[0], &opts).await;
    action::lease::end(guard).await;
    res.map_err(|err| e(err.message))?;
    Ok("Rollback was a success! Happy Helming!\n".into())
}

pub async fn uninstall(a: &UninstallArgs) -> Outcome {
    let e = |m: String| (String::new(), m);
    if !matches!(a.cascade.as_str(), "background" | "foreground" | "orphan") {
        return Err(e(format!(
            "invalid cascade value ({}). Must be \"background\", \"foreground\", or \"orphan\"",
            a.cascade
        )));
    }
    let opts = action::UninstallOptions {
        disable_hooks: a.no_hooks,
        keep_history: a.keep_history,
        wait: WaitSettings {
            wait: wait_strategy(&a.wait).map_err(e)?,
            wait_for_jobs: false,
            timeout: timeout_flag(&a.timeout)?,
        },
        cascade: a.cascade.clone(),
        description: a.description.clone(),
        ignore_not_found: a.ignore_not_found,
        dry_run: a.dry_run,
    };
    let cfg = connect(&a.global).await.map_err(e)?;
    let mut out = String::new();
    for name in &a.args {
        let guard = if opts.dry_run
            || rudder_chart::render::template::validate_release_name(name).is_err()
        {
            None
        } else {
            action::lease::begin(&cfg, driver_kind()?, name, "uninstall", a.global.recover)
                .await
                .map_err(|err| (out.clone(), err.message))?
        };
        let res = action::uninstall(&cfg, name, &opts).await;
        action::lease::end(guard).await;
        let res = res.map_err(|err| (out.clone(), err.message))?;
        if !res.info.is_empty() {
            out.push_str(&res.info);
            out.push('\n');
        }
        out.push_str(&format!("release \"{name}\" uninstalled\n"));
    }
    Ok(out)
}

/// Runs an async command on a fresh runtime.
pub fn block_on<F: std::future::Future<Output = Outcome>>(f: F) -> Outcome {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(f),
        Err(e) => Err((String::new(), e.to_string())),
    }
}

/// The usage line cobra prints for a release command's argument errors.
pub fn usage(sub: &str) -> Option<&'static str> {
    Some(match sub {
        "install" => "install [NAME] [CHART] [flags]",
        "upgrade" => "upgrade [RELEASE] [CHART] [flags]",
        "rollback" => "rollback <RELEASE> [REVISION] [flags]",
        "uninstall" | "un" | "del" | "delete" => "uninstall RELEASE_NAME [...] [flags]",
        _ => return None,
    })
}
