//! Rudder's release actions through the fault-injecting proxy in front of the test bed's
//! apiserver (`rudder_conformance::fault_proxy`): 429/5xx answers, the apiserver gone in the
//! middle of an upgrade, connections cut and answers too slow, and two clients on one release.
//! Every step is checked with the real helm 4 (`helm history` / `helm list`, talking to the
//! apiserver directly, not through the proxy), and where helm has the same scenario it is run
//! through the same proxy to compare.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use kube::api::{Api, DeleteParams, PostParams};
use rudder_chart::values::ValueOptions;
use rudder_conformance::fault_proxy::{Fault, FaultProxy, Logged, Outcome, Rule};
use rudder_conformance::testbed::{self, oracle, unique_name};
use rudder_release::action::lease::{self, LeaseSettings};
use rudder_release::action::{
    self, Config, InstallOptions, RollbackOptions, UninstallOptions, UpgradeOptions,
};
use rudder_release::kube::{Kube, KubeOptions};
use rudder_state::driver::DriverKind;
use serde_json::{json, Value};

// ---- the bed -------------------------------------------------------------------------------

struct Scratch(PathBuf);

impl Scratch {
    fn new(prefix: &str) -> Self {
        let d = std::env::temp_dir().join(unique_name(prefix));
        std::fs::create_dir_all(d.join("chart/templates")).unwrap();
        std::fs::write(
            d.join("chart/Chart.yaml"),
            "apiVersion: v2\nname: faults\nversion: 0.1.0\n",
        )
        .unwrap();
        std::fs::write(
            d.join("chart/templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-a\ndata:\n  v: {{ .Values.v | quote }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-b\ndata:\n  v: {{ .Values.v | quote }}\n",
        )
        .unwrap();
        std::fs::write(d.join("chart/values.yaml"), "v: \"0\"\n").unwrap();
        Scratch(d)
    }
    fn chart(&self) -> PathBuf {
        self.0.join("chart")
    }
    fn home(&self) -> PathBuf {
        self.0.join("home")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn direct_client() -> kube::Client {
    rudder_state::driver::kube::client(Some(&testbed::testbed().kubeconfig), None)
        .await
        .expect("kube client")
}

/// A `faults-*` namespace for one test, deleted at the end even when the body panics.
async fn with_namespace<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(direct_client().await);
    let ns = unique_name("faults");
    let obj = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
    )
    .unwrap();
    api.create(&PostParams::default(), &obj)
        .await
        .expect("create namespace");
    let res = tokio::spawn(body(ns.clone())).await;
    let _ = api.delete(&ns, &DeleteParams::default()).await;
    if let Err(e) = res {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Rudder's action configuration through `kubeconfig` (the proxy's, or the test bed's).
async fn config(kubeconfig: &Path, ns: &str, request_timeout: Option<Duration>) -> Config {
    let opts = KubeOptions {
        kubeconfig: Some(kubeconfig.to_path_buf()),
        namespace: Some(ns.to_string()),
        request_timeout,
        ..Default::default()
    };
    Config::new(
        Kube::connect(&opts).await.expect("connect"),
        DriverKind::Secret,
    )
}

async fn via(proxy: &FaultProxy, ns: &str) -> Config {
    config(proxy.kubeconfig(), ns, None).await
}

async fn direct(ns: &str) -> Config {
    config(&testbed::testbed().kubeconfig, ns, None).await
}

fn values(v: &str) -> rudder_engine::Value {
    ValueOptions {
        values: vec![format!("v={v}")],
        ..Default::default()
    }
    .merge_values()
    .unwrap()
}

fn chart(s: &Scratch) -> rudder_chart::model::Chart {
    rudder_chart::load(&s.chart()).expect("load chart")
}

fn install_opts(name: &str) -> InstallOptions {
    InstallOptions {
        release_name: name.into(),
        ..Default::default()
    }
}

fn upgrade_opts() -> UpgradeOptions {
    UpgradeOptions {
        max_history: 10,
        ..Default::default()
    }
}

/// A lease holder of its own and a short lease, so a test can watch one expire.
fn settings(holder: &str, secs: u64) -> LeaseSettings {
    LeaseSettings {
        duration: Duration::from_secs(secs),
        holder: Some(holder.to_string()),
    }
}

/// Runs a real tool off the runtime's threads (the proxy lives in this process).
async fn output(mut cmd: Command) -> Output {
    let desc = format!("{cmd:?}");
    tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .unwrap_or_else(|e| panic!("running {desc}: {e}"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Real helm 4 against the apiserver directly (or, with `kubeconfig`, through the proxy).
fn helm(home: &Path, kubeconfig: Option<&Path>) -> Command {
    let mut cmd = testbed::testbed().command(oracle("helm"), home);
    if let Some(kc) = kubeconfig {
        cmd.env("KUBECONFIG", kc);
    }
    cmd
}

/// `helm history -o json` as (revision, status, description), straight from the apiserver.
async fn history(home: &Path, ns: &str, name: &str) -> Vec<(i64, String, String)> {
    let mut cmd = helm(home, None);
    cmd.args(["history", name, "-n", ns, "-o", "json", "--max", "100"]);
    let o = output(cmd).await;
    assert!(o.status.success(), "helm history: {}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_i64().unwrap(),
                r["status"].as_str().unwrap().to_string(),
                r["description"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `helm list -o json` (helm 4 lists every status) as (name, revision, status).
async fn list(home: &Path, ns: &str) -> Vec<(String, String, String)> {
    let mut cmd = helm(home, None);
    cmd.args(["list", "-n", ns, "-o", "json"]);
    let o = output(cmd).await;
    assert!(o.status.success(), "helm list: {}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["revision"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The `Error: ` line of a helm run, without the prefix.
fn helm_error(o: &Output) -> String {
    let t = String::from_utf8_lossy(&o.stderr).to_string();
    t.lines()
        .find_map(|l| l.strip_prefix("Error: "))
        .unwrap_or_else(|| panic!("no Error: line in {t}"))
        .to_string()
}

/// An error text with what legitimately differs between two runs taken out: URL queries
/// (kube-rs and client-go order parameters differently), revision numbers, which of the two
/// ConfigMaps met the fault first.
fn normalized(msg: &str, name: &str) -> String {
    let mut out = String::new();
    let mut in_query = false;
    for c in msg.chars() {
        match c {
            '?' => in_query = true,
            '"' if in_query => {
                in_query = false;
                out.push(c);
            }
            _ if in_query => {}
            _ => out.push(c),
        }
    }
    let rec = format!("sh.helm.release.v1.{name}.v");
    let mut norm = String::new();
    let mut rest = out.as_str();
    while let Some(i) = rest.find(&rec) {
        norm.push_str(&rest[..i + rec.len()]);
        norm.push('N');
        rest = rest[i + rec.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    norm.push_str(rest);
    norm.replace(&format!("{name}-b"), &format!("{name}-a"))
}

/// `…"URL"` and the cause after it.
fn split_cause(msg: &str) -> (String, String) {
    let i = msg
        .rfind("\": ")
        .unwrap_or_else(|| panic!("no URL in {msg}"));
    (msg[..i + 1].to_string(), msg[i + 3..].to_string())
}

/// Ends the proxy's outage and waits until it listens again (it rebinds in the background).
async fn come_up(proxy: &FaultProxy) {
    proxy.come_up();
    let addr = proxy.url().trim_start_matches("http://").to_string();
    let t = Instant::now();
    while tokio::net::TcpStream::connect(&addr).await.is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the proxy did not listen again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn h(rev: i64, st: &str, desc: &str) -> (i64, String, String) {
    (rev, st.to_string(), desc.to_string())
}

/// The live `v` of ConfigMap `name`, read directly.
async fn live_v(ns: &str, name: &str) -> Option<String> {
    let api: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(direct_client().await, ns);
    api.get_opt(name)
        .await
        .unwrap()
        .and_then(|c| c.data?.get("v").cloned())
}

/// Every injected answer in `log[from..]` was followed by the same request forwarded with
/// success (the retry), and nothing else failed.
fn assert_each_fault_retried(log: &[Logged]) {
    for (i, l) in log.iter().enumerate() {
        if matches!(l.outcome, Outcome::Injected(_) | Outcome::Dropped) {
            let retried = log[i + 1..]
                .iter()
                .find(|n| n.method == l.method && n.path == l.path)
                .unwrap_or_else(|| {
                    panic!("{} {} ({:?}) never sent again", l.method, l.path, l.outcome)
                });
            assert!(
                matches!(retried.outcome, Outcome::Forwarded(c) if c < 300)
                    || matches!(retried.outcome, Outcome::Injected(_)),
                "{} {}: the retry got {:?}",
                l.method,
                l.path,
                retried.outcome
            );
        }
        if let Outcome::Forwarded(c) = l.outcome {
            assert!(c < 400 || c == 404, "{} {}: {c}", l.method, l.path);
        }
    }
}

// ---- 429 and 5xx ---------------------------------------------------------------------------

/// client-go's rules: 429 and 5xx answers carrying `Retry-After` are retried on any request
/// (the apply PATCHes, the release Secret's POST and PUT, its list), so install and upgrade
/// succeed with exactly the revisions they make; a 503 without `Retry-After` is not retried, by
/// Rudder as by helm, and the upgrade fails cleanly with a failed revision.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_answers_are_retried_and_no_revision_is_lost() {
    with_namespace(|ns| async move {
        let s = Scratch::new("faults-retry");
        let home = s.home();
        let name = "faults-retry";
        let proxy = FaultProxy::start().await.expect("proxy");
        let cms = format!("/api/v1/namespaces/{ns}/configmaps/*");
        let secrets = format!("/api/v1/namespaces/{ns}/secrets");
        let record = format!("{secrets}/sh.helm.release.v1.{name}.*");

        // install: two 429 on the applies, 503 on the record's create, 500 on the history list,
        // 429 on the record's final update.
        proxy.add(Rule::status(429).method("PATCH").path(&cms).times(2));
        proxy.add(
            Rule::status(503)
                .retry_after(Some(1))
                .method("POST")
                .path(&secrets)
                .times(1),
        );
        proxy.add(
            Rule::status(500)
                .retry_after(Some(0))
                .method("GET")
                .path(&secrets)
                .times(1),
        );
        proxy.add(Rule::status(429).method("PUT").path(&record).times(1));
        let cfg = via(&proxy, &ns).await;
        let t = Instant::now();
        let rel = action::install(&cfg, chart(&s), values("1"), &install_opts(name))
            .await
            .unwrap_or_else(|e| panic!("install through 429/5xx: {e}"));
        assert_eq!(rel.version, 1);
        assert_eq!(
            proxy.fired(),
            [2, 1, 1, 1],
            "every fault fired once: {:#?}",
            proxy.log()
        );
        assert!(
            t.elapsed() >= Duration::from_secs(3),
            "Retry-After not waited: {:?}",
            t.elapsed()
        );
        assert_each_fault_retried(&proxy.log());
        assert_eq!(
            history(&home, &ns, name).await,
            [h(1, "deployed", "Install complete")]
        );
        assert_eq!(
            live_v(&ns, &format!("{name}-a")).await.as_deref(),
            Some("1")
        );

        // upgrade: 429 on the object reads, 503 on an apply, 500 on the new record, 429 on
        // both record updates (old superseded, new deployed).
        proxy.clear();
        let before = proxy.log().len();
        proxy.add(Rule::status(429).method("GET").path(&cms).times(1));
        proxy.add(
            Rule::status(503)
                .retry_after(Some(1))
                .method("PATCH")
                .path(&cms)
                .times(1),
        );
        proxy.add(
            Rule::status(500)
                .retry_after(Some(1))
                .method("POST")
                .path(&secrets)
                .times(1),
        );
        proxy.add(Rule::status(429).method("PUT").path(&record).times(2));
        let mut cfg = via(&proxy, &ns).await;
        let rel = action::upgrade(&mut cfg, name, chart(&s), values("2"), &upgrade_opts())
            .await
            .unwrap_or_else(|e| panic!("upgrade through 429/5xx: {e}"));
        assert_eq!(rel.version, 2);
        assert_eq!(proxy.fired(), [1, 1, 1, 2], "{:#?}", &proxy.log()[before..]);
        assert_each_fault_retried(&proxy.log()[before..]);
        assert_eq!(
            history(&home, &ns, name).await,
            [
                h(1, "superseded", "Install complete"),
                h(2, "deployed", "Upgrade complete")
            ]
        );
        assert_eq!(
            list(&home, &ns).await,
            [(name.to_string(), "2".to_string(), "deployed".to_string())]
        );
        assert_eq!(
            live_v(&ns, &format!("{name}-b")).await.as_deref(),
            Some("2")
        );

        // 503 without Retry-After: no retry (client-go makes none); a failed revision 3.
        proxy.clear();
        proxy.add(
            Rule::status(503)
                .retry_after(None)
                .method("PATCH")
                .path(&cms)
                .times(1),
        );
        let mut cfg = via(&proxy, &ns).await;
        let e = action::upgrade(&mut cfg, name, chart(&s), values("3"), &upgrade_opts())
            .await
            .expect_err("503 without Retry-After");
        assert_eq!(proxy.fired(), [1]);
        assert!(
            e.message.contains("server-side apply failed for object")
                && e.message
                    .contains("fault proxy: injected 503 Service Unavailable")
                && !e.message.contains('\n'),
            "{e}"
        );
        let hist = history(&home, &ns, name).await;
        assert_eq!(hist.len(), 3, "{hist:?}");
        assert_eq!(hist[2].0, 3);
        assert_eq!(hist[2].1, "failed");
        assert_eq!(
            hist[2].2,
            format!("Upgrade \"{name}\" failed: {}", e.message)
        );

        // The real helm through the same fault: fails the same way, one try, revision 4 failed.
        proxy.clear();
        proxy.add(
            Rule::status(503)
                .retry_after(None)
                .method("PATCH")
                .path(&cms)
                .times(1),
        );
        let mut cmd = helm(&home, Some(proxy.kubeconfig()));
        cmd.args([
            "upgrade",
            name,
            s.chart().to_str().unwrap(),
            "-n",
            &ns,
            "--set",
            "v=4",
        ]);
        let o = output(cmd).await;
        assert!(
            !o.status.success(),
            "helm upgrade through a 503: {}",
            text(&o)
        );
        assert_eq!(proxy.fired(), [1], "helm retried a 503 without Retry-After");
        assert_eq!(
            normalized(&helm_error(&o), name),
            normalized(&format!("UPGRADE FAILED: {}", e.message), name),
            "helm and rudder word it alike"
        );
        let hist = history(&home, &ns, name).await;
        assert_eq!(
            hist.iter().map(|r| (r.0, r.1.as_str())).collect::<Vec<_>>(),
            [
                (1, "superseded"),
                (2, "deployed"),
                (3, "failed"),
                (4, "failed")
            ]
        );

        // And rudder upgrades from there as helm would: revision 5 deployed.
        proxy.clear();
        let mut cfg = via(&proxy, &ns).await;
        let rel = action::upgrade(&mut cfg, name, chart(&s), values("5"), &upgrade_opts())
            .await
            .expect("upgrade");
        assert_eq!(rel.version, 5);
        let hist = history(&home, &ns, name).await;
        assert_eq!(
            hist.iter().map(|r| (r.0, r.1.as_str())).collect::<Vec<_>>(),
            [
                (1, "superseded"),
                (2, "superseded"),
                (3, "failed"),
                (4, "failed"),
                (5, "deployed")
            ]
        );
    })
    .await;
}

// ---- the apiserver gone mid-upgrade --------------------------------------------------------

/// The apiserver disappears at the upgrade's first apply: the upgrade fails with the cause, no
/// panic; its revision stays `pending-upgrade` with this client's lease (nothing else could be
/// written); a second client is refused while the lease lives, told to `--recover` once it
/// expired, and `--recover` upgrades to a deployed revision. helm history agrees at each step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apiserver_gone_mid_upgrade_then_recovered_by_upgrade() {
    with_namespace(|ns| async move {
        let s = Scratch::new("faults-down");
        let home = s.home();
        let name = "faults-down";
        let proxy = FaultProxy::start().await.expect("proxy");
        let cfg = via(&proxy, &ns).await;
        action::install(&cfg, chart(&s), values("1"), &install_opts(name)).await.expect("install");

        let cms = format!("/api/v1/namespaces/{ns}/configmaps/*");
        proxy.add(Rule::new(Fault::Outage(Duration::from_secs(3600))).method("PATCH").path(&cms).times(1));
        let mut cfg = via(&proxy, &ns).await;
        let guard = lease::begin_with(&cfg, DriverKind::Secret, name, "upgrade", false, &settings("faults-client-a", 4))
            .await
            .expect("lease")
            .expect("a lease with the Secret driver");
        let e = action::upgrade(&mut cfg, name, chart(&s), values("2"), &upgrade_opts())
            .await
            .expect_err("the apiserver went away");
        lease::end(Some(guard)).await; // cannot reach the apiserver: the lease stays until expiry
        assert!(proxy.is_down());
        let port = proxy.url().rsplit(':').next().unwrap().to_string();
        // The applies of the two ConfigMaps run concurrently: the one that met the outage reads
        // `Patch "…": EOF`, the other may have been at its read (`Get "…"`, retried once, then
        // refused).
        assert!(
            (e.message.starts_with(&format!("server-side apply failed for object {ns}/{name}-"))
                || e.message.starts_with("could not get information about the resource: Get \""))
                && e.message.contains(&format!("\"http://127.0.0.1:{port}/api/v1/namespaces/{ns}/configmaps/{name}-"))
                && (e.message.contains("\": EOF") || e.message.contains(": connect: connection refused")
                    || e.message.contains(": read: connection reset by peer")),
            "{e}"
        );
        assert!(!e.message.contains('\n'), "{e}");

        // Seen directly: revision 2 pending (its failure could not be recorded), 1 deployed.
        assert_eq!(
            history(&home, &ns, name).await,
            [h(1, "deployed", "Install complete"), h(2, "pending-upgrade", "Preparing upgrade")]
        );
        let held = rudder_state::lease::read(&direct_client().await, &ns, name).await.unwrap().expect("lease kept");
        assert_eq!(held.holder, "faults-client-a");

        // While down, the next command says what it could not reach.
        let cfg_b = via(&proxy, &ns).await;
        let e = lease::begin_with(&cfg_b, DriverKind::Secret, name, "upgrade", false, &settings("faults-client-b", 4))
            .await
            .err()
            .expect("refused while down");
        assert_eq!(
            e.message,
            format!("kubernetes cluster unreachable: Get \"http://127.0.0.1:{port}/version\": dial tcp 127.0.0.1:{port}: connect: connection refused")
        );

        // Back up, the lease still live: another client is refused, naming the holder.
        come_up(&proxy).await;
        let e = lease::begin_with(&cfg_b, DriverKind::Secret, name, "upgrade", false, &settings("faults-client-b", 4))
            .await
            .err()
            .expect("refused while the lease lives");
        assert!(
            e.message.starts_with(&format!(
                "another operation (install/upgrade/rollback) is in progress: release \"{name}\" is held by faults-client-a (upgrade) until "
            )),
            "{e}"
        );
        // Expired: stale, recover on request.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let e = lease::begin_with(&cfg_b, DriverKind::Secret, name, "upgrade", false, &settings("faults-client-b", 4))
            .await
            .err()
            .expect("refused while stale");
        assert!(
            e.message.starts_with(&format!("release \"{name}\": revision 2 is pending-upgrade but its lease of faults-client-a expired at "))
                && e.message.ends_with("; run again with --recover to mark it failed and continue from the last deployed revision"),
            "{e}"
        );
        let mut cfg_b = via(&proxy, &ns).await;
        let guard = lease::begin_with(&cfg_b, DriverKind::Secret, name, "upgrade", true, &settings("faults-client-b", 4))
            .await
            .expect("recover");
        let rel = action::upgrade(&mut cfg_b, name, chart(&s), values("3"), &upgrade_opts()).await.expect("upgrade after recovery");
        lease::end(guard).await;
        assert_eq!(rel.version, 3);
        let hist = history(&home, &ns, name).await;
        assert_eq!(hist.len(), 3, "{hist:?}");
        assert_eq!(hist[0], h(1, "superseded", "Install complete"));
        assert_eq!((hist[1].0, hist[1].1.as_str()), (2, "failed"));
        assert!(hist[1].2.starts_with("operation interrupted: lease of faults-client-a expired at "), "{hist:?}");
        assert_eq!(hist[2], h(3, "deployed", "Upgrade complete"));
        assert_eq!(live_v(&ns, &format!("{name}-a")).await.as_deref(), Some("3"));
        assert!(rudder_state::lease::read(&direct_client().await, &ns, name).await.unwrap().is_none(), "lease left behind");
    })
    .await;
}

/// The apiserver goes away after the upgrade applied everything, at the record's update: the
/// objects are new, the record still `pending-upgrade`. After the outage `rollback --recover`
/// brings back revision 1 as revision 3. Then the real helm in the same scenario, for
/// comparison: it leaves the same pending revision, and its next upgrade is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apiserver_gone_at_the_record_update_then_rolled_back() {
    with_namespace(|ns| async move {
        let s = Scratch::new("faults-rb");
        let home = s.home();
        let name = "faults-rb";
        let proxy = FaultProxy::start().await.expect("proxy");
        let cfg = via(&proxy, &ns).await;
        action::install(&cfg, chart(&s), values("1"), &install_opts(name)).await.expect("install");

        let record = format!("/api/v1/namespaces/{ns}/secrets/sh.helm.release.v1.{name}.*");
        proxy.add(Rule::new(Fault::Outage(Duration::from_secs(3600))).method("PUT").path(&record).times(1));
        let mut cfg = via(&proxy, &ns).await;
        let guard = lease::begin_with(&cfg, DriverKind::Secret, name, "upgrade", false, &settings("faults-client-a", 3))
            .await
            .expect("lease");
        let e = action::upgrade(&mut cfg, name, chart(&s), values("2"), &upgrade_opts())
            .await
            .expect_err("the apiserver went away");
        lease::end(guard).await;
        let rudder_err = e.message.clone();
        assert!(
            e.message.starts_with("update: failed to update: Put \"http://127.0.0.1:")
                && e.message.contains(&format!("/api/v1/namespaces/{ns}/secrets/sh.helm.release.v1.{name}.v"))
                && !e.message.contains('\n'),
            "{e}"
        );
        assert_eq!(live_v(&ns, &format!("{name}-a")).await.as_deref(), Some("2"), "applied before the outage");
        assert_eq!(
            history(&home, &ns, name).await,
            [h(1, "deployed", "Install complete"), h(2, "pending-upgrade", "Preparing upgrade")]
        );

        come_up(&proxy).await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        let mut cfg_b = via(&proxy, &ns).await;
        let e = lease::begin_with(&cfg_b, DriverKind::Secret, name, "rollback", false, &settings("faults-client-b", 3))
            .await
            .err()
            .expect("stale");
        assert!(e.message.contains("run again with --recover"), "{e}");
        let guard = lease::begin_with(&cfg_b, DriverKind::Secret, name, "rollback", true, &settings("faults-client-b", 3))
            .await
            .expect("recover");
        let ropts = RollbackOptions {
            version: 1,
            max_history: 10,
            ..Default::default()
        };
        action::rollback(&mut cfg_b, name, &ropts).await.expect("rollback after recovery");
        lease::end(guard).await;
        let hist = history(&home, &ns, name).await;
        assert_eq!(
            hist.iter().map(|r| (r.0, r.1.as_str())).collect::<Vec<_>>(),
            [(1, "superseded"), (2, "failed"), (3, "deployed")],
            "{hist:?}"
        );
        assert_eq!(hist[2].2, "Rollback to 1");
        assert_eq!(live_v(&ns, &format!("{name}-a")).await.as_deref(), Some("1"));

        // The real helm, same outage at the same request.
        proxy.clear();
        proxy.add(Rule::new(Fault::Outage(Duration::from_secs(3600))).method("PUT").path(&record).times(1));
        let mut cmd = helm(&home, Some(proxy.kubeconfig()));
        cmd.args(["upgrade", name, s.chart().to_str().unwrap(), "-n", &ns, "--set", "v=4"]);
        let o = output(cmd).await;
        assert!(!o.status.success(), "{}", text(&o));
        let helm_err = text(&o);
        let o_outage = o;
        come_up(&proxy).await;
        let hist = history(&home, &ns, name).await;
        assert_eq!(
            hist.iter().map(|r| (r.0, r.1.as_str())).collect::<Vec<_>>(),
            [(1, "superseded"), (2, "failed"), (3, "deployed"), (4, "pending-upgrade")],
            "helm said: {helm_err}"
        );
        let mut cmd = helm(&home, None);
        cmd.args(["upgrade", name, s.chart().to_str().unwrap(), "-n", &ns, "--set", "v=5"]);
        let o = output(cmd).await;
        assert!(!o.status.success(), "{}", text(&o));
        assert!(
            text(&o).contains("Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress"),
            "{}",
            text(&o)
        );
        eprintln!("helm in the same outage: {helm_err}");
        // The same words: the supersede write met the outage (EOF, logged), the new record's
        // write was refused.
        // (`UPGRADE FAILED: ` is the CLI's prefix to the action's message.)
        // The cause of the refused write depends on timing (the outage cuts open connections
        // while new ones are refused, or reset while they are being made): the request and the
        // words before the cause must agree.
        let (r_req, r_cause) = split_cause(&normalized(&format!("UPGRADE FAILED: {rudder_err}"), name));
        let (h_req, h_cause) = split_cause(&normalized(&helm_error(&o_outage), name));
        assert_eq!(r_req, h_req);
        for c in [r_cause, h_cause] {
            assert!(
                c == "EOF"
                    || c.ends_with(": connect: connection refused")
                    || c.ends_with(": connect: connection reset by peer")
                    || c.ends_with(": read: connection reset by peer"),
                "{c}"
            );
        }
        // Rudder recovers what helm left (no lease: only with --recover).
        let mut cfg_c = via(&proxy, &ns).await;
        let e = lease::begin_with(&cfg_c, DriverKind::Secret, name, "upgrade", false, &settings("faults-client-c", 3))
            .await
            .err()
            .expect("stale helm revision");
        assert!(e.message.contains("no client holds its lease"), "{e}");
        let guard = lease::begin_with(&cfg_c, DriverKind::Secret, name, "upgrade", true, &settings("faults-client-c", 3))
            .await
            .expect("recover helm's revision");
        let rel = action::upgrade(&mut cfg_c, name, chart(&s), values("6"), &upgrade_opts()).await.expect("upgrade");
        lease::end(guard).await;
        assert_eq!(rel.version, 5);
        let hist = history(&home, &ns, name).await;
        assert_eq!(
            hist.iter().map(|r| (r.0, r.1.as_str())).collect::<Vec<_>>(),
            [(1, "superseded"), (2, "failed"), (3, "superseded"), (4, "failed"), (5, "deployed")]
        );
    })
    .await;
}

// ---- connections cut, answers too slow -----------------------------------------------------

/// A GET whose connection is cut is sent again (client-go retries reads after a reset); a
/// PATCH is not (the apiserver may have applied it): the upgrade fails naming the object and
/// the request. An answer slower than the request timeout fails the same way. Each failure is
/// one failed revision; the next upgrade deploys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_cut_and_slow_answers_fail_clearly() {
    with_namespace(|ns| async move {
        let s = Scratch::new("faults-cut");
        let home = s.home();
        let name = "faults-cut";
        let proxy = FaultProxy::start().await.expect("proxy");
        let secrets = format!("/api/v1/namespaces/{ns}/secrets");
        let cms = format!("/api/v1/namespaces/{ns}/configmaps/*");

        proxy.add(Rule::new(Fault::Drop).method("GET").path(&secrets).times(1));
        let cfg = via(&proxy, &ns).await;
        action::install(&cfg, chart(&s), values("1"), &install_opts(name))
            .await
            .unwrap_or_else(|e| panic!("install through a cut read: {e}"));
        assert_eq!(proxy.fired(), [1]);
        assert_each_fault_retried(&proxy.log());
        assert_eq!(
            history(&home, &ns, name).await,
            [h(1, "deployed", "Install complete")]
        );

        let port = proxy.url().rsplit(':').next().unwrap().to_string();
        proxy.clear();
        proxy.add(Rule::new(Fault::Drop).method("PATCH").path(&cms).times(1));
        let mut cfg = via(&proxy, &ns).await;
        let e = action::upgrade(&mut cfg, name, chart(&s), values("2"), &upgrade_opts())
            .await
            .expect_err("cut write");
        let cut_err = e.message.clone();
        assert_eq!(proxy.fired(), [1], "the PATCH was sent again");
        assert!(
            e.message
                .starts_with(&format!("server-side apply failed for object {ns}/{name}-"))
                && e.message.contains(&format!(
                    ": Patch \"http://127.0.0.1:{port}/api/v1/namespaces/{ns}/configmaps/{name}-"
                ))
                && e.message.ends_with("\": EOF"),
            "{e}"
        );

        proxy.clear();
        proxy.add(
            Rule::new(Fault::Delay(Duration::from_secs(6)))
                .method("PATCH")
                .path(&cms)
                .times(1),
        );
        let mut cfg = config(proxy.kubeconfig(), &ns, Some(Duration::from_secs(2))).await;
        let t = Instant::now();
        let e = action::upgrade(&mut cfg, name, chart(&s), values("3"), &upgrade_opts())
            .await
            .expect_err("slow answer");
        assert!(
            t.elapsed() < Duration::from_secs(6),
            "waited for the slow answer: {:?}",
            t.elapsed()
        );
        assert!(
            e.message
                .starts_with(&format!("server-side apply failed for object {ns}/{name}-"))
                && e.message.ends_with(
                    ": net/http: request canceled (Client.Timeout exceeded while awaiting headers)"
                ),
            "{e}"
        );

        proxy.clear();
        let mut cfg = via(&proxy, &ns).await;
        let rel = action::upgrade(&mut cfg, name, chart(&s), values("4"), &upgrade_opts())
            .await
            .expect("upgrade");
        assert_eq!(rel.version, 4);
        let hist = history(&home, &ns, name).await;
        assert_eq!(
            hist.iter().map(|r| (r.0, r.1.as_str())).collect::<Vec<_>>(),
            [
                (1, "superseded"),
                (2, "failed"),
                (3, "failed"),
                (4, "deployed")
            ],
            "{hist:?}"
        );

        // The real helm through a cut PATCH: one try, failed revision.
        proxy.clear();
        proxy.add(Rule::new(Fault::Drop).method("PATCH").path(&cms).times(1));
        let mut cmd = helm(&home, Some(proxy.kubeconfig()));
        cmd.args([
            "upgrade",
            name,
            s.chart().to_str().unwrap(),
            "-n",
            &ns,
            "--set",
            "v=5",
        ]);
        let o = output(cmd).await;
        assert!(!o.status.success(), "{}", text(&o));
        assert_eq!(proxy.fired(), [1]);
        assert!(
            text(&o).contains("Error: UPGRADE FAILED: ") && text(&o).contains("EOF"),
            "{}",
            text(&o)
        );
        assert_eq!(
            normalized(&helm_error(&o), name),
            normalized(&format!("UPGRADE FAILED: {cut_err}"), name),
            "helm and rudder word it alike"
        );
        let hist = history(&home, &ns, name).await;
        assert_eq!(
            hist.last().map(|r| (r.0, r.1.as_str())),
            Some((5, "failed")),
            "{hist:?}"
        );
    })
    .await;
}

// ---- two clients on one release ------------------------------------------------------------

/// Two clients installing, then uninstalling, the same release at the same time: the second
/// is refused while the first holds the release's lease, naming it; afterwards it gets Helm's
/// own answer. Exactly one revision is written, and no Lease is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_installs_and_uninstalls_do_not_interleave() {
    with_namespace(|ns| async move {
        let s = Scratch::new("faults-two");
        let home = s.home();
        let name = "faults-two";
        // Client A goes through the proxy, which holds its record write back for 3 s.
        let proxy = FaultProxy::start().await.expect("proxy");
        proxy.add(
            Rule::new(Fault::Delay(Duration::from_secs(3)))
                .method("POST")
                .path(&format!("/api/v1/namespaces/{ns}/secrets"))
                .times(1),
        );
        let cfg_a = via(&proxy, &ns).await;
        let c = chart(&s);
        let a = tokio::spawn(async move {
            let g = lease::begin_with(&cfg_a, DriverKind::Secret, name, "install", false, &settings("faults-client-a", 30)).await?;
            let r = action::install(&cfg_a, c, values("a"), &install_opts(name)).await;
            lease::end(g).await;
            r
        });
        let client = direct_client().await;
        let t = Instant::now();
        while rudder_state::lease::read(&client, &ns, name).await.unwrap().is_none() {
            assert!(t.elapsed() < Duration::from_secs(20), "client A never took the lease");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let cfg_b = direct(&ns).await;
        let e = lease::begin_with(&cfg_b, DriverKind::Secret, name, "install", false, &settings("faults-client-b", 30))
            .await
            .err()
            .expect("B refused while A installs");
        assert!(
            e.message.starts_with(&format!(
                "another operation (install/upgrade/rollback) is in progress: release \"{name}\" is held by faults-client-a (install) until "
            )),
            "{e}"
        );
        let rel = a.await.unwrap().expect("A's install");
        assert_eq!(rel.version, 1);
        // After A: B gets Helm's answer, and writes nothing.
        let g = lease::begin_with(&cfg_b, DriverKind::Secret, name, "install", false, &settings("faults-client-b", 30))
            .await
            .expect("free again");
        let e = action::install(&cfg_b, chart(&s), values("b"), &install_opts(name)).await.expect_err("name in use");
        lease::end(g).await;
        assert_eq!(e.message, "release name check failed: cannot reuse a name that is still in use");
        assert_eq!(history(&home, &ns, name).await, [h(1, "deployed", "Install complete")]);
        assert_eq!(live_v(&ns, &format!("{name}-a")).await.as_deref(), Some("a"));

        // Uninstall: A's delete of the objects held back 3 s.
        proxy.clear();
        proxy.add(
            Rule::new(Fault::Delay(Duration::from_secs(3)))
                .method("DELETE")
                .path(&format!("/api/v1/namespaces/{ns}/configmaps/*"))
                .times(1),
        );
        let cfg_a = via(&proxy, &ns).await;
        let a = tokio::spawn(async move {
            let g = lease::begin_with(&cfg_a, DriverKind::Secret, name, "uninstall", false, &settings("faults-client-a", 30)).await?;
            let r = action::uninstall(&cfg_a, name, &UninstallOptions::default()).await;
            lease::end(g).await;
            r
        });
        let t = Instant::now();
        while rudder_state::lease::read(&client, &ns, name).await.unwrap().is_none() {
            assert!(t.elapsed() < Duration::from_secs(20), "client A never took the lease");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let e = lease::begin_with(&cfg_b, DriverKind::Secret, name, "uninstall", false, &settings("faults-client-b", 30))
            .await
            .err()
            .expect("B refused while A uninstalls");
        assert!(e.message.contains("is held by faults-client-a (uninstall) until "), "{e}");
        a.await.unwrap().expect("A's uninstall");
        let g = lease::begin_with(&cfg_b, DriverKind::Secret, name, "uninstall", false, &settings("faults-client-b", 30))
            .await
            .expect("free again");
        let e = action::uninstall(&cfg_b, name, &UninstallOptions::default()).await.expect_err("gone");
        lease::end(g).await;
        assert_eq!(e.message, format!("uninstall: Release not loaded: {name}: release: not found"));
        assert_eq!(list(&home, &ns).await, []);
        assert!(rudder_state::lease::read(&client, &ns, name).await.unwrap().is_none(), "lease left behind");
    })
    .await;
}
