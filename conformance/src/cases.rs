//! Differential template cases (`conformance/cases/engine/*.cases`, format in
//! `conformance/cases/README.md`) and running them through `gotmpl-oracle` in one batch.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// One template case.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub file: PathBuf,
    pub line: usize,
    pub template: String,
    /// JSON text of the data (`{}` by default).
    pub data: String,
    /// Go `Option` string, e.g. `missingkey=zero`, or empty.
    pub option: String,
}

/// What Go (or Rudder) did with a case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Outcome {
    pub output: String,
    pub error: String,
}

/// Parses one `.cases` file.
pub fn parse_cases(path: &Path) -> Result<Vec<Case>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut cases: Vec<Case> = Vec::new();
    let mut body: Vec<&str> = Vec::new();
    let mut in_header = false;
    let finish = |cases: &mut Vec<Case>, body: &mut Vec<&str>| {
        if let Some(c) = cases.last_mut() {
            c.template = body.join("\n");
        }
        body.clear();
    };
    for (i, line) in text.split('\n').enumerate() {
        if let Some(name) = line.strip_prefix("### case: ") {
            finish(&mut cases, &mut body);
            let name = name.trim().to_string();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                bail!("{}:{}: case name {name:?} must be [A-Za-z0-9_-]+", path.display(), i + 1);
            }
            cases.push(Case {
                name,
                file: path.to_path_buf(),
                line: i + 1,
                template: String::new(),
                data: "{}".into(),
                option: String::new(),
            });
            in_header = true;
            continue;
        }
        if in_header {
            if let Some(d) = line.strip_prefix("### data: ") {
                let d = d.trim();
                serde_json::from_str::<serde_json::Value>(d)
                    .with_context(|| format!("{}:{}: data is not JSON", path.display(), i + 1))?;
                if let Some(c) = cases.last_mut() {
                    c.data = d.to_string();
                }
                continue;
            }
            if let Some(o) = line.strip_prefix("### option: ") {
                if let Some(c) = cases.last_mut() {
                    c.option = o.trim().to_string();
                }
                continue;
            }
            in_header = false;
        }
        if cases.is_empty() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            bail!("{}:{}: text before the first `### case:` header", path.display(), i + 1);
        }
        body.push(line);
    }
    finish(&mut cases, &mut body);
    // A file ends with a newline that belongs to no template.
    if let Some(c) = cases.last_mut() {
        if text.ends_with('\n') && c.template.ends_with('\n') {
            c.template.pop();
        } else if text.ends_with('\n') && body.is_empty() {
        }
    }
    Ok(cases)
}

/// All cases of a directory's `*.cases` files, sorted by file then position; names must be
/// unique.
pub fn load_dir(dir: &Path) -> Result<Vec<Case>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "cases"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for f in files {
        for c in parse_cases(&f)? {
            if let Some(prev) = seen.insert(c.name.clone(), format!("{}:{}", c.file.display(), c.line)) {
                bail!("case {} defined twice: {} and {}:{}", c.name, prev, c.file.display(), c.line);
            }
            all.push(c);
        }
    }
    Ok(all)
}

/// Runs every case through `gotmpl-oracle batch` in one process.
pub fn run_oracle(oracle: &Path, cases: &[Case]) -> Result<Vec<Outcome>> {
    let mut child = Command::new(oracle)
        .arg("batch")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", oracle.display()))?;
    let mut input = String::new();
    for c in cases {
        let line = serde_json::json!({"name": c.name, "template": c.template, "data": c.data, "option": c.option});
        input.push_str(&line.to_string());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().context("oracle stdin")?;
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output()?;
    writer.join().map_err(|_| anyhow::anyhow!("writer thread panicked"))??;
    if !out.status.success() {
        bail!("gotmpl-oracle failed: {}", out.status);
    }
    let text = String::from_utf8(out.stdout)?;
    let results: Vec<Outcome> = text
        .lines()
        .map(|l| serde_json::from_str(l).with_context(|| format!("bad oracle line: {l}")))
        .collect::<Result<_>>()?;
    if results.len() != cases.len() {
        bail!("oracle answered {} of {} cases", results.len(), cases.len());
    }
    Ok(results)
}
