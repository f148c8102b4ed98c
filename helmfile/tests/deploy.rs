//! `helmfile apply`, `sync`, `diff`, `status` and `destroy` on the test bed, checked with the
//! real helm v4.3.1 (`helm list -A`) and against the real helmfile v1.8.0 driving it.
//!
//! The test bed must be up (`conformance/testbed env`); without it these tests fail.
//! Every namespace and release starts with `hfapply-` (`hfdir-` for the helmfile.d test);
//! namespaces are removed at the end.

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
        let second = testbed::testbed().second().ok();
        for ns in &self.namespaces {
            let _ = testbed::testbed().delete(&format!("/api/v1/namespaces/{ns}"));
            if let Some(b) = &second {
                let _ = b.delete(&format!("/api/v1/namespaces/{ns}"));
            }
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
        self.helm_list_in("testbed")
    }

    /// `helm list -A --kube-context CONTEXT` rows of this bed's namespaces (`--max 0`: all
    /// releases, not helm's first 256, as other sessions share the test bed).
    fn helm_list_in(&self, context: &str) -> Vec<(String, String, String, String, String)> {
        let out = testbed::run_ok(self.helm().args(["list", "-A", "--max", "0", "-o", "json", "--kube-context", context])).expect("helm list");
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

/// A chart whose ConfigMap name the API server rejects (upper case): its install fails.
fn bad_chart(dir: &Path) {
    let bad = dir.join("charts/bad");
    std::fs::create_dir_all(bad.join("templates")).unwrap();
    std::fs::write(bad.join("Chart.yaml"), "apiVersion: v2\nname: bad\nversion: 0.1.0\n").unwrap();
    std::fs::write(bad.join("templates/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not-Valid\ndata: {}\n").unwrap();
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
- name: {prefix}-mq
  namespace: {a}
  chart: ./charts/store
- name: {prefix}-auth
  namespace: {a}
  chart: ./charts/store
- name: {prefix}-metrics
  namespace: {a}
  chart: ./charts/store
- name: {prefix}-worker
  namespace: {b}
  chart: ./charts/app
  needs: [{a}/{prefix}-mq, {prefix}-api]
  hooks:
  - events: [presync, postsync]
    showlogs: true
    command: sh
    args: ["-c", "echo {{{{ .HelmfileCommand }}}} {{{{ .Event.Name }}}} {{{{ .Release.Name }}}} >> hook.log"]
- name: {prefix}-cron
  namespace: {b}
  chart: ./charts/app
  needs: [{prefix}-worker]
- name: {prefix}-gw
  namespace: {b}
  chart: ./charts/app
  needs: [{a}/{prefix}-auth, {prefix}-web]
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
    assert_eq!(order.len(), 10, "{}", o.stderr);
    let pos = |n: &str| order.iter().position(|l| l.contains(&format!("release={p}-{n},"))).unwrap();
    for (before, after) in [("db", "api"), ("cache", "api"), ("api", "web"), ("mq", "worker"), ("api", "worker"), ("worker", "cron"), ("auth", "gw"), ("web", "gw")] {
        assert!(pos(before) < pos(after), "{before} must be synced before {after}: {order:?}");
    }
    // The state's hooks ran around the release, with helmfile's template context.
    assert_eq!(std::fs::read_to_string(bed.dir.join("hook.log")).unwrap(), format!("sync presync {p}-worker\nsync postsync {p}-worker\n"));
    assert!(o.stdout.contains("has been added"), "{}", o.stdout);
    let row = |n: &str, ns: &str, rev: &str, chart: &str| {
        (format!("{p}-{n}"), ns.to_string(), rev.to_string(), "deployed".to_string(), chart.to_string())
    };
    let mut want = vec![
        row("api", &b, "1", "app-0.2.0"),
        row("auth", &a, "1", "store-0.2.0"),
        row("cache", &a, "1", "store-0.2.0"),
        row("cron", &b, "1", "app-0.2.0"),
        row("db", &a, "1", "store-0.2.0"),
        row("gw", &b, "1", "app-0.2.0"),
        row("metrics", &a, "1", "store-0.2.0"),
        row("mq", &a, "1", "store-0.2.0"),
        row("web", &b, "1", "podinfo-6.14.1"),
        row("worker", &b, "1", "app-0.2.0"),
    ];
    want.sort();
    assert_eq!(bed.helm_list(), want, "helm list -A after the first apply");
    let mut cms: Vec<String> = ["auth", "cache", "db", "metrics", "mq"].iter().flat_map(|n| [format!("{p}-{n}-cm"), format!("{p}-{n}-hook")]).collect();
    cms.sort();
    assert_eq!(bed.configmaps(&a), cms);

    // A second apply changes nothing: no diff, no upgrade, no new revision.
    let o = bed.mine(&["apply"]);
    ok(&o, "second apply");
    // helmfile prints one `Comparing release=` line per release to stdout, and no diff.
    let comparing = |out: &str| out.lines().filter(|l| l.starts_with("Comparing release=")).count();
    assert_eq!((comparing(&o.stdout), o.stdout.lines().count()), (10, 10), "second apply printed a diff:\n{}", o.stdout);
    assert!(!o.stderr.contains("Upgrading release="), "{}", o.stderr);
    assert_eq!(bed.helm_list(), want, "helm list -A after the second apply");
    let o = bed.mine(&["diff", "--detailed-exitcode"]);
    assert_eq!((o.code, comparing(&o.stdout), o.stdout.lines().count()), (0, 10, 10), "diff of an unchanged state: {}{}", o.stdout, o.stderr);
    let o = bed.mine(&["apply", "--suppress-diff"]);
    ok(&o, "apply --suppress-diff");
    assert_eq!((o.stdout.as_str(), comparing(&o.stderr)), ("", 10), "--suppress-diff logs the Comparing lines");

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
    assert_eq!(o.stderr.matches("STATUS: deployed").count(), 10, "{}", o.stderr);
    assert!(o.stderr.contains(&format!("NAME: {p}-api\n")) && o.stderr.contains("REVISION: 2\n"));

    // destroy removes everything, dependents first.
    let o = bed.mine(&["destroy"]);
    ok(&o, "destroy");
    let deleting: Vec<&str> = o.stderr.lines().filter(|l| l.starts_with("Deleting ")).collect();
    assert_eq!(deleting.len(), 10, "{}", o.stderr);
    let del = |n: &str| deleting.iter().position(|l| *l == format!("Deleting {p}-{n}")).unwrap_or_else(|| panic!("{n} not deleted: {deleting:?}"));
    for (before, after) in [("db", "api"), ("api", "web"), ("worker", "cron"), ("web", "gw"), ("mq", "worker")] {
        assert!(del(after) < del(before), "{after} (needs {before}) must be deleted first: {deleting:?}");
    }
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
    bad_chart(&bed.dir);
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

/// Two clusters in one run: the test bed's `testbed` and `testbed-b` contexts (two apiservers),
/// the same release names and namespaces in both, `needs` inside each cluster. Real helm in each
/// context must see exactly what the real helmfile makes of the same state; then a failure in one
/// cluster leaves the other cluster's releases going.
#[test]
fn two_clusters_in_one_run_agree_with_helmfile_and_fail_apart() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    testbed::testbed().second().expect("the test bed's second cluster");
    let bed = Bed::new("hfapply-2c", 2);
    cm_chart(&bed.dir, "store");
    cm_chart(&bed.dir, "app");
    let (mine_ns, real_ns) = (bed.namespaces[0].clone(), bed.namespaces[1].clone());
    let state = |ns: &str, extra: &str| {
        let mut s = String::from("releases:\n");
        for ctx in ["testbed", "testbed-b"] {
            s += &format!(
                "- {{name: hf2c-db, namespace: {ns}, kubeContext: {ctx}, chart: ./charts/store, createNamespace: true}}\n\
                 - {{name: hf2c-api, namespace: {ns}, kubeContext: {ctx}, chart: ./charts/app, needs: [{ctx}/{ns}/hf2c-db], values: [api-values.yaml]}}\n"
            );
        }
        s + extra
    };
    std::fs::write(bed.dir.join("api-values.yaml"), "greeting: v1\n").unwrap();
    let real_dir = bed.dir.join("real");
    std::fs::create_dir_all(&real_dir).unwrap();
    std::fs::write(real_dir.join("helmfile.yaml"), state(&real_ns, "")).unwrap();
    std::fs::write(real_dir.join("api-values.yaml"), "greeting: v1\n").unwrap();
    std::os::unix::fs::symlink(bed.dir.join("charts"), real_dir.join("charts")).unwrap();
    std::fs::write(bed.dir.join("helmfile.yaml"), state(&mine_ns, "")).unwrap();

    let real = bed.real(&["--file", real_dir.join("helmfile.yaml").to_str().unwrap(), "sync"]);
    assert_eq!(real.code, 0, "the real helmfile sync failed:\n{}{}", real.stdout, real.stderr);
    let json = bed.dir.join("report.json");
    let o = bed.mine(&["sync", "--report", "--report-json", json.to_str().unwrap()]);
    ok(&o, "sync to two clusters");

    let rows = |ctx: &str, ns: &str| -> Vec<(String, String, String, String)> {
        bed.helm_list_in(ctx).into_iter().filter(|r| r.1 == ns).map(|r| (r.0, r.2, r.3, r.4)).collect()
    };
    for ctx in ["testbed", "testbed-b"] {
        let want = rows(ctx, &real_ns);
        assert_eq!(want.len(), 2, "the real helmfile's releases in {ctx}: {want:?}");
        assert_eq!(rows(ctx, &mine_ns), want, "helm list --kube-context {ctx}: rudder vs helmfile");
    }
    let rep: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let clusters: Vec<(String, bool, u64)> = rep["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["cluster"].as_str().unwrap().to_string(), c["success"].as_bool().unwrap(), c["ok"].as_u64().unwrap()))
        .collect();
    assert_eq!(clusters, [("testbed".to_string(), true, 2), ("testbed-b".to_string(), true, 2)], "{rep}");
    assert!(o.stderr.contains("cluster testbed: 2 ok") && o.stderr.contains("cluster testbed-b: 2 ok"), "no per-cluster summary:\n{}", o.stderr);

    // A release the apiserver of testbed-b rejects, with a dependent there; a values change for
    // both api releases. testbed's upgrade goes through; testbed-b's bad release fails, its
    // dependent is skipped, and its api upgrade (not behind the failure) still runs or is skipped
    // as the cluster's stop rule says — but nothing of testbed's is held back.
    bad_chart(&bed.dir);
    let extra = format!(
        "- {{name: hf2c-bad, namespace: {mine_ns}, kubeContext: testbed-b, chart: ./charts/bad}}\n\
         - {{name: hf2c-after, namespace: {mine_ns}, kubeContext: testbed-b, chart: ./charts/app, needs: [testbed-b/{mine_ns}/hf2c-bad]}}\n\
         - {{name: hf2c-web, namespace: {mine_ns}, kubeContext: testbed, chart: ./charts/app, needs: [testbed/{mine_ns}/hf2c-api]}}\n"
    );
    std::fs::write(bed.dir.join("helmfile.yaml"), state(&mine_ns, &extra)).unwrap();
    std::fs::write(bed.dir.join("api-values.yaml"), "greeting: v2\n").unwrap();
    let o = bed.mine(&["sync", "--report-json", json.to_str().unwrap()]);
    assert_eq!(o.code, 1, "a failed release must fail the run:\n{}{}", o.stdout, o.stderr);
    let a = rows("testbed", &mine_ns);
    let names_a: Vec<(&str, &str, &str)> = a.iter().map(|r| (r.0.as_str(), r.1.as_str(), r.2.as_str())).collect();
    assert_eq!(
        names_a,
        [("hf2c-api", "2", "deployed"), ("hf2c-db", "2", "deployed"), ("hf2c-web", "1", "deployed")],
        "testbed must go on while testbed-b fails"
    );
    let b = rows("testbed-b", &mine_ns);
    assert!(b.iter().any(|r| r.0 == "hf2c-bad" && r.2 == "failed"), "{b:?}");
    assert!(!b.iter().any(|r| r.0 == "hf2c-after"), "the dependent of a failed release must not be installed: {b:?}");
    let rep: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let success: Vec<(String, bool)> = rep["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["cluster"].as_str().unwrap().to_string(), c["success"].as_bool().unwrap()))
        .collect();
    assert_eq!(success, [("testbed".to_string(), true), ("testbed-b".to_string(), false)], "{rep}");
    // The values live in each cluster's own record.
    for ctx in ["testbed", "testbed-b"] {
        let got = testbed::run_ok(bed.helm().args(["get", "values", "hf2c-api", "-n", &mine_ns, "--kube-context", ctx, "-o", "json"])).unwrap();
        let v = String::from_utf8_lossy(&got.stdout).trim().to_string();
        if ctx == "testbed" {
            assert_eq!(v, r#"{"greeting":"v2"}"#, "{ctx}");
        } else {
            assert!(v == r#"{"greeting":"v2"}"# || v == r#"{"greeting":"v1"}"#, "{ctx}: {v}");
        }
    }
}

/// After a failed release, helmfile finishes the failed release's group (its needs level) and
/// starts no later one. With one worker the failing release runs first; the releases helm then
/// lists must be the same for the real helmfile and for Rudder.
#[test]
fn a_failure_stops_after_its_group_as_helmfile_does() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let bed = Bed::new("hfapply-grp", 2);
    cm_chart(&bed.dir, "good");
    bad_chart(&bed.dir);
    let state = |ns: &str| {
        format!(
            "releases:\n\
             - {{name: grp-bad, namespace: {ns}, chart: ./charts/bad}}\n\
             - {{name: grp-same-level, namespace: {ns}, chart: ./charts/good}}\n\
             - {{name: grp-next-level, namespace: {ns}, chart: ./charts/good, needs: [grp-same-level]}}\n\
             - {{name: grp-dependent, namespace: {ns}, chart: ./charts/good, needs: [grp-bad]}}\n"
        )
    };
    let (mine_ns, real_ns) = (bed.namespaces[0].clone(), bed.namespaces[1].clone());
    let real_dir = bed.dir.join("real");
    std::fs::create_dir_all(&real_dir).unwrap();
    std::os::unix::fs::symlink(bed.dir.join("charts"), real_dir.join("charts")).unwrap();
    std::fs::write(real_dir.join("helmfile.yaml"), state(&real_ns)).unwrap();
    std::fs::write(bed.dir.join("helmfile.yaml"), state(&mine_ns)).unwrap();
    let real = bed.real(&["--file", real_dir.join("helmfile.yaml").to_str().unwrap(), "sync", "--concurrency", "1"]);
    assert_eq!(real.code, 1, "the real helmfile sync must fail:\n{}{}", real.stdout, real.stderr);
    let o = bed.mine(&["sync", "--concurrency", "1"]);
    assert_eq!(o.code, 1, "rudder sync must fail:\n{}{}", o.stdout, o.stderr);
    let rows = |ns: &str| -> Vec<(String, String, String)> {
        bed.helm_list().into_iter().filter(|r| r.1 == ns).map(|r| (r.0, r.2, r.3)).collect()
    };
    let want = rows(&real_ns);
    assert!(want.iter().any(|r| r.0 == "grp-same-level"), "the real helmfile's releases: {want:?}");
    assert_eq!(rows(&mine_ns), want, "helm list: rudder vs the real helmfile after a failed group");
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

/// A `helmfile.d` of two files (no `-f`): `sync`, `apply`, `diff` and `destroy` visit each file
/// as its own state, in order (`destroy` in reverse), as `helmfile --sequential-helmfiles` does;
/// sync's and destroy's output (one summary table per file; chart paths absolute, relative values
/// files joined to helmfile.d/, VERSION empty for a local chart whose directory is not named
/// after the chart) matches the real helmfile's, and helm sees the same releases.
#[test]
fn a_helmfile_d_deploys_file_by_file_as_helmfile_does() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let bed = Bed::new("hfdir-d", 2);
    let p = "hfdir-d";
    let (a, b) = (bed.namespaces[0].clone(), bed.namespaces[1].clone());
    cm_chart(&bed.dir, "store");
    cm_chart(&bed.dir, "app");
    std::fs::rename(bed.dir.join("charts/app"), bed.dir.join("charts/app-dir")).unwrap();
    std::fs::write(bed.dir.join("api-values.yaml"), "greeting: v1\n").unwrap();
    let d = bed.dir.join("helmfile.d");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("10-data.yaml"),
        format!("releases:\n- name: {p}-db\n  namespace: {a}\n  chart: ../charts/store\n  values:\n  - greeting: db\n"),
    )
    .unwrap();
    std::fs::write(
        d.join("20-apps.yaml.gotmpl"),
        format!(
            "releases:\n- name: {p}-api\n  namespace: {b}\n  chart: ../charts/app-dir\n  values:\n  - ../api-values.yaml\n\
             - name: {p}-web\n  namespace: {b}\n  chart: ../charts/store\n  needs: [{p}-api]\n  labels:\n    tier: {{{{ .Environment.Name }}}}\n"
        ),
    )
    .unwrap();
    let seq = "--sequential-helmfiles";

    let mine_sync = bed.mine(&[seq, "sync"]);
    ok(&mine_sync, "rudder sync");
    let after_mine = bed.helm_list();
    let names: Vec<&str> = after_mine.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, [format!("{p}-api"), format!("{p}-db"), format!("{p}-web")]);
    let real_destroy = bed.real(&[seq, "destroy"]);
    ok(&real_destroy, "real helmfile destroy of rudder's releases");
    assert_eq!(bed.helm_list(), vec![]);
    let real_sync = bed.real(&[seq, "sync"]);
    ok(&real_sync, "real helmfile sync");
    assert_eq!(bed.helm_list(), after_mine, "helm list -A after real helmfile's sync vs rudder's");
    let mine_destroy = bed.mine(&[seq, "destroy"]);
    ok(&mine_destroy, "rudder destroy of real helmfile's releases");
    assert_eq!(bed.helm_list(), vec![]);
    // One release per `needs` group: nothing runs concurrently, the output is in order.
    assert_eq!(normalize(&mine_sync.stdout), normalize(&real_sync.stdout), "sync stdout");
    assert_eq!(normalize(&mine_sync.stderr), normalize(&real_sync.stderr), "sync stderr");
    assert_eq!(normalize(&mine_destroy.stdout), normalize(&real_destroy.stdout), "destroy stdout");
    assert_eq!(normalize(&mine_destroy.stderr), normalize(&real_destroy.stderr), "destroy stderr");
    let deleting: Vec<&str> = mine_destroy.stderr.lines().filter(|l| l.starts_with("Deleting ")).collect();
    assert_eq!(deleting, [format!("Deleting {p}-web"), format!("Deleting {p}-api"), format!("Deleting {p}-db")]);

    // apply (without the flag: Rudder is always sequential) installs both files' releases;
    // a second apply compares all three and changes nothing.
    ok(&bed.mine(&["apply"]), "first apply");
    assert_eq!(bed.helm_list(), after_mine.iter().map(|r| (r.0.clone(), r.1.clone(), "1".into(), r.3.clone(), r.4.clone())).collect::<Vec<_>>());
    let o = bed.mine(&["apply"]);
    ok(&o, "second apply");
    let comparing: Vec<&str> = o.stdout.lines().filter(|l| l.starts_with("Comparing release=")).collect();
    assert_eq!(comparing.len(), 3, "{}", o.stdout);
    assert!(comparing[0].contains(&format!("release={p}-db,")) && comparing[2].contains(&format!("release={p}-web,")), "{comparing:?}");
    // A change in the first file's values: diff reports it (exit 2) and still compares the second.
    std::fs::write(d.join("10-data.yaml"), format!("releases:\n- name: {p}-db\n  namespace: {a}\n  chart: ../charts/store\n  values:\n  - greeting: db2\n")).unwrap();
    let o = bed.mine(&["diff", "--detailed-exitcode"]);
    assert_eq!(o.code, 2, "diff --detailed-exitcode with a change: {}", o.stderr);
    assert!(o.stdout.contains("-   greeting: db\n+   greeting: db2"), "{}", o.stdout);
    assert!(o.stdout.contains(&format!("Comparing release={p}-web,")), "{}", o.stdout);
    // A selector matching only the second file deploys only there; one matching nothing is
    // helmfile's error, after visiting both files.
    let o = bed.mine(&["-l", "tier=default", "sync", "--skip-needs"]);
    ok(&o, "sync -l tier=default");
    assert!(o.stderr.contains(&format!("Upgrading release={p}-web,")) && !o.stderr.contains(&format!("release={p}-db,")), "{}", o.stderr);
    let o = bed.mine(&["-l", "tier=none", "sync"]);
    assert_eq!((o.code, o.stderr.as_str()), (3, "err: no releases found that matches specified selector(tier=none) and environment(default), in any helmfile\n"));
    ok(&bed.mine(&["destroy"]), "destroy");
    assert_eq!(bed.helm_list(), vec![]);
}
