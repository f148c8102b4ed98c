//! Repository `index.yaml` (pkg/repo/v1/index.go): load, sort, look up a version.

use std::collections::BTreeMap;
use std::path::Path;

use rudder_chart::model::Metadata;
use rudder_engine::semver::{Constraints, Version};
use serde_json::Value as J;

use crate::{engine_to_json, Error, Result};

/// One chart version in an index (Go: `repo.ChartVersion`).
#[derive(Clone, Debug, Default)]
pub struct ChartVersion {
    pub metadata: Metadata,
    pub urls: Vec<String>,
    /// RFC 3339 text as found.
    pub created: String,
    pub removed: bool,
    /// sha256 hex of the archive (may carry a `sha256:` prefix).
    pub digest: String,
}

impl ChartVersion {
    pub fn name(&self) -> &str {
        &self.metadata.name
    }
    pub fn version(&self) -> &str {
        &self.metadata.version
    }
}

/// A loaded index (Go: `repo.IndexFile`). Entries are sorted newest first.
#[derive(Clone, Debug, Default)]
pub struct IndexFile {
    pub api_version: String,
    pub generated: String,
    pub entries: BTreeMap<String, Vec<ChartVersion>>,
    pub public_keys: Vec<String>,
    pub annotations: BTreeMap<String, String>,
    /// Entries skipped while loading, one line each (Helm logs them as warnings).
    pub warnings: Vec<String>,
}

fn strings(v: Option<&J>) -> Vec<String> {
    match v {
        Some(J::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        _ => vec![],
    }
}

impl IndexFile {
    /// Go: `loadIndex(data, source)`: JSON when the text is valid JSON, YAML otherwise.
    pub fn parse(data: &[u8], source: &str) -> Result<IndexFile> {
        if data.is_empty() {
            return Err(Error::new("empty index.yaml file"));
        }
        let text = String::from_utf8_lossy(data);
        let doc = match serde_json::from_slice::<J>(data) {
            Ok(j) => rudder_engine::Value::from_json(&j),
            Err(_) => rudder_engine::yaml::from_yaml(&text).map_err(Error::new)?,
        };
        let json = engine_to_json(&doc)?;
        let mut idx = IndexFile::default();
        let top = match &json {
            J::Object(m) => m,
            J::Null => return Err(Error::new("no API version specified")),
            other => {
                return Err(Error::new(format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type repo.IndexFile",
                    crate::repofile::json_kind(other)
                )))
            }
        };
        idx.api_version = crate::repofile::str_field(top, "apiVersion", "IndexFile")?;
        idx.generated = top.get("generated").and_then(J::as_str).unwrap_or_default().to_string();
        idx.public_keys = strings(top.get("publicKeys"));
        if let Some(J::Object(a)) = top.get("annotations") {
            idx.annotations =
                a.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect();
        }
        let engine_entries = match &doc {
            rudder_engine::Value::Map(m) => m.get("entries"),
            _ => None,
        };
        if let Some(rudder_engine::Value::Map(em)) = engine_entries {
            let em = em.read();
            for (name, list) in em.iter() {
                let items: Vec<rudder_engine::Value> = match list {
                    rudder_engine::Value::List(l) => l.items.clone(),
                    _ => vec![],
                };
                let mut cvs = Vec::new();
                for item in items {
                    if let rudder_engine::Value::Map(m) = &item {
                        let j = engine_to_json(&rudder_engine::Value::Map(m.clone()))?;
                        let o = j.as_object().cloned().unwrap_or_default();
                        for f in ["digest", "created"] {
                            crate::repofile::str_field(&o, f, "IndexFile.entries")?;
                        }
                    }
                    match load_entry(&item) {
                        Ok(cv) => cvs.push(cv),
                        Err((version, e)) => idx.warnings.push(format!(
                            "skipping loading invalid entry for chart {name:?} {version:?} from {source}: {e}"
                        )),
                    }
                }
                sort_versions(&mut cvs);
                idx.entries.insert(name.to_string(), cvs);
            }
        }
        if idx.api_version.is_empty() {
            return Err(Error::new("no API version specified"));
        }
        Ok(idx)
    }

    /// Go: `repo.LoadIndexFile(path)`.
    pub fn load(path: &Path) -> Result<IndexFile> {
        let data = std::fs::read(path)
            .map_err(|e| Error::new(format!("open {}: {}", path.display(), crate::io_msg(&e))))?;
        IndexFile::parse(&data, &path.display().to_string())
            .map_err(|e| Error::new(format!("error loading {}: {e}", path.display())))
    }

    /// Go: `IndexFile.Get(name, version)`: an exact version string first, then the newest
    /// version satisfying the constraint (`""` = `*`, which excludes prereleases).
    pub fn get(&self, name: &str, version: &str) -> Result<&ChartVersion> {
        let vs = self.entries.get(name).ok_or_else(|| Error::new("no chart name found"))?;
        if vs.is_empty() {
            return Err(Error::new("no chart version found"));
        }
        let constraint =
            Constraints::parse(if version.is_empty() { "*" } else { version }).map_err(|e| Error::new(e.to_string()))?;
        if !version.is_empty() {
            if let Some(v) = vs.iter().find(|v| v.metadata.version == version) {
                return Ok(v);
            }
        }
        for v in vs {
            if let Ok(test) = Version::parse(&v.metadata.version) {
                if constraint.check(&test) {
                    return Ok(v);
                }
            }
        }
        Err(Error::new(format!("no chart version found for {name}-{version}")))
    }

    pub fn has(&self, name: &str, version: &str) -> bool {
        self.get(name, version).is_ok()
    }

    /// `<name>-charts.txt` content: each chart name and a newline (Helm writes them in Go's
    /// random map order; Rudder writes them sorted).
    pub fn charts_txt(&self) -> String {
        self.entries.keys().map(|k| format!("{k}\n")).collect()
    }
}

/// The version constraint `--devel` means when no `--version` is given.
pub fn effective_version(version: &str, devel: bool) -> String {
    if version.is_empty() && devel { ">0.0.0-0".into() } else { version.to_string() }
}

/// Sort newest first; versions that do not parse go last (Go: `sort.Sort(sort.Reverse(..))`,
/// done stably here).
pub fn sort_versions(cvs: &mut [ChartVersion]) {
    cvs.sort_by(|a, b| {
        match (Version::parse(&a.metadata.version), Version::parse(&b.metadata.version)) {
            (Ok(x), Ok(y)) => y.compare(&x),
            (Ok(_), Err(_)) => std::cmp::Ordering::Less,
            (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
            (Err(_), Err(_)) => std::cmp::Ordering::Equal,
        }
    });
}

fn load_entry(item: &rudder_engine::Value) -> std::result::Result<ChartVersion, (String, String)> {
    if matches!(item, rudder_engine::Value::Nil | rudder_engine::Value::Missing) {
        return Err((String::new(), "empty entry".into()));
    }
    let mut md = Metadata::default();
    rudder_chart::metadata::decode_metadata(item, &mut md).map_err(|e| (String::new(), e))?;
    if md.api_version.is_empty() {
        md.api_version = "v1".into();
    }
    let version = md.version.clone();
    if let Err(e) = rudder_chart::metadata::validate(&mut md) {
        if !e.starts_with("more than one dependency with name or alias") {
            return Err((version, format!("validation: {e}")));
        }
    }
    let j = engine_to_json(item).map_err(|e| (version.clone(), e.0))?;
    let m = j.as_object().cloned().unwrap_or_default();
    Ok(ChartVersion {
        metadata: md,
        urls: strings(m.get("urls")),
        created: m.get("created").and_then(J::as_str).unwrap_or_default().to_string(),
        removed: m.get("removed").and_then(J::as_bool).unwrap_or(false),
        digest: m.get("digest").and_then(J::as_str).unwrap_or_default().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDX: &str = "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    urls: [a-1.0.0.tgz]\n  - name: a\n    version: 2.0.0-rc.1\n  - name: a\n    version: 1.10.0\n  - name: a\n    version: not-semver\n  - name: a\n  - null\n";

    #[test]
    fn sorts_skips_and_resolves() {
        let i = IndexFile::parse(IDX.as_bytes(), "t").unwrap();
        let vs: Vec<&str> = i.entries["a"].iter().map(|v| v.version()).collect();
        assert_eq!(vs, ["2.0.0-rc.1", "1.10.0", "1.0.0"]);
        assert_eq!(i.warnings.len(), 3, "{:?}", i.warnings);
        assert_eq!(i.get("a", "").unwrap().version(), "1.10.0");
        assert_eq!(i.get("a", &effective_version("", true)).unwrap().version(), "2.0.0-rc.1");
        assert_eq!(i.get("a", "~1.0").unwrap().version(), "1.0.0");
        assert_eq!(i.get("a", "1.0.0").unwrap().urls, ["a-1.0.0.tgz"]);
        assert_eq!(i.get("a", "3").unwrap_err().0, "no chart version found for a-3");
        assert_eq!(i.get("b", "").unwrap_err().0, "no chart name found");
        assert_eq!(IndexFile::parse(b"entries: {}", "t").unwrap_err().0, "no API version specified");
        let j = IndexFile::parse(br#"{"apiVersion":"v1","entries":{"x":[{"name":"x","version":"0.1.0"}]}}"#, "t").unwrap();
        assert_eq!(j.get("x", "").unwrap().version(), "0.1.0");
    }
}
