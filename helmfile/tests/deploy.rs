//! `helmfile apply`, `sync`, `diff`, `status` and `destroy` on the test bed, checked with the
//! real helm v4.3.1 (`helm list -A`) and against the real helmfile v1.8.0 driving it.
//!
//! The test bed must be up (`conformance/testbed env`); without it these tests fail.
//! Every namespace and release starts with `hfapply-`; namespaces are removed at the end.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use rudder_conformance::testbed::{self, oracle, unique_name};
use rudder_helmfile::commands::Outcome;

/// `cli::run` changes into the state's directory: one test at a time.
static LOCK: Mutex<()> = Mutex::new(());

fn oracle_path() -> String {
    let dir = oracle("helm").parent().unwrap().to_path_buf();
    format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default())
}

/// A scratch directory with private helm homes; the namespaces it names are deleted on drop.
struct Bed {
    dir: PathBuf,
    namespaces: Vec<String>,
}

impl Drop for Bed {
    fn drop(&mut self) {
        for ns in &self.namespaces {
            let _ = testbed::testbed().delete(&format!("/api/v1/namespaces/{ns}"));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Bed {
    fn new(prefix: &str, namespaces: usize) -> Bed {
        let tb = testbed::testbed();
        let dir = std::env::temp_dir().join(unique_name(prefix));
        std::fs::create_dir_all(&dir).unwrap();
        std::env::set_var("KUBECONFIG", &tb.kubeconfig);
        for (k, v) in [("HELM_CONFIG_HOME", "config"), ("HELM_CACHE_HOME", "cache"), ("HELM_DATA_HOME", "data")] {
            std::env::set_var(k, dir.join("h").join(v));
        }
        std::env::set_var("HELMFILE_NO_COLOR", "true");
        let namespaces = (0..namespaces).map(|i| unique_name(&format!("{prefix}-{i}"))).collect();
        Bed { dir, namespaces }
    }

    /// Real helm with this bed's homes.
    fn helm(&self) -> Command {
        testbed::testbed().command(oracle("helm"), &self.dir.join("h"))
    }

    /// `helm list -A` rows of this bed's namespaces: (name, namespace, revision, status, chart).
    fn helm_list(&self) -> Vec<(String, String, String, String, String)> {
        let out = testbed::run_ok(self.helm().args(["list", "-A", "-o", "json"])).expect("helm list");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut rows: Vec<_> = v
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| self.namespaces.iter().any(|n| r["namespace"] == n.as_str()))
            .map(|r| {
                let s = |k: &str| match &r[k] {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (s("name"), s("namespace"), s("revision"), s("status"), s("chart"))
            })
            .collect();
        rows.sort();
        rows
    }

    fn mine(&self, args: &[&str]) -> Outcome {
        let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        a.extend(["--kubeconfig".to_string(), testbed::testbed().kubeconfig.display().to_string()]);
        // `--kubeconfig` is a global flag: put it first.
        a.rotate_right(2);
        std::env::set_current_dir(&self.dir).unwrap();
        rudder_helmfile::cli::run(&a)
    }

    fn real(&self, args: &[&str]) -> Outcome {
        let out = self
            .helm_env(Command::new(oracle("helmfile")))
            .current_dir(&self.dir)
            .args(args)
            .output()
            .expect("run the real helmfile");
        Outcome {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        }
    }

    fn helm_env(&self, mut c: Command) -> Command {
        let h = self.dir.join("h");
        c.env("KUBECONFIG", &testbed::testbed().kubeconfig)
            .env("PATH", oracle_path())
            .env("HELM_CONFIG_HOME", h.join("config"))
            .env("HELM_CACHE_HOME", h.join("cache"))
            .env("HELM_DATA_HOME", h.join("data"))
            .env("HELMFILE_CACHE_HOME", h.join("hfcache"))
            .env("HELMFILE_UPGRADE_NOTICE_DISABLED", "1")
            .env("HELMFILE_NO_COLOR", "true")
            .env_remove("HELM_DRIVER")
            .env_remove("HELM_NAMESPACE");
        c
    }

    /// ConfigMaps of a namespace, by name (kube-root-ca.crt left out).
    fn configmaps(&self, ns: &str) -> Vec<String> {
        let v = testbed::testbed().get_json(&format!("/api/v1/namespaces/{ns}/configmaps")).unwrap();
        let mut names: Vec<String> = v["items"]
            .as_array()
            .map(|a| a.iter().filter_map(|i| i["metadata"]["name"].as_str().map(String::from)).collect())
            .unwrap_or_default();
        names.retain(|n| n != "kube-root-ca.crt");
        names.sort();
        names
    }
}

/// A chart with one ConfigMap (`greeting` from the values) and a post-install hook ConfigMap.
fn cm_chart(dir: &Path, name: &str) {
    let c = dir.join("charts").join(name);
    std::fs::create_dir_all(c.join("templates")).unwrap();
    std::fs::write(c.join("Chart.yaml"), format!("apiVersion: v2\nname: {name}\nversion: 0.2.0\nappVersion: \"1.0\"\n")).unwrap();
    std::fs::write(c.join("values.yaml"), "greeting: hello\n").unwrap();
    std::fs::write(
        c.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
    )
    .unwrap();
    std::fs::write(
        c.join("templates/hook.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-hook\n  annotations:\n    helm.sh/hook: post-install,post-upgrade\n    helm.sh/hook-delete-policy: before-hook-creation\ndata:\n  at: {{ .Release.Revision | quote }}\n",
    )
    .unwrap();
}

fn state(bed: &Bed, prefix: &str) -> String {
    let (a, b) = (&bed.namespaces[0], &bed.namespaces[1]);
    format!(
        r#"helmDefaults:
  wait: true
  timeout: 120
releases:
- name: {prefix}-db
  namespace: {a}
  chart: ./charts/store
  values:
  - greeting: db
- name: {prefix}-cache
  namespace: {a}
  chart: ./charts/store
- name: {prefix}-api
  namespace: {b}
  chart: ./charts/app
  needs: [{a}/{prefix}-db, {a}/{prefix}-cache]
  values:
  - api-values.yaml
- name: {prefix}-web
  namespace: {b}
  chart: /work/shared/corpus/charts/podinfo
  needs: [{prefix}-api]
  set:
  - name: replicaCount
    value: 1
- name: {prefix}-old
  namespace: {b}
  chart: ./charts/app
  installed: false
"#
    )
}

fn ok(o: &Outcome, what: &str) {
    assert_eq!(o.code, 0, "{what} failed:\nstdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
}

#[test]
fn apply_twice_upgrade_one_destroy_agrees_with_helm() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let bed = Bed::new("hfapply-ap", 2);
    let p = "hfapply-ap";
    cm_chart(&bed.dir, "store");
    cm_chart(&bed.dir, "app");
    std::fs::write(bed.dir.join("api-values.yaml"), "greeting: v1\n").unwrap();
    std::fs::write(bed.dir.join("helmfile.yaml"), state(&bed, p)).unwrap();
    let (a, b) = (bed.namespaces[0].clone(), bed.namespaces[1].clone());

    // First apply installs everything, in needs order.
    let o = bed.mine(&["apply"]);
    ok(&o, "first apply");
    let order: Vec<&str> = o.stderr.lines().filter(|l| l.starts_with("Upgrading release=")).collect();
    assert_eq!(order.len(), 4, "{}", o.stderr);
    let pos = |n: &str| order.iter().position(|l| l.contains(&format!("release={p}-{n},"))).unwrap();
    assert!(pos("db") < pos("api") && pos("cache") < pos("api") && pos("api") < pos("web"), "{order:?}");
    assert!(o.stdout.contains("has been added"), "{}", o.stdout);
    let row = |n: &str, ns: &str, rev: &str, chart: &str| {
        (format!("{p}-{n}"), ns.to_string(), rev.to_string(), "deployed".to_string(), chart.to_string())
    };
    let mut want = vec![
        row("api", &b, "1", "app-0.2.0"),
        row("cache", &a, "1", "store-0.2.0"),
        row("db", &a, "1", "store-0.2.0"),
        row("web", &b, "1", "podinfo-6.14.1"),
    ];
    want.sort();
    assert_eq!(bed.helm_list(), want, "helm list -A after the first apply");
    assert_eq!(bed.configmaps(&a), vec![format!("{p}-cache-cm"), format!("{p}-cache-hook"), format!("{p}-db-cm"), format!("{p}-db-hook")]);

    // A second apply changes nothing: no diff, no upgrade, no new revision.
    let o = bed.mine(&["apply"]);
    ok(&o, "second apply");
    assert_eq!(o.stdout, "", "second apply printed a diff");
    assert!(!o.stderr.contains("Upgrading release="), "{}", o.stderr);
    assert_eq!(bed.helm_list(), want, "helm list -A after the second apply");
    let o = bed.mine(&["diff", "--detailed-exitcode"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, ""), "diff of an unchanged state: {}", o.stderr);

    // A values change upgrades only that release.
    std::fs::write(bed.dir.join("api-values.yaml"), "greeting: v2\n").unwrap();
    let o = bed.mine(&["diff", "--detailed-exitcode"]);
    assert_eq!(o.code, 2, "diff --detailed-exitcode with a change: {}", o.stderr);
    assert!(o.stdout.contains("-   greeting: v1\n+   greeting: v2"), "{}", o.stdout);
    let o = bed.mine(&["apply"]);
    ok(&o, "apply after a values change");
    let upgraded: Vec<&str> = o.stderr.lines().filter(|l| l.starts_with("Upgrading release=")).collect();
    assert_eq!(upgraded.len(), 1, "{}", o.stderr);
    assert!(upgraded[0].contains(&format!("release={p}-api,")), "{upgraded:?}");
    want[0].2 = "2".into();
    assert_eq!(bed.helm_list(), want, "helm list -A after the values change");
    let got = testbed::run_ok(bed.helm().args(["get", "values", &format!("{p}-api"), "-n", &b, "-o", "json"])).unwrap();
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), r#"{"greeting":"v2"}"#);

    // status: one helm status per installed release.
    let o = bed.mine(&["status"]);
    ok(&o, "status");
    assert_eq!(o.stderr.matches("STATUS: deployed").count(), 4, "{}", o.stderr);
    assert!(o.stderr.contains(&format!("NAME: {p}-api\n")) && o.stderr.contains("REVISION: 2\n"));

    // destroy removes everything, dependents first.
    let o = bed.mine(&["destroy"]);
    ok(&o, "destroy");
    let deleting: Vec<&str> = o.stderr.lines().filter(|l| l.starts_with("Deleting ")).collect();
    assert_eq!(deleting.first().copied(), Some(format!("Deleting {p}-web").as_str()), "{}", o.stderr);
    assert_eq!(deleting.len(), 4, "{}", o.stderr);
    assert_eq!(bed.helm_list(), vec![], "helm list -A after destroy");
    // Hook objects are not part of the release (Helm leaves them on uninstall).
    let kept = |ns: &str| -> Vec<String> { bed.configmaps(ns).into_iter().filter(|n| !n.ends_with("-hook")).collect() };
    assert_eq!(kept(&a), Vec::<String>::new());
    assert_eq!(kept(&b), Vec::<String>::new());
}

/// Lines whose content depends on the clock or on helmfile's concurrent chart preparation.
fn normalize(s: &str) -> String {
    let re_time = regex::Regex::new(r"\d{4}-\d{2}-\d{2} [\d:.]+ \+0000 UTC").unwrap();
    let re_ansic = regex::Regex::new(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d [\d:]{8} \d{4}").unwrap();
    let re_dur = regex::Regex::new(r" +\d+s$").unwrap();
    s.lines()
        .filter(|l| !l.starts_with("Building dependency "))
        .map(|l| {
            let l = re_time.replace_all(l, "TIME");
            let l = re_ansic.replace_all(&l, "ANSIC");
            re_dur.replace_all(&l, " Ns").into_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn sync_and_destroy_print_what_real_helmfile_prints() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let bed = Bed::new("hfapply-rl", 2);
    let p = "hfapply-rl";
    cm_chart(&bed.dir, "store");
    cm_chart(&bed.dir, "app");
    std::fs::write(bed.dir.join("api-values.yaml"), "greeting: v1\n").unwrap();
    std::fs::write(bed.dir.join("helmfile.yaml"), state(&bed, p)).unwrap();

    let mine_sync = bed.mine(&["sync"]);
    ok(&mine_sync, "rudder sync");
    let after_mine = bed.helm_list();
    let real_destroy = bed.real(&["destroy"]);
    ok(&real_destroy, "real helmfile destroy of rudder's releases");
    assert_eq!(bed.helm_list(), vec![]);

    let real_sync = bed.real(&["sync"]);
    ok(&real_sync, "real helmfile sync");
    assert_eq!(bed.helm_list(), after_mine, "helm list -A after real helmfile's sync vs rudder's");
    let real_status = bed.real(&["status"]);
    let mine_status = bed.mine(&["status"]);
    assert_eq!((real_status.code, mine_status.code), (0, 0));
    // helmfile asks for the statuses concurrently: compare per-release blocks, sorted.
    let heads = |s: &str| -> Vec<Vec<String>> {
        let lines: Vec<String> = s
            .lines()
            .filter(|l| ["NAME: ", "NAMESPACE: ", "STATUS: ", "REVISION: "].iter().any(|p| l.starts_with(p)))
            .map(String::from)
            .collect();
        let mut blocks: Vec<Vec<String>> = lines.chunks(4).map(|c| c.to_vec()).collect();
        blocks.sort();
        blocks
    };
    assert_eq!(heads(&mine_status.stderr), heads(&real_status.stderr), "status of real helmfile's releases");
    assert_eq!(mine_status.stdout, real_status.stdout);
    let mine_destroy = bed.mine(&["destroy"]);
    ok(&mine_destroy, "rudder destroy of real helmfile's releases");
    assert_eq!(bed.helm_list(), vec![]);

    assert_eq!(normalize(&mine_sync.stdout), normalize(&real_sync.stdout), "sync stdout");
    // helmfile runs the releases of one `needs` group concurrently (db and cache here), so
    // its lines interleave in any order: the same lines, in any order.
    let sorted = |s: &str| {
        let mut l: Vec<String> = normalize(s).lines().map(String::from).collect();
        l.sort();
        l
    };
    assert_eq!(sorted(&mine_sync.stderr), sorted(&real_sync.stderr), "sync stderr (lines)");
    assert_eq!(sorted(&mine_destroy.stderr), sorted(&real_destroy.stderr), "destroy stderr (lines)");
    // What does not depend on concurrency is in order: web (needs api) after api, api after db.
    let pos = |s: &str, l: &str| s.find(l).unwrap_or_else(|| panic!("{l:?} missing from\n{s}"));
    for s in [&mine_sync.stderr, &real_sync.stderr] {
        assert!(pos(s, &format!("Upgrading release={p}-db,")) < pos(s, &format!("Upgrading release={p}-api,")));
        assert!(pos(s, &format!("Upgrading release={p}-api,")) < pos(s, &format!("Upgrading release={p}-web,")));
    }
}

/// `sync --report-json/--report-prometheus`: the deploy report names every release with its
/// result as real helm sees it (one deployed, one rejected by the API server, one skipped
/// because it needs the rejected one), and the run's success gauge is 0.
#[test]
fn sync_writes_the_deploy_report() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let bed = Bed::new("hfapply-rep", 1);
    let ns = bed.namespaces[0].clone();
    cm_chart(&bed.dir, "good");
    // A ConfigMap name the API server rejects (upper case): the install fails.
    let bad = bed.dir.join("charts/bad");
    std::fs::create_dir_all(bad.join("templates")).unwrap();
    std::fs::write(bad.join("Chart.yaml"), "apiVersion: v2\nname: bad\nversion: 0.1.0\n").unwrap();
    std::fs::write(bad.join("templates/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not-Valid\ndata: {}\n").unwrap();
    std::fs::write(
        bed.dir.join("helmfile.yaml"),
        format!(
            "releases:\n- name: hfapply-rep-good\n  namespace: {ns}\n  chart: ./charts/good\n- name: hfapply-rep-bad\n  namespace: {ns}\n  chart: ./charts/bad\n- name: hfapply-rep-after\n  namespace: {ns}\n  chart: ./charts/good\n  needs: [hfapply-rep-bad]\n"
        ),
    )
    .unwrap();
    let json = bed.dir.join("report.json");
    let prom = bed.dir.join("report.prom");
    let o = bed.mine(&["sync", "--report-json", json.to_str().unwrap(), "--report-prometheus", prom.to_str().unwrap()]);
    assert_eq!(o.code, 1, "sync with a rejected release must fail:\n{}{}", o.stdout, o.stderr);

    let rows = bed.helm_list();
    let names: Vec<(&str, &str)> = rows.iter().map(|r| (r.0.as_str(), r.3.as_str())).collect();
    assert_eq!(names, [("hfapply-rep-bad", "failed"), ("hfapply-rep-good", "deployed")], "{rows:?}");

    let rep: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).expect("report.json written")).unwrap();
    assert_eq!(rep["schema"], "rudder.helmfile.report/v1");
    assert_eq!(rep["success"], false);
    let result = |name: &str| {
        rep["releases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .map(|r| r["result"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{name} missing from {rep}"))
    };
    // What real helm says decides what the report must say.
    for (name, helm_status) in &names {
        let want = if *helm_status == "deployed" { "ok" } else { "failed" };
        assert_eq!(result(name), want, "{name}");
    }
    assert_eq!(result("hfapply-rep-after"), "skipped");
    assert!(!rows.iter().any(|r| r.0 == "hfapply-rep-after"), "a skipped release must not be installed");

    let text = std::fs::read_to_string(&prom).expect("report.prom written");
    let sample = |metric: &str, release: &str| {
        text.lines()
            .find(|l| l.starts_with(metric) && l.contains(&format!("release=\"{release}\"")))
            .and_then(|l| l.rsplit(' ').next())
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no {metric} for {release} in\n{text}"))
    };
    assert_eq!(sample("rudder_helmfile_release_success{", "hfapply-rep-good"), "1");
    assert_eq!(sample("rudder_helmfile_release_failed{", "hfapply-rep-bad"), "1");
    assert!(text.lines().any(|l| l.starts_with("rudder_helmfile_run_success{") && l.ends_with(" 0")), "{text}");
}

/// Repository and OCI charts installed online by the real helmfile (`sync`), and by Rudder's
/// `helmfile apply --offline` on a machine that has only a bundle (`rudder bundle create -f`, then
/// `bundle import` in fresh helm homes, the repository pointed at a closed port): the same
/// releases (chart, revision, status, values) with the same manifests, as the real helm reads
/// them back.
#[test]
fn apply_offline_from_a_bundle_deploys_what_real_helmfile_deploys() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let bed = Bed::new("hfapply-off", 2);
    let p = "hfapply-off";
    let root = std::env::var("RUDDER_TEST_REPO_DIR").expect("RUDDER_TEST_REPO_DIR unset: eval \"$(conformance/servers env)\" first");
    let url = std::env::var("RUDDER_TEST_REPO_URL").expect("RUDDER_TEST_REPO_URL unset: eval \"$(conformance/servers env)\" first");
    let registry = std::env::var("RUDDER_TEST_REGISTRY").expect("RUDDER_TEST_REGISTRY unset: eval \"$(conformance/servers env)\" first");
    let served = unique_name("hfapply-off");
    let repo = Path::new(&root).join(&served);
    std::fs::create_dir_all(&repo).unwrap();
    struct Served(PathBuf);
    impl Drop for Served {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _served = Served(repo.clone());
    cm_chart(&bed.dir, "store");
    testbed::run_ok(bed.helm().arg("package").arg(bed.dir.join("charts/store")).arg("-d").arg(&repo)).unwrap();
    testbed::run_ok(bed.helm().arg("repo").arg("index").arg(&repo)).unwrap();
    testbed::run_ok(bed.helm().arg("push").arg(repo.join("store-0.2.0.tgz")).arg(format!("oci://{registry}/{served}")).arg("--plain-http")).unwrap();
    let state = |ns: &str, repo_url: &str| {
        format!(
            "repositories:\n- name: hfr\n  url: {repo_url}\nreleases:\n- name: {p}-r\n  namespace: {ns}\n  chart: hfr/store\n  version: \"~0.2\"\n  values:\n  - greeting: from-repo\n- name: {p}-o\n  namespace: {ns}\n  chart: oci://{registry}/{served}/store\n  version: 0.2.0\n"
        )
    };
    let (a, b) = (bed.namespaces[0].clone(), bed.namespaces[1].clone());
    std::fs::write(bed.dir.join("helmfile.yaml"), state(&a, &format!("{url}/{served}"))).unwrap();
    // (The real helmfile's apply needs the helm-diff plugin; sync installs the same releases.)
    let o = bed.real(&["--oci-plain-http", "sync"]);
    assert_eq!(o.code, 0, "real helmfile sync: {}", o.stderr);

    // The bundle, made online (as `rudder bundle create -f helmfile.yaml` makes it).
    std::fs::write(bed.dir.join("helmfile.yaml"), state(&b, &format!("{url}/{served}"))).unwrap();
    let plan = rudder_helmfile::bundle::plan(None, &bed.dir, &Default::default(), true, false).unwrap_or_else(|e| panic!("bundle plan: {e}"));
    let items: Vec<(String, rudder_repo::PullOptions)> = plan.sources.iter().map(|s| (s.reference.clone(), s.options.clone())).collect();
    let bundle = bed.dir.join("bundle.tar");
    rudder_repo::bundle::create_items(&rudder_repo::HelmPaths::from_env(), &items, &bundle).unwrap();
    let _ = std::fs::remove_dir_all(&repo);

    // The air-gapped machine: fresh homes, the repository unreachable.
    let air = bed.dir.join("air");
    for (k, v) in [("HELM_CONFIG_HOME", "config"), ("HELM_CACHE_HOME", "cache"), ("HELM_DATA_HOME", "data"), ("HELMFILE_CACHE_HOME", "hfcache")] {
        std::env::set_var(k, air.join(v));
    }
    rudder_repo::bundle::import(&rudder_repo::HelmPaths::from_env(), &bundle).unwrap();
    std::fs::write(bed.dir.join("helmfile.yaml"), state(&b, "http://127.0.0.1:9/gone")).unwrap();
    let o = bed.mine(&["--oci-plain-http", "apply", "--offline"]);
    ok(&o, "offline apply");
    std::env::remove_var("HELMFILE_CACHE_HOME");

    let rows = bed.helm_list();
    let strip = |rows: &[(String, String, String, String, String)], ns: &str| -> Vec<(String, String, String, String)> {
        rows.iter().filter(|r| r.1 == ns).map(|r| (r.0.clone(), r.2.clone(), r.3.clone(), r.4.clone())).collect()
    };
    assert_eq!(strip(&rows, &a).len(), 2, "{rows:?}");
    assert_eq!(strip(&rows, &a), strip(&rows, &b), "helm list -A: online (real helmfile) vs offline (rudder)");
    for r in [format!("{p}-r"), format!("{p}-o")] {
        for what in ["manifest", "values"] {
            let get = |ns: &str| testbed::run_ok(bed.helm().args(["get", what, &r, "-n", ns])).unwrap().stdout;
            assert_eq!(
                String::from_utf8_lossy(&get(&a)),
                String::from_utf8_lossy(&get(&b)),
                "helm get {what} {r}: online (real helmfile) vs offline (rudder)"
            );
        }
    }
}
