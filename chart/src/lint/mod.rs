//! `helm lint` rules (Helm v4.3.1: pkg/chart/v2/lint, its `rules` and `support` packages).
//!
//! [`run_all`] runs the rules in Helm's order on a chart directory: Chart.yaml
//! ([`chartfile`]), values.yaml ([`values`]), the rendered templates ([`templates`]),
//! dependencies ([`dependencies`]) and CRDs ([`crds`]). Each finding is a [`Message`] whose
//! `Display` is Helm's `[SEVERITY] path: text` line.

pub mod chartfile;
pub mod crds;
pub mod dependencies;
pub mod deprecated_apis;
pub mod names;
pub mod templates;
pub mod values;

use std::path::{Path, PathBuf};

use rudder_engine::Value;

use crate::render::KubeVersion;

/// Helm's severities (`support.InfoSev` ...), ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Unknown = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
}

impl Severity {
    fn label(self) -> &'static str {
        match self {
            Severity::Unknown => "UNKNOWN",
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR",
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub severity: Severity,
    pub path: String,
    pub text: String,
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}: {}", self.severity.label(), self.path, self.text)
    }
}

/// Helm's `support.Linter`.
#[derive(Clone, Debug, Default)]
pub struct Linter {
    pub messages: Vec<Message>,
    pub highest: Option<Severity>,
    /// The chart directory, absolute.
    pub chart_dir: PathBuf,
}

impl Linter {
    /// `RunLinterRule`: records `err` (if any) and says whether the rule passed.
    pub fn rule(&mut self, severity: Severity, path: &str, err: Result<(), String>) -> bool {
        match err {
            Ok(()) => true,
            Err(text) => {
                self.messages.push(Message { severity, path: path.to_string(), text });
                if self.highest.is_none_or(|h| severity > h) {
                    self.highest = Some(severity);
                }
                false
            }
        }
    }
}

/// What the linter needs besides the chart.
#[derive(Clone, Debug, Default)]
pub struct LintOptions {
    /// User-supplied values (`-f`, `--set*`), already merged.
    pub values: Value,
    pub namespace: String,
    pub kube_version: Option<KubeVersion>,
    pub skip_schema_validation: bool,
}

/// `lint.RunAll(baseDir, values, namespace, ...)`.
pub fn run_all(base_dir: &Path, opts: &LintOptions) -> Linter {
    let mut linter = Linter {
        chart_dir: std::path::absolute(base_dir).unwrap_or_else(|_| base_dir.to_path_buf()),
        ..Default::default()
    };
    chartfile::chartfile(&mut linter);
    values::values_with_overrides(&mut linter, &opts.values, opts.skip_schema_validation);
    templates::templates(&mut linter, opts);
    dependencies::dependencies(&mut linter);
    crds::crds(&mut linter);
    linter
}

/// The result for one path as `action.Lint.Run` builds it.
#[derive(Clone, Debug, Default)]
pub struct LintResult {
    pub messages: Vec<Message>,
    /// Errors: failures to lint at all, and messages at or above the tolerance.
    pub errors: Vec<String>,
}

impl LintResult {
    /// `action.HasWarningsOrErrors`.
    pub fn has_warnings_or_errors(&self) -> bool {
        self.messages.iter().any(|m| m.severity > Severity::Info) || !self.errors.is_empty()
    }
}

/// `action.Lint.Run` for one path (a chart directory or a `.tgz`/`.tar.gz` archive).
pub fn lint_path(path: &str, strict: bool, opts: &LintOptions) -> LintResult {
    let tolerance = if strict { Severity::Warning } else { Severity::Error };
    let mut result = LintResult::default();
    match lint_chart(path, opts) {
        Err(e) => result.errors.push(e),
        Ok(linter) => {
            for m in &linter.messages {
                if m.severity >= tolerance {
                    result.errors.push(m.text.clone());
                }
            }
            result.messages = linter.messages;
        }
    }
    result
}

fn lint_chart(path: &str, opts: &LintOptions) -> Result<Linter, String> {
    let mut _temp = None;
    let chart_path = if path.ends_with(".tgz") || path.ends_with(".tar.gz") {
        let dir = TempDir::new().map_err(|e| format!("unable to create temp dir to extract tarball: {e}"))?;
        let data = std::fs::read(path).map_err(|e| format!("unable to open tarball: {}", crate::values::options::go_errno_text(&e)))?;
        let top = expand(&dir.0, &data).map_err(|e| format!("unable to extract tarball: {e}"))?;
        let p = dir.0.join(top);
        _temp = Some(dir);
        p
    } else {
        PathBuf::from(path)
    };
    let chart_yaml = chart_path.join("Chart.yaml");
    if let Err(e) = std::fs::metadata(&chart_yaml) {
        // Go's filepath.Join cleans the path it prints.
        let shown = crate::render::engine::go_path_join(&chart_path.display().to_string(), "Chart.yaml");
        return Err(format!(
            "unable to check Chart.yaml file in chart: stat {}: {}",
            shown,
            crate::values::options::go_errno_text(&e)
        ));
    }
    Ok(run_all(&chart_path, opts))
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let base = std::env::temp_dir();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let p = base.join(format!("helm-lint{}{}", std::process::id(), nanos % 1_000_000_000));
        std::fs::create_dir(&p)?;
        Ok(TempDir(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `chartutil.Expand`: the archive's files written under `dir`; returns the first top-level
/// directory name.
fn expand(dir: &Path, data: &[u8]) -> Result<String, String> {
    let files = crate::load::archive::load_archive_files(data).map_err(|e| e.to_string())?;
    // The top directory is the chart name as the archive spells it.
    let gz = flate2::read::GzDecoder::new(data);
    let mut tr = tar::Archive::new(gz);
    let mut top = None;
    if let Ok(entries) = tr.entries() {
        for e in entries.flatten() {
            let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
            if let Some(t) = name.split('/').next().filter(|t| !t.is_empty()) {
                top = Some(t.to_string());
                break;
            }
        }
    }
    let top = top.ok_or_else(|| "no files in archive".to_string())?;
    for f in files {
        let p = dir.join(&top).join(&f.name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&p, &f.data).map_err(|e| e.to_string())?;
    }
    Ok(top)
}
