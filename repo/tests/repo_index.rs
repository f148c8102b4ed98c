//! `repo index`: Rudder's index.yaml for a directory of charts packaged by real helm equals real
//! helm's `helm repo index` output (timestamps aside), with and without `--url`.

use std::path::PathBuf;
use std::process::Command;

use rudder_conformance::testbed::{oracle, run_ok, unique_name, workspace_root};

fn tempdir(prefix: &str) -> PathBuf {
    let dir = workspace_root().join("target/tmp").join(unique_name(prefix));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn helm(home: &std::path::Path) -> Command {
    let mut c = Command::new(oracle("helm"));
    c.env_clear();
    c.env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in [("HOME", "home"), ("HELM_CONFIG_HOME", "config"), ("HELM_CACHE_HOME", "cache"), ("HELM_DATA_HOME", "data")] {
        c.env(k, home.join(v));
    }
    c
}

/// Drop the clock-dependent lines.
fn normalize(s: &str) -> String {
    s.lines()
        .filter(|l| !l.trim_start().starts_with("created:") && !l.starts_with("generated:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn index_matches_helm_repo_index() {
    let home = tempdir("idx-home");
    let src = tempdir("idx-src");
    let charts = [
        ("alpha", "apiVersion: v2\nname: alpha\nversion: 1.0.0\nappVersion: \"2.1\"\ndescription: The first\nkeywords: [a, b]\nhome: https://example.invalid\nsources: [https://example.invalid/src]\nmaintainers:\n- name: Ann\n  email: ann@example.invalid\n- name: Bob\n  url: https://bob.invalid\nannotations:\n  x.io/y: z\nkubeVersion: \">=1.20.0-0\"\ntype: application\nicon: https://example.invalid/i.png\n"),
        ("beta", "apiVersion: v1\nname: beta\nversion: 0.1.0-rc.1\ndeprecated: true\n"),
        ("gamma", "apiVersion: v2\nname: gamma\nversion: 3.0.0\ndependencies:\n- name: alpha\n  version: ~1.0\n  repository: https://example.invalid/charts\n  condition: alpha.enabled\n  tags: [t1]\n  alias: al\n  import-values: [data, {child: c, parent: p}]\n"),
    ];
    let dir = tempdir("idx-repo");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    for (name, chart_yaml) in charts {
        let c = src.join(name);
        std::fs::create_dir_all(c.join("templates")).unwrap();
        std::fs::write(c.join("Chart.yaml"), chart_yaml).unwrap();
        std::fs::write(c.join("templates/cm.yaml"), "kind: ConfigMap\n").unwrap();
        if name == "gamma" {
            std::fs::create_dir_all(c.join("charts/alpha")).unwrap();
            std::fs::write(c.join("charts/alpha/Chart.yaml"), "apiVersion: v2\nname: alpha\nversion: 1.0.0\n").unwrap();
        }
        run_ok(helm(&home).args(["package", c.to_str().unwrap(), "-d"]).arg(&dir)).unwrap();
    }
    // A second version in a subdirectory, and a file that is not a chart.
    let c = src.join("alpha");
    run_ok(helm(&home).args(["package", c.to_str().unwrap(), "--version", "1.2.0", "-d"]).arg(dir.join("sub"))).unwrap();
    std::fs::write(dir.join("broken.tgz"), b"not a chart").unwrap();

    for url in ["", "https://charts.example.invalid/base/"] {
        let mut cmd = helm(&home);
        cmd.args(["repo", "index"]).arg(&dir);
        if !url.is_empty() {
            cmd.args(["--url", url]);
        }
        run_ok(&mut cmd).unwrap();
        let theirs = std::fs::read_to_string(dir.join("index.yaml")).unwrap();
        std::fs::remove_file(dir.join("index.yaml")).unwrap();
        let idx = rudder_repo::index::repo_index(&dir, url).unwrap();
        let ours = std::fs::read_to_string(dir.join("index.yaml")).unwrap();
        assert_eq!(normalize(&ours), normalize(&theirs), "url {url:?}");
        assert_eq!(idx.entries["alpha"].len(), 2);
        // Rudder reads its own output back.
        let back = rudder_repo::IndexFile::load(&dir.join("index.yaml")).unwrap();
        assert_eq!(back.get("alpha", "").unwrap().version(), "1.2.0");
        std::fs::remove_file(dir.join("index.yaml")).unwrap();
    }
}
