//! Rudder's HTTP chart repositories against the real nginx chart repository servers and the real
//! helm v4: charts are packaged and indexed by real helm, Rudder adds/updates/pulls them, and the
//! results are compared with the served bytes and with what real helm does.
//!
//! Servers (started by `conformance/servers up`): http://127.0.0.1:8879 (open), :8880 (basic
//! auth), https://localhost:8881 (TLS with the generated CA). `RUDDER_SERVERS_DIR` points at
//! their directory (default `<workspace>/target/servers`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rudder_conformance::testbed::{oracle, run_ok, unique_name, workspace_root};
use rudder_repo::{Entry, HelmPaths, PullOptions, RepoFile};

const USER: &str = "rudder";
const PASS: &str = "rudder-test-pass";

fn port(var: &str, def: u16) -> u16 {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(def)
}
fn open_url() -> String {
    format!("http://127.0.0.1:{}", port("RUDDER_REPO_PORT", 8879))
}
fn auth_url() -> String {
    format!("http://127.0.0.1:{}", port("RUDDER_REPO_AUTH_PORT", 8880))
}
fn tls_url() -> String {
    format!("https://localhost:{}", port("RUDDER_REPO_TLS_PORT", 8881))
}

fn servers_dir() -> PathBuf {
    let dir = std::env::var_os("RUDDER_SERVERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/servers"));
    assert!(
        dir.join("charts").is_dir() && dir.join("pki/ca.crt").is_file(),
        "the chart repository servers are not up ({} missing): run `conformance/servers up` \
         or set RUDDER_SERVERS_DIR",
        dir.display()
    );
    dir
}
fn ca_file() -> String {
    servers_dir().join("pki/ca.crt").display().to_string()
}

fn tempdir(prefix: &str) -> PathBuf {
    let dir = workspace_root().join("target/tmp").join(unique_name(prefix));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every HELM_* location inside `home`, for both real helm and Rudder.
struct Home {
    root: PathBuf,
    vars: HashMap<String, String>,
}

impl Home {
    fn new(prefix: &str) -> Home {
        let root = tempdir(prefix);
        let mut vars = HashMap::new();
        let p = |s: &str| root.join(s).display().to_string();
        vars.insert("HOME".into(), p("home"));
        vars.insert("HELM_CONFIG_HOME".into(), p("config"));
        vars.insert("HELM_CACHE_HOME".into(), p("cache"));
        vars.insert("HELM_DATA_HOME".into(), p("data"));
        Home { root, vars }
    }
    fn paths(&self) -> HelmPaths {
        HelmPaths::from_lookup(|k| self.vars.get(k).cloned())
    }
    fn helm(&self) -> Command {
        let mut c = Command::new(oracle("helm"));
        c.env_clear();
        c.env("PATH", std::env::var("PATH").unwrap_or_default());
        c.envs(&self.vars);
        c
    }
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A served directory `charts/<unique>/` with `demo` packaged by real helm at `versions`, and an
/// index made by `helm repo index`. Returns (dir, path part of the URL).
/// Removes a served directory when the test ends.
struct Served(PathBuf);
impl Drop for Served {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

thread_local! {
    static SERVED: std::cell::RefCell<Vec<Served>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn served_repo(versions: &[&str]) -> (PathBuf, String) {
    let name = unique_name("repo");
    let dir = servers_dir().join("charts").join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    SERVED.with(|s| s.borrow_mut().push(Served(dir.clone())));
    let src = tempdir("chart-src");
    let chart = src.join("demo");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: demo\nversion: 0.0.1\n").unwrap();
    std::fs::write(chart.join("templates/cm.yaml"), "kind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n").unwrap();
    let home = Home::new("helm-pkg");
    for v in versions {
        run_ok(home.helm().args(["package", chart.to_str().unwrap(), "--version", v, "-d"]).arg(&dir)).unwrap();
    }
    run_ok(home.helm().args(["repo", "index"]).arg(&dir)).unwrap();
    (dir, format!("/{name}"))
}

/// Every file below `root`: relative path, mode, bytes.
fn tree(root: &Path) -> Vec<(String, u32, Vec<u8>)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let md = std::fs::metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if md.is_dir() {
                out.push((format!("{rel}/"), md.permissions().mode() & 0o777, vec![]));
                stack.push(p);
            } else {
                out.push((rel, md.permissions().mode() & 0o777, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn entry(name: &str, url: &str) -> Entry {
    Entry { name: name.into(), url: url.into(), ..Entry::default() }
}

#[test]
fn paths_follow_helm_env() {
    let mut home = Home::new("paths");
    let p = home.paths();
    let check = |home: &Home, p: &HelmPaths| {
        let out = run_ok(home.helm().arg("env")).unwrap();
        let env: HashMap<String, String> = stdout(&out)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect();
        let s = |x: &Path| x.display().to_string();
        assert_eq!(env["HELM_CONFIG_HOME"], s(&p.config_home));
        assert_eq!(env["HELM_CACHE_HOME"], s(&p.cache_home));
        assert_eq!(env["HELM_DATA_HOME"], s(&p.data_home));
        assert_eq!(env["HELM_REPOSITORY_CONFIG"], s(&p.repository_config));
        assert_eq!(env["HELM_REPOSITORY_CACHE"], s(&p.repository_cache));
        assert_eq!(env["HELM_REGISTRY_CONFIG"], s(&p.registry_config));
        assert_eq!(env["HELM_CONTENT_CACHE"], s(&p.content_cache));
        assert_eq!(env["HELM_PLUGINS"], s(&p.plugins));
    };
    check(&home, &p);
    // XDG fallbacks and HOME defaults.
    for k in ["HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME"] {
        home.vars.remove(k);
    }
    let root = home.root.display().to_string();
    home.vars.insert("XDG_CONFIG_HOME".into(), format!("{root}/xdg-config/"));
    home.vars.insert("HELM_REPOSITORY_CACHE".into(), format!("{root}/rc"));
    check(&home, &home.paths());
    home.vars.remove("XDG_CONFIG_HOME");
    check(&home, &home.paths());
}

#[test]
fn add_update_pull_match_real_helm() {
    let (dir, path) = served_repo(&["0.1.0", "0.2.0", "1.0.0-rc.1"]);
    let url = format!("{}{path}", open_url());
    let home = Home::new("open");
    let paths = home.paths();

    let msg = rudder_repo::repo_add(&paths, entry("demo", &url), false).unwrap();
    assert_eq!(msg, "\"demo\" has been added to your repositories");
    // Again with the same configuration: skipped, as helm does.
    let again = rudder_repo::repo_add(&paths, entry("demo", &url), false).unwrap();
    let helm_again = run_ok(home.helm().args(["repo", "add", "demo", &url])).unwrap();
    assert_eq!(format!("{again}\n"), stdout(&helm_again));
    let clash = rudder_repo::repo_add(&paths, entry("demo", &format!("{url}/other")), false).unwrap_err();
    let helm_clash = home.helm().args(["repo", "add", "demo", &format!("{url}/other")]).output().unwrap();
    assert_eq!(format!("Error: {clash}\n"), String::from_utf8_lossy(&helm_clash.stderr));

    // The cached index is the served index byte for byte; charts.txt lists the chart.
    let served = std::fs::read(dir.join("index.yaml")).unwrap();
    assert_eq!(std::fs::read(paths.cache_index_file("demo")).unwrap(), served);
    assert_eq!(std::fs::read_to_string(paths.cache_charts_file("demo")).unwrap(), "demo\n");

    // Real helm uses Rudder's repositories.yaml and cache.
    let list = run_ok(home.helm().args(["repo", "list", "-o", "json"])).unwrap();
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list, serde_json::json!([{"name": "demo", "url": url}]));

    // Update: the cache is rewritten, identically to helm's own.
    std::fs::remove_file(paths.cache_index_file("demo")).unwrap();
    let mut out = String::new();
    rudder_repo::repo_update(&paths, &[], &mut out).unwrap();
    let helm_home = Home::new("open-helm");
    run_ok(helm_home.helm().args(["repo", "add", "demo", &url])).unwrap();
    let helm_out = run_ok(helm_home.helm().args(["repo", "update"])).unwrap();
    assert_eq!(out, stdout(&helm_out));
    assert_eq!(
        std::fs::read(paths.cache_index_file("demo")).unwrap(),
        std::fs::read(helm_home.paths().cache_index_file("demo")).unwrap()
    );
    // On a fresh home both write the same repositories.yaml (a zero `generated`, as helm's
    // unmarshal of a missing file leaves it).
    assert_eq!(
        std::fs::read_to_string(&paths.repository_config).unwrap(),
        std::fs::read_to_string(helm_home.paths().repository_config).unwrap()
    );
    let err = rudder_repo::repo_update(&paths, &["nope"], &mut String::new()).unwrap_err();
    let helm_err = helm_home.helm().args(["repo", "update", "nope"]).output().unwrap();
    assert_eq!(format!("Error: {err}\n"), String::from_utf8_lossy(&helm_err.stderr));

    // Pull with constraints: same file name and bytes as real helm's pull.
    for (version, devel, want) in
        [("", false, "0.2.0"), ("", true, "1.0.0-rc.1"), ("~0.1", false, "0.1.0"), ("0.2.0", false, "0.2.0"), (">=0.1.0-0", false, "1.0.0-rc.1")]
    {
        let ours = tempdir("pull-ours");
        let theirs = tempdir("pull-helm");
        let opts = PullOptions { version: version.into(), devel, destination: ours.clone(), ..Default::default() };
        let pulled = rudder_repo::pull(&paths, "demo/demo", &opts).unwrap();
        assert_eq!(pulled.version, want);
        let mut cmd = helm_home.helm();
        cmd.args(["pull", "demo/demo", "-d"]).arg(&theirs);
        if !version.is_empty() {
            cmd.args(["--version", version]);
        }
        if devel {
            cmd.arg("--devel");
        }
        run_ok(&mut cmd).unwrap();
        let name = format!("demo-{want}.tgz");
        assert_eq!(pulled.path, ours.join(&name));
        let theirs_bytes = std::fs::read(theirs.join(&name)).unwrap();
        assert_eq!(std::fs::read(&pulled.path).unwrap(), theirs_bytes, "{version}");
        assert_eq!(theirs_bytes, std::fs::read(dir.join(&name)).unwrap());
    }

    // No match: Helm's message.
    let dest = tempdir("pull-none");
    let opts = PullOptions { version: "9.x".into(), destination: dest.clone(), ..Default::default() };
    let err = rudder_repo::pull(&paths, "demo/demo", &opts).unwrap_err();
    let helm_err = helm_home.helm().args(["pull", "demo/demo", "--version", "9.x", "-d"]).arg(&dest).output().unwrap();
    assert_eq!(format!("Error: {err}\n"), String::from_utf8_lossy(&helm_err.stderr));
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);

    // Helm 4's content cache: `helm template` (LocateChart → DownloadToCache) and Rudder's
    // download_to_cache put the archive at the same place with the same bytes.
    let opts = PullOptions { version: "0.1.0".into(), ..Default::default() };
    let cached = rudder_repo::download_to_cache(&paths, "demo/demo", &opts).unwrap();
    run_ok(helm_home.helm().args(["template", "x", "demo/demo", "--version", "0.1.0"])).unwrap();
    let helm_cached = helm_home.paths().content_cache_file(&cached.digest, ".chart");
    assert_eq!(cached.path.strip_prefix(&paths.content_cache).unwrap(), helm_cached.strip_prefix(helm_home.paths().content_cache).unwrap());
    assert_eq!(std::fs::read(&cached.path).unwrap(), std::fs::read(&helm_cached).unwrap());
    // A second pull is served from the content cache (the server copy is gone).
    std::fs::rename(dir.join("demo-0.1.0.tgz"), dir.join("moved.tgz")).unwrap();
    let again = rudder_repo::pull(&paths, "demo/demo", &PullOptions { destination: tempdir("pull-cached"), ..opts.clone() }).unwrap();
    assert_eq!(std::fs::read(&again.path).unwrap(), std::fs::read(&cached.path).unwrap());
    std::fs::rename(dir.join("moved.tgz"), dir.join("demo-0.1.0.tgz")).unwrap();

    // --untar: the same tree as helm's, and the same refusal when it exists.
    let ours = tempdir("untar-ours");
    let theirs = tempdir("untar-helm");
    let opts = PullOptions { untar: true, destination: ours.clone(), ..Default::default() };
    let pulled = rudder_repo::pull(&paths, "demo/demo", &opts).unwrap();
    assert_eq!(pulled.path, ours.join("demo"));
    run_ok(helm_home.helm().args(["pull", "demo/demo", "--untar", "-d"]).arg(&theirs)).unwrap();
    assert_eq!(tree(&ours), tree(&theirs));
    let err = rudder_repo::pull(&paths, "demo/demo", &opts).unwrap_err();
    let helm_err = helm_home.helm().args(["pull", "demo/demo", "--untar", "-d"]).arg(&ours).output().unwrap();
    assert_eq!(format!("Error: {err}\n"), String::from_utf8_lossy(&helm_err.stderr));
    let opts = PullOptions { untar: true, untar_dir: "x/y".into(), destination: ours.clone(), ..Default::default() };
    rudder_repo::pull(&paths, "demo/demo", &opts).unwrap();
    run_ok(helm_home.helm().args(["pull", "demo/demo", "--untar", "--untardir", "x/y", "-d"]).arg(&theirs)).unwrap();
    assert_eq!(tree(&ours), tree(&theirs));

    // --repo URL without a configured repository.
    let dest = tempdir("pull-repo-flag");
    let opts = PullOptions { repo_url: url.clone(), destination: dest.clone(), ..Default::default() };
    let pulled = rudder_repo::pull(&home.paths(), "demo", &opts).unwrap();
    assert_eq!(std::fs::read(pulled.path).unwrap(), std::fs::read(dir.join("demo-0.2.0.tgz")).unwrap());
}

#[test]
fn repositories_yaml_round_trips_with_real_helm() {
    // Rudder writes, helm reads.
    let home = Home::new("rf");
    let paths = home.paths();
    let mut f = RepoFile::new();
    f.update(Entry {
        name: "one".into(),
        url: "https://example.invalid/charts".into(),
        username: "u".into(),
        password: "p".into(),
        ca_file: "/ca.crt".into(),
        cert_file: "/c.crt".into(),
        key_file: "/c.key".into(),
        insecure_skip_tls_verify: true,
        pass_credentials_all: true,
    });
    f.update(entry("two", "http://127.0.0.1:1/x"));
    f.write(&paths.repository_config).unwrap();
    let list = run_ok(home.helm().args(["repo", "list", "-o", "yaml"])).unwrap();
    assert_eq!(
        stdout(&list),
        "- name: one\n  url: https://example.invalid/charts\n- name: two\n  url: http://127.0.0.1:1/x\n"
    );
    run_ok(home.helm().args(["repo", "remove", "two"])).unwrap();
    let back = RepoFile::load(&paths.repository_config).unwrap();
    assert_eq!(back.repositories, f.repositories[..1]);
    assert_eq!(back.api_version, "v1");

    // helm writes, Rudder reads; and Rudder's re-serialisation is helm's file byte for byte
    // (apart from the generated timestamp, which both take from the clock).
    let (_, path) = served_repo(&["1.2.3"]);
    let url = format!("{}{path}", auth_url());
    let h = Home::new("rf-helm");
    run_ok(h.helm().args(["repo", "add", "sec", &url, "--username", USER, "--password", PASS, "--pass-credentials"]))
        .unwrap();
    let text = std::fs::read_to_string(h.paths().repository_config).unwrap();
    let got = RepoFile::parse(&text).unwrap();
    assert_eq!(
        got.repositories,
        [Entry {
            name: "sec".into(),
            url: url.clone(),
            username: USER.into(),
            password: PASS.into(),
            pass_credentials_all: true,
            ..Entry::default()
        }]
    );
    assert_eq!(got.to_yaml().unwrap(), text);
    // The mode is 0600, as helm's.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&paths.repository_config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // Debug output never shows the password.
    assert!(!format!("{got:?}").contains(PASS));
}

#[test]
fn basic_auth_repository() {
    let (dir, path) = served_repo(&["0.3.0"]);
    let url = format!("{}{path}", auth_url());
    let home = Home::new("auth");
    let paths = home.paths();

    // Without credentials: 401, Helm's message, nothing cached or written.
    let err = rudder_repo::repo_add(&paths, entry("sec", &url), false).unwrap_err();
    let helm_err = home.helm().args(["repo", "add", "sec", &url]).output().unwrap();
    assert_eq!(format!("Error: {err}\n"), String::from_utf8_lossy(&helm_err.stderr));
    assert!(err.0.ends_with("/index.yaml : 401 Unauthorized"), "{err}");
    assert!(!paths.repository_cache.exists());
    assert!(!paths.repository_config.exists());

    // Wrong password: 401 again, the password is not in the message.
    let bad = Entry { username: USER.into(), password: "wrong-secret".into(), ..entry("sec", &url) };
    let err = rudder_repo::repo_add(&paths, bad, false).unwrap_err();
    assert!(err.0.contains("401 Unauthorized") && !err.0.contains("wrong-secret"), "{err}");

    let good = Entry { username: USER.into(), password: PASS.into(), ..entry("sec", &url) };
    rudder_repo::repo_add(&paths, good, false).unwrap();
    assert_eq!(std::fs::read(paths.cache_index_file("sec")).unwrap(), std::fs::read(dir.join("index.yaml")).unwrap());
    let dest = tempdir("auth-pull");
    let pulled = rudder_repo::pull(&paths, "sec/demo", &PullOptions { destination: dest, ..Default::default() }).unwrap();
    assert_eq!(std::fs::read(&pulled.path).unwrap(), std::fs::read(dir.join("demo-0.3.0.tgz")).unwrap());
    // An absolute URL listed in the cached index of a configured repository: that repository's
    // credentials are used (absolute URLs only count when the index has them absolute).
    let abs = format!("{url}/demo-0.3.0.tgz");
    let index = std::fs::read_to_string(dir.join("index.yaml")).unwrap();
    std::fs::write(dir.join("index.yaml"), index.replace("- demo-0.3.0.tgz", &format!("- {abs}"))).unwrap();
    rudder_repo::repo_update(&paths, &["sec"], &mut String::new()).unwrap();
    let dest = tempdir("auth-abs");
    let p = rudder_repo::pull(&paths, &abs, &PullOptions { destination: dest.clone(), ..Default::default() }).unwrap();
    assert_eq!(std::fs::read(p.path).unwrap(), std::fs::read(dir.join("demo-0.3.0.tgz")).unwrap());
    let theirs = tempdir("auth-abs-helm");
    run_ok(home.helm().args(["pull", &abs, "-d"]).arg(&theirs)).unwrap();
    let bare = Home::new("auth-abs-bare");
    let err = rudder_repo::pull(&bare.paths(), &abs, &PullOptions { destination: dest, ..Default::default() }).unwrap_err();
    let helm_err = bare.helm().args(["pull", &abs, "-d"]).arg(&theirs).output().unwrap();
    assert_eq!(format!("Error: {err}\n"), String::from_utf8_lossy(&helm_err.stderr));

    // Real helm pulls with Rudder's stored credentials.
    let theirs = tempdir("auth-pull-helm");
    run_ok(home.helm().args(["pull", "sec/demo", "-d"]).arg(&theirs)).unwrap();
    assert_eq!(std::fs::read(theirs.join("demo-0.3.0.tgz")).unwrap(), std::fs::read(&pulled.path).unwrap());

    // repo remove: helm's messages, the cache files go too.
    let err = rudder_repo::repo_remove(&paths, &["nope"]).unwrap_err();
    let helm_err = home.helm().args(["repo", "remove", "nope"]).output().unwrap();
    assert_eq!(format!("Error: {err}\n"), String::from_utf8_lossy(&helm_err.stderr));
    let out = rudder_repo::repo_remove(&paths, &["sec"]).unwrap();
    assert!(!paths.cache_index_file("sec").exists() && !paths.cache_charts_file("sec").exists());
    let err = rudder_repo::repo_remove(&paths, &["sec"]).unwrap_err();
    let helm_err = home.helm().args(["repo", "remove", "sec"]).output().unwrap();
    assert_eq!(format!("Error: {err}\n"), String::from_utf8_lossy(&helm_err.stderr));
    let h2 = Home::new("auth-rm");
    run_ok(h2.helm().args(["repo", "add", "sec", &url, "--username", USER, "--password", PASS])).unwrap();
    let helm_rm = run_ok(h2.helm().args(["repo", "remove", "sec"])).unwrap();
    assert_eq!(out, stdout(&helm_rm));
}

#[test]
fn pass_credentials_all_controls_cross_host_auth() {
    // The index on the open server points at the archive on the auth server (another host:port):
    // credentials go there only with pass_credentials_all.
    let (dir, path) = served_repo(&["0.4.0"]);
    let index = std::fs::read_to_string(dir.join("index.yaml")).unwrap();
    let abs = format!("{}{path}/demo-0.4.0.tgz", auth_url());
    let moved = index.replace("- demo-0.4.0.tgz", &format!("- {abs}"));
    assert_ne!(moved, index);
    std::fs::write(dir.join("index.yaml"), moved).unwrap();
    let url = format!("{}{path}", open_url());
    for all in [false, true] {
        let home = Home::new("passall");
        let paths = home.paths();
        let e = Entry { username: USER.into(), password: PASS.into(), pass_credentials_all: all, ..entry("x", &url) };
        rudder_repo::repo_add(&paths, e, false).unwrap();
        let dest = tempdir("passall-pull");
        let ours = rudder_repo::pull(&paths, "x/demo", &PullOptions { destination: dest.clone(), ..Default::default() });
        let theirs = home.helm().args(["pull", "x/demo", "-d"]).arg(tempdir("passall-helm")).output().unwrap();
        assert_eq!(ours.is_ok(), all, "{ours:?}");
        assert_eq!(theirs.status.success(), all);
        if let Err(e) = ours {
            assert_eq!(format!("Error: {e}\n"), String::from_utf8_lossy(&theirs.stderr));
            assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);
        }
    }
}

#[test]
fn tls_repository_with_ca_and_insecure() {
    let (dir, path) = served_repo(&["0.5.0"]);
    let url = format!("{}{path}", tls_url());
    let home = Home::new("tls");
    let paths = home.paths();
    // No CA: the certificate is not trusted.
    let err = rudder_repo::repo_add(&paths, entry("tls", &url), false).unwrap_err();
    assert!(err.0.starts_with(&format!("looks like {url:?} is not a valid chart repository or cannot be reached: Get ")), "{err}");
    assert!(!paths.repository_cache.exists());
    let helm_err = home.helm().args(["repo", "add", "tls", &url]).output().unwrap();
    assert!(!helm_err.status.success());

    let with_ca = Entry { ca_file: ca_file(), ..entry("tls", &url) };
    rudder_repo::repo_add(&paths, with_ca, false).unwrap();
    let dest = tempdir("tls-pull");
    let pulled = rudder_repo::pull(&paths, "tls/demo", &PullOptions { destination: dest, ..Default::default() }).unwrap();
    assert_eq!(std::fs::read(&pulled.path).unwrap(), std::fs::read(dir.join("demo-0.5.0.tgz")).unwrap());
    let theirs = tempdir("tls-pull-helm");
    run_ok(home.helm().args(["pull", "tls/demo", "-d"]).arg(&theirs)).unwrap();

    let home2 = Home::new("tls-insecure");
    let insecure = Entry { insecure_skip_tls_verify: true, ..entry("tls", &url) };
    rudder_repo::repo_add(&home2.paths(), insecure, false).unwrap();
    let dest = tempdir("tls-pull-insecure");
    let opts = PullOptions { destination: dest, insecure_skip_tls_verify: true, ..Default::default() };
    rudder_repo::pull(&home2.paths(), "tls/demo", &opts).unwrap();
}

#[test]
fn not_found_and_bad_index_leave_the_cache_alone() {
    let home = Home::new("errs");
    let paths = home.paths();
    let url = format!("{}/{}", open_url(), unique_name("missing"));
    // No repositories.yaml at all: helm's message for an unknown repository.
    let dest = tempdir("pull-norepo");
    let err = rudder_repo::pull(&paths, "nope/demo", &PullOptions { destination: dest.clone(), ..Default::default() })
        .unwrap_err();
    let helm_err = home.helm().args(["pull", "nope/demo", "-d"]).arg(&dest).output().unwrap();
    assert_eq!(format!("Error: {err}\n"), String::from_utf8_lossy(&helm_err.stderr));
    let err = rudder_repo::repo_update(&paths, &[], &mut String::new()).unwrap_err();
    let helm_err = home.helm().args(["repo", "update"]).output().unwrap();
    assert_eq!(format!("Error: {err}\n"), String::from_utf8_lossy(&helm_err.stderr));

    let err = rudder_repo::repo_add(&paths, entry("gone", &url), false).unwrap_err();
    let helm_err = home.helm().args(["repo", "add", "gone", &url]).output().unwrap();
    assert_eq!(format!("Error: {err}\n"), String::from_utf8_lossy(&helm_err.stderr));
    assert!(err.0.ends_with("/index.yaml : 404 Not Found"), "{err}");
    assert!(!paths.repository_cache.exists() && !paths.repository_config.exists());

    // Nothing listens / an untrusted certificate: Go's transport messages.
    for url in ["http://127.0.0.1:1".to_string(), tls_url()] {
        let err = rudder_repo::repo_add(&paths, entry("down", &url), false).unwrap_err();
        let helm_err = home.helm().args(["repo", "add", "down", &url]).output().unwrap();
        assert_eq!(format!("Error: {err}\n"), String::from_utf8_lossy(&helm_err.stderr));
    }

    // An index without apiVersion: rejected as helm does.
    let (dir, path) = served_repo(&["0.6.0"]);
    let index = std::fs::read_to_string(dir.join("index.yaml")).unwrap();
    let url = format!("{}{path}", open_url());
    // ... and indexes with fields repo.IndexFile does not have (YAML is read strictly), or empty.
    let bad = [
        index.replace("apiVersion: v1\n", ""),
        index.replace("apiVersion: v1\n", "apiVersion: v1\nextra: 1\n"),
        index.replace("    name: demo\n", "    name: demo\n    unknownField: x\n"),
        index.replace("    name: demo\n", "    name: demo\n    maintainers:\n    - name: m\n      phone: 1\n"),
        index.replace("    digest:", "    Digest:"),
        String::new(),
    ];
    for body in bad {
        std::fs::write(dir.join("index.yaml"), &body).unwrap();
        let ours = rudder_repo::repo_add(&paths, entry("bad", &url), false);
        let helm_out = Home::new("bad-helm").helm().args(["repo", "add", "bad", &url]).output().unwrap();
        match ours {
            Err(err) => assert_eq!(format!("Error: {err}\n"), String::from_utf8_lossy(&helm_out.stderr), "{body}"),
            Ok(msg) => {
                assert_eq!(format!("{msg}\n"), stdout(&helm_out), "{body}");
                rudder_repo::RepoFile::load(&paths.repository_config).map(|mut f| {
                    f.remove("bad");
                    f.write(&paths.repository_config).unwrap();
                }).unwrap();
                std::fs::remove_file(paths.cache_index_file("bad")).unwrap();
                std::fs::remove_file(paths.cache_charts_file("bad")).unwrap();
            }
        }
        assert!(!paths.cache_index_file("bad").exists());
    }

    // A good add, then the server loses the index: update fails, the cached index stays.
    std::fs::write(dir.join("index.yaml"), &index).unwrap();
    rudder_repo::repo_add(&paths, entry("ok", &url), false).unwrap();
    let cached = std::fs::read(paths.cache_index_file("ok")).unwrap();
    std::fs::remove_file(dir.join("index.yaml")).unwrap();
    let mut out = String::new();
    let err = rudder_repo::repo_update(&paths, &["ok"], &mut out).unwrap_err();
    let helm_out = home.helm().args(["repo", "update", "ok"]).output().unwrap();
    assert_eq!(out, stdout(&helm_out));
    assert_eq!(format!("Error: {err}\n"), String::from_utf8_lossy(&helm_out.stderr));
    assert_eq!(std::fs::read(paths.cache_index_file("ok")).unwrap(), cached);

    // The archive is gone from the server: pull fails with helm's 404 message, nothing written.
    std::fs::remove_file(dir.join("demo-0.6.0.tgz")).unwrap();
    let dest = tempdir("pull-404");
    let err = rudder_repo::pull(&paths, "ok/demo", &PullOptions { destination: dest.clone(), ..Default::default() })
        .unwrap_err();
    let helm_err = home.helm().args(["pull", "ok/demo", "-d"]).arg(&dest).output().unwrap();
    assert_eq!(format!("Error: {err}\n"), String::from_utf8_lossy(&helm_err.stderr));
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);
}

#[test]
fn digest_mismatch_is_refused() {
    let (dir, path) = served_repo(&["0.7.0"]);
    let index = std::fs::read_to_string(dir.join("index.yaml")).unwrap();
    let real = rudder_repo::sha256_hex(&std::fs::read(dir.join("demo-0.7.0.tgz")).unwrap());
    assert!(index.contains(&real));
    let fake = "f".repeat(64);
    std::fs::write(dir.join("index.yaml"), index.replace(&real, &fake)).unwrap();
    let home = Home::new("digest");
    let paths = home.paths();
    rudder_repo::repo_add(&paths, entry("d", &format!("{}{path}", open_url())), false).unwrap();
    let dest = tempdir("pull-digest");
    let err = rudder_repo::pull(&paths, "d/demo", &PullOptions { destination: dest.clone(), ..Default::default() })
        .unwrap_err();
    assert!(err.0.starts_with("digest mismatch for ") && err.0.contains(&fake) && err.0.contains(&real), "{err}");
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);
}
