//! Chart sources as Helm v4.3.1 has them.
//!
//! - [`paths::HelmPaths`]: `HELM_*_HOME`, XDG and `$HOME` defaults, `HELM_REPOSITORY_CONFIG`,
//!   `HELM_REPOSITORY_CACHE`, `HELM_REGISTRY_CONFIG`, `HELM_CONTENT_CACHE` (pkg/helmpath,
//!   pkg/cli/environment.go).
//! - [`repofile::RepoFile`]: `repositories.yaml` read/write (atomic, 0600) in Helm's format.
//! - [`index::IndexFile`]: `index.yaml` load (JSON or strict YAML, bad entries skipped with a
//!   warning, newest first), [`IndexFile::get`] version/constraint lookup,
//!   [`index::effective_version`] for `--devel`, [`index::repo_index`] (`helm repo index`).
//! - [`http`]: Helm's HTTP getter (basic auth scoped to the repository host unless
//!   `pass_credentials_all`, CA file, client certificates, insecure_skip_tls_verify).
//! - [`ops`]: [`repo_add`], [`repo_update`] (concurrent), [`repo_remove`], [`pull`] (`repo/chart`,
//!   `--repo URL`, absolute URLs, `oci://`; index digest verified), [`download_to_cache`]
//!   (Helm 4's content cache).
//! - [`oci`]: pull and push with Helm's media types, manifest and annotations, the `+`/`_` tag
//!   rule, tag resolution, basic/token auth, `registry login/logout` (Helm's registry
//!   config.json, Docker's as the fallback for credentials).
//! - [`cache`]: the content cache and Rudder's reference map beside it; `--offline` /
//!   `RUDDER_OFFLINE=1` resolution from the caches only.
//! - [`index_reader`]: the one-pass reader of block-style `index.yaml` behind [`IndexFile::parse`].
//! - [`index_cache`]: parsed `index.yaml` kept per chart, keyed by the file's digest.
//! - [`deps`]: `helm dependency update|build|list` (Chart.lock / requirements.lock, Helm's digest).
//! - [`package`]: `chartutil.Save` (archives for `file://` dependencies).
//! - [`bundle`]: air-gapped bundles (`bundle create|import`).
//!
//! Errors are one line, in Helm's words where Helm has them, and never contain a password.

pub mod bundle;
pub mod cache;
pub mod deps;
pub mod http;
pub mod index;
pub mod index_cache;
pub mod index_reader;
pub mod oci;
pub mod ops;
pub mod package;
pub mod paths;
pub mod repofile;

pub use index::{ChartVersion, IndexFile};
pub use ops::{download_to_cache, pull, repo_add, repo_remove, repo_update, PullOptions, Pulled};
pub use paths::HelmPaths;
pub use repofile::{Entry, RepoFile};

use std::io::Write;
use std::path::Path;

/// A one-line error in Helm's words where Helm has them. Never contains a password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(pub String);

impl Error {
    pub fn new(msg: impl Into<String>) -> Error {
        Error(msg.into())
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Go's text for common OS errors (`no such file or directory`, ...).
pub(crate) fn io_msg(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file or directory".into(),
        PermissionDenied => "permission denied".into(),
        AlreadyExists => "file exists".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => {
                    let mut t = s[..i].to_string();
                    if let Some(c) = t.get_mut(0..1) {
                        c.make_ascii_lowercase();
                    }
                    t
                }
                None => s,
            }
        }
    }
}

/// Write `data` to `path` atomically: a temporary file in the same directory, flushed, given
/// `mode`, then renamed over `path` (Helm's `fileutil.AtomicWriteFile`). Creates the parent
/// directory (0755) as Helm's callers do.
pub fn atomic_write(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::new(format!("mkdir {}: {}", dir.display(), io_msg(&e))))?;
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{base}.tmp-{}-{n}", std::process::id()));
    let res = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::new(format!(
            "write {}: {}",
            path.display(),
            io_msg(&e)
        )));
    }
    Ok(())
}

/// YAML (or JSON) text → JSON value, as `sigs.k8s.io/yaml.Unmarshal` sees it. Empty → null.
pub(crate) fn yaml_to_json(text: &str) -> Result<serde_json::Value> {
    let v = rudder_engine::yaml::from_yaml(text).map_err(Error::new)?;
    engine_to_json(&v)
}

pub(crate) fn engine_to_json(v: &rudder_engine::Value) -> Result<serde_json::Value> {
    let s = rudder_engine::json::to_json_raw(v).map_err(Error::new)?;
    serde_json::from_str(&s).map_err(|e| Error::new(e.to_string()))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// sha256 of `data`, lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(data))
}

/// Go's `time.Now()` marshalled as JSON (RFC 3339 with trimmed nanoseconds), in UTC.
pub(crate) fn now_rfc3339() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339_from_unix(d.as_secs() as i64, d.subsec_nanos())
}

/// RFC 3339 in UTC (`Z`), fractional seconds trimmed (none when `nanos` is 0).
pub(crate) fn rfc3339_from_unix(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86400);
    let sod = secs.rem_euclid(86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut frac = String::new();
    if nanos != 0 {
        frac = format!(".{nanos:09}");
        while frac.ends_with('0') {
            frac.pop();
        }
    }
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{frac}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}
