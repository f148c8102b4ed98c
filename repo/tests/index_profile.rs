//! Phase timings of index loading on a file named by RUDDER_INDEX_PROFILE (skipped without it:
//! a measuring aid for bench/index, not a check).
#[test]
fn index_load_phases() {
    let Some(p) = std::env::var_os("RUDDER_INDEX_PROFILE") else {
        return;
    };
    let data = std::fs::read(&p).unwrap();
    let t = std::time::Instant::now();
    let fast = rudder_repo::index_reader::read(&data, "x");
    eprintln!(
        "index_reader: {:?} ({:?})",
        t.elapsed(),
        fast.as_ref()
            .map(|i| i.entries.len())
            .map_err(|e| e.to_string())
    );
    if std::env::var_os("RUDDER_INDEX_PROFILE_FAST_ONLY").is_some() {
        return;
    }
    let t = std::time::Instant::now();
    let text = String::from_utf8_lossy(&data);
    let doc = rudder_engine::yaml::from_yaml(&text).unwrap();
    eprintln!("from_yaml: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let s = rudder_engine::json::to_json_raw(&doc).unwrap();
    eprintln!("to_json_raw: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let _j: serde_json::Value = serde_json::from_str(&s).unwrap();
    eprintln!("serde parse: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let idx = rudder_repo::IndexFile::parse(&data, "x").unwrap();
    eprintln!(
        "parse total: {:?} ({} charts)",
        t.elapsed(),
        idx.entries.len()
    );
}
