//! kstatus and waiting on the real test bed (kube-apiserver + controller-manager + kwok nodes).
//!
//! The objects whose status is judged are created on the test bed and read back, so the JSON
//! is what a real API server and real controllers produce. Where helm 4 can produce the same
//! error (a wait that times out, a hook Job that fails), helm runs against the same kind of
//! object and its text is compared with ours.

mod relwait_common;

use std::time::Duration;

use relwait_common::*;
use rudder_release::wait::{
    hook_status_of, status_of, status_of_with, wait_deleted, wait_hook, wait_ready, ObjStatus, StatusRules, WaitError,
    WaitOptions,
};
use serde_json::{json, Value};

fn deployment(name: &str, replicas: i64, node_selector: Option<Value>) -> Value {
    let mut spec = json!({"containers": [{"name": "c", "image": "nginx"}]});
    if let Some(sel) = node_selector {
        spec["nodeSelector"] = sel;
    }
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec}
        }
    })
}

fn job(name: &str, extra_spec: Value, pod_extra: Value) -> Value {
    let mut pod = json!({"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]});
    merge(&mut pod, pod_extra);
    let mut spec = json!({"backoffLimit": 0, "template": {"spec": pod}});
    merge(&mut spec, extra_spec);
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": spec})
}

fn merge(a: &mut Value, b: Value) {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        for (k, v) in b {
            a.insert(k, v);
        }
    }
}

fn opts(secs: u64, wait_for_jobs: bool) -> WaitOptions {
    WaitOptions { timeout: Duration::from_secs(secs), wait_for_jobs }
}

/// Polls until `f` holds for the object read back, returning it.
async fn until(client: &kube::Client, t: &rudder_release::wait::WaitTarget, f: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..120 {
        if let Some(v) = get(client, &t.api, t.namespace.as_deref(), &t.name).await {
            if f(&v) {
                return v;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{} {} never reached the expected state", t.api.kind, t.name);
}

#[tokio::test]
async fn deployment_becomes_ready_on_kwok_nodes() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    let created = create(&client, Some(&ns.name), deployment("web", 2, None)).await;
    // The object as the API server answered the create: no status at all yet.
    assert_eq!(
        status_of(&created, false),
        ObjStatus::InProgress("Replicas: 0/2".into()),
        "{created:#}"
    );
    let t = target(&created);
    wait_ready(&client, &[t.clone()], &opts(60, false)).await.expect("deployment ready");
    let live = get(&client, &t.api, Some(&ns.name), "web").await.unwrap();
    assert_eq!(status_of(&live, false), ObjStatus::Current, "{live:#}");
    assert_eq!(live["status"]["readyReplicas"], json!(2));

    // A new generation not yet observed is not ready, whatever the old status says.
    let mut stale = live.clone();
    stale["metadata"]["generation"] = json!(live["metadata"]["generation"].as_i64().unwrap() + 1);
    assert_eq!(
        status_of(&stale, false),
        ObjStatus::InProgress(format!(
            "Deployment generation is {}, but latest observed generation is {}",
            stale["metadata"]["generation"], live["status"]["observedGeneration"]
        ))
    );
    ns.cleanup().await;
}

#[tokio::test]
async fn unschedulable_deployment_times_out_with_helms_message() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    let scratch = Scratch::new("relwait-helm");
    let tpl = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: stuck\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: stuck}\n  template:\n    metadata:\n      labels: {app: stuck}\n    spec:\n      nodeSelector: {relwait: nowhere}\n      containers:\n      - name: c\n        image: nginx\n";
    let chart = chart(&scratch.0, "stuck", &[("deploy.yaml", tpl)]);
    // Real helm 4 waits on it and gives up.
    let out = helm("helm", &scratch.0)
        .args(["install", "relwait-stuck", chart.to_str().unwrap(), "-n", &ns.name, "--wait", "--timeout", "4s"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let helm_text = stderr
        .trim_end()
        .strip_prefix("Error: INSTALLATION FAILED: ")
        .unwrap_or_else(|| panic!("unexpected helm output: {stderr}"))
        .to_string();

    let t = target(&get(&client, &resource("apps/v1", "Deployment", "deployments"), Some(&ns.name), "stuck").await.unwrap());
    let started = std::time::Instant::now();
    let err = wait_ready(&client, &[t], &opts(3, false)).await.expect_err("must time out");
    let elapsed = started.elapsed();
    assert!(matches!(err, WaitError::Timeout(_)), "{err:?}");
    assert_eq!(err.to_string(), helm_text);
    assert_eq!(
        helm_text,
        format!("resource Deployment/{}/stuck not ready. status: InProgress, message: Available: 0/1\ncontext deadline exceeded", ns.name)
    );
    assert!(elapsed >= Duration::from_secs(3) && elapsed < Duration::from_secs(5), "{elapsed:?}");
    ns.cleanup().await;
}

#[tokio::test]
async fn several_targets_are_waited_concurrently_and_all_named_on_timeout() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    let mut targets = Vec::new();
    for (name, sel) in [("a", None), ("b", Some(json!({"relwait": "nowhere"}))), ("c", None), ("d", Some(json!({"relwait": "nowhere"})))] {
        targets.push(target(&create(&client, Some(&ns.name), deployment(name, 1, sel)).await));
    }
    let cm = create(&client, Some(&ns.name), json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"k": "v"}})).await;
    targets.push(target(&cm));
    let err = wait_ready(&client, &targets, &opts(4, false)).await.expect_err("b and d never become ready");
    let n = &ns.name;
    assert_eq!(
        err.to_string(),
        format!(
            "resource Deployment/{n}/b not ready. status: InProgress, message: Available: 0/1\n\
             resource Deployment/{n}/d not ready. status: InProgress, message: Available: 0/1\n\
             context deadline exceeded"
        )
    );
    // a and c were ready: waiting only on them succeeds.
    wait_ready(&client, &[targets[0].clone(), targets[2].clone(), targets[4].clone()], &opts(30, false))
        .await
        .unwrap();
    ns.cleanup().await;
}

#[tokio::test]
async fn jobs_complete_through_kwok_and_wait_for_jobs_waits_for_it() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    let created = create(&client, Some(&ns.name), job("ok", json!({}), json!({}))).await;
    // Not started yet: in progress for both readers.
    assert_eq!(status_of(&created, false), ObjStatus::InProgress("Job not started".into()));
    assert_eq!(status_of(&created, true), ObjStatus::InProgress("Job in progress".into()));
    let t = target(&created);
    wait_ready(&client, &[t.clone()], &opts(60, true)).await.expect("job completes");
    wait_hook(&client, &t, Duration::from_secs(10)).await.expect("hook job completes");
    let live = get(&client, &t.api, Some(&ns.name), "ok").await.unwrap();
    assert_eq!(status_of(&live, true), ObjStatus::Current);
    assert_eq!(status_of(&live, false), ObjStatus::Current);
    assert_eq!(hook_status_of(&live), ObjStatus::Current);

    // A started, unfinished Job (its pod cannot be scheduled): current without
    // --wait-for-jobs (as Helm), in progress with it.
    let pending = create(&client, Some(&ns.name), job("pending", json!({}), json!({"nodeSelector": {"relwait": "nowhere"}}))).await;
    let pt = target(&pending);
    let started = until(&client, &pt, |v| v["status"]["startTime"].is_string()).await;
    assert_eq!(status_of(&started, false), ObjStatus::Current, "{started:#}");
    assert_eq!(status_of(&started, true), ObjStatus::InProgress("Job in progress".into()));
    wait_ready(&client, &[pt.clone()], &opts(10, false)).await.expect("started job counts as ready");
    let err = wait_ready(&client, &[pt], &opts(2, true)).await.expect_err("never completes");
    assert_eq!(
        err.to_string(),
        format!("resource Job/{}/pending not ready. status: InProgress, message: Job in progress\ncontext deadline exceeded", ns.name)
    );
    ns.cleanup().await;
}

#[tokio::test]
async fn failing_hook_job_fails_with_helms_message() {
    // kwok completes every Job pod it runs; a Job fails here the way the controller fails it
    // when its pod never runs: activeDeadlineSeconds on an unschedulable pod.
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    let scratch = Scratch::new("relwait-helm");
    let hook = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: hookjob\n  annotations:\n    helm.sh/hook: pre-install\nspec:\n  activeDeadlineSeconds: 2\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      nodeSelector: {relwait: nowhere}\n      containers:\n      - name: c\n        image: busybox\n";
    let chart = chart(&scratch.0, "hookfail", &[("job.yaml", hook)]);
    let out = helm("helm", &scratch.0)
        .args(["install", "relwait-hook", chart.to_str().unwrap(), "-n", &ns.name, "--timeout", "60s"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    // helm: `Error: INSTALLATION FAILED: failed pre-install: resource Job/ns/hookjob not ready. ...`
    let helm_wait_text = stderr
        .trim_end()
        .split_once("failed pre-install: ")
        .map(|(_, rest)| rest.to_string())
        .unwrap_or_else(|| panic!("unexpected helm output: {stderr}"));

    // The same Job, created by us in a second namespace.
    let ns2 = TestNamespace::create(&client, "relwait").await;
    let mut obj = job("hookjob", json!({"activeDeadlineSeconds": 2}), json!({"nodeSelector": {"relwait": "nowhere"}}));
    obj["metadata"]["annotations"] = json!({"helm.sh/hook": "pre-install"});
    let t = target(&create(&client, Some(&ns2.name), obj).await);
    let err = wait_hook(&client, &t, Duration::from_secs(60)).await.expect_err("job fails");
    assert!(matches!(err, WaitError::Failed(_)), "{err:?}");
    assert_eq!(err.to_string(), helm_wait_text.replace(&ns.name, &ns2.name));
    let live = get(&client, &t.api, Some(&ns2.name), "hookjob").await.unwrap();
    assert_eq!(status_of(&live, true), ObjStatus::Failed("Job Failed. failed: 1/1".into()), "{live:#}");
    // --wait (without jobs) treats a failed Job as failed too: kstatus' own Job rule.
    let err = wait_ready(&client, &[t], &opts(10, false)).await.expect_err("failed job");
    assert!(matches!(err, WaitError::Failed(_)), "{err:?}");
    ns.cleanup().await;
    ns2.cleanup().await;
}

#[tokio::test]
async fn pod_hooks_wait_for_succeeded_and_fail_on_failed() {
    // kwok runs a bare Pod and keeps it Running (only Job pods are completed); the phase a
    // kubelet would report at the end is written through the status subresource.
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    let pod = |name: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
               "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}})
    };
    let ok = target(&create(&client, Some(&ns.name), pod("ok")).await);
    let bad = target(&create(&client, Some(&ns.name), pod("bad")).await);
    let running = until(&client, &ok, |v| v["status"]["phase"] == "Running").await;
    // Running and Ready: ready for --wait, not for a hook.
    assert_eq!(status_of(&running, false), ObjStatus::Current, "{running:#}");
    assert_eq!(hook_status_of(&running), ObjStatus::InProgress("Pod in progress".into()));
    let err = wait_hook(&client, &ok, Duration::from_secs(2)).await.expect_err("still running");
    assert_eq!(
        err.to_string(),
        format!("resource Pod/{}/ok not ready. status: InProgress, message: Pod in progress\ncontext deadline exceeded", ns.name)
    );

    let waiter = {
        let client = client.clone();
        let ok = ok.clone();
        tokio::spawn(async move { wait_hook(&client, &ok, Duration::from_secs(30)).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    patch_status(&client, &ok.api, Some(&ns.name), "ok", json!({"phase": "Succeeded"})).await;
    waiter.await.unwrap().expect("pod hook succeeded");

    until(&client, &bad, |v| v["status"]["phase"] == "Running").await;
    patch_status(&client, &bad.api, Some(&ns.name), "bad", json!({"phase": "Failed"})).await;
    let err = wait_hook(&client, &bad, Duration::from_secs(30)).await.expect_err("pod failed");
    assert!(matches!(err, WaitError::Failed(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("resource Pod/{}/bad not ready. status: Failed, message: pod bad failed", ns.name)
    );
    // For --wait a finished Pod is current either way (kstatus).
    let failed = get(&client, &bad.api, Some(&ns.name), "bad").await.unwrap();
    assert_eq!(status_of(&failed, false), ObjStatus::Current);

    // Other kinds used as hooks are ready once they exist; a missing one is waited for.
    let cm = target(&create(&client, Some(&ns.name), json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "h"}})).await);
    wait_hook(&client, &cm, Duration::from_secs(5)).await.unwrap();
    let mut missing = cm.clone();
    missing.name = "absent".into();
    let err = wait_hook(&client, &missing, Duration::from_secs(1)).await.expect_err("absent");
    assert_eq!(
        err.to_string(),
        format!("resource ConfigMap/{}/absent not ready. status: NotFound, message: Resource not found\ncontext deadline exceeded", ns.name)
    );
    ns.cleanup().await;
}

#[tokio::test]
async fn wait_deleted_after_delete_and_times_out_on_survivors() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    let d = target(&create(&client, Some(&ns.name), deployment("gone", 1, None)).await);
    let cm = target(&create(&client, Some(&ns.name), json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "gone"}})).await);
    let keep = target(&create(&client, Some(&ns.name), json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep"}})).await);
    wait_ready(&client, &[d.clone()], &opts(60, false)).await.unwrap();
    delete(&client, &d.api, Some(&ns.name), "gone").await;
    delete(&client, &cm.api, Some(&ns.name), "gone").await;
    wait_deleted(&client, &[d, cm], Duration::from_secs(60)).await.expect("both deleted");

    let err = wait_deleted(&client, &[keep], Duration::from_secs(1)).await.expect_err("still there");
    assert!(matches!(err, WaitError::Timeout(_)));
    assert_eq!(
        err.to_string(),
        format!("resource ConfigMap/{}/keep still exists. status: Current, message: Resource is always ready\ncontext deadline exceeded", ns.name)
    );
    ns.cleanup().await;
}

fn crd(group: &str, plural: &str, kind: &str, status_schema: Value) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {
            "group": group, "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.to_lowercase(), "kind": kind, "listKind": format!("{kind}List")},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "status": status_schema
                }}}
            }]
        }
    })
}

#[tokio::test]
async fn crds_become_established_and_custom_resources_follow_their_status() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    let group = format!("{}.relwait.example.com", ns.name.replace('-', ""));
    let crd_ar = resource("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions");
    let with_gen = json!({"type": "object", "properties": {
        "observedGeneration": {"type": "integer"},
        "conditions": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
    }});
    let created = create(&client, None, crd(&group, "widgets", "Widget", with_gen)).await;
    let plain = create(&client, None, crd(&group, "notes", "Note", json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}))).await;
    let ct = target(&created);
    let pt = target(&plain);
    wait_ready(&client, &[ct.clone(), pt.clone()], &opts(30, false)).await.expect("CRDs established");
    let live = get(&client, &crd_ar, None, &ct.name).await.unwrap();
    assert_eq!(status_of(&live, false), ObjStatus::Current, "{live:#}");
    // The status the API server first answers with is not established yet.
    if created["status"]["conditions"].as_array().is_none_or(|c| !c.iter().any(|c| c["type"] == "Established" && c["status"] == "True")) {
        assert_eq!(status_of(&created, false), ObjStatus::InProgress("Install in progress".into()));
    }

    // A Widget: its CRD declares status.observedGeneration, so a brand-new one is not ready.
    let widgets = resource(&format!("{group}/v1"), "Widget", "widgets");
    let w = api(&client, &widgets, Some(&ns.name));
    let obj: kube::api::DynamicObject = serde_json::from_value(json!({
        "apiVersion": format!("{group}/v1"), "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}
    }))
    .unwrap();
    let new_widget = with_type(&widgets, w.create(&Default::default(), &obj).await.unwrap());
    assert_eq!(status_of(&new_widget, false), ObjStatus::Current, "kstatus alone calls it current");
    assert_eq!(
        status_of_with(&new_widget, false, StatusRules { expects_observed_generation: true }),
        ObjStatus::InProgress("Widget status.observedGeneration not found".into())
    );
    let wt = rudder_release::wait::WaitTarget { api: widgets.clone(), namespace: Some(ns.name.clone()), name: "w".into() };
    let err = wait_ready(&client, &[wt.clone()], &opts(2, false)).await.expect_err("no controller yet");
    assert_eq!(
        err.to_string(),
        format!("resource Widget/{}/w not ready. status: InProgress, message: Widget status.observedGeneration not found\ncontext deadline exceeded", ns.name)
    );
    // The "controller" reports: observed, but not Ready yet.
    patch_status(&client, &widgets, Some(&ns.name), "w", json!({"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "False", "reason": "Scaling", "message": "scaling up"}]})).await;
    let err = wait_ready(&client, &[wt.clone()], &opts(2, false)).await.expect_err("not ready");
    assert!(err.to_string().contains("status: InProgress, message: scaling up"), "{err}");
    let waiter = {
        let client = client.clone();
        let wt = wt.clone();
        tokio::spawn(async move { wait_ready(&client, &[wt], &opts(30, false)).await })
    };
    patch_status(&client, &widgets, Some(&ns.name), "w", json!({"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True", "reason": "Up", "message": ""}]})).await;
    waiter.await.unwrap().expect("widget ready");
    // A Stalled condition is a failure.
    patch_status(&client, &widgets, Some(&ns.name), "w", json!({"conditions": [{"type": "Stalled", "status": "True", "reason": "Broken", "message": "cannot reconcile"}]})).await;
    let err = wait_ready(&client, &[wt], &opts(10, false)).await.expect_err("stalled");
    assert_eq!(err.to_string(), format!("resource Widget/{}/w not ready. status: Failed, message: cannot reconcile", ns.name));

    // A Note: no observedGeneration in its schema, no status ever: ready as kstatus says.
    let notes = resource(&format!("{group}/v1"), "Note", "notes");
    let obj: kube::api::DynamicObject = serde_json::from_value(json!({
        "apiVersion": format!("{group}/v1"), "kind": "Note", "metadata": {"name": "n"}, "spec": {"text": "hi"}
    }))
    .unwrap();
    api(&client, &notes, Some(&ns.name)).create(&Default::default(), &obj).await.unwrap();
    let nt = rudder_release::wait::WaitTarget { api: notes, namespace: Some(ns.name.clone()), name: "n".into() };
    wait_ready(&client, &[nt], &opts(10, false)).await.expect("note ready");

    ns.cleanup().await;
    delete(&client, &crd_ar, None, &ct.name).await;
    delete(&client, &crd_ar, None, &pt.name).await;
}

#[tokio::test]
async fn other_builtin_kinds_read_back_from_the_server() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    let n = Some(ns.name.as_str());
    let labels = json!({"app": "x"});
    let pod_tpl = json!({"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}});

    // StatefulSet
    let sts = create(&client, n, json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "sts"},
        "spec": {"replicas": 2, "serviceName": "sts", "selector": {"matchLabels": labels}, "template": pod_tpl}})).await;
    assert_eq!(status_of(&sts, false), ObjStatus::InProgress("Replicas: 0/2".into()));
    // DaemonSet: the controller's first status is needed before anything is judged.
    let ds = create(&client, n, json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ds"},
        "spec": {"selector": {"matchLabels": {"app": "ds"}}, "template": {"metadata": {"labels": {"app": "ds"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})).await;
    assert_eq!(status_of(&ds, false), ObjStatus::InProgress("DaemonSet status.observedGeneration not found".into()), "{ds:#}");
    // ReplicaSet
    let rs = create(&client, n, json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "rs"}}, "template": {"metadata": {"labels": {"app": "rs"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})).await;
    assert_eq!(status_of(&rs, false), ObjStatus::InProgress("Labelled: 0/1".into()));
    let targets = vec![target(&sts), target(&ds), target(&rs)];
    wait_ready(&client, &targets, &opts(60, false)).await.expect("sts, ds, rs ready on kwok nodes");
    for t in &targets {
        let live = get(&client, &t.api, n, &t.name).await.unwrap();
        assert_eq!(status_of(&live, false), ObjStatus::Current, "{live:#}");
    }
    let live_sts = get(&client, &targets[0].api, n, "sts").await.unwrap();
    // A partitioned rollout is judged by the updated replicas above the partition.
    let mut part = live_sts.clone();
    part["spec"]["updateStrategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 1}});
    part["status"]["updatedReplicas"] = json!(0);
    assert_eq!(status_of(&part, false), ObjStatus::InProgress("updated: 0/1".into()));
    // The API server defaults `partition: 0`, so kstatus judges every StatefulSet by its
    // partition; the revision rule applies only when the partition is absent.
    assert_eq!(live_sts["spec"]["updateStrategy"]["rollingUpdate"]["partition"], json!(0));
    let mut rev = live_sts.clone();
    rev["status"]["updateRevision"] = json!("other");
    assert_eq!(status_of(&rev, false), ObjStatus::Current);
    rev["spec"]["updateStrategy"].as_object_mut().unwrap().remove("rollingUpdate");
    assert_eq!(status_of(&rev, false), ObjStatus::InProgress("Waiting for updated revision to match current".into()));

    // PVC: no provisioner on the test bed, so it stays Pending.
    let pvc = create(&client, n, json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})).await;
    let pvc_t = target(&pvc);
    let err = wait_ready(&client, &[pvc_t], &opts(1, false)).await.expect_err("unbound");
    assert_eq!(
        err.to_string(),
        format!("resource PersistentVolumeClaim/{}/data not ready. status: InProgress, message: PVC is not Bound. phase: Pending\ncontext deadline exceeded", ns.name)
    );
    // Services: a LoadBalancer gets its cluster IP at once; kstatus (Helm 4) asks no more.
    let svc = create(&client, n, json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb"},
        "spec": {"type": "LoadBalancer", "selector": labels, "ports": [{"port": 80}]}})).await;
    assert_eq!(status_of(&svc, false), ObjStatus::Current, "{svc:#}");
    let mut no_ip = svc.clone();
    no_ip["spec"].as_object_mut().unwrap().remove("clusterIP");
    assert_eq!(status_of(&no_ip, false), ObjStatus::InProgress("ClusterIP not set. Service type: LoadBalancer".into()));
    // Namespaces: current while active, terminating once deleted.
    let ns_obj = get(&client, &resource("v1", "Namespace", "namespaces"), None, &ns.name).await.unwrap();
    assert_eq!(status_of(&ns_obj, false), ObjStatus::Current);
    let name = ns.name.clone();
    ns.cleanup().await;
    if let Some(terminating) = get(&client, &resource("v1", "Namespace", "namespaces"), None, &name).await {
        assert_eq!(status_of(&terminating, false), ObjStatus::InProgress("Resource scheduled for deletion".into()));
    }
}

#[tokio::test]
async fn progress_deadline_exceeded_fails_as_with_helm() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    let scratch = Scratch::new("relwait-helm");
    let tpl = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: late\nspec:\n  progressDeadlineSeconds: 1\n  replicas: 1\n  selector:\n    matchLabels: {app: late}\n  template:\n    metadata:\n      labels: {app: late}\n    spec:\n      nodeSelector: {relwait: nowhere}\n      containers:\n      - name: c\n        image: nginx\n";
    let chart = chart(&scratch.0, "late", &[("deploy.yaml", tpl)]);
    let out = helm("helm", &scratch.0)
        .args(["install", "relwait-late", chart.to_str().unwrap(), "-n", &ns.name, "--wait", "--timeout", "60s"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let helm_text = stderr
        .trim_end()
        .strip_prefix("Error: INSTALLATION FAILED: ")
        .unwrap_or_else(|| panic!("unexpected helm output: {stderr}"))
        .to_string();
    let t = target(&get(&client, &resource("apps/v1", "Deployment", "deployments"), Some(&ns.name), "late").await.unwrap());
    let err = wait_ready(&client, &[t.clone()], &opts(60, false)).await.expect_err("deadline exceeded");
    assert!(matches!(err, WaitError::Failed(_)), "{err:?}");
    assert_eq!(err.to_string(), helm_text);
    assert_eq!(helm_text, format!("resource Deployment/{}/late not ready. status: Failed, message: Progress deadline exceeded", ns.name));
    let live = get(&client, &t.api, Some(&ns.name), "late").await.unwrap();
    assert_eq!(status_of(&live, false), ObjStatus::Failed("Progress deadline exceeded".into()));

    // Its pod: unschedulable, in progress for the first 15 seconds, failed after.
    let pods = resource("v1", "Pod", "pods");
    let list = api(&client, &pods, Some(&ns.name)).list(&Default::default()).await.unwrap();
    let pod = with_type(&pods, list.items.into_iter().next().expect("a pod"));
    let pt = target(&pod);
    let pending = until(&client, &pt, |v| {
        v["status"]["conditions"].as_array().is_some_and(|c| c.iter().any(|c| c["reason"] == "Unschedulable"))
    })
    .await;
    let mut young = pending.clone();
    young["metadata"]["creationTimestamp"] = json!(rfc3339_ago(1));
    assert_eq!(status_of(&young, false), ObjStatus::InProgress("Pod has not been scheduled".into()));
    let mut old = pending.clone();
    old["metadata"]["creationTimestamp"] = json!(rfc3339_ago(60));
    assert_eq!(status_of(&old, false), ObjStatus::Failed("Pod could not be scheduled".into()));
    ns.cleanup().await;
}

/// `now - secs` as the API server writes timestamps.
fn rfc3339_ago(secs: u64) -> String {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - secs;
    let (days, rem) = (t / 86400, t % 86400);
    // civil_from_days (Howard Hinnant)
    let z = days as i64 + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[tokio::test]
async fn uninstall_wait_on_a_held_object_matches_helm() {
    // A finalizer nobody removes keeps a deleted ConfigMap Terminating.
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    let scratch = Scratch::new("relwait-helm");
    let tpl = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers: [relwait.example.com/hold]\ndata:\n  k: v\n";
    let chart = chart(&scratch.0, "held", &[("cm.yaml", tpl)]);
    let install = helm("helm", &scratch.0)
        .args(["install", "relwait-held", chart.to_str().unwrap(), "-n", &ns.name])
        .output()
        .unwrap();
    assert!(install.status.success(), "{}", String::from_utf8_lossy(&install.stderr));
    let out = helm("helm", &scratch.0)
        .args(["uninstall", "relwait-held", "-n", &ns.name, "--wait", "--timeout", "3s"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let helm_text = stderr
        .trim_end()
        .strip_prefix("Error: uninstallation completed with 1 error(s): ")
        .unwrap_or_else(|| panic!("unexpected helm output: {stderr}"))
        .to_string();

    let cm_ar = resource("v1", "ConfigMap", "configmaps");
    let held = get(&client, &cm_ar, Some(&ns.name), "held").await.expect("still there");
    assert_eq!(status_of(&held, false), ObjStatus::InProgress("Resource scheduled for deletion".into()));
    let err = wait_deleted(&client, &[target(&held)], Duration::from_secs(2)).await.expect_err("held");
    assert_eq!(err.to_string(), helm_text);
    assert_eq!(
        helm_text,
        format!("resource ConfigMap/{}/held still exists. status: Terminating, message: Resource scheduled for deletion\ncontext deadline exceeded", ns.name)
    );
    // Released: now it goes, and the wait sees it go.
    let waiter = {
        let client = client.clone();
        let t = target(&held);
        tokio::spawn(async move { wait_deleted(&client, &[t], Duration::from_secs(30)).await })
    };
    api(&client, &cm_ar, Some(&ns.name))
        .patch("held", &Default::default(), &kube::api::Patch::Merge(json!({"metadata": {"finalizers": null}})))
        .await
        .unwrap();
    waiter.await.unwrap().expect("deleted once released");
    ns.cleanup().await;
}

#[tokio::test]
async fn wait_for_jobs_timeout_matches_helm() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "relwait").await;
    let scratch = Scratch::new("relwait-helm");
    let tpl = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: slow\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      nodeSelector: {relwait: nowhere}\n      containers:\n      - name: c\n        image: busybox\n";
    let chart = chart(&scratch.0, "slow", &[("job.yaml", tpl)]);
    let out = helm("helm", &scratch.0)
        .args(["install", "relwait-slow", chart.to_str().unwrap(), "-n", &ns.name, "--wait", "--wait-for-jobs", "--timeout", "3s"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let helm_text = stderr
        .trim_end()
        .strip_prefix("Error: INSTALLATION FAILED: ")
        .unwrap_or_else(|| panic!("unexpected helm output: {stderr}"))
        .to_string();
    let t = target(&get(&client, &resource("batch/v1", "Job", "jobs"), Some(&ns.name), "slow").await.unwrap());
    let err = wait_ready(&client, &[t.clone()], &opts(2, true)).await.expect_err("never completes");
    assert_eq!(err.to_string(), helm_text);
    // Without --wait-for-jobs both call the started Job ready.
    let plain = helm("helm", &scratch.0)
        .args(["upgrade", "relwait-slow", chart.to_str().unwrap(), "-n", &ns.name, "--wait", "--timeout", "10s"])
        .output()
        .unwrap();
    assert!(plain.status.success(), "{}", String::from_utf8_lossy(&plain.stderr));
    wait_ready(&client, &[t], &opts(10, false)).await.expect("started job is ready");
    ns.cleanup().await;
}
