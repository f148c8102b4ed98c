//! A local cache of decoded record summaries for `list`, so that listing a thousand releases
//! does not fetch and gunzip a thousand payloads every time.
//!
//! An entry is keyed by the stored object's uid and resourceVersion: the API server changes the
//! resourceVersion with every write of the object, so an entry whose key matches what a
//! metadata-only LIST reports is exactly what decoding the object would give now. Entries hold
//! only the fields `list` shows (name, namespace, revision, status, deployed time, chart name,
//! chart and app versions): nothing of the values or manifests. One file per cluster, driver and
//! namespace scope under Helm's cache home (`$HELM_CACHE_HOME/rudder/records/`), written
//! atomically (mode 0600); a missing, unreadable or foreign file is an empty cache.
//! `RUDDER_RECORD_CACHE=0` turns it off.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::records::Summary;

/// One stored state of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    pub uid: String,
    pub resource_version: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    rv: String,
    summary: Summary,
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct File {
    /// What the file is for (a hash collision, or a copied file, reads as empty).
    scope: String,
    entries: BTreeMap<String, Entry>,
}

pub(crate) struct RecordCache {
    path: PathBuf,
    file: File,
    dirty: bool,
}

impl RecordCache {
    /// The cache of records of `plural` in `namespace` ("" = all) on the cluster at `server`;
    /// None when turned off or without a cache home.
    pub(crate) fn open(server: &str, plural: &str, namespace: &str) -> Option<RecordCache> {
        let (scope, path) = location(server, plural, namespace)?;
        let file = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<File>(&b).ok())
            .filter(|f| f.scope == scope)
            .unwrap_or(File { scope, entries: BTreeMap::new() });
        Some(RecordCache { path, file, dirty: false })
    }

    /// Whether a cache file for this scope is there (without reading it), so that the caller
    /// can pick its request while the file is read.
    pub(crate) fn exists(server: &str, plural: &str, namespace: &str) -> bool {
        location(server, plural, namespace).is_some_and(|(_, path)| std::fs::metadata(path).is_ok_and(|m| m.len() > 64))
    }

    pub(crate) fn len(&self) -> usize {
        self.file.entries.len()
    }

    /// The summary stored for exactly this state of the object.
    pub(crate) fn get(&self, key: &Key) -> Option<&Summary> {
        self.get_parts(&key.uid, &key.resource_version)
    }

    /// [`get`](Self::get) by the uid and resourceVersion.
    pub(crate) fn get_parts(&self, uid: &str, resource_version: &str) -> Option<&Summary> {
        self.file.entries.get(uid).filter(|e| e.rv == resource_version).map(|e| &e.summary)
    }

    pub(crate) fn put(&mut self, key: Key, summary: Summary) {
        self.file.entries.insert(key.uid, Entry { rv: key.resource_version, summary });
        self.dirty = true;
    }

    /// Keeps only the objects that still exist.
    pub(crate) fn retain(&mut self, keys: Vec<Key>) {
        let live: BTreeSet<String> = keys.into_iter().map(|k| k.uid).collect();
        let before = self.file.entries.len();
        self.file.entries.retain(|uid, _| live.contains(uid));
        self.dirty |= self.file.entries.len() != before;
    }

    /// Everything the cache holds becomes `entries` (after a full LIST).
    pub(crate) fn replace(&mut self, entries: impl Iterator<Item = (Key, Summary)>) {
        self.file.entries = entries.filter(|(k, _)| !k.uid.is_empty()).map(|(k, s)| (k.uid, Entry { rv: k.resource_version, summary: s })).collect();
        self.dirty = true;
    }

    /// Writes the file if anything changed; a cache that cannot be written is just not kept.
    pub(crate) fn save(&mut self) {
        if !self.dirty {
            return;
        }
        let Some(dir) = self.path.parent() else { return };
        if create_private_dir(dir).is_err() {
            return;
        }
        let Ok(bytes) = serde_json::to_vec(&self.file) else { return };
        let tmp = self.path.with_extension(format!("tmp.{}", std::process::id()));
        if write_private(&tmp, &bytes).is_ok() && std::fs::rename(&tmp, &self.path).is_ok() {
            self.dirty = false;
        } else {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// The scope string and file of a cache; None when turned off or for an unnamed server.
fn location(server: &str, plural: &str, namespace: &str) -> Option<(String, PathBuf)> {
    if std::env::var("RUDDER_RECORD_CACHE").is_ok_and(|v| v == "0" || v == "false") || server.is_empty() {
        return None;
    }
    let scope = format!("{server}|{plural}|{namespace}");
    let dir = rudder_repo::paths::HelmPaths::from_env().cache_home.join("rudder").join("records");
    let path = dir.join(format!("{:016x}.json", fnv1a(scope.as_bytes())));
    Some((scope, path))
}

/// FNV-1a, 64 bits: a stable file name for a scope (std's hasher may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
