//! A helm upgrade killed mid-operation (SIGKILL while its revision is `pending-upgrade`) is a
//! stale operation: `rudder upgrade` refuses it naming `--recover`, `rudder upgrade --recover`
//! marks the revision failed and upgrades from the last deployed one, and the real helm 4 then
//! reads a clean history, with no Secret deleted by hand (docs/stale-operations.md).

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use rudder_conformance::testbed;

struct Cleanup {
    dir: PathBuf,
    ns: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = testbed::testbed().delete(&format!("/api/v1/namespaces/{}", self.ns));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(program: &Path, home: &Path, args: &[&str]) -> Output {
    testbed::testbed().command(program, home).args(args).output().expect("run")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn killed_helm_upgrade_is_recovered_by_rudder() {
    let tb = testbed::testbed();
    let ns = testbed::unique_name("recover");
    let dir = std::env::temp_dir().join(&ns);
    let _cleanup = Cleanup { dir: dir.clone(), ns: ns.clone() };
    let home = dir.join("home");
    let chart = dir.join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: stuck\nversion: 0.1.0\n").unwrap();
    std::fs::write(chart.join("values.yaml"), "stuck: false\n").unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  stuck: {{ .Values.stuck | quote }}\n",
    )
    .unwrap();
    // A Deployment no node can take: `--wait` never finishes while it is there.
    std::fs::write(
        chart.join("templates/deploy.yaml"),
        "{{- if .Values.stuck }}\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      nodeSelector: {nowhere: \"true\"}\n      containers:\n      - name: web\n        image: example.invalid/web:1\n{{- end }}\n",
    )
    .unwrap();
    let helm = testbed::oracle("helm");
    let rudder = PathBuf::from(env!("CARGO_BIN_EXE_rudder"));
    let chart_s = chart.to_str().unwrap();

    let o = run(&helm, &home, &["install", "r", chart_s, "-n", &ns, "--create-namespace"]);
    assert!(o.status.success(), "helm install: {}", text(&o));

    // helm upgrade --wait, killed once its revision 2 is recorded as pending-upgrade.
    let mut child = tb
        .command(&helm, &home)
        .args(["upgrade", "r", chart_s, "-n", &ns, "--set", "stuck=true", "--wait", "--timeout", "5m"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn helm upgrade");
    let secret = format!("/api/v1/namespaces/{ns}/secrets/sh.helm.release.v1.r.v2");
    let t0 = Instant::now();
    loop {
        let status = tb.get_json(&secret).ok().and_then(|s| s["metadata"]["labels"]["status"].as_str().map(str::to_string));
        if status.as_deref() == Some("pending-upgrade") {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "helm upgrade never reached pending-upgrade");
        std::thread::sleep(Duration::from_millis(200));
    }
    child.kill().expect("SIGKILL helm");
    let _ = child.wait();

    // The real helm is stuck now, as Helm users know it.
    let o = run(&helm, &home, &["upgrade", "r", chart_s, "-n", &ns]);
    assert!(!o.status.success());
    assert!(text(&o).contains("another operation (install/upgrade/rollback) is in progress"), "{}", text(&o));

    // Rudder sees a stale operation and says how to get out of it.
    let o = run(&rudder, &home, &["upgrade", "r", chart_s, "-n", &ns]);
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.starts_with("Error: UPGRADE FAILED: release \"r\": revision 2 is pending-upgrade"), "{err}");
    assert!(err.contains("--recover"), "{err}");

    let o = run(&rudder, &home, &["upgrade", "r", chart_s, "-n", &ns, "--recover"]);
    assert!(o.status.success(), "rudder upgrade --recover: {}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("Release \"r\" has been upgraded. Happy Helming!"), "{}", text(&o));

    // Real helm reads the history Rudder left: 1 superseded, 2 failed (recovered), 3 deployed.
    let o = run(&helm, &home, &["history", "r", "-n", &ns, "-o", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let hist: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let statuses: Vec<&str> = hist.as_array().unwrap().iter().map(|h| h["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["superseded", "failed", "deployed"], "{hist}");
    let desc = hist[1]["description"].as_str().unwrap();
    assert!(desc.starts_with("operation interrupted: pending-upgrade since "), "{desc}");
    // The upgrade from revision 1's values: the stuck Deployment is not there.
    let o = run(&helm, &home, &["get", "manifest", "r", "-n", &ns]);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("kind: Deployment"), "{}", text(&o));
    // And the lease is given back.
    let lease = tb.get_json(&format!("/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/sh.rudder.release.v1.r")).unwrap();
    assert_eq!(lease["code"], 404, "{lease}");
    // The real helm drives the release again.
    let o = run(&helm, &home, &["upgrade", "r", chart_s, "-n", &ns]);
    assert!(o.status.success(), "{}", text(&o));
}
