//! `rudder list|history|status|get ...` against real helm v4.3.1 on the test bed: real helm 4
//! (and helm 3) install, upgrade, roll back, fail and uninstall releases in two namespaces;
//! then every command and flag combination runs with helm and with rudder (invoked through a
//! symlink named `helm`, with the same environment), and stdout, stderr and the exit code must
//! be byte-identical.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rudder_conformance::testbed;

/// The rudder binary, built if needed, behind a symlink called `helm` (so usage lines match).
fn rudder_as_helm(dir: &Path) -> PathBuf {
    let root = testbed::workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "-q", "-p", "rudder-cli", "--bin", "rudder"])
        .current_dir(&root)
        .output()
        .expect("running cargo build");
    assert!(out.status.success(), "cargo build failed: {}", String::from_utf8_lossy(&out.stderr));
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let bin = target.join("debug/rudder");
    let link_dir = dir.join("rudder-bin");
    std::fs::create_dir_all(&link_dir).unwrap();
    let link = link_dir.join("helm");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&bin, &link).unwrap();
    link
}

/// Namespaces deleted when the test ends, however it ends.
struct Namespaces(Vec<String>);

impl Drop for Namespaces {
    fn drop(&mut self) {
        for ns in &self.0 {
            let _ = testbed::testbed().delete(&format!("/api/v1/namespaces/{ns}"));
        }
    }
}

struct Bed {
    home: PathBuf,
    rudder: PathBuf,
}

impl Bed {
    fn cmd(&self, program: &Path, env: &[(&str, &str)], args: &[&str]) -> Command {
        let mut c = testbed::testbed().command(program, &self.home);
        c.env("TZ", "UTC").env_remove("NO_COLOR").env_remove("HELM_COLOR").env_remove("HELM_MEMORY_DRIVER_DATA");
        for (k, v) in env {
            c.env(k, v);
        }
        c.args(args);
        c
    }

    /// Runs real helm and expects success.
    fn helm_ok(&self, which: &str, env: &[(&str, &str)], args: &[&str]) -> String {
        let out = testbed::run_ok(&mut self.cmd(&testbed::oracle(which), env, args)).unwrap_or_else(|e| panic!("{e:#}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs real helm, success or not.
    fn helm_any(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        self.cmd(&testbed::oracle("helm"), env, args).output().expect("running helm")
    }
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A chart with a ConfigMap, notes, a post-install hook and an (unrun) test hook.
fn app_chart(dir: &Path, name: &str, version: &str, app_version: &str) -> PathBuf {
    let c = dir.join(format!("{name}-{version}"));
    write(
        &c.join("Chart.yaml"),
        &format!(
            "apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"{app_version}\"\ndescription: a <small> & test chart\nannotations:\n  category: test\n  owner: relread\ndependencies:\n  - name: sub\n    version: 0.1.0\n    condition: sub.enabled\n    tags: [x]\n"
        ),
    );
    write(&c.join("charts/sub/Chart.yaml"), "apiVersion: v2\nname: sub\nversion: 0.1.0\n");
    write(&c.join("charts/sub/values.yaml"), "enabled: true\nsubval: 7\n");
    write(&c.join("charts/sub/templates/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-sub\ndata:\n  v: {{ .Values.subval | quote }}\n");
    write(
        &c.join("values.yaml"),
        "greeting: hello\nreplicas: 1\nratio: 2.5\nbig: 1000000\nnested:\n  list: [1, 2.5, \"x\", true, null]\n  html: \"<b>&</b>\"\nempty: {}\n",
    );
    write(
        &c.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  greeting: {{ .Values.greeting | quote }}\n  replicas: {{ .Values.replicas | quote }}\n",
    );
    write(
        &c.join("templates/hook.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-hook\n  annotations:\n    \"helm.sh/hook\": post-install,post-upgrade\n    \"helm.sh/hook-weight\": \"3\"\n    \"helm.sh/hook-delete-policy\": before-hook-creation\ndata:\n  x: \"z\"\n",
    );
    write(
        &c.join("templates/tests/t.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-test\n  annotations:\n    \"helm.sh/hook\": test\nspec:\n  containers:\n    - name: t\n      image: busybox\n",
    );
    write(&c.join("templates/NOTES.txt"), "\n  Thanks for installing {{ .Release.Name }} ({{ .Chart.Version }}).\n\n");
    c
}

/// A chart whose only object the apiserver rejects (an invalid name): the install fails.
fn broken_chart(dir: &Path) -> PathBuf {
    let c = dir.join("broken");
    write(&c.join("Chart.yaml"), "apiVersion: v2\nname: broken\nversion: 1.0.0\n");
    write(&c.join("templates/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_Valid\ndata:\n  a: b\n");
    c
}

/// A chart with no objects in its manifest (status prints no RESOURCES), only notes.
fn notes_chart(dir: &Path) -> PathBuf {
    let c = dir.join("notesonly");
    write(&c.join("Chart.yaml"), "apiVersion: v2\nname: notesonly\nversion: 0.0.1\n");
    write(&c.join("templates/NOTES.txt"), "just notes\n");
    c
}

/// A Deployment (its pods show as `v1/Pod(related)`) and a Service.
fn deploy_chart(dir: &Path) -> PathBuf {
    let c = dir.join("deploy");
    write(&c.join("Chart.yaml"), "apiVersion: v2\nname: deploy\nversion: 3.1.4\nappVersion: v9\n");
    write(
        &c.join("templates/deploy.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: {{ .Release.Name }}}\n  template:\n    metadata:\n      labels: {app: {{ .Release.Name }}}\n    spec:\n      containers:\n        - name: c\n          image: nginx\n",
    );
    write(
        &c.join("templates/svc.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  selector: {app: {{ .Release.Name }}}\n  ports: [{port: 80}]\n",
    );
    c
}

/// Helm prints the kinds of `RESOURCES:` in Go map order (random); sort the `==> ` sections
/// so that two runs compare equal when they hold the same tables.
fn sorted_resources(out: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(out).into_owned();
    let Some(start) = text.find("RESOURCES:\n") else { return out.to_vec() };
    let body_start = start + "RESOURCES:\n".len();
    let Some(end) = text[body_start..].find("\n\nTEST SUITE").map(|e| body_start + e + 1) else { return out.to_vec() };
    let mut sections: Vec<String> = Vec::new();
    for part in text[body_start..end].split("==> ").filter(|p| !p.is_empty()) {
        sections.push(format!("==> {part}"));
    }
    sections.sort();
    format!("{}{}{}", &text[..body_start], sections.concat(), &text[end..]).into_bytes()
}

#[test]
fn read_only_commands_match_helm_byte_for_byte() {
    let tb = testbed::testbed();
    let base = testbed::unique_name("relread");
    let scratch = std::env::temp_dir().join(&base);
    std::fs::create_dir_all(&scratch).unwrap();
    let ns_a = format!("{base}-a");
    let ns_b = format!("{base}-b");
    let _guard = Namespaces(vec![ns_a.clone(), ns_b.clone()]);
    let _ = tb;
    let bed = Bed { home: scratch.join("home"), rudder: rudder_as_helm(&scratch) };
    let none: &[(&str, &str)] = &[];
    let cm_driver: &[(&str, &str)] = &[("HELM_DRIVER", "configmap")];

    let v1 = app_chart(&scratch, "app", "0.1.0", "1.0");
    let v2 = app_chart(&scratch, "app", "0.2.0", "2.0");
    let broken = broken_chart(&scratch);
    let notes = notes_chart(&scratch);
    let deploy = deploy_chart(&scratch);
    let vals = scratch.join("vals.yaml");
    write(&vals, "greeting: \"hi <there>\"\nnested:\n  list: [9]\n  deep: {a: 1, b: [x, y]}\nnum: 12345678901234567890\nf: 1.5e-7\n");
    let p = |x: &Path| x.display().to_string();

    let web = format!("{base}-web");
    let db = format!("{base}-db");
    let bad = format!("{base}-bad");
    let gone = format!("{base}-gone");
    let old = format!("{base}-old");
    let quiet = format!("{base}-quiet");
    let api = format!("{base}-api");
    let cm = format!("{base}-cm");
    let dep = format!("{base}-dep");

    // Namespace A: web (install, 2 upgrades, rollback), db (labels, values file), bad (failed),
    // gone (uninstalled, history kept), old (helm 3), quiet (no objects).
    let na = ns_a.as_str();
    bed.helm_ok("helm", none, &["install", &web, &p(&v1), "-n", na, "--create-namespace", "--set", "replicas=2"]);
    bed.helm_ok("helm", none, &["upgrade", &web, &p(&v2), "-n", na, "--set", "greeting=bonjour", "--description", "second & <best>"]);
    bed.helm_ok("helm", none, &["upgrade", &web, &p(&v2), "-n", na, "--reuse-values", "--set", "extra.key=v"]);
    bed.helm_ok("helm", none, &["rollback", &web, "2", "-n", na]);
    bed.helm_ok("helm", none, &["install", &db, &p(&v1), "-n", na, "-f", &p(&vals), "--labels", "tier=backend,team=data"]);
    let failed = bed.helm_any(none, &["install", &bad, &p(&broken), "-n", na]);
    assert!(!failed.status.success(), "the broken chart installed: {}", show(&failed));
    bed.helm_ok("helm", none, &["install", &gone, &p(&v1), "-n", na, "--labels", "tier=frontend"]);
    bed.helm_ok("helm", none, &["uninstall", &gone, "-n", na, "--keep-history"]);
    bed.helm_ok("helm3", none, &["install", &old, &p(&v1), "-n", na, "--set", "greeting=from-helm3"]);
    bed.helm_ok("helm3", none, &["upgrade", &old, &p(&v2), "-n", na]);
    bed.helm_ok("helm", none, &["install", &quiet, &p(&notes), "-n", na]);
    // Namespace B: api (helm 4), cm (ConfigMap driver).
    let nb = ns_b.as_str();
    bed.helm_ok("helm", none, &["install", &api, &p(&v2), "-n", nb, "--create-namespace"]);
    bed.helm_ok("helm", cm_driver, &["install", &cm, &p(&v1), "-n", nb]);
    bed.helm_ok("helm", none, &["install", &dep, &p(&deploy), "-n", nb]);
    bed.helm_ok("helm", cm_driver, &["upgrade", &cm, &p(&v2), "-n", nb]);

    // The memory driver reads HELM_MEMORY_DRIVER_DATA: the records of web and db as helm wrote
    // them, decoded from their Secrets.
    let mut records = Vec::new();
    for (rel, revs) in [(&web, 4), (&db, 1)] {
        for v in 1..=revs {
            let secret = tb
                .get_json(&format!("/api/v1/namespaces/{na}/secrets/sh.helm.release.v1.{rel}.v{v}"))
                .expect("reading a helm record");
            use base64::Engine as _;
            let payload = base64::engine::general_purpose::STANDARD
                .decode(secret["data"]["release"].as_str().expect("data.release"))
                .unwrap();
            let json = rudder_state::codec::decode_json(&payload).unwrap();
            records.push(serde_json::from_slice::<serde_json::Value>(&json).unwrap());
        }
    }
    let mem_file = scratch.join("memory.json");
    std::fs::write(&mem_file, serde_json::to_string(&records).unwrap()).unwrap();
    let mem_path = Box::leak(mem_file.display().to_string().into_boxed_str()) as &'static str;
    let mem: Vec<(&'static str, &'static str)> = vec![("HELM_DRIVER", "memory"), ("HELM_MEMORY_DRIVER_DATA", mem_path)];

    // A kubeconfig whose cluster refuses connections.
    let bad_kc = scratch.join("bad.kubeconfig");
    write(&bad_kc, "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n    namespace: fromctx\ncurrent-context: x\nusers:\n- name: u\n  user:\n    token: abc\n");
    let bad_kc_path = Box::leak(bad_kc.display().to_string().into_boxed_str()) as &'static str;
    let unreachable: Vec<(&'static str, &'static str)> = vec![("KUBECONFIG", bad_kc_path)];

    // The cases: (environment, arguments).
    let mut cases: Vec<(Vec<(&str, &str)>, Vec<String>)> = Vec::new();
    let mut add = |env: &[(&'static str, &'static str)], args: &[&str]| {
        cases.push((env.to_vec(), args.iter().map(|s| s.to_string()).collect()));
    };
    let prefix = format!("^{base}-");
    let list_flags: Vec<Vec<&str>> = vec![
        vec![],
        vec!["-q"],
        vec!["-q", "-o", "json"],
        vec!["-q", "-o", "yaml"],
        vec!["--short", "-o", "table"],
        vec!["--no-headers"],
        vec!["-o", "json"],
        vec!["-o", "yaml"],
        vec!["-o", "table"],
        vec!["-d"],
        vec!["-d", "-r"],
        vec!["-r"],
        vec!["--date", "--reverse", "-o", "json"],
        vec!["-m", "2"],
        vec!["--max", "2", "--offset", "1"],
        vec!["--offset", "3"],
        vec!["--offset", "100"],
        vec!["-m", "0"],
        vec!["--deployed"],
        vec!["--failed"],
        vec!["--pending"],
        vec!["--superseded"],
        vec!["--uninstalled"],
        vec!["--uninstalling"],
        vec!["--deployed", "--failed"],
        vec!["--superseded", "--deployed"],
        vec!["--uninstalled", "--failed", "-o", "yaml"],
        vec!["-f", "web"],
        vec!["--filter", "d[a-z]$"],
        vec!["-f", "(?i)WEB|OLD"],
        vec!["-f", "nomatch"],
        vec!["-l", "tier=backend"],
        vec!["-l", "tier!=backend"],
        vec!["-l", "tier in (backend,frontend)"],
        vec!["-l", "team"],
        vec!["-l", "!team"],
        vec!["-l", "owner=helm,status=deployed"],
        vec!["--selector", "status=superseded", "--superseded"],
        vec!["--time-format", "2006-01-02 15:04"],
        vec!["--time-format", "Mon Jan _2 3:04:05PM MST 2006 .000 Z07:00"],
        vec!["--time-format", "2006-01-02T15:04:05Z0700", "-o", "json"],
        vec!["--no-headers", "--time-format", "15:04"],
        vec!["--color", "always"],
        vec!["--color", "never"],
        vec!["-o", "bogus"],
        vec!["extra-arg"],
        vec!["-a"],
        vec!["--all"],
    ];
    for f in &list_flags {
        let mut a = vec!["list", "-n", na];
        a.extend(f.iter().copied());
        add(&[], &a);
    }
    for f in [vec![], vec!["-o", "json"], vec!["-o", "yaml"], vec!["-d"], vec!["-r", "-m", "3"], vec!["--deployed", "-q"], vec!["--offset", "2"]] {
        let mut a = vec!["list", "-A", "-f", prefix.as_str()];
        a.extend(f.iter().copied());
        add(&[], &a);
    }
    add(&[], &["ls", "-n", nb]);
    add(&[], &["-n", na, "list", "--failed"]);
    add(&[("HELM_NAMESPACE", "")], &["list", "--namespace", na, "-q"]);
    let web_s = web.as_str();
    for rel in [web.as_str(), db.as_str(), bad.as_str(), gone.as_str(), old.as_str(), quiet.as_str()] {
        for f in [vec![], vec!["-o", "json"], vec!["-o", "yaml"], vec!["--max", "2"], vec!["--max", "1", "-o", "json"]] {
            let mut a = vec!["history", rel, "-n", na];
            a.extend(f.iter().copied());
            add(&[], &a);
        }
        for f in [vec![], vec!["-o", "json"], vec!["-o", "yaml"], vec!["--revision", "1"]] {
            let mut a = vec!["status", rel, "-n", na];
            a.extend(f.iter().copied());
            add(&[], &a);
        }
        for f in [vec![], vec!["-a"], vec!["-o", "json"], vec!["--all", "-o", "yaml"], vec!["-o", "table", "--revision", "1"], vec!["-a", "-o", "json"]] {
            let mut a = vec!["get", "values", rel, "-n", na];
            a.extend(f.iter().copied());
            add(&[], &a);
        }
        for sub in ["manifest", "notes", "hooks"] {
            add(&[], &["get", sub, rel, "-n", na]);
            add(&[], &["get", sub, rel, "-n", na, "--revision", "1"]);
        }
        for f in [vec![], vec!["-o", "json"], vec!["-o", "yaml"], vec!["--revision", "1"]] {
            let mut a = vec!["get", "metadata", rel, "-n", na];
            a.extend(f.iter().copied());
            add(&[], &a);
        }
        add(&[], &["get", "all", rel, "-n", na]);
        add(&[], &["get", "all", rel, "-n", na, "--revision", "1"]);
        add(&[], &["get", "all", rel, "-n", na, "--template", "{{.Release.Name}} r{{.Release.Version}} {{.Release.Info.Status}} {{.Release.Chart.Metadata.Version}} {{.Release.Namespace}}\n"]);
    }
    add(&[], &["history", web_s, "-n", na, "--show-rollback-revision"]);
    add(&[], &["history", web_s, "-n", na, "--show-rollback-revision", "-o", "json"]);
    add(&[], &["hist", web_s, "-n", na, "--max", "0"]);
    add(&[], &["status", web_s, "-n", na, "--revision", "3", "-o", "json"]);
    add(&[], &["status", web_s, "-n", na, "--color", "always"]);
    // Errors.
    add(&[], &["status", "nope", "-n", na]);
    add(&[], &["status", web_s, "-n", na, "--revision", "99"]);
    add(&[], &["status", "Bad_Name", "-n", na]);
    add(&[], &["status", "-n", na]);
    add(&[], &["status", "a", "b", "-n", na]);
    add(&[], &["history", "nope", "-n", na]);
    add(&[], &["history", "-n", na]);
    add(&[], &["history", "UPPER", "-n", na]);
    add(&[], &["get", "values", "nope", "-n", na]);
    add(&[], &["get", "values", web_s, "-n", na, "-o", "xml"]);
    add(&[], &["get", "manifest", "-n", na]);
    add(&[], &["get", "metadata", "nope", "-n", na, "-o", "json"]);
    add(&[], &["get", "all", "nope", "-n", na]);
    add(&[], &["get", "notes", web_s, "-n", na, "--revision", "9"]);
    // Namespace B, both drivers.
    for rel in [api.as_str(), dep.as_str()] {
        add(&[], &["status", rel, "-n", nb]);
        add(&[], &["get", "all", rel, "-n", nb]);
    }
    // (Not for the Deployment: its related PodList carries the apiserver's current
    // resourceVersion, which moves between two runs on a shared cluster.)
    add(&[], &["status", api.as_str(), "-n", nb, "-o", "json"]);
    add(&[], &["status", api.as_str(), "-n", nb, "-o", "yaml"]);
    let cm_s = cm.as_str();
    add(cm_driver, &["list", "-n", nb]);
    add(cm_driver, &["list", "-n", nb, "-o", "json"]);
    add(cm_driver, &["list", "-A", "-f", prefix.as_str()]);
    add(cm_driver, &["history", cm_s, "-n", nb]);
    add(cm_driver, &["status", cm_s, "-n", nb]);
    add(cm_driver, &["status", cm_s, "-n", nb, "-o", "yaml"]);
    add(cm_driver, &["get", "all", cm_s, "-n", nb]);
    add(cm_driver, &["get", "metadata", cm_s, "-n", nb, "-o", "json"]);
    add(cm_driver, &["get", "values", cm_s, "-n", nb, "-a"]);
    add(cm_driver, &["status", api.as_str(), "-n", nb]);
    add(&[("HELM_NAMESPACE", "__NB__")], &["list"]);
    // An unreachable cluster, an unknown driver.
    add(&unreachable, &["list"]);
    add(&unreachable, &["list", "-A"]);
    add(&unreachable, &["status", "x"]);
    add(&unreachable, &["get", "values", "x"]);
    add(&[("HELM_DRIVER", "bogus")], &["list"]);
    add(&[], &["list", "--kube-context", "no-such-context"]);
    add(&[], &["status", web_s, "-n", na, "--kube-context", "no-such-context"]);
    add(&[], &["history", web_s, "--kubeconfig", "/nonexistent/kubeconfig"]);
    // Flags Helm 3 had and Helm 4 dropped, bad flag values.
    add(&[], &["status", web_s, "-n", na, "--show-desc"]);
    add(&[], &["status", web_s, "-n", na, "--show-resources"]);
    add(&[], &["list", "-n", na, "--max", "abc"]);
    // (`--offset=-1` makes helm 4.3.1 panic with a Go stack trace: not compared.)
    add(&[], &["list", "-n", na, "-m", "-1"]);
    add(&[], &["history", web_s, "-n", na, "--max=-1"]);
    add(&[], &["list", "-n", na, "--bogus"]);
    // Memory driver.
    for a in [
        vec!["list", "-n", na],
        vec!["list", "-n", na, "-o", "json", "--superseded"],
        vec!["history", web_s, "-n", na],
        vec!["status", web_s, "-n", na],
        vec!["status", web_s, "-n", na, "-o", "json"],
        vec!["get", "all", db.as_str(), "-n", na],
        vec!["get", "values", db.as_str(), "-n", na, "-a", "-o", "json"],
        vec!["get", "metadata", web_s, "-n", na],
        vec!["get", "metadata", web_s, "-n", na, "--revision", "2", "-o", "yaml"],
        vec!["list", "-n", nb],
    ] {
        add(&mem, &a);
    }
    // Regular expressions and selectors that do not parse.
    for f in ["(", "a)", "[a", "*a", "+", "x\\", "a{2,1}", "\\C", "x**", "a{,3}", "x{2}*", "a{1001}", "web{"] {
        add(&[], &["list", "-n", na, "-f", f]);
    }
    for l in ["a=b=c", "a in b", "=x", "a,,b", "a!b", "x=y z", "a in (b", "A_b-=x", "a=-x", "a>x", "a notin ()", "k/v=1", "a/b/c", "a in (x y)", "/x", "p/", "Bad.Prefix/x", "k=0123456789012345678901234567890123456789012345678901234567890123"] {
        add(&[], &["list", "-n", na, "-l", l]);
    }

    let helm = testbed::oracle("helm");
    let mut same = 0;
    let mut diffs = Vec::new();
    for (env, args) in &cases {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, if *v == "__NB__" { nb } else { *v })).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // A table's AGE column comes from the apiserver clock: run the pair again if a second
        // boundary fell between the two runs.
        let mut result = None;
        for _ in 0..6 {
            // Both at once, so that the apiserver computes their AGE columns in the same second.
            let hc = bed.cmd(&helm, &env, &args).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().expect("running helm");
            let rc = bed.cmd(&bed.rudder, &env, &args).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().expect("running rudder");
            let h = hc.wait_with_output().expect("running helm");
            let r = rc.wait_with_output().expect("running rudder");
            let (hs, rs) = if args.contains(&"status") {
                (sorted_resources(&h.stdout), sorted_resources(&r.stdout))
            } else {
                (h.stdout.clone(), r.stdout.clone())
            };
            let equal = hs == rs && h.stderr == r.stderr && h.status.code() == r.status.code();
            result = Some((equal, h, r));
            if equal || !args.contains(&"status") {
                break;
            }
        }
        let (equal, h, r) = result.unwrap();
        if equal {
            same += 1;
        } else {
            diffs.push(format!("=== {env:?} helm {}\n--- helm: {}\n--- rudder: {}", args.join(" "), show(&h), show(&r)));
        }
    }
    let total = cases.len();
    eprintln!("inspect: {same}/{total} identical to helm v4.3.1");
    for d in &diffs {
        eprintln!("{d}");
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(diffs.is_empty(), "{} of {total} commands differ from helm (see above)", diffs.len());
}
