//! Generated templates (`rudder_conformance::gen`, fixed seeds) through Rudder's engine and the
//! real Go `text/template` + sprig (`gotmpl-oracle`), byte for byte, output and error text. As in
//! `engine_vs_go`, known differences are listed with a reason in
//! `conformance/known-differences/engine_generated_vs_go.txt`; an unlisted failure, or a listed
//! case that now passes, fails the test. `RUDDER_GEN_SEED=N` runs another seed (report only).

use rudder_conformance::cases::run_oracle;
use rudder_conformance::engine_diff::compare;
use rudder_conformance::gen::generate;
use rudder_conformance::testbed::{oracle, workspace_root};

const SEED: u64 = 1;
const COUNT: usize = 1500;

#[test]
fn generated_templates_match_go() {
    let seed = std::env::var("RUDDER_GEN_SEED").ok().and_then(|s| s.parse().ok());
    let cases = generate(seed.unwrap_or(SEED), COUNT);
    let go = run_oracle(&oracle("gotmpl-oracle"), &cases).unwrap();
    let cmp = compare(&cases, &go);
    let dir = workspace_root().join("target/conformance");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("engine_generated_vs_go.txt"), &cmp.report).unwrap();
    std::fs::write(dir.join("engine_generated_vs_go.failed"), cmp.failed.join("\n")).unwrap();
    let go_errors = go.iter().filter(|o| !o.error.is_empty()).count();
    println!(
        "engine_generated_vs_go: {} passed, {} failed (of {} cases, {} of them Go errors); report: target/conformance/engine_generated_vs_go.txt",
        cases.len() - cmp.failed.len(),
        cmp.failed.len(),
        cases.len(),
        go_errors
    );
    if seed.is_some() {
        return;
    }
    let known = rudder_conformance::engine_diff::known_differences("engine_generated_vs_go.txt");
    let unexpected: Vec<&String> = cmp.failed.iter().filter(|n| !known.contains_key(*n)).collect();
    let fixed: Vec<&String> = known.keys().filter(|n| !cmp.failed.contains(n)).collect();
    assert!(
        unexpected.is_empty(),
        "{} generated case(s) differ from Go and are not listed in conformance/known-differences/engine_generated_vs_go.txt: {:?}",
        unexpected.len(),
        unexpected.iter().take(50).collect::<Vec<_>>()
    );
    assert!(fixed.is_empty(), "these listed known differences now match Go; remove them from the list: {fixed:?}");
}
