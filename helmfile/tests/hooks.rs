//! helmfile hooks (`hooks:` of releases and of the state) and the commands `lint`, `deps`,
//! `fetch` and `test`, byte for byte against the real helmfile v1.8.0 driving the real helm
//! v4.3.1: stdout, stderr, exit code and every file written (the hooks append to `log.txt`,
//! so the order in which they fired is compared too).
//!
//! Cases live under tests/hooks-data/: each a state file and a `cmds` file, one command line
//! per line; all lines of a case run one after the other in one scratch copy of it (so a later
//! line sees what an earlier one deployed), first with helmfile, then with rudder. A case with
//! a `cluster` file deploys to the test bed: `@NS@` in its files becomes a fresh namespace
//! (`hfhooks-...`), and the releases are uninstalled with the real helm between the two runs.
//!
//! Normalised on both sides alike: helmfile's temporary values file names, the clock
//! (timestamps, durations) and the order of `Building dependency` runs (concurrent workers).

mod common;
use common::{mine, oracle_dir, real};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rudder_conformance::testbed::{self, oracle, unique_name};
use rudder_helmfile::commands::Outcome;

const TEMPDIR: &str = "/tmp/rudder-hfhooks-tmpvalues";


fn homes() -> PathBuf {
    std::env::temp_dir().join("rudder-hfhooks-homes")
}



fn normalize(s: &str) -> String {
    let re_time = regex::Regex::new(r"\d{4}-\d{2}-\d{2} [\d:.]+ \+0000 UTC").unwrap();
    let re_ansic =
        regex::Regex::new(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d [\d:]{8} \d{4}")
            .unwrap();
    let re_dur = regex::Regex::new(r" +\d+s$").unwrap();
    let re_tmp = regex::Regex::new(r"/tmp/helmfile\d+").unwrap();
    let re_generated = regex::Regex::new(r#"(?m)^generated: "[^"]+"$"#).unwrap();
    let mut lines: Vec<String> = s
        .split_inclusive('\n')
        .map(|l| {
            if l.contains(TEMPDIR) {
                return "<temporary values file>\n".to_string();
            }
            let l = re_time.replace_all(l, "TIME");
            let l = re_ansic.replace_all(&l, "ANSIC");
            let l = re_tmp.replace_all(&l, "/tmp/helmfileN");
            let l = re_generated.replace_all(&l, "generated: TIME");
            let nl = l.ends_with('\n');
            let l = re_dur
                .replace_all(l.trim_end_matches('\n'), " Ns")
                .into_owned();
            if nl {
                format!("{l}\n")
            } else {
                l
            }
        })
        .collect();
    // helm's stdout and stderr race through two pipes into COMBINED OUTPUT: its lines in any
    // order.
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "COMBINED OUTPUT:" {
            let depth = lines[i].len() - lines[i].trim_start().len() + 2;
            let deeper = |l: &str| l.len() - l.trim_start().len() >= depth && !l.trim().is_empty();
            let mut j = i + 1;
            while j < lines.len() && deeper(&lines[j]) {
                j += 1;
            }
            lines[i + 1..j].sort();
            i = j;
        } else {
            i += 1;
        }
    }
    let mut i = 0;
    while i < lines.len() {
        if lines[i].starts_with("Building dependency ") {
            let mut j = i;
            while j < lines.len() && lines[j].starts_with("Building dependency ") {
                j += 1;
            }
            lines[i..j].sort();
            i = j;
        } else {
            i += 1;
        }
    }
    lines.concat()
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
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
    walk(dir, dir, &mut out);
    out
}

/// Copies `from` to `to`, `@NS@` replaced by `ns` in every file.
fn copy_dir(from: &Path, to: &Path, ns: &str) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t, ns);
        } else {
            let text = std::fs::read(&p).unwrap();
            let text = match String::from_utf8(text) {
                Ok(s) => s.replace("@NS@", ns).into_bytes(),
                Err(e) => e.into_bytes(),
            };
            std::fs::write(&t, text).unwrap();
        }
    }
}

struct Case {
    name: String,
    src: PathBuf,
    lines: Vec<String>,
    cluster: bool,
}

fn cases() -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hooks-data");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|d| Case {
            name: d.file_name().unwrap().to_string_lossy().into_owned(),
            lines: std::fs::read_to_string(d.join("cmds"))
                .unwrap_or_else(|_| panic!("{} has no cmds file", d.display()))
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
                .map(String::from)
                .collect(),
            cluster: d.join("cluster").exists(),
            src: d,
        })
        .collect()
}

/// Uninstalls every release of `ns` with the real helm.
fn uninstall_all(ns: &str) {
    let h = homes();
    let helm = || testbed::testbed().command(oracle("helm"), &h);
    let out = testbed::run_ok(helm().args([
        "list",
        "-q",
        "--deployed",
        "--failed",
        "--pending",
        "-n",
        ns,
    ]))
    .expect("helm list");
    for r in String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
    {
        testbed::run_ok(helm().args(["uninstall", r, "-n", ns])).expect("helm uninstall");
    }
}

/// One tool's run of every line of a case: the outcomes and the files written.
type Run = (Vec<Outcome>, BTreeMap<PathBuf, Vec<u8>>);

fn run_case(case: &Case, ns: &str, which: &str) -> Run {
    let scratch = std::env::temp_dir().join(format!("rudder-hfhooks-case-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let _ = std::fs::remove_dir_all(homes());
    let _ = std::fs::remove_dir_all(TEMPDIR);
    std::fs::create_dir_all(TEMPDIR).unwrap();
    copy_dir(&case.src, &scratch, ns);
    let before = snapshot(&scratch);
    let mut outs = Vec::new();
    for line in &case.lines {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        outs.push(if which == "helmfile" {
            real(&scratch, &args)
        } else {
            mine(&scratch, &args)
        });
    }
    let mut after = snapshot(&scratch);
    after.retain(|k, v| before.get(k) != Some(v));
    std::env::set_current_dir(std::env::temp_dir()).unwrap();
    let _ = std::fs::remove_dir_all(&scratch);
    if case.cluster {
        uninstall_all(ns);
    }
    (outs, after)
}

fn diff_runs(case: &Case, want: &Run, got: &Run) -> Vec<String> {
    let mut diffs = Vec::new();
    for (i, line) in case.lines.iter().enumerate() {
        let (w, g) = (&want.0[i], &got.0[i]);
        for (what, a, b) in [
            ("stdout", &w.stdout, &g.stdout),
            ("stderr", &w.stderr, &g.stderr),
        ] {
            let (mut a, mut b) = (normalize(a), normalize(b));
            if what == "stderr" && command_of(line) == "write-values" {
                // helmfile writes values files in Go map order: its lines come in any order.
                a = sorted_lines(&a);
                b = sorted_lines(&b);
            }
            if a != b {
                diffs.push(format!(
                    "`{line}` {what} differs:\n--- helmfile\n{a}--- rudder\n{b}"
                ));
            }
        }
        if w.code != g.code {
            diffs.push(format!(
                "`{line}` exit code: helmfile {} rudder {}",
                w.code, g.code
            ));
        }
    }
    if want.1.keys().collect::<Vec<_>>() != got.1.keys().collect::<Vec<_>>() {
        diffs.push(format!(
            "files written differ:\n  helmfile {:?}\n  rudder   {:?}",
            want.1.keys(),
            got.1.keys()
        ));
    } else {
        for (k, v) in &want.1 {
            if k.extension().is_some_and(|e| e == "tgz") {
                let (a, b) = (tgz_entries(v), tgz_entries(&got.1[k]));
                if a != b {
                    diffs.push(format!(
                        "{} differs (archive entries):\n--- helmfile\n{a}--- rudder\n{b}",
                        k.display()
                    ));
                }
                continue;
            }
            let text = |b: &[u8]| normalize(&String::from_utf8_lossy(b));
            if text(&got.1[k]) != text(v) {
                diffs.push(format!(
                    "{} differs:\n--- helmfile\n{}--- rudder\n{}",
                    k.display(),
                    normalize(&String::from_utf8_lossy(v)),
                    normalize(&String::from_utf8_lossy(&got.1[k]))
                ));
            }
        }
    }
    diffs
}

/// A chart archive's entry names and contents (`tar`): gzip and tar headers carry times.
fn tgz_entries(bytes: &[u8]) -> String {
    let f = std::env::temp_dir().join(format!("rudder-hfhooks-{}.tgz", std::process::id()));
    std::fs::write(&f, bytes).unwrap();
    let run = |args: &[&str]| {
        let o = Command::new("tar")
            .args(args)
            .arg(&f)
            .output()
            .expect("run tar");
        assert!(
            o.status.success(),
            "tar {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let out = format!("{}{}", run(&["-tzf"]), run(&["-xzOf"]));
    let _ = std::fs::remove_file(&f);
    out
}

fn sorted_lines(s: &str) -> String {
    let mut l: Vec<&str> = s.split_inclusive('\n').collect();
    l.sort();
    l.concat()
}

fn command_of(line: &str) -> String {
    [
        "template",
        "lint",
        "deps",
        "fetch",
        "test",
        "sync",
        "apply",
        "diff",
        "destroy",
        "write-values",
        "show-dag",
        "build",
        "list",
        "status",
    ]
    .iter()
    .find(|c| line.split_whitespace().any(|a| a == **c))
    .unwrap_or(&"other")
    .to_string()
}

#[test]
fn hooks_and_commands_match_real_helmfile() {
    let path = format!(
        "{}:{}",
        oracle_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::env::set_var("PATH", path);
    std::env::set_var("HELMFILE_TEMPDIR", TEMPDIR);
    std::env::set_var("HELMFILE_UPGRADE_NOTICE_DISABLED", "1");
    std::env::set_var("HELMFILE_NO_COLOR", "true");
    std::env::remove_var("HELM_NAMESPACE");
    std::env::remove_var("HELM_DRIVER");
    let h = homes();
    std::env::set_var("HELM_CONFIG_HOME", h.join("config"));
    std::env::set_var("HELM_CACHE_HOME", h.join("cache"));
    std::env::set_var("HELM_DATA_HOME", h.join("data"));
    std::env::set_var("HELMFILE_CACHE_HOME", h.join("hfcache"));
    let only = std::env::var("HFHOOKS_CASE").ok();
    let mut per_cmd: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut bad = Vec::new();
    let mut namespaces = Vec::new();
    for case in cases() {
        if only.as_deref().is_some_and(|o| !case.name.contains(o)) {
            continue;
        }
        let ns = if case.cluster {
            let tb = testbed::testbed();
            std::env::set_var("KUBECONFIG", &tb.kubeconfig);
            let ns = unique_name(&format!("hfhooks-{}", case.name));
            namespaces.push(ns.clone());
            ns
        } else {
            "hfhooks-none".to_string()
        };
        let want = run_case(&case, &ns, "helmfile");
        let got = run_case(&case, &ns, "rudder");
        let mut diffs = diff_runs(&case, &want, &got);
        if !diffs.is_empty() {
            // The real helmfile is not the same every run everywhere (once, its COMBINED
            // OUTPUT of a failed `helm test` lacked helm's stdout lines): when a second run of
            // it differs from its first and Rudder's output is that second run's, the
            // difference is helmfile's own, not Rudder's.
            let again = run_case(&case, &ns, "helmfile");
            if !diff_runs(&case, &want, &again).is_empty() && diff_runs(&case, &again, &got).is_empty() {
                eprintln!("{}: the real helmfile's two runs differ; Rudder's is identical to the second", case.name);
                diffs.clear();
            }
        }
        for line in &case.lines {
            let e = per_cmd.entry(command_of(line)).or_default();
            e.1 += 1;
            if !diffs.iter().any(|d| d.starts_with(&format!("`{line}`"))) {
                e.0 += 1;
            }
        }
        if diffs.is_empty() {
            eprintln!("identical: {}", case.name);
        } else {
            eprintln!("DIFFERENT: {}\n{}", case.name, diffs.join("\n"));
            bad.push(case.name.clone());
        }
    }
    for ns in &namespaces {
        let _ = testbed::testbed().delete(&format!("/api/v1/namespaces/{ns}"));
    }
    for (cmd, (same, total)) in &per_cmd {
        eprintln!("{cmd}: {same}/{total} command lines identical");
    }
    assert!(bad.is_empty(), "cases differ from real helmfile: {bad:#?}");
}
