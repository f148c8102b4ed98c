//! `engine-diff [FILE.cases|DIR]... [--only SUBSTRING]`: runs template cases through Go's
//! `gotmpl-oracle` and Rudder's engine and prints every difference, then `N passed, M failed`.
//! `--generated SEED:COUNT` adds generated cases (`rudder_conformance::gen`). Default input:
//! `conformance/cases/engine/`.

use std::path::PathBuf;

use anyhow::Result;
use rudder_conformance::cases::{load_dir, parse_cases, run_oracle};
use rudder_conformance::engine_diff::compare;
use rudder_conformance::testbed::{oracle, workspace_root};

fn main() -> Result<()> {
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut only: Option<String> = None;
    let mut generated: Option<(u64, usize)> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--only" {
            only = args.next();
        } else if a == "--generated" {
            // --generated SEED:COUNT
            let spec = args.next().unwrap_or_default();
            let (s, c) = spec.split_once(':').unwrap_or((spec.as_str(), "1000"));
            generated = Some((s.parse()?, c.parse()?));
        } else {
            paths.push(PathBuf::from(a));
        }
    }
    if paths.is_empty() && generated.is_none() {
        paths.push(workspace_root().join("conformance/cases/engine"));
    }
    let mut cases = Vec::new();
    for p in &paths {
        if p.is_dir() {
            cases.extend(load_dir(p)?);
        } else {
            cases.extend(parse_cases(p)?);
        }
    }
    if let Some((seed, count)) = generated {
        cases.extend(rudder_conformance::gen::generate(seed, count));
    }
    if let Some(o) = &only {
        cases.retain(|c| c.name.contains(o.as_str()));
    }
    let go = run_oracle(&oracle("gotmpl-oracle"), &cases)?;
    let cmp = compare(&cases, &go);
    print!("{}", cmp.report);
    println!("{} passed, {} failed", cases.len() - cmp.failed.len(), cmp.failed.len());
    if !cmp.failed.is_empty() {
        println!("failed: {}", cmp.failed.join(" "));
    }
    Ok(())
}
