//! `engine-bench -n N -data FILE.json TEMPLATE...`: the same job as `gotmpl-oracle bench`, done
//! by Rudder's engine. Parses every template once into one set (named by path, as Helm parses a
//! chart, with `missingkey=zero`), then executes every non-partial template N times and prints
//! `ns_per_iteration` and `bytes_per_iteration`, so that `bench/engine` can put the two side by
//! side. Parsing is outside the timed loop on both sides: the goal compares execution with parse
//! results cached per template set.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use rudder_engine::{funcs, MissingKey, TemplateSet, Value};

fn main() -> Result<()> {
    let mut n: usize = 100;
    let mut data_path = None;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-n" => n = args.next().context("-n needs a number")?.parse()?,
            "-data" => data_path = Some(args.next().context("-data needs a file")?),
            _ => paths.push(a),
        }
    }
    let Some(data_path) = data_path else { bail!("usage: engine-bench -n N -data FILE.json TEMPLATE...") };
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&data_path)?)
        .with_context(|| format!("{data_path}: not JSON"))?;
    let data = Value::from_json(&json);
    let mut set = TemplateSet::new(funcs::helm()).with_name("bench");
    set.set_missing_key(MissingKey::Zero);
    let mut names = Vec::new();
    for p in &paths {
        let text = std::fs::read_to_string(p).with_context(|| format!("reading {p}"))?;
        set.parse(p, &text).map_err(|e| anyhow::anyhow!("{e}"))?;
        let base = std::path::Path::new(p).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        if !base.starts_with('_') {
            names.push(p.clone());
        }
    }
    let mut sink = 0usize;
    let start = Instant::now();
    for _ in 0..n {
        for name in &names {
            let out = set.execute(name, &data).map_err(|e| anyhow::anyhow!("{e}"))?;
            sink += out.len();
        }
    }
    let elapsed = start.elapsed();
    println!("ns_per_iteration {}\nbytes_per_iteration {}", elapsed.as_nanos() / n as u128, sink / n.max(1));
    Ok(())
}
