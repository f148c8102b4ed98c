//! Loading a chart from a directory or a `.tgz` archive, as Helm v4.3.1 does
//! (pkg/chart/loader/load.go, pkg/chart/v2/loader/{load,directory,archive}.go,
//! pkg/chart/loader/archive/archive.go).
//!
//! Files are sorted into the [`Chart`] model exactly as `LoadFiles` does; subcharts under
//! `charts/` (directories or `.tgz`) are loaded recursively. Nothing partial is ever returned: an
//! error is the whole result, with Helm's text.

pub mod archive;
pub mod dir;

use std::collections::BTreeMap;
use std::path::Path;

use rudder_engine::Value;

use crate::metadata::{self, NullEntries};
use crate::model::{Chart, File, Metadata};
use crate::values::{self, options::go_errno_text};

/// Helm's `MaxDecompressedChartSize`: 100 MiB, for an archive and for a directory alike.
pub const MAX_DECOMPRESSED_CHART_SIZE: u64 = 100 * 1024 * 1024;
/// Helm's `MaxDecompressedFileSize` (5 MiB). Helm v4.3.1 no longer enforces it (only the total
/// chart size counts); kept for callers that show the constant.
pub const MAX_DECOMPRESSED_FILE_SIZE: u64 = 5 * 1024 * 1024;

/// A loading error. `Display` is Helm's exact text (what `helm template` prints after `Error: `).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    /// A filesystem error, in Go's `*PathError` form (`open x: no such file or directory`) or
    /// wrapped as Helm wraps it.
    #[error("{0}")]
    Io(String),
    /// The archive is malformed or unsafe (`chart illegally references parent directory`, ...).
    #[error("{0}")]
    Archive(String),
    /// Chart.yaml, Chart.lock, requirements.* or values.yaml could not be decoded
    /// (`cannot load values.yaml: ...`).
    #[error("{0}")]
    Decode(String),
    /// Chart.yaml is decoded but invalid (`validation: chart.metadata.name is required`).
    #[error("validation: {0}")]
    Validation(String),
    /// A subchart failed: `error unpacking subchart <name> in <parent>: <cause>`.
    #[error("error unpacking subchart {name} in {parent}: {source}")]
    Subchart {
        name: String,
        parent: String,
        source: Box<LoadError>,
    },
    /// Any other Helm error text (`Chart.yaml file is missing`, `unsupported chart version`...).
    #[error("{0}")]
    Other(String),
}

/// Helm's `loader.Load(path)` as `helm template`/`install` call it: a directory or an archive
/// file, dispatched on the chart's apiVersion (v1 and v2 load; v3 is refused for now).
pub fn load(path: impl AsRef<Path>) -> Result<Chart, LoadError> {
    let path = path.as_ref();
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| LoadError::Io(format!("stat {shown}: {}", go_errno_text(&e))))?;
    if meta.is_dir() {
        let top = std::path::absolute(path).map_err(|e| LoadError::Io(go_errno_text(&e)))?;
        let name = top.join("Chart.yaml");
        let data = std::fs::read(&name).map_err(|e| {
            LoadError::Io(format!(
                "unable to detect chart at {}: open {}: {}",
                name.display(),
                name.display(),
                go_errno_text(&e)
            ))
        })?;
        check_api_version(&data)?;
        return load_dir(path);
    }
    let raw = std::fs::read(path).map_err(|e| LoadError::Io(format!("open {shown}: {}", go_errno_text(&e))))?;
    archive::ensure_archive(&shown, &raw)?;
    let files = match archive::load_archive_files(&raw) {
        Ok(f) => f,
        Err(LoadError::Archive(e)) if e.starts_with("gzip: ") => {
            return Err(LoadError::Archive(format!(
                "file '{shown}' does not appear to be a valid chart file (details: {e})"
            )))
        }
        Err(_) => return Err(LoadError::Archive("unable to load chart archive".into())),
    };
    match files.iter().find(|f| f.name == "Chart.yaml") {
        Some(f) => check_api_version(&f.data)?,
        None => return Err(LoadError::Other("unable to detect chart version, no Chart.yaml found".into())),
    }
    load_files(files)
}

/// pkg/chart/loader's `chartBase` sniff: only apiVersion v1, v2 (or none) go to the v2 loader.
fn check_api_version(data: &[u8]) -> Result<(), LoadError> {
    let doc = crate::yaml::parse(&crate::model::text_of(data))
        .map_err(|e| LoadError::Decode(format!("cannot load Chart.yaml: {e}")))?;
    let mut md = Metadata::default();
    if let Value::Map(m) = &doc {
        // Only the apiVersion field matters here; decode just that key (case-insensitively).
        let only: std::collections::BTreeMap<_, _> = m
            .read()
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("apiVersion"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        metadata::decode_metadata(&Value::map(only), &mut md).map_err(|e| {
            LoadError::Decode(format!("cannot load Chart.yaml: {}", e.replace("struct field Metadata.", "struct field chartBase.")))
        })?;
    } else if !matches!(doc, Value::Nil) {
        let mut md2 = Metadata::default();
        metadata::decode_metadata(&doc, &mut md2).map_err(|e| {
            LoadError::Decode(format!("cannot load Chart.yaml: {}", e.replace("v2.Metadata", "loader.chartBase")))
        })?;
    }
    match md.api_version.as_str() {
        "" | "v1" | "v2" => Ok(()),
        "v3" => Err(LoadError::Other("apiVersion v3 charts are not supported by Rudder yet".into())),
        _ => Err(LoadError::Other("unsupported chart version".into())),
    }
}

/// Helm's v2 `LoadDir`: walks `dir` (symlinks followed, names sorted), applies `.helmignore`
/// plus the built-in `templates/.?*` rule, strips BOMs, enforces the 100 MiB budget.
pub fn load_dir(dir: impl AsRef<Path>) -> Result<Chart, LoadError> {
    let early = EarlyValues::start(dir.as_ref());
    let at = early.as_ref().map(|values| EarlyAt { values, prefix: "" });
    load_files_early(dir::load_dir_files(dir.as_ref())?, at)
}

/// A chart directory whose `values.yaml` files (its own and its directory subcharts') add up
/// to at least this much has them decoded while it is walked.
const EARLY_VALUES_MIN: u64 = 64 << 10;

/// The `values.yaml` files of a chart directory and of its subchart directories
/// (`charts/<name>/values.yaml`), read and decoded on another thread while the directory is
/// walked: the walk waits on the file system with one core, and decoding a big chart's values
/// (kube-prometheus-stack: 330 kB in six files) is the longest step after it. A result is used
/// only for exactly the bytes the walk then reads for that file (so `.helmignore`, symlinks and
/// files changing in between are all as without it); otherwise it is dropped.
struct EarlyValues {
    running: std::sync::Mutex<Option<std::thread::JoinHandle<Vec<Early>>>>,
    done: std::sync::OnceLock<Vec<Early>>,
}

/// One file decoded early: its path below the chart (`values.yaml`, `charts/x/values.yaml`),
/// its bytes (BOM stripped, as the walk gives them) and what decoding them gave.
struct Early {
    path: String,
    data: Vec<u8>,
    decoded: Result<Value, LoadError>,
}

impl EarlyValues {
    fn start(dir: &Path) -> Option<EarlyValues> {
        let mut paths = vec!["values.yaml".to_string()];
        if let Ok(rd) = std::fs::read_dir(dir.join("charts")) {
            let mut subs: Vec<String> = rd
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| e.file_name().into_string().ok())
                .map(|n| format!("charts/{n}/values.yaml"))
                .collect();
            subs.sort();
            paths.extend(subs);
        }
        let sizes: u64 = paths.iter().filter_map(|p| std::fs::metadata(dir.join(p)).ok()).map(|m| m.len()).sum();
        if sizes < EARLY_VALUES_MIN {
            return None;
        }
        let dir = dir.to_path_buf();
        let handle = std::thread::Builder::new()
            .name("values-early".into())
            .stack_size(8 << 20)
            .spawn(move || {
                // The chart's own first: it is needed first.
                paths.into_iter().filter_map(|path| read_early(&dir, path)).collect()
            })
            .ok()?;
        Some(EarlyValues { running: std::sync::Mutex::new(Some(handle)), done: std::sync::OnceLock::new() })
    }

    /// The decoded values of the file at `path` if they were decoded from `data`. (The walk has
    /// checked that file: a regular file within the chart's size budget.)
    fn take(&self, path: &str, data: &[u8]) -> Option<Result<Value, LoadError>> {
        let all = self.done.get_or_init(|| {
            let handle = self.running.lock().ok().and_then(|mut h| h.take());
            handle.and_then(|h| h.join().ok()).unwrap_or_default()
        });
        let e = all.iter().find(|e| e.path == path)?;
        (e.data == data).then(|| e.decoded.clone())
    }
}

/// `dir/path` read and decoded, if it is a regular file (symlinks followed) that fits the
/// chart's size budget; anything else is left to the walk, which reports it.
fn read_early(dir: &Path, path: String) -> Option<Early> {
    use std::io::Read;
    // Checked before opening: opening a FIFO would wait for a writer.
    if !std::fs::metadata(dir.join(&path)).ok()?.is_file() {
        return None;
    }
    let f = std::fs::File::open(dir.join(&path)).ok()?;
    let mut data = Vec::new();
    f.take(MAX_DECOMPRESSED_CHART_SIZE + 1).read_to_end(&mut data).ok()?;
    if data.len() as u64 > MAX_DECOMPRESSED_CHART_SIZE {
        return None;
    }
    let data = strip_bom(data);
    let decoded = decode_values(&data);
    Some(Early { path, data, decoded })
}

/// Where a chart being loaded finds early-decoded values: the set and the chart's path in it.
#[derive(Clone, Copy)]
struct EarlyAt<'e> {
    values: &'e EarlyValues,
    /// "" for the top chart, `charts/<name>/` for a subchart directory.
    prefix: &'e str,
}

impl EarlyAt<'_> {
    fn take(&self, data: &[u8]) -> Option<Result<Value, LoadError>> {
        self.values.take(&format!("{}values.yaml", self.prefix), data)
    }
}

/// Helm's v2 `LoadArchive`: a gzipped tar stream in memory (no `.helmignore`).
pub fn load_archive(bytes: &[u8]) -> Result<Chart, LoadError> {
    load_files(archive::load_archive_files(bytes)?)
}

pub(crate) fn strip_bom(mut data: Vec<u8>) -> Vec<u8> {
    if data.starts_with(b"\xef\xbb\xbf") {
        data.drain(..3);
    }
    data
}

/// Go's `filepath.Ext`.
fn ext(name: &str) -> &str {
    for (i, b) in name.bytes().enumerate().rev() {
        if b == b'/' {
            break;
        }
        if b == b'.' {
            return &name[i..];
        }
    }
    ""
}

/// Below this many bytes of values and subchart files, a chart loads on one thread.
const PARALLEL_LOAD_MIN: usize = 256 * 1024;

/// What one load job gives: the chart's own values, a subchart, or nothing (a misnamed
/// subchart archive, whose error is reported in order afterwards).
enum Loaded {
    Values(Value),
    Chart(Box<Chart>),
    Skipped,
}

/// A subchart archive whose entry is not named as its directory key (reported unwrapped).
fn misnamed_archive(n: &str, files: &[File], parent: &str) -> Option<LoadError> {
    let file = &files[0];
    (ext(n) == ".tgz" && file.name != n)
        .then(|| LoadError::Other(format!("error unpacking subchart tar in {parent}: expected {n}, got {}", file.name)))
}

fn decode_values(data: &[u8]) -> Result<Value, LoadError> {
    values::load_values(data).map_err(|e| LoadError::Decode(format!("cannot load values.yaml: {e}")))
}

/// The subchart `n` from its files under `charts/` (a `.tgz`, checked by
/// [`misnamed_archive`] first, or a directory).
fn load_subchart(n: &str, files: &[File], early: Option<EarlyAt<'_>>) -> Result<Box<Chart>, LoadError> {
    if ext(n) == ".tgz" {
        return load_archive(&files[0].data).map(Box::new);
    }
    let buff: Vec<File> = files
        .iter()
        .filter_map(|f| f.name.split_once('/').map(|(_, rest)| File { name: rest.to_string(), data: f.data.clone() }))
        .collect();
    // Values decoded early reach one level down: the top chart's own subchart directories.
    let prefix = format!("charts/{n}/");
    let early = early.filter(|e| e.prefix.is_empty()).map(|e| EarlyAt { values: e.values, prefix: &prefix });
    load_files_early(buff, early).map(Box::new)
}

/// Helm's `LoadFiles`: sorts files (names relative to the chart root, `/`-separated, BOMs
/// stripped, in load order) into a chart, loads subcharts recursively and validates Chart.yaml.
pub fn load_files(files: Vec<File>) -> Result<Chart, LoadError> {
    load_files_early(files, None)
}

/// [`load_files`], with the chart's own values perhaps decoded already.
fn load_files_early(files: Vec<File>, early: Option<EarlyAt<'_>>) -> Result<Chart, LoadError> {
    let mut c = Chart::default();
    let mut md: Option<Metadata> = None;
    let mut nulls = NullEntries::default();
    for f in &files {
        if f.name == "Chart.yaml" {
            let m = md.get_or_insert_with(Metadata::default);
            let doc = crate::yaml::parse(&crate::model::text_of(&f.data))
                .map_err(|e| LoadError::Decode(format!("cannot load Chart.yaml: {e}")))?;
            metadata::decode_metadata_nulls(&doc, m, &mut nulls)
                .map_err(|e| LoadError::Decode(format!("cannot load Chart.yaml: {e}")))?;
            if m.api_version.is_empty() {
                m.api_version = "v1".into();
            }
            c.metadata_raw = doc;
        }
    }
    let mut subcharts: BTreeMap<String, Vec<File>> = BTreeMap::new();
    let mut deferred_values: Option<std::sync::Arc<[u8]>> = None;
    for f in &files {
        c.raw.push(f.clone());
        let name = f.name.as_str();
        match name {
            "Chart.yaml" => {}
            "Chart.lock" | "requirements.lock" => {
                let doc = crate::yaml::parse(&crate::model::text_of(&f.data))
                    .map_err(|e| LoadError::Decode(format!("cannot load {name}: {e}")))?;
                // A `null` document sets Go's `*Lock` to nil.
                c.lock = match doc {
                    Value::Nil => None,
                    _ => Some(metadata::decode_lock(&doc).map_err(|e| LoadError::Decode(format!("cannot load {name}: {e}")))?),
                };
                if name == "requirements.lock" {
                    let m = md.get_or_insert_with(Metadata::default);
                    if m.api_version == "v1" {
                        c.files.push(f.clone());
                    }
                }
            }
            "values.yaml" => {
                // Decoded below, beside the subcharts, unless a file decoded later in this loop
                // could fail first (then the order of errors needs it decoded now).
                let decoded_after = files.iter().skip_while(|g| !std::ptr::eq(*g, f)).skip(1).any(|g| {
                    matches!(g.name.as_str(), "Chart.lock" | "requirements.lock" | "requirements.yaml" | "values.yaml")
                });
                if decoded_after {
                    c.values = match early.and_then(|e| e.take(&f.data)) {
                        Some(decoded) => decoded?,
                        None => decode_values(&f.data)?,
                    };
                    deferred_values = None;
                } else {
                    deferred_values = Some(f.data.clone());
                }
                c.values_raw = Some(f.data.to_vec());
            }
            "values.schema.json" => c.schema = Some(f.data.to_vec()),
            "requirements.yaml" => {
                let m = md.get_or_insert_with(Metadata::default);
                let doc = crate::yaml::parse(&crate::model::text_of(&f.data))
                    .map_err(|e| LoadError::Decode(format!("cannot load requirements.yaml: {e}")))?;
                metadata::decode_metadata_nulls(&doc, m, &mut nulls)
                    .map_err(|e| LoadError::Decode(format!("cannot load requirements.yaml: {e}")))?;
                if m.api_version == "v1" {
                    c.files.push(f.clone());
                }
            }
            _ if name.starts_with("templates/") => c.templates.push(f.clone()),
            _ if name.starts_with("charts/") => {
                if ext(name) == ".prov" {
                    c.files.push(f.clone());
                    continue;
                }
                let fname = &name["charts/".len()..];
                let cname = fname.split('/').next().unwrap_or("");
                subcharts.entry(cname.to_string()).or_default().push(File {
                    name: fname.to_string(),
                    data: f.data.clone(),
                });
            }
            _ => c.files.push(f.clone()),
        }
    }
    // The values and the subcharts are independent: big ones are decoded and loaded on two
    // threads, and the results taken in the sequential order, so the first error is the same.
    let subcharts: Vec<(String, Vec<File>)> =
        subcharts.into_iter().filter(|(n, _)| !n.starts_with('_') && !n.starts_with('.')).collect();
    let early_values = match (&deferred_values, early) {
        (Some(data), Some(e)) => e.take(data),
        _ => None,
    };
    if early_values.is_some() {
        deferred_values = None;
    }
    let jobs = usize::from(deferred_values.is_some()) + subcharts.len();
    let bytes: usize = deferred_values.as_ref().map_or(0, |v| v.len())
        + subcharts.iter().flat_map(|(_, fs)| fs.iter()).map(|f| f.data.len()).sum::<usize>();
    let threads = if bytes < PARALLEL_LOAD_MIN { 1 } else { rudder_engine::par::threads(2) };
    let offset = usize::from(deferred_values.is_some());
    let mut done = rudder_engine::par::map_indexed(jobs, threads, &|i| match (&deferred_values, i) {
        (Some(data), 0) => decode_values(data).map(Loaded::Values),
        _ => {
            let (n, files) = &subcharts[i - offset];
            if misnamed_archive(n, files, "").is_some() {
                return Ok(Loaded::Skipped);
            }
            load_subchart(n, files, early).map(Loaded::Chart)
        }
    })
    .into_iter();
    if let Some(decoded) = early_values {
        c.values = decoded?;
    } else if deferred_values.is_some() {
        match done.next() {
            Some(Ok(Loaded::Values(v))) => c.values = v,
            Some(Err(e)) => return Err(e),
            _ => {}
        }
    }

    let Some(mut md) = md else {
        return Err(LoadError::Other("Chart.yaml file is missing".into()));
    };
    metadata::validate_nulls(&mut md, &nulls).map_err(LoadError::Validation)?;
    c.metadata = md;
    if !matches!(c.values, Value::Map(_)) {
        c.values = Value::empty_map();
    }

    for ((n, files), sc) in subcharts.iter().zip(done) {
        if let Some(e) = misnamed_archive(n, files, c.name()) {
            return Err(e);
        }
        match sc {
            Ok(Loaded::Chart(sc)) => c.dependencies.push(*sc),
            Ok(Loaded::Values(_) | Loaded::Skipped) => {}
            Err(e) => {
                return Err(LoadError::Subchart {
                    name: n.clone(),
                    parent: c.name().to_string(),
                    source: Box::new(e),
                })
            }
        }
    }
    Ok(c)
}
