//! The hand-written protobuf decoder of metadata LISTs (`rudder_release::inspect::meta_proto`)
//! against the real apiserver: the same LIST asked as protobuf and as JSON must give the same
//! names, namespaces, uids, resourceVersions and labels, item for item. Records are made with
//! labels that stress the decoder (many, long, empty values, non-ASCII), in a namespace of
//! their own, for Secrets and ConfigMaps.

use std::collections::BTreeMap;

use http_body_util::BodyExt;
use kube::api::{Api, PostParams};
use rudder_conformance::testbed::{self, unique_name};
use rudder_release::inspect::meta_proto::{decode_list, ItemMeta};
use serde_json::{json, Value};

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
const JSON: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

async fn get(c: &kube::Client, path: &str, accept: &str) -> (String, Vec<u8>) {
    let req = http::Request::get(path).header("Accept", accept).body(kube::client::Body::empty()).unwrap();
    let res = c.send(req).await.expect("GET");
    assert!(res.status().is_success(), "GET {path}: {}", res.status());
    let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body = res.into_body().collect().await.expect("body").to_bytes().to_vec();
    (ct, body)
}

fn from_json(body: &[u8]) -> Vec<ItemMeta> {
    let v: Value = serde_json::from_slice(body).expect("JSON list");
    assert_eq!(v["kind"], "PartialObjectMetadataList", "{v}");
    let s = |m: &Value, k: &str| m[k].as_str().unwrap_or("").to_string();
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            let m = &i["metadata"];
            let labels: BTreeMap<String, String> = m["labels"]
                .as_object()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect())
                .unwrap_or_default();
            ItemMeta {
                name: s(m, "name"),
                namespace: s(m, "namespace"),
                uid: s(m, "uid"),
                resource_version: s(m, "resourceVersion"),
                labels,
            }
        })
        .collect()
}

#[tokio::test]
async fn protobuf_metadata_list_decodes_as_the_json_one() {
    let tb = testbed::testbed();
    let c = rudder_state::driver::kube::client(Some(&tb.kubeconfig), None).await.expect("kube client");
    let ns = unique_name("metaproto");
    let nss: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(c.clone());
    nss.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap())
        .await
        .expect("create namespace");
    struct Gone(String);
    impl Drop for Gone {
        fn drop(&mut self) {
            let _ = testbed::testbed().delete(&format!("/api/v1/namespaces/{}", self.0));
        }
    }
    let _gone = Gone(ns.clone());

    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(c.clone(), &ns);
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(c.clone(), &ns);
    for n in 0..150 {
        let mut labels = json!({"owner": "helm", "name": format!("rel-{n}"), "status": "deployed", "version": n.to_string()});
        if n % 3 == 0 {
            // Many labels, a long value, an empty value and a prefixed key.
            for k in 0..20 {
                labels[format!("example.com/k{k}")] = json!(format!("{}", "v".repeat(k * 3)));
            }
        }
        if n % 7 == 0 {
            labels.as_object_mut().unwrap().remove("status");
        }
        let meta = json!({"name": format!("sh.helm.release.v1.rel-{n}.v1"), "labels": labels,
                          "annotations": {"note": "ünïcode ✓ is in annotations only"}});
        secrets
            .create(&PostParams::default(), &serde_json::from_value(json!({"metadata": meta, "type": "helm.sh/release.v1",
                "data": {"release": "AAAA"}})).unwrap())
            .await
            .expect("create secret");
        if n % 5 == 0 {
            cms.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": meta, "data": {"release": "x"}})).unwrap())
                .await
                .expect("create configmap");
        }
    }

    for plural in ["secrets", "configmaps"] {
        for path in [
            format!("/api/v1/namespaces/{ns}/{plural}?labelSelector=owner%3Dhelm"),
            format!("/api/v1/namespaces/{ns}/{plural}"),
        ] {
            let (ct, proto) = get(&c, &path, PROTOBUF).await;
            assert!(ct.starts_with("application/vnd.kubernetes.protobuf"), "{path}: answered as {ct}");
            let decoded = decode_list(&proto).expect("well-formed protobuf").expect("a PartialObjectMetadataList");
            let (_, json_body) = get(&c, &path, JSON).await;
            let expected = from_json(&json_body);
            assert!(expected.len() >= if plural == "secrets" { 150 } else { 30 }, "{path}: {} items", expected.len());
            assert_eq!(decoded, expected, "{path}");
        }
    }
    // Cut anywhere, the answer is an error, never a shorter list.
    let (_, proto) = get(&c, &format!("/api/v1/namespaces/{ns}/secrets"), PROTOBUF).await;
    for cut in [5, 40, proto.len() / 2, proto.len() - 1] {
        assert!(decode_list(&proto[..cut]).is_err(), "cut at {cut} of {} decoded", proto.len());
    }
}
