//! The test bed works end to end with the real tools: real helm v4 installs the corpus's podinfo
//! chart with `--wait` onto the real apiserver and its Deployment becomes Ready; a chart goes
//! through the real OCI registry; the oracles report the pinned versions.

use rudder_conformance::testbed::{
    corpus_dir, oracle, pinned_versions, run_ok, testbed, unique_name, workspace_root,
};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn apiserver_reports_the_pinned_kubernetes_version() {
    let tb = testbed();
    let version = tb.get_json("/version").unwrap();
    assert_eq!(version["gitVersion"], pinned_versions()["KUBERNETES_VERSION"].as_str());
    let nodes = tb.get_json("/api/v1/nodes").unwrap();
    let ready = nodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| {
            n["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
        })
        .count();
    assert!(ready >= 1, "no Ready node on the test bed: {nodes}");
}

#[test]
fn helm_installs_podinfo_with_wait_and_the_deployment_becomes_ready() {
    let tb = testbed();
    let home = tempdir("helm-home");
    let ns = unique_name("smoke");
    let chart = corpus_dir().join("charts/podinfo");
    let out = run_ok(tb.command(oracle("helm"), &home).args([
        "install",
        "podinfo",
        chart.to_str().unwrap(),
        "--namespace",
        &ns,
        "--create-namespace",
        "--wait",
        "--timeout",
        "120s",
    ]))
    .unwrap();
    assert!(stdout(&out).contains("STATUS: deployed"), "{}", stdout(&out));

    // Read the Deployment back from the apiserver: Ready means all replicas available.
    let deployments = tb.get_json(&format!("/apis/apps/v1/namespaces/{ns}/deployments")).unwrap();
    let items = deployments["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{deployments}");
    let d = &items[0];
    let want = d["spec"]["replicas"].as_i64().unwrap();
    assert!(want >= 1);
    assert_eq!(d["status"]["availableReplicas"].as_i64(), Some(want), "{d}");
    assert_eq!(d["status"]["readyReplicas"].as_i64(), Some(want), "{d}");

    // helm's release record is a real Secret of type helm.sh/release.v1.
    let secret = tb
        .get_json(&format!("/api/v1/namespaces/{ns}/secrets/sh.helm.release.v1.podinfo.v1"))
        .unwrap();
    assert_eq!(secret["type"], "helm.sh/release.v1");

    run_ok(tb.command(oracle("helm"), &home).args(["uninstall", "podinfo", "-n", &ns, "--wait"]))
        .unwrap();
    delete_namespace(tb, &ns);
}

#[test]
fn helm_pushes_and_pulls_a_chart_through_the_local_registry() {
    let registry = servers_env("RUDDER_TEST_REGISTRY");
    let tb = testbed();
    let home = tempdir("helm-oci");
    let work = tempdir("oci-work");
    let chart = corpus_dir().join("charts/podinfo");
    let out = run_ok(
        tb.command(oracle("helm"), &home)
            .args(["package", chart.to_str().unwrap(), "-d"])
            .arg(&work),
    )
    .unwrap();
    let packaged = stdout(&out);
    let tgz = packaged.trim().rsplit(": ").next().unwrap().to_string();
    let repo = format!("oci://{registry}/{}", unique_name("charts"));
    let push = run_ok(tb.command(oracle("helm"), &home).args(["push", &tgz, &repo, "--plain-http"]))
        .unwrap();
    let pushed = format!("{}{}", stdout(&push), String::from_utf8_lossy(&push.stderr));
    let digest = pushed
        .lines()
        .find_map(|l| l.strip_prefix("Digest: "))
        .unwrap_or_else(|| panic!("no digest in helm push output: {pushed}"))
        .to_string();

    let pulled_dir = work.join("pulled");
    let pull = run_ok(
        tb.command(oracle("helm"), &home)
            .args(["pull", &format!("{repo}/podinfo"), "--plain-http", "--untar", "-d"])
            .arg(&pulled_dir),
    )
    .unwrap();
    let pulled = format!("{}{}", stdout(&pull), String::from_utf8_lossy(&pull.stderr));
    assert!(pulled.contains(&digest), "pull digest differs from push: {pulled} vs {digest}");
    let original = std::fs::read_to_string(chart.join("Chart.yaml")).unwrap();
    let roundtrip = std::fs::read_to_string(pulled_dir.join("podinfo/Chart.yaml")).unwrap();
    let version = |s: &str| s.lines().find(|l| l.starts_with("version:")).map(str::to_string);
    assert_eq!(version(&original), version(&roundtrip));
}

#[test]
fn oracles_report_pinned_versions() {
    let v = pinned_versions();
    let run = |name: &str, args: &[&str]| {
        let out = run_ok(std::process::Command::new(oracle(name)).args(args)).unwrap();
        format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr))
    };
    assert!(run("helm", &["version"]).contains(&format!("Version:\"{}\"", v["HELM4_VERSION"])));
    assert!(run("helm3", &["version"]).contains(&format!("Version:\"{}\"", v["HELM3_VERSION"])));
    let helmfile = run("helmfile", &["--version"]);
    assert!(helmfile.contains(v["HELMFILE_VERSION"].trim_start_matches('v')), "{helmfile}");
}

#[test]
fn helm_template_default_kube_version_follows_client_go() {
    // helm v3 and v4 derive the offline default KubeVersion from the client-go they were built with
    // (ldflags or build info); without that, `helm template` would say v1.20.0 and skew every diff.
    let chart = tempdir("kv-chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: kv\nversion: 0.1.0\n").unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "kind: ConfigMap\ndata:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n",
    )
    .unwrap();
    for (tool, module_key, module) in [
        ("helm", "HELM4_VERSION", "helm.sh/helm/v4"),
        ("helm3", "HELM3_VERSION", "helm.sh/helm/v3"),
    ] {
        let out = run_ok(
            std::process::Command::new(oracle(tool)).args(["template", "x", chart.to_str().unwrap()]),
        )
        .unwrap();
        let minor = client_go_minor(module, &pinned_versions()[module_key]);
        let want = format!("kube: \"v1.{minor}.");
        assert!(stdout(&out).contains(&want), "{tool}: want {want}…, got:\n{}", stdout(&out));
    }
}

/// client-go's minor version in a helm module's go.mod (v0.37.1 → 37), read from the module cache.
fn client_go_minor(module: &str, version: &str) -> String {
    let out = run_ok(
        std::process::Command::new("go").args(["mod", "download", "-json", &format!("{module}@{version}")]),
    )
    .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let gomod = std::fs::read_to_string(info["GoMod"].as_str().unwrap()).unwrap();
    let line = gomod.lines().find(|l| l.trim_start().starts_with("k8s.io/client-go ")).unwrap();
    line.split_whitespace().nth(1).unwrap().split('.').nth(1).unwrap().to_string()
}

fn servers_env(key: &str) -> String {
    let root = workspace_root();
    run_ok(std::process::Command::new(root.join("conformance/servers")).arg("up")).unwrap();
    let out = run_ok(std::process::Command::new(root.join("conformance/servers")).arg("env")).unwrap();
    stdout(&out)
        .lines()
        .find_map(|l| l.strip_prefix(&format!("export {key}=")).map(str::to_string))
        .unwrap_or_else(|| panic!("conformance/servers env has no {key}"))
}

fn tempdir(prefix: &str) -> std::path::PathBuf {
    let dir = workspace_root().join("target/tmp").join(unique_name(prefix));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn delete_namespace(tb: &rudder_conformance::testbed::Testbed, ns: &str) {
    tb.delete(&format!("/api/v1/namespaces/{ns}")).unwrap();
}
