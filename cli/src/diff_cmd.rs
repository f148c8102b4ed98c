//! `rudder diff upgrade|rollback|install`: what the helm-diff plugin prints, built in.
//!
//! The new manifest comes from the action itself run as a server dry run (so values, reuse
//! and reset, lookups and capabilities are exactly the upgrade's), the old one from the
//! release record. Both sides are then asked of the API server: the live objects, and what a
//! server-side dry-run apply of each new object would leave (defaults, webhooks and other
//! managers' fields included), so only real changes show. Objects the new manifest no longer
//! has are shown as removed.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};

use clap::{ArgAction, Args, Subcommand};
use rudder_release::action::{self, Config, DryRun};
use rudder_release::diff::{
    self, DesiredObject, DiffOptions, OutputFormat, RemovedObject, SecretMode,
};
use rudder_release::kube::apply::set_ownership;
use rudder_release::kube::resource;
use rudder_state::release::{Hook, Release};

use crate::flags::{ChartPathArgs, ValuesArgs};
use crate::release::{connect, load_chart, DeployArgs, GlobalArgs};

#[derive(Args, Debug, Clone)]
pub struct DiffArgs {
    #[command(subcommand)]
    pub cmd: DiffCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum DiffCommand {
    /// Show a diff explaining what a helm upgrade would change.
    Upgrade(Box<UpgradeDiffArgs>),
    /// Show a diff explaining what a helm rollback would change.
    Rollback(RollbackDiffArgs),
    /// Show a diff explaining what a helm install would change.
    Install(Box<InstallDiffArgs>),
}

/// Output flags every diff takes (helm-diff's).
#[derive(Args, Debug, Clone, Default)]
pub struct OutputFlags {
    /// Leave Secrets' changes out, only naming the Secret.
    #[arg(long = "suppress-secrets")]
    pub suppress_secrets: bool,
    /// Show Secret values as stored instead of masking them.
    #[arg(long = "show-secrets")]
    pub show_secrets: bool,
    /// Show Secret values decoded.
    #[arg(long = "show-secrets-decoded")]
    pub show_secrets_decoded: bool,
    /// Lines of context around changes (-1: all).
    #[arg(short = 'C', long = "context", default_value_t = -1, allow_negative_numbers = true)]
    pub context: i64,
    #[arg(long = "no-color")]
    pub no_color: bool,
    /// Exit 2 when there are changes.
    #[arg(long = "detailed-exitcode")]
    pub detailed_exitcode: bool,
    /// Kept for helm-diff's command lines: the diff is always against the live objects.
    #[arg(long = "three-way-merge")]
    pub three_way_merge: bool,
    /// Leave hooks out of the diff.
    #[arg(long = "no-hooks")]
    pub no_hooks: bool,
    /// Diff the `test` hooks too.
    #[arg(long = "include-tests")]
    pub include_tests: bool,
    /// `diff` (default), `simple` or `unified`.
    #[arg(long = "output", default_value = "diff")]
    pub output: String,
    /// Kinds whose changes are only announced.
    #[arg(long = "suppress", action = ArgAction::Append)]
    pub suppress: Vec<String>,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Args, Debug, Clone)]
pub struct UpgradeDiffArgs {
    pub release: String,
    pub chart: String,
    #[command(flatten)]
    pub vals: ValuesArgs,
    #[arg(long = "reuse-values")]
    pub reuse_values: bool,
    #[arg(long = "reset-values")]
    pub reset_values: bool,
    #[arg(long = "reset-then-reuse-values")]
    pub reset_then_reuse_values: bool,
    #[arg(long = "version")]
    pub version: Option<String>,
    #[arg(long = "devel")]
    pub devel: bool,
    #[arg(long = "repo")]
    pub repo: Option<String>,
    /// A release that does not exist yet is diffed as an install.
    #[arg(long = "install", alias = "allow-unreleased")]
    pub install: bool,
    /// helm-diff's Capabilities version for client-side rendering; accepted for helmfile's
    /// command lines (helmfile passes it to every `helm diff`). Rudder renders against the
    /// cluster, whose version the API server reports.
    #[arg(long = "kube-version")]
    pub kube_version: Option<String>,
    #[command(flatten)]
    pub out: OutputFlags,
}

#[derive(Args, Debug, Clone)]
pub struct RollbackDiffArgs {
    pub release: String,
    /// The revision to roll back to (default: the one before the current).
    pub revision: Option<String>,
    #[command(flatten)]
    pub out: OutputFlags,
}

#[derive(Args, Debug, Clone)]
pub struct InstallDiffArgs {
    pub name: String,
    pub chart: String,
    #[command(flatten)]
    pub vals: ValuesArgs,
    #[arg(long = "version")]
    pub version: Option<String>,
    #[arg(long = "devel")]
    pub devel: bool,
    #[arg(long = "repo")]
    pub repo: Option<String>,
    #[command(flatten)]
    pub out: OutputFlags,
}

/// Runs a diff command: prints the report and exits 0, 2 (changes with
/// `--detailed-exitcode`) or 1 (`Error: ...`).
pub fn main(a: &DiffArgs) -> ! {
    let flags = match &a.cmd {
        DiffCommand::Upgrade(u) => &u.out,
        DiffCommand::Rollback(r) => &r.out,
        DiffCommand::Install(i) => &i.out,
    };
    if !matches!(flags.output.as_str(), "diff" | "simple" | "unified") {
        eprintln!(
            "Error: unknown output format {:?} (want diff, simple or unified)",
            flags.output
        );
        std::process::exit(1);
    }
    let res = crate::release::block_on(async {
        match &a.cmd {
            DiffCommand::Upgrade(u) => upgrade(u).await,
            DiffCommand::Rollback(r) => rollback(r).await,
            DiffCommand::Install(i) => install(i).await,
        }
    });
    match res {
        Ok(report) => {
            let mut so = std::io::stdout().lock();
            let _ = so.write_all(report.as_bytes());
            let _ = so.flush();
            let changes = !report.trim_start_matches(NEW_BANNER).is_empty();
            std::process::exit(if flags.detailed_exitcode && changes {
                2
            } else {
                0
            });
        }
        Err((printed, e)) => {
            let mut so = std::io::stdout().lock();
            let _ = so.write_all(printed.as_bytes());
            let _ = so.flush();
            eprintln!("Error: {e}");
            std::process::exit(1);
        }
    }
}

/// helm-diff's notice, on stdout, when an absent release is diffed as an install.
const NEW_BANNER: &str = "********************\n\n\tRelease was not present in Helm.  Diff will show entire contents as new.\n\n********************\n";
/// ... and when it is not allowed to be.
const MISSING_BANNER: &str = "********************\n\n\tRelease was not present in Helm.  Include the `--allow-unreleased` to perform diff without exiting in error.\n\n********************\n";

/// The chart-locating flags in the shape `load_chart` reads.
fn deploy_args(
    vals: &ValuesArgs,
    version: &Option<String>,
    devel: bool,
    repo: &Option<String>,
) -> DeployArgs {
    DeployArgs {
        vals: vals.clone(),
        chart: ChartPathArgs {
            version: version.clone(),
            devel,
            repo: repo.clone(),
            ..ChartPathArgs::default()
        },
        ..DeployArgs::default()
    }
}

fn diff_options(f: &OutputFlags, namespace: &str) -> DiffOptions {
    let mut suppressed = f.suppress.clone();
    if f.suppress_secrets {
        suppressed.push("Secret".into());
    }
    DiffOptions {
        context: usize::try_from(f.context).ok(),
        color: !f.no_color
            && std::env::var_os("NO_COLOR").is_none()
            && std::io::stdout().is_terminal(),
        secrets: if f.show_secrets_decoded {
            SecretMode::Decoded
        } else if f.show_secrets {
            SecretMode::Show
        } else {
            SecretMode::Redact
        },
        suppressed_kinds: suppressed,
        default_namespace: namespace.to_string(),
        format: match f.output.as_str() {
            "simple" => OutputFormat::Simple,
            "unified" => OutputFormat::Unified,
            _ => OutputFormat::HelmDiff,
        },
    }
}

/// The revision the release stands at: its deployed one, else its last.
async fn current(cfg: &Config, name: &str) -> Result<Option<Release>, String> {
    match cfg.storage.deployed(name).await {
        Ok(r) => return Ok(Some(r)),
        Err(rudder_state::Error::NotFound) | Err(rudder_state::Error::NoDeployedReleases(_)) => {}
        Err(e) => return Err(e.to_string()),
    }
    match cfg.storage.last(name).await {
        Ok(r) => Ok(Some(r)),
        Err(rudder_state::Error::NotFound) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// The objects of the hooks helm-diff compares: none with `--no-hooks`, test hooks only with
/// `--include-tests`.
async fn hook_objects(
    cfg: &Config,
    hooks: &[Hook],
    f: &OutputFlags,
) -> Result<Vec<serde_json::Value>, String> {
    let mut out = Vec::new();
    if f.no_hooks {
        return Ok(out);
    }
    for h in hooks {
        if !f.include_tests && h.events.iter().any(|e| e == "test") {
            continue;
        }
        let rs = resource::build(&cfg.kube.mapper, &h.manifest, &cfg.kube.namespace)
            .await
            .map_err(|e| format!("unable to build kubernetes object for hook {}: {e}", h.path))?;
        out.extend(rs.into_iter().map(|r| r.obj));
    }
    Ok(out)
}

/// The report of going from `old` to `new` (manifest and hooks of release `name`). The
/// manifest's objects are compared as the API server has and would have them; hooks, which
/// are created afresh at each run rather than applied over live objects, record to record.
async fn report(
    cfg: &Config,
    name: &str,
    (old, old_hooks): (&str, &[Hook]),
    (new, new_hooks): (&str, &[Hook]),
    f: &OutputFlags,
) -> Result<String, String> {
    let ns = cfg.kube.namespace.clone();
    let old_rs = resource::build(&cfg.kube.mapper, old, &ns)
        .await
        .map_err(|e| {
            format!("unable to build kubernetes objects from current release manifest: {e}")
        })?;
    let mut new_rs = resource::build(&cfg.kube.mapper, new, &ns)
        .await
        .map_err(|e| {
            format!("unable to build kubernetes objects from new release manifest: {e}")
        })?;
    for r in new_rs.iter_mut() {
        set_ownership(r, name, &ns);
    }
    let kept: HashSet<_> = new_rs.iter().map(|r| r.key()).collect();
    let removed: Vec<RemovedObject> = old_rs
        .iter()
        .filter(|r| !kept.contains(&r.key()))
        .map(|r| RemovedObject {
            api: r.mapping.api.clone(),
            namespace: r.namespace.clone(),
            name: r.name.clone(),
        })
        .collect();
    let desired: Vec<DesiredObject> = new_rs
        .iter()
        .map(|r| DesiredObject {
            api: r.mapping.api.clone(),
            namespace: r.namespace.clone(),
            object: r.obj.clone(),
        })
        .collect();
    // An unreleased release has nothing live: its objects are all new, shown as rendered (as
    // helm-diff shows them), and no server dry run is needed (its namespace may not exist yet).
    let (mut live, mut planned) = if old.is_empty() {
        (Vec::new(), desired.iter().map(|d| d.object.clone()).collect())
    } else {
        diff::server_side_preview(
            &cfg.kube.client,
            &desired,
            &removed,
            &cfg.kube.field_manager,
            false,
        )
        .await
        .map_err(|e| e.to_string())?
    };
    live.extend(hook_objects(cfg, old_hooks, f).await?);
    planned.extend(hook_objects(cfg, new_hooks, f).await?);
    let opts = diff_options(f, &ns);
    let diffs = diff::diff_objects(&live, &planned, &opts).map_err(|e| e.to_string())?;
    Ok(diff::render_report(&diffs, &opts))
}

fn fail(m: String) -> (String, String) {
    (String::new(), m)
}

async fn install_release(
    cfg: &Config,
    name: &str,
    chart: &str,
    d: &DeployArgs,
) -> Result<Release, String> {
    let vals = d.vals.options()
        .merge_values()
        .map_err(|e| e.to_string())?;
    let chart = load_chart(chart, d).await?;
    // Nothing of the release is live yet, so there is nothing to dry-run against on the
    // server; a client-side dry run also works before the namespace exists (helm-diff's
    // unreleased path shows the whole release as new either way).
    let opts = action::InstallOptions {
        release_name: name.to_string(),
        dry_run: DryRun::Client,
        ..Default::default()
    };
    action::install(cfg, chart, vals, &opts)
        .await
        .map_err(|e| e.message)
}

async fn upgrade(a: &UpgradeDiffArgs) -> crate::release::Outcome {
    let mut cfg = connect(&a.out.global).await.map_err(fail)?;
    let d = deploy_args(&a.vals, &a.version, a.devel, &a.repo);
    let Some(old) = current(&cfg, &a.release).await.map_err(fail)? else {
        if !a.install {
            return Err((MISSING_BANNER.to_string(), "release: not found".into()));
        }
        let new = install_release(&cfg, &a.release, &a.chart, &d)
            .await
            .map_err(|e| (NEW_BANNER.to_string(), e))?;
        return report(
            &cfg,
            &a.release,
            ("", &[]),
            (&new.manifest, &new.hooks),
            &a.out,
        )
        .await
        .map(|r| format!("{NEW_BANNER}{r}"))
        .map_err(|e| (NEW_BANNER.to_string(), e));
    };
    let vals = a.vals.options()
        .merge_values()
        .map_err(|e| fail(e.to_string()))?;
    let chart = load_chart(&a.chart, &d).await.map_err(fail)?;
    let opts = action::UpgradeOptions {
        dry_run: DryRun::Server,
        reuse_values: a.reuse_values,
        reset_values: a.reset_values,
        reset_then_reuse_values: a.reset_then_reuse_values,
        ..Default::default()
    };
    let rel = action::upgrade(&mut cfg, &a.release, chart, vals, &opts)
        .await
        .map_err(|e| fail(e.message))?;
    report(
        &cfg,
        &a.release,
        (&old.manifest, &old.hooks),
        (&rel.manifest, &rel.hooks),
        &a.out,
    )
    .await
    .map_err(fail)
}

async fn rollback(a: &RollbackDiffArgs) -> crate::release::Outcome {
    let cfg = connect(&a.out.global).await.map_err(fail)?;
    let last = cfg
        .storage
        .last(&a.release)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let revision = match &a.revision {
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| fail(format!("could not convert revision to a number: strconv.Atoi: parsing {v:?}: invalid syntax")))?,
        None => last.version - 1,
    };
    if revision < 1 {
        return Err(fail(format!(
            "release {}: no revision to roll back to",
            a.release
        )));
    }
    let target = cfg
        .storage
        .get(&a.release, revision)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let old = current(&cfg, &a.release)
        .await
        .map_err(fail)?
        .unwrap_or_default();
    report(
        &cfg,
        &a.release,
        (&old.manifest, &old.hooks),
        (&target.manifest, &target.hooks),
        &a.out,
    )
    .await
    .map_err(fail)
}

async fn install(a: &InstallDiffArgs) -> crate::release::Outcome {
    let cfg = connect(&a.out.global).await.map_err(fail)?;
    let d = deploy_args(&a.vals, &a.version, a.devel, &a.repo);
    let new = install_release(&cfg, &a.name, &a.chart, &d)
        .await
        .map_err(fail)?;
    report(
        &cfg,
        &a.name,
        ("", &[]),
        (&new.manifest, &new.hooks),
        &a.out,
    )
    .await
    .map_err(fail)
}
