//! Dependency rules (Helm: pkg/chart/v2/lint/rules/dependencies.go).

use super::{Linter, Severity};

/// `rules.Dependencies`: the chart loads, every subchart in `charts/` is declared, names and
/// aliases are unique, every declared dependency is present.
pub fn dependencies(linter: &mut Linter) {
    let chart = match crate::load::load_dir(&linter.chart_dir) {
        Ok(c) => c,
        Err(e) => {
            linter.rule(Severity::Error, "", Err(format!("unable to load chart\n\t{e}")));
            return;
        }
    };
    let dir = linter.chart_dir.display().to_string();
    let declared: Vec<&str> = chart.metadata.dependencies.iter().map(|d| d.name.as_str()).collect();
    let missing_meta: Vec<&str> = chart.dependencies.iter().map(|d| d.name()).filter(|n| !declared.contains(n)).collect();
    linter.rule(
        Severity::Error,
        &dir,
        if missing_meta.is_empty() {
            Ok(())
        } else {
            Err(format!("chart metadata is missing these dependencies: {}", missing_meta.join(",")))
        },
    );
    let mut seen = std::collections::HashSet::new();
    let mut shadowing = Vec::new();
    for d in &chart.metadata.dependencies {
        let key = if d.alias.is_empty() { d.name.as_str() } else { d.alias.as_str() };
        if !seen.insert(key) {
            shadowing.push(key);
        }
    }
    linter.rule(
        Severity::Error,
        &dir,
        if shadowing.is_empty() {
            Ok(())
        } else {
            Err(format!("multiple dependencies with name or alias: {}", shadowing.join(",")))
        },
    );
    let present: Vec<&str> = chart.dependencies.iter().map(|d| d.name()).collect();
    let missing: Vec<&str> = declared.iter().copied().filter(|n| !present.contains(n)).collect();
    linter.rule(
        Severity::Warning,
        &dir,
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("chart directory is missing these dependencies: {}", missing.join(",")))
        },
    );
}
