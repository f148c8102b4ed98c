//! Rudder's template engine against the real Go `text/template` + sprig v3.3.0 + Helm's
//! functions (`gotmpl-oracle`), byte for byte, output and error text, over every case in
//! `conformance/cases/engine/`. Known differences are listed with a reason in
//! `conformance/known-differences/engine_vs_go.txt` and still count as failures in the N/M
//! figure; an unlisted failure or a listed case that now passes fails this test.


use rudder_conformance::cases::{load_dir, run_oracle};
use rudder_conformance::engine_diff::compare;
use rudder_conformance::testbed::{oracle, workspace_root};

#[test]
fn engine_matches_go_text_template() {
    let cases = load_dir(&workspace_root().join("conformance/cases/engine")).unwrap();
    assert!(!cases.is_empty(), "no cases found");
    let go = run_oracle(&oracle("gotmpl-oracle"), &cases).unwrap();
    let known = rudder_conformance::engine_diff::known_differences("engine_vs_go.txt");
    let cmp = compare(&cases, &go);
    let (failed, report) = (cmp.failed, cmp.report);
    let passed = cases.len() - failed.len();
    let dir = workspace_root().join("target/conformance");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("engine_vs_go.txt"), &report).unwrap();
    std::fs::write(dir.join("engine_vs_go.failed"), failed.join("\n")).unwrap();
    println!("engine_vs_go: {passed} passed, {} failed (of {} cases); report: target/conformance/engine_vs_go.txt", failed.len(), cases.len());

    let unexpected: Vec<&String> = failed.iter().filter(|n| !known.contains_key(*n)).collect();
    let fixed: Vec<&String> = known.keys().filter(|n| !failed.contains(n)).collect();
    assert!(
        unexpected.is_empty(),
        "{} case(s) differ from Go and are not listed in conformance/known-differences/engine_vs_go.txt: {:?}",
        unexpected.len(),
        unexpected.iter().take(50).collect::<Vec<_>>()
    );
    assert!(
        fixed.is_empty(),
        "these listed known differences now match Go; remove them from the list: {fixed:?}"
    );
}
