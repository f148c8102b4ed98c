//! The parsed form of a cached `index.yaml`, keyed by the file's sha256.
//!
//! A large index (Bitnami's was 15 MB) costs seconds to parse as YAML and validate entry by
//! entry; the same bytes are read by every `pull`, `template repo/chart` and `dependency`
//! command. After the first parse Rudder writes the validated entries as compact JSON below
//! `<dir>/.rudder/<file>.<sha256>.json/` (one file per chart) and reads that instead while the
//! index file keeps the same digest; a lookup of one chart reads one small file. Stale caches of the same file are removed when a new one is written. Helm never
//! looks into the hidden directory.

use std::path::{Path, PathBuf};

use rudder_chart::model::{Dependency, Maintainer, Metadata};
use serde_json::{json, Value as J};

use crate::index::{ChartVersion, IndexFile};

const FORMAT: u64 = 1;

/// Where the parsed cache of `index` with this digest lives (a directory).
pub fn cache_path(index: &Path, sha256_hex: &str) -> Option<PathBuf> {
    let dir = index.parent()?;
    let name = index.file_name()?.to_string_lossy();
    Some(dir.join(".rudder").join(format!("{name}.{sha256_hex}.json")))
}

fn md_json(md: &Metadata) -> J {
    let deps: Vec<J> = md
        .dependencies
        .iter()
        .map(|d| {
            let iv: Vec<J> = d.import_values.iter().filter_map(|v| crate::engine_to_json(v).ok()).collect();
            json!([d.name, d.version, d.repository, d.condition, d.tags, d.enabled, iv, d.alias])
        })
        .collect();
    let ms: Vec<J> = md.maintainers.iter().map(|m| json!([m.name, m.email, m.url])).collect();
    json!([
        md.name, md.home, md.sources, md.version, md.description, md.keywords, ms, md.icon,
        md.api_version, md.condition, md.tags, md.app_version, md.deprecated, md.annotations,
        md.kube_version, deps, md.chart_type
    ])
}

fn s(v: &J) -> String {
    v.as_str().unwrap_or("").to_string()
}
fn list(v: &J) -> Vec<String> {
    v.as_array().map(|a| a.iter().map(s).collect()).unwrap_or_default()
}

fn md_from(v: &J) -> Option<Metadata> {
    let a = v.as_array()?;
    if a.len() != 17 {
        return None;
    }
    Some(Metadata {
        name: s(&a[0]),
        home: s(&a[1]),
        sources: list(&a[2]),
        version: s(&a[3]),
        description: s(&a[4]),
        keywords: list(&a[5]),
        maintainers: a[6]
            .as_array()?
            .iter()
            .filter_map(|m| m.as_array().map(|m| Maintainer { name: s(&m[0]), email: s(&m[1]), url: s(&m[2]) }))
            .collect(),
        icon: s(&a[7]),
        api_version: s(&a[8]),
        condition: s(&a[9]),
        tags: s(&a[10]),
        app_version: s(&a[11]),
        deprecated: a[12].as_bool().unwrap_or(false),
        annotations: a[13].as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), s(v))).collect()).unwrap_or_default(),
        kube_version: s(&a[14]),
        dependencies: a[15]
            .as_array()?
            .iter()
            .filter_map(|d| {
                let d = d.as_array()?;
                Some(Dependency {
                    name: s(&d[0]),
                    version: s(&d[1]),
                    repository: s(&d[2]),
                    condition: s(&d[3]),
                    tags: list(&d[4]),
                    enabled: d[5].as_bool().unwrap_or(false),
                    import_values: d[6].as_array().map(|a| a.iter().map(rudder_engine::Value::from_json).collect()).unwrap_or_default(),
                    alias: s(&d[7]),
                })
            })
            .collect(),
        chart_type: s(&a[16]),
    })
}

const SOURCE: &str = "\u{1}source\u{1}";

fn source_attr(source: &str) -> String {
    format!("source={}", rudder_chart::manifest::sorter::slog_value(source))
}

fn chart_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{}.json", crate::hex(name.as_bytes())))
}

/// Write the cache (best effort: a failure only costs the next load a parse). `source` is what
/// the warnings name; a later load names its own. Layout: `<digest dir>/index.json` (the index
/// without entries, plus the chart names) and one `<hex name>.json` per chart, so a lookup of
/// one chart reads only its own versions.
pub fn write(path: &Path, idx: &IndexFile, source: &str) {
    let attr = source_attr(source);
    let warnings: Vec<String> = idx.warnings.iter().map(|w| w.replace(&attr, SOURCE)).collect();
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    if std::fs::create_dir_all(&tmp).is_err() {
        return;
    }
    for (name, cvs) in &idx.entries {
        let items: Vec<J> = cvs
            .iter()
            .map(|cv| json!([md_json(&cv.metadata), cv.urls, cv.created, cv.removed, cv.digest]))
            .collect();
        let Ok(text) = serde_json::to_vec(&J::Array(items)) else { return };
        if std::fs::write(chart_file(&tmp, name), text).is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
            return;
        }
    }
    let names: Vec<&String> = idx.entries.keys().collect();
    let meta = json!({
        "format": FORMAT, "apiVersion": idx.api_version, "generated": idx.generated,
        "publicKeys": idx.public_keys, "annotations": idx.annotations, "warnings": warnings,
        "charts": names,
    });
    let Ok(text) = serde_json::to_vec(&meta) else { return };
    if std::fs::write(tmp.join("index.json"), text).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
        return;
    }
    // Older digests of the same index are stale now.
    if let Some(dir) = path.parent() {
        let own = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let stem = own.strip_suffix(".json").and_then(|p| p.rsplit_once('.')).map(|(n, _)| n.to_string()).unwrap_or_default();
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if n != own && n.starts_with(&format!("{stem}.")) && n.ends_with(".json") {
                    let _ = std::fs::remove_dir_all(e.path());
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(path);
    let _ = std::fs::remove_file(path);
    if std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
}

fn read_chart(dir: &Path, name: &str) -> Option<Vec<ChartVersion>> {
    let data = std::fs::read(chart_file(dir, name)).ok()?;
    let items: J = serde_json::from_slice(&data).ok()?;
    let mut cvs = Vec::new();
    for it in items.as_array()? {
        let a = it.as_array()?;
        cvs.push(ChartVersion {
            metadata: md_from(a.first()?)?,
            urls: list(a.get(1)?),
            created: s(a.get(2)?),
            removed: a.get(3)?.as_bool().unwrap_or(false),
            digest: s(a.get(4)?),
        });
    }
    Some(cvs)
}

/// Read the cache (every chart, or only `only`); `None` when absent or not in this format.
pub fn read_some(path: &Path, source: &str, only: Option<&str>) -> Option<IndexFile> {
    let attr = source_attr(source);
    let data = std::fs::read(path.join("index.json")).ok()?;
    let doc: J = serde_json::from_slice(&data).ok()?;
    if doc.get("format")?.as_u64()? != FORMAT {
        return None;
    }
    let mut idx = IndexFile {
        api_version: s(doc.get("apiVersion")?),
        generated: s(doc.get("generated")?),
        public_keys: list(doc.get("publicKeys")?),
        annotations: doc.get("annotations")?.as_object()?.iter().map(|(k, v)| (k.clone(), s(v))).collect(),
        warnings: list(doc.get("warnings")?).iter().map(|w| w.replace(SOURCE, &attr)).collect(),
        ..IndexFile::default()
    };
    for name in list(doc.get("charts")?) {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        idx.entries.insert(name.clone(), read_chart(path, &name)?);
    }
    Some(idx)
}

/// Read the whole cached index.
pub fn read(path: &Path, source: &str) -> Option<IndexFile> {
    read_some(path, source, None)
}
