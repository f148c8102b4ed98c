//! The fault-injecting proxy in front of the test bed's apiserver, driven by a kube-rs client
//! and by the real helm 4.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use rudder_conformance::fault_proxy::{Fault, FaultProxy, Outcome, Rule};
use rudder_conformance::testbed::{self, oracle, unique_name};

async fn client_for(kubeconfig: &Path) -> kube::Client {
    let kc = Kubeconfig::read_from(kubeconfig).expect("kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("kube config");
    kube::Client::try_from(cfg).expect("kube client")
}

/// A namespace for one test, deleted at the end even when the body panics.
async fn with_namespace<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let direct = client_for(&testbed::testbed().kubeconfig).await;
    let name = unique_name("leases-fp");
    let ns: Namespace = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}
    }))
    .unwrap();
    let nss = Api::<Namespace>::all(direct);
    nss.create(&PostParams::default(), &ns).await.expect("create namespace");
    let res = tokio::spawn(body(name.clone())).await;
    let _ = nss.delete(&name, &DeleteParams::default()).await;
    if let Err(e) = res {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn api_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

#[tokio::test]
async fn kube_client_through_the_proxy_sees_each_fault() {
    with_namespace(|ns| async move {
        let proxy = FaultProxy::start().await.expect("proxy");
        let client = client_for(proxy.kubeconfig()).await;
        let cms: Api<ConfigMap> = Api::namespaced(client, &ns);
        let path = format!("/api/v1/namespaces/{ns}/configmaps");
        let lp = ListParams::default();

        // Plain forwarding works.
        cms.list(&lp).await.expect("list through the proxy");
        assert_eq!(proxy.log().last().unwrap().outcome, Outcome::Forwarded(200));

        // 500 is not retried by kube-rs: two failures, then success once the schedule ran out.
        proxy.add(Rule::status(500).method("GET").path(&path).times(2));
        for _ in 0..2 {
            let e = cms.list(&lp).await.expect_err("500 expected");
            assert_eq!(api_code(&e), Some(500), "{e:?}");
            assert!(e.to_string().contains("fault proxy: injected 500"), "{e}");
        }
        assert!(proxy.schedule_done());
        cms.list(&lp).await.expect("list after the schedule");

        // 503 and 429 are retried by kube-rs (Retry-After honoured): the caller sees success.
        proxy.clear();
        proxy.add(Rule::status(503).method("GET").path(&path).times(2));
        proxy.add(Rule::status(429).method("GET").path(&path).times(1));
        let t = Instant::now();
        cms.list(&lp).await.expect("retried through 503, 503, 429");
        assert!(t.elapsed() >= Duration::from_secs(1), "Retry-After: 1 not waited");
        let tail: Vec<Outcome> = proxy.log().iter().rev().take(4).rev().map(|l| l.outcome.clone()).collect();
        assert_eq!(
            tail,
            [Outcome::Injected(503), Outcome::Injected(503), Outcome::Injected(429), Outcome::Forwarded(200)]
        );

        // A write matched by method: the create fails, nothing is written, the retry succeeds.
        proxy.clear();
        proxy.add(Rule::status(500).method("POST").path(&path).times(1));
        let cm: ConfigMap = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "leases-cm"}, "data": {"a": "b"}
        }))
        .unwrap();
        assert_eq!(api_code(&cms.create(&PostParams::default(), &cm).await.unwrap_err()), Some(500));
        assert!(cms.get_opt("leases-cm").await.unwrap().is_none());
        cms.create(&PostParams::default(), &cm).await.expect("create after the fault");

        // A dropped connection is an error without a status; the next request reconnects.
        proxy.clear();
        proxy.add(Rule::new(Fault::Drop).path(&format!("{path}/leases-cm")).times(1));
        let e = cms.get("leases-cm").await.expect_err("dropped");
        assert_eq!(api_code(&e), None, "{e:?}");
        assert_eq!(cms.get("leases-cm").await.unwrap().data.unwrap()["a"], "b");

        // A delay holds the answer back.
        proxy.add(Rule::new(Fault::Delay(Duration::from_millis(1500))).path(&format!("{path}/leases-cm")).times(1));
        let t = Instant::now();
        cms.get("leases-cm").await.expect("delayed get");
        assert!(t.elapsed() >= Duration::from_millis(1500));

        // An outage refuses connections until it ends.
        proxy.clear();
        proxy.add(Rule::new(Fault::Outage(Duration::from_secs(2))).path(&format!("{path}/leases-cm")).times(1));
        let t = Instant::now();
        assert!(cms.get("leases-cm").await.is_err());
        assert!(proxy.is_down());
        let during = std::net::TcpStream::connect(proxy.url().trim_start_matches("http://"));
        assert!(during.is_err(), "the proxy should refuse connections during an outage");
        let mut ok = false;
        while t.elapsed() < Duration::from_secs(15) {
            if cms.get("leases-cm").await.is_ok() {
                ok = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(ok, "no answer after the outage ended");
        assert!(t.elapsed() >= Duration::from_secs(2), "answered during the outage");
        assert!(!proxy.is_down());
    })
    .await;
}

fn helm(home: &Path, kubeconfig: &Path) -> Command {
    let mut cmd = testbed::testbed().command(oracle("helm"), home);
    cmd.env("KUBECONFIG", kubeconfig);
    cmd
}

/// Runs helm off the runtime's threads: the proxy lives in this process and must keep serving.
async fn output(cmd: &mut Command) -> Output {
    let desc = format!("{cmd:?}");
    let mut cmd = std::mem::replace(cmd, Command::new("true"));
    tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .unwrap_or_else(|e| panic!("running {desc}: {e}"))
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_through_the_proxy_fails_on_500_then_succeeds() {
    with_namespace(|ns| async move {
        let proxy = FaultProxy::start().await.expect("proxy");
        let dir = std::env::temp_dir().join(unique_name("leases-fp-helm"));
        let home = dir.join("home");
        let chart = dir.join("fp");
        std::fs::create_dir_all(chart.join("templates")).unwrap();
        std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: fp\nversion: 0.1.0\n").unwrap();
        std::fs::write(
            chart.join("templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  a: b\n",
        )
        .unwrap();
        let kc = proxy.kubeconfig().to_path_buf();

        let o = output(helm(&home, &kc).args(["install", "rel", chart.to_str().unwrap(), "-n", &ns])).await;
        assert!(o.status.success(), "install through the proxy: {}", text(&o));

        let secrets = format!("/api/v1/namespaces/{ns}/secrets");
        proxy.add(Rule::status(500).method("GET").path(&secrets).times(1));
        let o = output(helm(&home, &kc).args(["list", "-n", &ns])).await;
        assert!(!o.status.success(), "helm list should fail on the injected 500: {}", text(&o));
        assert!(text(&o).contains("fault proxy: injected 500"), "{}", text(&o));
        assert!(proxy.schedule_done());
        let o = output(helm(&home, &kc).args(["list", "-n", &ns, "-q"])).await;
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(String::from_utf8_lossy(&o.stdout), "rel\n");

        // client-go retries 429 with Retry-After: helm list succeeds through two of them.
        proxy.add(Rule::status(429).method("GET").path(&secrets).times(2));
        let before = proxy.log().len();
        let o = output(helm(&home, &kc).args(["list", "-n", &ns, "-q"])).await;
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(String::from_utf8_lossy(&o.stdout), "rel\n");
        let seen: Vec<Outcome> = proxy.log()[before..]
            .iter()
            .filter(|l| l.path == secrets)
            .map(|l| l.outcome.clone())
            .collect();
        assert_eq!(seen, [Outcome::Injected(429), Outcome::Injected(429), Outcome::Forwarded(200)]);

        // The apiserver "down": connection refused, then back.
        proxy.go_down();
        let o = output(helm(&home, &kc).args(["list", "-n", &ns])).await;
        assert!(!o.status.success());
        assert!(text(&o).contains("connection refused"), "{}", text(&o));
        proxy.come_up();
        let o = output(helm(&home, &kc).args(["list", "-n", &ns, "-q"])).await;
        assert!(o.status.success(), "{}", text(&o));

        let o = output(helm(&home, &kc).args(["uninstall", "rel", "-n", &ns])).await;
        assert!(o.status.success(), "{}", text(&o));
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}
