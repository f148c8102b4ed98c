//! The memory driver and the Storage helpers, without a cluster.

use std::collections::BTreeMap;

use rudder_state::driver::{make_key, make_key_parts, Driver, DriverKind};
use rudder_state::release::{Release, Status};
use rudder_state::{Error, MemoryDriver, Storage};

fn rel(name: &str, ns: &str, version: i64, status: Status) -> Release {
    let mut r = Release {
        name: name.into(),
        namespace: ns.into(),
        version,
        ..Default::default()
    };
    r.set_status(status, "");
    r
}

#[tokio::test]
async fn memory_driver_semantics() {
    let d = MemoryDriver::new("ns");
    d.create(&make_key("a", 1), &rel("a", "ns", 1, Status::Deployed))
        .await
        .unwrap();
    assert!(matches!(
        d.create(&make_key("a", 1), &rel("a", "ns", 1, Status::Deployed))
            .await,
        Err(Error::Exists)
    ));
    assert!(matches!(
        d.get("sh.helm.release.v1.a.vX").await,
        Err(Error::InvalidKey)
    ));
    assert!(matches!(
        d.get(&make_key("b", 1)).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        d.update(&make_key("b", 1), &rel("b", "ns", 1, Status::Deployed))
            .await,
        Err(Error::NotFound)
    ));
    let q = d
        .query(&BTreeMap::from([
            ("name".into(), "a".into()),
            ("status".into(), "deployed".into()),
        ]))
        .await
        .unwrap();
    assert_eq!(q.len(), 1);
    assert!(matches!(
        d.query(&BTreeMap::from([("name".into(), "zz".into())]))
            .await,
        Err(Error::NotFound)
    ));
    assert_eq!(d.delete(&make_key("a", 1)).await.unwrap().version, 1);
    assert!(d.list(&|_| true).await.unwrap().is_empty());
    assert_eq!(
        make_key_parts("sh.helm.release.v1.my-app.v12").unwrap(),
        ("my-app".to_string(), 12)
    );
    assert_eq!(DriverKind::parse("").unwrap(), DriverKind::Secret);
    assert_eq!(DriverKind::parse("secrets").unwrap(), DriverKind::Secret);
    assert_eq!(
        DriverKind::parse("configmap").unwrap(),
        DriverKind::ConfigMap
    );
    assert_eq!(DriverKind::parse("memory").unwrap(), DriverKind::Memory);
    assert!(DriverKind::parse("sql").is_err());
}

#[tokio::test]
async fn storage_history_and_pruning() {
    let mut s = Storage::new(MemoryDriver::new("ns"));
    assert!(matches!(s.last("x").await, Err(Error::NotFound)));
    assert_eq!(
        s.deployed("x").await.unwrap_err().to_string(),
        "\"x\" has no deployed releases"
    );
    for (v, st) in [
        (1, Status::Superseded),
        (2, Status::Superseded),
        (3, Status::Deployed),
        (4, Status::Failed),
        (5, Status::Failed),
    ] {
        s.create(&rel("x", "ns", v, st)).await.unwrap();
    }
    assert_eq!(s.last("x").await.unwrap().version, 5);
    assert_eq!(s.deployed("x").await.unwrap().version, 3);
    s.max_history = 2;
    s.create(&rel("x", "ns", 6, Status::PendingUpgrade))
        .await
        .unwrap();
    let mut v: Vec<i64> = s
        .history("x")
        .await
        .unwrap()
        .iter()
        .map(|r| r.version)
        .collect();
    v.sort();
    // max 2: down to one before the new revision; the deployed one is never removed and
    // counts as the kept one, so every other old revision goes (pkg/storage removeLeastRecent).
    assert_eq!(v, vec![3, 6]);
    assert_eq!(s.list_deployed().await.unwrap().len(), 1);
    // No deployed revision: the lowest go.
    let mut t = Storage::new(MemoryDriver::new("ns"));
    for v in 1..=3 {
        t.create(&rel("y", "ns", v, Status::Failed)).await.unwrap();
    }
    t.max_history = 2;
    t.create(&rel("y", "ns", 4, Status::Failed)).await.unwrap();
    let mut v: Vec<i64> = t
        .history("y")
        .await
        .unwrap()
        .iter()
        .map(|r| r.version)
        .collect();
    v.sort();
    assert_eq!(v, vec![3, 4]);
}

/// Floats and HTML characters in values encode exactly as Go's encoding/json (the oracle's
/// `toJson` is `json.Marshal`).
#[test]
fn json_encoding_matches_go() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let data = r#"{"a":1e21,"b":1e-7,"c":0.000001,"d":123456789012345678901234,"e":2.5,"f":-0.0,"g":1e20,"h":"<&> \u2028","i":5e-324,"j":1.7976931348623157e308,"k":0.1,"l":123456.789,"m":1e-10,"n":-3.25e-9,"o":100,"p":[1.5,{"q":1e100}]}"#;
    let req =
        serde_json::json!({"name": "t", "template": "{{ toJson . }}", "data": data, "option": ""});
    let mut child = Command::new(rudder_conformance::testbed::oracle("gotmpl-oracle"))
        .arg("batch")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{req}").unwrap();
    let out = child.wait_with_output().unwrap();
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let go = reply["output"].as_str().unwrap();
    let rls = Release {
        config: serde_json::from_str(data).unwrap(),
        ..Default::default()
    };
    let ours = String::from_utf8(rudder_state::codec::to_json(&rls).unwrap()).unwrap();
    assert_eq!(ours, format!("{{\"config\":{go}}}"));
}

#[tokio::test]
async fn pending_release_blocks_upgrade_and_latest_groups() {
    let s = Storage::new(MemoryDriver::new("ns"));
    assert_eq!(
        s.last_for_upgrade("p").await.unwrap_err().to_string(),
        "\"p\" has no deployed releases"
    );
    s.create(&rel("p", "ns", 1, Status::Deployed))
        .await
        .unwrap();
    assert_eq!(s.last_for_upgrade("p").await.unwrap().version, 1);
    s.create(&rel("p", "ns", 2, Status::PendingUpgrade))
        .await
        .unwrap();
    assert_eq!(
        s.last_for_upgrade("p").await.unwrap_err().to_string(),
        "another operation (install/upgrade/rollback) is in progress"
    );
    let all = vec![
        rel("b", "n1", 1, Status::Superseded),
        rel("b", "n1", 3, Status::Deployed),
        rel("a", "n2", 1, Status::Failed),
        rel("b", "n0", 2, Status::Deployed),
    ];
    let latest: Vec<(String, String, i64)> = rudder_state::storage::latest_releases(all)
        .into_iter()
        .map(|r| (r.name, r.namespace, r.version))
        .collect();
    assert_eq!(
        latest,
        vec![
            ("a".into(), "n2".into(), 1),
            ("b".into(), "n0".into(), 2),
            ("b".into(), "n1".into(), 3)
        ]
    );
}
