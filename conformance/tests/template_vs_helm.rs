//! `rudder template` against the real `helm template` (Helm v4.3.1) over every corpus chart and
//! every values variant in `conformance/cases/charts/<chart>/`, byte for byte. Variants that
//! still differ are listed with a reason in `conformance/known-differences/template_vs_helm.txt`
//! (`chart/variant  reason`) and count as failures in the N/M figure; an unlisted failure, or a
//! listed variant that now matches, fails this test.

use std::collections::BTreeMap;

use rudder_conformance::template_diff::{report, run_all};
use rudder_conformance::testbed::workspace_root;

fn known_differences() -> BTreeMap<String, String> {
    let path = workspace_root().join("conformance/known-differences/template_vs_helm.txt");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((n, why)) => (n.to_string(), why.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

#[test]
fn template_matches_helm() {
    let outcomes = run_all(&[]);
    assert!(!outcomes.is_empty(), "no corpus charts found");
    let text = report(&outcomes);
    let dir = workspace_root().join("target/conformance");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("template_vs_helm.txt"), &text).unwrap();
    print!("{text}");
    let failed: Vec<String> = outcomes.iter().filter(|o| !o.identical).map(|o| o.variant.id()).collect();
    let passed = outcomes.len() - failed.len();
    println!(
        "template_vs_helm: {passed} passed, {} failed (of {}); report: target/conformance/template_vs_helm.txt, diffs: target/conformance/template/",
        failed.len(),
        outcomes.len()
    );
    let known = known_differences();
    let unexpected: Vec<&String> = failed.iter().filter(|n| !known.contains_key(*n)).collect();
    let fixed: Vec<&String> = known.keys().filter(|n| !failed.contains(n) && outcomes.iter().any(|o| o.variant.id() == **n)).collect();
    assert!(
        unexpected.is_empty(),
        "{} variant(s) differ from helm and are not listed in conformance/known-differences/template_vs_helm.txt: {unexpected:?}",
        unexpected.len()
    );
    assert!(fixed.is_empty(), "these listed known differences now match helm; remove them from the list: {fixed:?}");
}
