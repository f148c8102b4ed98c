//! Running template cases through Rudder's engine and comparing them with Go's outcomes. Shared by
//! the `engine_vs_go` test and the `engine-diff` command (quick iteration on one cases file).

use std::fmt::Write as _;

use rudder_engine::{funcs, MissingKey, TemplateSet, Value};

use crate::cases::{Case, Outcome};

/// Renders one case with the Helm function table, as the oracle does with Go.
pub fn run_rudder(c: &Case) -> Outcome {
    let mut set = TemplateSet::new(funcs::helm());
    match c.option.as_str() {
        "missingkey=zero" => set.set_missing_key(MissingKey::Zero),
        "missingkey=error" => set.set_missing_key(MissingKey::Error),
        _ => {}
    }
    let data: serde_json::Value = serde_json::from_str(&c.data).unwrap_or(serde_json::Value::Null);
    let data = Value::from_json(&data);
    if let Err(e) = set.parse(&c.name, &c.template) {
        return Outcome { output: String::new(), error: e.message };
    }
    let mut out = String::new();
    let error = match set.execute_to(&c.name, &data, &mut out) {
        Ok(()) => String::new(),
        Err(e) => e.message,
    };
    Outcome { output: out, error }
}

/// Runs a case on its own thread with a generous stack (as a chart render would), turning a panic
/// into a visible failure instead of aborting the whole comparison.
pub fn run_isolated(c: &Case) -> Outcome {
    let case = c.clone();
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || std::panic::catch_unwind(|| run_rudder(&case)))
        .map_err(|e| e.to_string())
        .and_then(|h| h.join().map_err(|_| "thread".to_string()))
        .ok()
        .and_then(|r| r.ok())
        .unwrap_or_else(|| Outcome { output: String::new(), error: "RUDDER PANICKED".into() })
}

/// The result of comparing a batch: the names that differ and a human-readable report of them.
pub struct Comparison {
    pub failed: Vec<String>,
    pub report: String,
}

/// Compares Rudder with Go's outcomes (`go[i]` belongs to `cases[i]`).
pub fn compare(cases: &[Case], go: &[Outcome]) -> Comparison {
    let mut report = String::new();
    let mut failed = Vec::new();
    for (c, want) in cases.iter().zip(go) {
        let got = run_isolated(c);
        if &got != want {
            failed.push(c.name.clone());
            let _ = writeln!(
                report,
                "=== {} ({}:{})\n--- template\n{}\n--- data\n{}\n--- go output\n{:?}\n--- go error\n{}\n--- rudder output\n{:?}\n--- rudder error\n{}\n",
                c.name,
                c.file.display(),
                c.line,
                c.template,
                c.data,
                want.output,
                want.error,
                got.output,
                got.error
            );
        }
    }
    Comparison { failed, report }
}

/// A known-differences list from `conformance/known-differences/FILE`: `NAME  REASON` lines,
/// `#` comments.
pub fn known_differences(file: &str) -> std::collections::BTreeMap<String, String> {
    let path = crate::testbed::workspace_root().join("conformance/known-differences").join(file);
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((n, why)) => (n.to_string(), why.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}
