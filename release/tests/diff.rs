//! `rudder diff` building blocks on the real test bed: objects are created, a change is
//! server-side applied as a dry run, and the live object is diffed against the answer.
//! The YAML rendering is checked against real `kubectl get -o yaml`, the unified output
//! against GNU `diff -u` of the same renderings.

mod relwait_common;

use std::process::Command;

use relwait_common::*;
use rudder_release::diff::{
    diff_objects, normalize, render_report, to_yaml, ChangeType, DiffOptions, Line, OutputFormat, SecretMode,
};
use serde_json::{json, Value};

fn deployment(ns: &str, replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": ns, "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "c", "image": image, "ports": [{"containerPort": 80}]}]}}
        }
    })
}

fn kubectl(args: &[&str]) -> String {
    let out = Command::new("kubectl")
        .env("KUBECONFIG", kubeconfig())
        .args(args)
        .output()
        .expect("kubectl");
    assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn opts(ns: &str) -> DiffOptions {
    DiffOptions { default_namespace: ns.to_string(), ..DiffOptions::default() }
}

/// The `+`/`-` lines of a helm-diff style report.
fn changed(report: &str) -> Vec<String> {
    report.lines().filter(|l| l.starts_with("+ ") || l.starts_with("- ") || *l == "-" || *l == "+").map(str::to_string).collect()
}

/// GNU `diff -u` of two texts, from its first hunk on.
fn gnu_unified(a: &str, b: &str, context: usize) -> String {
    let scratch = Scratch::new("relwait-diff");
    let (pa, pb) = (scratch.0.join("a"), scratch.0.join("b"));
    std::fs::write(&pa, a).unwrap();
    std::fs::write(&pb, b).unwrap();
    let out = Command::new("diff").arg(format!("-U{context}")).arg(&pa).arg(&pb).output().expect("diff");
    let text = String::from_utf8(out.stdout).unwrap();
    text.split_once("\n@@").map(|(_, rest)| format!("@@{rest}")).unwrap_or_default()
}

#[tokio::test]
async fn yaml_rendering_is_kubectls() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    create(&client, Some(&ns.name), json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cfg", "labels": {"a": "1"}, "annotations": {"note": "x: y # not a comment"}},
        "data": {"multi": "line one\nline two\n", "num": "42", "yes": "true", "empty": ""}})).await;
    apply(&client, Some(&ns.name), deployment(&ns.name, 1, "nginx:1.0")).await;
    for (kind, name) in [("configmap", "cfg"), ("deployment", "web")] {
        // Read the JSON and kubectl's YAML of the same resourceVersion.
        let (json_text, yaml) = loop {
            let j = kubectl(&["-n", &ns.name, "get", kind, name, "-o", "json", "--show-managed-fields"]);
            let y = kubectl(&["-n", &ns.name, "get", kind, name, "-o", "yaml"]);
            let rv = serde_json::from_str::<Value>(&j).unwrap()["metadata"]["resourceVersion"].clone();
            if y.contains(&format!("resourceVersion: \"{}\"", rv.as_str().unwrap())) {
                break (j, y);
            }
        };
        let mut obj: Value = serde_json::from_str(&json_text).unwrap();
        assert!(obj["metadata"]["managedFields"].is_array());
        // kubectl hides managedFields unless asked.
        obj["metadata"].as_object_mut().unwrap().remove("managedFields");
        assert_eq!(to_yaml(&obj).unwrap(), yaml, "{kind}");
    }
    ns.cleanup().await;
}

#[tokio::test]
async fn deployment_change_shows_exactly_the_changed_lines() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    let applied = apply(&client, Some(&ns.name), deployment(&ns.name, 1, "nginx:1.0")).await;
    // Let the deployment controller annotate the revision first, so the live object and the
    // dry run start from the same state.
    let mut live = applied;
    for _ in 0..100 {
        if live["metadata"]["annotations"]["deployment.kubernetes.io/revision"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        live = get(&client, &resource_of(&live), Some(&ns.name), "web").await.unwrap();
    }
    let desired = dry_run_apply(&client, Some(&ns.name), deployment(&ns.name, 3, "nginx:1.1")).await;
    // The dry run changed nothing.
    let still = get(&client, &resource_of(&live), Some(&ns.name), "web").await.unwrap();
    assert_eq!(still["spec"]["replicas"], json!(1));

    let o = opts(&ns.name);
    let diffs = diff_objects(&[live.clone()], &[desired.clone()], &o).unwrap();
    assert_eq!(diffs.len(), 1);
    assert_eq!(diffs[0].key, format!("{}, web, Deployment (apps)", ns.name));
    assert_eq!(diffs[0].change, ChangeType::Modified);
    let report = render_report(&diffs, &o);
    println!("{report}");
    assert!(report.starts_with(&format!("{}, web, Deployment (apps) has changed:\n", ns.name)), "{report}");
    assert_eq!(
        changed(&report),
        ["-   replicas: 1", "+   replicas: 3", "-       - image: nginx:1.0", "+       - image: nginx:1.1"],
        "{report}"
    );
    // Every other line is shown as context (helm-diff's default), and nothing the server
    // keeps for itself.
    let body: Vec<&str> = report.lines().skip(1).collect();
    let rendered = to_yaml(&normalize(&desired)).unwrap();
    assert_eq!(body.len(), rendered.lines().count() + 2);
    for hidden in ["managedFields", "resourceVersion", "uid:", "creationTimestamp", "generation", "status:"] {
        assert!(!report.contains(hidden), "{hidden} in\n{report}");
    }

    // With 2 lines of context: `...` where lines are left out, and the lines near changes.
    let o2 = DiffOptions { context: Some(2), ..opts(&ns.name) };
    let short = render_report(&diff_objects(&[live.clone()], &[desired.clone()], &o2).unwrap(), &o2);
    assert!(short.contains("...\n"), "{short}");
    assert_eq!(changed(&short), changed(&report));
    let full_lines: Vec<&str> = report.lines().collect();
    let short_lines: Vec<&str> = short.lines().filter(|l| *l != "...").collect();
    let changes: Vec<usize> = full_lines.iter().enumerate().filter(|(_, l)| l.starts_with("+ ") || l.starts_with("- ")).map(|(i, _)| i).collect();
    let kept: Vec<&str> = full_lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || changes.iter().any(|c| c.abs_diff(*i) <= 2))
        .map(|(_, l)| *l)
        .collect();
    assert_eq!(short_lines, kept);

    // Unified hunks agree with GNU diff on the same renderings.
    let old_yaml = to_yaml(&normalize(&live)).unwrap();
    for context in [0, 3, 5] {
        let ou = DiffOptions { format: OutputFormat::Unified, context: Some(context), ..opts(&ns.name) };
        let uni = render_report(&diff_objects(&[live.clone()], &[desired.clone()], &ou).unwrap(), &ou);
        let hunks = uni.split_once("\n@@").map(|(_, r)| format!("@@{r}")).unwrap();
        assert_eq!(hunks, gnu_unified(&old_yaml, &rendered, context), "context {context}");
    }

    // Colour on request, as mgutz/ansi writes it.
    let oc = DiffOptions { color: true, ..opts(&ns.name) };
    let colored = render_report(&diff_objects(&[live.clone()], &[desired.clone()], &oc).unwrap(), &oc);
    assert!(colored.starts_with(&format!("\x1b[33m{}, web, Deployment (apps) has changed:\x1b[0m\n", ns.name)));
    assert!(colored.contains("\x1b[31m-   replicas: 1\x1b[0m\n\x1b[32m+   replicas: 3\x1b[0m\n"), "{colored}");

    // Applying the live state again is no change at all (read afresh: the deployment
    // controller has annotated the revision since).
    let now = get(&client, &resource_of(&live), Some(&ns.name), "web").await.unwrap();
    let same = dry_run_apply(&client, Some(&ns.name), deployment(&ns.name, 1, "nginx:1.0")).await;
    assert!(diff_objects(&[now], &[same], &o).unwrap().is_empty());
    ns.cleanup().await;
}

#[tokio::test]
async fn secret_values_are_masked() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    // base64 of "same", "old"
    let live = create(&client, Some(&ns.name), json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "creds"}, "type": "Opaque", "data": {"a": "c2FtZQ==", "b": "b2xk"}})).await;
    let desired = dry_run_apply(&client, Some(&ns.name), json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "creds", "namespace": ns.name}, "type": "Opaque",
        "stringData": {"b": "newer", "c": "x"}})).await;
    // The server folded stringData into data.
    assert_eq!(desired["data"]["c"], json!("eA=="), "{desired:#}");

    let o = opts(&ns.name);
    let diffs = diff_objects(&[live.clone()], &[desired.clone()], &o).unwrap();
    let report = render_report(&diffs, &o);
    assert_eq!(
        changed(&report),
        ["-   b: '-------- # (3 bytes)'", "+   b: '++++++++ # (5 bytes)'", "+   c: '++++++++ # (1 bytes)'"],
        "{report}"
    );
    assert!(report.contains("\n    a: 'REDACTED # (4 bytes)'\n"), "{report}");
    for secret in ["c2FtZQ", "b2xk", "bmV3ZXI", "eA==", "same", "newer"] {
        assert!(!report.contains(secret), "{secret} leaked:\n{report}");
    }
    // --show-secrets-decoded shows the values themselves.
    let od = DiffOptions { secrets: SecretMode::Decoded, ..opts(&ns.name) };
    let decoded = render_report(&diff_objects(&[live.clone()], &[desired.clone()], &od).unwrap(), &od);
    assert_eq!(changed(&decoded), ["-   b: old", "+   b: newer", "+   c: x"], "{decoded}");
    // --show-secrets: as stored.
    let os = DiffOptions { secrets: SecretMode::Show, ..opts(&ns.name) };
    let shown = render_report(&diff_objects(&[live], &[desired], &os).unwrap(), &os);
    assert_eq!(changed(&shown), ["-   b: b2xk", "+   b: bmV3ZXI=", "+   c: eA=="], "{shown}");
    ns.cleanup().await;
}

#[tokio::test]
async fn added_removed_and_kept_objects() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    let cm = |name: &str, annotations: Value| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": ns.name, "annotations": annotations}, "data": {"k": name}})
    };
    let stays = apply(&client, Some(&ns.name), cm("stays", json!({}))).await;
    let goes = apply(&client, Some(&ns.name), cm("goes", json!({}))).await;
    let kept = apply(&client, Some(&ns.name), cm("kept", json!({"helm.sh/resource-policy": "keep"}))).await;
    // A new object: the dry run of its creation is what it would be.
    let added = dry_run_apply(&client, Some(&ns.name), cm("added", json!({}))).await;
    assert!(get(&client, &resource_of(&added), Some(&ns.name), "added").await.is_none());
    let stays_again = dry_run_apply(&client, Some(&ns.name), cm("stays", json!({}))).await;

    let o = opts(&ns.name);
    let diffs = diff_objects(&[stays, goes, kept], &[stays_again, added.clone()], &o).unwrap();
    let keys: Vec<(&str, ChangeType)> = diffs.iter().map(|d| (d.key.as_str(), d.change)).collect();
    let n = &ns.name;
    assert_eq!(
        keys,
        [(format!("{n}, goes, ConfigMap (v1)").as_str(), ChangeType::Removed), (format!("{n}, added, ConfigMap (v1)").as_str(), ChangeType::Added)]
    );
    let report = render_report(&diffs, &o);
    let added_yaml = to_yaml(&normalize(&added)).unwrap();
    let expected_added: String = added_yaml.lines().map(|l| format!("+ {l}\n")).collect();
    assert!(report.contains(&format!("{n}, added, ConfigMap (v1) has been added:\n- \n{expected_added}")), "{report}");
    assert!(report.starts_with(&format!("{n}, goes, ConfigMap (v1) has been removed:\n- apiVersion: v1\n")), "{report}");
    assert!(matches!(diffs[0].lines.last(), Some(Line::Added(t)) if t.is_empty()));

    let simple = DiffOptions { format: OutputFormat::Simple, ..opts(n) };
    assert_eq!(
        render_report(&diffs, &simple),
        format!("{n}, goes, ConfigMap (v1) to be removed.\n{n}, added, ConfigMap (v1) to be added.\nPlan: 1 to add, 0 to change, 1 to destroy, 0 to change ownership.\n")
    );
    // Suppressed kinds are announced, not shown.
    let sup = DiffOptions { suppressed_kinds: vec!["ConfigMap".into()], ..opts(n) };
    let text = render_report(&diffs, &sup);
    assert!(text.contains("has been added:\n+ Changes suppressed on sensitive content of type ConfigMap\n"), "{text}");
    ns.cleanup().await;
}

#[tokio::test]
async fn cluster_scoped_objects_get_the_release_namespace_in_their_key() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    let live = get(&client, &resource("v1", "Namespace", "namespaces"), None, &ns.name).await.unwrap();
    let mut labelled = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns.name, "labels": {"team": "relwait"}}});
    labelled = dry_run_apply(&client, None, labelled).await;
    let o = opts("release-ns");
    let diffs = diff_objects(&[live], &[labelled], &o).unwrap();
    assert_eq!(diffs.len(), 1);
    assert_eq!(diffs[0].key, format!("release-ns, {}, Namespace (v1)", ns.name));
    assert_eq!(changed(&render_report(&diffs, &o)), ["+     team: relwait"]);
    ns.cleanup().await;
}

#[tokio::test]
async fn server_side_preview_of_an_upgrade() {
    use rudder_release::diff::{server_side_preview, DesiredObject, RemovedObject};
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    let n = ns.name.clone();
    let cm = |name: &str, value: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": n}, "data": {"k": value}})
    };
    // The "installed release": a ConfigMap and a Deployment, applied by the field manager helm.
    let mut pp = kube::api::PatchParams::apply("helm");
    pp.force = true;
    let cm_ar = resource("v1", "ConfigMap", "configmaps");
    let dep_ar = resource("apps/v1", "Deployment", "deployments");
    api(&client, &cm_ar, Some(&n)).patch("a", &pp, &kube::api::Patch::Apply(cm("a", "1"))).await.unwrap();
    api(&client, &dep_ar, Some(&n)).patch("web", &pp, &kube::api::Patch::Apply(deployment(&n, 1, "nginx:1.0"))).await.unwrap();

    // The upgrade: a changes, b is new, web is dropped.
    let desired = vec![
        DesiredObject { api: cm_ar.clone(), namespace: Some(n.clone()), object: cm("a", "2") },
        DesiredObject { api: cm_ar.clone(), namespace: Some(n.clone()), object: cm("b", "new") },
    ];
    let removed = vec![
        RemovedObject { api: dep_ar.clone(), namespace: Some(n.clone()), name: "web".into() },
        RemovedObject { api: dep_ar.clone(), namespace: Some(n.clone()), name: "never-existed".into() },
    ];
    let (live, planned) = server_side_preview(&client, &desired, &removed, "helm", false).await.unwrap();
    assert_eq!(live.len(), 2, "a and web are live");
    assert_eq!(planned.len(), 2);
    // Nothing was changed on the server.
    assert!(get(&client, &cm_ar, Some(&n), "b").await.is_none());
    assert_eq!(get(&client, &cm_ar, Some(&n), "a").await.unwrap()["data"]["k"], json!("1"));

    let o = opts(&n);
    let diffs = diff_objects(&live, &planned, &o).unwrap();
    let summary: Vec<(String, ChangeType)> = diffs.iter().map(|d| (d.key.clone(), d.change)).collect();
    assert_eq!(
        summary,
        [
            (format!("{n}, a, ConfigMap (v1)"), ChangeType::Modified),
            (format!("{n}, web, Deployment (apps)"), ChangeType::Removed),
            (format!("{n}, b, ConfigMap (v1)"), ChangeType::Added),
        ]
    );
    let report = render_report(&diffs[..1], &o);
    assert_eq!(changed(&report), ["-   k: \"1\"", "+   k: \"2\""], "{report}");

    // Another manager owns a's data.k: without --force-conflicts the preview reports the
    // conflict and names the object.
    let mut other = kube::api::PatchParams::apply("someone-else");
    other.force = true;
    api(&client, &cm_ar, Some(&n)).patch("a", &other, &kube::api::Patch::Apply(cm("a", "3"))).await.unwrap();
    let err = server_side_preview(&client, &desired[..1], &[], "helm", false).await.expect_err("conflict");
    let text = err.to_string();
    assert!(text.starts_with(&format!("dry-run apply of ConfigMap {n}/a: ")), "{text}");
    assert!(text.contains("conflict"), "{text}");
    let (_, forced) = server_side_preview(&client, &desired[..1], &[], "helm", true).await.unwrap();
    assert_eq!(forced[0]["data"]["k"], json!("2"));
    ns.cleanup().await;
}
