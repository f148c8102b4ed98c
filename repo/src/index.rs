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

impl IndexFile {
    /// Go: `loadIndex(data, source)`: JSON when the text is valid JSON, YAML otherwise.
    ///
    /// Helm-written and similar block-style YAML goes through the dedicated
    /// [`crate::index_reader`]; anything it does not take (JSON, odd YAML, errors) through
    /// [`IndexFile::parse_generic`]. Both give the same result.
    pub fn parse(data: &[u8], source: &str) -> Result<IndexFile> {
        match crate::index_reader::read(data, source) {
            Ok(idx) => Ok(idx),
            Err(_) => IndexFile::parse_generic(data, source),
        }
    }

    /// [`IndexFile::parse`] through the engine's generic YAML reader (or serde_json for JSON):
    /// every document, at the cost of a value tree of the whole index.
    pub fn parse_generic(data: &[u8], source: &str) -> Result<IndexFile> {
        if data.is_empty() {
            return Err(Error::new("empty index.yaml file"));
        }
        let text = String::from_utf8_lossy(data);
        let (doc, strict) = match serde_json::from_slice::<J>(data) {
            Ok(j) => (rudder_engine::Value::from_json(&j), false),
            Err(_) => {
                let doc = rudder_engine::yaml::from_yaml(&text).map_err(Error::new)?;
                if let Some(e) = duplicate_keys(&text) {
                    return Err(Error::new(e));
                }
                (doc, true)
            }
        };
        // YAML goes through `yaml.UnmarshalStrict`: unknown fields are errors (JSON is not strict).
        // Everything below reads the engine's value directly: a second, JSON copy of a large
        // index would double the time and the memory.
        if strict {
            if let Some(f) = unknown_field_v(&doc) {
                return Err(Error::new(format!(
                    "error unmarshaling JSON: while decoding JSON: json: unknown field {f:?}"
                )));
            }
        }
        let mut idx = IndexFile::default();
        let top = match &doc {
            V::Map(m) => m.clone(),
            V::Nil | V::Missing => return Err(Error::new("no API version specified")),
            other => {
                return Err(Error::new(format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type repo.IndexFile",
                    kind_v(other)
                )))
            }
        };
        let top = top.read();
        idx.api_version = str_field_v(&top, "apiVersion", "IndexFile")?;
        idx.generated = match field_v(&top, "generated") {
            Some(V::String(s)) => s.to_string(),
            _ => String::new(),
        };
        idx.public_keys = strings_v(field_v(&top, "publicKeys"));
        if let Some(V::Map(a)) = field_v(&top, "annotations") {
            idx.annotations = a
                .read()
                .iter()
                .filter_map(|(k, v)| match v {
                    V::String(s) => Some((k.to_string(), s.to_string())),
                    _ => None,
                })
                .collect();
        }
        let engine_entries = field_v(&top, "entries");
        if let Some(rudder_engine::Value::Map(em)) = engine_entries {
            let em = em.read();
            for (name, list) in em.iter() {
                let items: Vec<rudder_engine::Value> = match list {
                    rudder_engine::Value::List(l) => l.items.clone(),
                    _ => vec![],
                };
                let mut cvs = Vec::new();
                let first_warning = idx.warnings.len();
                for item in items {
                    if let V::Map(m) = &item {
                        let m = m.read();
                        for f in ["digest", "created"] {
                            str_field_v(&m, f, "IndexFile.entries")?;
                        }
                    }
                    match load_entry(&item) {
                        Ok(cv) => cvs.push(cv),
                        Err((version, e)) => idx.warnings.push(if e == "empty entry" {
                            skipped_warning(name, None, source, &e)
                        } else {
                            skipped_warning(name, Some(&version), source, &e)
                        }),
                    }
                }
                // Helm walks each list backwards, so its warnings come last entry first.
                idx.warnings[first_warning..].reverse();
                sort_versions(&mut cvs);
                idx.entries.insert(name.to_string(), cvs);
            }
        }
        if idx.api_version.is_empty() {
            return Err(Error::new("no API version specified"));
        }
        Ok(idx)
    }

    /// Go: `repo.LoadIndexFile(path)`. The parsed index is kept beside the file, keyed by the
    /// file's sha256 (`.rudder/<file>.<sha256>.json`), so the next load of the same bytes skips
    /// YAML parsing and validation; skipped-entry warnings are printed to stderr as Helm logs
    /// them, on every load.
    pub fn load(path: &Path) -> Result<IndexFile> {
        IndexFile::load_some(path, None)
    }

    /// [`IndexFile::load`] keeping only the chart `name` (all of the index when it is not cached
    /// yet): what a lookup of one chart needs, without reading every other chart's versions.
    pub fn load_chart(path: &Path, name: &str) -> Result<IndexFile> {
        IndexFile::load_some(path, Some(name))
    }

    fn load_some(path: &Path, only: Option<&str>) -> Result<IndexFile> {
        let data = std::fs::read(path)
            .map_err(|e| Error::new(format!("open {}: {}", path.display(), crate::io_msg(&e))))?;
        let cache = crate::index_cache::cache_path(path, &crate::sha256_hex(&data));
        let source = path.display().to_string();
        if let Some(idx) = cache
            .as_deref()
            .and_then(|c| crate::index_cache::read_some(c, &source, only))
        {
            idx.print_warnings();
            return Ok(idx);
        }
        let idx = IndexFile::parse(&data, &source)
            .map_err(|e| Error::new(format!("error loading {}: {e}", path.display())))?;
        if let Some(c) = &cache {
            crate::index_cache::write(c, &idx, &source);
        }
        idx.print_warnings();
        Ok(idx)
    }

    /// Helm's slog warnings for entries skipped while loading. Helm 4 shows them only in
    /// debug mode (`--debug`, `HELM_DEBUG`).
    pub fn print_warnings(&self) {
        let debug = std::env::var("HELM_DEBUG")
            .is_ok_and(|v| matches!(v.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True"));
        if !debug {
            return;
        }
        for w in &self.warnings {
            eprintln!("{w}");
        }
    }

    /// Go: `IndexFile.Get(name, version)`: an exact version string first, then the newest
    /// version satisfying the constraint (`""` = `*`, which excludes prereleases).
    pub fn get(&self, name: &str, version: &str) -> Result<&ChartVersion> {
        let vs = self
            .entries
            .get(name)
            .ok_or_else(|| Error::new("no chart name found"))?;
        if vs.is_empty() {
            return Err(Error::new("no chart version found"));
        }
        let constraint = Constraints::parse(if version.is_empty() { "*" } else { version })
            .map_err(|e| Error::new(e.to_string()))?;
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
        Err(Error::new(format!(
            "no chart version found for {name}-{version}"
        )))
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
    if version.is_empty() && devel {
        ">0.0.0-0".into()
    } else {
        version.to_string()
    }
}

/// Sort newest first; versions that do not parse go last (Go: `sort.Sort(sort.Reverse(..))`,
/// done stably here).
pub fn sort_versions(cvs: &mut [ChartVersion]) {
    // Each version parsed once (a comparator that parses costs n log n parses).
    let mut keyed: Vec<(Option<Version>, usize)> = cvs
        .iter()
        .enumerate()
        .map(|(i, c)| (Version::parse(&c.metadata.version).ok(), i))
        .collect();
    keyed.sort_by(|a, b| match (&a.0, &b.0) {
        (Some(x), Some(y)) => y.compare(x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    let mut taken: Vec<Option<ChartVersion>> =
        cvs.iter_mut().map(|c| Some(std::mem::take(c))).collect();
    for (slot, (_, i)) in cvs.iter_mut().zip(keyed) {
        *slot = taken[i].take().unwrap_or_default();
    }
}

use rudder_engine::Value as V;

type VMap = std::collections::BTreeMap<rudder_engine::value::Str, V>;

/// encoding/json's field match: exact, else case-insensitive.
fn field_v<'a>(m: &'a VMap, name: &str) -> Option<&'a V> {
    m.get(name).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// encoding/json's kind words for a decoded value.
fn kind_v(v: &V) -> &'static str {
    match v {
        V::Nil | V::Missing => "null",
        V::Bool(_) => "bool",
        V::Int(..) | V::Uint(..) | V::Float(..) => "number",
        V::String(_) | V::Bytes(_) => "string",
        V::List(_) => "array",
        _ => "object",
    }
}

fn str_field_v(m: &VMap, name: &str, ctx: &str) -> Result<String> {
    match field_v(m, name) {
        None | Some(V::Nil) | Some(V::Missing) => Ok(String::new()),
        Some(V::String(s)) => Ok(s.to_string()),
        Some(other) => Err(Error::new(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct field {ctx}.{name} of type string",
            kind_v(other)
        ))),
    }
}

fn strings_v(v: Option<&V>) -> Vec<String> {
    match v {
        Some(V::List(l)) => l
            .items
            .iter()
            .filter_map(|x| match x {
                V::String(s) => Some(s.to_string()),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

/// The first field (keys sorted, depth first: encoding/json's decoding order after the JSON
/// step) that `repo.IndexFile` does not have; names match case-insensitively as in encoding/json.
fn unknown_field_v(doc: &V) -> Option<String> {
    fn check(
        m: &VMap,
        known: &[&str],
        nested: &dyn Fn(&str, &V) -> Option<String>,
    ) -> Option<String> {
        for (k, v) in m {
            match known.iter().find(|f| f.eq_ignore_ascii_case(k)) {
                None => return Some(k.to_string()),
                Some(f) => {
                    if let Some(u) = nested(f, v) {
                        return Some(u);
                    }
                }
            }
        }
        None
    }
    fn each_map(v: &V, f: &dyn Fn(&VMap) -> Option<String>) -> Option<String> {
        let V::List(l) = v else { return None };
        l.items.iter().find_map(|x| match x {
            V::Map(m) => f(&m.read()),
            _ => None,
        })
    }
    let V::Map(top) = doc else { return None };
    let top = top.read();
    check(&top, TOP_FIELDS, &|f, v| {
        if f != "entries" {
            return None;
        }
        let V::Map(em) = v else { return None };
        let em = em.read();
        em.values().find_map(|list| {
            each_map(list, &|e| {
                check(e, ENTRY_FIELDS, &|f, v| match f {
                    "maintainers" => each_map(v, &|m| check(m, MAINTAINER_FIELDS, &|_, _| None)),
                    "dependencies" => each_map(v, &|m| check(m, DEPENDENCY_FIELDS, &|_, _| None)),
                    _ => None,
                })
            })
        })
    })
}

/// The fields Helm's index structs know, per level (`repo.IndexFile`; `repo.ChartVersion` with
/// the embedded `chart.Metadata`, 25 fields; `chart.Maintainer`; `chart.Dependency`). Both
/// readers check keys against them (the one-pass reader by bit position: keep the order).
pub(crate) const TOP_FIELDS: &[&str] = &[
    "serverInfo",
    "apiVersion",
    "generated",
    "entries",
    "publicKeys",
    "annotations",
];
pub(crate) const ENTRY_FIELDS: &[&str] = &[
    "name",
    "home",
    "sources",
    "version",
    "description",
    "keywords",
    "maintainers",
    "icon",
    "apiVersion",
    "condition",
    "tags",
    "appVersion",
    "deprecated",
    "annotations",
    "kubeVersion",
    "dependencies",
    "type",
    "urls",
    "created",
    "removed",
    "digest",
    "checksum",
    "engine",
    "tillerVersion",
    "url",
];
pub(crate) const MAINTAINER_FIELDS: &[&str] = &["name", "email", "url"];
pub(crate) const DEPENDENCY_FIELDS: &[&str] = &[
    "name",
    "version",
    "repository",
    "condition",
    "tags",
    "enabled",
    "import-values",
    "alias",
];

fn load_entry(item: &rudder_engine::Value) -> std::result::Result<ChartVersion, (String, String)> {
    if matches!(
        item,
        rudder_engine::Value::Nil | rudder_engine::Value::Missing
    ) {
        return Err((String::new(), "empty entry".into()));
    }
    let mut md = Metadata::default();
    rudder_chart::metadata::decode_metadata(item, &mut md).map_err(|e| (String::new(), e))?;
    if md.api_version.is_empty() {
        md.api_version = "v1".into();
    }
    let V::Map(m) = item else {
        return Err((md.version.clone(), "not a map".into()));
    };
    let m = m.read();
    let text = |k: &str| match field_v(&m, k) {
        Some(V::String(s)) => s.to_string(),
        _ => String::new(),
    };
    finish_entry(
        md,
        strings_v(field_v(&m, "urls")),
        text("created"),
        matches!(field_v(&m, "removed"), Some(V::Bool(true))),
        text("digest"),
    )
}

/// The rest of Helm's `loadIndex` for one decoded entry: `apiVersion` defaults to `v1`, then
/// `ChartVersion.Validate` (a duplicate dependency name is not a reason to skip). The error
/// carries the version as read, for the warning.
pub(crate) fn finish_entry(
    mut md: Metadata,
    urls: Vec<String>,
    created: String,
    removed: bool,
    digest: String,
) -> std::result::Result<ChartVersion, (String, String)> {
    if md.api_version.is_empty() {
        md.api_version = "v1".into();
    }
    let version = md.version.clone();
    if let Err(e) = rudder_chart::metadata::validate(&mut md) {
        if !e.starts_with("more than one dependency with name or alias") {
            return Err((version, format!("validation: {e}")));
        }
    }
    Ok(ChartVersion {
        metadata: md,
        urls,
        created,
        removed,
        digest,
    })
}

/// Helm's slog line for an entry `loadIndex` skips (`version` is `None` for an empty entry).
pub(crate) fn skipped_warning(
    name: &str,
    version: Option<&str>,
    source: &str,
    error: &str,
) -> String {
    let v = rudder_chart::manifest::sorter::slog_value;
    match version {
        None => format!(
            "level=WARN msg=\"skipping loading invalid entry for chart: empty entry\" name={} source={}",
            v(name),
            v(source)
        ),
        Some(version) => format!(
            "level=WARN msg=\"skipping loading invalid entry for chart\" name={} version={} source={} error={}",
            v(name),
            v(version),
            v(source),
            v(error)
        ),
    }
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
        assert_eq!(
            i.get("a", &effective_version("", true)).unwrap().version(),
            "2.0.0-rc.1"
        );
        assert_eq!(i.get("a", "~1.0").unwrap().version(), "1.0.0");
        assert_eq!(i.get("a", "1.0.0").unwrap().urls, ["a-1.0.0.tgz"]);
        assert_eq!(
            i.get("a", "3").unwrap_err().0,
            "no chart version found for a-3"
        );
        assert_eq!(i.get("b", "").unwrap_err().0, "no chart name found");
        assert_eq!(
            IndexFile::parse(b"entries: {}", "t").unwrap_err().0,
            "no API version specified"
        );
        let e = IndexFile::parse(b"apiVersion: v1\nentries:\n  a:\n  - name: a\n    Version: 1.0.0\n    maintainers: [{name: x, zz: 1}]\n", "t");
        assert_eq!(
            e.unwrap_err().0,
            "error unmarshaling JSON: while decoding JSON: json: unknown field \"zz\""
        );
        assert!(IndexFile::parse(b"apiVersion: v1\nfoo: 1\nentries: {}\n", "t").is_err());
        assert!(IndexFile::parse(br#"{"apiVersion":"v1","foo":1,"entries":{}}"#, "t").is_ok());
        let j = IndexFile::parse(
            br#"{"apiVersion":"v1","entries":{"x":[{"name":"x","version":"0.1.0"}]}}"#,
            "t",
        )
        .unwrap();
        assert_eq!(j.get("x", "").unwrap().version(), "0.1.0");
    }
}

// ---- `helm repo index` ------------------------------------------------------------------

pub(crate) fn metadata_json_pub(md: &Metadata) -> Result<serde_json::Map<String, J>> {
    metadata_json(md)
}

fn metadata_json(md: &Metadata) -> Result<serde_json::Map<String, J>> {
    let mut m = serde_json::Map::new();
    let mut s = |k: &str, v: &str| {
        if !v.is_empty() {
            m.insert(k.into(), J::String(v.into()));
        }
    };
    s("name", &md.name);
    s("home", &md.home);
    s("version", &md.version);
    s("description", &md.description);
    s("icon", &md.icon);
    s("apiVersion", &md.api_version);
    s("condition", &md.condition);
    s("tags", &md.tags);
    s("appVersion", &md.app_version);
    s("kubeVersion", &md.kube_version);
    s("type", &md.chart_type);
    let list = |v: &[String]| J::Array(v.iter().cloned().map(J::String).collect());
    if !md.sources.is_empty() {
        m.insert("sources".into(), list(&md.sources));
    }
    if !md.keywords.is_empty() {
        m.insert("keywords".into(), list(&md.keywords));
    }
    if md.deprecated {
        m.insert("deprecated".into(), J::Bool(true));
    }
    if !md.annotations.is_empty() {
        m.insert(
            "annotations".into(),
            J::Object(
                md.annotations
                    .iter()
                    .map(|(k, v)| (k.clone(), J::String(v.clone())))
                    .collect(),
            ),
        );
    }
    if !md.maintainers.is_empty() {
        let ms = md.maintainers.iter().map(|x| {
            let mut o = serde_json::Map::new();
            for (k, v) in [("name", &x.name), ("email", &x.email), ("url", &x.url)] {
                if !v.is_empty() {
                    o.insert(k.into(), J::String(v.clone()));
                }
            }
            J::Object(o)
        });
        m.insert("maintainers".into(), J::Array(ms.collect()));
    }
    if !md.dependencies.is_empty() {
        let mut ds = Vec::new();
        for d in &md.dependencies {
            let mut o = serde_json::Map::new();
            o.insert("name".into(), J::String(d.name.clone()));
            if !d.version.is_empty() {
                o.insert("version".into(), J::String(d.version.clone()));
            }
            o.insert("repository".into(), J::String(d.repository.clone()));
            if !d.condition.is_empty() {
                o.insert("condition".into(), J::String(d.condition.clone()));
            }
            if !d.tags.is_empty() {
                o.insert("tags".into(), list(&d.tags));
            }
            if d.enabled {
                o.insert("enabled".into(), J::Bool(true));
            }
            if !d.import_values.is_empty() {
                let iv: Result<Vec<J>> = d.import_values.iter().map(engine_to_json).collect();
                o.insert("import-values".into(), J::Array(iv?));
            }
            if !d.alias.is_empty() {
                o.insert("alias".into(), J::String(d.alias.clone()));
            }
            ds.push(J::Object(o));
        }
        m.insert("dependencies".into(), J::Array(ds));
    }
    Ok(m)
}

/// Go: `internal/urlutil.URLJoin(base, elem)`: the base URL with `path.Join(base.Path, elem)`.
fn url_join(base: &str, elem: &str) -> String {
    match reqwest::Url::parse(base) {
        Ok(mut u) => {
            let p = crate::paths::go_clean(&format!("{}/{elem}", u.path()));
            u.set_path(&p);
            u.to_string()
        }
        // A relative base (or empty): plain path joining.
        Err(_) => {
            let parts: Vec<&str> = [base, elem].into_iter().filter(|s| !s.is_empty()).collect();
            if parts.is_empty() {
                String::new()
            } else {
                crate::paths::go_clean(&parts.join("/"))
            }
        }
    }
}

impl IndexFile {
    /// Go: `repo.NewIndexFile()`.
    pub fn new() -> IndexFile {
        IndexFile {
            api_version: "v1".into(),
            generated: crate::now_rfc3339(),
            ..IndexFile::default()
        }
    }

    /// Go: `IndexFile.MustAdd(md, filename, baseURL, digest)`.
    pub fn add(
        &mut self,
        mut md: Metadata,
        filename: &str,
        base_url: &str,
        digest: &str,
    ) -> Result<()> {
        if md.api_version.is_empty() {
            md.api_version = "v1".into();
        }
        rudder_chart::metadata::validate(&mut md)
            .map_err(|e| Error::new(format!("validate failed for {filename}: validation: {e}")))?;
        let url = if base_url.is_empty() {
            filename.to_string()
        } else {
            let file = filename.rsplit('/').next().unwrap_or(filename);
            url_join(base_url, file)
        };
        let name = md.name.clone();
        self.entries.entry(name).or_default().push(ChartVersion {
            metadata: md,
            urls: vec![url],
            created: crate::now_rfc3339(),
            removed: false,
            digest: digest.to_string(),
        });
        Ok(())
    }

    /// Sort every entry list newest first.
    pub fn sort_entries(&mut self) {
        for v in self.entries.values_mut() {
            sort_versions(v);
        }
    }

    /// The index as JSON (Go's `json.Marshal(IndexFile)`).
    pub fn to_json(&self) -> Result<J> {
        let mut top = serde_json::Map::new();
        top.insert("apiVersion".into(), J::String(self.api_version.clone()));
        let generated = if self.generated.is_empty() {
            "0001-01-01T00:00:00Z"
        } else {
            &self.generated
        };
        top.insert("generated".into(), J::String(generated.into()));
        let mut entries = serde_json::Map::new();
        for (name, cvs) in &self.entries {
            let mut list = Vec::new();
            for cv in cvs {
                let mut m = metadata_json(&cv.metadata)?;
                m.insert(
                    "urls".into(),
                    J::Array(cv.urls.iter().cloned().map(J::String).collect()),
                );
                let created = if cv.created.is_empty() {
                    "0001-01-01T00:00:00Z"
                } else {
                    &cv.created
                };
                m.insert("created".into(), J::String(created.into()));
                if cv.removed {
                    m.insert("removed".into(), J::Bool(true));
                }
                if !cv.digest.is_empty() {
                    m.insert("digest".into(), J::String(cv.digest.clone()));
                }
                list.push(J::Object(m));
            }
            entries.insert(name.clone(), J::Array(list));
        }
        top.insert("entries".into(), J::Object(entries));
        if !self.public_keys.is_empty() {
            top.insert(
                "publicKeys".into(),
                J::Array(self.public_keys.iter().cloned().map(J::String).collect()),
            );
        }
        if !self.annotations.is_empty() {
            top.insert(
                "annotations".into(),
                J::Object(
                    self.annotations
                        .iter()
                        .map(|(k, v)| (k.clone(), J::String(v.clone())))
                        .collect(),
                ),
            );
        }
        Ok(J::Object(top))
    }

    /// Go: `IndexFile.WriteFile` (`sigs.k8s.io/yaml.Marshal`), atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let y = rudder_engine::yaml::to_yaml(&rudder_engine::Value::from_json(&self.to_json()?))
            .map_err(Error::new)?;
        crate::atomic_write(path, y.as_bytes(), 0o644)
    }
}

/// Go: `repo.IndexDirectory(dir, baseURL)`: every `*.tgz` in `dir` and one level below, loaded
/// (archives that fail to load are skipped), with their sha256 digests.
pub fn index_directory(dir: &Path, base_url: &str) -> Result<IndexFile> {
    let mut archives = Vec::new();
    let tgz = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".tgz") && !n.starts_with('.'))
    };
    let sorted = |d: &Path| -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    let top = sorted(dir);
    archives.extend(
        top.iter()
            .filter(|p| tgz(p) && p.is_file())
            .map(|p| (String::new(), p.clone())),
    );
    for sub in top.iter().filter(|p| p.is_dir()) {
        let sub_name = sub
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if sub_name.starts_with('.') {
            continue;
        }
        archives.extend(
            sorted(sub)
                .into_iter()
                .filter(|p| tgz(p) && p.is_file())
                .map(|p| (sub_name.clone(), p)),
        );
    }
    let mut index = IndexFile::new();
    for (parent, arch) in archives {
        let fname = arch
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent_url = url_join(base_url, &parent);
        let Ok(chart) = rudder_chart::load(&arch) else {
            continue;
        };
        let data = std::fs::read(&arch)
            .map_err(|e| Error::new(format!("open {}: {}", arch.display(), crate::io_msg(&e))))?;
        let digest = crate::sha256_hex(&data);
        index
            .add(chart.metadata.clone(), &fname, &parent_url, &digest)
            .map_err(|e| Error::new(format!("failed adding to {fname} to index: {e}")))?;
    }
    Ok(index)
}

/// `helm repo index DIR [--url URL]`: writes `DIR/index.yaml`.
pub fn repo_index(dir: &Path, base_url: &str) -> Result<IndexFile> {
    let mut i = index_directory(dir, base_url)?;
    i.sort_entries();
    i.write(&dir.join("index.yaml"))?;
    Ok(i)
}

impl IndexFile {
    /// Go: `IndexFile.Merge(f)`: every version of `other` this index does not have (by name and
    /// exact version) is appended.
    pub fn merge(&mut self, other: &IndexFile) {
        for cvs in other.entries.values() {
            for cv in cvs {
                let have = self
                    .entries
                    .get(cv.name())
                    .is_some_and(|l| l.iter().any(|x| x.metadata.version == cv.metadata.version));
                if !have {
                    self.entries
                        .entry(cv.name().to_string())
                        .or_default()
                        .push(cv.clone());
                }
            }
        }
    }

    /// Go: `IndexFile.WriteJSONFile` (`json.MarshalIndent(i, "", "  ")`), atomically.
    pub fn write_json(&self, path: &Path) -> Result<()> {
        let j = rudder_engine::json::to_json_indent(
            &rudder_engine::Value::from_json(&self.to_json()?),
            "",
            "  ",
        )
        .map_err(Error::new)?;
        crate::atomic_write(path, j.as_bytes(), 0o644)
    }
}

/// `helm repo index DIR [--url URL] [--merge FILE] [--json]` (pkg/cmd/repo_index.go `index`).
pub fn repo_index_merge(dir: &Path, base_url: &str, merge: &str, json: bool) -> Result<IndexFile> {
    let mut i = index_directory(dir, base_url)?;
    if !merge.is_empty() {
        let mp = Path::new(merge);
        let other = if !mp.exists() {
            let n = IndexFile::new();
            let _ = if json { n.write_json(mp) } else { n.write(mp) };
            n
        } else {
            IndexFile::load(mp).map_err(|e| Error::new(format!("merge failed: {e}")))?
        };
        i.merge(&other);
    }
    i.sort_entries();
    let out = dir.join("index.yaml");
    if json {
        i.write_json(&out)?
    } else {
        i.write(&out)?
    }
    Ok(i)
}

/// go-yaml v2's strict decoding refuses a mapping key given twice (`yaml.UnmarshalStrict`,
/// which Helm uses for index.yaml): `yaml: unmarshal errors:\n  line N: key "k" already set in
/// map`. This scans block-style YAML (what every index generator writes) line by line; flow
/// collections and block scalars are skipped.
pub(crate) fn duplicate_keys(text: &str) -> Option<String> {
    let mut scopes: Vec<(usize, std::collections::HashSet<String>)> = Vec::new();
    let mut errs = Vec::new();
    let mut block_scalar: Option<usize> = None;
    // Inside a quoted scalar that goes on over lines (go-yaml v2 writes long or multi-line
    // strings that way): its lines are text, whatever they look like.
    let mut quoted: Option<u8> = None;
    let all: Vec<&str> = text.lines().collect();
    for (n, raw) in all.iter().enumerate() {
        let line = raw.trim_end();
        if let Some(q) = quoted {
            if quote_closes(line.as_bytes(), q) {
                quoted = None;
            }
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let body = &line[indent..];
        if body.is_empty() || body.starts_with('#') || body == "---" || body == "..." {
            continue;
        }
        if let Some(bi) = block_scalar {
            if indent > bi {
                continue;
            }
            block_scalar = None;
        }
        // `- ` items open a mapping at the column after the dash.
        let mut col = indent;
        let mut rest = body;
        while let Some(r) = rest
            .strip_prefix("- ")
            .or_else(|| (rest == "-").then_some(""))
        {
            // An item's mapping ends at the next dash of its column; the mapping that holds
            // the sequence (often at the same column) stays.
            while scopes.last().is_some_and(|s| s.0 > col) {
                scopes.pop();
            }
            col += 2 + (r.len() - r.trim_start_matches(' ').len());
            rest = r.trim_start_matches(' ');
            scopes.push((col, Default::default()));
        }
        if rest.is_empty()
            || rest.starts_with('[')
            || rest.starts_with('{')
            || rest.starts_with('#')
        {
            continue;
        }
        let key = if let Some(q) = rest.strip_prefix('"') {
            q.find('"')
                .filter(|&i| q[i + 1..].starts_with(':'))
                .map(|i| (q[..i].to_string(), &q[i + 2..]))
        } else if let Some(q) = rest.strip_prefix('\'') {
            q.find('\'')
                .filter(|&i| q[i + 1..].starts_with(':'))
                .map(|i| (q[..i].to_string(), &q[i + 2..]))
        } else {
            rest.find(": ")
                .or_else(|| rest.ends_with(':').then(|| rest.len() - 1))
                .map(|i| (rest[..i].to_string(), &rest[i + 1..]))
        };
        let Some((key, value)) = key else {
            if let Some(&q @ (b'"' | b'\'')) = rest.as_bytes().first() {
                if !quote_closes(&rest.as_bytes()[1..], q) {
                    quoted = Some(q);
                }
            }
            continue;
        };
        while scopes.last().is_some_and(|s| s.0 > col) {
            scopes.pop();
        }
        if scopes.last().is_none_or(|s| s.0 < col) {
            scopes.push((col, Default::default()));
        }
        let v = value.trim();
        if v.starts_with('|') || v.starts_with('>') {
            block_scalar = Some(col);
        }
        if let Some(&q @ (b'"' | b'\'')) = v.as_bytes().first() {
            if !quote_closes(&v.as_bytes()[1..], q) {
                quoted = Some(q);
            }
        }
        if let Some(s) = scopes.last_mut() {
            if !s.1.insert(key.clone()) {
                // go-yaml reports the value node's line: for a nested block, its first line.
                let mut line = n + 1;
                if v.is_empty() {
                    if let Some((m, _)) = all.iter().enumerate().skip(n + 1).find(|(_, l)| {
                        let t = l.trim_start();
                        !t.is_empty() && !t.starts_with('#')
                    }) {
                        let next = all[m];
                        let ni = next.len() - next.trim_start_matches(' ').len();
                        if ni > col || (ni == col && next.trim_start().starts_with('-')) {
                            line = m + 1;
                        }
                    }
                }
                errs.push(format!("  line {line}: key {key:?} already set in map"));
            }
        }
    }
    (!errs.is_empty()).then(|| {
        format!(
            "error converting YAML to JSON: yaml: unmarshal errors:\n{}",
            errs.join("\n")
        )
    })
}

/// Whether `text` (the inside of a `q`-quoted scalar, from after the opening quote or from the
/// start of a continuation line) holds the closing quote.
fn quote_closes(text: &[u8], q: u8) -> bool {
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'\\' if q == b'"' => i += 2,
            b'\'' if q == b'\'' && text.get(i + 1) == Some(&b'\'') => i += 2,
            c if c == q => return true,
            _ => i += 1,
        }
    }
    false
}

#[cfg(test)]
mod dup_tests {
    #[test]
    fn finds_duplicates_like_go_yaml() {
        let t = "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    version: 1.0.1\n  - name: a\n    version: 1.0.0\n  b:\n    description: |\n      x: 1\n      x: 2\n";
        assert_eq!(super::duplicate_keys(t).unwrap(), "error converting YAML to JSON: yaml: unmarshal errors:\n  line 6: key \"version\" already set in map");
        assert!(super::duplicate_keys("a:\n  - name: x\n  - name: y\nb:\n  name: x\n").is_none());
        assert!(super::duplicate_keys("a: 1\nb:\n  a: 1\na: 2\n")
            .unwrap()
            .contains("line 4: key \"a\""));
        // Lines of a quoted scalar that goes on over lines are text.
        assert!(super::duplicate_keys(
            "a: \"x\\n\n  \\ k: 1\\n\n  \\ k: 2\"\nb: 'y\n  k: 1\n  k: 2'\n"
        )
        .is_none());
        let e = super::duplicate_keys("entries:\n  a:\n  - name: a\n  a:\n  - name: b\n").unwrap();
        assert!(e.ends_with("line 5: key \"a\" already set in map"), "{e}");
    }
}
