//! Quick differential run of `rudder template` against the real `helm template` over the corpus
//! charts: `cargo run -q -p rudder-conformance --bin template-diff -- [CHART | CHART/VARIANT]...`.
//! Prints one line per variant and `N passed, M failed`; full diffs go to
//! `target/conformance/template/`.

fn main() {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let outcomes = rudder_conformance::template_diff::run_all(&only);
    print!("{}", rudder_conformance::template_diff::report(&outcomes));
}
