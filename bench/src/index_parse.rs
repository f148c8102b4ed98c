//! `index-parse FILE [generic]`: how long `IndexFile::parse` (the one-pass reader, or with
//! `generic` the engine's value-tree path) takes on one index.yaml, and the process's peak RSS
//! afterwards. bench/index runs it beside `helm`; it isolates the parse from download, cache
//! writes and process start-up.

use std::time::Instant;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: index-parse FILE [generic]"))?;
    let generic = args.next().as_deref() == Some("generic");
    let data = std::fs::read(&path)?;
    let t = Instant::now();
    let idx = if generic {
        rudder_repo::IndexFile::parse_generic(&data, &path)
    } else {
        rudder_repo::IndexFile::parse(&data, &path)
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let took = t.elapsed();
    let rss = peak_rss_kib();
    let versions: usize = idx.entries.values().map(Vec::len).sum();
    let path_taken = if generic {
        "generic".to_string()
    } else {
        match rudder_repo::index_reader::read(&data, &path) {
            Ok(_) => "one-pass reader".to_string(),
            Err(why) => format!("generic ({why})"),
        }
    };
    println!(
        "{:.3} s, peak RSS {} KiB, {} charts, {} versions, {} warnings ({path_taken})",
        took.as_secs_f64(),
        rss,
        idx.entries.len(),
        versions,
        idx.warnings.len()
    );
    Ok(())
}
