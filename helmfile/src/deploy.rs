//! helmfile v1.8.0's cluster commands (pkg/app/app.go, pkg/app/run.go, pkg/state/state.go):
//! `sync`, `apply`, `diff`, `destroy`/`delete` and `status`, run in-process. Each release is
//! rendered through the same values path as `template` and installed, upgraded or uninstalled
//! with `rudder_release::action` (server-side apply); `diff` and `apply` preview each release
//! with a server-side dry-run apply against the live objects (`rudder_release::diff`).
//!
//! `sync` (and the sync half of `apply`) runs the releases on the needs-DAG runner (`run.rs`:
//! `--concurrency`, per-cluster isolation) and prints helmfile's summary from `report.rs`;
//! each release's log lines are kept together. Diffs run one release after another in `needs`
//! order; `destroy` uninstalls one after another in reverse order.
//! TODO: destroy on the runner (reverse plan), the deploy report table and `--report-json`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rudder_chart::model::Chart;
use rudder_engine::Value;
use rudder_release::action::{self, Config, DryRun, WaitSettings};
use rudder_release::diff::{self, DesiredObject, DiffOptions, RemovedObject, SecretMode};
use rudder_release::kube::{Kube, KubeOptions};
use rudder_state::driver::DriverKind;
use rudder_state::release::{Release, Status};

use crate::commands::{self, deploy_plan, Outcome, Planned, TemplateOpts};
use crate::render::HelmTemplate;
use crate::run;
use crate::{get, str_of, State};

/// Options of the cluster commands beyond `template`'s.
#[derive(Clone, Debug, Default)]
pub struct DeployOpts {
    pub template: TemplateOpts,
    /// `--kubeconfig`.
    pub kubeconfig: Option<String>,
    /// `apply --skip-diff-on-install`: releases not yet installed are synced without a diff.
    pub skip_diff_on_install: bool,
    /// `--suppress-secrets`: Secret changes are not shown.
    pub suppress_secrets: bool,
    /// `--context N` of the diff (None: all lines).
    pub context: Option<usize>,
    /// `--wait` given on the command line.
    pub wait: bool,
    /// `--timeout` (seconds) given on the command line.
    pub timeout: Option<u64>,
    /// `--detailed-exitcode` (diff, apply): exit 2 when there are changes.
    pub detailed_exitcode: bool,
    /// `--no-color` (or HELMFILE_NO_COLOR=true without `--color`): plain section headers.
    pub no_color: bool,
    /// Rudder only: `--report-json FILE`, `--report-prometheus FILE`, `--report-pushgateway
    /// URL`, `--report-job NAME` (the deploy report of `sync`/`apply`, see report.rs).
    pub report: crate::report::ReportOptions,
}

/// One release as the cluster commands see it.
struct Target<'s> {
    st: &'s State,
    rel: BTreeMap<String, Value>,
    name: String,
    /// The namespace given to helm (empty: the context's).
    namespace: String,
    kube_context: String,
    chart_label: String,
}

/// A finished release for the summary tables.
struct Done {
    name: String,
    namespace: String,
    chart: String,
    version: String,
    duration: Duration,
}

fn flag(st: &State, rel: &BTreeMap<String, Value>, k: &str) -> Option<bool> {
    match get(rel, k) {
        Value::Bool(b) => Some(b),
        _ => match commands::helm_default(st, k) {
            Value::Bool(b) => Some(b),
            _ => None,
        },
    }
}

fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i, _) => Some(*i),
        Value::Uint(u, _) => Some(*u as i64),
        Value::Float(f, _) => Some(*f as i64),
        Value::String(s) => s.to_string().parse().ok(),
        _ => None,
    }
}

impl<'s> Target<'s> {
    fn new(st: &'s State, rel: &BTreeMap<String, Value>, o: &DeployOpts) -> Target<'s> {
        let kc = str_of(&get(rel, "kubeContext"));
        Target {
            st,
            rel: rel.clone(),
            name: str_of(&get(rel, "name")),
            namespace: str_of(&get(rel, "namespace")),
            kube_context: if kc.is_empty() { o.template.kube_context.clone().unwrap_or_default() } else { kc },
            chart_label: commands::chart_label(st, rel),
        }
    }

    /// helmfile's namespace in log lines (the release's, as written).
    fn ns(&self) -> &str {
        &self.namespace
    }

    async fn connect(&self, o: &DeployOpts) -> Result<Config, String> {
        connect(&o.kubeconfig, &self.kube_context, &self.namespace).await
    }

    /// helmfile's `flagsForUpgrade` as action settings: wait, timeout, atomic.
    fn wait(&self, o: &DeployOpts) -> (WaitSettings, bool) {
        let mut timeout = int_of(&commands::helm_default(self.st, "timeout")).unwrap_or(0);
        if let Some(t) = int_of(&get(&self.rel, "timeout")) {
            timeout = t;
        }
        if let Some(t) = o.timeout.filter(|t| *t > 0) {
            timeout = t as i64;
        }
        let wait = WaitSettings {
            wait: o.wait || flag(self.st, &self.rel, "wait").unwrap_or(false),
            wait_for_jobs: flag(self.st, &self.rel, "waitForJobs").unwrap_or(false),
            timeout: if timeout > 0 { Duration::from_secs(timeout as u64) } else { Duration::from_secs(300) },
        };
        let atomic = flag(self.st, &self.rel, "atomic").unwrap_or(false)
            || flag(self.st, &self.rel, "rollbackOnFailure").unwrap_or(false);
        (wait, atomic)
    }

    /// `--labels` as helmfile passes it: only with `syncReleaseLabels`.
    fn labels(&self) -> BTreeMap<String, String> {
        if !flag(self.st, &self.rel, "syncReleaseLabels").unwrap_or(false) {
            return BTreeMap::new();
        }
        crate::map_entries(&get(&self.rel, "labels"))
            .into_iter()
            .map(|(k, v)| (k, str_of(&v)))
            .collect()
    }
}

/// The chart and the user values of a release, merged as helm merges `--values`/`--set*`.
fn inputs(job: &HelmTemplate) -> Result<(Chart, Value), String> {
    let mut files = Vec::new();
    let mut docs: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (i, d) in job.values.docs.iter().enumerate() {
        let n = format!("{}/{}-values-{i}", job.temp_dir, job.name);
        docs.insert(n.clone(), d.text.clone().into_bytes());
        files.push(n);
    }
    files.extend(job.extra_value_files.iter().cloned());
    let mut set = job.values.set.clone();
    set.extend(job.extra_set.iter().cloned());
    let vo = rudder_chart::values::ValueOptions {
        value_files: files,
        string_values: job.values.set_string.clone(),
        values: set,
        file_values: job.values.set_file.clone(),
        json_values: vec![],
        literal_values: vec![],
    };
    let reader = |p: &str| -> Result<Vec<u8>, String> {
        match docs.get(p) {
            Some(b) => Ok(b.clone()),
            None => rudder_chart::values::options::read_file_go(p),
        }
    };
    let vals = vo.merge_values_with(&reader).map_err(|e| e.to_string())?;
    let chart_ref = job.chart_shown.trim();
    let path = if job.remote {
        let paths = rudder_repo::paths::HelmPaths::from_env();
        let opts = rudder_repo::ops::PullOptions {
            version: job.version.split('@').next().unwrap_or("").to_string(),
            ..Default::default()
        };
        rudder_repo::ops::download_to_cache(&paths, chart_ref, &opts)
            .map_err(|e| e.to_string())?
            .path
    } else if job.chart_path.exists() {
        job.chart_path.clone()
    } else {
        return Err(format!("path {chart_ref:?} not found"));
    };
    let chart = rudder_chart::load(&path).map_err(|e| e.to_string())?;
    rudder_chart::render::template::check_if_installable(&chart)?;
    if !chart.metadata.dependencies.is_empty() {
        rudder_chart::check_dependencies(&chart).map_err(|e| {
            format!("an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: {e}")
        })?;
    }
    Ok((chart, vals))
}

/// The deployed (or last) release of `name`, if there is one that is not uninstalled.
async fn current(cfg: &Config, name: &str) -> Result<Option<Release>, String> {
    match cfg.storage.history(name).await {
        Err(rudder_state::Error::NotFound) => Ok(None),
        Err(e) => Err(e.to_string()),
        Ok(mut h) => {
            h.sort_by_key(|r| r.version);
            Ok(h.pop().filter(|r| r.status() != Status::Uninstalled))
        }
    }
}

/// Everything one release's sync needs, owned (the runner's tasks are `'static`).
#[derive(Clone)]
struct SyncJob {
    id: String,
    name: String,
    namespace: String,
    kube_context: String,
    kubeconfig: Option<String>,
    chart_label: String,
    /// `chart:` as written (the summary tables show it).
    chart: String,
    desired: bool,
    needs: Vec<String>,
    job: Result<HelmTemplate, String>,
    wait: WaitSettings,
    atomic: bool,
    create_namespace: bool,
    labels: BTreeMap<String, String>,
    history_max: usize,
    cleanup_on_fail: bool,
    prefix: String,
}

impl SyncJob {
    fn of(t: &Target<'_>, prefix: &str, o: &DeployOpts) -> SyncJob {
        let (wait, atomic) = t.wait(o);
        SyncJob {
            id: crate::dag::release_id(&t.rel),
            name: t.name.clone(),
            namespace: t.namespace.clone(),
            kube_context: t.kube_context.clone(),
            kubeconfig: o.kubeconfig.clone(),
            chart_label: t.chart_label.clone(),
            chart: str_of(&get(&t.rel, "chart")),
            desired: commands::is_desired(&t.rel),
            needs: crate::dag::needs(&t.rel),
            job: if commands::is_desired(&t.rel) {
                commands::deploy_job(t.st, &t.rel, &o.template)
            } else {
                Err(String::new())
            },
            wait,
            atomic,
            create_namespace: flag(t.st, &t.rel, "createNamespace").unwrap_or(true),
            labels: t.labels(),
            history_max: int_of(&commands::helm_default(t.st, "historyMax")).unwrap_or(10).max(0) as usize,
            cleanup_on_fail: flag(t.st, &t.rel, "cleanupOnFail").unwrap_or(false),
            prefix: prefix.to_string(),
        }
    }

    async fn connect(&self) -> Result<Config, String> {
        connect(&self.kubeconfig, &self.kube_context, &self.namespace).await
    }
}

async fn connect(kubeconfig: &Option<String>, context: &str, namespace: &str) -> Result<Config, String> {
    let opts = KubeOptions::resolve(kubeconfig.clone(), Some(context.to_string()), Some(namespace.to_string()));
    let kube = Kube::connect(&opts).await.map_err(|e| e.0)?;
    let kind = DriverKind::from_env().map_err(|e| e.to_string())?;
    Ok(Config::new(kube, kind))
}

/// Installs or upgrades one release (helm upgrade --install); true when it was installed.
async fn upgrade_release(j: &SyncJob) -> Result<(Release, bool), String> {
    let job = j.job.clone()?;
    let (chart, vals) = inputs(&job)?;
    let mut cfg = j.connect().await?;
    let missing = action::upgrade::needs_install(&cfg, &j.name).await.map_err(|e| e.message)?;
    if missing {
        let replace = cfg.storage.history(&j.name).await.map(|h| !h.is_empty()).unwrap_or(false);
        let opts = action::InstallOptions {
            release_name: j.name.clone(),
            create_namespace: j.create_namespace,
            labels: j.labels.clone(),
            wait: j.wait.clone(),
            rollback_on_failure: j.atomic,
            skip_schema_validation: job.skip_schema_validation,
            disable_hooks: job.no_hooks,
            replace,
            ..Default::default()
        };
        return action::install(&cfg, chart, vals, &opts).await.map(|r| (r, true)).map_err(|e| e.message);
    }
    let opts = action::UpgradeOptions {
        labels: j.labels.clone(),
        wait: j.wait.clone(),
        rollback_on_failure: j.atomic,
        cleanup_on_fail: j.cleanup_on_fail,
        skip_schema_validation: job.skip_schema_validation,
        disable_hooks: job.no_hooks,
        max_history: j.history_max,
        ..Default::default()
    };
    // The same operation lease as `rudder upgrade` (docs/stale-operations.md): a release another
    // client is upgrading, or one left pending by a killed client, is refused with its reason.
    let kind = rudder_state::driver::DriverKind::from_env().map_err(|e| e.to_string())?;
    let guard = action::lease::begin(&cfg, kind, &j.name, "upgrade", false)
        .await
        .map_err(|e| format!("UPGRADE FAILED: {}", e.message))?;
    let res = action::upgrade(&mut cfg, &j.name, chart, vals, &opts).await;
    action::lease::end(guard).await;
    res.map(|r| (r, false)).map_err(|e| format!("UPGRADE FAILED: {}", e.message))
}

/// Go's `time.ANSIC` of an RFC 3339 timestamp, in its own offset (what helm prints).
fn ansic(ts: &str) -> String {
    let parse = || -> Option<String> {
        let (y, m, d, hms, _) = split_ts(ts)?;
        let (yy, mm) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
        let era = yy.div_euclid(400);
        let yoe = yy - era * 400;
        let doy = (153 * mm + 2) / 5 + d - 1;
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
        let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
        let mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            .get((m - 1) as usize)?;
        Some(format!("{wd} {mon} {d:>2} {hms} {y}"))
    };
    parse().unwrap_or_else(|| ts.to_string())
}

/// Year, month, day, `hh:mm:ss` and the rest (fraction and offset) of an RFC 3339 timestamp.
fn split_ts(ts: &str) -> Option<(i64, i64, i64, &str, &str)> {
    let (date, time) = ts.split_once('T')?;
    let mut p = date.split('-');
    let y = p.next()?.parse().ok()?;
    let m = p.next()?.parse().ok()?;
    let d = p.next()?.parse().ok()?;
    Some((y, m, d, time.get(0..8)?, time.get(8..)?))
}

/// Go's `time.Time.String()` of an RFC 3339 timestamp (`helm list`'s UPDATED column).
fn go_time(ts: &str) -> String {
    let parse = || -> Option<String> {
        let (y, m, d, hms, rest) = split_ts(ts)?;
        let (frac, off) = match rest.find(['Z', '+', '-']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "Z"),
        };
        let frac = frac.trim_end_matches('0');
        let frac = if frac == "." { "" } else { frac };
        let zone = if off == "Z" || off == "+00:00" { "+0000 UTC".to_string() } else { off.replace(':', "") };
        Some(format!("{y:04}-{m:02}-{d:02} {hms}{frac} {zone}"))
    };
    parse().unwrap_or_else(|| ts.to_string())
}

/// What helm prints after `upgrade --install` (helmfile relays it).
fn helm_summary(rel: &Release, installed: bool) -> String {
    let info = rel.info.clone().unwrap_or_default();
    let mut out = if installed {
        format!("Release \"{}\" does not exist. Installing it now.\n", rel.name)
    } else {
        format!("Release \"{}\" has been upgraded. Happy Helming!\n", rel.name)
    };
    out.push_str(&format!("NAME: {}\n", rel.name));
    if let Some(ld) = &info.last_deployed {
        out.push_str(&format!("LAST DEPLOYED: {}\n", ansic(ld)));
    }
    out.push_str(&format!(
        "NAMESPACE: {}\nSTATUS: {}\nREVISION: {}\nDESCRIPTION: {}\n",
        rel.namespace,
        info.status.as_str(),
        rel.version,
        info.description
    ));
    if !rel.hooks.iter().any(|h| h.events.iter().any(|e| e == "test")) {
        out.push_str("TEST SUITE: None\n");
    }
    if !info.notes.is_empty() {
        out.push_str(&format!("NOTES:\n{}\n", info.notes.trim()));
    }
    out
}

/// helmfile's `Listing releases matching ^NAME$` and the row `helm list` prints for it
/// (uitable without its header: cells padded to the header's width, tab-separated).
fn listing(rel: &Release) -> String {
    let info = rel.info.clone().unwrap_or_default();
    let (chart, app) = match rel.chart.as_ref().and_then(|c| c.metadata.as_ref()) {
        Some(m) => (format!("{}-{}", m.name, m.version), m.app_version.clone()),
        None => (String::new(), String::new()),
    };
    let cells = [
        (rel.name.clone(), "NAME"),
        (rel.namespace.clone(), "NAMESPACE"),
        (rel.version.to_string(), "REVISION"),
        (info.last_deployed.as_deref().map(go_time).unwrap_or_default(), "UPDATED"),
        (info.status.as_str().to_string(), "STATUS"),
        (chart, "CHART"),
        (app, "APP VERSION"),
    ];
    let row: Vec<String> = cells.iter().map(|(c, h)| format!("{c:<w$}", w = h.len())).collect();
    format!("Listing releases matching ^{}$\n{}\n", rel.name, row.join("\t"))
}

/// The preview of one release: helm-diff's text, and whether anything changes.
async fn diff_release(t: &Target<'_>, o: &DeployOpts) -> Result<(String, bool), String> {
    let job = commands::deploy_job(t.st, &t.rel, &o.template)?;
    let (chart, vals) = inputs(&job)?;
    let mut cfg = t.connect(o).await?;
    let ns = cfg.kube.namespace.clone();
    let old = current(&cfg, &t.name).await?;
    let manifest = match &old {
        None => {
            let opts = action::InstallOptions {
                release_name: t.name.clone(),
                dry_run: DryRun::Server,
                skip_schema_validation: job.skip_schema_validation,
                disable_hooks: job.no_hooks,
                ..Default::default()
            };
            action::install(&cfg, chart, vals, &opts).await.map_err(|e| e.message)?.manifest
        }
        Some(_) => {
            let opts = action::UpgradeOptions {
                dry_run: DryRun::Server,
                skip_schema_validation: job.skip_schema_validation,
                disable_hooks: job.no_hooks,
                ..Default::default()
            };
            action::upgrade(&mut cfg, &t.name, chart, vals, &opts)
                .await
                .map_err(|e| e.message)?
                .manifest
        }
    };
    let opts = DiffOptions {
        context: o.context,
        secrets: SecretMode::Redact,
        suppressed_kinds: if o.suppress_secrets { vec!["Secret".into()] } else { vec![] },
        default_namespace: ns.clone(),
        ..Default::default()
    };
    let kube = &cfg.kube;
    let mut desired_rs = rudder_release::kube::resource::build(&kube.mapper, &manifest, &ns)
        .await
        .map_err(|e| e.0)?;
    for r in desired_rs.iter_mut() {
        rudder_release::kube::apply::set_ownership(r, &t.name, &ns);
    }
    let Some(old) = old else {
        // Nothing live: every object is added.
        let objs: Vec<serde_json::Value> = desired_rs.iter().map(|r| r.obj.clone()).collect();
        let diffs = diff::diff_objects(&[], &objs, &opts).map_err(|e| e.to_string())?;
        return Ok((diff::render_report(&diffs, &opts), !diffs.is_empty() || objs.is_empty()));
    };
    let old_rs = rudder_release::kube::resource::build(&kube.mapper, &old.manifest, &ns)
        .await
        .map_err(|e| e.0)?;
    let key = |r: &rudder_release::kube::Resource| {
        (r.mapping.api.api_version.clone(), r.mapping.api.kind.clone(), r.namespace.clone(), r.name.clone())
    };
    let wanted: std::collections::HashSet<_> = desired_rs.iter().map(key).collect();
    let removed: Vec<RemovedObject> = old_rs
        .iter()
        .filter(|r| !wanted.contains(&key(r)))
        .map(|r| RemovedObject { api: r.mapping.api.clone(), namespace: r.namespace.clone(), name: r.name.clone() })
        .collect();
    let desired: Vec<DesiredObject> = desired_rs
        .iter()
        .map(|r| DesiredObject { api: r.mapping.api.clone(), namespace: r.namespace.clone(), object: r.obj.clone() })
        .collect();
    let (live, planned) = diff::server_side_preview(&kube.client, &desired, &removed, &kube.field_manager, false)
        .await
        .map_err(|e| e.to_string())?;
    let diffs = diff::diff_objects(&live, &planned, &opts).map_err(|e| e.to_string())?;
    Ok((diff::render_report(&diffs, &opts), !diffs.is_empty()))
}

/// Uninstalls a release if it is installed; `Ok(false)` when there was nothing to remove.
async fn delete_release(cfg: &Config, name: &str, wait: WaitSettings, keep_history: bool) -> Result<bool, String> {
    if current(cfg, name).await?.is_none() {
        return Ok(false);
    }
    let opts = action::UninstallOptions {
        keep_history,
        wait,
        cascade: "background".into(),
        ..Default::default()
    };
    action::uninstall(cfg, name, &opts).await.map_err(|e| e.message)?;
    Ok(true)
}

/// Go's `time.Duration.Round(time.Second).String()`.
fn go_seconds(d: Duration) -> String {
    let s = (d.as_millis() as u64 + 500) / 1000;
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, m) => format!("{m}m{s}s"),
        (h, m) => format!("{h}h{m}m{s}s"),
    }
}

/// go-prettytable with helmfile's columns: left-aligned cells padded to the widest (at least
/// `min`), the last column right-aligned, joined by three spaces.
fn table(headers: &[(&str, usize)], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|(h, m)| h.len().max(*m)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let last = headers.len() - 1;
    let line = |cells: Vec<String>| -> String {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| if i == last { format!("{c:>w$}", w = widths[i]) } else { format!("{c:<w$}", w = widths[i]) })
            .collect();
        parts.join("   ")
    };
    let mut out = line(headers.iter().map(|(h, _)| h.to_string()).collect());
    for r in rows {
        out.push('\n');
        out.push_str(&line(r.clone()));
    }
    out.push('\n');
    out
}

/// A section header centred in `=` over the table's width (kubedog.HeaderDividerCentered).
fn divider(title: &str, tbl: &str) -> String {
    let width = tbl.lines().map(|l| l.trim_end().chars().count()).max().unwrap_or(0);
    let content = format!(" {title} ");
    if width <= content.len() {
        return format!("{title}\n{}", "=".repeat(title.len()));
    }
    let pad = width - content.len();
    format!("{}{content}{}", "=".repeat(pad / 2), "=".repeat(pad - pad / 2))
}

/// helmfile's DisplayAffectedReleases.
fn affected(updated: &[Done], deleted: &[Done], failed: &[Done], color: bool) -> String {
    let mut out = String::new();
    let with_chart = [("NAME", 0), ("NAMESPACE", 6), ("CHART", 6), ("VERSION", 6), ("DURATION", 0)];
    let mut section = |title: &str, ds: &[Done], chart: bool| {
        if ds.is_empty() {
            return;
        }
        let rows: Vec<Vec<String>> = ds
            .iter()
            .map(|d| {
                if chart {
                    vec![d.name.clone(), d.namespace.clone(), d.chart.clone(), d.version.clone(), go_seconds(d.duration)]
                } else {
                    vec![d.name.clone(), d.namespace.clone(), go_seconds(d.duration)]
                }
            })
            .collect();
        let t = if chart { table(&with_chart, &rows) } else { table(&[("NAME", 0), ("NAMESPACE", 6), ("DURATION", 0)], &rows) };
        let head = divider(title, &t);
        let head = if color { format!("\x1b[1m\x1b[34m{head}\x1b[0m") } else { head };
        out.push_str(&format!("\n{head}\n{t}\n"));
    };
    section("Updated Releases", updated, true);
    section("Deleted Releases", deleted, false);
    section("Failed Releases", failed, true);
    out
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

/// The targets of the whole tree, in `needs` order, each with its state's error prefix.
fn targets<'s>(plans: &'s [Planned<'s>], o: &DeployOpts) -> Vec<(Target<'s>, &'s str)> {
    let mut out = Vec::new();
    for p in plans {
        for r in &p.releases {
            out.push((Target::new(p.st, r, o), p.prefix.as_str()));
        }
    }
    out
}

fn chart_version(rel: &Release) -> String {
    rel.chart
        .as_ref()
        .and_then(|c| c.metadata.as_ref().map(|m| m.version.clone()))
        .unwrap_or_default()
}

/// One release of a sync: what helmfile logs for it, and the runner's outcome.
async fn sync_one(j: &SyncJob) -> (String, run::Outcome) {
    let mut log = String::new();
    if j.desired {
        log.push_str(&format!("Upgrading release={}, chart={}, namespace={}\n", j.name, j.chart_label, j.namespace));
        return match upgrade_release(j).await {
            Ok((rel, installed)) => {
                log.push_str(&helm_summary(&rel, installed));
                log.push_str(&listing(&rel));
                let mut o = run::Outcome::ok(if installed { run::Action::Install } else { run::Action::Upgrade });
                o.chart_version = chart_version(&rel);
                (log, o)
            }
            Err(e) => (log, run::Outcome::failed(run::Action::Upgrade, e)),
        };
    }
    // helmfile looks the release up (`helm list --filter ^NAME$`) before deleting it.
    log.push_str(&format!("Listing releases matching ^{}$\n", j.name));
    let res = async {
        let cfg = j.connect().await?;
        if let Some(rel) = current(&cfg, &j.name).await? {
            let l = listing(&rel);
            log.push_str(l.split_once('\n').map(|(_, row)| row).unwrap_or(""));
        }
        delete_release(&cfg, &j.name, j.wait.clone(), false).await
    }
    .await;
    match res {
        Ok(false) => (log, run::Outcome::ok(run::Action::Noop)),
        Ok(true) => {
            log.push_str(&format!("Deleting {}\nrelease \"{}\" uninstalled\n", j.name, j.name));
            (log, run::Outcome::ok(run::Action::Delete))
        }
        Err(e) => (log, run::Outcome::failed(run::Action::Delete, e)),
    }
}

/// Syncs `which` (indices into `ts`) along the `needs` graph with the runner (`run.rs`):
/// upgrades the desired releases, deletes the others that are installed; logs as helmfile
/// and appends its summary tables.
async fn sync_targets(ts: &[(Target<'_>, &str)], which: &[usize], o: &DeployOpts, out: &mut Outcome) {
    let jobs: Vec<SyncJob> = which.iter().map(|&i| SyncJob::of(&ts[i].0, ts[i].1, o)).collect();
    let ids: std::collections::HashSet<String> = jobs.iter().map(|j| j.id.clone()).collect();
    let nodes: Vec<run::Node> = jobs
        .iter()
        .map(|j| run::Node {
            id: j.id.clone(),
            name: j.name.clone(),
            namespace: j.namespace.clone(),
            cluster: j.kube_context.clone(),
            // Only what is synced in this run orders it (apply syncs the changed releases).
            needs: j.needs.iter().filter(|n| ids.contains(*n)).cloned().collect(),
            chart: j.chart.clone(),
        })
        .collect();
    let plan = match run::Plan::new(nodes) {
        Ok(p) => p,
        Err(e) => {
            let prefix = jobs.first().map(|j| j.prefix.clone()).unwrap_or_default();
            out.stderr.push_str(&format!("{prefix}{e}\n"));
            out.code = 1;
            return;
        }
    };
    let by_id: Arc<BTreeMap<String, SyncJob>> = Arc::new(jobs.iter().map(|j| (j.id.clone(), j.clone())).collect());
    let logs: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let opts = run::RunOptions::new(o.template.concurrency, false, false);
    let (jobs_c, logs_c) = (by_id.clone(), logs.clone());
    // Live progress only on a terminal (and not in CI); the printed output stays helmfile's.
    let mut progress = crate::report::Progress::auto(plan.nodes().len());
    let rep = run::run(
        &plan,
        &opts,
        "sync",
        move |node: run::Node| {
            let (jobs, logs) = (jobs_c.clone(), logs_c.clone());
            async move {
                let Some(j) = jobs.get(&node.id) else {
                    return run::Outcome::failed(run::Action::None, format!("no job for {}", node.id));
                };
                let (log, outcome) = sync_one(j).await;
                if let Ok(mut l) = logs.lock() {
                    l.push(log);
                }
                outcome
            }
        },
        &mut |e| progress.event(&e),
    )
    .await;
    let wants_report = o.report.json.is_some() || o.report.prometheus.is_some() || o.report.pushgateway.is_some();
    if wants_report {
        if let Err(e) = crate::report::emit(&rep, &o.report).await {
            out.stderr.push_str(&format!("{e}\n"));
            out.code = 1;
        }
    }
    if let Ok(l) = logs.lock() {
        for chunk in l.iter() {
            out.stderr.push_str(chunk);
        }
    }
    out.stderr.push_str(&crate::report::affected_releases(&rep, !o.no_color));
    if !rep.success() {
        let prefix = jobs.first().map(|j| j.prefix.clone()).unwrap_or_default();
        for e in rep.errors() {
            out.stderr.push_str(&format!("{prefix}{e}\n"));
        }
        out.code = 1;
    }
}

/// Runs `f` over the plan of the tree (nested states first), with the runtime.
fn with_plan(
    root: &State,
    all: Option<&State>,
    o: &DeployOpts,
    f: impl for<'a> FnOnce(&'a [(Target<'a>, &'a str)], &'a tokio::runtime::Runtime, &'a mut Outcome),
) -> Outcome {
    let mut out = Outcome::default();
    let Ok(plans) = deploy_plan(root, all, &o.template, &mut out) else {
        return out;
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            out.stderr.push_str(&format!("{e}\n"));
            out.code = 1;
            return out;
        }
    };
    for p in &plans {
        out.stderr.push_str(&commands::dependency_log(p.st, &p.releases, o.template.skip_deps));
    }
    let ts = targets(&plans, o);
    f(&ts, &rt, &mut out);
    out
}

/// `helmfile sync`: every selected release installed or upgraded in `needs` order; releases
/// marked `installed: false` are uninstalled when present.
pub fn sync(root: &State, all: Option<&State>, o: &DeployOpts) -> Outcome {
    with_plan(root, all, o, |ts, rt, out| {
        let which: Vec<usize> = (0..ts.len()).collect();
        rt.block_on(sync_targets(ts, &which, o, out));
    })
}

/// Diffs every target; returns the indices that change (`None` after an error, logged).
async fn diff_targets(ts: &[(Target<'_>, &str)], o: &DeployOpts, out: &mut Outcome) -> Option<Vec<usize>> {
    let mut changed = Vec::new();
    for (i, (t, prefix)) in ts.iter().enumerate() {
        let started_cfg = async { t.connect(o).await.ok() }.await;
        let present = match &started_cfg {
            Some(cfg) => current(cfg, &t.name).await.ok().flatten().is_some(),
            None => false,
        };
        if !commands::is_desired(&t.rel) {
            if present {
                changed.push(i);
            }
            continue;
        }
        if !present && o.skip_diff_on_install {
            changed.push(i);
            continue;
        }
        out.stderr.push_str(&format!(
            "Comparing release={}, chart={}, namespace={}\n",
            t.name,
            t.chart_label,
            t.ns()
        ));
        match diff_release(t, o).await {
            Ok((text, has)) => {
                out.stdout.push_str(&text);
                if has {
                    changed.push(i);
                }
            }
            Err(e) => {
                out.stderr.push_str(&format!("{prefix}release \"{}\" failed: {e}\n", t.name));
                out.code = 1;
                return None;
            }
        }
    }
    Some(changed)
}

/// `helmfile diff`: each release previewed against the cluster.
pub fn diff(root: &State, all: Option<&State>, o: &DeployOpts) -> Outcome {
    with_plan(root, all, o, |ts, rt, out| {
        if let Some(changed) = rt.block_on(diff_targets(ts, o, out)) {
            if !changed.is_empty() && o.detailed_exitcode {
                out.code = 2;
            }
        }
    })
}

/// `helmfile apply`: diff, then sync only what changes.
pub fn apply(root: &State, all: Option<&State>, o: &DeployOpts) -> Outcome {
    with_plan(root, all, o, |ts, rt, out| {
        let Some(changed) = rt.block_on(diff_targets(ts, o, out)) else {
            return;
        };
        if changed.is_empty() {
            return;
        }
        rt.block_on(sync_targets(ts, &changed, o, out));
        if out.code == 0 && o.detailed_exitcode {
            out.code = 2;
        }
    })
}

/// `helmfile destroy`: every selected release uninstalled, in reverse `needs` order (helmfile
/// v1.8.0 has no `delete` command any more; it is cobra's unknown command, as there).
pub fn destroy(root: &State, all: Option<&State>, o: &DeployOpts) -> Outcome {
    with_plan(root, all, o, |ts, rt, out| {
        rt.block_on(async {
            // helmfile lists each release (`helm list --filter ^NAME$`) before deleting.
            let mut present = Vec::new();
            for (i, (t, _)) in ts.iter().enumerate().rev() {
                out.stderr.push_str(&format!("Listing releases matching ^{}$\n", t.name));
                if let Ok(cfg) = t.connect(o).await {
                    if let Ok(Some(rel)) = current(&cfg, &t.name).await {
                        let l = listing(&rel);
                        out.stderr.push_str(l.split_once('\n').map(|(_, row)| row).unwrap_or(""));
                        present.push(i);
                    }
                }
            }
            present.reverse();
            if present.is_empty() {
                return;
            }
            let mut deleted = Vec::new();
            for &i in present.iter().rev() {
                let (t, prefix) = &ts[i];
                let started = Instant::now();
                out.stderr.push_str(&format!("Deleting {}\n", t.name));
                let res = match t.connect(o).await {
                    Ok(cfg) => delete_release(&cfg, &t.name, t.wait(o).0, false).await,
                    Err(e) => Err(e),
                };
                match res {
                    Ok(_) => {
                        out.stderr.push_str(&format!("release \"{}\" uninstalled\n", t.name));
                        deleted.push(Done {
                            name: t.name.clone(),
                            namespace: t.namespace.clone(),
                            chart: String::new(),
                            version: String::new(),
                            duration: started.elapsed(),
                        });
                    }
                    Err(e) => {
                        out.stderr.push_str(&affected(&[], &deleted, &[], !o.no_color));
                        out.stderr.push_str(&format!("{prefix}release \"{}\" failed: {e}\n", t.name));
                        out.code = 1;
                        return;
                    }
                }
            }
            out.stderr.push_str(&affected(&[], &deleted, &[], !o.no_color));
        })
    })
}

/// `helmfile status`: `helm status` of each selected installed release.
pub fn status(root: &State, all: Option<&State>, o: &DeployOpts) -> Outcome {
    with_plan(root, all, o, |ts, rt, out| {
        rt.block_on(async {
            for (t, prefix) in ts.iter().filter(|(t, _)| commands::is_desired(&t.rel)) {
                out.stderr.push_str(&format!("Getting status {}\n", t.name));
                let res = async {
                    let cfg = t.connect(o).await?;
                    current(&cfg, &t.name).await?.ok_or_else(|| "release: not found".to_string())
                }
                .await;
                match res {
                    Ok(rel) => {
                        // helmfile logs helm's output (stderr).
                        let info = rel.info.clone().unwrap_or_default();
                        out.stderr.push_str(&format!(
                            "NAME: {}\nLAST DEPLOYED: {}\nNAMESPACE: {}\nSTATUS: {}\nREVISION: {}\nDESCRIPTION: {}\n\n",
                            rel.name,
                            info.last_deployed.clone().unwrap_or_default(),
                            rel.namespace,
                            info.status.as_str(),
                            rel.version,
                            info.description
                        ));
                    }
                    Err(e) => {
                        out.stderr.push_str(&format!("{prefix}release \"{}\" failed: {e}\n", t.name));
                        out.code = 1;
                        return;
                    }
                }
            }
        })
    })
}
