//! `helm template` against `rudder template` over the corpus charts, byte for byte (stdout, and
//! the `Error: ...` text with the exit code when helm fails).
//!
//! Each chart of `corpus/charts/` is rendered once with its own defaults (variant `default`) and
//! once per file in `conformance/cases/charts/<chart>/*.yaml` (variant = file stem). A variant
//! file is a values file passed with `-f`; lines at its top of the form `# args: ...` add
//! command-line arguments (split on blanks), e.g. `# args: --kube-version 1.25.0 -n monitoring`;
//! `# name: NAME` sets the release name (`# name: -` passes none).
//!
//! Charts that generate random data (certificates, passwords) render differently on every run:
//! helm is then run a second time, and lines that differ between the two helm runs are not
//! compared (the outputs must still have the same number of lines).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::testbed::{corpus_dir, oracle, workspace_root};

/// One rendering to compare.
#[derive(Clone, Debug)]
pub struct Variant {
    pub chart: String,
    pub name: String,
    /// Arguments after `template <release name> <chart dir>`.
    pub args: Vec<String>,
    /// The release name (`# name: X` in the variant file; `# name: -` gives none).
    pub release: Option<String>,
}

impl Variant {
    pub fn id(&self) -> String {
        format!("{}/{}", self.chart, self.name)
    }
}

/// What one tool printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Run {
    /// What is compared: stdout, plus the error text when the command failed.
    fn observable(&self) -> String {
        if self.code == 0 {
            self.stdout.clone()
        } else {
            format!("{}<exit {}>\n{}", self.stdout, self.code, self.stderr)
        }
    }
}

/// The result of one comparison.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub variant: Variant,
    pub identical: bool,
    /// Lines masked because two helm runs disagreed on them.
    pub masked: usize,
    /// One line for the summary.
    pub summary: String,
    pub helm: String,
    pub rudder: String,
}

/// The chart directories of the corpus, by name.
pub fn corpus_charts() -> Vec<(String, PathBuf)> {
    let list = |dir: PathBuf| -> Vec<(String, PathBuf)> {
        std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.path().join("Chart.yaml").is_file())
                    .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = list(corpus_dir().join("charts"));
    // Small charts written for this test (`conformance/fixtures/charts/`): features the corpus
    // does not reach (hooks, separators, .Files, .Capabilities, errors).
    out.extend(list(workspace_root().join("conformance/fixtures/charts")));
    out.sort();
    out
}

/// The variants of every corpus chart (or of the ones named in `only`, as `chart` or
/// `chart/variant`).
pub fn variants(only: &[String]) -> Vec<(Variant, PathBuf)> {
    let cases = workspace_root().join("conformance/cases/charts");
    let mut out = Vec::new();
    for (chart, path) in corpus_charts() {
        let mut vs = vec![Variant { chart: chart.clone(), name: "default".into(), args: vec![], release: Some("release-name".into()) }];
        let dir = cases.join(&chart);
        if let Ok(rd) = std::fs::read_dir(&dir) {
            let mut files: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect();
            files.sort();
            for f in files {
                let text = std::fs::read_to_string(&f).unwrap_or_default();
                let mut args = vec!["-f".to_string(), f.display().to_string()];
                let mut release = Some("release-name".to_string());
                for line in text.lines() {
                    if let Some(rest) = line.strip_prefix("# name:") {
                        let n = rest.trim();
                        release = if n == "-" { None } else { Some(n.to_string()) };
                        continue;
                    }
                    let Some(rest) = line.strip_prefix("# args:") else { break };
                    args.extend(rest.split_whitespace().map(str::to_string));
                }
                let name = f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                vs.push(Variant { chart: chart.clone(), name, args, release });
            }
        }
        for v in vs {
            if only.is_empty() || only.iter().any(|o| *o == v.chart || *o == v.id()) {
                out.push((v, path.clone()));
            }
        }
    }
    out
}

/// The rudder binary: `$RUDDER_BIN`, else `target/debug/rudder` (built first).
pub fn rudder_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("RUDDER_BIN") {
        return PathBuf::from(p);
    }
    let root = workspace_root();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "-q", "-p", "rudder-cli"])
        .current_dir(&root)
        .status();
    if !status.is_ok_and(|s| s.success()) {
        panic!("cannot build rudder (cargo build -p rudder-cli)");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    target.join("debug/rudder")
}

/// Files a run wrote under its working directory (`--output-dir`), as `=== path` headers and
/// contents, sorted by path.
fn written_files(dir: &Path) -> String {
    fn walk(base: &Path, d: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if let Ok(data) = std::fs::read(&p) {
                let rel = p.strip_prefix(base).unwrap_or(&p).display().to_string();
                out.push((rel, data));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.sort();
    let mut s = String::new();
    for (name, data) in files {
        s.push_str(&format!("=== {name}\n{}", String::from_utf8_lossy(&data)));
    }
    s
}

fn run(bin: &Path, chart_dir: &Path, v: &Variant, home: &Path) -> Run {
    // A fresh working directory per run, so that `--output-dir` trees can be compared.
    let work = home.join(format!("work-{}", WORK.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
    let _ = std::fs::create_dir_all(&work);
    let mut r = run_in(bin, chart_dir, v, home, &work);
    let files = written_files(&work);
    if !files.is_empty() {
        r.stdout.push_str("<files written>\n");
        r.stdout.push_str(&files);
    }
    let _ = std::fs::remove_dir_all(&work);
    r
}

static WORK: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn run_in(bin: &Path, chart_dir: &Path, v: &Variant, home: &Path, work: &Path) -> Run {
    let mut cmd = Command::new(bin);
    cmd.arg("template");
    if let Some(r) = &v.release {
        cmd.arg(r);
    }
    cmd.arg(chart_dir).args(&v.args);
    // Keep helm away from the user's configuration and caches.
    cmd.env("HOME", home)
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env_remove("HELM_NAMESPACE")
        .env_remove("KUBECONFIG")
        .current_dir(work);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Run { stdout: String::new(), stderr: format!("cannot run {}: {e}", bin.display()), code: -1 },
    };
    let mut so = child.stdout.take();
    let mut se = child.stderr.take();
    let t1 = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(s) = so.as_mut() {
            let _ = std::io::Read::read_to_end(s, &mut b);
        }
        b
    });
    let t2 = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(s) = se.as_mut() {
            let _ = std::io::Read::read_to_end(s, &mut b);
        }
        b
    });
    let deadline = std::time::Instant::now() + TIMEOUT;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if std::time::Instant::now() > deadline => {
                let _ = child.kill();
                timed_out = true;
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    let stdout = String::from_utf8_lossy(&t1.join().unwrap_or_default()).into_owned();
    let mut stderr = String::from_utf8_lossy(&t2.join().unwrap_or_default()).into_owned();
    if timed_out {
        stderr.push_str(&format!("<killed after {} s>\n", TIMEOUT.as_secs()));
    }
    let code = match status {
        Some(st) => st.code().unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            -st.signal().unwrap_or(1)
        }),
        None => -1,
    };
    Run { stdout, stderr, code }
}

/// How long one `template` run may take.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

fn clip(s: &str) -> String {
    s.chars().take(160).collect()
}

/// Compares one variant.
pub fn compare_variant(v: &Variant, chart_dir: &Path, rudder: &Path, home: &Path) -> Outcome {
    let helm_bin = oracle("helm");
    let h1 = run(&helm_bin, chart_dir, v, home).observable();
    let r = run(rudder, chart_dir, v, home).observable();
    if h1 == r {
        return Outcome { variant: v.clone(), identical: true, masked: 0, summary: "identical".into(), helm: h1, rudder: r };
    }
    // Volatile output? A second helm run tells.
    let h2 = run(&helm_bin, chart_dir, v, home).observable();
    let hl1: Vec<&str> = h1.split('\n').collect();
    let rl: Vec<&str> = r.split('\n').collect();
    let mut masked = 0;
    let mut mask = vec![false; hl1.len()];
    if h2 != h1 {
        let hl2: Vec<&str> = h2.split('\n').collect();
        if hl2.len() == hl1.len() {
            for i in 0..hl1.len() {
                if hl1[i] != hl2[i] {
                    mask[i] = true;
                    masked += 1;
                }
            }
        }
    }
    let mut first_diff = None;
    for i in 0..hl1.len().max(rl.len()) {
        let (a, b) = (hl1.get(i), rl.get(i));
        if a == b || (a.is_some() && b.is_some() && mask.get(i).copied().unwrap_or(false)) {
            continue;
        }
        first_diff = Some(i);
        break;
    }
    match first_diff {
        None => Outcome {
            variant: v.clone(),
            identical: true,
            masked,
            summary: format!("identical ({masked} volatile lines not compared)"),
            helm: h1,
            rudder: r,
        },
        Some(i) => Outcome {
            variant: v.clone(),
            identical: false,
            masked,
            summary: format!(
                "line {}: helm {:?} | rudder {:?}",
                i + 1,
                clip(hl1.get(i).copied().unwrap_or("<end>")),
                clip(rl.get(i).copied().unwrap_or("<end>"))
            ),
            helm: h1,
            rudder: r,
        },
    }
}

/// Writes `<dir>/<chart>__<variant>.{helm,rudder}.yaml` and a unified diff (`diff -u`).
pub fn write_diff(dir: &Path, o: &Outcome) {
    let _ = std::fs::create_dir_all(dir);
    let stem = format!("{}__{}", o.variant.chart, o.variant.name);
    let hp = dir.join(format!("{stem}.helm.yaml"));
    let rp = dir.join(format!("{stem}.rudder.yaml"));
    let _ = std::fs::write(&hp, &o.helm);
    let _ = std::fs::write(&rp, &o.rudder);
    let diff = Command::new("diff").arg("-u").arg(&hp).arg(&rp).output();
    let text = match diff {
        Ok(d) => String::from_utf8_lossy(&d.stdout).into_owned(),
        Err(e) => format!("cannot run diff: {e}\n"),
    };
    let _ = std::fs::write(dir.join(format!("{stem}.diff")), text);
}

/// Runs every variant (or those in `only`); returns the outcomes in order and writes full diffs
/// for the differing ones under `target/conformance/template/`.
pub fn run_all(only: &[String]) -> Vec<Outcome> {
    let rudder = rudder_bin();
    let home = std::env::temp_dir().join(format!("rudder-template-diff-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&home);
    let out_dir = workspace_root().join("target/conformance/template");
    if only.is_empty() {
        let _ = std::fs::remove_dir_all(&out_dir);
    }
    let mut outcomes = Vec::new();
    for (v, dir) in variants(only) {
        let o = compare_variant(&v, &dir, &rudder, &home);
        if !o.identical {
            write_diff(&out_dir, &o);
        }
        outcomes.push(o);
    }
    let _ = std::fs::remove_dir_all(&home);
    outcomes
}

/// The one-line-per-variant report, closed by `N passed, M failed`.
pub fn report(outcomes: &[Outcome]) -> String {
    let mut s = String::new();
    for o in outcomes {
        s.push_str(&format!("{:<48} {}\n", o.variant.id(), o.summary));
    }
    let passed = outcomes.iter().filter(|o| o.identical).count();
    s.push_str(&format!("{} passed, {} failed\n", passed, outcomes.len() - passed));
    s
}
