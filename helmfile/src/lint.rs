//! `helmfile lint` (helmfile v1.8.0 pkg/app/app.go `Lint`, pkg/state/state.go `LintReleases`):
//! `helm lint` of each desired release's chart with the release's values, run in-process with
//! rudder's linter. helm's report goes to stdout; a chart that fails makes helmfile exit 1 with
//! its `Failed with N errors:` summary of helm's exit error.

use std::collections::BTreeMap;

use rudder_chart::lint::{lint_path, LintOptions, Severity};
use rudder_engine::Value;

use crate::commands::{self, Outcome, TemplateOpts};
use crate::render::HelmTemplate;
use crate::{get, str_of, State};

/// helm's lint arguments for a release (flagsForLint), as helmfile's exit error lists them.
fn lint_args(job: &HelmTemplate) -> Vec<String> {
    let mut a = vec!["lint".to_string(), job.chart_shown.clone()];
    if !job.namespace.is_empty() {
        a.extend(["--namespace".to_string(), job.namespace.clone()]);
    }
    for f in job.value_file_names() {
        a.extend(["--values".to_string(), f]);
    }
    for (flag, vs) in [
        ("--set", &job.values.set),
        ("--set-file", &job.values.set_file),
        ("--set-string", &job.values.set_string),
    ] {
        for v in vs {
            a.extend([flag.to_string(), v.clone()]);
        }
    }
    for f in &job.extra_value_files {
        a.extend(["--values".to_string(), f.clone()]);
    }
    for s in &job.extra_set {
        a.extend(["--set".to_string(), s.clone()]);
    }
    a.extend(job.extra_args.iter().cloned());
    a
}

/// `helm lint` in-process: (stdout, Err(stderr) when the chart fails).
fn helm_lint(job: &HelmTemplate) -> Result<(String, Result<(), String>), String> {
    let values = crate::deploy::user_values(job)?;
    let namespace = if job.namespace.is_empty() {
        std::env::var("HELM_NAMESPACE")
            .ok()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".into())
    } else {
        job.namespace.clone()
    };
    let opts = LintOptions {
        values,
        namespace,
        kube_version: None,
        skip_schema_validation: job.skip_schema_validation,
    };
    // helmfile runs each state from its own directory: read the chart from its full path.
    let path = job.chart_shown.clone();
    let result = lint_path(&job.chart_path.to_string_lossy(), false, &opts);
    let mut out = format!("==> Linting {path}\n");
    if result.messages.is_empty() {
        for e in &result.errors {
            out.push_str(&format!("Error {e}\n"));
        }
    }
    for m in &result.messages {
        if m.severity >= Severity::Info {
            out.push_str(&format!("{m}\n"));
        }
    }
    out.push('\n');
    if !result.errors.is_empty() {
        return Ok((
            out,
            Err("Error: 1 chart(s) linted, 1 chart(s) failed\n".into()),
        ));
    }
    out.push_str("1 chart(s) linted, 0 chart(s) failed\n");
    Ok((out, Ok(())))
}

/// helmfile's MultiError text.
fn multi_error(errs: &[String]) -> String {
    let indent = |t: &str| {
        t.split('\n')
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    };
    let mut lines = vec![format!("Failed with {} errors:", errs.len())];
    for (i, e) in errs.iter().enumerate() {
        lines.push(format!("Error {}:\n\n{}", i + 1, indent(e)));
    }
    lines.join("\n\n")
}

/// `helmfile lint`.
pub fn lint(root: &State, all: Option<&State>, o: &TemplateOpts) -> Outcome {
    let mut out = Outcome::default();
    let mut deferred: Vec<String> = Vec::new();
    let Ok(plans) = commands::deploy_plan(root, all, o, &mut out) else {
        return out;
    };
    for p in &plans {
        let st = p.st;
        let rels: Vec<BTreeMap<String, Value>> = p
            .releases
            .iter()
            .filter(|r| commands::is_desired(r))
            .cloned()
            .collect();
        if !commands::prepare_hooks(&mut out, st, Some(&rels), "lint", &p.prefix) {
            return out;
        }
        if let Err(e) = commands::build_deps(st, &rels, o, &mut out) {
            commands::fail_with(&mut out, &p.prefix, &[format!("[{e}]")]);
            return out;
        }
        // LintReleases: after the first error the other releases are not linted, but their
        // cleanup hooks still fire. A single helm exit error is deferred to the end.
        let mut errs: Vec<(String, bool)> = Vec::new();
        for r in &rels {
            if errs.is_empty() {
                match commands::deploy_job(st, r, o) {
                    Err(e) => errs.push((e, false)),
                    Ok(job) => {
                        out.stderr.push_str(&format!(
                            "Linting release={}, chart={}\n",
                            str_of(&get(r, "name")),
                            commands::chart_label(st, r)
                        ));
                        match helm_lint(&job) {
                            Err(e) => errs.push((e, false)),
                            Ok((stdout, res)) => {
                                out.stdout.push_str(&stdout);
                                out.stdout.push('\n');
                                if let Err(stderr) = res {
                                    let combined = format!("{stdout}{stderr}");
                                    errs.push((
                                        crate::render::exit_error_with(
                                            &job.helm_binary,
                                            &lint_args(&job),
                                            &stderr,
                                            &combined,
                                        ),
                                        true,
                                    ));
                                }
                            }
                        }
                    }
                }
            }
            commands::cleanup_warn(&mut out, st, r, "lint");
        }
        // The deferred error is still the cleanup's `.Event.Error`.
        let first_err = errs.first().map(|(e, _)| e.clone());
        let first = match errs.as_slice() {
            [(e, true)] => {
                deferred.push(e.clone());
                None
            }
            [] => None,
            many => {
                let texts: Vec<String> = many.iter().map(|(e, _)| e.clone()).collect();
                Some(texts)
            }
        };
        let cleanup_ok =
            commands::global_cleanup(&mut out, st, "lint", first_err.as_deref(), &p.prefix);
        if let Some(texts) = first {
            commands::fail_with(&mut out, &p.prefix, &texts);
            return out;
        }
        if !cleanup_ok {
            return out;
        }
    }
    if !deferred.is_empty() {
        out.stderr
            .push_str(&format!("{}\n", multi_error(&deferred)));
        out.code = 1;
    }
    out
}
