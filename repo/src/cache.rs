//! The content cache (Helm 4's `$HELM_CONTENT_CACHE/<xx>/<sha256>.chart`) and Rudder's small
//! reference map beside it.
//!
//! Helm only finds a cached archive when an index digest names it. Rudder also records, for
//! every chart it fetches, which source and version gave which digest
//! (`<content>/rudder/refs.json`), so that `--offline` can answer `oci://` references, `--repo`
//! lookups and plain URLs without the network, and so that `bundle import` can seed a machine
//! that never saw the repositories. Helm ignores the extra file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value as J};

use crate::{atomic_write, Error, HelmPaths, Result};

/// `RUDDER_OFFLINE=1` (or `true`): every command resolves from the cache only.
pub fn offline_from_env() -> bool {
    matches!(std::env::var("RUDDER_OFFLINE").ok().as_deref().map(str::trim), Some("1" | "true" | "TRUE" | "True" | "yes"))
}

/// One recorded fetch: the chart version a source gave and the archive's sha256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefEntry {
    pub version: String,
    /// sha256 hex of the archive (the content cache key).
    pub digest: String,
    /// OCI manifest digest (`sha256:…`), empty for HTTP sources.
    pub manifest: String,
    /// Where it came from (chart URL or `oci://…:tag`).
    pub url: String,
    /// The chart name.
    pub name: String,
}

fn refs_file(paths: &HelmPaths) -> PathBuf {
    paths.content_cache.join("rudder").join("refs.json")
}

/// All recorded sources: key → entries.
pub fn load_refs(paths: &HelmPaths) -> BTreeMap<String, Vec<RefEntry>> {
    let mut out = BTreeMap::new();
    let Ok(data) = std::fs::read(refs_file(paths)) else { return out };
    let Ok(J::Object(m)) = serde_json::from_slice::<J>(&data) else { return out };
    for (k, v) in m {
        let list = v.as_array().cloned().unwrap_or_default();
        let s = |e: &J, f: &str| e.get(f).and_then(J::as_str).unwrap_or("").to_string();
        out.insert(
            k,
            list.iter()
                .map(|e| RefEntry {
                    version: s(e, "version"),
                    digest: s(e, "digest"),
                    manifest: s(e, "manifest"),
                    url: s(e, "url"),
                    name: s(e, "name"),
                })
                .collect(),
        );
    }
    out
}

/// Record that `key` gave `entry` (replacing an entry with the same version).
pub fn record_ref(paths: &HelmPaths, key: &str, entry: RefEntry) -> Result<()> {
    record_refs(paths, &[(key.to_string(), entry)])
}

/// Record several at once (one read-modify-write of the map).
pub fn record_refs(paths: &HelmPaths, items: &[(String, RefEntry)]) -> Result<()> {
    let mut all = load_refs(paths);
    for (key, entry) in items {
        let list = all.entry(key.clone()).or_default();
        list.retain(|e| e.version != entry.version);
        list.push(entry.clone());
    }
    let mut m = serde_json::Map::new();
    for (k, list) in &all {
        let items: Vec<J> = list
            .iter()
            .map(|e| json!({"version": e.version, "digest": e.digest, "manifest": e.manifest, "url": e.url, "name": e.name}))
            .collect();
        m.insert(k.clone(), J::Array(items));
    }
    let text = serde_json::to_string_pretty(&J::Object(m)).map_err(|e| Error::new(e.to_string()))?;
    atomic_write(&refs_file(paths), text.as_bytes(), 0o644)
}

/// The newest recorded entry of `key` whose version is `version` exactly or satisfies it as a
/// constraint (`""` = newest stable).
pub fn lookup_ref(paths: &HelmPaths, key: &str, version: &str) -> Option<RefEntry> {
    let all = load_refs(paths);
    let list = all.get(key)?;
    pick_version(list, version)
}

pub(crate) fn pick_version(list: &[RefEntry], version: &str) -> Option<RefEntry> {
    use rudder_engine::semver::{Constraints, Version};
    if let Some(e) = list.iter().find(|e| !version.is_empty() && (e.version == version || e.url.ends_with(&format!(":{version}")))) {
        return Some(e.clone());
    }
    let c = Constraints::parse(if version.is_empty() { "*" } else { version }).ok()?;
    let mut best: Option<(Version, &RefEntry)> = None;
    for e in list {
        let Ok(v) = Version::parse(&e.version) else { continue };
        if c.check(&v) && best.as_ref().is_none_or(|(b, _)| v.compare(b) == std::cmp::Ordering::Greater) {
            best = Some((v, e));
        }
    }
    best.map(|(_, e)| e.clone())
}

/// The cached archive for a digest, read and checked (a corrupt entry counts as missing).
pub fn read_cached(paths: &HelmPaths, sha256_hex: &str) -> Option<Vec<u8>> {
    let p = crate::ops::content_cache_get(paths, sha256_hex)?;
    let data = std::fs::read(p).ok()?;
    (crate::sha256_hex(&data) == sha256_hex).then_some(data)
}

/// Put an archive into the content cache (atomically); returns its path.
pub fn put_cached(paths: &HelmPaths, data: &[u8]) -> Result<(String, PathBuf)> {
    let digest = crate::sha256_hex(data);
    let path = paths.content_cache_file(&digest, ".chart");
    if read_cached(paths, &digest).is_none() {
        atomic_write(&path, data, 0o644)?;
    }
    Ok((digest, path))
}

/// The error every offline miss gives: one line naming the chart and the version.
pub fn offline_miss(what: &str, version: &str) -> Error {
    let v = if version.is_empty() { "latest".to_string() } else { version.to_string() };
    Error::new(format!(
        "offline: chart {what:?} version {v:?} is not in the local cache (fetch it once online, or import a bundle with 'rudder bundle import')"
    ))
}
