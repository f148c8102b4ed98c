//! `rudder` invoked as `helm` for install / upgrade / rollback / uninstall next to the real
//! helm 4 on the test bed: the same stdout (timestamps and namespaces aside), the same errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rudder_conformance::testbed;

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `helm` symlink to the rudder binary, so it speaks as helm.
fn rudder_as_helm(dir: &Path) -> PathBuf {
    let link = dir.join("bin/helm");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_rudder"), &link).unwrap();
    link
}

fn cmd(program: &Path, home: &Path, args: &[&str]) -> Output {
    testbed::testbed()
        .command(program, home)
        .args(args)
        .output()
        .expect("run")
}

/// stdout and stderr with the namespace and the LAST DEPLOYED time masked.
fn shown(o: &Output, ns: &str) -> (String, String, bool) {
    let mask = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .lines()
            .map(|l| {
                if l.starts_with("LAST DEPLOYED: ") {
                    "LAST DEPLOYED: <time>".to_string()
                } else {
                    l.replace(ns, "NS")
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    (mask(&o.stdout), mask(&o.stderr), o.status.success())
}

fn kubectl_ns(action: &str, ns: &str) {
    let kc = testbed::testbed().kubeconfig.clone();
    let mut c = Command::new("kubectl");
    c.arg("--kubeconfig").arg(&kc).args([action, "namespace", ns]);
    if action == "delete" {
        c.arg("--wait=false");
    }
    testbed::run_ok(&mut c).expect("kubectl namespace");
}

#[test]
fn install_upgrade_rollback_uninstall_print_as_helm() {
    let dir = std::env::temp_dir().join(testbed::unique_name("relcore-cli"));
    std::fs::create_dir_all(&dir).unwrap();
    let scratch = Scratch(dir.clone());
    let rudder = rudder_as_helm(&dir);
    let helm = testbed::oracle("helm");
    let home = scratch.0.join("home");
    let chart = dir.join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: clitest\nversion: 0.1.0\nappVersion: \"2.0\"\n",
    )
    .unwrap();
    std::fs::write(chart.join("values.yaml"), "msg: hello\n").unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  msg: {{ .Values.msg | quote }}\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/secret.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-s\nstringData:\n  pw: hunter2\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/NOTES.txt"),
        "  Release {{ .Release.Name }} says {{ .Values.msg }}.\n\n",
    )
    .unwrap();
    let c = chart.to_str().unwrap();

    let (ns_r, ns_h) = (testbed::unique_name("relcore-cli"), testbed::unique_name("relcore-cli"));
    kubectl_ns("create", &ns_r);
    kubectl_ns("create", &ns_h);
    let steps: Vec<Vec<&str>> = vec![
        vec!["install", "app", c],
        vec!["install", "app", c],
        vec!["upgrade", "app", c, "--set", "msg=bye"],
        vec!["upgrade", "app", c, "-o", "yaml", "--set", "msg=yaml"],
        vec!["rollback", "app", "1"],
        vec!["rollback", "app", "9"],
        vec!["upgrade", "--install", "other", c, "--description", "first one"],
        vec!["install", "dry", c, "--dry-run=server"],
        vec!["upgrade", "missing", c],
        vec!["upgrade", "app", c, "--force-replace"],
        vec!["rollback", "app", "2", "--force"],
        vec!["history", "app"],
        vec!["upgrade", "app", c, "--force-replace", "--force-conflicts"],
        vec!["uninstall", "app", "--keep-history"],
        vec!["upgrade", "--install", "app", c, "--set", "msg=again"],
        vec!["install", "client", c, "--dry-run=client", "--set", "msg=dry"],
        vec!["install", "hidden", c, "--dry-run=server", "--hide-secret"],
        vec!["install", "hidden", c, "--hide-secret"],
        vec!["uninstall", "app", "other"],
        vec!["uninstall", "app"],
        vec!["install", "x", c, "--kube-token", "bogus"],
        vec!["upgrade", "x", c, "--kube-context", "nope"],
        vec!["uninstall", "x", "--kube-token", "bogus"],
        vec!["rollback", "x", "--kube-apiserver", "https://127.0.0.1:1"],
    ];
    let mut failures = Vec::new();
    for step in &steps {
        let mut a: Vec<&str> = step.clone();
        a.extend(["-n", &ns_r]);
        let ours = shown(&cmd(&rudder, &home, &a), &ns_r);
        let mut b: Vec<&str> = step.clone();
        b.extend(["-n", &ns_h]);
        let theirs = shown(&cmd(&helm, &home, &b), &ns_h);
        // -o yaml has times and chart modtimes of its own: compare the shape only there.
        // `history` is another helper's command: read it with real helm on both sides.
        if step[0] == "history" {
            let ours = shown(&cmd(&helm, &home, &a), &ns_r);
            let theirs = shown(&cmd(&helm, &home, &b), &ns_h);
            let cols = |s: &str| {
                s.lines()
                    .map(|l| {
                        l.split('\t')
                            .map(str::trim)
                            .filter(|c| !c.contains(" 20"))
                            .collect::<Vec<_>>()
                            .join("|")
                    })
                    .collect::<Vec<_>>()
            };
            if cols(&ours.0) != cols(&theirs.0) {
                failures.push(format!(
                    "{step:?}\n--- rudder's release\n{}\n--- helm's release\n{}",
                    ours.0, theirs.0
                ));
            }
            continue;
        }
        let same = if step.contains(&"yaml") {
            ours.2 == theirs.2
                && ours.0.lines().filter(|l| !l.starts_with(' ')).count()
                    == theirs.0.lines().filter(|l| !l.starts_with(' ')).count()
        } else {
            ours == theirs
        };
        if !same {
            failures.push(format!("{step:?}\n--- rudder\n{ours:?}\n--- helm\n{theirs:?}"));
        }
    }
    // The LAST DEPLOYED time rudder printed is the stored one in helm's format.
    let installed = cmd(&rudder, &home, &["upgrade", "--install", "timed", c, "-n", &ns_r]);
    let status = cmd(&helm, &home, &["status", "timed", "-n", &ns_r]);
    let line = |o: &Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .find(|l| l.starts_with("LAST DEPLOYED: "))
            .map(str::to_string)
    };
    assert!(line(&installed).is_some());
    assert_eq!(line(&installed), line(&status));
    kubectl_ns("delete", &ns_r);
    kubectl_ns("delete", &ns_h);
    assert!(
        failures.is_empty(),
        "{} of {} steps differ:\n{}",
        failures.len(),
        steps.len(),
        failures.join("\n\n")
    );
}
