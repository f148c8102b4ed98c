//! `rudder repo|pull|push|registry|dependency|bundle` against the real servers of the test bed
//! (nginx chart repositories: open, basic auth, TLS; docker registries: open, htpasswd) and the
//! real helm v4.3.1. Every comparison runs real helm with its own private home and compares
//! bytes; nothing expected is typed by hand.
//!
//! Needs `eval "$(conformance/servers env)"` (RUDDER_TEST_* variables); without them the tests
//! fail loudly.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rudder_conformance::testbed::{oracle, unique_name, workspace_root};

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: the chart servers are needed (eval \"$(conformance/servers env)\")")
    })
}

fn tempdir(prefix: &str) -> PathBuf {
    let dir = workspace_root().join("target/tmp").join(unique_name(prefix));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Private HELM_* homes shared by a real helm and rudder run.
struct Home {
    root: PathBuf,
    vars: HashMap<String, String>,
}

impl Home {
    fn new(prefix: &str) -> Home {
        let root = tempdir(prefix);
        let p = |s: &str| root.join(s).display().to_string();
        let vars = [("HOME", p("home")), ("HELM_CONFIG_HOME", p("config")), ("HELM_CACHE_HOME", p("cache")), ("HELM_DATA_HOME", p("data"))]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        Home { root, vars }
    }
    fn cmd(&self, program: PathBuf) -> Command {
        let mut c = Command::new(program);
        c.env_clear();
        c.env("PATH", std::env::var("PATH").unwrap_or_default());
        c.envs(&self.vars);
        c.current_dir(&self.root);
        c
    }
    fn helm(&self) -> Command {
        self.cmd(oracle("helm"))
    }
    fn rudder(&self) -> Command {
        self.cmd(PathBuf::from(env!("CARGO_BIN_EXE_rudder")))
    }
    fn content(&self) -> PathBuf {
        self.root.join("cache/content")
    }
}

fn run(c: &mut Command) -> Output {
    c.output().unwrap_or_else(|e| panic!("{c:?}: {e}"))
}

fn ok(c: &mut Command) -> Output {
    let o = run(c);
    assert!(o.status.success(), "{c:?} failed:\n{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    o
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failed run: exit 1 and a single `Error: …` line on stderr.
fn one_line_error(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(1), "expected exit 1: {}", stderr(o));
    let e = stderr(o);
    let lines: Vec<&str> = e.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got {e:?}");
    assert!(lines[0].starts_with("Error: "), "{e:?}");
    lines[0].to_string()
}

/// Every file below `root` (relative path → bytes).
fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push((p.strip_prefix(base).unwrap().display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut v = Vec::new();
    walk(root, root, &mut v);
    v.sort();
    v
}

/// A chart source directory.
fn chart_src(name: &str, version: &str, extra: &str) -> PathBuf {
    let dir = tempdir("src").join(name);
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(dir.join("Chart.yaml"), format!("apiVersion: v2\nname: {name}\nversion: {version}\n{extra}")).unwrap();
    std::fs::write(dir.join("values.yaml"), "greeting: hello\n").unwrap();
    std::fs::write(
        dir.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\ndata:\n  v: {{ .Chart.Version | quote }}\n  g: {{ .Values.greeting }}\n",
    )
    .unwrap();
    dir
}

/// Removes a served directory when the test ends.
struct Served {
    dir: PathBuf,
    path: String,
}
impl Drop for Served {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A directory on the chart servers with `demo` at `versions`, packaged and indexed by real helm.
fn served(home: &Home, versions: &[&str]) -> Served {
    let name = unique_name("sources");
    let dir = PathBuf::from(var("RUDDER_TEST_REPO_DIR")).join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    let src = chart_src("demo", "0.0.1", "");
    for v in versions {
        ok(home.helm().args(["package", src.to_str().unwrap(), "--version", v, "-d"]).arg(&dir));
    }
    ok(home.helm().args(["repo", "index"]).arg(&dir));
    Served { dir, path: format!("/{name}") }
}

fn package(home: &Home, src: &Path, version: &str) -> PathBuf {
    let out = tempdir("pkg");
    ok(home.helm().args(["package", src.to_str().unwrap(), "--version", version, "-d"]).arg(&out));
    let name = src.file_name().unwrap().to_string_lossy().into_owned();
    out.join(format!("{name}-{version}.tgz"))
}

#[test]
fn oci_push_pull_login_both_ways() {
    let reg = var("RUDDER_TEST_REGISTRY");
    let auth = var("RUDDER_TEST_REGISTRY_AUTH");
    let (user, pass) = (var("RUDDER_TEST_USER"), var("RUDDER_TEST_PASSWORD"));
    let home = Home::new("sources-oci");
    let ns = unique_name("sources");
    let src = chart_src("demo", "0.0.1", "description: demo chart\n");

    // helm pushes → rudder pulls, bit-identical, with the same output as helm's pull.
    let a = package(&home, &src, "1.2.3+build.4");
    ok(home.helm().args(["push", a.to_str().unwrap(), &format!("oci://{reg}/{ns}"), "--plain-http"]));
    let (hd, rd) = (tempdir("oci-h"), tempdir("oci-r"));
    let r = format!("oci://{reg}/{ns}/demo");
    let h = ok(home.helm().args(["pull", &r, "--version", "1.2.3+build.4", "--plain-http", "-d"]).arg(&hd));
    let o = ok(home.rudder().args(["pull", &r, "--version", "1.2.3+build.4", "--plain-http", "-d"]).arg(&rd));
    assert_eq!(stdout(&o), stdout(&h));
    assert_eq!(tree(&rd), tree(&hd));
    assert_eq!(std::fs::read(rd.join("demo-1.2.3+build.4.tgz")).unwrap(), std::fs::read(&a).unwrap());

    // Constraint over the tag list.
    let b = package(&home, &src, "1.3.0");
    ok(home.helm().args(["push", b.to_str().unwrap(), &format!("oci://{reg}/{ns}"), "--plain-http"]));
    let (hd, rd) = (tempdir("oci-h"), tempdir("oci-r"));
    ok(home.helm().args(["pull", &r, "--version", "~1.2", "--plain-http", "-d"]).arg(&hd));
    ok(home.rudder().args(["pull", &r, "--version", "~1.2", "--plain-http", "-d"]).arg(&rd));
    assert_eq!(tree(&rd), tree(&hd));

    // Digest pull.
    let digest = stdout(&h).lines().find_map(|l| l.strip_prefix("Digest: ")).unwrap().to_string();
    let rd = tempdir("oci-dig");
    ok(home.rudder().args(["pull", &format!("{r}@{digest}"), "--plain-http", "-d"]).arg(&rd));
    let got = tree(&rd);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, std::fs::read(&a).unwrap());

    // rudder pushes → helm pulls the same bytes and renders the chart as rudder does.
    let c = package(&home, &src, "2.0.0");
    let ns2 = unique_name("sources");
    let o = ok(home.rudder().args(["push", c.to_str().unwrap(), &format!("oci://{reg}/{ns2}"), "--plain-http"]));
    assert!(stdout(&o).starts_with(&format!("Pushed: {reg}/{ns2}/demo:2.0.0\nDigest: sha256:")), "{}", stdout(&o));
    let hd = tempdir("oci-h2");
    let r2 = format!("oci://{reg}/{ns2}/demo");
    ok(home.helm().args(["pull", &r2, "--version", "2.0.0", "--plain-http", "-d"]).arg(&hd));
    assert_eq!(std::fs::read(hd.join("demo-2.0.0.tgz")).unwrap(), std::fs::read(&c).unwrap());
    let ht = ok(home.helm().args(["template", "x", &r2, "--version", "2.0.0", "--plain-http"]));
    let rt = ok(home.rudder().args(["template", "x", &r2, "--version", "2.0.0", "--plain-http"]));
    assert_eq!(stdout(&rt), stdout(&ht));
    assert_eq!(stderr(&rt), stderr(&ht));
    assert!(stdout(&ht).contains("name: x-demo"));
    // helm's manifest view of rudder's push equals helm's own push of the same archive.
    let ns3 = unique_name("sources");
    let hp = ok(home.helm().args(["push", c.to_str().unwrap(), &format!("oci://{reg}/{ns3}"), "--plain-http"]));
    let dig = |s: &str| s.lines().find_map(|l| l.strip_prefix("Digest: ")).map(str::to_string);
    assert_eq!(dig(&stdout(&o)), dig(&stdout(&hp)), "rudder's manifest differs from helm's");

    // htpasswd registry: rudder login → helm uses the credentials; helm login → rudder uses them.
    let rhome = Home::new("sources-login");
    let o = run(rhome.rudder().args(["pull", &format!("oci://{auth}/{ns}/demo"), "--version", "1.3.0", "--plain-http", "-d"]).arg(tempdir("x")));
    let e = one_line_error(&o);
    assert!(e.contains("basic credential not found"), "{e}");
    let wrong = run(rhome.rudder().args(["registry", "login", &auth, "-u", &user, "-p", "wrong", "--plain-http"]));
    assert_eq!(wrong.status.code(), Some(1));
    let mut login = rhome.rudder();
    login.args(["registry", "login", &auth, "-u", &user, "--password-stdin", "--plain-http"]).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
    let mut child = login.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(pass.as_bytes()).unwrap();
    let lo = child.wait_with_output().unwrap();
    assert!(lo.status.success());
    assert_eq!(stdout(&lo), "Login Succeeded\n");
    ok(rhome.helm().args(["push", b.to_str().unwrap(), &format!("oci://{auth}/{ns}"), "--plain-http"]));
    let o = ok(rhome.rudder().args(["registry", "logout", &auth]));
    assert_eq!(stdout(&o), format!("Removing login credentials for {auth}\n"));
    let hhome = Home::new("sources-login-h");
    ok(hhome.helm().args(["registry", "login", &auth, "-u", &user, "-p", &pass, "--plain-http"]));
    let rd = tempdir("auth-pull");
    ok(hhome.rudder().args(["pull", &format!("oci://{auth}/{ns}/demo"), "--version", "1.3.0", "--plain-http", "-d"]).arg(&rd));
    assert_eq!(std::fs::read(rd.join("demo-1.3.0.tgz")).unwrap(), std::fs::read(&b).unwrap());
    // Docker's config.json is the fallback when Helm's registry config has no entry.
    let dhome = Home::new("sources-docker");
    std::fs::create_dir_all(dhome.root.join("home/.docker")).unwrap();
    std::fs::copy(hhome.root.join("config/registry/config.json"), dhome.root.join("home/.docker/config.json")).unwrap();
    let rd = tempdir("docker-pull");
    ok(dhome.rudder().args(["pull", &format!("oci://{auth}/{ns}/demo"), "--version", "1.3.0", "--plain-http", "-d"]).arg(&rd));
    assert_eq!(std::fs::read(rd.join("demo-1.3.0.tgz")).unwrap(), std::fs::read(&b).unwrap());
}

fn repo_url(s: &Served) -> String {
    format!("{}{}", var("RUDDER_TEST_REPO_URL"), s.path)
}

#[test]
fn http_repositories_with_helm() {
    let home = Home::new("sources-http");
    let s = served(&home, &["0.1.0", "0.1.5", "0.2.0", "1.0.0-rc.1", "1.0.0"]);
    let url = repo_url(&s);

    // rudder adds; helm reads rudder's repositories.yaml and cache.
    let o = ok(home.rudder().args(["repo", "add", "demo", &url]));
    assert_eq!(stdout(&o), "\"demo\" has been added to your repositories\n");
    let hl = ok(home.helm().args(["repo", "list"]));
    let rl = ok(home.rudder().args(["repo", "list"]));
    assert_eq!(stdout(&rl), stdout(&hl));
    for fmt in ["json", "yaml"] {
        assert_eq!(stdout(&ok(home.rudder().args(["repo", "list", "-o", fmt]))), stdout(&ok(home.helm().args(["repo", "list", "-o", fmt]))));
    }
    ok(home.helm().args(["search", "repo", "demo/"]));
    // Constraints, as helm resolves them.
    for (v, devel) in [("", false), ("~0.1", false), ("^0.1.0", false), ("0.x", false), (">0.1.0 <0.2.0 || 1.0.0", false), ("", true)] {
        let (hd, rd) = (tempdir("h"), tempdir("r"));
        let mut args = vec!["pull", "demo/demo", "-d"];
        if !v.is_empty() {
            args.extend(["--version", v]);
        }
        if devel {
            args.push("--devel");
        }
        ok(home.helm().args(&args[..2]).args(&args[3..]).arg("-d").arg(&hd));
        ok(home.rudder().args(&args[..2]).args(&args[3..]).arg("-d").arg(&rd));
        assert_eq!(tree(&rd), tree(&hd), "version {v:?} devel {devel}");
    }
    let o = run(home.rudder().args(["pull", "demo/demo", "--version", "9.x"]));
    let h = run(home.helm().args(["pull", "demo/demo", "--version", "9.x"]));
    assert_eq!(one_line_error(&o), one_line_error(&h));
    let o = ok(home.rudder().args(["repo", "update"]));
    assert_eq!(stdout(&o), stdout(&ok(home.helm().args(["repo", "update"]))));

    // helm adds; rudder reads helm's files.
    let h2 = Home::new("sources-http-h");
    ok(h2.helm().args(["repo", "add", "hd", &url]));
    let (hd, rd) = (tempdir("h"), tempdir("r"));
    ok(h2.helm().args(["pull", "hd/demo", "--untar", "-d"]).arg(&hd));
    ok(h2.rudder().args(["pull", "hd/demo", "--untar", "-d"]).arg(&rd));
    assert_eq!(tree(&rd), tree(&hd));
    assert_eq!(stdout(&ok(h2.rudder().args(["template", "x", "hd/demo", "--version", "0.2.0"]))),
               stdout(&ok(h2.helm().args(["template", "x", "hd/demo", "--version", "0.2.0"]))));

    // `--repo URL` for pull and template, as helm.
    let (hd, rd) = (tempdir("h"), tempdir("r"));
    ok(h2.helm().args(["pull", "demo", "--repo", &url, "--version", "~0.1", "-d"]).arg(&hd));
    ok(h2.rudder().args(["pull", "demo", "--repo", &url, "--version", "~0.1", "-d"]).arg(&rd));
    assert_eq!(tree(&rd), tree(&hd));
    assert_eq!(stdout(&ok(h2.rudder().args(["template", "x", "demo", "--repo", &url, "--devel"]))),
               stdout(&ok(h2.helm().args(["template", "x", "demo", "--repo", &url, "--devel"]))));

    // Basic auth and TLS repositories.
    let auth_url = format!("{}{}", var("RUDDER_TEST_REPO_AUTH_URL"), s.path);
    let (user, pass) = (var("RUDDER_TEST_USER"), var("RUDDER_TEST_PASSWORD"));
    ok(home.rudder().args(["repo", "add", "sec", &auth_url, "--username", &user, "--password", &pass]));
    let (hd, rd) = (tempdir("h"), tempdir("r"));
    ok(home.helm().args(["pull", "sec/demo", "--version", "0.1.5", "-d"]).arg(&hd));
    ok(home.rudder().args(["pull", "sec/demo", "--version", "0.1.5", "-d"]).arg(&rd));
    assert_eq!(tree(&rd), tree(&hd));
    let tls_url = format!("{}{}", var("RUDDER_TEST_REPO_TLS_URL"), s.path);
    let o = run(home.rudder().args(["repo", "add", "tls", &tls_url]));
    assert!(one_line_error(&o).contains("certificate signed by unknown authority"));
    ok(home.rudder().args(["repo", "add", "tls", &tls_url, "--ca-file", &var("RUDDER_TEST_CA")]));
    let rd = tempdir("r");
    ok(home.rudder().args(["pull", "tls/demo", "--version", "0.1.0", "-d"]).arg(&rd));
    assert_eq!(std::fs::read(rd.join("demo-0.1.0.tgz")).unwrap(), std::fs::read(s.dir.join("demo-0.1.0.tgz")).unwrap());
    // `repo index --merge` and `repo remove` as helm.
    let idx_h = tempdir("idx");
    let idx_r = tempdir("idx");
    for d in [&idx_h, &idx_r] {
        std::fs::copy(s.dir.join("demo-0.1.0.tgz"), d.join("demo-0.1.0.tgz")).unwrap();
    }
    ok(home.helm().args(["repo", "index"]).arg(&idx_h).args(["--url", "https://x.example/charts", "--merge"]).arg(s.dir.join("index.yaml")));
    ok(home.rudder().args(["repo", "index"]).arg(&idx_r).args(["--url", "https://x.example/charts", "--merge"]).arg(s.dir.join("index.yaml")));
    let strip = |p: &Path| {
        std::fs::read_to_string(p).unwrap().lines().filter(|l| !l.trim_start().starts_with("created:") && !l.starts_with("generated:")).collect::<Vec<_>>().join("\n")
    };
    assert_eq!(strip(&idx_r.join("index.yaml")), strip(&idx_h.join("index.yaml")));
    let o = ok(home.rudder().args(["repo", "remove", "sec", "tls"]));
    assert_eq!(stdout(&o), "\"sec\" has been removed from your repositories\n\"tls\" has been removed from your repositories\n");
    let e1 = run(home.rudder().args(["repo", "remove", "nope"]));
    let e2 = run(home.helm().args(["repo", "remove", "nope"]));
    assert_eq!(one_line_error(&e1), one_line_error(&e2));
}

#[test]
fn dependency_update_build_list_like_helm() {
    let reg = var("RUDDER_TEST_REGISTRY");
    let home = Home::new("sources-deps");
    let s = served(&home, &["0.1.0", "0.1.7", "0.2.0"]);
    ok(home.helm().args(["repo", "add", "smoke", &repo_url(&s)]));
    let ns = unique_name("sources");
    let other = chart_src("other", "2.1.0", "");
    let oa = package(&home, &other, "2.1.0");
    ok(home.helm().args(["push", oa.to_str().unwrap(), &format!("oci://{reg}/{ns}"), "--plain-http"]));
    let chart_yaml = format!(
        "apiVersion: v2\nname: parent\nversion: 1.0.0\ndependencies:\n- name: demo\n  version: \"~0.1\"\n  repository: \"@smoke\"\n- name: other\n  version: \">=2.0.0\"\n  repository: oci://{reg}/{ns}\n  alias: o\n  condition: o.enabled\n- name: sub\n  version: \"0.x\"\n  repository: file://../sub\n  import-values: [data]\n"
    );
    let setup = || {
        let w = tempdir("w");
        std::fs::create_dir_all(w.join("parent/templates")).unwrap();
        std::fs::create_dir_all(w.join("sub/templates")).unwrap();
        std::fs::write(w.join("parent/Chart.yaml"), &chart_yaml).unwrap();
        std::fs::write(w.join("sub/Chart.yaml"), "apiVersion: v2\nname: sub\nversion: 0.3.0\n").unwrap();
        std::fs::write(w.join("sub/values.yaml"), "exports:\n  data:\n    x: 1\n").unwrap();
        std::fs::write(w.join("sub/templates/a.yaml"), "kind: A\n").unwrap();
        w
    };
    let (hw, rw) = (setup(), setup());
    let h = ok(home.helm().args(["dependency", "update"]).arg(hw.join("parent")).arg("--plain-http"));
    let r = ok(home.rudder().args(["dependency", "update"]).arg(rw.join("parent")).arg("--plain-http"));
    assert_eq!(stdout(&r), stdout(&h));
    let lock = |w: &Path| {
        std::fs::read_to_string(w.join("parent/Chart.lock")).unwrap().lines().filter(|l| !l.starts_with("generated:")).collect::<Vec<_>>().join("\n")
    };
    assert_eq!(lock(&rw), lock(&hw));
    assert!(lock(&rw).contains("digest: sha256:"));
    let charts = |w: &Path| tree(&w.join("parent/charts"));
    let (hc, rc) = (charts(&hw), charts(&rw));
    assert_eq!(hc.iter().map(|c| &c.0).collect::<Vec<_>>(), rc.iter().map(|c| &c.0).collect::<Vec<_>>());
    for ((name, hb), (_, rb)) in hc.iter().zip(&rc) {
        if name.starts_with("sub-") {
            // file:// dependencies are packaged by each tool: same entries and contents (the
            // gzip streams differ: Go's compressor is not flate2's).
            let files = |b: &[u8]| {
                let mut v: Vec<(String, Vec<u8>)> = rudder_chart::load::archive::load_archive_files(b).unwrap().into_iter().map(|f| (f.name, f.data.to_vec())).collect();
                v.sort();
                v
            };
            assert_eq!(files(rb), files(hb), "{name}");
        } else {
            assert_eq!(rb, hb, "{name} differs");
        }
    }
    let hl = ok(home.helm().args(["dependency", "list"]).arg(hw.join("parent")));
    let rl = ok(home.rudder().args(["dependency", "list"]).arg(rw.join("parent")));
    assert_eq!(stdout(&rl), stdout(&hl));

    // build from the lock after charts/ is emptied, with --skip-refresh.
    for w in [&hw, &rw] {
        std::fs::remove_dir_all(w.join("parent/charts")).unwrap();
    }
    let h = ok(home.helm().args(["dependency", "build", "--skip-refresh", "--plain-http"]).arg(hw.join("parent")));
    let r = ok(home.rudder().args(["dependency", "build", "--skip-refresh", "--plain-http"]).arg(rw.join("parent")));
    assert_eq!(stdout(&r), stdout(&h));
    assert_eq!(charts(&rw).len(), 3);
    // Statuses: a wrong version and a missing chart, listed as helm lists them.
    for w in [&hw, &rw] {
        std::fs::remove_file(w.join("parent/charts/other-2.1.0.tgz")).unwrap();
        std::fs::copy(s.dir.join("demo-0.2.0.tgz"), w.join("parent/charts/demo-0.1.7.tgz")).unwrap();
        std::fs::remove_file(w.join("parent/charts/demo-0.1.7.tgz")).ok();
        std::fs::copy(s.dir.join("demo-0.2.0.tgz"), w.join("parent/charts/demo-0.2.0.tgz")).unwrap();
    }
    let hl = ok(home.helm().args(["dependency", "list"]).arg(hw.join("parent")));
    let rl = ok(home.rudder().args(["dependency", "list"]).arg(rw.join("parent")));
    assert_eq!(stdout(&rl), stdout(&hl));
    // template --dependency-update fetches what charts/ lacks, as helm does (same stdout).
    let (ht, rt) = (setup(), setup());
    let h = ok(home.helm().args(["template", "x"]).arg(ht.join("parent")).args(["--dependency-update", "--plain-http"]));
    let r = ok(home.rudder().args(["template", "x"]).arg(rt.join("parent")).args(["--dependency-update", "--plain-http"]));
    assert_eq!(stdout(&r), stdout(&h));
    assert_eq!(stderr(&r), stderr(&h));
    assert!(stdout(&h).contains("name: x-demo"));
    // An out-of-sync lock is refused with helm's words.
    for w in [&hw, &rw] {
        let y = std::fs::read_to_string(w.join("parent/Chart.yaml")).unwrap().replace("~0.1", "~0.2");
        std::fs::write(w.join("parent/Chart.yaml"), y).unwrap();
    }
    let h = run(home.helm().args(["dependency", "build"]).arg(hw.join("parent")));
    let r = run(home.rudder().args(["dependency", "build"]).arg(rw.join("parent")));
    assert_eq!(one_line_error(&r), one_line_error(&h));

    // Offline: a fresh copy resolves every dependency from the caches (the served repository
    // is gone), giving the same lock and archives.
    drop(s);
    let ow = setup();
    let dead = "http://127.0.0.1:9";
    let o = ok(home.rudder().args(["dependency", "update", "--offline"]).arg(ow.join("parent")).env("HTTP_PROXY", dead).env("http_proxy", dead));
    assert!(stdout(&o).contains("Saving 3 charts"), "{}", stdout(&o));
    assert_eq!(lock(&ow), lock(&hw).replace("~0.2", "~0.1"));
    assert_eq!(charts(&ow).iter().filter(|c| !c.0.starts_with("sub-")).collect::<Vec<_>>(), hc.iter().filter(|c| !c.0.starts_with("sub-")).collect::<Vec<_>>());
}

#[test]
fn requirements_lock_for_v1_charts() {
    let home = Home::new("sources-v1");
    let s = served(&home, &["0.1.0", "0.2.0"]);
    ok(home.helm().args(["repo", "add", "r", &repo_url(&s)]));
    let setup = || {
        let w = tempdir("v1");
        std::fs::create_dir_all(w.join("templates")).unwrap();
        std::fs::write(w.join("Chart.yaml"), "apiVersion: v1\nname: old\nversion: 1.0.0\n").unwrap();
        std::fs::write(w.join("requirements.yaml"), format!("dependencies:\n- name: demo\n  version: \">0.1.0\"\n  repository: {}\n", repo_url(&s))).unwrap();
        w
    };
    let (hw, rw) = (setup(), setup());
    let h = ok(home.helm().args(["dependency", "update"]).arg(&hw));
    let r = ok(home.rudder().args(["dependency", "update"]).arg(&rw));
    assert_eq!(stdout(&r), stdout(&h));
    let lock = |w: &Path| std::fs::read_to_string(w.join("requirements.lock")).unwrap().lines().filter(|l| !l.starts_with("generated:")).collect::<Vec<_>>().join("\n");
    assert_eq!(lock(&rw), lock(&hw));
    assert_eq!(tree(&rw.join("charts")), tree(&hw.join("charts")));
    for w in [&hw, &rw] {
        std::fs::remove_dir_all(w.join("charts")).unwrap();
    }
    let h = ok(home.helm().args(["dependency", "build"]).arg(&hw));
    let r = ok(home.rudder().args(["dependency", "build"]).arg(&rw));
    assert_eq!(stdout(&r), stdout(&h));
    assert_eq!(tree(&rw.join("charts")), tree(&hw.join("charts")));
}

/// A local server answering every request with 500.
fn server_500() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            use std::io::{Read, Write};
            let mut s = s;
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    format!("http://{addr}")
}

#[test]
fn offline_cache_and_bundles() {
    let reg = var("RUDDER_TEST_REGISTRY");
    let home = Home::new("sources-offline");
    let s = served(&home, &["0.1.0", "0.2.0"]);
    ok(home.rudder().args(["repo", "add", "demo", &repo_url(&s)]));
    let ns = unique_name("sources");
    let src = chart_src("ocichart", "1.0.0", "");
    let oa = package(&home, &src, "1.0.0");
    ok(home.helm().args(["push", oa.to_str().unwrap(), &format!("oci://{reg}/{ns}"), "--plain-http"]));
    let oref = format!("oci://{reg}/{ns}/ocichart");
    // Cache both online.
    let online_t = stdout(&ok(home.rudder().args(["template", "x", "demo/demo", "--version", "0.1.0"])));
    ok(home.rudder().args(["pull", &oref, "--version", "1.0.0", "--plain-http", "-d"]).arg(tempdir("p")));

    // The servers go away: the repository directory is deleted and every proxy points at a
    // closed port (so any network access fails), yet offline commands work from the cache.
    let bundle = home.root.join("b.tar");
    ok(home.rudder().args(["bundle", "create", "demo/demo@0.1.0", &oref, "-o"]).arg(&bundle).args(["--plain-http"]));
    drop(s);
    let dead = "http://127.0.0.1:9";
    let mut t = home.rudder();
    t.args(["template", "x", "demo/demo", "--version", "0.1.0"]).env("RUDDER_OFFLINE", "1").env("HTTP_PROXY", dead).env("http_proxy", dead);
    assert_eq!(stdout(&ok(&mut t)), online_t);
    let rd = tempdir("off");
    ok(home.rudder().args(["pull", &oref, "--version", "1.0.0", "--offline", "-d"]).arg(&rd));
    assert_eq!(std::fs::read(rd.join("ocichart-1.0.0.tgz")).unwrap(), std::fs::read(&oa).unwrap());
    // Missing: a clear one-line error naming chart and version, nothing fetched.
    let o = run(home.rudder().args(["pull", "demo/demo", "--version", "0.2.0", "--offline", "-d"]).arg(&rd));
    let e = one_line_error(&o);
    assert!(e.contains("\"demo/demo\"") && e.contains("\"0.2.0\"") && e.contains("offline"), "{e}");
    let o = run(home.rudder().args(["template", "x", &format!("{oref}:9.9.9"), "--offline"]));
    assert!(one_line_error(&o).contains("9.9.9"));

    // A fresh machine with only the bundle: import, then offline pull and template.
    let fresh = Home::new("sources-fresh");
    let o = ok(fresh.rudder().args(["bundle", "import"]).arg(&bundle));
    assert_eq!(stdout(&o).lines().count(), 2, "{}", stdout(&o));
    let rd = tempdir("fresh");
    ok(fresh.rudder().args(["pull", "demo/demo", "--version", "0.1.0", "--offline", "-d"]).arg(&rd));
    ok(fresh.rudder().args(["pull", &oref, "--offline", "-d"]).arg(&rd));
    assert_eq!(std::fs::read(rd.join("ocichart-1.0.0.tgz")).unwrap(), std::fs::read(&oa).unwrap());
    let mut t = fresh.rudder();
    t.args(["template", "x", "demo/demo", "--version", "0.1.0"]).env("RUDDER_OFFLINE", "1");
    assert_eq!(stdout(&ok(&mut t)), online_t);
    // The bundle is also a chart repository helm can read.
    let repo_dir = tempdir("bundle-repo");
    ok(fresh.rudder().args(["bundle", "import"]).arg(&bundle).arg("--repo-dir").arg(&repo_dir));
    let idx = std::fs::read_to_string(repo_dir.join("index.yaml")).unwrap();
    assert!(idx.contains("charts/demo-0.1.0.tgz") && idx.contains("digest:"), "{idx}");
    ok(fresh.helm().args(["show", "chart"]).arg(repo_dir.join("charts/demo-0.1.0.tgz")));
}

#[test]
fn bad_input_one_line_errors_cache_untouched() {
    let home = Home::new("sources-bad");
    let s = served(&home, &["0.1.0"]);
    let url = repo_url(&s);
    ok(home.rudder().args(["repo", "add", "ok", &url]));
    let cache_before = tree(&home.root.join("cache"));

    // Corrupt index.yaml (helm's error, no cache file written).
    let bad = served(&home, &["0.1.0"]);
    std::fs::write(bad.dir.join("index.yaml"), "apiVersion: v1\nentries: [\n").unwrap();
    let r = run(home.rudder().args(["repo", "add", "bad", &repo_url(&bad)]));
    let e = one_line_error(&r);
    assert!(e.contains("is not a valid chart repository or cannot be reached"), "{e}");
    assert_eq!(tree(&home.root.join("cache")), cache_before);
    // Duplicate keys: helm refuses the index; so does rudder.
    std::fs::write(bad.dir.join("index.yaml"), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n  a:\n  - name: a\n    version: 2.0.0\n").unwrap();
    let h = run(home.helm().args(["repo", "add", "dup", &repo_url(&bad)]));
    let r = run(home.rudder().args(["repo", "add", "dup", &repo_url(&bad)]));
    assert_eq!(h.status.code(), Some(1));
    assert_eq!(r.status.code(), Some(1), "rudder accepted an index with duplicate keys");
    assert_eq!(stderr(&r), stderr(&h));

    // Bad entries are skipped with helm's (debug-mode) warnings, in helm's order, both when the
    // index is fetched and when the cached copy is read.
    std::fs::write(bad.dir.join("index.yaml"), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    urls: [a.tgz]\n  - name: a\n    version: not semver\n  - null\n").unwrap();
    let warn = |o: &Output| stderr(o).lines().filter(|l| l.starts_with("level=WARN")).map(str::to_string).collect::<Vec<_>>();
    let (hh, rh) = (Home::new("sources-warn-h"), Home::new("sources-warn-r"));
    let h = ok(hh.helm().args(["repo", "add", "w", &repo_url(&bad)]).env("HELM_DEBUG", "1"));
    let r = ok(rh.rudder().args(["repo", "add", "w", &repo_url(&bad)]).env("HELM_DEBUG", "1"));
    assert_eq!(warn(&r), warn(&h));
    assert_eq!(warn(&r).len(), 2);
    for _ in 0..2 {
        let h = run(hh.helm().args(["pull", "w/a", "-d"]).arg(tempdir("w")).env("HELM_DEBUG", "1"));
        let r = run(rh.rudder().args(["pull", "w/a", "-d"]).arg(tempdir("w")).env("HELM_DEBUG", "1"));
        assert_eq!(warn(&r).iter().map(|l| l.replace(&rh.root.display().to_string(), "")).collect::<Vec<_>>(),
                   warn(&h).iter().map(|l| l.replace(&hh.root.display().to_string(), "")).collect::<Vec<_>>());
    }

    // Digest mismatch: the served archive changes after indexing.
    std::fs::copy(s.dir.join("demo-0.1.0.tgz"), home.root.join("orig.tgz")).unwrap();
    let other = package(&home, &chart_src("demo", "0.1.0", "description: changed\n"), "0.1.0");
    std::fs::copy(&other, s.dir.join("demo-0.1.0.tgz")).unwrap();
    let dest = tempdir("bad-dest");
    let r = run(home.rudder().args(["pull", "ok/demo", "-d"]).arg(&dest));
    assert!(one_line_error(&r).contains("digest mismatch"));
    assert!(tree(&dest).is_empty());
    assert_eq!(tree(&home.root.join("cache")), cache_before);
    // Truncated tarball (index digest updated to match, so only the archive check catches it).
    let orig = std::fs::read(home.root.join("orig.tgz")).unwrap();
    let cut = &orig[..orig.len() / 2];
    std::fs::write(s.dir.join("demo-0.1.0.tgz"), cut).unwrap();
    let r = run(home.rudder().args(["pull", &format!("{url}/demo-0.1.0.tgz"), "-d"]).arg(&dest));
    one_line_error(&r);
    assert!(tree(&dest).is_empty());
    assert!(!home.content().exists() || tree(&home.content()).iter().all(|(n, _)| !n.ends_with(".chart")));
    // 401, 404, 500.
    let auth = format!("{}{}", var("RUDDER_TEST_REPO_AUTH_URL"), s.path);
    let r = run(home.rudder().args(["repo", "add", "noauth", &auth]));
    let h = run(home.helm().args(["repo", "add", "noauth", &auth]));
    assert_eq!(one_line_error(&r), one_line_error(&h));
    assert!(one_line_error(&r).contains("401"));
    let missing = format!("{}/sources-no-such-dir", var("RUDDER_TEST_REPO_URL"));
    let r = run(home.rudder().args(["repo", "add", "nf", &missing]));
    let h = run(home.helm().args(["repo", "add", "nf", &missing]));
    assert_eq!(one_line_error(&r), one_line_error(&h));
    let five = server_500();
    let r = run(home.rudder().args(["pull", &format!("{five}/x-1.0.0.tgz"), "-d"]).arg(&dest));
    assert!(one_line_error(&r).contains("500 Internal Server Error"));
    let r = run(home.rudder().args(["repo", "add", "five", &five]));
    assert!(one_line_error(&r).contains("500"));
    assert_eq!(tree(&home.root.join("cache")), cache_before);
    assert!(tree(&dest).is_empty());
}

#[test]
fn oci_wrong_media_type_and_missing_tag() {
    let reg = var("RUDDER_TEST_REGISTRY");
    let home = Home::new("sources-oci-bad");
    let ns = unique_name("sources");
    // A manifest whose config is an image config, not a chart: pushed with the raw API.
    let a = package(&home, &chart_src("img", "0.0.1", ""), "1.0.0");
    let data = std::fs::read(&a).unwrap();
    let mut r = rudder_repo::oci::Registry::new(&reg, true, None, &rudder_repo::PullOptions::default()).unwrap();
    let repo = format!("{ns}/img");
    let layer = r.push_blob(&repo, &data).unwrap();
    let config = b"{}";
    let cd = r.push_blob(&repo, config).unwrap();
    let manifest = format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{cd}\",\"size\":2}},\"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"{layer}\",\"size\":{}}}]}}",
        data.len()
    );
    r.push_manifest(&repo, "1.0.0", manifest.as_bytes()).unwrap();
    let dest = tempdir("bad-oci");
    let o = run(home.rudder().args(["pull", &format!("oci://{reg}/{repo}"), "--version", "1.0.0", "--plain-http", "-d"]).arg(&dest));
    let e = one_line_error(&o);
    let h = run(home.helm().args(["pull", &format!("oci://{reg}/{repo}"), "--version", "1.0.0", "--plain-http", "-d"]).arg(&dest));
    assert_eq!(e, one_line_error(&h));
    assert!(tree(&dest).is_empty());
    assert!(!home.content().exists() || tree(&home.content()).iter().all(|(n, _)| !n.ends_with(".chart")));
    // A missing tag: helm's words.
    let o = run(home.rudder().args(["pull", &format!("oci://{reg}/{repo}"), "--version", "9.9.9", "--plain-http", "-d"]).arg(&dest));
    let h = run(home.helm().args(["pull", &format!("oci://{reg}/{repo}"), "--version", "9.9.9", "--plain-http", "-d"]).arg(&dest));
    assert_eq!(one_line_error(&o), one_line_error(&h));
}

/// `rudder bundle create -f helmfile.yaml`: every chart the state's releases need (a repository
/// chart at its constraint's version, an OCI chart), then on a fresh machine with the
/// repository pointed at a closed port, `bundle import` and `rudder helmfile template
/// --offline` print what the real helmfile printed online; `-l` bundles only the selected
/// releases' charts, and the chart left out is named by the offline error.
#[test]
fn helmfile_bundle_air_gapped() {
    let reg = var("RUDDER_TEST_REGISTRY");
    let home = Home::new("sources-hfbundle");
    let s = served(&home, &["0.1.0", "0.2.0"]);
    let ns = unique_name("sources");
    let src = chart_src("ocichart", "1.0.0", "");
    let oa = package(&home, &src, "1.0.0");
    ok(home.helm().args(["push", oa.to_str().unwrap(), &format!("oci://{reg}/{ns}"), "--plain-http"]));
    let state = |url: &str| {
        format!(
            "repositories:\n- name: demo\n  url: {url}\nreleases:\n- name: x\n  namespace: hfb\n  chart: demo/demo\n  version: \"~0.1\"\n  values:\n  - greeting: bundled\n- name: y\n  chart: oci://{reg}/{ns}/ocichart\n  version: 1.0.0\n"
        )
    };
    std::fs::write(home.root.join("helmfile.yaml"), state(&repo_url(&s))).unwrap();
    let hfcache = home.root.join("hfcache").display().to_string();
    let mut real = home.cmd(oracle("helmfile"));
    real.args(["template", "--oci-plain-http"]).env("HELMFILE_CACHE_HOME", &hfcache).env("HELMFILE_UPDATE_CHECK", "false");
    let online = stdout(&ok(&mut real));
    assert!(online.contains("name: x-demo") && online.contains("v: \"0.1.0\""), "{online}");
    let full = home.root.join("full.tar");
    let part = home.root.join("part.tar");
    let o = ok(home.rudder().args(["bundle", "create", "-f", "helmfile.yaml", "--plain-http", "-o"]).arg(&full));
    assert!(stdout(&o).contains("Bundled demo 0.1.0") && stdout(&o).contains("Bundled ocichart 1.0.0"), "{}", stdout(&o));
    ok(home.rudder().args(["bundle", "create", "-f", "helmfile.yaml", "-l", "name=y", "--plain-http", "-o"]).arg(&part));
    drop(s);

    let fresh = Home::new("sources-hfbundle-fresh");
    std::fs::write(fresh.root.join("helmfile.yaml"), state("http://127.0.0.1:9/gone")).unwrap();
    ok(fresh.rudder().args(["bundle", "import"]).arg(&full));
    let mut t = fresh.rudder();
    t.args(["helmfile", "template", "--oci-plain-http", "--offline"]).env("HELMFILE_CACHE_HOME", fresh.root.join("hfcache"));
    let got = ok(&mut t);
    // The OCI chart's cache path is in the source comments of neither; the documents match.
    assert_eq!(stdout(&got), online, "offline template differs from the real helmfile online");

    let bare = Home::new("sources-hfbundle-part");
    std::fs::write(bare.root.join("helmfile.yaml"), state("http://127.0.0.1:9/gone")).unwrap();
    ok(bare.rudder().args(["bundle", "import"]).arg(&part));
    let mut t = bare.rudder();
    t.args(["helmfile", "template", "--oci-plain-http"]).env("RUDDER_OFFLINE", "1").env("HELMFILE_CACHE_HOME", bare.root.join("hfcache"));
    let o = run(&mut t);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("offline: chart \"demo/demo\" version \"~0.1\" is not in the local cache"), "{}", stderr(&o));
}
