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
//! helmfile's hooks fire as there (hooks.rs): the state's and the releases' `prepare` before,
//! the state's `cleanup` after every command; `presync`/`postsync`/`cleanup` around each synced
//! release (`postsync` with the error), `preuninstall`/`postuninstall` around each uninstall,
//! `preapply` before apply syncs anything.
//! The deploy report table is printed with `--report` (or on a terminal outside CI).
//! TODO: destroy on the runner (reverse plan), with the deploy report.

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
    /// `--suppress-diff`: no diff output; the `Comparing release=` lines go to the log (stderr).
    pub suppress_diff: bool,
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

/// The user values of a release, merged as helm merges `--values`/`--set*`.
pub(crate) fn user_values(job: &HelmTemplate) -> Result<Value, String> {
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
    vo.merge_values_with(&reader).map_err(|e| e.to_string())
}

/// The chart and the user values of a release, merged as helm merges `--values`/`--set*`.
fn inputs(job: &HelmTemplate) -> Result<(Chart, Value), String> {
    let vals = user_values(job)?;
    let chart_ref = job.chart_shown.trim();
    let path = if job.remote {
        let paths = rudder_repo::paths::HelmPaths::from_env();
        let opts = rudder_repo::ops::PullOptions {
            version: job.version.split('@').next().unwrap_or("").to_string(),
            offline: job.offline,
            plain_http: job.plain_http,
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
    /// The state and the release as hooks see them (`hooks:` fire around the sync).
    hook_state: Arc<State>,
    rel: BTreeMap<String, Value>,
    /// helmfile's `Listing releases matching` line was printed before the run.
    listed: bool,
}

impl SyncJob {
    fn of(t: &Target<'_>, prefix: &str, o: &DeployOpts, hook_state: Arc<State>) -> SyncJob {
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
            hook_state,
            rel: t.rel.clone(),
            listed: false,
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
    // Discovery overlaps the release lookups and the lease.
    cfg.kube.mapper.prefetch();
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
    let tests: Vec<_> = rel.hooks.iter().filter(|h| h.events.iter().any(|e| e == "test")).collect();
    if tests.is_empty() {
        out.push_str("TEST SUITE: None\n");
    }
    for h in tests {
        let Some(started) = &h.last_run.started_at else { continue };
        out.push_str(&format!(
            "TEST SUITE:     {}\nLast Started:   {}\nLast Completed: {}\nPhase:          {}\n",
            h.name,
            ansic(started),
            h.last_run.completed_at.as_deref().map(ansic).unwrap_or_else(|| "Mon Jan  1 00:00:00 0001".into()),
            h.last_run.phase
        ));
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
async fn diff_release(t: &Target<'_>, o: &DeployOpts, cfg: Option<Config>) -> Result<(String, bool), String> {
    let job = commands::deploy_job(t.st, &t.rel, &o.template)?;
    let (chart, vals) = inputs(&job)?;
    let mut cfg = match cfg {
        Some(c) => c,
        None => t.connect(o).await?,
    };
    let ns = cfg.kube.namespace.clone();
    let old = current(&cfg, &t.name).await?;
    let manifest = match &old {
        None => {
            // Nothing live to dry-run against: rendered client-side, which also works before
            // the release's namespace exists (helm-diff's unreleased path).
            let opts = action::InstallOptions {
                release_name: t.name.clone(),
                dry_run: DryRun::Client,
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

/// The VERSION helmfile's summary shows (getDeployedVersion): the part after `BASENAME-` of the
/// listed CHART column, `BASENAME` being the last element of `chart:` as written; when the chart
/// is named otherwise, the version `helm show chart CHART` reads, which for a local path
/// resolves against helmfile's working directory `cwd` (a `helmfile.d` of several files is not
/// changed into: its relative chart paths fail there, and helmfile shows nothing).
fn chart_version(rel: &Release, chart: &str, cwd: &std::path::Path) -> String {
    let Some(meta) = rel.chart.as_ref().and_then(|c| c.metadata.as_ref()) else {
        return String::new();
    };
    let base = chart.rsplit('/').next().unwrap_or(chart);
    let column = format!("{}-{}", meta.name, meta.version);
    if let Some(v) = column.strip_prefix(&format!("{base}-")) {
        return v.split_whitespace().next().unwrap_or("").to_string();
    }
    let local = cwd.join(chart);
    if local.is_dir() {
        return rudder_chart::load(&local)
            .map(|c| c.metadata.version)
            .unwrap_or_default();
    }
    if chart.starts_with('.') || chart.starts_with('/') {
        return String::new();
    }
    meta.version.clone()
}

/// Fires a release hook from a runner task (the hook is a blocking subprocess).
fn fire_blocking(st: &State, rel: &BTreeMap<String, Value>, event: &str, err: Option<&str>, command: &str) -> crate::hooks::Fired {
    tokio::task::block_in_place(|| crate::hooks::trigger(st, Some(rel), event, err, command))
}

/// One release of a sync as helmfile's SyncReleases runs it: `presync`, the upgrade (or the
/// uninstall of a release marked `installed: false`), then `postsync` with the error and
/// `cleanup`. A hook that fails fails the release (`failed processing release NAME: ...`);
/// after an earlier failure it is only warned about.
async fn sync_one(j: &SyncJob) -> (String, run::Outcome) {
    let mut log = String::new();
    let pre = fire_blocking(&j.hook_state, &j.rel, "presync", None, "sync");
    log.push_str(&pre.log);
    let (mut out_log, mut outcome) = match pre.error {
        // Nothing reached helm: helmfile lists the release in none of its tables.
        Some(e) => (String::new(), run::Outcome::failed(run::Action::None, e)),
        None => sync_release(j).await,
    };
    log.push_str(&std::mem::take(&mut out_log));
    let failed = |o: &run::Outcome| o.result == run::Status::Failed;
    let err_text = if failed(&outcome) { Some(failed_processing(&j.name, &outcome.message)) } else { None };
    for evt in ["postsync", "cleanup"] {
        let f = fire_blocking(&j.hook_state, &j.rel, evt, if evt == "postsync" { err_text.as_deref() } else { None }, "sync");
        log.push_str(&f.log);
        if let Some(e) = f.error {
            if failed(&outcome) {
                log.push_str(&format!("warn: {e}\n\n"));
            } else {
                outcome.result = run::Status::Failed;
                outcome.message = e;
                outcome.hook_failures += 1;
            }
        }
    }
    (log, outcome)
}

/// helmfile's newReleaseFailedError text.
fn failed_processing(name: &str, err: &str) -> String {
    format!("failed processing release {name}: {err}")
}

/// The helm part of one release's sync.
async fn sync_release(j: &SyncJob) -> (String, run::Outcome) {
    let mut log = String::new();
    if j.desired {
        log.push_str(&format!("Upgrading release={}, chart={}, namespace={}\n", j.name, j.chart_label, j.namespace));
        return match upgrade_release(j).await {
            Ok((rel, installed)) => {
                log.push_str(&helm_summary(&rel, installed));
                log.push_str(&listing(&rel));
                let mut o = run::Outcome::ok(if installed { run::Action::Install } else { run::Action::Upgrade });
                o.chart_version = chart_version(&rel, &j.chart, &j.hook_state.cwd);
                (log, o)
            }
            Err(e) => (log, run::Outcome::failed(run::Action::Upgrade, e)),
        };
    }
    // helmfile looks the release up (`helm list --filter ^NAME$`) before deleting it.
    if !j.listed {
        log.push_str(&format!("Listing releases matching ^{}$\n", j.name));
    }
    let res = async {
        let cfg = j.connect().await?;
        if let Some(rel) = current(&cfg, &j.name).await? {
            if !j.listed {
                let l = listing(&rel);
                log.push_str(l.split_once('\n').map(|(_, row)| row).unwrap_or(""));
            }
        }
        if current(&cfg, &j.name).await?.is_none() {
            return Ok(false);
        }
        let f = fire_blocking(&j.hook_state, &j.rel, "preuninstall", None, "sync");
        log.push_str(&f.log);
        if let Some(e) = f.error {
            return Err(e);
        }
        delete_release(&cfg, &j.name, j.wait.clone(), false).await?;
        log.push_str(&format!("Deleting {}\nrelease \"{}\" uninstalled\n", j.name, j.name));
        let f = fire_blocking(&j.hook_state, &j.rel, "postuninstall", None, "sync");
        log.push_str(&f.log);
        match f.error {
            Some(e) => Err(e),
            None => Ok(true),
        }
    }
    .await;
    match res {
        Ok(false) => (log, run::Outcome::ok(run::Action::Noop)),
        Ok(true) => (log, run::Outcome::ok(run::Action::Delete)),
        Err(e) => (log, run::Outcome::failed(run::Action::Delete, e)),
    }
}

/// Syncs `which` (indices into `ts`) as helmfile's sync does: the releases marked
/// `installed: false` that are present are uninstalled first (dependents first), then the
/// others are upgraded along the `needs` graph with the runner (`run.rs`); each with its hooks.
/// Logs as helmfile, appends its summary tables, then fires `cleanup` for `no_change` (the
/// releases that needed nothing; `command` names the helmfile command for them). `listed`:
/// the caller already printed helmfile's `Listing releases` lines. Returns the first error.
async fn sync_targets(
    ts: &[(Target<'_>, &str)],
    which: &[usize],
    no_change: &[usize],
    command: &str,
    listed: bool,
    o: &DeployOpts,
    out: &mut Outcome,
) -> Option<String> {
    let mut states: BTreeMap<std::path::PathBuf, Arc<State>> = BTreeMap::new();
    let mut hook_state = |st: &State| states.entry(st.full_path.clone()).or_insert_with(|| Arc::new(st.clone())).clone();
    let jobs: Vec<SyncJob> = which
        .iter()
        .map(|&i| {
            let mut j = SyncJob::of(&ts[i].0, ts[i].1, o, hook_state(ts[i].0.st));
            j.listed = listed;
            j
        })
        .collect();
    let prefix = jobs.first().map(|j| j.prefix.clone()).unwrap_or_else(|| ts.first().map(|t| t.1.to_string()).unwrap_or_default());
    let logs: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let mut rep: Option<run::RunReport> = None;
    let (deletes, updates): (Vec<SyncJob>, Vec<SyncJob>) = jobs.into_iter().partition(|j| !j.desired);
    for (group, reverse) in [(deletes, true), (updates, false)] {
        if group.is_empty() {
            continue;
        }
        let ids: std::collections::HashSet<String> = group.iter().map(|j| j.id.clone()).collect();
        let nodes: Vec<run::Node> = group
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
                out.stderr.push_str(&format!("{prefix}{e}\n"));
                out.code = 1;
                return Some(e.to_string());
            }
        };
        let by_id: Arc<BTreeMap<String, SyncJob>> = Arc::new(group.iter().map(|j| (j.id.clone(), j.clone())).collect());
        let opts = run::RunOptions::new(o.template.concurrency, reverse, false);
        let (jobs_c, logs_c) = (by_id.clone(), logs.clone());
        // Live progress only on a terminal (and not in CI); the printed output stays helmfile's.
        let mut progress = crate::report::Progress::auto(plan.nodes().len());
        let r = run::run(
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
        match &mut rep {
            None => rep = Some(r),
            Some(all) => {
                all.releases.extend(r.releases);
                all.duration += r.duration;
            }
        }
    }
    let rep = rep.unwrap_or_else(|| run::RunReport {
        command: "sync".into(),
        started_at: std::time::SystemTime::now(),
        duration: Duration::ZERO,
        releases: Vec::new(),
    });
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
    if o.report.wants_table() {
        out.stderr.push_str(&crate::report::summary(&rep, !o.no_color));
    }
    for &i in no_change {
        commands::cleanup_warn(out, ts[i].0.st, &ts[i].0.rel, command);
    }
    let errs: Vec<String> = rep
        .releases
        .iter()
        .filter(|r| r.outcome.result == run::Status::Failed)
        .map(|r| failed_processing(&r.node.name, &r.outcome.message))
        .collect();
    if errs.is_empty() {
        return None;
    }
    // helmfile reports the first failed release only.
    out.stderr.push_str(&format!("{prefix}{}\n", errs[0]));
    out.code = 1;
    errs.into_iter().next()
}

/// Runs `f` over the plan of the tree (nested states first), with the runtime, inside
/// helmfile's WithPreparedCharts for `command`: each state's `prepare` hooks and its desired
/// releases' (in plan order, reversed for destroy), the dependency builds, then `f`, then the
/// states' `cleanup` hooks with `f`'s first error.
fn with_plan(
    root: &State,
    all: Option<&State>,
    o: &DeployOpts,
    command: &str,
    f: impl for<'a> FnOnce(&'a [(Target<'a>, &'a str)], &'a tokio::runtime::Runtime, &'a mut Outcome) -> Option<String>,
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
        let mut rels = p.releases.clone();
        if command == "destroy" {
            rels.reverse();
        }
        if !commands::prepare_hooks(&mut out, p.st, Some(&rels), command, &p.prefix) {
            return out;
        }
        if let Err(e) = commands::build_deps(p.st, &rels, &o.template, &mut out) {
            commands::fail_with(&mut out, &p.prefix, &[format!("[{e}]")]);
            return out;
        }
    }
    let ts = targets(&plans, o);
    let first = f(&ts, &rt, &mut out);
    for p in &plans {
        if !commands::global_cleanup(&mut out, p.st, command, first.as_deref(), &p.prefix) {
            break;
        }
    }
    out
}

/// The indices of `ts` in the order the releases are written in their state files.
fn file_order(ts: &[(Target<'_>, &str)]) -> Vec<usize> {
    let pos = |t: &Target<'_>| {
        let id = crate::dag::release_id(&t.rel);
        t.st.releases().iter().position(|r| crate::dag::release_id(r) == id).unwrap_or(usize::MAX)
    };
    let mut idx: Vec<usize> = (0..ts.len()).collect();
    idx.sort_by_key(|&i| (ts[i].0.st.full_path.clone(), pos(&ts[i].0)));
    idx
}

/// Whether the release is installed (helmfile's `helm list --filter ^NAME$`), logging the
/// lookup and the row found as helmfile does.
async fn list_release(t: &Target<'_>, o: &DeployOpts, out: &mut Outcome) -> bool {
    out.stderr.push_str(&format!("Listing releases matching ^{}$\n", t.name));
    if let Ok(cfg) = t.connect(o).await {
        if let Ok(Some(rel)) = current(&cfg, &t.name).await {
            let l = listing(&rel);
            out.stderr.push_str(l.split_once('\n').map(|(_, row)| row).unwrap_or(""));
            return true;
        }
    }
    false
}

/// `helmfile sync`: every selected release installed or upgraded in `needs` order; releases
/// marked `installed: false` are uninstalled first when present.
pub fn sync(root: &State, all: Option<&State>, o: &DeployOpts) -> Outcome {
    with_plan(root, all, o, "sync", |ts, rt, out| {
        rt.block_on(async {
            let (mut which, mut no_change) = (Vec::new(), Vec::new());
            for (i, (t, _)) in ts.iter().enumerate() {
                if commands::is_desired(&t.rel) || list_release(t, o, out).await {
                    which.push(i);
                } else {
                    no_change.push(i);
                }
            }
            sync_targets(ts, &which, &no_change, "sync", true, o, out).await
        })
    })
}

/// Diffs every target; returns the indices that change (`Err` after an error, logged).
/// `cleanup`: fire each diffed release's `cleanup` hooks (`helmfile diff`; apply does not).
/// What previewing one target found.
enum Preview {
    /// Not desired (`installed: false`); whether it is installed now.
    Unwanted(bool),
    /// Not installed, and `--skip-diff-on-install`: synced without a diff.
    InstallUndiffed,
    /// The diff (text, whether anything changes), or why it failed.
    Diffed(Result<(String, bool), String>),
}

async fn preview(t: &Target<'_>, o: &DeployOpts) -> Preview {
    let cfg = t.connect(o).await.ok();
    let present = match &cfg {
        Some(cfg) => current(cfg, &t.name).await.ok().flatten().is_some(),
        None => false,
    };
    if !commands::is_desired(&t.rel) {
        return Preview::Unwanted(present);
    }
    if !present && o.skip_diff_on_install {
        return Preview::InstallUndiffed;
    }
    Preview::Diffed(diff_release(t, o, cfg).await)
}

/// Previews every target against its cluster, `--concurrency` at a time (0: all at once; the
/// server-side dry runs are independent reads), then reports them in plan order as the
/// one-by-one loop would: the first failure ends the report. Returns the indexes that change.
async fn diff_targets(ts: &[(Target<'_>, &str)], o: &DeployOpts, out: &mut Outcome, cleanup: bool) -> Result<Vec<usize>, String> {
    use futures::StreamExt;
    let limit = if o.template.concurrency == 0 { ts.len().max(1) } else { o.template.concurrency };
    let previews: Vec<Preview> = futures::stream::iter(ts.iter().map(|(t, _)| preview(t, o))).buffered(limit).collect().await;
    let mut changed = Vec::new();
    for (i, ((t, prefix), p)) in ts.iter().zip(previews).enumerate() {
        let res = match p {
            Preview::Unwanted(present) => {
                if present {
                    changed.push(i);
                }
                continue;
            }
            Preview::InstallUndiffed => {
                changed.push(i);
                continue;
            }
            Preview::Diffed(res) => res,
        };
        // helmfile writes each release's `Comparing` line and diff (plus a newline) into one
        // buffer printed to stdout in plan order; with --suppress-diff the line is a log line.
        let comparing = format!("Comparing release={}, chart={}, namespace={}\n", t.name, t.chart_label, t.ns());
        if o.suppress_diff {
            out.stderr.push_str(&comparing);
        } else {
            out.stdout.push_str(&comparing);
        }
        if cleanup {
            commands::cleanup_warn(out, t.st, &t.rel, "diff");
        }
        match res {
            Ok((text, has)) => {
                if !o.suppress_diff && !text.is_empty() {
                    out.stdout.push_str(&text);
                    out.stdout.push('\n');
                }
                if has {
                    changed.push(i);
                }
            }
            Err(e) => {
                out.stderr.push_str(&format!("{prefix}release \"{}\" failed: {e}\n", t.name));
                out.code = 1;
                return Err(e);
            }
        }
    }
    Ok(changed)
}

/// `helmfile diff`: each release previewed against the cluster.
pub fn diff(root: &State, all: Option<&State>, o: &DeployOpts) -> Outcome {
    with_plan(root, all, o, "diff", |ts, rt, out| match rt.block_on(diff_targets(ts, o, out, true)) {
        Ok(changed) => {
            if !changed.is_empty() && o.detailed_exitcode {
                out.code = 2;
            }
            None
        }
        Err(e) => Some(e),
    })
}

/// `helmfile apply`: diff, then sync only what changes.
pub fn apply(root: &State, all: Option<&State>, o: &DeployOpts) -> Outcome {
    with_plan(root, all, o, "apply", |ts, rt, out| {
        let changed = match rt.block_on(diff_targets(ts, o, out, false)) {
            Ok(c) => c,
            Err(e) => return Some(e),
        };
        let unchanged: Vec<usize> = (0..ts.len()).filter(|i| !changed.contains(i)).collect();
        if changed.is_empty() {
            for &i in &unchanged {
                commands::cleanup_warn(out, ts[i].0.st, &ts[i].0.rel, "apply");
            }
            return None;
        }
        // helmfile's preapply hooks: every release to change, dependents first.
        for &i in changed.iter().rev() {
            let (t, prefix) = &ts[i];
            if let Some(e) = commands::fire(out, t.st, Some(&t.rel), "preapply", None, "apply") {
                out.stderr.push_str(&format!("{prefix}{e}\n"));
                out.code = 1;
                return Some(e);
            }
        }
        let first = rt.block_on(sync_targets(ts, &changed, &unchanged, "apply", false, o, out));
        if out.code == 0 && o.detailed_exitcode {
            out.code = 2;
        }
        first
    })
}

/// `helmfile destroy`: every selected release uninstalled, in reverse `needs` order (helmfile
/// v1.8.0 has no `delete` command any more; it is cobra's unknown command, as there).
pub fn destroy(root: &State, all: Option<&State>, o: &DeployOpts) -> Outcome {
    with_plan(root, all, o, "destroy", |ts, rt, out| {
        rt.block_on(async {
            // helmfile lists each release (`helm list --filter ^NAME$`), last in the file
            // first, before deleting.
            let mut present = Vec::new();
            for i in file_order(ts).into_iter().rev() {
                if list_release(&ts[i].0, o, out).await {
                    present.push(i);
                }
            }
            present.sort();
            // Releases with nothing to delete get their `cleanup` now.
            for (i, (t, _)) in ts.iter().enumerate() {
                if !present.contains(&i) {
                    commands::cleanup_warn(out, t.st, &t.rel, "delete");
                }
            }
            if present.is_empty() {
                return None;
            }
            let mut deleted = Vec::new();
            for &i in present.iter().rev() {
                let (t, prefix) = &ts[i];
                let started = Instant::now();
                let res = async {
                    if let Some(e) = commands::fire(out, t.st, Some(&t.rel), "preuninstall", None, "delete") {
                        return Err(e);
                    }
                    out.stderr.push_str(&format!("Deleting {}\n", t.name));
                    let cfg = t.connect(o).await?;
                    delete_release(&cfg, &t.name, t.wait(o).0, false).await?;
                    out.stderr.push_str(&format!("release \"{}\" uninstalled\n", t.name));
                    match commands::fire(out, t.st, Some(&t.rel), "postuninstall", None, "delete") {
                        Some(e) => Err(e),
                        None => Ok(()),
                    }
                }
                .await;
                match res {
                    Ok(_) => {
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
                        let e = format!("release \"{}\" failed: {e}", t.name);
                        out.stderr.push_str(&format!("{prefix}{e}\n"));
                        out.code = 1;
                        return Some(e);
                    }
                }
            }
            out.stderr.push_str(&affected(&[], &deleted, &[], !o.no_color));
            None
        })
    })
}

/// `helmfile status`: `helm status` of each selected installed release.
pub fn status(root: &State, all: Option<&State>, o: &DeployOpts) -> Outcome {
    with_plan(root, all, o, "status", |ts, rt, out| {
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
                        let e = format!("release \"{}\" failed: {e}", t.name);
                        out.stderr.push_str(&format!("{prefix}{e}\n"));
                        out.code = 1;
                        return Some(e);
                    }
                }
            }
            None
        })
    })
}

/// Options of `helmfile test`.
#[derive(Clone, Debug, Default)]
pub struct TestCmdOpts {
    /// `--timeout` seconds (None: the release's or helmDefaults' timeout, else helm's 300).
    pub timeout: Option<u64>,
    /// `--logs`.
    pub logs: bool,
}

/// `helmfile test`: `helm test` of each selected release to be installed (helmfile's
/// TestReleases), helm's status block logged, a failure as `release "NAME" failed: ...`.
pub fn test(root: &State, all: Option<&State>, o: &DeployOpts, t: &TestCmdOpts) -> Outcome {
    with_plan(root, all, o, "test", |ts, rt, out| {
        rt.block_on(async {
            let mut errs = Vec::new();
            for (target, prefix) in ts.iter().filter(|(t, _)| commands::is_desired(&t.rel)) {
                out.stderr.push_str(&format!("Testing {}\n", target.name));
                let secs = t.timeout.map(|s| s as i64).unwrap_or_else(|| {
                    int_of(&get(&target.rel, "timeout")).or_else(|| int_of(&commands::helm_default(target.st, "timeout"))).unwrap_or(300)
                });
                let mut args = vec!["test".to_string(), target.name.clone()];
                if !target.namespace.is_empty() {
                    args.extend(["--namespace".to_string(), target.namespace.clone()]);
                }
                if t.logs {
                    args.push("--logs".into());
                }
                args.extend(["--timeout".to_string(), format!("{secs}s")]);
                let opts = action::TestOptions { timeout: Duration::from_secs(secs.max(0) as u64), ..Default::default() };
                let res = async {
                    let cfg = target.connect(o).await.map_err(|e| (String::new(), e))?;
                    let run = action::run_tests(&cfg, &target.name, &opts).await;
                    let Some(rel) = run.release.clone() else {
                        return Err((String::new(), run.error.unwrap_or_default()));
                    };
                    let mut stdout = helm_status(&rel);
                    let mut error = run.error.clone();
                    if t.logs {
                        stdout.push('\n');
                        let (logs, lerrs) = action::test::pod_logs(&cfg.kube.client, &rel, &opts).await;
                        stdout.push_str(&logs);
                        if !lerrs.is_empty() {
                            let mut e: Vec<String> = error.take().into_iter().collect();
                            e.extend(lerrs);
                            error = Some(e.join("\n"));
                        }
                    }
                    let cleaned = action::test::cleanup(&cfg, &run, opts.timeout).await;
                    match (error, cleaned) {
                        (Some(m), _) | (None, Err(m)) => Err((stdout, m)),
                        (None, Ok(())) => Ok(stdout),
                    }
                }
                .await;
                match res {
                    Ok(stdout) => out.stderr.push_str(&stdout),
                    Err((stdout, e)) => {
                        out.stderr.push_str(&stdout);
                        let stderr = format!("Error: {e}\n");
                        let msg = crate::render::exit_error_with("helm", &args, &stderr, &format!("{stderr}{stdout}"));
                        errs.push((prefix.to_string(), format!("release \"{}\" failed: {msg}", target.name)));
                    }
                }
            }
            let first = errs.first().map(|e| e.1.clone());
            if let Some((prefix, _)) = errs.first() {
                let texts: Vec<String> = errs.iter().map(|e| e.1.clone()).collect();
                commands::fail_with(out, prefix, &texts);
            }
            first
        })
    })
}

/// helm's status block after `helm test` (the release and its test hooks' last runs).
fn helm_status(rel: &Release) -> String {
    let block = helm_summary(rel, false);
    block.split_once('\n').map(|(_, rest)| rest.to_string()).unwrap_or_default()
}
