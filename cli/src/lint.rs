//! `helm lint` (Helm v4.3.1: pkg/cmd/lint.go, pkg/action/lint.go).

use clap::{ArgAction, Args};
use rudder_chart::lint::{lint_path, LintOptions, Severity};
use rudder_chart::render::KubeVersion;

use crate::flags::ValuesArgs;

#[derive(Args, Debug, Default)]
pub struct LintArgs {
    /// PATH...
    pub paths: Vec<String>,
    #[arg(long = "strict", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub strict: bool,
    #[arg(long = "with-subcharts", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub with_subcharts: bool,
    #[arg(long = "quiet", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub quiet: bool,
    #[arg(long = "skip-schema-validation", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub skip_schema_validation: bool,
    #[arg(long = "kube-version")]
    pub kube_version: Option<String>,
    #[command(flatten)]
    pub vals: ValuesArgs,
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
}

/// `filepath.Walk(p/charts)` as `--with-subcharts` uses it: every directory holding a
/// Chart.yaml, and every `.tgz`/`.tar.gz`, in lexical walk order.
fn walk_subcharts(dir: &std::path::Path, shown: &str, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut names: Vec<String> = rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    for n in names {
        let p = dir.join(&n);
        let shown_p = format!("{shown}/{n}");
        if n == "Chart.yaml" {
            out.push(shown.to_string());
        } else if n.ends_with(".tgz") || n.ends_with(".tar.gz") {
            out.push(shown_p.clone());
        }
        if std::fs::symlink_metadata(&p).map(|m| m.is_dir()).unwrap_or(false) {
            walk_subcharts(&p, &shown_p, out);
        }
    }
}

/// Runs `lint`: (stdout, Err(error text) when the command fails).
pub fn run(a: &LintArgs, program: &str) -> (String, Result<(), String>) {
    if a.paths.is_empty() {
        return (
            String::new(),
            Err(format!("\"{program} lint\" requires at least 1 argument\n\nUsage:  {program} lint PATH [flags]")),
        );
    }
    let kube_version = match a.kube_version.as_deref().filter(|k| !k.is_empty()) {
        Some(kv) => match KubeVersion::parse(kv) {
            Ok(k) => Some(k),
            Err(e) => return (String::new(), Err(format!("invalid kube version '{kv}': {e}"))),
        },
        None => None,
    };
    let mut paths = a.paths.clone();
    if a.with_subcharts {
        for p in &a.paths {
            let charts = std::path::Path::new(p).join("charts");
            let shown = rudder_chart::render::engine::go_path_clean(&format!("{p}/charts"));
            walk_subcharts(&charts, &shown, &mut paths);
        }
    }
    let namespace = a
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .or_else(|| std::env::var("HELM_NAMESPACE").ok().filter(|n| !n.is_empty()))
        .unwrap_or_else(|| "default".into());
    let vo = a.vals.options();
    let values = match vo.merge_values() {
        Ok(v) => v,
        Err(e) => return (String::new(), Err(e.to_string())),
    };
    let opts = LintOptions { values, namespace, kube_version, skip_schema_validation: a.skip_schema_validation };
    let mut out = String::new();
    let (mut failed, mut errors_or_warnings) = (0, 0);
    for path in &paths {
        let result = lint_path(path, a.strict, &opts);
        let has = result.has_warnings_or_errors();
        if has {
            errors_or_warnings += 1;
        }
        if a.quiet && !has {
            continue;
        }
        out.push_str(&format!("==> Linting {path}\n"));
        if result.messages.is_empty() {
            for e in &result.errors {
                out.push_str(&format!("Error {e}\n"));
            }
        }
        for m in &result.messages {
            if !a.quiet || m.severity > Severity::Info {
                out.push_str(&format!("{m}\n"));
            }
        }
        if !result.errors.is_empty() {
            failed += 1;
        }
        out.push('\n');
    }
    let summary = format!("{} chart(s) linted, {failed} chart(s) failed", paths.len());
    if failed > 0 {
        return (out, Err(summary));
    }
    if !a.quiet || errors_or_warnings > 0 {
        out.push_str(&summary);
        out.push('\n');
    }
    (out, Ok(()))
}
