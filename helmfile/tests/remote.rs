//! Repository and OCI charts in the helmfile layer, against the real helmfile v1.8.0 driving the
//! real helm v4.3.1 and the test bed's chart servers (`conformance/servers`: the HTTP chart
//! repository and the OCI registry):
//!
//! - `helmfile deps`: `helmfile.lock` byte for byte (the `generated:` timestamp normalised),
//!   stdout, stderr (helmfile's random temporary chart directory normalised), exit code; with
//!   several chart names helmfile orders the throwaway chart's dependencies by Go map iteration
//!   (random), which helm's `digest:` hashes: there the digest is left out and stderr compared
//!   as a multiset (Rudder writes them in name order);
//! - `helmfile template` pinned by an existing `helmfile.lock` (and a lock missing a chart);
//! - `helmfile fetch --output-dir`: the fetched tree byte for byte (paths, files, the empty
//!   `.lock` files), stdout, exit code, stderr as a multiset of lines (helmfile prepares charts
//!   from concurrent workers, so their log lines interleave in any order);
//! - air-gapped: `rudder bundle create -f helmfile.yaml` (the library calls behind it), then, in
//!   fresh helm homes with the state's repository pointed at an unreachable URL, `bundle import`
//!   and `helmfile template --offline` print what the real helmfile printed online; a bundle that
//!   lacks a chart fails offline with an error naming it.
//!
//! A missing server or oracle fails the test (no skips).

mod common;
use common::{mine, oracle_dir, real};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;


const CHARTS: &str = "/work/shared/corpus/charts";


fn scratch() -> PathBuf {
    std::env::temp_dir().join(format!("rudder-hfremote-{}", std::process::id()))
}

/// The helm and helmfile homes both tools see (fresh for each run).
fn homes() -> PathBuf {
    scratch().join("homes")
}

fn set_homes(h: &Path) {
    std::env::set_var("HELM_CONFIG_HOME", h.join("config"));
    std::env::set_var("HELM_CACHE_HOME", h.join("cache"));
    std::env::set_var("HELM_DATA_HOME", h.join("data"));
    std::env::set_var("HELMFILE_CACHE_HOME", h.join("hfcache"));
}



/// helmfile's temporary chart directory (`/tmp/<digits>`) and the lock's timestamp.
fn normalize(s: &str) -> String {
    let tmp = std::env::temp_dir().to_string_lossy().into_owned();
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(&format!("{tmp}/")) {
        out.push_str(&rest[..i]);
        let after = &rest[i + tmp.len() + 1..];
        let n = after.bytes().take_while(u8::is_ascii_digit).count();
        if n > 0 {
            out.push_str("<tmpdir>");
        } else {
            out.push_str(&rest[i..i + tmp.len() + 1]);
        }
        rest = &after[n..];
    }
    out.push_str(rest);
    out.lines()
        .map(|l| {
            if l.starts_with("generated: ") {
                "generated: <time>"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn sorted_lines(s: &str) -> String {
    let mut l: Vec<&str> = s.lines().collect();
    l.sort();
    l.join("\n")
}

fn snapshot(d: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if let Ok(b) = std::fs::read(&p) {
                out.insert(p.strip_prefix(root).unwrap().to_path_buf(), b);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(d, d, &mut out);
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

/// The test's chart servers: a repository directory of its own on the HTTP chart server
/// (mychart 0.1.0 and 0.2.0, podinfo; packaged and indexed by the real helm) and the same
/// mychart 0.1.0 pushed to the OCI registry. Returns (repo URL, repo dir, OCI base).
fn servers() -> (String, PathBuf, String) {
    let root = std::env::var("RUDDER_TEST_REPO_DIR")
        .expect("RUDDER_TEST_REPO_DIR unset: eval \"$(conformance/servers env)\" first");
    let url = std::env::var("RUDDER_TEST_REPO_URL")
        .expect("RUDDER_TEST_REPO_URL unset: eval \"$(conformance/servers env)\" first");
    let registry = std::env::var("RUDDER_TEST_REGISTRY")
        .expect("RUDDER_TEST_REGISTRY unset: eval \"$(conformance/servers env)\" first");
    let name = rudder_conformance::testbed::unique_name("hfremote");
    let repo = Path::new(&root).join(&name);
    std::fs::create_dir_all(&repo).unwrap();
    let helm = oracle_dir().join("helm");
    let pkg = |chart: &str, version: Option<&str>| {
        let mut c = Command::new(&helm);
        c.arg("package")
            .arg(Path::new(CHARTS).join(chart))
            .arg("-d")
            .arg(&repo);
        if let Some(v) = version {
            c.arg("--version").arg(v);
        }
        rudder_conformance::testbed::run_ok(&mut c).unwrap();
    };
    pkg("helm-create-default", None);
    pkg("helm-create-default", Some("0.2.0"));
    pkg("podinfo", None);
    rudder_conformance::testbed::run_ok(Command::new(&helm).arg("repo").arg("index").arg(&repo))
        .unwrap();
    rudder_conformance::testbed::run_ok(
        Command::new(&helm)
            .arg("push")
            .arg(repo.join("mychart-0.1.0.tgz"))
            .arg(format!("oci://{registry}/{name}"))
            .arg("--plain-http")
            .env("HELM_CONFIG_HOME", scratch().join("push-config")),
    )
    .unwrap();
    (format!("{url}/{name}"), repo, format!("{registry}/{name}"))
}

struct Case {
    label: &'static str,
    /// State files (name, text) and other input files of the case directory.
    files: Vec<(String, String)>,
    args: Vec<String>,
    /// Compare stderr as a multiset of lines.
    unordered: bool,
    /// helmfile writes the throwaway chart's dependencies in Go map order (random across runs
    /// when the state has several chart names), and helm's lock digest hashes that order:
    /// compare stderr as a multiset and leave the lock's `digest:` out.
    map_order: bool,
}

/// Runs a case with both tools from fresh homes and a fresh copy of its files.
fn compare(case: &Case) -> Vec<String> {
    let src = scratch().join("case-src");
    let _ = std::fs::remove_dir_all(&src);
    std::fs::create_dir_all(&src).unwrap();
    for (f, t) in &case.files {
        std::fs::create_dir_all(src.join(f).parent().unwrap()).unwrap();
        std::fs::write(src.join(f), t).unwrap();
    }
    let run = |which: &str| {
        let dir = scratch().join(format!("case-{which}"));
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(homes());
        copy_dir(&src, &dir);
        set_homes(&homes());
        let o = if which == "real" {
            real(&dir, &case.args)
        } else {
            mine(&dir, &case.args)
        };
        (o, snapshot(&dir))
    };
    let (r, rf) = run("real");
    let (m, mf) = run("mine");
    let mut diffs = Vec::new();
    if r.code != m.code {
        diffs.push(format!("exit code: helmfile {} rudder {}", r.code, m.code));
    }
    if normalize(&r.stdout) != normalize(&m.stdout) {
        diffs.push(format!(
            "stdout:\n--- helmfile\n{}\n--- rudder\n{}",
            r.stdout, m.stdout
        ));
    }
    let (rs, ms) = if case.unordered || case.map_order {
        (
            sorted_lines(&normalize(&r.stderr)),
            sorted_lines(&normalize(&m.stderr)),
        )
    } else {
        (normalize(&r.stderr), normalize(&m.stderr))
    };
    if rs != ms {
        diffs.push(format!(
            "stderr:\n--- helmfile\n{}\n--- rudder\n{}",
            r.stderr, m.stderr
        ));
    }
    let rk: Vec<&PathBuf> = rf.keys().collect();
    let mk: Vec<&PathBuf> = mf.keys().collect();
    if rk != mk {
        diffs.push(format!("files: helmfile {rk:?}\nrudder {mk:?}"));
    }
    for (p, b) in &rf {
        if let Some(mb) = mf.get(p) {
            let (a, c) = (String::from_utf8_lossy(b), String::from_utf8_lossy(mb));
            let digestless = |t: &str| -> String {
                let t = normalize(t);
                if !case.map_order {
                    return t;
                }
                t.lines()
                    .filter(|l| !l.starts_with("digest: "))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            if digestless(&a) != digestless(&c) {
                diffs.push(format!(
                    "{}:\n--- helmfile\n{a}\n--- rudder\n{c}",
                    p.display()
                ));
            }
        }
    }
    diffs
}

fn cases(url: &str, oci: &str) -> Vec<Case> {
    let repos = format!("repositories:\n- name: hfr\n  url: {url}\n");
    let oci_repo = format!("- name: ocr\n  url: {oci}\n  oci: true\n");
    let deps = format!(
        "{repos}releases:\n- name: a\n  namespace: r\n  chart: hfr/mychart\n  version: 0.1.0\n- name: b\n  chart: hfr/podinfo\n- name: c\n  chart: hfr/mychart\n  version: \"~0.1\"\n- name: d\n  chart: hfr/mychart\n"
    );
    let one = format!("{repos}releases:\n- name: solo\n  chart: hfr/podinfo\n  version: \">=6\"\n");
    let stale = "version: v1.8.0\ndependencies:\n  - name: podinfo\n    repository: http://127.0.0.1:1/old\n    version: 1.0.0\ndigest: sha256:0000000000000000000000000000000000000000000000000000000000000000\ngenerated: \"2020-01-01T00:00:00Z\"\n".to_string();
    let pinned_state = format!(
        "{repos}releases:\n- name: p\n  chart: hfr/mychart\n  values:\n  - replicaCount: 4\n- name: q\n  namespace: qq\n  chart: hfr/podinfo\n"
    );
    let pinned_lock = format!(
        "version: v1.8.0\ndependencies:\n  - name: mychart\n    repository: {url}\n    version: 0.1.0\n  - name: podinfo\n    repository: {url}\n    version: 6.14.1\ndigest: sha256:1111111111111111111111111111111111111111111111111111111111111111\ngenerated: \"2020-01-01T00:00:00Z\"\n"
    );
    let partial_lock = format!(
        "version: v1.8.0\ndependencies:\n  - name: mychart\n    repository: {url}\n    version: 0.1.0\ndigest: sha256:1111111111111111111111111111111111111111111111111111111111111111\ngenerated: \"2020-01-01T00:00:00Z\"\n"
    );
    let fetch = format!(
        "{repos}{oci_repo}releases:\n- name: a\n  namespace: r\n  chart: hfr/mychart\n  version: 0.1.0\n- name: b\n  chart: hfr/podinfo\n- name: c\n  chart: hfr/mychart\n  version: \"~0.1\"\n- name: o\n  namespace: ons\n  chart: oci://{oci}/mychart\n  version: 0.1.0\n- name: p\n  chart: ocr/mychart\n  version: 0.1.0\n- name: off\n  chart: hfr/podinfo\n  installed: false\n"
    );
    let f = |n: &str, t: &str| (n.to_string(), t.to_string());
    vec![
        Case {
            label: "deps: four releases, two charts, constraints",
            files: vec![f("helmfile.yaml", &deps)],
            args: args("deps"),
            unordered: false,
            map_order: true,
        },
        Case {
            label: "deps -l name=b (the lock still covers every release)",
            files: vec![f("helmfile.yaml", &deps)],
            args: args("deps -l name=b"),
            unordered: false,
            map_order: true,
        },
        Case {
            label: "deps: a local chart's dependencies and a repository chart",
            files: vec![
                f("helmfile.yaml", &format!("{repos}releases:\n- name: l\n  chart: ./local\n- name: b\n  chart: hfr/podinfo\n")),
                f("local/Chart.yaml", &format!("apiVersion: v2\nname: local\nversion: 1.0.0\ndependencies:\n- name: mychart\n  version: \"~0.1\"\n  repository: {url}\n")),
                f("local/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"),
            ],
            args: args("deps"),
            unordered: false,
            map_order: false,
        },
        Case {
            label: "deps: one chart, a stale lock rewritten",
            files: vec![f("helmfile.yaml", &one), f("helmfile.lock", &stale)],
            args: args("deps"),
            unordered: false,
            map_order: false,
        },
        Case {
            label: "deps: -f other.yaml writes other.lock",
            files: vec![f("other.yaml", &one)],
            args: args("-f other.yaml deps"),
            unordered: false,
            map_order: false,
        },
        Case {
            label: "deps: lockFilePath",
            files: vec![f("helmfile.yaml", &format!("lockFilePath: pinned.lock\n{one}"))],
            args: args("deps"),
            unordered: false,
            map_order: false,
        },
        Case {
            label: "deps --skip-deps (repositories still added)",
            files: vec![f("helmfile.yaml", &one)],
            args: args("deps --skip-deps"),
            unordered: false,
            map_order: false,
        },
        Case {
            label: "deps --skip-repos (repositories not added)",
            files: vec![f("helmfile.yaml", &one)],
            args: args("deps --skip-repos"),
            unordered: false,
            map_order: false,
        },
        Case {
            label: "template: versions pinned by helmfile.lock",
            files: vec![f("helmfile.yaml", &pinned_state), f("helmfile.lock", &pinned_lock)],
            args: args("template --skip-tests"),
            unordered: false,
            map_order: false,
        },
        Case {
            label: "template: helmfile.lock without a release's chart",
            files: vec![f("helmfile.yaml", &pinned_state), f("helmfile.lock", &partial_lock)],
            args: args("template"),
            unordered: false,
            map_order: false,
        },
        Case {
            label: "template: a chart of an OCI repository (oci: true)",
            files: vec![f(
                "helmfile.yaml",
                &format!("{repos}{oci_repo}releases:\n- name: p\n  chart: ocr/mychart\n  version: 0.1.0\n  values:\n  - replicaCount: 5\n"),
            )],
            args: args("template --oci-plain-http --skip-tests"),
            unordered: false,
            map_order: false,
        },
        Case {
            label: "deps: an OCI repository (oci: true)",
            files: vec![f(
                "helmfile.yaml",
                &format!("{repos}{oci_repo}releases:\n- name: p\n  chart: ocr/mychart\n  version: 0.1.0\n"),
            )],
            args: args("deps --oci-plain-http"),
            unordered: false,
            map_order: false,
        },
        Case {
            label: "template: a local chart with a repository dependency (built first)",
            files: vec![
                f("helmfile.yaml", "releases:\n- name: l\n  chart: ./local\n  values:\n  - podinfo:\n      replicaCount: 3\n"),
                f("local/Chart.yaml", &format!("apiVersion: v2\nname: local\nversion: 1.0.0\ndependencies:\n- name: podinfo\n  version: 6.14.1\n  repository: {url}\n")),
                f("local/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"),
            ],
            args: args("template --skip-tests"),
            unordered: false,
            map_order: false,
        },
        Case {
            label: "fetch --output-dir: repository and OCI charts",
            files: vec![f("helmfile.yaml", &fetch)],
            args: args("fetch --output-dir out --oci-plain-http"),
            unordered: true,
            map_order: false,
        },
        Case {
            label: "fetch --output-dir -l name=q (pinned by helmfile.lock)",
            files: vec![f("helmfile.yaml", &pinned_state), f("helmfile.lock", &pinned_lock)],
            args: args("fetch --output-dir out2 -l name=q"),
            unordered: true,
            map_order: false,
        },
        Case {
            label: "fetch --output-dir-template: repository, OCI and local charts",
            files: vec![
                f(
                    "helmfile.yaml",
                    &format!("{repos}releases:\n- name: a\n  chart: hfr/mychart\n  version: 0.1.0\n- name: o\n  chart: oci://{oci}/mychart\n  version: 0.1.0\n- name: l\n  namespace: lns\n  chart: ./local\n"),
                ),
                f("local/Chart.yaml", "apiVersion: v2\nname: local\nversion: 1.0.0\n"),
                f("local/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"),
            ],
            args: vec![
                "fetch".into(),
                "--oci-plain-http".into(),
                "--output-dir".into(),
                "got".into(),
                "--output-dir-template".into(),
                "{{ .OutputDir }}/{{ .Environment.Name }}/{{ .Release.Name }}-{{ .ChartName }}-{{ or .Release.Version \"none\" }}".into(),
            ],
            unordered: true,
            map_order: false,
        },
        Case {
            label: "fetch: a missing chart version",
            files: vec![f(
                "helmfile.yaml",
                &format!("{repos}releases:\n- name: x\n  chart: hfr/mychart\n  version: 9.9.9\n"),
            )],
            args: args("fetch --output-dir out"),
            unordered: true,
            map_order: false,
        },
    ]
}

#[test]
fn deps_template_fetch_match_real_helmfile() {
    let path = format!(
        "{}:{}",
        oracle_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::env::set_var("PATH", path);
    std::env::remove_var("HELM_NAMESPACE");
    std::env::remove_var("RUDDER_OFFLINE");
    let _ = std::fs::remove_dir_all(scratch());
    let (url, repo_dir, oci) = servers();
    // The served directory goes away with the test, passed or not.
    struct Served(PathBuf);
    impl Drop for Served {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _served = Served(repo_dir);
    let mut same = 0;
    let mut failed = Vec::new();
    let all = cases(&url, &oci);
    for case in &all {
        let diffs = compare(case);
        if diffs.is_empty() {
            same += 1;
            eprintln!("identical: {}", case.label);
        } else {
            eprintln!("DIFFERENT: {}\n{}", case.label, diffs.join("\n"));
            failed.push(case.label);
        }
    }
    eprintln!("remote charts: {same}/{} identical", all.len());
    air_gapped(&url, &oci);
    let _ = std::fs::remove_dir_all(scratch());
    assert!(
        failed.is_empty(),
        "cases differ from real helmfile: {failed:#?}"
    );
}

/// `bundle create -f` online, then `bundle import` + `template --offline` in fresh homes with
/// the repository unreachable: the real helmfile's online output, byte for byte.
fn air_gapped(url: &str, oci: &str) {
    let state = |repo_url: &str| {
        format!(
            "repositories:\n- name: hfr\n  url: {repo_url}\nreleases:\n- name: a\n  namespace: r\n  chart: hfr/mychart\n  version: \"~0.1\"\n  values:\n  - replicaCount: 2\n- name: b\n  chart: hfr/podinfo\n  set:\n  - name: ui.message\n    value: bundled\n- name: o\n  namespace: oci\n  chart: oci://{oci}/mychart\n  version: 0.1.0\n- name: l\n  chart: ./local\n  values:\n  - podinfo:\n      replicaCount: 3\n"
        )
    };
    // A local chart with a dependency on the repository (its Chart.yaml keeps the URL).
    let local = |dir: &Path| {
        std::fs::create_dir_all(dir.join("local/templates")).unwrap();
        std::fs::write(
            dir.join("local/Chart.yaml"),
            format!("apiVersion: v2\nname: local\nversion: 1.0.0\ndependencies:\n- name: podinfo\n  version: \">=6\"\n  repository: {url}\n"),
        )
        .unwrap();
        std::fs::write(
            dir.join("local/templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
        )
        .unwrap();
    };
    let lock = format!(
        "version: v1.8.0\ndependencies:\n  - name: mychart\n    repository: {url}\n    version: 0.1.0\n  - name: podinfo\n    repository: {url}\n    version: 6.14.1\ndigest: sha256:1111111111111111111111111111111111111111111111111111111111111111\ngenerated: \"2020-01-01T00:00:00Z\"\n"
    );
    let online = scratch().join("bundle-online");
    let _ = std::fs::remove_dir_all(&online);
    std::fs::create_dir_all(&online).unwrap();
    std::fs::write(online.join("helmfile.yaml"), state(url)).unwrap();
    std::fs::write(online.join("helmfile.lock"), &lock).unwrap();
    local(&online);
    let tmpl = args("template --skip-tests --oci-plain-http");
    // The real helmfile online.
    let _ = std::fs::remove_dir_all(homes());
    set_homes(&homes());
    let expected = real(&online, &tmpl);
    assert_eq!(
        expected.code, 0,
        "real helmfile template: {}",
        expected.stderr
    );
    // Bundles made online: everything, and only release a's chart.
    let _ = std::fs::remove_dir_all(homes());
    set_homes(&homes());
    let make = |selectors: Vec<String>, out: &Path| {
        let load = rudder_helmfile::LoadOptions {
            selectors,
            ..Default::default()
        };
        let plan = rudder_helmfile::bundle::plan(None, &online, &load, true, false)
            .unwrap_or_else(|e| panic!("bundle plan: {e}"));
        let items: Vec<(String, rudder_repo::PullOptions)> = plan
            .sources
            .iter()
            .map(|s| (s.reference.clone(), s.options.clone()))
            .collect();
        let paths = rudder_repo::HelmPaths::from_env();
        let lines = rudder_repo::bundle::create_items(&paths, &items, out)
            .unwrap_or_else(|e| panic!("bundle create: {e}"));
        eprintln!("{lines}");
        plan.sources.len()
    };
    let full = scratch().join("full.bundle");
    let part = scratch().join("part.bundle");
    assert_eq!(
        make(vec![], &full),
        4,
        "four releases: three charts, one dependency"
    );
    assert_eq!(
        make(vec!["name=a".into(), "name=o".into()], &part),
        2,
        "two selected releases"
    );
    // The air-gapped machine: fresh homes, the repository unreachable, --offline.
    let offline = scratch().join("bundle-offline");
    let _ = std::fs::remove_dir_all(&offline);
    std::fs::create_dir_all(&offline).unwrap();
    std::fs::write(
        offline.join("helmfile.yaml"),
        state("http://127.0.0.1:9/unreachable"),
    )
    .unwrap();
    let offline_lock = lock.replace(url, "http://127.0.0.1:9/unreachable");
    std::fs::write(offline.join("helmfile.lock"), &offline_lock).unwrap();
    local(&offline);
    // The local chart's Chart.lock as the online build wrote it (its charts/ left behind).
    std::fs::copy(
        online.join("local/Chart.lock"),
        offline.join("local/Chart.lock"),
    )
    .unwrap();
    // The same home paths as online (the OCI chart's cache path is in the log), emptied.
    let fresh = homes();
    let _ = std::fs::remove_dir_all(&fresh);
    set_homes(&fresh);
    let paths = rudder_repo::HelmPaths::from_env();
    eprintln!("{}", rudder_repo::bundle::import(&paths, &full).unwrap());
    let mut off = tmpl.clone();
    off.push("--offline".into());
    let got = mine(&offline, &off);
    assert_eq!(got.code, 0, "offline template failed: {}", got.stderr);
    assert!(
        expected.stdout == got.stdout,
        "offline template differs from the real helmfile online:\n--- helmfile\n{}\n--- rudder\n{}",
        expected.stdout,
        got.stdout
    );
    // stderr: the same, less the `helm repo add` lines (no repository is contacted offline).
    let online_log: String = expected
        .stderr
        .lines()
        .filter(|l| {
            !l.starts_with("Adding repo ") && !l.ends_with("has been added to your repositories")
        })
        // helm dependency build's repository refresh (nothing to refresh offline).
        .filter(|l| {
            !l.starts_with("Getting updates for unmanaged")
                && !l.starts_with("...Successfully got an update")
                && !l.starts_with("Hang tight while we grab")
                && !l.starts_with("Update Complete.")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        online_log == got.stderr,
        "offline template log differs:\n--- helmfile (online, repo lines dropped)\n{online_log}\n--- rudder\n{}",
        got.stderr
    );
    eprintln!(
        "air-gapped template: identical ({} bytes)",
        got.stdout.len()
    );
    // A bundle without podinfo (releases a and o only): the offline error names the chart and
    // the version.
    let _ = std::fs::remove_dir_all(&fresh);
    set_homes(&fresh);
    let paths = rudder_repo::HelmPaths::from_env();
    rudder_repo::bundle::import(&paths, &part).unwrap();
    // Release l's local chart needs podinfo too: its dependency build fails first, naming it,
    // locked (Chart.lock) or not.
    for (lock, version) in [(true, "6.14.1"), (false, ">=6")] {
        let _ = std::fs::remove_dir_all(offline.join("local/charts"));
        if !lock {
            std::fs::remove_file(offline.join("local/Chart.lock")).unwrap();
        }
        let miss = mine(&offline, &off);
        assert_eq!(
            miss.code, 1,
            "missing dependency must fail: {}",
            miss.stdout
        );
        assert!(
            miss.stderr.contains(&format!("offline: chart \"podinfo (repository {url})\" version \"{version}\" is not in the local cache")),
            "unclear offline error: {}",
            miss.stderr
        );
        eprintln!(
            "air-gapped, dependency missing from the bundle: {}",
            miss.stderr
                .lines()
                .find(|l| l.contains("offline:"))
                .unwrap_or("")
        );
    }
    // Without release l, the repository chart b is the one missing.
    let miss = mine(&offline, &[off.clone(), args("-l name!=l")].concat());
    assert_eq!(miss.code, 1, "missing chart must fail: {}", miss.stdout);
    assert!(
        miss.stderr.contains(
            "offline: chart \"hfr/podinfo\" version \"6.14.1\" is not in the local cache"
        ),
        "unclear offline error: {}",
        miss.stderr
    );
    eprintln!(
        "air-gapped, chart missing from the bundle: {}",
        miss.stderr
            .lines()
            .find(|l| l.contains("offline:"))
            .unwrap_or("")
    );
}
