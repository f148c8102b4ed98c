//! The needs-DAG executor (`run`) and the deploy report (`report`): scheduling measured with
//! real timestamps, failure propagation, per-cluster isolation, destroy order, plan errors
//! against the real helmfile's texts, the JSON/Prometheus outputs read back, and a push to a
//! real Pushgateway (Debian's `prometheus-pushgateway`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rudder_helmfile::report;
use rudder_helmfile::run::{self, Action, Event, FailureScope, Node, Outcome, Plan, PlanError, RunOptions, RunReport, Status};

/// One executor call: id, start and end (from the test's t0).
type Log = Arc<Mutex<Vec<(String, Duration, Duration)>>>;

fn node(name: &str, cluster: &str, needs: &[&str]) -> Node {
    Node::new(name, "ns", cluster, needs.iter().map(|s| s.to_string()).collect())
}

/// An executor that sleeps `ms[name]` (default 80ms), fails the names in `fail`, and records
/// when each call ran.
fn recorder(
    t0: Instant,
    log: Log,
    ms: BTreeMap<&'static str, u64>,
    fail: &'static [&'static str],
) -> impl Fn(Node) -> std::pin::Pin<Box<dyn std::future::Future<Output = Outcome> + Send>> + Send + Sync + 'static {
    move |n: Node| {
        let log = log.clone();
        let d = ms.get(n.name.as_str()).copied().unwrap_or(80);
        Box::pin(async move {
            let s = t0.elapsed();
            tokio::time::sleep(Duration::from_millis(d)).await;
            let e = t0.elapsed();
            log.lock().unwrap().push((n.id.clone(), s, e));
            if fail.contains(&n.name.as_str()) {
                Outcome::failed(Action::Upgrade, format!("{} exploded", n.name))
            } else {
                Outcome::ok(Action::Install)
            }
        })
    }
}

async fn go(plan: &Plan, opts: RunOptions, ms: BTreeMap<&'static str, u64>, fail: &'static [&'static str]) -> (RunReport, Vec<(String, Duration, Duration)>, Vec<String>) {
    let t0 = Instant::now();
    let log: Log = Arc::default();
    let mut events = Vec::new();
    let mut on = |e: Event<'_>| {
        events.push(match e {
            Event::Started { node } => format!("start {}", node.id),
            Event::Finished { node, outcome } => format!("{} {}", outcome.result.as_str(), node.id),
        })
    };
    let rep = run::run(plan, &opts, "sync", recorder(t0, log.clone(), ms, fail), &mut on).await;
    let l = log.lock().unwrap().clone();
    (rep, l, events)
}

fn span<'a>(log: &'a [(String, Duration, Duration)], id: &str) -> &'a (String, Duration, Duration) {
    log.iter().find(|(i, _, _)| i == id).unwrap_or_else(|| panic!("{id} did not run: {log:?}"))
}

/// Most calls running at one instant.
fn max_overlap(log: &[(String, Duration, Duration)]) -> usize {
    log.iter().map(|(_, s, _)| log.iter().filter(|(_, s2, e2)| s2 <= s && s < e2).count()).max().unwrap_or(0)
}

fn diamond() -> Plan {
    Plan::new(vec![
        node("a", "", &[]),
        node("b", "", &[]),
        node("c", "", &["ns/a"]),
        node("d", "", &["ns/a", "ns/b"]),
        node("e", "", &["ns/c", "ns/d"]),
        node("f", "", &[]),
    ])
    .unwrap()
}

fn assert_needs_respected(plan: &Plan, log: &[(String, Duration, Duration)], reverse: bool) {
    for n in plan.nodes() {
        for d in &n.needs {
            let (first, then) = if reverse { (&n.id, d) } else { (d, &n.id) };
            let a = span(log, first);
            let b = span(log, then);
            assert!(a.2 <= b.1, "{then} started at {:?} before {first} ended at {:?}", b.1, a.2);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_limit_is_respected_and_needs_come_first() {
    let plan = diamond();
    for limit in [1usize, 2, 3] {
        let (rep, log, _) = go(&plan, RunOptions::new(limit, false, false), BTreeMap::new(), &[]).await;
        assert!(rep.success(), "{rep:?}");
        assert_eq!(log.len(), 6);
        assert_needs_respected(&plan, &log, false);
        let m = max_overlap(&log);
        assert!(m <= limit, "limit {limit}: {m} ran at once: {log:?}");
        assert_eq!(m, limit, "limit {limit} was never used fully: {log:?}");
        // With one worker, calls never overlap and run in plan order among the ready ones.
        if limit == 1 {
            let mut l = log.clone();
            l.sort_by_key(|x| x.1);
            let order: Vec<String> = l.into_iter().map(|x| x.0).collect();
            assert_eq!(order, ["ns/a", "ns/b", "ns/c", "ns/d", "ns/e", "ns/f"]);
        }
    }
    // 0 = one worker per release: a, b and f (no needs) all start together.
    let (rep, log, _) = go(&plan, RunOptions::new(0, false, false), BTreeMap::new(), &[]).await;
    assert!(rep.success());
    assert_eq!(max_overlap(&log), 3, "{log:?}");
    let first_end = ["ns/a", "ns/b", "ns/f"].iter().map(|i| span(&log, i).2).min().unwrap();
    assert!(["ns/a", "ns/b", "ns/f"].iter().all(|i| span(&log, i).1 < first_end), "{log:?}");
    // Durations are the executor's wall time.
    for r in &rep.releases {
        assert!(r.outcome.duration >= Duration::from_millis(80), "{r:?}");
        assert!(r.started.is_some() && r.finished.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_starts_as_soon_as_its_needs_are_done() {
    // helmfile runs depth groups one after another; here `quick2` does not wait for `slow`.
    let plan = Plan::new(vec![node("quick", "", &[]), node("slow", "", &[]), node("quick2", "", &["ns/quick"])]).unwrap();
    let ms = BTreeMap::from([("quick", 30), ("slow", 600), ("quick2", 30)]);
    let (rep, log, _) = go(&plan, RunOptions::new(0, false, false), ms, &[]).await;
    assert!(rep.success());
    let q2 = span(&log, "ns/quick2");
    let slow = span(&log, "ns/slow");
    assert!(q2.2 < slow.2, "quick2 {q2:?} waited for slow {slow:?}");
    assert!(rep.duration < Duration::from_millis(1200), "{:?}", rep.duration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_skips_dependents_transitively() {
    let plan = diamond();
    let mut opts = RunOptions::new(0, false, false);
    opts.failure_scope = FailureScope::Dependents;
    let ms = BTreeMap::from([("b", 20), ("f", 300)]);
    let (rep, log, events) = go(&plan, opts, ms, &["b"]).await;
    assert!(!rep.success());
    let by: BTreeMap<&str, &Outcome> = rep.releases.iter().map(|r| (r.node.name.as_str(), &r.outcome)).collect();
    assert_eq!(by["b"].result, Status::Failed);
    assert_eq!(by["b"].message, "b exploded");
    assert_eq!(by["d"].result, Status::Skipped);
    assert_eq!(by["d"].message, "needs ns/b which failed");
    assert_eq!(by["e"].result, Status::Skipped);
    assert_eq!(by["e"].message, "needs ns/d which was skipped");
    // Independent releases (and c, whose needs succeeded) still ran.
    for ok in ["a", "c", "f"] {
        assert_eq!(by[ok].result, Status::Ok, "{ok}");
    }
    assert!(log.iter().all(|(i, _, _)| i != "ns/d" && i != "ns/e"), "{log:?}");
    assert_eq!(rep.errors(), vec!["release \"b\" failed: b exploded".to_string()]);
    assert!(events.contains(&"skipped ns/e".to_string()), "{events:?}");
    assert_eq!(events.iter().filter(|e| e.starts_with("start ")).count(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_cluster_does_not_stop_the_others() {
    // Cluster A: a1 fails fast; a2 (independent, a1's level) starts after it; a3 needs a2 (the
    // next level); cluster B: a chain.
    let plan = Plan::new(vec![
        node("a1", "A", &[]),
        node("b1", "B", &[]),
        node("b2", "B", &["B/ns/b1"]),
        node("b3", "B", &["B/ns/b2"]),
        node("a2", "A", &[]),
        node("a3", "A", &["A/ns/a2"]),
    ])
    .unwrap();
    let ms = BTreeMap::from([("a1", 10), ("b1", 60), ("b2", 60), ("b3", 60)]);
    // Two workers: a1 and b1 start. As helmfile finishes the group of a failed release, a2 (same
    // level) still runs after a1 failed; a3 (a later level) does not start in cluster A.
    let (rep, _log, _) = go(&plan, RunOptions::new(2, false, false), ms.clone(), &["a1"]).await;
    let by: BTreeMap<&str, &Outcome> = rep.releases.iter().map(|r| (r.node.name.as_str(), &r.outcome)).collect();
    assert_eq!(by["a1"].result, Status::Failed);
    assert_eq!(by["a2"].result, Status::Ok, "{:?}", by["a2"]);
    assert_eq!(by["a3"].result, Status::Skipped);
    assert_eq!(by["a3"].message, "not started: A/ns/a1 failed");
    for b in ["b1", "b2", "b3"] {
        assert_eq!(by[b].result, Status::Ok, "{b}: {:?}", by[b]);
    }
    let s = report::summary(&rep, false);
    assert!(s.contains("cluster A: 1 ok, 1 failed, 1 skipped\n"), "{s}");
    assert!(s.contains("cluster B: 3 ok, 0 failed, 0 skipped\n"), "{s}");

    // fail_fast: nothing starts anywhere after a1 failed; b1 (running) finishes.
    let (rep, log, _) = go(&plan, RunOptions::new(2, false, true), ms, &["a1"]).await;
    let by: BTreeMap<&str, &Outcome> = rep.releases.iter().map(|r| (r.node.name.as_str(), &r.outcome)).collect();
    assert_eq!(by["b1"].result, Status::Ok);
    assert_eq!(by["b2"].result, Status::Skipped);
    assert_eq!(by["b2"].message, "not started: A/ns/a1 failed");
    assert_eq!(by["b3"].result, Status::Skipped);
    assert_eq!(by["a2"].result, Status::Skipped);
    assert_eq!(log.len(), 2, "{log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_runs_dependents_first() {
    let plan = diamond();
    let (rep, log, _) = go(&plan, RunOptions::new(2, true, false), BTreeMap::new(), &[]).await;
    assert!(rep.success());
    assert_eq!(log.len(), 6);
    assert_needs_respected(&plan, &log, true);
    assert!(max_overlap(&log) <= 2);
    // e goes before c and d, which go before a; b after d.
    let start = |i: &str| span(&log, i).1;
    assert!(start("ns/e") < start("ns/c") && start("ns/e") < start("ns/d"));
    // A failed delete keeps what it needs in place.
    let mut opts = RunOptions::new(0, true, false);
    opts.failure_scope = FailureScope::Dependents;
    let (rep, _, _) = go(&plan, opts, BTreeMap::new(), &["e"]).await;
    let by: BTreeMap<&str, &Outcome> = rep.releases.iter().map(|r| (r.node.name.as_str(), &r.outcome)).collect();
    assert_eq!(by["c"].message, "needed by ns/e which failed");
    assert_eq!(by["a"].result, Status::Skipped);
    assert_eq!(by["f"].result, Status::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_executor_is_a_failed_release() {
    let plan = Plan::new(vec![node("x", "", &[]), node("y", "", &["ns/x"])]).unwrap();
    let mut on = |_e: Event<'_>| {};
    let rep = run::run(
        &plan,
        &RunOptions::new(0, false, false),
        "sync",
        |n: Node| async move {
            if n.name == "x" {
                panic!("boom");
            }
            Outcome::ok(Action::Install)
        },
        &mut on,
    )
    .await;
    assert_eq!(rep.releases[0].outcome.result, Status::Failed);
    assert!(rep.releases[0].outcome.message.contains("panic"), "{:?}", rep.releases[0].outcome);
    assert_eq!(rep.releases[1].outcome.message, "needs ns/x which failed");
}

/// The real helmfile's error for a state (`show-dag`), without its `in ./helmfile.yaml: ` prefix.
fn real_helmfile_error(yaml: &str) -> String {
    let dir = std::env::temp_dir().join(rudder_conformance::testbed::unique_name("hfrun-dag"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("helmfile.yaml"), yaml).unwrap();
    let bin = rudder_conformance::testbed::oracle("helmfile");
    // helmfile asks the real helm for its version first; the oracle helm sits next to it.
    let path = format!("{}:{}", bin.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new(&bin)
        .current_dir(&dir)
        .env("PATH", path)
        .arg("show-dag")
        .env("HELMFILE_UPDATE_CHECK", "false")
        .env("HELMFILE_UPGRADE_NOTICE_DISABLED", "true")
        .output()
        .expect("run helmfile");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!out.status.success(), "helmfile accepted the state");
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().find(|l| l.starts_with("in ./helmfile.yaml: ")).unwrap_or_else(|| panic!("{err}"));
    line.trim_start_matches("in ./helmfile.yaml: ").to_string()
}

#[test]
fn plan_errors_are_helmfiles() {
    // a needs b, b needs c, c needs a (and d is fine).
    let yaml = "releases:\n- {name: a, namespace: ns, chart: ./c, needs: [ns/b]}\n- {name: b, namespace: ns, chart: ./c, needs: [ns/c]}\n- {name: c, namespace: ns, chart: ./c, needs: [ns/a]}\n- {name: d, namespace: ns, chart: ./c}\n";
    let err = Plan::new(vec![node("a", "", &["ns/b"]), node("b", "", &["ns/c"]), node("c", "", &["ns/a"]), node("d", "", &[])]).unwrap_err();
    assert!(matches!(err, PlanError::Cycle(_)));
    assert_eq!(err.to_string(), real_helmfile_error(yaml));

    // A release that needs itself.
    let yaml = "releases:\n- {name: a, namespace: ns, chart: ./c, needs: [ns/a]}\n";
    let err = Plan::new(vec![node("a", "", &["ns/a"])]).unwrap_err();
    assert_eq!(err.to_string(), real_helmfile_error(yaml));

    // Ids with a kubeContext; a release outside the cycle that needs into it.
    let yaml = "releases:\n- {name: a, namespace: ns, kubeContext: k1, chart: ./c, needs: [k1/ns/b]}\n- {name: b, namespace: ns, kubeContext: k1, chart: ./c, needs: [k1/ns/a]}\n- {name: c, chart: ./c, needs: [k1/ns/b]}\n";
    // helmfile walks the leftover edges in Go map order, so it prints either this cycle or
    // (about one run in six) `k1/ns/a -> k1/ns/b -> c -> c`, which is no cycle; ours is the
    // stable one of its answers.
    let err = Plan::new(vec![node("a", "k1", &["k1/ns/b"]), node("b", "k1", &["k1/ns/a"]), Node::new("c", "", "", vec!["k1/ns/b".into()])]).unwrap_err();
    let mut seen = Vec::new();
    while !seen.contains(&err.to_string()) && seen.len() < 10 {
        seen.push(real_helmfile_error(yaml));
    }
    assert!(seen.contains(&err.to_string()), "{err} not among helmfile's {seen:?}");

    let yaml = "releases:\n- {name: z, namespace: ns, chart: ./c, needs: [ns/missing]}\n";
    let err = Plan::new(vec![node("z", "", &["ns/missing"])]).unwrap_err();
    assert_eq!(err.to_string(), real_helmfile_error(yaml));
}

fn sample_report() -> RunReport {
    let mk = |name: &str, cluster: &str, needs: &[&str], o: Outcome, ms: u64| run::ReleaseRun {
        node: Node::new(name, "web", cluster, needs.iter().map(|s| s.to_string()).collect()),
        started: if o.result == Status::Skipped { None } else { Some(Duration::ZERO) },
        finished: None,
        outcome: Outcome { duration: Duration::from_millis(ms), ..o },
    };
    RunReport {
        command: "apply".into(),
        started_at: SystemTime::UNIX_EPOCH + Duration::from_millis(1_764_628_800_250),
        duration: Duration::from_millis(12_500),
        releases: vec![
            mk("db", "kind-a", &[], Outcome::ok(Action::Install), 2_250),
            mk("api", "kind-a", &["kind-a/web/db"], Outcome { hook_failures: 2, ..Outcome::ok(Action::Upgrade) }, 1_500),
            mk("front", "kind-a", &["kind-a/web/api"], Outcome { rolled_back: true, ..Outcome::failed(Action::Upgrade, "timed out waiting") }, 61_000),
            mk("edge", "kind-a", &["kind-a/web/front"], Outcome::skipped("needs kind-a/web/front which failed"), 0),
            mk("cache", "kind-b", &[], Outcome::ok(Action::Noop), 100),
        ],
    }
}

#[test]
fn report_json_reads_back() {
    let rep = sample_report();
    let path = std::env::temp_dir().join(format!("{}.json", rudder_conformance::testbed::unique_name("hfrun-report")));
    report::write_json(&rep, &path).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(v["schema"], "rudder.helmfile.report/v1");
    assert_eq!(v["command"], "apply");
    assert_eq!(v["success"], false);
    assert_eq!(v["startedAt"], "2025-12-01T22:40:00.250Z");
    assert_eq!(v["durationSeconds"], 12.5);
    assert_eq!(v["totals"], serde_json::json!({"releases": 5, "ok": 3, "failed": 1, "skipped": 1, "partial": 2, "hookFailures": 2, "rollbacks": 1}));
    assert_eq!(v["clusters"][0], serde_json::json!({"cluster": "kind-a", "success": false, "releases": 4, "ok": 2, "failed": 1, "skipped": 1}));
    assert_eq!(v["clusters"][1]["success"], true);
    let r = &v["releases"][2];
    assert_eq!(r["id"], "kind-a/web/front");
    assert_eq!(r["needs"], serde_json::json!(["kind-a/web/api"]));
    assert_eq!(r["action"], "upgrade");
    assert_eq!(r["result"], "failed");
    assert_eq!(r["partial"], true);
    assert_eq!(r["rolledBack"], true);
    assert_eq!(r["durationSeconds"], 61.0);
    assert_eq!(r["message"], "timed out waiting");
    assert_eq!(v["releases"][3]["action"], "none");
    assert_eq!(v["releases"][1]["hookFailures"], 2);
    // No temp files left next to it.
    let dir = path.parent().unwrap();
    let stem = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(std::fs::read_dir(dir).unwrap().flatten().all(|e| !e.file_name().to_string_lossy().starts_with(&format!(".{stem}.tmp"))));
}

#[test]
fn summary_table_has_helmfiles_layout() {
    let s = report::summary(&sample_report(), false);
    let expected_head = "\n============================= Deploy Report =============================\n\
RELEASE   CLUSTER   NAMESPACE   ACTION    DURATION   RESULT\n\
db        kind-a    web         install         2s   ok\n\
api       kind-a    web         upgrade         2s   ok (2 hook failures)\n\
front     kind-a    web         upgrade       1m1s   failed (rolled back)\n\
edge      kind-a    web         none             -   skipped\n\
cache     kind-b    web         noop            0s   ok\n\n";
    assert!(s.starts_with(expected_head), "{s}");
    assert!(s.contains("cluster kind-b: 1 ok, 0 failed, 0 skipped\n"), "{s}");
    assert!(s.contains("FAILED in 13s: 3 ok, 1 failed, 1 skipped, 2 partial, 2 hook failures, 1 rollbacks\n"), "{s}");
    assert!(s.ends_with("release \"front\" failed: timed out waiting\n"), "{s}");
}

#[test]
fn progress_lines() {
    let rep = sample_report();
    let mut p = report::Progress::to(5, false, Box::new(std::io::sink()));
    let n = &rep.releases[2].node;
    assert_eq!(p.line(&Event::Started { node: n }), "[0/5] started  web/front @kind-a");
    assert_eq!(p.line(&Event::Finished { node: n, outcome: &rep.releases[2].outcome }), "[1/5] failed   web/front @kind-a upgrade in 1m1s: timed out waiting");
}

/// Samples of a text exposition: `name{labels}` → value, labels sorted.
fn parse_prom(text: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = match series.split_once('{') {
            Some((n, l)) => (n, l.trim_end_matches('}')),
            None => (series, ""),
        };
        let mut ls: Vec<&str> = labels.split(',').filter(|l| !l.is_empty() && !l.ends_with("=\"\"")).collect();
        ls.sort();
        out.insert(format!("{name}{{{}}}", ls.join(",")), value.parse::<f64>().unwrap());
    }
    out
}

fn expected_series() -> Vec<(&'static str, f64)> {
    vec![
        (r#"rudder_helmfile_run_success{command="apply"}"#, 0.0),
        (r#"rudder_helmfile_run_duration_seconds{command="apply"}"#, 12.5),
        (r#"rudder_helmfile_failed_releases{command="apply"}"#, 1.0),
        (r#"rudder_helmfile_partial_releases{command="apply"}"#, 2.0),
        (r#"rudder_helmfile_hook_failures{command="apply"}"#, 2.0),
        (r#"rudder_helmfile_rollbacks{command="apply"}"#, 1.0),
        (r#"rudder_helmfile_releases{command="apply",result="skipped"}"#, 1.0),
        (r#"rudder_helmfile_release_duration_seconds{action="upgrade",cluster="kind-a",namespace="web",release="front"}"#, 61.0),
        (r#"rudder_helmfile_release_duration_seconds{action="install",cluster="kind-a",namespace="web",release="db"}"#, 2.25),
        (r#"rudder_helmfile_release_failed{cluster="kind-a",namespace="web",release="front"}"#, 1.0),
        (r#"rudder_helmfile_release_partial{cluster="kind-a",namespace="web",release="api"}"#, 1.0),
        (r#"rudder_helmfile_release_hook_failures{cluster="kind-a",namespace="web",release="api"}"#, 2.0),
        (r#"rudder_helmfile_release_rollbacks{cluster="kind-a",namespace="web",release="front"}"#, 1.0),
        (r#"rudder_helmfile_release_skipped{cluster="kind-a",namespace="web",release="edge"}"#, 1.0),
        (r#"rudder_helmfile_release_success{cluster="kind-b",namespace="web",release="cache"}"#, 1.0),
    ]
}

#[test]
fn report_prometheus_reads_back() {
    let rep = sample_report();
    let path = std::env::temp_dir().join(format!("{}.prom", rudder_conformance::testbed::unique_name("hfrun-report")));
    report::write_prometheus(&rep, &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let m = parse_prom(&text);
    for (k, v) in expected_series() {
        assert_eq!(m.get(k), Some(&v), "{k} in\n{text}");
    }
    assert_eq!(m[r#"rudder_helmfile_run_timestamp_seconds{command="apply"}"#], 1_764_628_800.25);
    // Every family is declared once, before its samples.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let name = line.split(['{', ' ']).next().unwrap();
        assert!(text.contains(&format!("# TYPE {name} gauge\n")), "{name}");
    }
    assert_eq!(text.matches("# TYPE ").count(), 15);
}

#[test]
fn pushgateway_urls() {
    assert_eq!(report::pushgateway_url("http://pg:9091/", "helmfile", &[]), "http://pg:9091/metrics/job/helmfile");
    assert_eq!(
        report::pushgateway_url("http://pg:9091", "hf apply", &[("env", "prod/eu"), ("x", ""), ("team", "web")]),
        "http://pg:9091/metrics/job/hf%20apply/env@base64/cHJvZC9ldQ==/x@base64/=/team/web"
    );
}

/// A Pushgateway child process, killed on drop.
struct Gateway(Child, u16);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_pushgateway() -> Gateway {
    let bin = PathBuf::from("/usr/bin/prometheus-pushgateway");
    assert!(bin.exists(), "{} is missing: apt-get install prometheus-pushgateway", bin.display());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(&bin)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus-pushgateway");
    let gw = Gateway(child, port);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = reqwest::blocking::get(format!("http://127.0.0.1:{port}/-/ready")) {
            if r.status().is_success() {
                return gw;
            }
        }
        assert!(Instant::now() < deadline, "pushgateway on port {port} did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_to_a_real_pushgateway() {
    let gw = tokio::task::spawn_blocking(start_pushgateway).await.unwrap();
    let base = format!("http://127.0.0.1:{}", gw.1);
    let rep = sample_report();
    report::push(&rep, &base, "rudder-helmfile", &[("instance", "ci/runner-1")]).await.unwrap();
    let text = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
    // The gateway adds the grouping labels to every series; drop them and compare values.
    let ours: String = text
        .lines()
        .filter(|l| l.starts_with("rudder_helmfile_"))
        .map(|l| l.replace(r#"instance="ci/runner-1","#, "").replace(r#",instance="ci/runner-1""#, "").replace(r#"job="rudder-helmfile","#, "").replace(r#",job="rudder-helmfile""#, ""))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains(r#"job="rudder-helmfile""#) && text.contains(r#"instance="ci/runner-1""#), "{text}");
    let m = parse_prom(&ours);
    for (k, v) in expected_series() {
        assert_eq!(m.get(k), Some(&v), "{k} in\n{ours}");
    }
    // 7 per-release families × 5 releases + 7 run families + 3 result samples.
    assert_eq!(m.len(), 7 * 5 + 7 + 3, "{ours}");
    // A second push (PUT) replaces the group: a release gone from the run is gone from the gateway.
    let mut rep2 = sample_report();
    rep2.releases.truncate(1);
    report::push(&rep2, &base, "rudder-helmfile", &[("instance", "ci/runner-1")]).await.unwrap();
    let text = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
    assert!(!text.contains(r#"release="front""#), "{text}");
    assert!(text.contains(r#"release="db""#), "{text}");
    // And the blocking variant, from a blocking thread.
    let base2 = base.clone();
    tokio::task::spawn_blocking(move || report::push_blocking(&sample_report(), &base2, "rudder-helmfile-blocking", &[])).await.unwrap().unwrap();
    let text = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
    assert!(text.contains(r#"job="rudder-helmfile-blocking""#), "{text}");
    // emit(): both files and the push in one call (the CLI's path).
    let dir = std::env::temp_dir().join(rudder_conformance::testbed::unique_name("hfrun-emit"));
    std::fs::create_dir_all(&dir).unwrap();
    let opts = report::ReportOptions {
        json: Some(dir.join("r.json")),
        prometheus: Some(dir.join("r.prom")),
        pushgateway: Some(base.clone()),
        job: None,
        grouping: vec![("environment".into(), "prod".into())],
        table: false,
    };
    report::emit(&rep, &opts).await.unwrap();
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("r.json")).unwrap()).unwrap();
    assert_eq!(j["totals"]["releases"], 5);
    assert_eq!(parse_prom(&std::fs::read_to_string(dir.join("r.prom")).unwrap()).len(), 45);
    let text = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
    assert!(text.contains(r#"environment="prod""#) && text.contains(r#"job="rudder-helmfile""#), "{text}");
    // A report that cannot be written is an error naming the file; the others are still written.
    let bad = report::ReportOptions { json: Some(dir.join("no/such/dir/r.json")), prometheus: Some(dir.join("r2.prom")), ..Default::default() };
    let err = report::emit(&rep, &bad).await.unwrap_err().to_string();
    assert!(err.starts_with(&format!("writing report {}: ", dir.join("no/such/dir/r.json").display())), "{err}");
    assert!(dir.join("r2.prom").exists());
    let _ = std::fs::remove_dir_all(&dir);
    // A bad push (unreachable gateway) is an error naming the URL, not a panic.
    let err = report::push(&rep, "http://127.0.0.1:1", "j", &[]).await.unwrap_err().to_string();
    assert!(err.starts_with("pushing metrics to http://127.0.0.1:1/metrics/job/j: "), "{err}");
    drop(gw);
}

/// Go's time.ParseDuration for the whole-second values helmfile prints ("0s", "1m1s", "2h0m3s").
fn parse_go_duration(s: &str) -> Duration {
    let (mut total, mut num) = (0u64, 0u64);
    for c in s.chars() {
        match c {
            '0'..='9' => num = num * 10 + c.to_digit(10).unwrap() as u64,
            'h' => (total, num) = (total + num * 3600, 0),
            'm' => (total, num) = (total + num * 60, 0),
            's' => (total, num) = (total + num, 0),
            _ => panic!("duration {s}"),
        }
    }
    Duration::from_secs(total)
}

/// One summary section of a real helmfile log: title and rows (cells cut at the header's
/// column starts; the right-aligned DURATION is the rest of the line).
fn parse_sections(log: &str) -> Vec<(String, Vec<Vec<String>>)> {
    let lines: Vec<&str> = log.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let plain = lines[i].replace("\x1b[1m", "").replace("\x1b[34m", "").replace("\x1b[0m", "");
        if plain.starts_with('=') && plain.ends_with('=') && plain.contains(" Releases ") {
            let title = plain.trim_matches('=').trim().to_string();
            let head = lines[i + 1];
            let starts: Vec<usize> = head.match_indices(|c: char| c.is_ascii_uppercase()).filter(|(p, _)| *p == 0 || head.as_bytes()[p - 1] == b' ').map(|(p, _)| p).collect();
            let mut rows = Vec::new();
            let mut j = i + 2;
            while j < lines.len() && !lines[j].is_empty() {
                let l = lines[j];
                let mut cells = Vec::new();
                for (k, &s) in starts.iter().enumerate() {
                    let e = if k + 1 < starts.len() { starts[k + 1].min(l.len()) } else { l.len() };
                    cells.push(l.get(s.min(l.len())..e).unwrap_or("").trim().to_string());
                }
                rows.push(cells);
                j += 1;
            }
            out.push((title, rows));
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// `affected_releases` against the summaries the real helmfile v1.8.0 printed in its own
/// test logs (pkg/app/testdata/**/log): the same rows give the same bytes, colors included.
#[test]
fn affected_releases_match_helmfiles_logs() {
    let root = PathBuf::from("/root/go/pkg/mod/github.com/helmfile/helmfile@v1.8.0/pkg/app/testdata");
    assert!(root.is_dir(), "{} is missing (helmfile v1.8.0 sources)", root.display());
    fn walk(d: &std::path::Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.file_name().is_some_and(|n| n == "log") {
                out.push(p);
            }
        }
    }
    let mut logs = Vec::new();
    walk(&root, &mut logs);
    logs.sort();
    let order = ["Updated Releases", "Deleted Releases", "Failed Releases", "Failed to Delete Releases"];
    let (mut checked, mut blocks) = (0, 0);
    for log in &logs {
        let text = std::fs::read_to_string(log).unwrap();
        let sections = parse_sections(&text);
        if sections.is_empty() {
            continue;
        }
        assert!(sections.iter().all(|(t, _)| order.contains(&t.as_str())), "{}: {sections:?}", log.display());
        let color = text.contains("\x1b[1m\x1b[34m");
        // Consecutive sections in helmfile's order form one summary.
        let mut groups: Vec<Vec<(String, Vec<Vec<String>>)>> = Vec::new();
        for s in sections {
            let pos = order.iter().position(|t| *t == s.0).unwrap();
            match groups.last_mut() {
                Some(g) if order.iter().position(|t| *t == g.last().unwrap().0).unwrap() < pos => g.push(s),
                _ => groups.push(vec![s]),
            }
        }
        for g in groups {
            let mut releases = Vec::new();
            for (title, rows) in &g {
                for r in rows {
                    let (action, result) = match title.as_str() {
                        "Updated Releases" => (Action::Upgrade, Status::Ok),
                        "Deleted Releases" => (Action::Delete, Status::Ok),
                        "Failed Releases" => (Action::Upgrade, Status::Failed),
                        _ => (Action::Delete, Status::Failed),
                    };
                    let long = r.len() == 5;
                    let mut o = Outcome { result, ..Outcome::ok(action) };
                    o.duration = parse_go_duration(&r[r.len() - 1]);
                    if long {
                        o.chart_version = r[3].clone();
                    }
                    let n = Node::new(&r[0], &r[1], "", vec![]).with_chart(if long { &r[2] } else { "" });
                    releases.push(run::ReleaseRun { node: n, outcome: o, started: Some(Duration::ZERO), finished: None });
                }
            }
            let rep = RunReport { command: "sync".into(), started_at: SystemTime::now(), duration: Duration::ZERO, releases };
            let mine = report::affected_releases(&rep, color);
            assert!(mine.contains(" Releases "), "{mine}");
            assert!(text.contains(&mine), "{}: ours\n{mine}\nis not in the log:\n{text}", log.display());
            blocks += 1;
        }
        checked += 1;
    }
    eprintln!("affected releases: {blocks} summaries in {checked} real helmfile logs identical");
    assert!(checked >= 40, "only {checked} logs with summaries");
}

/// 60 releases on 3 clusters with random needs (each needs up to 3 earlier ones), run with 4
/// workers forward and backward: every edge respected, never more than 4 at once, all ran.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_graphs_keep_order_and_limit() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let names: Vec<String> = (0..60).map(|i| format!("r{i}")).collect();
    let mut nodes = Vec::new();
    for i in 0..60usize {
        let cluster = ["c1", "c2", "c3"][i % 3];
        let mut needs = Vec::new();
        if i > 0 {
            for _ in 0..rnd(4) {
                let j = rnd(i as u64) as usize;
                needs.push(run::release_id(["c1", "c2", "c3"][j % 3], "ns", &names[j]));
            }
        }
        nodes.push(Node::new(&names[i], "ns", cluster, needs));
    }
    let plan = Plan::new(nodes).unwrap();
    let ms: BTreeMap<&'static str, u64> = names.iter().enumerate().map(|(i, n)| (&*Box::leak(n.clone().into_boxed_str()), 5 + (i as u64 * 7) % 25)).collect();
    for reverse in [false, true] {
        let (rep, log, events) = go(&plan, RunOptions::new(4, reverse, false), ms.clone(), &[]).await;
        assert!(rep.success());
        assert_eq!(log.len(), 60);
        assert_needs_respected(&plan, &log, reverse);
        assert!(max_overlap(&log) <= 4, "{}", max_overlap(&log));
        assert_eq!(events.len(), 120);
    }
}

/// With fewer workers than ready releases, clusters take turns: cluster B (listed last) does
/// not wait for all of cluster A.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_share_the_workers_fairly() {
    let mut nodes: Vec<Node> = (0..6).map(|i| node(&format!("a{i}"), "A", &[])).collect();
    nodes.push(node("b0", "B", &[]));
    nodes.push(node("b1", "B", &[]));
    let plan = Plan::new(nodes).unwrap();
    let (rep, log, _) = go(&plan, RunOptions::new(2, false, false), BTreeMap::new(), &[]).await;
    assert!(rep.success());
    let mut l = log.clone();
    l.sort_by_key(|x| x.1);
    let order: Vec<&str> = l.iter().map(|x| x.0.as_str()).collect();
    // Two at a time, alternating clusters while both have work.
    let mut first: Vec<&str> = order[..2].to_vec();
    first.sort();
    assert_eq!(first, ["A/ns/a0", "B/ns/b0"], "{log:?}");
    let mut second: Vec<&str> = order[2..4].to_vec();
    second.sort();
    assert_eq!(second, ["A/ns/a1", "B/ns/b1"], "{log:?}");
    assert!(span(&log, "B/ns/b1").2 < span(&log, "A/ns/a3").2, "{log:?}");
    assert!(max_overlap(&log) <= 2);
}
