//! Shared by `tests/wait.rs` and `tests/diff.rs`: the test bed client, a namespace per test,
//! creating objects from JSON and reading them back.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::discovery::ApiResource;
use rudder_conformance::testbed;
use rudder_release::wait::WaitTarget;
use serde_json::{json, Value};

pub fn kubeconfig() -> PathBuf {
    testbed::testbed().kubeconfig.clone()
}

pub async fn client() -> kube::Client {
    rudder_state::driver::kube::client(Some(&kubeconfig()), None)
        .await
        .expect("kube client for the test bed")
}

/// The ApiResource of a built-in or test kind: `(apiVersion, kind, plural)`.
pub fn resource(api_version: &str, kind: &str, plural: &str) -> ApiResource {
    let (group, version) = match api_version.rsplit_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), api_version.to_string()),
    };
    ApiResource {
        group,
        version,
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        plural: plural.to_string(),
    }
}

/// The plural of the kinds these tests use.
pub fn plural_of(kind: &str) -> String {
    match kind {
        "Deployment" => "deployments",
        "StatefulSet" => "statefulsets",
        "DaemonSet" => "daemonsets",
        "ReplicaSet" => "replicasets",
        "Pod" => "pods",
        "Job" => "jobs",
        "PersistentVolumeClaim" => "persistentvolumeclaims",
        "Service" => "services",
        "ConfigMap" => "configmaps",
        "Secret" => "secrets",
        "Namespace" => "namespaces",
        "CustomResourceDefinition" => "customresourcedefinitions",
        other => panic!("plural_of: unknown kind {other}"),
    }
    .to_string()
}

pub fn resource_of(obj: &Value) -> ApiResource {
    let kind = obj["kind"].as_str().unwrap();
    resource(obj["apiVersion"].as_str().unwrap(), kind, &plural_of(kind))
}

pub fn api(client: &kube::Client, ar: &ApiResource, ns: Option<&str>) -> Api<DynamicObject> {
    match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, ar),
        None => Api::all_with(client.clone(), ar),
    }
}

/// Creates `obj` (in `ns` when namespaced) and returns the server's answer as JSON.
pub async fn create(client: &kube::Client, ns: Option<&str>, obj: Value) -> Value {
    let ar = resource_of(&obj);
    let dynobj: DynamicObject = serde_json::from_value(obj).unwrap();
    let created = api(client, &ar, ns)
        .create(&PostParams::default(), &dynobj)
        .await
        .unwrap_or_else(|e| panic!("create {}: {e}", ar.kind));
    with_type(&ar, created)
}

/// Reads an object back (`None` when it does not exist).
pub async fn get(client: &kube::Client, ar: &ApiResource, ns: Option<&str>, name: &str) -> Option<Value> {
    api(client, ar, ns)
        .get_opt(name)
        .await
        .unwrap_or_else(|e| panic!("get {} {name}: {e}", ar.kind))
        .map(|o| with_type(ar, o))
}

pub fn with_type(ar: &ApiResource, o: DynamicObject) -> Value {
    let mut v = serde_json::to_value(o).unwrap();
    v["apiVersion"] = json!(ar.api_version);
    v["kind"] = json!(ar.kind);
    v
}

/// Merge-patches the status subresource (what a kubelet or controller would write).
pub async fn patch_status(client: &kube::Client, ar: &ApiResource, ns: Option<&str>, name: &str, status: Value) {
    api(client, ar, ns)
        .patch_status(name, &PatchParams::default(), &Patch::Merge(json!({ "status": status })))
        .await
        .unwrap_or_else(|e| panic!("patch status of {} {name}: {e}", ar.kind));
}

/// Server-side apply as a dry run: what the API server would make of `obj`.
pub async fn dry_run_apply(client: &kube::Client, ns: Option<&str>, obj: Value) -> Value {
    let ar = resource_of(&obj);
    let name = obj["metadata"]["name"].as_str().unwrap().to_string();
    let mut pp = PatchParams::apply("relwait-test").force();
    pp.dry_run = true;
    let out = api(client, &ar, ns)
        .patch(&name, &pp, &Patch::Apply(obj))
        .await
        .unwrap_or_else(|e| panic!("dry-run apply {} {name}: {e}", ar.kind));
    with_type(&ar, out)
}

/// Server-side apply for real.
pub async fn apply(client: &kube::Client, ns: Option<&str>, obj: Value) -> Value {
    let ar = resource_of(&obj);
    let name = obj["metadata"]["name"].as_str().unwrap().to_string();
    let pp = PatchParams::apply("relwait-test").force();
    let out = api(client, &ar, ns)
        .patch(&name, &pp, &Patch::Apply(obj))
        .await
        .unwrap_or_else(|e| panic!("apply {} {name}: {e}", ar.kind));
    with_type(&ar, out)
}

pub async fn delete(client: &kube::Client, ar: &ApiResource, ns: Option<&str>, name: &str) {
    let _ = api(client, ar, ns).delete(name, &DeleteParams::background()).await;
}

pub fn target(obj: &Value) -> WaitTarget {
    WaitTarget {
        api: resource_of(obj),
        namespace: obj["metadata"]["namespace"].as_str().map(str::to_string),
        name: obj["metadata"]["name"].as_str().unwrap().to_string(),
    }
}

/// A namespace created for one test and deleted at the end.
pub struct TestNamespace {
    pub name: String,
    client: kube::Client,
}

impl TestNamespace {
    pub async fn create(client: &kube::Client, prefix: &str) -> Self {
        let name = testbed::unique_name(prefix);
        create(client, None, json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})).await;
        TestNamespace { name, client: client.clone() }
    }

    pub async fn cleanup(self) {
        delete(&self.client, &resource("v1", "Namespace", "namespaces"), None, &self.name).await;
    }
}

/// A test that panics before `cleanup` still removes its namespace.
impl Drop for TestNamespace {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = testbed::testbed().delete(&format!("/api/v1/namespaces/{}", self.name));
        }
    }
}

/// A scratch directory (helm homes, charts) removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(prefix: &str) -> Self {
        let dir = std::env::temp_dir().join(testbed::unique_name(prefix));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Real helm against the test bed with private homes.
pub fn helm(which: &str, home: &Path) -> Command {
    testbed::testbed().command(testbed::oracle(which), home)
}

/// A chart with the given templates (`(file name, text)`).
pub fn chart(dir: &Path, name: &str, templates: &[(&str, &str)]) -> PathBuf {
    let chart = dir.join(name);
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("Chart.yaml"), format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n")).unwrap();
    for (file, text) in templates {
        std::fs::write(chart.join("templates").join(file), text).unwrap();
    }
    chart
}
