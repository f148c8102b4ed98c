//! Leases on in-flight operations against the real test bed, and recovery of a release that a
//! killed real helm 4 left `pending-upgrade`.

mod common;

use std::time::Duration;

use common::*;
use k8s_openapi::api::coordination::v1::Lease as KubeLease;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use rudder_state::lease::{self, Lease, LeaseError, Recovery};
use rudder_state::{SecretDriver, Status, Storage};
use serde_json::Value;

/// Runs a test body in its own task so a failing assertion still deletes the namespace.
async fn with_namespace<F, Fut>(body: F)
where
    F: FnOnce(kube::Client, String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let client = client().await;
    let ns = TestNamespace::create(&client, "leases").await;
    let res = tokio::spawn(body(client, ns.name.clone())).await;
    ns.cleanup().await;
    if let Err(e) = res {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn raw_lease(client: &kube::Client, ns: &str, release: &str) -> Option<KubeLease> {
    Api::<KubeLease>::namespaced(client.clone(), ns)
        .get_opt(&lease::lease_name(release))
        .await
        .expect("get lease")
}

fn history_json(home: &std::path::Path, ns: &str, name: &str) -> Vec<Value> {
    let out = run(helm("helm", home).args(["history", name, "-n", ns, "-o", "json"]));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("helm history not JSON ({e}): {out}"))
}

#[tokio::test]
async fn acquire_renew_release() {
    with_namespace(|client, ns| async move {
        let guard = Lease::acquire(&client, &ns, "rel", "upgrade", Duration::from_secs(3))
            .await
            .expect("acquire");
        let holder = guard.holder().unwrap().to_string();
        assert!(holder.starts_with("rudder-"), "{holder}");
        assert_eq!(holder, lease::client_id());

        let first = raw_lease(&client, &ns, "rel").await.expect("lease exists");
        let spec = first.spec.clone().unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some(holder.as_str()));
        assert_eq!(spec.lease_duration_seconds, Some(3));
        assert_eq!(
            first.metadata.annotations.as_ref().unwrap()[lease::OPERATION_ANNOTATION],
            "upgrade"
        );

        // Renewed every duration/3: 4s after taking a 3s lease its renewTime has moved and it
        // is still live.
        tokio::time::sleep(Duration::from_millis(4000)).await;
        let later = raw_lease(&client, &ns, "rel").await.expect("lease exists");
        let t0 = spec.renew_time.unwrap().0;
        let t1 = later.spec.clone().unwrap().renew_time.unwrap().0;
        assert!(t1 > t0, "renewTime not advanced: {t0} -> {t1}");
        let h = lease::read(&client, &ns, "rel").await.unwrap().unwrap();
        assert!(h.live, "{h:?}");
        assert!(!guard.lost());

        guard.release().await.expect("release");
        assert!(raw_lease(&client, &ns, "rel").await.is_none(), "lease not deleted");
    })
    .await;
}

#[tokio::test]
async fn second_client_is_refused_while_the_first_holds_it() {
    with_namespace(|client, ns| async move {
        let dur = Duration::from_secs(30);
        let a = Lease::acquire_as(&client, &ns, "rel", "install", dur, "rudder-test-a")
            .await
            .expect("a acquires");
        let err = Lease::acquire_as(&client, &ns, "rel", "upgrade", dur, "rudder-test-b")
            .await
            .err()
            .expect("b must be refused");
        match &err {
            LeaseError::Held { holder, operation, expires, .. } => {
                assert_eq!(holder, "rudder-test-a");
                assert_eq!(operation, "install");
                assert!(!expires.is_empty());
            }
            other => panic!("expected Held, got {other:?}"),
        }
        let msg = err.to_string();
        assert!(
            msg.starts_with("another operation (install/upgrade/rollback) is in progress")
                && msg.contains("rudder-test-a"),
            "{msg}"
        );

        // Two clients racing for a free lease: exactly one wins.
        a.release().await.unwrap();
        let (x, y) = tokio::join!(
            Lease::acquire_as(&client, &ns, "rel", "upgrade", dur, "rudder-test-x"),
            Lease::acquire_as(&client, &ns, "rel", "upgrade", dur, "rudder-test-y"),
        );
        assert!(x.is_ok() != y.is_ok(), "x: {:?} y: {:?}", x.as_ref().err(), y.as_ref().err());
        let winner = x.or(y).unwrap();
        let on_server = raw_lease(&client, &ns, "rel").await.unwrap();
        assert_eq!(
            on_server.spec.unwrap().holder_identity.as_deref(),
            winner.holder()
        );
        winner.release().await.unwrap();

        let b = Lease::acquire_as(&client, &ns, "rel", "upgrade", dur, "rudder-test-b")
            .await
            .expect("b acquires once released");
        assert!(b.previous().is_none());
        b.release().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn unrenewed_lease_expires_and_the_pending_record_is_stale() {
    with_namespace(|client, ns| async move {
        let scratch = Scratch::new("leases-exp");
        let home = scratch.0.join("home");
        let chart = tiny_chart(&scratch.0, "tiny");
        run(helm("helm", &home).args(["install", "rel", chart.to_str().unwrap(), "-n", &ns]));

        let storage = Storage::new(SecretDriver::new(client.clone(), &ns));
        assert_eq!(
            lease::recovery_state(&storage, &client, &ns, "rel").await.unwrap(),
            Recovery::Idle
        );

        // A client takes the lease, writes its pending-upgrade revision and dies (stops renewing).
        let dead = Lease::acquire_as(&client, &ns, "rel", "upgrade", Duration::from_secs(2), "rudder-dead-1")
            .await
            .unwrap();
        let mut pending = storage.get("rel", 1).await.unwrap();
        pending.version = 2;
        pending.set_status(Status::PendingUpgrade, "Preparing upgrade");
        storage.create(&pending).await.unwrap();
        dead.abandon();

        match lease::recovery_state(&storage, &client, &ns, "rel").await.unwrap() {
            Recovery::InProgress(h) => {
                assert_eq!(h.holder, "rudder-dead-1");
                assert!(h.message().contains("rudder-dead-1"), "{}", h.message());
            }
            other => panic!("expected InProgress while the lease is live, got {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(2600)).await;
        let stale = match lease::recovery_state(&storage, &client, &ns, "rel").await.unwrap() {
            Recovery::Stale(s) => s,
            other => panic!("expected Stale after expiry, got {other:?}"),
        };
        assert_eq!((stale.revision, stale.status.clone()), (2, Status::PendingUpgrade));
        let old = stale.lease.clone().expect("the expired lease is reported");
        assert_eq!(old.holder, "rudder-dead-1");
        assert!(!old.live);
        assert!(stale.message().contains("--recover"), "{}", stale.message());

        // Real helm is stuck on it, as it would be after the killed client.
        let stuck = helm("helm", &home)
            .args(["upgrade", "rel", chart.to_str().unwrap(), "-n", &ns])
            .output()
            .unwrap();
        assert!(!stuck.status.success());
        assert!(
            String::from_utf8_lossy(&stuck.stderr)
                .contains("another operation (install/upgrade/rollback) is in progress"),
            "{}",
            String::from_utf8_lossy(&stuck.stderr)
        );

        // Another client takes over the expired lease and recovers.
        let next = Lease::acquire_as(&client, &ns, "rel", "upgrade", Duration::from_secs(30), "rudder-next-2")
            .await
            .expect("an expired lease can be taken over");
        assert_eq!(next.previous().map(|h| h.holder.as_str()), Some("rudder-dead-1"));
        let on_server = raw_lease(&client, &ns, "rel").await.unwrap();
        assert_eq!(on_server.spec.unwrap().lease_transitions, Some(1));
        let recovered = lease::recover(&storage, &next, &stale).await.unwrap();
        assert_eq!(recovered.status(), Status::Failed);
        let desc = format!(
            "operation interrupted: lease of rudder-dead-1 expired at {}; recovered by rudder",
            old.expires
        );
        assert_eq!(recovered.info.as_ref().unwrap().description, desc);
        // A second recover of the same stale state is refused: nothing is pending any more.
        assert!(matches!(
            lease::recover(&storage, &next, &stale).await,
            Err(LeaseError::NotStale { .. })
        ));
        next.release().await.unwrap();

        assert_eq!(
            lease::recovery_state(&storage, &client, &ns, "rel").await.unwrap(),
            Recovery::Idle
        );
        assert_eq!(storage.deployed("rel").await.unwrap().version, 1);
        let hist = history_json(&home, &ns, "rel");
        assert_eq!(hist.len(), 2, "{hist:?}");
        assert_eq!(hist[1]["status"], "failed");
        assert_eq!(hist[1]["description"], desc.as_str());
        run(helm("helm", &home).args(["upgrade", "rel", chart.to_str().unwrap(), "-n", &ns]));
        let hist = history_json(&home, &ns, "rel");
        let statuses: Vec<&str> = hist.iter().map(|h| h["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["superseded", "failed", "deployed"]);
    })
    .await;
}

/// A chart whose upgrade adds a Deployment that can never become ready (no node matches its
/// nodeSelector), so `helm upgrade --wait` sits in pending-upgrade until it is killed.
fn never_ready_chart(dir: &std::path::Path) -> std::path::PathBuf {
    let chart = tiny_chart(dir, "stuck");
    std::fs::write(
        chart.join("templates/deploy.yaml"),
        r#"{{- if .Values.stuck }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-never
spec:
  replicas: 1
  selector:
    matchLabels: {app: never}
  template:
    metadata:
      labels: {app: never}
    spec:
      nodeSelector:
        leases.rudder.sh/no-such-node: "true"
      containers:
      - name: c
        image: registry.invalid/never:1
{{- end }}
"#,
    )
    .unwrap();
    chart
}

#[tokio::test]
async fn helm4_killed_mid_upgrade_is_stale_and_recovered() {
    with_namespace(|client, ns| async move {
        let scratch = Scratch::new("leases-kill");
        let home = scratch.0.join("home");
        let chart = never_ready_chart(&scratch.0);
        let chart_s = chart.to_str().unwrap().to_string();
        run(helm("helm", &home).args(["install", "rel", &chart_s, "-n", &ns]));

        let mut child = helm("helm", &home)
            .args(["upgrade", "rel", &chart_s, "-n", &ns, "--set", "stuck=true", "--wait", "--timeout", "5m"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let s = secrets.get_opt("sh.helm.release.v1.rel.v2").await.unwrap();
            let status = s.and_then(|s| s.metadata.labels).and_then(|l| l.get("status").cloned());
            if status.as_deref() == Some("pending-upgrade") {
                break;
            }
            if let Some(code) = child.try_wait().unwrap() {
                panic!("helm upgrade exited ({code}) before its record was pending-upgrade");
            }
            assert!(std::time::Instant::now() < deadline, "no pending-upgrade record within 60s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Let it start waiting on the Deployment, then SIGKILL (std's kill).
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(child.try_wait().unwrap().is_none(), "helm upgrade finished although the Deployment cannot be ready");
        child.kill().unwrap();
        child.wait().unwrap();

        let storage = Storage::new(SecretDriver::new(client.clone(), &ns));
        let stale = match lease::recovery_state(&storage, &client, &ns, "rel").await.unwrap() {
            Recovery::Stale(s) => s,
            other => panic!("expected Stale for the killed helm, got {other:?}"),
        };
        assert_eq!((stale.revision, stale.status.clone()), (2, Status::PendingUpgrade));
        assert!(stale.lease.is_none(), "helm keeps no lease");
        assert!(stale.since.is_some());

        let stuck = helm("helm", &home)
            .args(["upgrade", "rel", &chart_s, "-n", &ns])
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&stuck.stderr)
                .contains("another operation (install/upgrade/rollback) is in progress"),
            "helm should be stuck before recovery: {}",
            String::from_utf8_lossy(&stuck.stderr)
        );

        let guard = Lease::acquire(&client, &ns, "rel", "upgrade", Duration::from_secs(30))
            .await
            .unwrap();
        let recovered = lease::recover(&storage, &guard, &stale).await.unwrap();
        guard.release().await.unwrap();
        let desc = recovered.info.as_ref().unwrap().description.clone();
        assert!(
            desc.starts_with("operation interrupted: pending-upgrade since ")
                && desc.ends_with("with no lease held; recovered by rudder"),
            "{desc}"
        );

        // The next real helm upgrade proceeds from revision 1 (no Secret deleted by hand).
        run(helm("helm", &home).args(["upgrade", "rel", &chart_s, "-n", &ns]));
        let hist = history_json(&home, &ns, "rel");
        let rows: Vec<(i64, &str)> = hist
            .iter()
            .map(|h| (h["revision"].as_i64().unwrap(), h["status"].as_str().unwrap()))
            .collect();
        assert_eq!(rows, [(1, "superseded"), (2, "failed"), (3, "deployed")]);
        assert_eq!(hist[1]["description"], desc.as_str());
        // The plain-text history as helm prints it also reads.
        let text = run(helm("helm", &home).args(["history", "rel", "-n", &ns]));
        assert!(text.contains("operation interrupted"), "{text}");
        assert!(raw_lease(&client, &ns, "rel").await.is_none());
    })
    .await;
}
