//! Shared by the integration tests: the test bed, real helm, a tiny chart, a namespace guard.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, PostParams};
use rudder_conformance::testbed;

/// The test bed's kubeconfig (`RUDDER_TESTBED_KUBECONFIG` names one that already runs, see
/// `rudder_conformance::testbed::testbed`).
pub fn kubeconfig() -> PathBuf {
    testbed::testbed().kubeconfig.clone()
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

/// Real helm (`helm` = v4, `helm3`) against the test bed with private helm homes, like
/// `Testbed::command`.
pub fn helm(which: &str, home: &Path) -> Command {
    let mut cmd = Command::new(testbed::oracle(which));
    cmd.env("KUBECONFIG", kubeconfig())
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env_remove("HELM_DRIVER")
        .env_remove("HELM_NAMESPACE")
        .env_remove("HELM_KUBECONTEXT");
    cmd
}

/// Runs helm and returns stdout, failing with all output on error.
pub fn run(cmd: &mut Command) -> String {
    let out = testbed::run_ok(cmd).unwrap_or_else(|e| panic!("{e:#}"));
    String::from_utf8(out.stdout).unwrap()
}

/// Writes a tiny chart (a ConfigMap, NOTES.txt, a post-install hook) and returns its path.
pub fn tiny_chart(dir: &Path, name: &str) -> PathBuf {
    let chart = dir.join(name);
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\nappVersion: \"1.2.3\"\ndescription: a <tiny> & test chart\n"),
    )
    .unwrap();
    std::fs::write(
        chart.join("values.yaml"),
        "greeting: hello\nreplicas: 1\nnested:\n  list: [1, 2.5, \"x\"]\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/hook.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-hook\n  annotations:\n    \"helm.sh/hook\": post-install\n    \"helm.sh/hook-weight\": \"3\"\ndata:\n  x: \"z\"\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/NOTES.txt"),
        "Thanks for installing {{ .Release.Name }}.\n",
    )
    .unwrap();
    std::fs::write(chart.join("README.md"), "readme\n").unwrap();
    chart
}

pub async fn client() -> kube::Client {
    rudder_state::driver::kube::client(Some(&kubeconfig()), None)
        .await
        .expect("kube client")
}

/// A namespace created for one test and deleted at the end (`cleanup`).
pub struct TestNamespace {
    pub name: String,
    client: kube::Client,
}

impl TestNamespace {
    pub async fn create(client: &kube::Client, prefix: &str) -> Self {
        let name = testbed::unique_name(prefix);
        let ns: Namespace = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}
        }))
        .unwrap();
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .expect("create namespace");
        TestNamespace {
            name,
            client: client.clone(),
        }
    }

    pub async fn cleanup(self) {
        let _ = Api::<Namespace>::all(self.client.clone())
            .delete(&self.name, &DeleteParams::default())
            .await;
    }
}
