//! Release records against the real test bed and the real helm 4 / helm 3: Rudder reads what
//! helm writes, and helm reads what Rudder writes.

mod common;

use std::collections::BTreeMap;

use common::*;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, PostParams};
use rudder_state::driver::{kube::StorageObject, make_key, Driver, DATA_KEY, SECRET_TYPE};
use rudder_state::release::{self, Chart, File, Metadata, Release, Status};
use rudder_state::{codec, SecretDriver, Storage};
use serde_json::{json, Value};

/// Runs a test body in its own task so a failing assertion still deletes the namespace.
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

/// `helm status -o json`: the whole release as helm holds it (EncodeJSON of the v1 release).
fn helm_release_json(
    which: &str,
    home: &std::path::Path,
    ns: &str,
    name: &str,
    revision: Option<i64>,
) -> Value {
    let mut cmd = helm(which, home);
    cmd.args(["status", name, "-n", ns, "-o", "json"]);
    if let Some(r) = revision {
        cmd.args(["--revision", &r.to_string()]);
    }
    json_of(&run(&mut cmd))
}

/// What `helm status -o json` shows of a record: no `chart`, and `info.resources` filled from
/// the live objects.
fn status_view(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("chart");
    }
    if let Some(o) = v["info"].as_object_mut() {
        o.remove("resources");
    }
    v
}

#[tokio::test]
async fn helm4_record_is_read_reencoded_and_still_read_by_helm() {
    with_namespace("state-h4", |client, ns| async move {
        let scratch = Scratch::new("state-h4");
        let home = scratch.0.join("home");
        let chart = tiny_chart(&scratch.0, "tiny");
        run(helm("helm", &home).args([
            "install",
            "rel",
            chart.to_str().unwrap(),
            "-n",
            &ns,
            "--set",
            "user=given",
            "--wait",
        ]));

        // The raw Secret helm wrote.
        let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
        let key = make_key("rel", 1);
        assert_eq!(key, "sh.helm.release.v1.rel.v1");
        let obj = secrets.get(&key).await.unwrap();
        assert_eq!(obj.type_.as_deref(), Some(SECRET_TYPE));
        let labels = obj.metadata.labels.clone().unwrap();
        for (k, v) in [
            ("name", "rel"),
            ("owner", "helm"),
            ("status", "deployed"),
            ("version", "1"),
        ] {
            assert_eq!(
                labels.get(k).map(String::as_str),
                Some(v),
                "label {k}: {labels:?}"
            );
        }
        // Install creates the record pending-install (createdAt), then Update rewrites the label
        // set from the release's custom labels, so only modifiedAt remains.
        assert!(
            labels.contains_key("modifiedAt") && !labels.contains_key("createdAt"),
            "{labels:?}"
        );
        let payload = obj.payload().unwrap();
        let raw_json: Value =
            serde_json::from_slice(&codec::decode_json(&payload).unwrap()).unwrap();
        assert_eq!(
            &base64_decode(&payload)[..3],
            &[0x1f, 0x8b, 0x08],
            "helm gzips its records"
        );

        // Rudder's driver lists and decodes it.
        let driver = SecretDriver::new(client.clone(), &ns);
        let all = driver.list(&|_| true).await.unwrap();
        assert_eq!(all.len(), 1);
        let rls = &all[0];
        assert_eq!(
            rls.labels,
            labels.clone().into_iter().collect::<BTreeMap<_, _>>()
        );
        let got = driver.get(&key).await.unwrap();
        assert!(
            got.labels.is_empty(),
            "get drops the system labels: {:?}",
            got.labels
        );

        // The decoded record, re-serialised, is exactly the JSON helm stored and what helm shows.
        let ours = serde_json::to_value(rls).unwrap();
        assert_eq!(ours, raw_json, "decode + re-encode is lossless");
        let raw_bytes = codec::decode_json(&payload).unwrap();
        assert_eq!(
            String::from_utf8(codec::to_json(rls).unwrap()).unwrap(),
            String::from_utf8(raw_bytes).unwrap(),
            "re-encoding gives the very bytes Go's encoding/json wrote"
        );
        assert_eq!(
            status_view(ours.clone()),
            status_view(helm_release_json("helm", &home, &ns, "rel", None))
        );
        assert_eq!(rls.name, "rel");
        assert_eq!(rls.namespace, ns);
        assert_eq!(rls.version, 1);
        assert_eq!(rls.status(), Status::Deployed);
        assert_eq!(rls.chart_name(), "tiny");
        assert_eq!(rls.config, json!({"user": "given"}));
        assert_eq!(rls.hooks.len(), 1);
        assert_eq!(rls.hooks[0].weight, 3);
        assert_eq!(rls.hooks[0].events, vec!["post-install"]);
        assert_eq!(
            rls.info.as_ref().unwrap().notes,
            "Thanks for installing rel.\n"
        );
        let status = json_of(&run(
            helm("helm", &home).args(["status", "rel", "-n", &ns, "-o", "json"])
        ));
        assert_eq!(status["info"]["status"], "deployed");
        assert_eq!(
            status["info"]["last_deployed"],
            ours["info"]["last_deployed"]
        );
        assert_eq!(status["version"], 1);
        let manifest = run(helm("helm", &home).args(["get", "manifest", "rel", "-n", &ns]));
        assert_eq!(manifest.trim_end(), rls.manifest.trim_end());
        println!("helm 4 apply_method: {:?}", rls.apply_method);

        // Write it back as revision 2 (revision 1 superseded), with fields Rudder does not know.
        let mut with_extras = raw_json.clone();
        with_extras["future_field"] = json!({"kept": [1, "two"]});
        with_extras["info"]["future_info"] = json!("x<y>");
        with_extras["chart"]["metadata"]["future_meta"] = json!(true);
        let mut rev2: Release = serde_json::from_value(with_extras).unwrap();
        let mut rev1 = got.clone();
        rev1.set_status(Status::Superseded, "Superseded by Rudder");
        let storage = Storage::new(driver);
        storage.update(&rev1).await.unwrap();
        rev2.version = 2;
        rev2.set_status(Status::Deployed, "Upgrade complete");
        rev2.labels = BTreeMap::new();
        storage.create(&rev2).await.unwrap();

        let history = json_of(&run(
            helm("helm", &home).args(["history", "rel", "-n", &ns, "-o", "json"])
        ));
        let summary: Vec<(i64, String, String)> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["revision"].as_i64().unwrap(),
                    h["status"].as_str().unwrap().to_string(),
                    h["description"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, "superseded".into(), "Superseded by Rudder".into()),
                (2, "deployed".into(), "Upgrade complete".into())
            ]
        );
        let history3 = json_of(&run(
            helm("helm3", &home).args(["history", "rel", "-n", &ns, "-o", "json"])
        ));
        assert_eq!(history3.as_array().unwrap().len(), 2);
        let manifest2 =
            run(helm("helm", &home).args(["get", "manifest", "rel", "-n", &ns, "--revision", "2"]));
        assert_eq!(manifest2, manifest);

        // The unknown fields survived in the stored record.
        let obj2 = secrets.get(&make_key("rel", 2)).await.unwrap();
        let stored2: Value =
            serde_json::from_slice(&codec::decode_json(&obj2.payload().unwrap()).unwrap()).unwrap();
        assert_eq!(stored2["future_field"], json!({"kept": [1, "two"]}));
        assert_eq!(stored2["info"]["future_info"], json!("x<y>"));
        assert_eq!(stored2["chart"]["metadata"]["future_meta"], json!(true));
        assert_eq!(stored2["apply_method"], raw_json["apply_method"]);
        let l2 = obj2.metadata.labels.unwrap();
        assert_eq!(l2.get("version").map(String::as_str), Some("2"));
        assert!(l2.contains_key("createdAt"));
        let l1 = secrets.get(&key).await.unwrap().metadata.labels.unwrap();
        assert_eq!(l1.get("status").map(String::as_str), Some("superseded"));
        assert!(l1.contains_key("modifiedAt"), "{l1:?}");

        // History helpers agree.
        assert_eq!(storage.last("rel").await.unwrap().version, 2);
        assert_eq!(storage.deployed("rel").await.unwrap().version, 2);
        assert_eq!(storage.history("rel").await.unwrap().len(), 2);

        run(helm("helm", &home).args(["uninstall", "rel", "-n", &ns]));
        assert!(storage.list_releases().await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn helm3_record_is_read_and_reencoded() {
    with_namespace("state-h3", |client, ns| async move {
        let scratch = Scratch::new("state-h3");
        let home = scratch.0.join("home");
        let chart = tiny_chart(&scratch.0, "tiny3");
        run(helm("helm3", &home).args(["install", "old", chart.to_str().unwrap(), "-n", &ns]));
        let driver = SecretDriver::new(client.clone(), &ns);
        let rls = driver.get(&make_key("old", 1)).await.unwrap();
        let obj = Api::<Secret>::namespaced(client.clone(), &ns)
            .get(&make_key("old", 1))
            .await
            .unwrap();
        let raw: Value =
            serde_json::from_slice(&codec::decode_json(&obj.payload().unwrap()).unwrap()).unwrap();
        // Helm 3 writes zero times as "" (`deleted`, hook `started_at`); everything else is kept.
        assert_eq!(raw["info"]["deleted"], "");
        let mut expected = raw.clone();
        expected["info"].as_object_mut().unwrap().remove("deleted");
        for h in expected["hooks"].as_array_mut().unwrap() {
            let run = h["last_run"].as_object_mut().unwrap();
            run.retain(|_, v| v != "" || false);
            run.entry("phase").or_insert(json!(""));
        }
        assert_eq!(serde_json::to_value(&rls).unwrap(), expected);
        assert_eq!(rls.apply_method, "");

        // Rewritten by Rudder, helm 3 and helm 4 still read it.
        let mut again = rls.clone();
        again.set_status(Status::Deployed, "rewritten");
        Storage::new(SecretDriver::new(client.clone(), &ns))
            .update(&again)
            .await
            .unwrap();
        for which in ["helm3", "helm"] {
            let st = json_of(&run(
                helm(which, &home).args(["status", "old", "-n", &ns, "-o", "json"])
            ));
            assert_eq!(st["info"]["description"], "rewritten", "{which}");
            let values =
                json_of(&run(helm(which, &home)
                    .args(["get", "values", "old", "-n", &ns, "-a", "-o", "json"])));
            assert_eq!(values["greeting"], "hello", "{which}");
        }
        run(helm("helm3", &home).args(["uninstall", "old", "-n", &ns]));
    })
    .await;
}

const MANIFEST: &str = "---\n# Source: made/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: made-by-rudder\ndata:\n  k: \"<v> & w\"\n";

fn rudder_release(ns: &str) -> Release {
    let mut rls = Release::new("made", ns, 1);
    rls.set_status(Status::Deployed, "Install complete");
    rls.info.as_mut().unwrap().notes = "notes from rudder\n".into();
    let mut chart = Chart::new(Metadata {
        name: "made".into(),
        version: "0.3.0".into(),
        app_version: "9.9".into(),
        api_version: "v2".into(),
        description: "made by rudder".into(),
        ..Default::default()
    });
    chart.templates = vec![File::new(
        "templates/cm.yaml",
        b"apiVersion: v1\nkind: ConfigMap\n",
    )];
    chart.values = json!({"a": 1, "nested": {"b": "x"}});
    rls.chart = Some(chart);
    rls.config = json!({"a": 2, "list": [1, 2.5, "three"], "nested": {"b": "y"}});
    rls.manifest = MANIFEST.into();
    assert_eq!(rls.apply_method, release::APPLY_METHOD_SSA);
    rls
}

#[tokio::test]
async fn rudder_record_is_listed_read_and_uninstalled_by_helm() {
    with_namespace("state-rw", |client, ns| async move {
        let scratch = Scratch::new("state-rw");
        let home = scratch.0.join("home");
        // The resource the manifest describes, so uninstall has something to delete. Helm 4's
        // uninstall deletes only objects carrying the release's ownership metadata.
        let cm: ConfigMap = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {
                "name": "made-by-rudder",
                "labels": {"app.kubernetes.io/managed-by": "Helm"},
                "annotations": {"meta.helm.sh/release-name": "made", "meta.helm.sh/release-namespace": ns},
            },
            "data": {"k": "<v> & w"}
        }))
        .unwrap();
        let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        cms.create(&PostParams::default(), &cm).await.unwrap();

        let rls = rudder_release(&ns);
        let storage = Storage::new(SecretDriver::new(client.clone(), &ns));
        storage.create(&rls).await.unwrap();
        assert!(matches!(storage.create(&rls).await, Err(rudder_state::Error::Exists)));

        for which in ["helm", "helm3"] {
            let list = json_of(&run(helm(which, &home).args(["list", "-n", &ns, "-o", "json"])));
            let row = &list.as_array().unwrap()[0];
            assert_eq!(list.as_array().unwrap().len(), 1, "{which}: {list}");
            assert_eq!(row["name"], "made", "{which}");
            assert_eq!(row["namespace"], ns.as_str(), "{which}");
            assert_eq!(row["revision"], "1", "{which}");
            assert_eq!(row["status"], "deployed", "{which}");
            assert_eq!(row["chart"], "made-0.3.0", "{which}");
            assert_eq!(row["app_version"], "9.9", "{which}");
            let values = json_of(&run(helm(which, &home).args(["get", "values", "made", "-n", &ns, "-o", "json"])));
            assert_eq!(values, rls.config, "{which}");
            let all = json_of(&run(helm(which, &home).args(["get", "values", "made", "-n", &ns, "-a", "-o", "json"])));
            assert_eq!(all, json!({"a": 2, "list": [1, 2.5, "three"], "nested": {"b": "y"}}), "{which}");
            let manifest = run(helm(which, &home).args(["get", "manifest", "made", "-n", &ns]));
            assert_eq!(manifest.trim_end(), MANIFEST.trim_end(), "{which}");
            let notes = run(helm(which, &home).args(["get", "notes", "made", "-n", &ns]));
            assert!(notes.contains("notes from rudder"), "{which}: {notes}");
        }
        // helm 4 holds exactly the record Rudder wrote.
        for which in ["helm", "helm3"] {
            let mut expected = status_view(serde_json::to_value(&rls).unwrap());
            if which == "helm3" {
                // Helm 3 has no apply_method and writes a zero `deleted` as "".
                expected.as_object_mut().unwrap().remove("apply_method");
                expected["info"]["deleted"] = json!("");
            }
            assert_eq!(status_view(helm_release_json(which, &home, &ns, "made", None)), expected, "{which}");
        }

        let out = run(helm("helm", &home).args(["uninstall", "made", "-n", &ns, "--wait"]));
        assert!(storage.list_releases().await.unwrap().is_empty(), "uninstall removed the record");
        let left = cms.get_opt("made-by-rudder").await.unwrap();
        assert!(left.is_none(), "uninstall deleted the manifest's ConfigMap: {out}\n{left:?}");
    })
    .await;
}

#[tokio::test]
async fn history_max_prunes_like_helm() {
    with_namespace("state-hist", |client, ns| async move {
        let mut storage = Storage::new(SecretDriver::new(client.clone(), &ns));
        // Revisions 1..=4; revision 2 is the deployed one, the others failed.
        for v in 1..=4 {
            let mut r = rudder_release(&ns);
            r.version = v;
            r.set_status(
                if v == 2 {
                    Status::Deployed
                } else {
                    Status::Failed
                },
                "x",
            );
            storage.create(&r).await.unwrap();
        }
        storage.max_history = 3;
        let mut r5 = rudder_release(&ns);
        r5.version = 5;
        r5.set_status(Status::PendingUpgrade, "Preparing upgrade");
        storage.create(&r5).await.unwrap();
        let mut versions: Vec<i64> = storage
            .history("made")
            .await
            .unwrap()
            .iter()
            .map(|r| r.version)
            .collect();
        versions.sort();
        assert_eq!(
            versions,
            vec![2, 4, 5],
            "keeps max-1 before creating, never the deployed one"
        );
        let scratch = Scratch::new("state-hist");
        let history = json_of(&run(
            helm("helm", &scratch.0).args(["history", "made", "-n", &ns, "-o", "json"])
        ));
        let revs: Vec<i64> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["revision"].as_i64().unwrap())
            .collect();
        assert_eq!(revs, vec![2, 4, 5]);
        assert_eq!(history.as_array().unwrap()[2]["status"], "pending-upgrade");
        assert_eq!(storage.last("made").await.unwrap().version, 5);
        assert_eq!(storage.deployed("made").await.unwrap().version, 2);
    })
    .await;
}

fn base64_decode(b: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(b).unwrap()
}

#[test]
fn secret_object_shape() {
    let rls = rudder_release("ns");
    let s = Secret::build(
        &make_key("made", 1),
        rudder_state::driver::object_labels(&rls, None),
        codec::encode(&rls).unwrap(),
    );
    assert_eq!(s.type_.as_deref(), Some(SECRET_TYPE));
    assert!(s.data.as_ref().unwrap().contains_key(DATA_KEY));
}
