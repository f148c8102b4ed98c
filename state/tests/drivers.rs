//! The ConfigMap driver, custom labels and legacy (uncompressed) records against real helm.

mod common;

use std::collections::BTreeMap;

use common::*;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, PostParams};
use rudder_state::driver::{
    kube::StorageObject, make_key, object_labels, AnyDriver, Driver, DriverKind,
};
use rudder_state::release::{Release, Status};
use rudder_state::{codec, ConfigMapDriver, SecretDriver, Storage};
use serde_json::Value;

async fn with_namespace<F, Fut>(prefix: &str, body: F)
where
    F: FnOnce(kube::Client, String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let client = client().await;
    let ns = TestNamespace::create(&client, prefix).await;
    let res = tokio::spawn(body(client, ns.name.clone())).await;
    ns.cleanup().await;
    if let Err(e) = res {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[tokio::test]
async fn configmap_driver_reads_and_writes_helm_records() {
    with_namespace("state-cm", |client, ns| async move {
        let scratch = Scratch::new("state-cm");
        let home = scratch.0.join("home");
        let chart = tiny_chart(&scratch.0, "tinycm");
        run(helm("helm", &home).env("HELM_DRIVER", "configmap").args([
            "install",
            "cmrel",
            chart.to_str().unwrap(),
            "-n",
            &ns,
        ]));

        // Helm's ConfigMap: no type, data.release is the base64 text (a single base64 layer).
        let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        let obj = cms.get(&make_key("cmrel", 1)).await.unwrap();
        let raw: Value =
            serde_json::from_slice(&codec::decode_json(&obj.payload().unwrap()).unwrap()).unwrap();
        assert!(Api::<Secret>::namespaced(client.clone(), &ns)
            .get_opt(&make_key("cmrel", 1))
            .await
            .unwrap()
            .is_none());

        let driver = match AnyDriver::open(
            DriverKind::parse("configmaps").unwrap(),
            Some(&kubeconfig()),
            None,
            &ns,
        )
        .await
        .unwrap()
        {
            d @ AnyDriver::ConfigMap(_) => d,
            _ => panic!("configmaps selects the ConfigMap driver"),
        };
        assert_eq!(driver.name(), "ConfigMap");
        let storage = Storage::new(driver);
        let rls = storage.last("cmrel").await.unwrap();
        assert_eq!(serde_json::to_value(&rls).unwrap(), raw);

        let mut prev = storage.get("cmrel", 1).await.unwrap();
        prev.set_status(Status::Superseded, "Superseded");
        storage.update(&prev).await.unwrap();
        let mut next = rls.clone();
        next.version = 2;
        next.labels = BTreeMap::new();
        next.set_status(Status::Deployed, "Upgraded by Rudder");
        storage.create(&next).await.unwrap();
        let obj2 = cms.get(&make_key("cmrel", 2)).await.unwrap();
        assert!(obj2
            .metadata
            .labels
            .as_ref()
            .unwrap()
            .contains_key("createdAt"));

        let history = json_of(&run(helm("helm", &home)
            .env("HELM_DRIVER", "configmap")
            .args(["history", "cmrel", "-n", &ns, "-o", "json"])));
        let st: Vec<&str> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["status"].as_str().unwrap())
            .collect();
        assert_eq!(st, vec!["superseded", "deployed"]);
        let list3 = json_of(&run(helm("helm3", &home)
            .env("HELM_DRIVER", "configmap")
            .args(["list", "-n", &ns, "-o", "json"])));
        assert_eq!(list3[0]["revision"], "2");
        assert_eq!(list3[0]["app_version"], "1.2.3");
        run(helm("helm", &home).env("HELM_DRIVER", "configmap").args([
            "uninstall",
            "cmrel",
            "-n",
            &ns,
        ]));
        assert!(storage.list_releases().await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn custom_labels_follow_helm() {
    with_namespace("state-lbl", |client, ns| async move {
        let scratch = Scratch::new("state-lbl");
        let home = scratch.0.join("home");
        let chart = tiny_chart(&scratch.0, "tinylbl");
        run(helm("helm", &home).args([
            "install",
            "lbl",
            chart.to_str().unwrap(),
            "-n",
            &ns,
            "--labels",
            "team=blue,tier=web",
        ]));
        let driver = SecretDriver::new(client.clone(), &ns);
        let got = driver.get(&make_key("lbl", 1)).await.unwrap();
        assert_eq!(
            got.labels,
            BTreeMap::from([
                ("team".into(), "blue".into()),
                ("tier".into(), "web".into())
            ])
        );
        let listed = driver.list(&|_| true).await.unwrap();
        assert_eq!(
            listed[0].labels.get("owner").map(String::as_str),
            Some("helm")
        );
        assert_eq!(
            listed[0].labels.get("team").map(String::as_str),
            Some("blue")
        );
        // Query by a custom label, like `helm list --selector`.
        let q = driver
            .query(&BTreeMap::from([("team".into(), "blue".into())]))
            .await
            .unwrap();
        assert_eq!(q.len(), 1);
        assert!(matches!(
            driver
                .query(&BTreeMap::from([("team".into(), "red".into())]))
                .await,
            Err(rudder_state::Error::NotFound)
        ));
        assert!(matches!(
            driver
                .query(&BTreeMap::from([("team".into(), "not valid!".into())]))
                .await,
            Err(rudder_state::Error::InvalidLabelValue(_))
        ));

        // Rudder rewrites the record keeping the custom labels; helm's selector still finds it.
        let mut rls = got.clone();
        rls.set_status(Status::Failed, "marked failed by rudder");
        driver.update(&make_key("lbl", 1), &rls).await.unwrap();
        let sel = json_of(&run(helm("helm", &home).args([
            "list",
            "-n",
            &ns,
            "-o",
            "json",
            "--selector",
            "team=blue,tier=web",
        ])));
        assert_eq!(sel[0]["status"], "failed");
        let obj = Api::<Secret>::namespaced(client.clone(), &ns)
            .get(&make_key("lbl", 1))
            .await
            .unwrap();
        let l = obj.metadata.labels.unwrap();
        assert_eq!(l.get("status").map(String::as_str), Some("failed"));
        assert_eq!(l.get("tier").map(String::as_str), Some("web"));
        run(helm("helm", &home).args(["uninstall", "lbl", "-n", &ns]));
    })
    .await;
}

#[tokio::test]
async fn legacy_uncompressed_records_are_read_by_helm_and_rudder() {
    with_namespace("state-legacy", |client, ns| async move {
        let scratch = Scratch::new("state-legacy");
        let home = scratch.0.join("home");
        let chart = tiny_chart(&scratch.0, "tinyleg");
        run(helm("helm3", &home).args(["install", "leg", chart.to_str().unwrap(), "-n", &ns]));
        let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
        let key = make_key("leg", 1);
        let obj = secrets.get(&key).await.unwrap();
        let json = codec::decode_json(&obj.payload().unwrap()).unwrap();
        let rls: Release = codec::from_json(&json).unwrap();

        // Rewrite the same record as the legacy format: base64 of plain JSON, no gzip.
        use base64::Engine as _;
        let legacy = base64::engine::general_purpose::STANDARD.encode(&json);
        assert_eq!(codec::decode(legacy.as_bytes()).unwrap(), rls);
        let mut plain = Secret::build(&key, object_labels(&rls, None), legacy);
        plain.metadata.resource_version = obj.metadata.resource_version.clone();
        secrets
            .replace(&key, &PostParams::default(), &plain)
            .await
            .unwrap();

        let driver = SecretDriver::new(client.clone(), &ns);
        assert_eq!(driver.get(&key).await.unwrap(), rls);
        for which in ["helm", "helm3"] {
            let values =
                json_of(&run(helm(which, &home)
                    .args(["get", "values", "leg", "-n", &ns, "-a", "-o", "json"])));
            assert_eq!(values["greeting"], "hello", "{which}");
            let manifest = run(helm(which, &home).args(["get", "manifest", "leg", "-n", &ns]));
            assert_eq!(manifest.trim_end(), rls.manifest.trim_end(), "{which}");
        }
        // An undecodable record is skipped by list, as helm does.
        let junk = Secret::build(
            &make_key("junk", 1),
            object_labels(
                &Release {
                    name: "junk".into(),
                    version: 1,
                    ..Default::default()
                },
                None,
            ),
            "not base64!".into(),
        );
        secrets.create(&PostParams::default(), &junk).await.unwrap();
        let all = driver.list(&|_| true).await.unwrap();
        assert_eq!(
            all.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            vec!["leg"]
        );
        let list = json_of(&run(
            helm("helm", &home).args(["list", "-n", &ns, "-o", "json"])
        ));
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert!(driver.get(&make_key("junk", 1)).await.is_err());
        run(helm("helm3", &home).args(["uninstall", "leg", "-n", &ns]));
    })
    .await;
}

#[tokio::test]
async fn all_namespaces_listing() {
    let client = client().await;
    let a = TestNamespace::create(&client, "state-all").await;
    let b = TestNamespace::create(&client, "state-all").await;
    let res = {
        let (client, an, bn) = (client.clone(), a.name.clone(), b.name.clone());
        tokio::spawn(async move {
            for ns in [&an, &bn] {
                let mut r = Release {
                    name: "same".into(),
                    namespace: ns.clone(),
                    version: 1,
                    ..Default::default()
                };
                r.set_status(Status::Deployed, "Install complete");
                SecretDriver::new(client.clone(), ns)
                    .create(&make_key("same", 1), &r)
                    .await
                    .unwrap();
            }
            let all = SecretDriver::new(client.clone(), "");
            let found = all
                .list(&|r| r.name == "same" && (r.namespace == an || r.namespace == bn))
                .await
                .unwrap();
            assert_eq!(found.len(), 2);
            let cm_all = ConfigMapDriver::new(client.clone(), "");
            assert!(cm_all
                .list(&|r| r.namespace == an)
                .await
                .unwrap()
                .is_empty());
        })
        .await
    };
    a.cleanup().await;
    b.cleanup().await;
    if let Err(e) = res {
        std::panic::resume_unwind(e.into_panic());
    }
}
