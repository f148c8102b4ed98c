//! The chart model (Helm: pkg/chart/v2 `Chart`, `Metadata`, `Dependency`, `Lock`, `File`).
//!
//! Loading (`load`) fills it from a directory or an archive; dependency processing and values
//! coalescing (`values`, `deps`) work on it; rendering (`render`) turns it into manifests. The
//! model keeps what Helm keeps, in Helm's order, because that order is observable: templates are
//! parsed and `.Files.Glob` lists files in load order.

use rudder_engine::Value;

/// A file of a chart: its path relative to the chart root (always `/`-separated) and its bytes
/// (a UTF-8 BOM already stripped, as Helm does on load). The bytes are shared: a chart keeps
/// each file in its raw list, its own lists and its `.Files` object, and loading a subchart
/// from its parent's files must not copy them each time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub name: String,
    pub data: std::sync::Arc<[u8]>,
}

impl File {
    pub fn new(name: impl Into<String>, data: impl Into<std::sync::Arc<[u8]>>) -> File {
        File { name: name.into(), data: data.into() }
    }
}

/// One `dependencies` entry of Chart.yaml (or requirements.yaml for v1 charts).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    /// Comma-separated dotted value paths; the first that resolves to a bool decides.
    pub condition: String,
    pub tags: Vec<String>,
    /// Set by dependency processing.
    pub enabled: bool,
    /// Either strings (`"x"` → child's `exports.x`) or `{child, parent}` maps, kept as values.
    pub import_values: Vec<Value>,
    pub alias: String,
}

/// A `maintainers` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Maintainer {
    pub name: String,
    pub email: String,
    pub url: String,
}

/// Chart.yaml (Helm: `chart.Metadata`, JSON field names in comments where they differ).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metadata {
    pub name: String,
    pub home: String,
    pub sources: Vec<String>,
    pub version: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub maintainers: Vec<Maintainer>,
    pub icon: String,
    /// `apiVersion`: `v1` or `v2`.
    pub api_version: String,
    pub condition: String,
    pub tags: String,
    /// `appVersion`
    pub app_version: String,
    pub deprecated: bool,
    /// Insertion order is irrelevant: Go maps print sorted.
    pub annotations: std::collections::BTreeMap<String, String>,
    /// `kubeVersion`: a semver constraint.
    pub kube_version: String,
    pub dependencies: Vec<Dependency>,
    /// `type`: `application`, `library` or empty.
    pub chart_type: String,
}

/// Chart.lock / requirements.lock.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lock {
    /// RFC 3339 timestamp as written.
    pub generated: String,
    pub digest: String,
    pub dependencies: Vec<Dependency>,
}

/// A loaded chart with its subcharts.
#[derive(Clone, Debug, Default)]
pub struct Chart {
    pub metadata: Metadata,
    /// The Chart.yaml document as parsed (a map), for Helm 4's map form of `.Chart` and for
    /// `show chart`.
    pub metadata_raw: Value,
    pub lock: Option<Lock>,
    /// `templates/**` in load order.
    pub templates: Vec<File>,
    /// values.yaml parsed (`{}` when empty, as Helm 4).
    pub values: Value,
    /// values.yaml as written (for `show values`).
    pub values_raw: Option<Vec<u8>>,
    /// values.schema.json bytes.
    pub schema: Option<Vec<u8>>,
    /// Every other file (what `.Files` serves), in load order.
    pub files: Vec<File>,
    /// Every file as loaded, in load order (Helm: `Raw`).
    pub raw: Vec<File>,
    /// Subcharts from `charts/` (after dependency processing: enabled ones, renamed to aliases).
    pub dependencies: Vec<Chart>,
}

impl Chart {
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Whether this is a library chart (`type: library`).
    pub fn is_library(&self) -> bool {
        self.metadata.chart_type == "library"
    }

    /// CRD files: `crds/*.{yaml,yml,json}` (extension case-insensitive). Check Helm's exact rule
    /// (pkg/chart/v2 `CRDObjects`).
    pub fn crd_files(&self) -> impl Iterator<Item = &File> {
        self.files.iter().filter(|f| {
            f.name.strip_prefix("crds/").is_some_and(|rest| {
                let lower = rest.to_ascii_lowercase();
                !rest.contains('/') && (lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json"))
            })
        })
    }
}

/// A file's bytes as text, as Go's `string(bytes)` gives them to the template engine and the
/// YAML parser (invalid sequences become U+FFFD). Valid UTF-8, nearly always the case, is
/// checked with `str::from_utf8`'s ASCII-fast validator and borrowed; `from_utf8_lossy`
/// walks every byte in chunks and costs about a millisecond per big chart.
pub fn text_of(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}
