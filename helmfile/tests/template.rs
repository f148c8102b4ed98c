//! `helmfile template`, `write-values` and `show-dag` byte for byte against the real helmfile
//! v1.8.0 driving the real helm v4.3.1: stdout, stderr, exit code, and the files written
//! (`write-values`, `--output-dir`), on the cases under tests/template-data/ (each a state file
//! or a `helmfile.d/`, and a `cmds` file, one command line per line) and on the corpus helmfiles whose charts are
//! local.
//!
//! Normalised before comparing (both sides alike): lines naming helmfile's temporary values files
//! (their names hash Go structs), and the order of `Building dependency` / `Writing values file`
//! runs (helmfile prepares charts from concurrent workers), and for `write-values` the order of
//! all stderr lines (it walks the releases in Go map order).
//! Differences listed in conformance/known-differences/helmfile_template.txt are reported but
//! tolerated; any other difference fails the test.

mod common;
use common::{mine, oracle_dir, real};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rudder_helmfile::commands::Outcome;

const CORPUS: &str = "/work/shared/corpus/helmfiles";
const TEMPDIR: &str = "/tmp/rudder-hfrender-tmpvalues";
const WV_DIR: &str = "/tmp/rudder-hfrender-wv";


fn homes() -> PathBuf {
    std::env::temp_dir().join("rudder-hfrender-homes")
}



fn normalize(s: &str) -> String {
    let mut lines: Vec<String> = s
        .split_inclusive('\n')
        .map(|l| {
            if l.contains(TEMPDIR) {
                "<temporary values file>\n".to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    // Sort runs of lines whose order helmfile does not fix.
    let unordered =
        |l: &str| l.starts_with("Building dependency ") || l.starts_with("Writing values file ");
    let mut i = 0;
    while i < lines.len() {
        if unordered(&lines[i]) {
            let mut j = i;
            while j < lines.len() && unordered(&lines[j]) {
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

fn snapshot(dirs: &[PathBuf]) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(d: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if let Ok(b) = std::fs::read(&p) {
                out.insert(p, b);
            }
        }
    }
    let mut out = BTreeMap::new();
    for d in dirs {
        walk(d, &mut out);
    }
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

struct Case {
    label: String,
    /// Directory to copy into a scratch place before each run (`None`: run in place).
    source: Option<PathBuf>,
    /// Working directory (inside the copy when copied).
    dir: PathBuf,
    args: Vec<String>,
}

/// Runs one case with both tools; a description of each difference.
fn compare(case: &Case) -> Vec<String> {
    let scratch = std::env::temp_dir().join("rudder-hfrender-case");
    let run = |which: &str| -> (Outcome, BTreeMap<PathBuf, Vec<u8>>) {
        let _ = std::fs::remove_dir_all(&scratch);
        let _ = std::fs::remove_dir_all(homes());
        let _ = std::fs::remove_dir_all(WV_DIR);
        let _ = std::fs::remove_dir_all(TEMPDIR);
        std::fs::create_dir_all(TEMPDIR).unwrap();
        let dir = match &case.source {
            Some(src) => {
                copy_dir(src, &scratch);
                scratch.join(&case.dir)
            }
            None => case.dir.clone(),
        };
        let before = snapshot(&[scratch.clone()]);
        let o = if which == "helmfile" {
            real(&dir, &case.args)
        } else {
            mine(&dir, &case.args)
        };
        let mut after = snapshot(&[scratch.clone(), PathBuf::from(WV_DIR)]);
        after.retain(|k, v| before.get(k) != Some(v));
        (o, after)
    };
    let (got, got_files) = run("rudder");
    let (want, want_files) = run("helmfile");
    let diffs = differences(case, &want, &want_files, &got, &got_files);
    if diffs.is_empty() {
        return diffs;
    }
    // helmfile reports some things in Go map order (the first undefined `needs` target and
    // its dependents come from ranging over a map in variantdev/dag). Only when helmfile
    // itself proves nondeterministic on this case is it run again, until it produces
    // rudder's output or the attempts run out: a deterministic difference stays a difference.
    let mut varied = false;
    for attempt in 0..40 {
        if attempt == 3 && !varied {
            break; // three repeats of the same output: helmfile is deterministic here
        }
        let (again, again_files) = run("helmfile");
        if differences(case, &again, &again_files, &got, &got_files).is_empty() {
            eprintln!(
                "  (helmfile's output varies between runs on {}; run {} matched)",
                case.label,
                attempt + 2
            );
            return Vec::new();
        }
        varied |= !differences(case, &want, &want_files, &again, &again_files).is_empty();
    }
    diffs
}

type Files = BTreeMap<PathBuf, Vec<u8>>;

/// What differs between helmfile's outcome and rudder's on one case.
fn differences(
    case: &Case,
    want: &Outcome,
    want_files: &Files,
    got: &Outcome,
    got_files: &Files,
) -> Vec<String> {
    let mut diffs = Vec::new();
    let (ws, gs) = (normalize(&want.stdout), normalize(&got.stdout));
    if ws != gs {
        diffs.push(format!("stdout differs:\n{}", first_difference(&ws, &gs)));
    }
    let (mut we, mut ge) = (normalize(&want.stderr), normalize(&got.stderr));
    if command_name(&case.args) == "write-values" {
        // helmfile writes values files in Go map order: its log lines come in any order.
        let sorted = |s: &str| {
            let mut l: Vec<&str> = s.split_inclusive('\n').collect();
            l.sort();
            l.concat()
        };
        we = sorted(&we);
        ge = sorted(&ge);
    }
    if we != ge {
        diffs.push(format!(
            "stderr differs:\n--- helmfile\n{we}--- rudder\n{ge}"
        ));
    }
    if want.code != got.code {
        diffs.push(format!(
            "exit code: helmfile {} rudder {}",
            want.code, got.code
        ));
    }
    if want_files.keys().collect::<Vec<_>>() != got_files.keys().collect::<Vec<_>>() {
        diffs.push(format!(
            "files written differ:\n  helmfile {:?}\n  rudder   {:?}",
            want_files.keys(),
            got_files.keys()
        ));
    } else {
        for (k, v) in want_files {
            if got_files.get(k) != Some(v) {
                diffs.push(format!(
                    "{} differs:\n--- helmfile\n{}--- rudder\n{}",
                    k.display(),
                    String::from_utf8_lossy(v),
                    String::from_utf8_lossy(&got_files[k])
                ));
            }
        }
    }
    diffs
}

fn first_difference(a: &str, b: &str) -> String {
    let (al, bl): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    for i in 0..al.len().max(bl.len()) {
        if al.get(i) != bl.get(i) {
            let from = i.saturating_sub(3);
            let show = |l: &[&str]| {
                l.iter()
                    .skip(from)
                    .take(8)
                    .map(|s| format!("    {s}\n"))
                    .collect::<String>()
            };
            return format!(
                "  at line {}:\n  helmfile:\n{}  rudder:\n{}",
                i + 1,
                show(&al),
                show(&bl)
            );
        }
    }
    String::new()
}

fn command_name(args: &[String]) -> String {
    ["template", "write-values", "show-dag", "repos"]
        .iter()
        .find(|c| args.iter().any(|a| a == *c))
        .unwrap_or(&"other (errors before any command)")
        .to_string()
}

fn data_cases() -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/template-data");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for d in dirs {
        let name = d.file_name().unwrap().to_string_lossy().into_owned();
        for line in std::fs::read_to_string(d.join("cmds"))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            out.push(Case {
                label: format!("{name}: {line}"),
                source: Some(d.clone()),
                dir: PathBuf::new(),
                args: line.split_whitespace().map(String::from).collect(),
            });
        }
    }
    out
}

/// Corpus helmfiles whose charts are local (run in place; write-values writes under WV_DIR).
fn corpus_cases() -> Vec<Case> {
    let wv = format!("write-values --output-file-template {WV_DIR}/{{{{.Release.Namespace}}}}-{{{{.Release.Name}}}}.yaml");
    let sets: Vec<(&str, &str, &str)> = vec![
        ("helmfile-examples-deployments/deployments/dev", "helmfile.yaml", ""),
        ("helmfile-examples-deployments/deployments/local", "helmfile.yaml", ""),
        ("helmfile-examples-deployments/deployments/prod", "helmfile.yaml", ""),
        ("helmfile-snapshot-env-values-gotmpl/snapshot/environments_values_gotmpl_with_environment_name", "input.yaml.gotmpl", "--environment test"),
        ("helmfile-snapshot-release-template-inheritance/snapshot/release_template_inheritance", "input.yaml.gotmpl", ""),
        ("helmfile-it-array-merge/test-cases/issue-2281-array-merge/input", "helmfile.yaml.gotmpl", "@helmfile-extra-args"),
        ("helmfile-it-include-template-func/test-cases/include-template-func/input", "helmfile.yaml.gotmpl", ""),
        ("helmfile-snapshot-hcl-mix/snapshot/hcl_mix", "input.yaml.gotmpl", ""),
    ];
    let mut out = Vec::new();
    for (dir, file, extra) in sets {
        let d = Path::new(CORPUS).join(dir);
        let extra: Vec<String> = match extra.strip_prefix('@') {
            Some(f) => std::fs::read_to_string(d.join(f))
                .unwrap_or_default()
                .split_whitespace()
                .map(String::from)
                .collect(),
            None => extra.split_whitespace().map(String::from).collect(),
        };
        for cmd in ["template --skip-deps", "template", "show-dag", wv.as_str()] {
            let mut args = vec!["-f".to_string(), file.to_string()];
            args.extend(extra.iter().cloned());
            args.extend(cmd.split_whitespace().map(String::from));
            out.push(Case {
                label: format!("corpus {dir}: {}", args.join(" ")),
                source: None,
                dir: d.clone(),
                args,
            });
        }
    }
    out
}

/// The README's example stack (examples/stack): the charts it names come from the shared corpus
/// (`RUDDER_CORPUS`, set by the test for both tools). `--skip-tests`: podinfo's test hooks carry
/// random names.
fn example_cases() -> Vec<Case> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/stack");
    [
        "template --skip-tests",
        "-e prod template --skip-tests",
        "-l tier=apps template --skip-tests",
        "-e prod --state-values-set podinfo.replicas=5 -l name=frontend template --skip-tests",
        "show-dag",
        "-e prod show-dag",
    ]
    .iter()
    .map(|cmd| {
        let mut args = vec!["-f".to_string(), "helmfile.yaml.gotmpl".to_string()];
        args.extend(cmd.split_whitespace().map(String::from));
        Case { label: format!("examples/stack: {cmd}"), source: None, dir: d.clone(), args }
    })
    .collect()
}

/// Charts served by the test bed's HTTP chart repository: a repository of this test's own
/// (packaged by the real helm from corpus charts, indexed by `helm repo index`) named in
/// `repositories:`, releases from `repo/chart` with and without `version:`.
fn repo_cases() -> (Vec<Case>, PathBuf) {
    let root = std::env::var("RUDDER_TEST_REPO_DIR")
        .expect("RUDDER_TEST_REPO_DIR unset: eval \"$(conformance/servers env)\" first");
    let url = std::env::var("RUDDER_TEST_REPO_URL")
        .expect("RUDDER_TEST_REPO_URL unset: eval \"$(conformance/servers env)\" first");
    let name = rudder_conformance::testbed::unique_name("hfrender");
    let repo = Path::new(&root).join(&name);
    std::fs::create_dir_all(&repo).unwrap();
    let helm = oracle_dir().join("helm");
    let charts = Path::new(CORPUS).parent().unwrap().join("charts");
    for c in ["helm-create-default", "podinfo"] {
        rudder_conformance::testbed::run_ok(
            Command::new(&helm)
                .arg("package")
                .arg(charts.join(c))
                .arg("-d")
                .arg(&repo),
        )
        .unwrap();
    }
    rudder_conformance::testbed::run_ok(Command::new(&helm).arg("repo").arg("index").arg(&repo))
        .unwrap();
    let case = std::env::temp_dir().join("rudder-hfrender-repo-src");
    let _ = std::fs::remove_dir_all(&case);
    std::fs::create_dir_all(&case).unwrap();
    std::fs::write(
        case.join("helmfile.yaml"),
        format!(
            "repositories:\n- name: hfr\n  url: {url}/{name}\nreleases:\n- name: a\n  namespace: r\n  chart: hfr/mychart\n  version: 0.1.0\n  values:\n  - replicaCount: 2\n- name: b\n  chart: hfr/podinfo\n  needs: [r/a]\n  set:\n  - name: ui.message\n    value: from-repo\n"
        ),
    )
    .unwrap();
    std::fs::write(
        case.join("missing.yaml"),
        format!("repositories:\n- name: hfr\n  url: {url}/{name}\nreleases:\n- name: a\n  chart: hfr/mychart\n  version: 9.9.9\n"),
    )
    .unwrap();
    let mk = |label: &str, args: &str| Case {
        label: label.to_string(),
        source: Some(case.clone()),
        dir: PathBuf::new(),
        args: args.split_whitespace().map(String::from).collect(),
    };
    // The same chart in the test bed's OCI registry (plain HTTP).
    let registry = std::env::var("RUDDER_TEST_REGISTRY")
        .expect("RUDDER_TEST_REGISTRY unset: eval \"$(conformance/servers env)\" first");
    let tgz = repo.join("mychart-0.1.0.tgz");
    rudder_conformance::testbed::run_ok(
        Command::new(&helm)
            .arg("push")
            .arg(&tgz)
            .arg(format!("oci://{registry}/{name}"))
            .arg("--plain-http")
            .env("HELM_CONFIG_HOME", homes().join("push-config")),
    )
    .unwrap();
    std::fs::write(
        case.join("oci.yaml"),
        format!(
            "releases:\n- name: o\n  namespace: oci\n  chart: oci://{registry}/{name}/mychart\n  version: 0.1.0\n  values:\n  - replicaCount: 3\n- name: gone\n  chart: oci://{registry}/{name}/mychart\n  version: 9.9.9\n  installed: false\n"
        ),
    )
    .unwrap();
    std::fs::write(
        case.join("oci-missing.yaml"),
        format!(
            "releases:\n- name: o\n  chart: oci://{registry}/{name}/mychart\n  version: 9.9.9\n"
        ),
    )
    .unwrap();
    let cases = vec![
        mk(
            "oci-chart: template",
            "-f oci.yaml template --oci-plain-http",
        ),
        mk(
            "oci-chart: template --skip-deps",
            "-f oci.yaml --oci-plain-http template --skip-deps",
        ),
        mk(
            "oci-chart: missing version",
            "-f oci-missing.yaml template --oci-plain-http",
        ),
        mk("repo-chart: template --skip-tests", "template --skip-tests"),
        mk(
            "repo-chart: template --skip-deps --skip-tests (repository not added)",
            "template --skip-deps --skip-tests",
        ),
        mk(
            "repo-chart: -l name=a write-values",
            "-l name=a write-values",
        ),
        mk("repo-chart: missing version", "-f missing.yaml template"),
        mk("repo-chart: repos", "repos"),
    ];
    (cases, repo)
}

/// `label<TAB>reason` lines of the known-differences file.
fn known() -> BTreeMap<String, String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../conformance/known-differences/helmfile_template.txt");
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains('\t'))
        .filter_map(|l| {
            l.split_once('\t')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        })
        .collect()
}

#[test]
fn template_write_values_show_dag_match_real_helmfile() {
    let path = format!(
        "{}:{}",
        oracle_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::env::set_var("PATH", path);
    std::env::set_var("HELMFILE_TEMPDIR", TEMPDIR);
    std::env::remove_var("HELM_NAMESPACE");
    // rudder (in this process) and helmfile's helm see the same private helm homes.
    let h = homes();
    std::env::set_var("HELM_CONFIG_HOME", h.join("config"));
    std::env::set_var("HELM_CACHE_HOME", h.join("cache"));
    std::env::set_var("HELM_DATA_HOME", h.join("data"));
    std::env::set_var("HELMFILE_CACHE_HOME", h.join("hfcache"));
    let shared = std::env::var("RUDDER_SHARED").unwrap_or_else(|_| "/work/shared".into());
    std::env::set_var("RUDDER_CORPUS", format!("{shared}/corpus/charts"));
    let (repo_cases, repo_dir) = repo_cases();
    let known = known();
    let mut per_cmd: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut unexpected = Vec::new();
    let mut tolerated = Vec::new();
    for case in data_cases()
        .into_iter()
        .chain(repo_cases)
        .chain(corpus_cases())
        .chain(example_cases())
    {
        let diffs = compare(&case);
        let e = per_cmd.entry(command_name(&case.args)).or_default();
        e.1 += 1;
        if diffs.is_empty() {
            e.0 += 1;
            eprintln!("identical: {}", case.label);
        } else if let Some(why) = known.get(&case.label) {
            eprintln!("KNOWN DIFFERENCE: {} ({why})", case.label);
            tolerated.push(case.label.clone());
        } else {
            eprintln!("DIFFERENT: {}\n{}", case.label, diffs.join("\n"));
            unexpected.push(case.label.clone());
        }
    }
    for (cmd, (same, total)) in &per_cmd {
        eprintln!("{cmd}: {same}/{total} identical");
    }
    eprintln!("known differences tolerated: {}", tolerated.len());
    let _ = std::fs::remove_dir_all(&repo_dir);
    assert!(
        unexpected.is_empty(),
        "cases differ from real helmfile: {unexpected:#?}"
    );
}
