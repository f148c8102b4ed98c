//! Rudder's OCI pull against the real docker-registry servers (127.0.0.1:5055 open, :5056 with
//! htpasswd auth): charts pushed by real helm v4 are pulled by Rudder byte for byte, and compared
//! with real helm's own pull.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use rudder_conformance::testbed::{oracle, run_ok, unique_name, workspace_root};
use rudder_repo::{HelmPaths, PullOptions};

const USER: &str = "rudder";
const PASS: &str = "rudder-test-pass";

fn registry(var: &str, def: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| def.to_string())
}

fn tempdir(prefix: &str) -> PathBuf {
    let dir = workspace_root().join("target/tmp").join(unique_name(prefix));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Home {
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
        Home { vars }
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

/// Package `demo` at each version with real helm and push it to `repo`; returns the archives.
fn push(home: &Home, repo: &str, versions: &[&str]) -> Vec<PathBuf> {
    let src = tempdir("oci-src");
    let chart = src.join("demo");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: demo\nversion: 0.0.1\n").unwrap();
    std::fs::write(chart.join("templates/cm.yaml"), "kind: ConfigMap\n").unwrap();
    let out = tempdir("oci-pkg");
    versions
        .iter()
        .map(|v| {
            run_ok(home.helm().args(["package", chart.to_str().unwrap(), "--version", v, "-d"]).arg(&out)).unwrap();
            let tgz = out.join(format!("demo-{v}.tgz"));
            run_ok(home.helm().args(["push", tgz.to_str().unwrap(), repo, "--plain-http"])).unwrap();
            tgz
        })
        .collect()
}

#[test]
fn pulls_what_real_helm_pushed() {
    let host = registry("RUDDER_TEST_REGISTRY", "127.0.0.1:5055");
    let home = Home::new("oci");
    let repo = format!("oci://{host}/{}", unique_name("charts"));
    let tgzs = push(&home, &repo, &["0.1.0", "0.2.0+build.7", "1.0.0-rc.1"]);
    let chart = format!("{repo}/demo");
    for (version, devel, want_file, want_idx) in [
        ("", false, "demo-0.2.0+build.7.tgz", 1),
        ("0.1.0", false, "demo-0.1.0.tgz", 0),
        ("0.2.0+build.7", false, "demo-0.2.0+build.7.tgz", 1),
        ("~0.1", false, "demo-0.1.0.tgz", 0),
        ("", true, "demo-1.0.0-rc.1.tgz", 2),
    ] {
        let ours = tempdir("oci-ours");
        let opts = PullOptions { version: version.into(), devel, destination: ours.clone(), plain_http: true, ..Default::default() };
        let pulled = rudder_repo::pull(&home.paths(), &chart, &opts).unwrap();
        assert_eq!(pulled.path, ours.join(want_file), "{version}");
        let bytes = std::fs::read(&pulled.path).unwrap();
        assert_eq!(bytes, std::fs::read(&tgzs[want_idx]).unwrap(), "{version}");
        let theirs = tempdir("oci-helm");
        let mut cmd = home.helm();
        cmd.args(["pull", &chart, "--plain-http", "-d"]).arg(&theirs);
        if !version.is_empty() {
            cmd.args(["--version", version]);
        }
        if devel {
            cmd.arg("--devel");
        }
        run_ok(&mut cmd).unwrap();
        assert_eq!(std::fs::read(theirs.join(want_file)).unwrap(), bytes, "{version}");
    }
    // Registry errors in helm's words: an unknown repository (tag listing), an unknown tag,
    // nothing listening.
    for (reference, version) in [
        (format!("oci://{host}/{}/demo", unique_name("nonexistent")), ""),
        (format!("{chart}"), "9.9.9"),
        ("oci://127.0.0.1:1/x/demo".to_string(), "1.0.0"),
    ] {
        let dest = tempdir("oci-err");
        let opts = PullOptions { version: version.into(), destination: dest.clone(), plain_http: true, ..Default::default() };
        let err = rudder_repo::pull(&home.paths(), &reference, &opts).unwrap_err();
        let mut cmd = home.helm();
        cmd.args(["pull", &reference, "--plain-http", "-d"]).arg(&dest);
        if !version.is_empty() {
            cmd.args(["--version", version]);
        }
        let helm_err = cmd.output().unwrap();
        assert_eq!(format!("Error: {err}\n"), String::from_utf8_lossy(&helm_err.stderr));
        assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);
    }
    // A tag in the reference.
    let ours = tempdir("oci-tag");
    let opts = PullOptions { destination: ours.clone(), plain_http: true, ..Default::default() };
    let pulled = rudder_repo::pull(&home.paths(), &format!("{chart}:0.1.0"), &opts).unwrap();
    assert_eq!(std::fs::read(pulled.path).unwrap(), std::fs::read(&tgzs[0]).unwrap());
    // No such version: an error, nothing written.
    let dest = tempdir("oci-none");
    let opts = PullOptions { version: "5.x".into(), destination: dest.clone(), plain_http: true, ..Default::default() };
    let err = rudder_repo::pull(&home.paths(), &chart, &opts).unwrap_err();
    let helm_err = home.helm().args(["pull", &chart, "--plain-http", "--version", "5.x", "-d"]).arg(&dest).output().unwrap();
    assert_eq!(format!("Error: {err}\n"), String::from_utf8_lossy(&helm_err.stderr));
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);
}

#[test]
fn auth_registry_uses_credentials_from_options_or_helm_login() {
    let host = registry("RUDDER_TEST_REGISTRY_AUTH", "127.0.0.1:5056");
    let home = Home::new("oci-auth");
    run_ok(home.helm().args(["registry", "login", &host, "--plain-http", "-u", USER, "-p", PASS])).unwrap();
    let repo = format!("oci://{host}/{}", unique_name("charts"));
    let tgzs = push(&home, &repo, &["0.3.0"]);
    let chart = format!("{repo}/demo");
    // Credentials from helm's registry config.json.
    let dest = tempdir("oci-auth-login");
    let opts = PullOptions { version: "0.3.0".into(), destination: dest, plain_http: true, ..Default::default() };
    let pulled = rudder_repo::pull(&home.paths(), &chart, &opts).unwrap();
    assert_eq!(std::fs::read(&pulled.path).unwrap(), std::fs::read(&tgzs[0]).unwrap());
    // Credentials from options, with tag listing.
    let fresh = Home::new("oci-auth-fresh");
    let dest = tempdir("oci-auth-opts");
    let opts = PullOptions {
        destination: dest,
        plain_http: true,
        username: USER.into(),
        password: PASS.into(),
        ..Default::default()
    };
    let pulled = rudder_repo::pull(&fresh.paths(), &chart, &opts).unwrap();
    assert_eq!(std::fs::read(&pulled.path).unwrap(), std::fs::read(&tgzs[0]).unwrap());
    // None: 401, no password in the message, nothing written.
    let dest = tempdir("oci-auth-none");
    let opts = PullOptions { version: "0.3.0".into(), destination: dest.clone(), plain_http: true, ..Default::default() };
    let err = rudder_repo::pull(&fresh.paths(), &chart, &opts).unwrap_err();
    let helm_err = fresh.helm().args(["pull", &chart, "--plain-http", "--version", "0.3.0", "-d"]).arg(tempdir("x")).output().unwrap();
    assert_eq!(format!("Error: {err}\n"), String::from_utf8_lossy(&helm_err.stderr));
    let wrong = PullOptions { username: USER.into(), password: "bad-secret".into(), ..opts.clone() };
    let err = rudder_repo::pull(&fresh.paths(), &chart, &wrong).unwrap_err();
    assert!(err.0.contains("401") && !err.0.contains("bad-secret"), "{err}");
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);
}

#[test]
fn registry_login_and_logout_write_helms_config() {
    let host = registry("RUDDER_TEST_REGISTRY_AUTH", "127.0.0.1:5056");
    let ours = Home::new("login-ours");
    let theirs = Home::new("login-helm");
    let plain = PullOptions { plain_http: true, ..Default::default() };
    // Wrong password: helm's error, nothing stored.
    let err = rudder_repo::oci::registry_login(&ours.paths(), &host, USER, "nope", &plain).unwrap_err();
    let helm_err = theirs.helm().args(["registry", "login", &host, "--plain-http", "-u", USER, "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"nope")?;
            c.wait_with_output()
        })
        .unwrap();
    let helm_stderr = String::from_utf8_lossy(&helm_err.stderr);
    assert!(helm_stderr.contains(&format!("Error: {err}\n")), "{helm_stderr}");
    assert!(!err.0.contains("nope"));
    assert!(!ours.paths().registry_config.exists());
    // Good password: same file as helm's, byte for byte.
    let msg = rudder_repo::oci::registry_login(&ours.paths(), &host, USER, PASS, &plain).unwrap();
    let out = run_ok(theirs.helm().args(["registry", "login", &host, "--plain-http", "-u", USER, "-p", PASS])).unwrap();
    assert_eq!(format!("{msg}\n"), String::from_utf8_lossy(&out.stdout));
    let read = |h: &Home| std::fs::read(h.paths().registry_config).unwrap();
    assert_eq!(read(&ours), read(&theirs));
    let msg = rudder_repo::oci::registry_logout(&ours.paths(), &host).unwrap();
    let out = run_ok(theirs.helm().args(["registry", "logout", &host])).unwrap();
    assert_eq!(format!("{msg}\n"), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    assert_eq!(read(&ours), read(&theirs));
}

#[test]
fn push_gives_helms_manifest_and_helm_pulls_it() {
    let home = Home::new("oci-push");
    let src = tempdir("oci-push-src");
    let chart = src.join("rich");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: rich\nversion: 1.2.3+meta.4\nappVersion: \"9\"\ndescription: A <rich> & chart\nhome: https://example.invalid\nsources: [https://example.invalid/a, https://example.invalid/b]\nkeywords: [k]\nmaintainers:\n- name: Ann\n  email: ann@example.invalid\n- name: Bob\nannotations:\n  org.opencontainers.image.title: ignored\n  custom.io/x: \"y\"\nkubeVersion: \">=1.20.0-0\"\ndependencies:\n- name: sub\n  version: 0.1.0\n  repository: file://sub\n  import-values: [a]\n",
    )
    .unwrap();
    std::fs::write(chart.join("templates/cm.yaml"), "kind: ConfigMap\n").unwrap();
    std::fs::create_dir_all(chart.join("charts/sub")).unwrap();
    std::fs::write(chart.join("charts/sub/Chart.yaml"), "apiVersion: v2\nname: sub\nversion: 0.1.0\n").unwrap();
    let out = tempdir("oci-push-pkg");
    run_ok(home.helm().args(["package", chart.to_str().unwrap(), "-d"]).arg(&out)).unwrap();
    let tgz = out.join("rich-1.2.3+meta.4.tgz");

    for (host, login) in [(registry("RUDDER_TEST_REGISTRY", "127.0.0.1:5055"), false), (registry("RUDDER_TEST_REGISTRY_AUTH", "127.0.0.1:5056"), true)] {
        if login {
            run_ok(home.helm().args(["registry", "login", &host, "--plain-http", "-u", USER, "-p", PASS])).unwrap();
        }
        let ours_repo = format!("oci://{host}/{}", unique_name("rudder"));
        let theirs_repo = format!("oci://{host}/{}", unique_name("helm"));
        let opts = PullOptions { plain_http: true, ..Default::default() };
        let pushed = rudder_repo::oci::push(&home.paths(), &tgz, &ours_repo, &opts).unwrap();
        let helm_push = run_ok(home.helm().args(["push", tgz.to_str().unwrap(), &theirs_repo, "--plain-http"])).unwrap();
        let helm_text = format!("{}{}", String::from_utf8_lossy(&helm_push.stdout), String::from_utf8_lossy(&helm_push.stderr));
        let helm_digest = helm_text.lines().find_map(|l| l.strip_prefix("Digest: ")).unwrap();
        // Same archive, same mtime: the same manifest, so the same digest.
        assert_eq!(pushed.digest, helm_digest, "{helm_text}");
        assert!(helm_text.contains(&pushed.output.replace(&ours_repo[6..], &theirs_repo[6..])), "{helm_text}\nvs\n{}", pushed.output);
        // Real helm pulls what Rudder pushed.
        let dest = tempdir("oci-push-pull");
        run_ok(home.helm().args(["pull", &format!("{ours_repo}/rich"), "--version", "1.2.3+meta.4", "--plain-http", "-d"]).arg(&dest)).unwrap();
        assert_eq!(std::fs::read(dest.join("rich-1.2.3+meta.4.tgz")).unwrap(), std::fs::read(&tgz).unwrap());
    }
}
