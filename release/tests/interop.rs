//! Rudder and the real helm 4 / helm 3 driving the same releases on the test bed: each step one
//! tool takes is checked with the other tool's output (list, history, status, get manifest)
//! and with the live objects.

use std::path::{Path, PathBuf};
use std::process::Command;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::discovery::ApiResource;
use rudder_chart::values::ValueOptions;
use rudder_conformance::testbed;
use rudder_release::action::{self, Config, InstallOptions, RollbackOptions, UninstallOptions, UpgradeOptions};
use rudder_release::kube::{Kube, KubeOptions};
use rudder_state::driver::DriverKind;
use rudder_state::release::Release;
use serde_json::{json, Value};

fn kubeconfig() -> PathBuf {
    testbed::testbed().kubeconfig.clone()
}

/// Real helm (`helm` = v4.3.1, `helm3` = v3.22.0) against the test bed with a private home.
fn helm(which: &str, home: &Path) -> Command {
    testbed::testbed().command(testbed::oracle(which), home)
}

fn run(cmd: &mut Command) -> String {
    let out = testbed::run_ok(cmd).unwrap_or_else(|e| panic!("{e:#}"));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a command expected to fail; returns its stderr from the `Error: ` line on (the log
/// lines helm prints before it go to stderr in Rudder too, but the library calls here do not
/// capture them).
fn run_fail(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run");
    assert!(
        !out.status.success(),
        "{cmd:?} succeeded:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8(out.stderr).unwrap();
    match err.find("Error: ") {
        Some(i) => err[i..].to_string(),
        None => err,
    }
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(prefix: &str) -> Self {
        let d = std::env::temp_dir().join(testbed::unique_name(prefix));
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
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

async fn client() -> kube::Client {
    rudder_state::driver::kube::client(Some(&kubeconfig()), None)
        .await
        .expect("kube client")
}

/// Creates `relcore-*` namespaces, runs the body in its own task and deletes them whatever
/// happened.
async fn with_namespaces<F, Fut>(n: usize, body: F)
where
    F: FnOnce(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let c = client().await;
    let nss: Vec<String> = (0..n).map(|_| testbed::unique_name("relcore")).collect();
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(c.clone());
    for ns in &nss {
        let obj =
            serde_json::from_value(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})).unwrap();
        api.create(&PostParams::default(), &obj)
            .await
            .expect("create namespace");
    }
    let res = tokio::spawn(body(nss.clone())).await;
    for ns in &nss {
        let _ = api.delete(ns, &DeleteParams::default()).await;
    }
    if let Err(e) = res {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn config(ns: &str) -> Config {
    let opts = KubeOptions {
        kubeconfig: Some(kubeconfig()),
        namespace: Some(ns.to_string()),
        ..Default::default()
    };
    Config::new(Kube::connect(&opts).await.expect("connect"), DriverKind::Secret)
}

fn user_values(set: &[&str]) -> rudder_engine::Value {
    ValueOptions {
        values: set.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
    .merge_values()
    .unwrap()
}

fn load(chart: &Path) -> rudder_chart::model::Chart {
    rudder_chart::load(chart).expect("load chart")
}

async fn rudder_install(ns: &str, name: &str, chart: &Path, set: &[&str]) -> Release {
    let cfg = config(ns).await;
    let opts = InstallOptions {
        release_name: name.into(),
        ..Default::default()
    };
    action::install(&cfg, load(chart), user_values(set), &opts)
        .await
        .unwrap_or_else(|e| panic!("rudder install: {e}"))
}

async fn rudder_upgrade(ns: &str, name: &str, chart: &Path, set: &[&str], opts: UpgradeOptions) -> Release {
    let mut cfg = config(ns).await;
    action::upgrade(&mut cfg, name, load(chart), user_values(set), &opts)
        .await
        .unwrap_or_else(|e| panic!("rudder upgrade: {e}"))
}

fn upgrade_opts() -> UpgradeOptions {
    UpgradeOptions {
        max_history: 10,
        ..Default::default()
    }
}

/// `helm history -o json` as (revision, status, description).
fn history(which: &str, home: &Path, ns: &str, name: &str) -> Vec<(i64, String, String)> {
    let v = json_of(&run(helm(which, home).args(["history", name, "-n", ns, "-o", "json"])));
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

fn h(rev: i64, st: &str, desc: &str) -> (i64, String, String) {
    (rev, st.to_string(), desc.to_string())
}

/// `helm list -o json` rows of the namespace.
fn list(which: &str, home: &Path, ns: &str) -> Vec<Value> {
    let mut cmd = helm(which, home);
    cmd.args(["list", "-n", ns, "-o", "json"]);
    if which == "helm3" {
        // helm 3 shows only deployed and failed releases unless asked for all.
        cmd.arg("-a");
    }
    json_of(&run(&mut cmd)).as_array().unwrap().clone()
}

async fn live(ns: &str, api_version: &str, kind: &str, plural: &str, name: &str) -> Option<Value> {
    let (group, version) = api_version
        .split_once('/')
        .map(|(g, v)| (g.to_string(), v.to_string()))
        .unwrap_or((String::new(), api_version.to_string()));
    let ar = ApiResource {
        group,
        version,
        api_version: api_version.into(),
        kind: kind.into(),
        plural: plural.into(),
    };
    let api: Api<DynamicObject> = Api::namespaced_with(client().await, ns, &ar);
    api.get_opt(name)
        .await
        .unwrap()
        .map(|o| serde_json::to_value(o).unwrap())
}

async fn configmap(ns: &str, name: &str) -> Option<Value> {
    live(ns, "v1", "ConfigMap", "configmaps", name).await
}

async fn release_secrets(ns: &str) -> usize {
    let api: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client().await, ns);
    api.list(&ListParams::default().labels("owner=helm"))
        .await
        .unwrap()
        .items
        .len()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A small chart: a ConfigMap whose keys come from values, optional extra templates.
fn small_chart(dir: &Path, name: &str, extra: &[(&str, &str)]) -> PathBuf {
    let c = dir.join(name);
    write(
        &c.join("Chart.yaml"),
        &format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\nappVersion: \"1.0\"\n"),
    );
    write(&c.join("values.yaml"), "data:\n  a: one\n  b: two\n");
    write(
        &c.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n{{- range $k, $v := .Values.data }}\n  {{ $k }}: {{ $v | quote }}\n{{- end }}\n",
    );
    write(
        &c.join("templates/NOTES.txt"),
        "Installed {{ .Release.Name }} revision {{ .Release.Revision }}.\n",
    );
    for (p, t) in extra {
        write(&c.join(p), t);
    }
    c
}

fn podinfo() -> PathBuf {
    testbed::corpus_dir().join("charts/podinfo")
}

#[tokio::test]
async fn rudder_install_is_driven_by_helm4_and_helm3() {
    with_namespaces(2, |nss| async move {
        let (ns, ns_helm) = (nss[0].clone(), nss[1].clone());
        let scratch = Scratch::new("relcore-a");
        let home = scratch.home();
        let chart = podinfo();
        let rel = rudder_install(&ns, "web", &chart, &[]).await;
        assert_eq!(rel.status().as_str(), "deployed");
        assert_eq!(rel.apply_method, "ssa");

        // helm 4 and helm 3 see it.
        for which in ["helm", "helm3"] {
            let rows = list(which, &home, &ns);
            assert_eq!(rows.len(), 1, "{which} list: {rows:?}");
            assert_eq!(rows[0]["name"], "web");
            assert_eq!(rows[0]["status"], "deployed");
            assert_eq!(rows[0]["revision"], "1");
            assert_eq!(
                rows[0]["chart"],
                format!(
                    "podinfo-{}",
                    rel.chart.as_ref().unwrap().metadata.as_ref().unwrap().version
                )
            );
            assert_eq!(
                history(which, &home, &ns, "web"),
                vec![h(1, "deployed", "Install complete")]
            );
            let manifest = run(helm(which, &home).args(["get", "manifest", "web", "-n", &ns]));
            assert_eq!(manifest, format!("{}\n", rel.manifest), "{which} get manifest");
            let st = json_of(&run(helm(which, &home).args(["status", "web", "-n", &ns, "-o", "json"])));
            assert_eq!(st["info"]["status"], "deployed");
            assert_eq!(st["info"]["notes"], rel.info.as_ref().unwrap().notes.as_str());
            assert_eq!(st["version"], 1);
        }
        // The manifest is what helm itself stores for the same chart and release.
        run(helm("helm", &home).args(["install", "web", chart.to_str().unwrap(), "-n", &ns_helm]));
        let helm_manifest = run(helm("helm", &home).args(["get", "manifest", "web", "-n", &ns_helm]));
        assert_eq!(
            format!("{}\n", rel.manifest).replace(&ns, "NS"),
            helm_manifest.replace(&ns_helm, "NS")
        );
        let helm_notes = run(helm("helm", &home).args(["get", "notes", "web", "-n", &ns_helm]));
        let rudder_notes = run(helm("helm", &home).args(["get", "notes", "web", "-n", &ns]));
        assert_eq!(rudder_notes.replace(&ns, "NS"), helm_notes.replace(&ns_helm, "NS"));

        // helm 4 upgrades it, rudder rolls back.
        run(helm("helm", &home).args([
            "upgrade",
            "web",
            chart.to_str().unwrap(),
            "-n",
            &ns,
            "--set",
            "replicaCount=3",
        ]));
        let dep = live(&ns, "apps/v1", "Deployment", "deployments", "web-podinfo")
            .await
            .expect("deployment");
        assert_eq!(dep["spec"]["replicas"], 3);
        let mut cfg = config(&ns).await;
        let rb = action::rollback(
            &mut cfg,
            "web",
            &RollbackOptions {
                version: 1,
                max_history: 10,
                ..Default::default()
            },
        )
        .await
        .expect("rollback");
        assert_eq!(rb.version, 3);
        for which in ["helm", "helm3"] {
            assert_eq!(
                history(which, &home, &ns, "web"),
                vec![
                    h(1, "superseded", "Install complete"),
                    h(2, "superseded", "Upgrade complete"),
                    h(3, "deployed", "Rollback to 1")
                ],
                "{which} history"
            );
        }
        let dep = live(&ns, "apps/v1", "Deployment", "deployments", "web-podinfo")
            .await
            .expect("deployment");
        assert_eq!(dep["spec"]["replicas"], 1, "rollback re-applied revision 1");
        assert_eq!(
            run(helm("helm", &home).args(["get", "manifest", "web", "-n", &ns, "--revision", "3"])),
            run(helm("helm", &home).args(["get", "manifest", "web", "-n", &ns, "--revision", "1"]))
        );

        // rudder uninstall leaves no record and no objects.
        let cfg = config(&ns).await;
        action::uninstall(&cfg, "web", &UninstallOptions::default())
            .await
            .expect("uninstall");
        assert_eq!(release_secrets(&ns).await, 0);
        assert!(list("helm", &home, &ns).is_empty());
        let dep = live(&ns, "apps/v1", "Deployment", "deployments", "web-podinfo").await;
        assert!(dep.is_none() || dep.unwrap()["metadata"]["deletionTimestamp"].is_string());
        assert!(live(&ns, "v1", "Service", "services", "web-podinfo").await.is_none());
    })
    .await;
}

#[tokio::test]
async fn helm3_install_rudder_upgrade_helm4_rollback() {
    with_namespaces(1, |nss| async move {
        let ns = nss[0].clone();
        let scratch = Scratch::new("relcore-b");
        let home = scratch.home();
        let chart = small_chart(&scratch.0, "small", &[]);
        // helm 3 applies client-side.
        run(helm("helm3", &home).args([
            "install",
            "app",
            chart.to_str().unwrap(),
            "-n",
            &ns,
            "--set",
            "data.c=three",
        ]));
        // rudder upgrades with server-side apply, dropping key c: it must leave the object.
        let up = rudder_upgrade(
            &ns,
            "app",
            &chart,
            &[],
            UpgradeOptions {
                reset_values: true,
                ..upgrade_opts()
            },
        )
        .await;
        assert_eq!(up.version, 2);
        let cm = configmap(&ns, "app-cm").await.unwrap();
        assert_eq!(
            cm["data"],
            json!({"a": "one", "b": "two"}),
            "key c set by helm 3's client-side apply is removed"
        );
        assert_eq!(up.info.as_ref().unwrap().notes, "Installed app revision 2.\n");
        for which in ["helm", "helm3"] {
            assert_eq!(
                history(which, &home, &ns, "app"),
                vec![
                    h(1, "superseded", "Install complete"),
                    h(2, "deployed", "Upgrade complete")
                ]
            );
        }
        // helm 4 rolls back to helm 3's revision.
        run(helm("helm", &home).args(["rollback", "app", "1", "-n", &ns]));
        let cm = configmap(&ns, "app-cm").await.unwrap();
        assert_eq!(cm["data"]["c"], "three");
        assert_eq!(
            history("helm3", &home, &ns, "app"),
            vec![
                h(1, "superseded", "Install complete"),
                h(2, "superseded", "Upgrade complete"),
                h(3, "deployed", "Rollback to 1")
            ]
        );
        // `--reuse-values` merges the new values over the last ones.
        let up = rudder_upgrade(
            &ns,
            "app",
            &chart,
            &["data.d=four"],
            UpgradeOptions {
                reuse_values: true,
                ..upgrade_opts()
            },
        )
        .await;
        assert_eq!(
            json_of(&run(
                helm("helm", &home).args(["get", "values", "app", "-n", &ns, "-o", "json"])
            )),
            json!({"data": {"c": "three", "d": "four"}})
        );
        assert_eq!(up.version, 4);
        let cm = configmap(&ns, "app-cm").await.unwrap();
        assert_eq!(cm["data"], json!({"a": "one", "b": "two", "c": "three", "d": "four"}));
        run(helm("helm", &home).args(["uninstall", "app", "-n", &ns]));
        assert_eq!(release_secrets(&ns).await, 0);
    })
    .await;
}

#[tokio::test]
async fn upgrade_deletes_removed_objects_except_keep() {
    with_namespaces(1, |nss| async move {
        let ns = nss[0].clone();
        let scratch = Scratch::new("relcore-c");
        let home = scratch.home();
        let extra = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-gone\ndata: {x: \"1\"}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-kept\n  annotations:\n    helm.sh/resource-policy: keep\ndata: {x: \"1\"}\n";
        let v1 = small_chart(&scratch.0.join("v1"), "small", &[("templates/extra.yaml", extra)]);
        let v2 = small_chart(&scratch.0.join("v2"), "small", &[]);
        rudder_install(&ns, "rm", &v1, &[]).await;
        assert!(configmap(&ns, "rm-gone").await.is_some() && configmap(&ns, "rm-kept").await.is_some());
        rudder_upgrade(&ns, "rm", &v2, &[], upgrade_opts()).await;
        assert!(configmap(&ns, "rm-gone").await.is_none(), "removed from the chart: deleted");
        assert!(configmap(&ns, "rm-kept").await.is_some(), "resource-policy keep: left");
        let m = run(helm("helm", &home).args(["get", "manifest", "rm", "-n", &ns]));
        assert!(!m.contains("rm-gone") && !m.contains("rm-kept"));

        // History pruning: --history-max 2 keeps two revisions.
        for _ in 0..3 {
            rudder_upgrade(&ns, "rm", &v2, &[], UpgradeOptions { max_history: 2, ..upgrade_opts() }).await;
        }
        let hist = history("helm", &home, &ns, "rm");
        assert_eq!(hist.iter().map(|r| r.0).collect::<Vec<_>>(), vec![4, 5]);

        // Uninstall deletes the rest and leaves no record.
        let cfg = config(&ns).await;
        action::uninstall(&cfg, "rm", &UninstallOptions::default()).await.expect("uninstall");
        assert!(configmap(&ns, "rm-cm").await.is_none());
        assert!(configmap(&ns, "rm-kept").await.is_some());
        assert_eq!(release_secrets(&ns).await, 0);
    })
    .await;
}

#[tokio::test]
async fn ownership_conflict_is_refused_with_helms_message() {
    with_namespaces(1, |nss| async move {
        let ns = nss[0].clone();
        let scratch = Scratch::new("relcore-d");
        let home = scratch.home();
        let chart = small_chart(&scratch.0, "fixed", &[]);
        std::fs::write(
            chart.join("templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fixed-cm\ndata:\n  a: b\n",
        )
        .unwrap();
        run(helm("helm", &home).args(["install", "one", chart.to_str().unwrap(), "-n", &ns]));
        let cfg = config(&ns).await;
        let opts = InstallOptions {
            release_name: "two".into(),
            ..Default::default()
        };
        let err = action::install(&cfg, load(&chart), user_values(&[]), &opts)
            .await
            .expect_err("conflict");
        let helm_err = run_fail(helm("helm", &home).args(["install", "two", chart.to_str().unwrap(), "-n", &ns]));
        assert_eq!(format!("Error: INSTALLATION FAILED: {}\n", err.message), helm_err);
        assert_eq!(
            release_secrets(&ns).await,
            1,
            "nothing recorded for the refused install"
        );

        // An object nobody owns: same words as helm; --take-ownership adopts it.
        std::fs::write(
            chart.join("templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: loose\ndata:\n  a: b\n",
        )
        .unwrap();
        let api: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client().await, &ns);
        api.create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "loose"}, "data": {"a": "b"}})).unwrap(),
        )
        .await
        .unwrap();
        let err = action::install(
            &cfg,
            load(&chart),
            user_values(&[]),
            &InstallOptions {
                release_name: "three".into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("unowned");
        let helm_err = run_fail(helm("helm", &home).args(["install", "three", chart.to_str().unwrap(), "-n", &ns]));
        assert_eq!(format!("Error: INSTALLATION FAILED: {}\n", err.message), helm_err);
        action::install(
            &cfg,
            load(&chart),
            user_values(&[]),
            &InstallOptions {
                release_name: "three".into(),
                take_ownership: true,
                ..Default::default()
            },
        )
        .await
        .expect("take ownership");
        let cm = configmap(&ns, "loose").await.unwrap();
        assert_eq!(cm["metadata"]["annotations"]["meta.helm.sh/release-name"], "three");
        assert_eq!(cm["metadata"]["labels"]["app.kubernetes.io/managed-by"], "Helm");
        assert_eq!(
            history("helm3", &home, &ns, "three"),
            vec![h(1, "deployed", "Install complete")]
        );
    })
    .await;
}

/// Hook records (name, phase, delete policies) in run order.
fn hook_runs(rel: &Value) -> Vec<(String, String, Vec<String>)> {
    let mut hooks: Vec<&Value> = rel["hooks"].as_array().unwrap().iter().collect();
    hooks.sort_by_key(|h| h["last_run"]["started_at"].as_str().unwrap_or("").to_string());
    hooks
        .iter()
        .map(|h| {
            (
                h["name"].as_str().unwrap().to_string(),
                h["last_run"]["phase"].as_str().unwrap().to_string(),
                h["delete_policies"]
                    .as_array()
                    .map(|a| a.iter().map(|p| p.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn hooks_run_by_weight_and_name_with_delete_policies() {
    with_namespaces(2, |nss| async move {
        let (ns, ns_helm) = (nss[0].clone(), nss[1].clone());
        let scratch = Scratch::new("relcore-e");
        let home = scratch.home();
        let hook = |name: &str, weight: i32, policy: &str| {
            let p = if policy.is_empty() { String::new() } else { format!("\n    helm.sh/hook-delete-policy: {policy}") };
            format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations:\n    helm.sh/hook: pre-install,post-upgrade\n    helm.sh/hook-weight: \"{weight}\"{p}\ndata:\n  w: \"{weight}\"\n")
        };
        let hooks = [hook("h-b", 0, ""), hook("h-a", 0, "hook-succeeded"), hook("h-z", -5, "before-hook-creation,hook-succeeded"), hook("h-c", 7, "hook-failed")].concat();
        let chart = small_chart(&scratch.0, "hooked", &[("templates/hooks.yaml", &hooks)]);
        rudder_install(&ns, "hk", &chart, &[]).await;
        run(helm("helm", &home).args(["install", "hk", chart.to_str().unwrap(), "-n", &ns_helm]));
        let ours = json_of(&run(helm("helm", &home).args(["status", "hk", "-n", &ns, "-o", "json"])));
        let theirs = json_of(&run(helm("helm", &home).args(["status", "hk", "-n", &ns_helm, "-o", "json"])));
        assert_eq!(hook_runs(&ours), hook_runs(&theirs));
        assert_eq!(hook_runs(&ours).iter().map(|h| h.0.as_str()).collect::<Vec<_>>(), vec!["h-z", "h-a", "h-b", "h-c"]);
        for name in ["h-a", "h-b", "h-c", "h-z"] {
            assert_eq!(configmap(&ns, name).await.is_some(), configmap(&ns_helm, name).await.is_some(), "hook object {name} left as helm leaves it");
        }
        assert!(configmap(&ns, "h-a").await.is_none() && configmap(&ns, "h-b").await.is_some());
        // On upgrade (post-upgrade) before-hook-creation replaces the kept hook objects.
        rudder_upgrade(&ns, "hk", &chart, &[], upgrade_opts()).await;
        run(helm("helm", &home).args(["upgrade", "hk", chart.to_str().unwrap(), "-n", &ns_helm]));
        let ours = json_of(&run(helm("helm3", &home).args(["status", "hk", "-n", &ns, "-o", "json"])));
        let theirs = json_of(&run(helm("helm3", &home).args(["status", "hk", "-n", &ns_helm, "-o", "json"])));
        assert_eq!(hook_runs(&ours), hook_runs(&theirs));
        for name in ["h-a", "h-b", "h-c", "h-z"] {
            assert_eq!(configmap(&ns, name).await.is_some(), configmap(&ns_helm, name).await.is_some(), "after upgrade: {name}");
        }
    })
    .await;
}

/// Server-side applies `data.a` of a ConfigMap as another field manager.
async fn steal_field(ns: &str, name: &str, value: &str) {
    let api: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client().await, ns);
    let patch = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": value}});
    let pp = kube::api::PatchParams {
        force: true,
        field_manager: Some("someone-else".into()),
        ..Default::default()
    };
    api.patch(name, &pp, &kube::api::Patch::Apply(&patch))
        .await
        .expect("apply as another manager");
}

#[tokio::test]
async fn ssa_conflict_with_another_manager_and_force_conflicts() {
    with_namespaces(2, |nss| async move {
        let (ns, ns_helm) = (nss[0].clone(), nss[1].clone());
        let scratch = Scratch::new("relcore-f");
        let home = scratch.home();
        let chart = small_chart(&scratch.0, "small", &[]);
        rudder_install(&ns, "cf", &chart, &[]).await;
        run(helm("helm", &home).args(["install", "cf", chart.to_str().unwrap(), "-n", &ns_helm]));
        steal_field(&ns, "cf-cm", "theirs").await;
        steal_field(&ns_helm, "cf-cm", "theirs").await;

        let mut cfg = config(&ns).await;
        let err = action::upgrade(
            &mut cfg,
            "cf",
            load(&chart),
            user_values(&["data.a=ours"]),
            &upgrade_opts(),
        )
        .await
        .expect_err("conflict");
        let helm_err = run_fail(helm("helm", &home).args([
            "upgrade",
            "cf",
            chart.to_str().unwrap(),
            "-n",
            &ns_helm,
            "--set",
            "data.a=ours",
        ]));
        assert_eq!(
            format!("Error: UPGRADE FAILED: {}\n", err.message).replace(&ns, "NS"),
            helm_err.replace(&ns_helm, "NS")
        );
        assert!(
            err.message.contains("conflict with \"someone-else\""),
            "{}",
            err.message
        );
        let strip = |v: Vec<(i64, String, String)>, n: &str| {
            v.into_iter()
                .map(|(r, s, d)| (r, s, d.replace(n, "NS")))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            strip(history("helm", &home, &ns, "cf"), &ns),
            strip(history("helm", &home, &ns_helm, "cf"), &ns_helm)
        );

        let opts = UpgradeOptions {
            force_conflicts: true,
            ..upgrade_opts()
        };
        action::upgrade(&mut cfg, "cf", load(&chart), user_values(&["data.a=ours"]), &opts)
            .await
            .expect("forced");
        assert_eq!(configmap(&ns, "cf-cm").await.unwrap()["data"]["a"], "ours");
        run(helm("helm", &home).args([
            "upgrade",
            "cf",
            chart.to_str().unwrap(),
            "-n",
            &ns_helm,
            "--set",
            "data.a=ours",
            "--force-conflicts",
        ]));
        assert_eq!(
            strip(history("helm3", &home, &ns, "cf"), &ns),
            strip(history("helm3", &home, &ns_helm, "cf"), &ns_helm)
        );
    })
    .await;
}

#[tokio::test]
async fn crds_are_created_first_then_custom_resources() {
    with_namespaces(1, |nss| async move {
        let ns = nss[0].clone();
        let scratch = Scratch::new("relcore-g");
        let home = scratch.home();
        let group = format!("{ns}.example.com");
        let crd = format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.{group}\nspec:\n  group: {group}\n  names: {{kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec: {{type: object, properties: {{size: {{type: integer}}}}}}\n"
        );
        let cr = format!("apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: {{{{ .Release.Name }}}}-w\nspec:\n  size: 3\n");
        let chart = small_chart(&scratch.0, "crdchart", &[("crds/widget.yaml", &crd), ("templates/widget.yaml", &cr)]);
        let rel = rudder_install(&ns, "wd", &chart, &[]).await;
        assert!(!rel.manifest.contains("CustomResourceDefinition"), "CRDs are not part of the manifest");
        let w = live(&ns, &format!("{group}/v1"), "Widget", "widgets", "wd-w").await.expect("custom resource");
        assert_eq!(w["spec"]["size"], 3);
        assert_eq!(w["metadata"]["labels"]["app.kubernetes.io/managed-by"], "Helm");
        assert_eq!(history("helm", &home, &ns, "wd"), vec![h(1, "deployed", "Install complete")]);

        // A new CRD version in the chart: helm's upgrade leaves the CRD alone, Rudder's opt-in
        // `update_crds` applies it.
        let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> = Api::all(client().await);
        let crd_name = format!("widgets.{group}");
        let served = |c: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition| {
            c.spec.versions.iter().map(|v| v.name.clone()).collect::<Vec<_>>()
        };
        let crd2 = crd.replace("  versions:\n", "  versions:\n  - name: v2\n    served: true\n    storage: false\n    schema:\n      openAPIV3Schema:\n        type: object\n");
        std::fs::write(chart.join("crds/widget.yaml"), &crd2).unwrap();
        run(helm("helm", &home).args(["upgrade", "wd", chart.to_str().unwrap(), "-n", &ns]));
        assert_eq!(served(&crds.get(&crd_name).await.unwrap()), vec!["v1"], "helm does not update CRDs");
        rudder_upgrade(&ns, "wd", &chart, &[], UpgradeOptions { update_crds: true, ..upgrade_opts() }).await;
        assert_eq!(served(&crds.get(&crd_name).await.unwrap()), vec!["v2", "v1"], "update_crds applied the new version");
        run(helm("helm", &home).args(["uninstall", "wd", "-n", &ns]));

        // --skip-crds: the CRD is not created, so the custom resource cannot be built.
        let group2 = format!("skip-{ns}.example.com");
        let chart2 = small_chart(&scratch.0.join("skip"), "crdchart", &[("crds/widget.yaml", &crd.replace(&group, &group2)), ("templates/widget.yaml", &cr.replace(&group, &group2))]);
        let cfg = config(&ns).await;
        let err = action::install(&cfg, load(&chart2), user_values(&[]), &InstallOptions { release_name: "sk".into(), skip_crds: true, ..Default::default() })
            .await
            .expect_err("no CRD");
        let helm_err = run_fail(helm("helm", &home).args(["install", "sk", chart2.to_str().unwrap(), "-n", &ns, "--skip-crds"]));
        assert_eq!(format!("Error: INSTALLATION FAILED: {}\n", err.message), helm_err);
        assert!(crds.get_opt(&format!("widgets.{group2}")).await.unwrap().is_none());
        // The CRD stays (Helm never deletes CRDs); remove it by hand.
        crds.delete(&format!("widgets.{group}"), &DeleteParams::default()).await.expect("CRD was created");
    })
    .await;
}

/// A chart whose second object the API server rejects (an unknown field under strict
/// validation), optionally with a hook that fails the same way.
fn broken_chart(dir: &Path, hook: bool) -> PathBuf {
    let bad =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-bad\nbogus: field\ndata:\n  a: b\n";
    let mut extra = vec![("templates/bad.yaml", bad.to_string())];
    if hook {
        extra = vec![(
            "templates/hook.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-hook\n  annotations:\n    helm.sh/hook: pre-install\nbogus: field\n".to_string(),
        )];
    }
    let extra: Vec<(&str, &str)> = extra.iter().map(|(p, t)| (*p, t.as_str())).collect();
    small_chart(dir, "broken", &extra)
}

#[tokio::test]
async fn failures_are_recorded_and_worded_as_helm() {
    with_namespaces(2, |nss| async move {
        let (ns, ns_helm) = (nss[0].clone(), nss[1].clone());
        let scratch = Scratch::new("relcore-h");
        let home = scratch.home();
        let norm = |s: &str, n: &str| s.replace(n, "NS");
        let cfg = config(&ns).await;

        // A rejected object: the release is recorded failed, with helm's words.
        let chart = broken_chart(&scratch.0.join("a"), false);
        let err = action::install(
            &cfg,
            load(&chart),
            user_values(&[]),
            &InstallOptions {
                release_name: "bad".into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("rejected");
        let helm_err = run_fail(helm("helm", &home).args(["install", "bad", chart.to_str().unwrap(), "-n", &ns_helm]));
        assert_eq!(
            norm(&format!("Error: INSTALLATION FAILED: {}\n", err.message), &ns),
            norm(&helm_err, &ns_helm)
        );
        let st = |n: &str| json_of(&run(helm("helm", &home).args(["status", "bad", "-n", n, "-o", "json"])));
        assert_eq!(
            norm(&st(&ns)["info"]["description"].to_string(), &ns),
            norm(&st(&ns_helm)["info"]["description"].to_string(), &ns_helm)
        );
        assert_eq!(st(&ns)["info"]["status"], "failed");

        // With --rollback-on-failure the release is uninstalled: no record left.
        let err = action::install(
            &cfg,
            load(&chart),
            user_values(&[]),
            &InstallOptions {
                release_name: "atom".into(),
                rollback_on_failure: true,
                ..Default::default()
            },
        )
        .await
        .expect_err("rejected");
        let helm_err = run_fail(helm("helm", &home).args([
            "install",
            "atom",
            chart.to_str().unwrap(),
            "-n",
            &ns_helm,
            "--rollback-on-failure",
        ]));
        assert_eq!(
            norm(&format!("Error: INSTALLATION FAILED: {}\n", err.message), &ns),
            norm(&helm_err, &ns_helm)
        );
        assert!(configmap(&ns, "atom-cm").await.is_none());
        assert!(run_fail(helm("helm", &home).args(["status", "atom", "-n", &ns])).contains("release: not found"));

        // A failing pre-install hook.
        let hchart = broken_chart(&scratch.0.join("b"), true);
        let err = action::install(
            &cfg,
            load(&hchart),
            user_values(&[]),
            &InstallOptions {
                release_name: "hk".into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("hook fails");
        let helm_err = run_fail(helm("helm", &home).args(["install", "hk", hchart.to_str().unwrap(), "-n", &ns_helm]));
        assert_eq!(
            norm(&format!("Error: INSTALLATION FAILED: {}\n", err.message), &ns),
            norm(&helm_err, &ns_helm)
        );
        let ours = json_of(&run(helm("helm", &home).args(["status", "hk", "-n", &ns, "-o", "json"])));
        let theirs = json_of(&run(
            helm("helm", &home).args(["status", "hk", "-n", &ns_helm, "-o", "json"])
        ));
        assert_eq!(hook_runs(&ours), hook_runs(&theirs));
        assert_eq!(ours["info"]["status"], theirs["info"]["status"]);

        // An upgrade that fails with --rollback-on-failure goes back to the last good revision.
        let good = small_chart(&scratch.0.join("c"), "broken", &[]);
        rudder_install(&ns, "up", &good, &[]).await;
        run(helm("helm", &home).args(["install", "up", good.to_str().unwrap(), "-n", &ns_helm]));
        let mut cfg = config(&ns).await;
        let err = action::upgrade(
            &mut cfg,
            "up",
            load(&chart),
            user_values(&[]),
            &UpgradeOptions {
                rollback_on_failure: true,
                ..upgrade_opts()
            },
        )
        .await
        .expect_err("rejected");
        let helm_err = run_fail(helm("helm", &home).args([
            "upgrade",
            "up",
            chart.to_str().unwrap(),
            "-n",
            &ns_helm,
            "--rollback-on-failure",
        ]));
        assert_eq!(
            norm(&format!("Error: UPGRADE FAILED: {}\n", err.message), &ns),
            norm(&helm_err, &ns_helm)
        );
        let strip = |v: Vec<(i64, String, String)>, n: &str| {
            v.into_iter()
                .map(|(r, s, d)| (r, s, d.replace(n, "NS")))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            strip(history("helm", &home, &ns, "up"), &ns),
            strip(history("helm", &home, &ns_helm, "up"), &ns_helm)
        );
    })
    .await;
}

#[tokio::test]
async fn lookup_reads_the_cluster_as_helm_does() {
    with_namespaces(2, |nss| async move {
        let (ns, ns_helm) = (nss[0].clone(), nss[1].clone());
        let scratch = Scratch::new("relcore-i");
        let home = scratch.home();
        let tpl = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-seen\ndata:\n  seed: {{ (lookup \"v1\" \"ConfigMap\" .Release.Namespace \"seed\").data.k | quote }}\n  ns: {{ (lookup \"v1\" \"Namespace\" \"\" .Release.Namespace).metadata.name | quote }}\n  count: {{ len (lookup \"v1\" \"ConfigMap\" .Release.Namespace \"\").items | quote }}\n  kind: {{ (lookup \"v1\" \"ConfigMap\" .Release.Namespace \"\").kind | quote }}\n  missing: {{ lookup \"v1\" \"Secret\" .Release.Namespace \"nope\" | quote }}\n  type: {{ typeOf (lookup \"v1\" \"Namespace\" \"\" .Release.Namespace).metadata.labels | quote }}\n";
        let chart = small_chart(&scratch.0, "looker", &[("templates/seen.yaml", tpl)]);
        for n in [&ns, &ns_helm] {
            let api: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client().await, n);
            api.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "seed"}, "data": {"k": "from the cluster"}})).unwrap())
                .await
                .unwrap();
            // The controller-manager publishes `kube-root-ca.crt` into every new namespace
            // a moment after it is created; the `count` line below counts it, so both
            // namespaces must hold it before either install renders.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while api.get_opt("kube-root-ca.crt").await.unwrap().is_none() {
                assert!(std::time::Instant::now() < deadline, "kube-root-ca.crt never appeared in {n}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
        let rel = rudder_install(&ns, "lk", &chart, &[]).await;
        run(helm("helm", &home).args(["install", "lk", chart.to_str().unwrap(), "-n", &ns_helm]));
        let theirs = run(helm("helm", &home).args(["get", "manifest", "lk", "-n", &ns_helm]));
        assert_eq!(format!("{}\n", rel.manifest).replace(&ns, "NS"), theirs.replace(&ns_helm, "NS"));
        assert!(rel.manifest.contains("seed: \"from the cluster\""), "{}", rel.manifest);
    })
    .await;
}

#[tokio::test]
async fn labels_delete_hooks_context_namespace_and_configmap_driver() {
    with_namespaces(2, |nss| async move {
        let (ns, ns_helm) = (nss[0].clone(), nss[1].clone());
        let scratch = Scratch::new("relcore-j");
        let home = scratch.home();
        let del_hook = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-pre-delete\n  annotations:\n    helm.sh/hook: pre-delete\ndata: {x: \"1\"}\n";
        let chart = small_chart(&scratch.0, "labelled", &[("templates/del.yaml", del_hook)]);

        // The namespace comes from the kubeconfig context when no flag names one.
        let kc = std::fs::read_to_string(kubeconfig()).unwrap();
        let kc_ns = scratch.0.join("kubeconfig");
        let mut with_ns = String::new();
        let mut in_context = false;
        for line in kc.lines() {
            with_ns.push_str(line);
            with_ns.push('\n');
            if line.trim_start().starts_with("context:") {
                in_context = true;
            } else if in_context && line.trim_start().starts_with("cluster:") {
                let indent = &line[..line.len() - line.trim_start().len()];
                with_ns.push_str(&format!("{indent}namespace: {ns}\n"));
                in_context = false;
            }
        }
        std::fs::write(&kc_ns, with_ns).unwrap();
        let kube = Kube::connect(&KubeOptions { kubeconfig: Some(kc_ns.clone()), ..Default::default() }).await.unwrap();
        assert_eq!(kube.namespace, ns, "context namespace");
        let cfg = Config::new(kube, DriverKind::Secret);
        let labels = [("team".to_string(), "blue".to_string()), ("tier".to_string(), "web".to_string())].into_iter().collect();
        action::install(&cfg, load(&chart), user_values(&[]), &InstallOptions { release_name: "lb".into(), labels, ..Default::default() })
            .await
            .expect("install");
        let sel = |sel: &str| -> Vec<String> {
            let rows = json_of(&run(helm("helm", &home).args(["list", "-n", &ns, "-o", "json", "--selector", sel])));
            rows.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect()
        };
        assert_eq!(sel("team=blue"), vec!["lb"]);
        // `null` removes a custom label on upgrade, others stay.
        let mut cfg = cfg;
        let labels = [("team".to_string(), "null".to_string())].into_iter().collect();
        action::upgrade(&mut cfg, "lb", load(&chart), user_values(&[]), &UpgradeOptions { labels, ..upgrade_opts() }).await.expect("upgrade");
        assert!(sel("team=blue").is_empty());
        assert_eq!(sel("tier=web"), vec!["lb"]);

        // Uninstall runs pre-delete hooks; the hook object stays as helm leaves it.
        run(helm("helm", &home).args(["install", "lb", chart.to_str().unwrap(), "-n", &ns_helm]));
        action::uninstall(&cfg, "lb", &UninstallOptions::default()).await.expect("uninstall");
        run(helm("helm", &home).args(["uninstall", "lb", "-n", &ns_helm]));
        assert_eq!(configmap(&ns, "lb-pre-delete").await.is_some(), configmap(&ns_helm, "lb-pre-delete").await.is_some());
        assert!(configmap(&ns, "lb-cm").await.is_none());

        // HELM_DRIVER=configmap: helm reads rudder's ConfigMap records.
        let opts = KubeOptions { kubeconfig: Some(kubeconfig()), namespace: Some(ns.clone()), ..Default::default() };
        let cfg = Config::new(Kube::connect(&opts).await.unwrap(), DriverKind::ConfigMap);
        action::install(&cfg, load(&chart), user_values(&[]), &InstallOptions { release_name: "cmd".into(), ..Default::default() }).await.expect("install");
        let rows = json_of(&run(helm("helm3", &home).env("HELM_DRIVER", "configmap").args(["list", "-n", &ns, "-o", "json"])));
        assert_eq!(rows[0]["name"], "cmd");
        assert!(run(helm("helm", &home).args(["list", "-n", &ns, "-q"])).trim().is_empty(), "nothing in Secrets");
        run(helm("helm", &home).env("HELM_DRIVER", "configmap").args(["uninstall", "cmd", "-n", &ns]));
    })
    .await;
}

/// A release record's JSON with times, namespaces and chart file modtimes masked.
fn masked_record(rel: &Release, ns: &str) -> Value {
    let text = String::from_utf8(rudder_state::codec::to_json(rel).unwrap())
        .unwrap()
        .replace(ns, "NS");
    let mut v = json_of(&text);
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    let zero = x.as_str() == Some("0001-01-01T00:00:00Z");
                    if matches!(
                        k.as_str(),
                        "first_deployed"
                            | "last_deployed"
                            | "modtime"
                            | "schemamodtime"
                            | "started_at"
                            | "completed_at"
                    ) && x.is_string()
                        && !zero
                    {
                        *x = json!("T");
                    } else {
                        walk(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

#[tokio::test]
async fn records_equal_what_helm_writes() {
    with_namespaces(2, |nss| async move {
        let (ns, ns_helm) = (nss[0].clone(), nss[1].clone());
        let scratch = Scratch::new("relcore-k");
        let home = scratch.home();
        let hook = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-hook\n  annotations:\n    helm.sh/hook: post-install,post-upgrade\n    helm.sh/hook-weight: \"-2\"\ndata: {x: \"1\"}\n";
        let chart = small_chart(&scratch.0, "recorded", &[("templates/hook.yaml", hook), ("README.md", "read me\n"), ("values.schema.json", "{\"type\": \"object\"}\n")]);
        let c = chart.to_str().unwrap();
        let storage = |n: &str| {
            let n = n.to_string();
            async move { config(&n).await }
        };
        // install, then upgrade with values, from both tools.
        rudder_install(&ns, "rec", &chart, &["data.c=3", "list={1,2}"]).await;
        run(helm("helm", &home).args(["install", "rec", c, "-n", &ns_helm, "--set", "data.c=3", "--set", "list={1,2}"]));
        rudder_upgrade(&ns, "rec", &chart, &["data.d=4.5"], upgrade_opts()).await;
        run(helm("helm", &home).args(["upgrade", "rec", c, "-n", &ns_helm, "--set", "data.d=4.5"]));
        let mut cfg = config(&ns).await;
        action::rollback(&mut cfg, "rec", &RollbackOptions { version: 1, max_history: 10, ..Default::default() }).await.expect("rollback");
        run(helm("helm", &home).args(["rollback", "rec", "1", "-n", &ns_helm]));
        for rev in [1, 2, 3] {
            let ours = storage(&ns).await.storage.get("rec", rev).await.unwrap();
            let theirs = storage(&ns_helm).await.storage.get("rec", rev).await.unwrap();
            assert_eq!(masked_record(&ours, &ns), masked_record(&theirs, &ns_helm), "revision {rev}");
        }
    })
    .await;
}

#[tokio::test]
async fn capabilities_from_the_cluster_equal_helms() {
    with_namespaces(1, |nss| async move {
        let ns = nss[0].clone();
        let scratch = Scratch::new("relcore-l");
        let home = scratch.home();
        let tpl = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caps\ndata:\n  kube: \"{{ .Capabilities.KubeVersion }}\"\n  git: {{ .Capabilities.KubeVersion.Version | quote }}\n  minor: {{ .Capabilities.KubeVersion.Minor | quote }}\n  apps: {{ .Capabilities.APIVersions.Has \"apps/v1/Deployment\" | quote }}\n  versions: |\n{{- range .Capabilities.APIVersions }}\n    {{ . }}\n{{- end }}\n";
        let chart = small_chart(&scratch.0, "caps", &[("templates/caps.yaml", tpl)]);
        // The cluster is shared (other tests add CRDs while this runs): compare a snapshot
        // taken by both tools back to back, retried when the set moved in between.
        let mut last = None;
        for _ in 0..5 {
            let cfg = config(&ns).await;
            let opts = InstallOptions { release_name: "caps".into(), dry_run: action::DryRun::Server, ..Default::default() };
            let ours = action::install(&cfg, load(&chart), user_values(&[]), &opts).await.expect("dry run").manifest;
            let theirs =
                run(helm("helm", &home).args(["template", "caps", chart.to_str().unwrap(), "-n", &ns, "--dry-run=server"]));
            // Helm's API version list comes from a Go map: compare it as a set.
            let parts = |m: &str| {
                let doc = m.split("# Source: caps/templates/caps.yaml\n").nth(1).unwrap_or("").to_string();
                let (head, versions) = doc.split_once("  versions: |\n").unwrap_or((&doc, ""));
                let mut set: Vec<String> = versions
                    .lines()
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty() && !l.starts_with("---"))
                    .collect();
                set.sort();
                (head.to_string(), set)
            };
            let (o, t) = (parts(&ours), parts(&theirs));
            let equal = o == t;
            last = Some((o, t));
            if equal {
                break;
            }
        }
        let ((oh, ov), (th, tv)) = last.unwrap();
        assert_eq!(oh, th);
        assert!(ov.len() > 50, "{ov:?}");
        assert_eq!(ov, tv);
    })
    .await;
}

/// Needs the kstatus bodies of `release/src/wait.rs` (another helper's work; the stub there
/// returns at once, so against the stub this test fails).
#[tokio::test]
async fn wait_timeout_with_rollback_on_failure_as_helm() {
    with_namespaces(2, |nss| async move {
        let (ns, ns_helm) = (nss[0].clone(), nss[1].clone());
        let scratch = Scratch::new("relcore-m");
        let home = scratch.home();
        let dep = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-d\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: stuck}}\n  template:\n    metadata: {labels: {app: stuck}}\n    spec:\n      nodeSelector: {nowhere: \"true\"}\n      containers:\n      - {name: c, image: nginx}\n";
        let chart = small_chart(&scratch.0, "stuck", &[("templates/dep.yaml", dep)]);
        let norm = |s: &str, n: &str| s.replace(n, "NS");
        let cfg = config(&ns).await;
        let wait = action::WaitSettings { wait: true, wait_for_jobs: false, timeout: std::time::Duration::from_secs(4) };
        let opts = InstallOptions { release_name: "st".into(), rollback_on_failure: true, wait: wait.clone(), ..Default::default() };
        let err = action::install(&cfg, load(&chart), user_values(&[]), &opts).await.expect_err("never ready");
        let helm_err = run_fail(helm("helm", &home).args([
            "install",
            "st",
            chart.to_str().unwrap(),
            "-n",
            &ns_helm,
            "--rollback-on-failure",
            "--timeout",
            "4s",
        ]));
        assert_eq!(norm(&format!("Error: INSTALLATION FAILED: {}\n", err.message), &ns), norm(&helm_err, &ns_helm));
        assert_eq!(release_secrets(&ns).await, 0, "uninstalled");
        assert!(live(&ns, "apps/v1", "Deployment", "deployments", "st-d").await.is_none_or(|d| d["metadata"]["deletionTimestamp"].is_string()));
    })
    .await;
}
