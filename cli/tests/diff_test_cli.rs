//! `rudder diff upgrade|rollback|install` and `rudder test` on the test bed. The diffs are
//! checked against what is live (a diff changes nothing; an unchanged chart gives an empty
//! diff); `rudder test` is run next to the real helm 4's `helm test` on twin releases and
//! must print the same bytes, exit the same way and leave the same hook phases in the record.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rudder_conformance::testbed;
use serde_json::Value;

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A namespace created for one test and deleted after it.
struct Namespace(String);

impl Namespace {
    fn new(prefix: &str) -> Namespace {
        let name = testbed::unique_name(prefix);
        kubectl(&["create", "namespace", &name]);
        Namespace(name)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&testbed::testbed().kubeconfig)
            .args(["delete", "namespace", &self.0, "--wait=false"])
            .output();
    }
}

fn kubectl(args: &[&str]) -> String {
    let kc = testbed::testbed().kubeconfig.clone();
    let mut c = Command::new("kubectl");
    c.arg("--kubeconfig").arg(&kc).args(args);
    let out = testbed::run_ok(&mut c).expect("kubectl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run(program: &Path, home: &Path, args: &[&str]) -> Output {
    testbed::testbed()
        .command(program, home)
        .args(args)
        .output()
        .expect("run")
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "failed ({}):\n{}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn rudder() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rudder"))
}

/// A chart with a ConfigMap, a Secret, an optional second ConfigMap and two test hooks
/// (ConfigMaps: kwok runs no pods, and a ConfigMap hook is complete once created, for Helm
/// as for Rudder).
fn chart(dir: &Path) -> PathBuf {
    let chart = dir.join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: reldiff\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("values.yaml"),
        "msg: hello\ncount: 1\npassword: s3cret\nextra: true\nhookmsg: one\ntestmsg: one\n",
    )
    .unwrap();
    // A Deployment: the API server defaults many fields, which must not show as changes.
    std::fs::write(
        chart.join("templates/deploy.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\nspec:\n  replicas: {{ .Values.replicas | default 1 }}\n  selector:\n    matchLabels:\n      app: {{ .Release.Name }}\n  template:\n    metadata:\n      labels:\n        app: {{ .Release.Name }}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/hook.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-hook\n  annotations:\n    helm.sh/hook: post-upgrade\n    helm.sh/hook-delete-policy: hook-succeeded\ndata:\n  msg: {{ .Values.hookmsg | quote }}\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  msg: {{ .Values.msg | quote }}\n  count: {{ .Values.count | quote }}\n  fixed: same\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/secret.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-sec\nstringData:\n  password: {{ .Values.password | quote }}\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/extra.yaml"),
        "{{- if .Values.extra }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-extra\ndata:\n  k: v\n{{- end }}\n",
    )
    .unwrap();
    for (name, weight) in [("t1", "1"), ("t2", "2")] {
        std::fs::write(
            chart.join(format!("templates/test-{name}.yaml")),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{{{ .Release.Name }}}}-{name}\n  annotations:\n    helm.sh/hook: test\n    helm.sh/hook-weight: \"{weight}\"\ndata:\n  ok: {{{{ .Values.testmsg | quote }}}}\n"),
        )
        .unwrap();
    }
    chart
}

/// The `+`/`-` lines of a report.
fn changed(report: &str) -> Vec<String> {
    report
        .lines()
        .filter(|l| l.starts_with("+ ") || l.starts_with("- ") || *l == "+" || *l == "-")
        .map(str::to_string)
        .collect()
}

/// Entry headers (`ns, name, Kind (v1) has changed:`).
fn headers(report: &str) -> Vec<String> {
    report
        .lines()
        .filter(|l| l.ends_with(':') && l.contains(", "))
        .map(str::to_string)
        .collect()
}

#[test]
fn diff_upgrade_rollback_install() {
    let dir = std::env::temp_dir().join(testbed::unique_name("reldiff-diff"));
    std::fs::create_dir_all(&dir).unwrap();
    let scratch = Scratch(dir.clone());
    let home = scratch.0.join("home");
    let chart = chart(&dir);
    let chart = chart.to_str().unwrap();
    let ns = Namespace::new("reldiff-diff");
    let ns = ns.0.as_str();
    let r = rudder();
    ok(run(&r, &home, &["install", "web", chart, "-n", ns]));
    let diff = |extra: &[&str]| {
        let mut args = vec![
            "diff",
            "upgrade",
            "web",
            chart,
            "-n",
            ns,
            "--no-color",
            "--detailed-exitcode",
        ];
        args.extend_from_slice(extra);
        run(&r, &home, &args)
    };

    // No change: nothing printed, exit 0.
    let o = diff(&[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(stdout(&o), "");

    // One value changed: that line and nothing else, exit 2.
    let o = diff(&["--set", "msg=bye"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report = stdout(&o);
    assert_eq!(
        headers(&report),
        vec![format!("{ns}, web-cm, ConfigMap (v1) has changed:")],
        "{report}"
    );
    assert_eq!(
        changed(&report),
        vec!["-   msg: hello", "+   msg: bye"],
        "{report}"
    );
    assert!(
        report.contains("\n    fixed: same\n"),
        "all lines shown by default:\n{report}"
    );
    let o = diff(&["--set", "replicas=3"]);
    let report = stdout(&o);
    assert_eq!(
        headers(&report),
        vec![format!("{ns}, web-web, Deployment (apps) has changed:")],
        "{report}"
    );
    assert_eq!(
        changed(&report),
        vec!["-   replicas: 1", "+   replicas: 3"],
        "{report}"
    );
    // --context 0 leaves the unchanged lines out.
    let o = diff(&["--set", "msg=bye", "--context", "0"]);
    assert!(!stdout(&o).contains("fixed: same"), "{}", stdout(&o));
    // Nothing was applied.
    assert!(
        kubectl(&["get", "configmap", "web-cm", "-n", ns, "-o", "yaml"]).contains("msg: hello")
    );

    // Secrets: masked with their lengths, never printed.
    let o = diff(&["--set", "password=n3w"]);
    let report = stdout(&o);
    assert_eq!(
        headers(&report),
        vec![format!("{ns}, web-sec, Secret (v1) has changed:")],
        "{report}"
    );
    assert_eq!(
        changed(&report),
        vec![
            "-   password: '-------- # (6 bytes)'",
            "+   password: '++++++++ # (3 bytes)'"
        ],
        "{report}"
    );
    for secret in ["s3cret", "n3w", "czNjcmV0", "bjN3"] {
        assert!(!report.contains(secret), "{secret} leaked:\n{report}");
    }
    let o = diff(&["--set", "password=n3w", "--suppress-secrets"]);
    assert!(
        stdout(&o).contains("+ Changes suppressed on sensitive content of type Secret"),
        "{}",
        stdout(&o)
    );

    // An object the chart no longer renders is shown as removed.
    let o = diff(&["--set", "extra=false"]);
    assert_eq!(o.status.code(), Some(2));
    let report = stdout(&o);
    assert_eq!(
        headers(&report),
        vec![format!("{ns}, web-extra, ConfigMap (v1) has been removed:")],
        "{report}"
    );
    assert!(
        changed(&report).contains(&"-   k: v".to_string()),
        "{report}"
    );

    // Hooks are compared record to record: test hooks only when asked, none with --no-hooks.
    let o = diff(&["--set", "hookmsg=two"]);
    let report = stdout(&o);
    assert_eq!(
        headers(&report),
        vec![format!("{ns}, web-hook, ConfigMap (v1) has changed:")],
        "{report}"
    );
    assert_eq!(
        changed(&report),
        vec!["-   msg: one", "+   msg: two"],
        "{report}"
    );
    assert_eq!(stdout(&diff(&["--set", "hookmsg=two", "--no-hooks"])), "");
    assert_eq!(diff(&["--set", "testmsg=two"]).status.code(), Some(0));
    let o = diff(&["--set", "testmsg=two", "--include-tests"]);
    let want: Vec<String> = ["web-t1", "web-t2"]
        .iter()
        .map(|n| format!("{ns}, {n}, ConfigMap (v1) has changed:"))
        .collect();
    assert_eq!(headers(&stdout(&o)), want, "{}", stdout(&o));

    // Rollback: after an upgrade, back to revision 1 undoes it; to revision 2 is empty.
    ok(run(
        &r,
        &home,
        &["upgrade", "web", chart, "-n", ns, "--set", "msg=bye"],
    ));
    let o = run(
        &r,
        &home,
        &["diff", "rollback", "web", "-n", ns, "--no-color"],
    );
    let report = stdout(&ok(o));
    assert_eq!(
        changed(&report),
        vec!["-   msg: bye", "+   msg: hello"],
        "{report}"
    );
    let o = ok(run(
        &r,
        &home,
        &[
            "diff",
            "rollback",
            "web",
            "2",
            "-n",
            ns,
            "--detailed-exitcode",
        ],
    ));
    assert_eq!(stdout(&o), "");

    // --reuse-values keeps msg=bye: no change.
    let o = diff(&["--reuse-values"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // Install: every object added; a missing release with --install too.
    let o = ok(run(
        &r,
        &home,
        &["diff", "install", "other", chart, "-n", ns, "--no-color"],
    ));
    let report = stdout(&o);
    let want: Vec<String> = [
        "other-cm, ConfigMap (v1)",
        "other-extra, ConfigMap (v1)",
        "other-hook, ConfigMap (v1)",
        "other-sec, Secret (v1)",
        "other-web, Deployment (apps)",
    ]
    .iter()
    .map(|k| format!("{ns}, {k} has been added:"))
    .collect();
    assert_eq!(headers(&report), want, "{report}");
    let banner = "********************\n\n\tRelease was not present in Helm.  Diff will show entire contents as new.\n\n********************\n";
    let o = ok(run(
        &r,
        &home,
        &[
            "diff",
            "upgrade",
            "other",
            chart,
            "-n",
            ns,
            "--install",
            "--no-color",
        ],
    ));
    assert_eq!(stdout(&o), format!("{banner}{report}"));
    // helmfile's command line: --allow-unreleased and --kube-version, into a namespace that does
    // not exist yet (helmfile diffs before it creates namespaces).
    let absent = format!("{ns}-absent");
    let o = ok(run(
        &r,
        &home,
        &["diff", "upgrade", "--allow-unreleased", "other", chart, "-n", &absent, "--kube-version", "v1.30.0", "--no-color"],
    ));
    let added: Vec<String> = headers(&stdout(&o));
    assert_eq!(added.len(), want.len(), "{}", stdout(&o));
    assert!(added.iter().all(|h| h.starts_with(&format!("{absent}, ")) && h.ends_with(" has been added:")), "{added:?}");
    let o = run(&r, &home, &["diff", "upgrade", "other", chart, "-n", ns]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("Include the `--allow-unreleased`"),
        "{}",
        stdout(&o)
    );
    assert!(kubectl(&["get", "configmaps", "-n", ns])
        .lines()
        .all(|l| !l.starts_with("other-")));
}

/// The hooks of a release's last record as real helm reads them, times masked.
fn hook_runs(helm: &Path, home: &Path, ns: &str) -> Vec<Value> {
    let o = ok(run(helm, home, &["status", "web", "-n", ns, "-o", "json"]));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["hooks"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|h| {
            let lr = &h["last_run"];
            serde_json::json!({
                "name": h["name"], "events": h["events"], "delete_policies": h["delete_policies"],
                "phase": lr["phase"],
                "started": lr["started_at"].as_str().is_some_and(|s| !s.is_empty()),
                "completed": lr["completed_at"].as_str().is_some_and(|s| !s.is_empty()),
            })
        })
        .collect()
}

fn masked(o: &Output, ns: &str) -> (String, String, Option<i32>) {
    let mask = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .lines()
            .map(|l| {
                for p in ["LAST DEPLOYED: ", "Last Started:   ", "Last Completed: "] {
                    if l.starts_with(p) {
                        return format!("{p}<time>");
                    }
                }
                l.replace(ns, "NS")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    (mask(&o.stdout), mask(&o.stderr), o.status.code())
}

#[test]
fn test_prints_and_records_as_helm() {
    let dir = std::env::temp_dir().join(testbed::unique_name("reldiff-test"));
    std::fs::create_dir_all(&dir).unwrap();
    let scratch = Scratch(dir.clone());
    let home = scratch.0.join("home");
    let chart = chart(&dir);
    let chart = chart.to_str().unwrap();
    let helm = testbed::oracle("helm");
    let r = rudder();
    let ns_h = Namespace::new("reldiff-th");
    let ns_r = Namespace::new("reldiff-tr");
    ok(run(&helm, &home, &["install", "web", chart, "-n", &ns_h.0]));
    ok(run(&r, &home, &["install", "web", chart, "-n", &ns_r.0]));
    assert_eq!(
        hook_runs(&helm, &home, &ns_h.0),
        hook_runs(&helm, &home, &ns_r.0)
    );
    for args in [
        vec!["--filter", "name=web-t2"],
        vec!["--filter", "!name=web-t2"],
        vec![],
        vec!["--logs"],
        vec!["--timeout", "bogus"],
    ] {
        let run_both = |prog: &Path, ns: &str| {
            let mut a = vec!["test", "web", "-n", ns];
            a.extend_from_slice(&args);
            run(prog, &home, &a)
        };
        let h = run_both(&helm, &ns_h.0);
        let o = run_both(&r, &ns_r.0);
        assert_eq!(
            masked(&o, &ns_r.0),
            masked(&h, &ns_h.0),
            "helm test {args:?}"
        );
        assert_eq!(
            hook_runs(&helm, &home, &ns_r.0),
            hook_runs(&helm, &home, &ns_h.0),
            "records after {args:?}"
        );
    }
    // Rudder on the release real helm installed: the same output, a record helm reads.
    let before = hook_runs(&helm, &home, &ns_h.0);
    let h = run(&helm, &home, &["test", "web", "-n", &ns_r.0]);
    let o = run(&r, &home, &["test", "web", "-n", &ns_h.0]);
    assert_eq!(masked(&o, &ns_h.0), masked(&h, &ns_r.0));
    assert_eq!(hook_runs(&helm, &home, &ns_h.0), before);
    // Missing release.
    let h = run(&helm, &home, &["test", "nope", "-n", &ns_h.0]);
    let o = run(&r, &home, &["test", "nope", "-n", &ns_r.0]);
    assert_eq!(masked(&o, &ns_r.0), masked(&h, &ns_h.0));
}

/// Plays the kubelet for Pod `name` in `ns`: once kwok has it Running, writes `phase`
/// through the status subresource (kwok keeps bare Pods Running forever).
fn finish_pod(ns: String, name: &'static str, phase: &'static str) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let kc = testbed::testbed().kubeconfig.clone();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
        while std::time::Instant::now() < deadline {
            let got = Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(&kc)
                .args([
                    "get",
                    "pod",
                    name,
                    "-n",
                    &ns,
                    "-o",
                    "jsonpath={.status.phase}",
                ])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            if got == "Running" {
                let patch = format!("{{\"status\":{{\"phase\":\"{phase}\"}}}}");
                let _ = Command::new("kubectl")
                    .arg("--kubeconfig")
                    .arg(&kc)
                    .args([
                        "patch",
                        "pod",
                        name,
                        "-n",
                        &ns,
                        "--subresource=status",
                        "--type=merge",
                        "-p",
                        &patch,
                    ])
                    .output();
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
    })
}

/// The hook deletes itself either way: kwok finishes deleting a Pod by name, so a hook Pod
/// deleted (before-hook-creation) and at once re-created under the same name can lose the
/// new Pod to the old one's deletion; deleting at the end of each run keeps the runs apart.
#[test]
fn pod_tests_succeed_and_fail_as_helm() {
    let dir = std::env::temp_dir().join(testbed::unique_name("reldiff-pod"));
    std::fs::create_dir_all(&dir).unwrap();
    let scratch = Scratch(dir.clone());
    let home = scratch.0.join("home");
    let chart = dir.join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: reldiffpod\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/test-pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-pod\n  annotations:\n    helm.sh/hook: test\n    helm.sh/hook-delete-policy: hook-succeeded,hook-failed\nspec:\n  restartPolicy: Never\n  containers:\n  - name: c\n    image: busybox\n",
    )
    .unwrap();
    let chart = chart.to_str().unwrap();
    let helm = testbed::oracle("helm");
    let r = rudder();
    let ns_h = Namespace::new("reldiff-ph");
    let ns_r = Namespace::new("reldiff-pr");
    ok(run(&helm, &home, &["install", "web", chart, "-n", &ns_h.0]));
    ok(run(&r, &home, &["install", "web", chart, "-n", &ns_r.0]));
    // With --logs the pod is read before its policy deletes it; kwok serves no logs, so both
    // fail alike (same message, exit 1) after printing the status block.
    for (phase, logs) in [("Succeeded", false), ("Failed", false), ("Succeeded", true)] {
        let both: Vec<_> = [(&helm, &ns_h.0), (&r, &ns_r.0)]
            .into_iter()
            .map(|(prog, ns)| {
                let t = finish_pod(ns.clone(), "web-pod", phase);
                let mut args = vec!["test", "web", "-n", ns.as_str(), "--timeout", "60s"];
                if logs {
                    args.push("--logs");
                }
                let o = run(prog, &home, &args);
                t.join().unwrap();
                let gone = !kubectl(&["get", "pods", "-n", ns, "-o", "name"]).contains("web-pod");
                (masked(&o, ns), hook_runs(&helm, &home, ns), gone)
            })
            .collect();
        assert_eq!(both[1], both[0], "pod test {phase}");
        let want = if phase == "Succeeded" && !logs { 0 } else { 1 };
        assert_eq!(
            both[0].0 .2,
            Some(want),
            "helm's exit code: {:?}",
            both[0].0
        );
        assert!(
            both[0].0 .0.contains(&format!("Phase:          {phase}")),
            "{:?}",
            both[0].0
        );
        assert!(both[0].2, "helm deleted the hook pod");
    }
}
