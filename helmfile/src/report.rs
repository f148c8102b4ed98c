//! The deploy report of `helmfile apply/sync/destroy`: live progress lines, the final table,
//! `--report-json`, `--report-prometheus` and a Pushgateway push.
//!
//! The SLIs of a deploy run (issue 7): did the run succeed, how long each release took, which
//! releases failed or ended partially, how many hooks failed, how many rollbacks happened.
//!
//! # JSON schema (`--report-json FILE`), `"schema": "rudder.helmfile.report/v1"`
//! ```text
//! {
//!   "schema": "rudder.helmfile.report/v1",
//!   "command": "apply",                 // the helmfile command that ran
//!   "success": true,                    // every release ended "ok"
//!   "startedAt": "2026-12-01T22:40:00.123Z",  // UTC, RFC 3339, milliseconds
//!   "durationSeconds": 12.5,
//!   "totals": { "releases": 3, "ok": 2, "failed": 1, "skipped": 0, "partial": 1,
//!               "hookFailures": 1, "rollbacks": 1 },
//!   "clusters": [ { "cluster": "kind-a", "success": false, "releases": 3, "ok": 2,
//!                   "failed": 1, "skipped": 0 } ],          // plan order of first release
//!   "releases": [ {                                          // plan order
//!       "id": "kind-a/web/frontend", "name": "frontend", "namespace": "web",
//!       "cluster": "kind-a", "needs": ["kind-a/web/backend"],
//!       "action": "install|upgrade|noop|delete|rollback|none",
//!       "result": "ok|failed|skipped", "partial": false,
//!       "durationSeconds": 1.25, "hookFailures": 0, "rolledBack": false,
//!       "message": "" } ]
//! }
//! ```
//! A release is *partial* when it reached the cluster but did not end cleanly: it ended ok
//! with failed hooks, or it failed and was rolled back.
//!
//! # Prometheus (`--report-prometheus FILE`, Pushgateway)
//! Text exposition format 0.0.4, all gauges; per-release series carry the labels `release`,
//! `namespace`, `cluster` (the kubeContext, "" for the current one):
//! `rudder_helmfile_run_success{command}`, `rudder_helmfile_run_duration_seconds{command}`,
//! `rudder_helmfile_run_timestamp_seconds{command}`, `rudder_helmfile_releases{command,result}`,
//! `rudder_helmfile_failed_releases`, `rudder_helmfile_partial_releases`,
//! `rudder_helmfile_hook_failures`, `rudder_helmfile_rollbacks` (run totals, label `command`),
//! and per release `rudder_helmfile_release_duration_seconds{...,action}`,
//! `rudder_helmfile_release_success`, `rudder_helmfile_release_failed`,
//! `rudder_helmfile_release_skipped`, `rudder_helmfile_release_partial`,
//! `rudder_helmfile_release_hook_failures`, `rudder_helmfile_release_rollbacks`.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::run::{Event, Outcome, ReleaseRun, RunReport, Status};

/// Errors writing or pushing a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("writing report {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("pushing metrics to {url}: {message}")]
    Push { url: String, message: String },
}

/// A release is partial when it reached the cluster without ending cleanly.
pub fn is_partial(o: &Outcome) -> bool {
    (o.result == Status::Ok && o.hook_failures > 0) || (o.result == Status::Failed && o.rolled_back)
}

// ---------------------------------------------------------------------------------------------
// Live progress

/// Live per-release progress lines on stderr. Quiet unless stderr is a terminal and the run is
/// not in CI (`CI` set to anything but "" or "false"), so logs and pipes only get the summary.
pub struct Progress {
    enabled: bool,
    total: usize,
    done: usize,
    out: Box<dyn Write + Send>,
}

impl Progress {
    /// Enabled on a terminal outside CI.
    pub fn auto(total: usize) -> Progress {
        let ci = std::env::var("CI").map(|v| !v.is_empty() && v != "false").unwrap_or(false);
        Progress::to(total, std::io::stderr().is_terminal() && !ci, Box::new(std::io::stderr()))
    }

    /// Progress written to `out` when `enabled` (tests, or a forced `--progress`).
    pub fn to(total: usize, enabled: bool, out: Box<dyn Write + Send>) -> Progress {
        Progress { enabled, total, done: 0, out }
    }

    /// The line for one event (None for events that print nothing), also when disabled.
    pub fn line(&mut self, ev: &Event<'_>) -> String {
        let width = self.total.to_string().len();
        match ev {
            Event::Started { node } => format!("[{:>width$}/{}] {:<8} {}", self.done, self.total, "started", where_(node)),
            Event::Finished { node, outcome } => {
                self.done += 1;
                let mut s = format!("[{:>width$}/{}] {:<8} {}", self.done, self.total, outcome.result.as_str(), where_(node));
                if outcome.result != Status::Skipped {
                    let _ = write!(s, " {} in {}", outcome.action.as_str(), go_duration(outcome.duration));
                }
                if !outcome.message.is_empty() && outcome.result != Status::Ok {
                    let _ = write!(s, ": {}", outcome.message.lines().next().unwrap_or_default());
                }
                s
            }
        }
    }

    /// Prints the event's line when enabled.
    pub fn event(&mut self, ev: &Event<'_>) {
        let l = self.line(ev);
        if self.enabled {
            let _ = writeln!(self.out, "{l}");
            let _ = self.out.flush();
        }
    }
}

fn where_(n: &crate::run::Node) -> String {
    let mut s = if n.namespace.is_empty() { n.name.clone() } else { format!("{}/{}", n.namespace, n.name) };
    if !n.cluster.is_empty() {
        let _ = write!(s, " @{}", n.cluster);
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Summary table

/// Go's time.Duration.String() of `d` rounded to seconds, as helmfile prints DURATION.
pub fn go_duration(d: Duration) -> String {
    let secs = (d.as_millis() + 500) / 1000;
    if secs == 0 {
        return "0s".into();
    }
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

/// A table laid out as helmfile's prettytable (three-space separator, right-aligned DURATION,
/// minimum widths of 6 for the middle columns, no trailing spaces after the last column).
fn pretty_table(headers: &[(&str, bool, usize)], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|(h, _, min)| h.chars().count().max(*min)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let last = headers.len() - 1;
    let mut out = String::new();
    let all = std::iter::once(headers.iter().map(|h| h.0.to_string()).collect::<Vec<_>>()).chain(rows.iter().cloned());
    for r in all {
        for (i, c) in r.iter().enumerate() {
            if i > 0 {
                out.push_str("   ");
            }
            let pad = " ".repeat(widths[i] - c.chars().count());
            if headers[i].1 {
                out.push_str(&pad);
                out.push_str(c);
            } else {
                out.push_str(c);
                if i < last {
                    out.push_str(&pad);
                }
            }
        }
        out.push('\n');
    }
    out
}

/// helmfile's centered section header over a table of `width` columns.
fn header(title: &str, table: &str, color: bool) -> String {
    let width = table.lines().map(|l| l.trim_end_matches(' ').chars().count()).max().unwrap_or(0);
    let content = format!(" {title} ");
    let h = if width <= content.chars().count() {
        format!("========== {title} ==========")
    } else {
        let pad = width - content.chars().count();
        format!("{}{content}{}", "=".repeat(pad / 2), "=".repeat(pad - pad / 2))
    };
    if color {
        format!("\x1b[1m\x1b[34m{h}\x1b[0m")
    } else {
        h
    }
}

/// The final report: a "Deploy Report" table (release, cluster, namespace, action, duration,
/// result) in helmfile's summary style, then one line per cluster and a total line.
pub fn summary(report: &RunReport, color: bool) -> String {
    let rows: Vec<Vec<String>> = report
        .releases
        .iter()
        .map(|r| {
            let mut result = r.outcome.result.as_str().to_string();
            if r.outcome.rolled_back {
                result.push_str(" (rolled back)");
            }
            if r.outcome.hook_failures > 0 {
                let _ = write!(result, " ({} hook failure{})", r.outcome.hook_failures, if r.outcome.hook_failures == 1 { "" } else { "s" });
            }
            vec![
                r.node.name.clone(),
                r.node.cluster.clone(),
                r.node.namespace.clone(),
                r.outcome.action.as_str().to_string(),
                if r.started.is_some() { go_duration(r.outcome.duration) } else { "-".into() },
                result,
            ]
        })
        .collect();
    let table = pretty_table(
        &[("RELEASE", false, 0), ("CLUSTER", false, 6), ("NAMESPACE", false, 6), ("ACTION", false, 6), ("DURATION", true, 0), ("RESULT", false, 0)],
        &rows,
    );
    let mut out = format!("\n{}\n{table}\n", header("Deploy Report", &table, color));
    for c in report.clusters() {
        let t = Totals::of(report.releases.iter().filter(|r| r.node.cluster == c));
        let name = if c.is_empty() { "(current context)".to_string() } else { c.clone() };
        let _ = writeln!(out, "cluster {name}: {}", t.words());
    }
    let t = Totals::of(report.releases.iter());
    let _ = writeln!(
        out,
        "{} in {}: {}",
        if report.success() { "SUCCESS" } else { "FAILED" },
        go_duration(report.duration),
        t.words()
    );
    for e in report.errors() {
        let _ = writeln!(out, "{e}");
    }
    out
}

#[derive(Default)]
struct Totals {
    releases: usize,
    ok: usize,
    failed: usize,
    skipped: usize,
    partial: usize,
    hook_failures: u64,
    rollbacks: usize,
}

impl Totals {
    fn of<'a>(rs: impl Iterator<Item = &'a ReleaseRun>) -> Totals {
        let mut t = Totals::default();
        for r in rs {
            t.releases += 1;
            match r.outcome.result {
                Status::Ok => t.ok += 1,
                Status::Failed => t.failed += 1,
                Status::Skipped => t.skipped += 1,
            }
            t.partial += is_partial(&r.outcome) as usize;
            t.hook_failures += r.outcome.hook_failures as u64;
            t.rollbacks += r.outcome.rolled_back as usize;
        }
        t
    }

    fn words(&self) -> String {
        let mut s = format!("{} ok, {} failed, {} skipped", self.ok, self.failed, self.skipped);
        if self.partial > 0 {
            let _ = write!(s, ", {} partial", self.partial);
        }
        if self.hook_failures > 0 {
            let _ = write!(s, ", {} hook failures", self.hook_failures);
        }
        if self.rollbacks > 0 {
            let _ = write!(s, ", {} rollbacks", self.rollbacks);
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// JSON

/// `2026-12-01T22:40:00.123Z` for `t` (UTC, civil date from days since the epoch).
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + (month <= 2) as i64;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        d.subsec_millis()
    )
}

fn secs(d: Duration) -> serde_json::Value {
    serde_json::json!((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// The report as JSON (schema in the module docs).
pub fn to_json(report: &RunReport) -> serde_json::Value {
    use serde_json::json;
    let t = Totals::of(report.releases.iter());
    let clusters: Vec<_> = report
        .clusters()
        .into_iter()
        .map(|c| {
            let t = Totals::of(report.releases.iter().filter(|r| r.node.cluster == c));
            json!({"cluster": c, "success": t.ok == t.releases, "releases": t.releases, "ok": t.ok, "failed": t.failed, "skipped": t.skipped})
        })
        .collect();
    let releases: Vec<_> = report
        .releases
        .iter()
        .map(|r| {
            json!({
                "id": r.node.id, "name": r.node.name, "namespace": r.node.namespace, "cluster": r.node.cluster,
                "needs": r.node.needs, "action": r.outcome.action.as_str(), "result": r.outcome.result.as_str(),
                "partial": is_partial(&r.outcome), "durationSeconds": secs(r.outcome.duration),
                "hookFailures": r.outcome.hook_failures, "rolledBack": r.outcome.rolled_back, "message": r.outcome.message,
            })
        })
        .collect();
    json!({
        "schema": "rudder.helmfile.report/v1",
        "command": report.command,
        "success": report.success(),
        "startedAt": rfc3339(report.started_at),
        "durationSeconds": secs(report.duration),
        "totals": {"releases": t.releases, "ok": t.ok, "failed": t.failed, "skipped": t.skipped, "partial": t.partial,
                   "hookFailures": t.hook_failures, "rollbacks": t.rollbacks},
        "clusters": clusters,
        "releases": releases,
    })
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, synced, then
/// renamed over the target, so readers (a node exporter's textfile collector) never see half a
/// report.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let err = |source| ReportError::Write { path: path.display().to_string(), source };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let base = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let tmp = dir.join(format!(".{base}.tmp-{}-{nanos}", std::process::id()));
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    Ok(())
}

/// `--report-json FILE`.
pub fn write_json(report: &RunReport, path: &Path) -> Result<(), ReportError> {
    let mut s = serde_json::to_string_pretty(&to_json(report)).unwrap_or_default();
    s.push('\n');
    write_atomic(path, s.as_bytes())
}

// ---------------------------------------------------------------------------------------------
// Prometheus

/// A label value escaped for the text exposition format.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Go's strconv.FormatFloat(v, 'g', -1, 64) for the values used here (integers and seconds).
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

struct Family<'a> {
    out: &'a mut String,
}

impl Family<'_> {
    fn head(&mut self, name: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} gauge");
    }
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], v: f64) {
        let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", esc(v))).collect();
        let _ = writeln!(self.out, "{name}{{{}}} {}", l.join(","), num(v));
    }
}

/// The report in Prometheus text exposition format (metrics in the module docs).
pub fn to_prometheus(report: &RunReport) -> String {
    let mut out = String::new();
    let mut f = Family { out: &mut out };
    let cmd = report.command.as_str();
    let t = Totals::of(report.releases.iter());
    let run_start = report.started_at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
    let run: [(&str, &str, f64); 7] = [
        ("rudder_helmfile_run_success", "1 if every release of the run ended ok, else 0.", report.success() as u8 as f64),
        ("rudder_helmfile_run_duration_seconds", "Wall time of the run.", report.duration.as_secs_f64()),
        ("rudder_helmfile_run_timestamp_seconds", "Unix time the run started.", (run_start * 1000.0).round() / 1000.0),
        ("rudder_helmfile_failed_releases", "Releases that failed in the run.", t.failed as f64),
        ("rudder_helmfile_partial_releases", "Releases that reached the cluster without ending cleanly (ok with failed hooks, or failed and rolled back).", t.partial as f64),
        ("rudder_helmfile_hook_failures", "Hooks that failed in the run.", t.hook_failures as f64),
        ("rudder_helmfile_rollbacks", "Releases rolled back in the run.", t.rollbacks as f64),
    ];
    for (name, help, v) in run {
        f.head(name, help);
        f.sample(name, &[("command", cmd)], v);
    }
    f.head("rudder_helmfile_releases", "Releases of the run by result.");
    for (res, n) in [("ok", t.ok), ("failed", t.failed), ("skipped", t.skipped)] {
        f.sample("rudder_helmfile_releases", &[("command", cmd), ("result", res)], n as f64);
    }
    type Get = fn(&ReleaseRun) -> f64;
    let per: [(&str, &str, Get); 7] = [
        ("rudder_helmfile_release_duration_seconds", "How long the release took.", |r| r.outcome.duration.as_secs_f64()),
        ("rudder_helmfile_release_success", "1 if the release ended ok.", |r| (r.outcome.result == Status::Ok) as u8 as f64),
        ("rudder_helmfile_release_failed", "1 if the release failed.", |r| (r.outcome.result == Status::Failed) as u8 as f64),
        ("rudder_helmfile_release_skipped", "1 if the release was not started.", |r| (r.outcome.result == Status::Skipped) as u8 as f64),
        ("rudder_helmfile_release_partial", "1 if the release reached the cluster without ending cleanly.", |r| is_partial(&r.outcome) as u8 as f64),
        ("rudder_helmfile_release_hook_failures", "Hooks of the release that failed.", |r| r.outcome.hook_failures as f64),
        ("rudder_helmfile_release_rollbacks", "1 if the release was rolled back.", |r| r.outcome.rolled_back as u8 as f64),
    ];
    for (i, (name, help, get)) in per.into_iter().enumerate() {
        f.head(name, help);
        for r in &report.releases {
            let mut labels = vec![("release", r.node.name.as_str()), ("namespace", r.node.namespace.as_str()), ("cluster", r.node.cluster.as_str())];
            if i == 0 {
                labels.push(("action", r.outcome.action.as_str()));
            }
            let v = get(r);
            let v = if i == 0 { (v * 1000.0).round() / 1000.0 } else { v };
            f.sample(name, &labels, v);
        }
    }
    out
}

/// `--report-prometheus FILE` (atomic, for node_exporter's textfile collector).
pub fn write_prometheus(report: &RunReport, path: &Path) -> Result<(), ReportError> {
    write_atomic(path, to_prometheus(report).as_bytes())
}

/// `URL/metrics/job/<job>[/<label>/<value>...]`, values that Pushgateway cannot take in a path
/// segment (empty, or holding `/`) in its `label@base64/<base64url>` form.
pub fn pushgateway_url(base: &str, job: &str, grouping: &[(&str, &str)]) -> String {
    use base64::Engine as _;
    fn seg(label: &str, v: &str) -> String {
        if v.is_empty() || v.contains('/') {
            let b = base64::engine::general_purpose::URL_SAFE.encode(v.as_bytes());
            format!("{label}@base64/{}", if b.is_empty() { "=".to_string() } else { b })
        } else {
            format!("{label}/{}", pct(v))
        }
    }
    fn pct(v: &str) -> String {
        let mut s = String::new();
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                s.push(b as char);
            } else {
                let _ = write!(s, "%{b:02X}");
            }
        }
        s
    }
    let mut u = format!("{}/metrics/{}", base.trim_end_matches('/'), seg("job", job));
    for (k, v) in grouping {
        u.push('/');
        u.push_str(&seg(k, v));
    }
    u
}

/// Pushes the report to a Pushgateway with PUT (replacing the group's metrics, so series of
/// releases removed from the helmfile disappear). Async; [`push_blocking`] outside a runtime.
pub async fn push(report: &RunReport, base: &str, job: &str, grouping: &[(&str, &str)]) -> Result<(), ReportError> {
    let url = pushgateway_url(base, job, grouping);
    let e = |m: String| ReportError::Push { url: url.clone(), message: m };
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().map_err(|x| e(x.to_string()))?;
    let resp = client
        .put(&url)
        .header("Content-Type", "text/plain; version=0.0.4")
        .body(to_prometheus(report))
        .send()
        .await
        .map_err(|x| e(x.to_string()))?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        return Err(e(format!("{status}: {}", body.trim())));
    }
    Ok(())
}

/// [`push`] for callers outside an async context (reqwest's blocking client; it panics when
/// called on a tokio runtime thread, so use `spawn_blocking` or [`push`] there).
pub fn push_blocking(report: &RunReport, base: &str, job: &str, grouping: &[(&str, &str)]) -> Result<(), ReportError> {
    let url = pushgateway_url(base, job, grouping);
    let e = |m: String| ReportError::Push { url: url.clone(), message: m };
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().map_err(|x| e(x.to_string()))?;
    let resp = client
        .put(&url)
        .header("Content-Type", "text/plain; version=0.0.4")
        .body(to_prometheus(report))
        .send()
        .map_err(|x| e(x.to_string()))?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().unwrap_or_default();
        return Err(e(format!("{status}: {}", body.trim())));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Everything at once

/// The report flags of `apply`/`sync`/`destroy`.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    /// `--report-json FILE`.
    pub json: Option<std::path::PathBuf>,
    /// `--report-prometheus FILE`.
    pub prometheus: Option<std::path::PathBuf>,
    /// `--report-pushgateway URL`.
    pub pushgateway: Option<String>,
    /// Pushgateway job name (`--report-job`, default "rudder-helmfile").
    pub job: Option<String>,
    /// Extra Pushgateway grouping labels (e.g. `("environment", "prod")`).
    pub grouping: Vec<(String, String)>,
    /// `--report`: print the deploy report table ([`summary`]) after helmfile's own output. Off
    /// by default so that, invoked as `helmfile`, the output stays helmfile's; on a terminal
    /// outside CI it is printed anyway (see [`ReportOptions::wants_table`]).
    pub table: bool,
}

impl ReportOptions {
    /// Whether the deploy report table is printed: `--report`, or a terminal outside CI.
    pub fn wants_table(&self) -> bool {
        let ci = std::env::var("CI").map(|v| !v.is_empty() && v != "false").unwrap_or(false);
        self.table || (std::io::stderr().is_terminal() && !ci)
    }
}

/// Writes every report `opts` asks for. All are attempted; the first error is returned (a
/// report that cannot be written must not hide the others, nor the run's own result).
pub async fn emit(report: &RunReport, opts: &ReportOptions) -> Result<(), ReportError> {
    let mut first: Option<ReportError> = None;
    if let Some(p) = &opts.json {
        if let Err(e) = write_json(report, p) {
            first.get_or_insert(e);
        }
    }
    if let Some(p) = &opts.prometheus {
        if let Err(e) = write_prometheus(report, p) {
            first.get_or_insert(e);
        }
    }
    if let Some(url) = &opts.pushgateway {
        let job = opts.job.as_deref().unwrap_or("rudder-helmfile");
        let g: Vec<(&str, &str)> = opts.grouping.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        if let Err(e) = push(report, url, job, &g).await {
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}

// ---------------------------------------------------------------------------------------------
// helmfile's own summary

/// helmfile's hideChartCredentials: the user info of a chart URL shown as `---:---`.
fn hide_chart_credentials(chart: &str) -> String {
    let Some((scheme, rest)) = chart.split_once("://") else { return chart.to_string() };
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..auth_end].rfind('@') {
        Some(at) => format!("{scheme}://---:---@{}", &rest[at + 1..]),
        None => chart.to_string(),
    }
}

/// What helmfile v1.8.0 prints after `sync`/`apply`/`destroy` (DisplayAffectedReleases):
/// "Updated Releases" (installed or upgraded), "Deleted Releases", "Failed Releases" and
/// "Failed to Delete Releases" sections, each a centered `=` header over a prettytable, in
/// the order the releases appear in `report`. Noop and skipped releases are not listed; an
/// empty string when nothing was affected. `color` is helmfile's bold blue headers (on unless
/// `--no-color`).
pub fn affected_releases(report: &RunReport, color: bool) -> String {
    use crate::run::Action;
    let long = [("NAME", false, 0), ("NAMESPACE", false, 6), ("CHART", false, 6), ("VERSION", false, 6), ("DURATION", true, 0)];
    let short = [("NAME", false, 0), ("NAMESPACE", false, 6), ("DURATION", true, 0)];
    let pick = |f: &dyn Fn(&ReleaseRun) -> bool| report.releases.iter().filter(|r| f(r)).collect::<Vec<_>>();
    // A release whose helm part succeeded but whose helmfile hook failed afterwards is still
    // "updated" there; one that failed before helm ran (action none) is in no table.
    let hook_only = |r: &ReleaseRun| r.outcome.result == Status::Failed && r.outcome.hook_failures > 0;
    let updated = pick(&|r| (r.outcome.result == Status::Ok || hook_only(r)) && matches!(r.outcome.action, Action::Install | Action::Upgrade));
    let deleted = pick(&|r| r.outcome.result == Status::Ok && r.outcome.action == Action::Delete);
    let failed = pick(&|r| r.outcome.result == Status::Failed && !hook_only(r) && !matches!(r.outcome.action, Action::Delete | Action::None));
    let delete_failed = pick(&|r| r.outcome.result == Status::Failed && r.outcome.action == Action::Delete);
    let mut out = String::new();
    let mut section = |title: &str, cols: &[(&str, bool, usize)], rows: Vec<Vec<String>>| {
        if rows.is_empty() {
            return;
        }
        let table = pretty_table(cols, &rows);
        let _ = write!(out, "\n{}\n{table}\n", header(title, &table, color));
    };
    let long_row = |r: &&ReleaseRun, hide: bool| {
        vec![
            r.node.name.clone(),
            r.node.namespace.clone(),
            if hide { hide_chart_credentials(&r.node.chart) } else { r.node.chart.clone() },
            r.outcome.chart_version.clone(),
            go_duration(r.outcome.duration),
        ]
    };
    let short_row = |r: &&ReleaseRun| vec![r.node.name.clone(), r.node.namespace.clone(), go_duration(r.outcome.duration)];
    section("Updated Releases", &long, updated.iter().map(|r| long_row(r, true)).collect());
    section("Deleted Releases", &short, deleted.iter().map(short_row).collect());
    section("Failed Releases", &long, failed.iter().map(|r| long_row(r, false)).collect());
    section("Failed to Delete Releases", &short, delete_failed.iter().map(short_row).collect());
    out
}
