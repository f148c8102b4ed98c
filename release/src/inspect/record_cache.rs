//! A local cache of what `list` shows of each record, so that listing a thousand releases
//! does not fetch and gunzip a thousand payloads every time.
//!
//! An entry is keyed by the stored object's uid and resourceVersion: the API server changes the
//! resourceVersion with every write of the object, so an entry whose key matches what a
//! metadata-only LIST reports is exactly what decoding the object would give now. Entries hold
//! only the fields `list` shows (name, namespace, revision, status, deployed time, chart name,
//! chart and app versions): nothing of the values or manifests. One file per cluster, driver and
//! namespace scope under Helm's cache home (`$HELM_CACHE_HOME/rudder/records/`), written
//! atomically (mode 0600); a missing, unreadable, truncated or foreign file is an empty cache.
//! `RUDDER_RECORD_CACHE=0` turns it off.
//!
//! The file is binary so that opening it costs no parsing and no allocation per entry: the
//! bytes are read into one buffer and each entry is a set of spans into it (opening a JSON
//! form of a thousand entries took ~3 ms of CPU, on the core the API server needs while it
//! answers the LIST). Layout: [`MAGIC`], the scope, then the entries to the end, each the
//! strings uid, resourceVersion, name, namespace, status, last deployed, chart name, chart
//! version, appVersion (a u32 little-endian length, then UTF-8 bytes), the revision (i64 LE)
//! and a flag byte (bit 0: a last-deployed time, bit 1: chart metadata).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use super::records::{Listed, ListedChart};

/// What the file starts with (the version is the last byte).
const MAGIC: &[u8] = b"rudder-records\x02";

/// One stored state of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    pub uid: String,
    pub resource_version: String,
}

/// Byte range in the buffer.
type Span = (u32, u32);

/// Where one entry's fields sit in the buffer.
struct Stored {
    /// The whole entry, as saved.
    entry: Span,
    /// uid, resourceVersion, name, namespace, status, last deployed, chart name, chart
    /// version, appVersion.
    text: [Span; 9],
    revision: i64,
    flags: u8,
    live: bool,
}

const HAS_DEPLOYED: u8 = 1;
const HAS_CHART: u8 = 2;

pub(crate) struct RecordCache {
    path: PathBuf,
    scope: String,
    /// The file's bytes, and entries added since appended in the same form.
    buf: Vec<u8>,
    entries: Vec<Stored>,
    /// FNV-1a of the uid → index into `entries` (a later entry with a colliding hash takes the
    /// slot; the earlier one is then simply not cached).
    by_uid: HashMap<u64, u32, Prehashed>,
    dirty: bool,
}

/// The uid index's keys are hashes already: used as they are.
#[derive(Clone, Copy, Default)]
struct Prehashed;

impl std::hash::BuildHasher for Prehashed {
    type Hasher = PrehashedHasher;
    fn build_hasher(&self) -> PrehashedHasher {
        PrehashedHasher(0)
    }
}

#[derive(Default)]
struct PrehashedHasher(u64);

impl std::hash::Hasher for PrehashedHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = fnv1a(bytes);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl RecordCache {
    /// The cache of records of `plural` in `namespace` ("" = all) on the cluster at `server`;
    /// None when turned off or without a cache home.
    pub(crate) fn open(server: &str, plural: &str, namespace: &str) -> Option<RecordCache> {
        let (scope, path) = location(server, plural, namespace)?;
        let mut cache = RecordCache { path, scope, buf: Vec::new(), entries: Vec::new(), by_uid: HashMap::default(), dirty: false };
        if let Ok(bytes) = std::fs::read(&cache.path) {
            if !cache.load(bytes) {
                cache.clear();
            }
        }
        Some(cache)
    }

    /// Whether a cache file for this scope is there (without reading it), so that the caller
    /// can pick its request while the file is read.
    pub(crate) fn exists(server: &str, plural: &str, namespace: &str) -> bool {
        location(server, plural, namespace).is_some_and(|(scope, path)| std::fs::metadata(path).is_ok_and(|m| m.len() > (MAGIC.len() + 4 + scope.len()) as u64))
    }

    /// Takes `bytes` as the file; false when they are not a well-formed file of this scope.
    fn load(&mut self, bytes: Vec<u8>) -> bool {
        if !bytes.starts_with(MAGIC) {
            return false;
        }
        let Some((scope, mut at)) = string_at(&bytes, MAGIC.len()) else { return false };
        if span(&bytes, scope) != self.scope {
            return false;
        }
        let mut entries = Vec::new();
        while at < bytes.len() {
            let Some((stored, next)) = entry_at(&bytes, at) else { return false };
            entries.push(stored);
            at = next;
        }
        self.buf = bytes;
        self.by_uid = HashMap::with_capacity_and_hasher(entries.len(), Prehashed);
        for (n, e) in entries.iter().enumerate() {
            self.by_uid.insert(fnv1a(span(&self.buf, e.text[0]).as_bytes()), n as u32);
        }
        self.entries = entries;
        true
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.entries.clear();
        self.by_uid.clear();
    }

    /// The live entries.
    pub(crate) fn len(&self) -> usize {
        self.entries.iter().filter(|e| e.live).count()
    }

    fn find(&self, uid: &str) -> Option<&Stored> {
        let &n = self.by_uid.get(&fnv1a(uid.as_bytes()))?;
        let e = &self.entries[n as usize];
        (e.live && span(&self.buf, e.text[0]) == uid).then_some(e)
    }

    /// Whether the cache holds exactly this state of the object.
    pub(crate) fn has(&self, uid: &str, resource_version: &str) -> bool {
        self.find(uid).is_some_and(|e| span(&self.buf, e.text[1]) == resource_version)
    }

    /// The record stored for exactly this state of the object (without labels).
    pub(crate) fn get(&self, uid: &str, resource_version: &str) -> Option<Listed> {
        let e = self.find(uid).filter(|e| span(&self.buf, e.text[1]) == resource_version)?;
        let t = |n: usize| span(&self.buf, e.text[n]).to_string();
        Some(Listed {
            name: t(2),
            namespace: t(3),
            revision: e.revision,
            status: t(4),
            last_deployed: (e.flags & HAS_DEPLOYED != 0).then(|| t(5)),
            chart: (e.flags & HAS_CHART != 0).then(|| ListedChart { name: t(6), version: t(7), app_version: t(8) }),
            labels: Default::default(),
        })
    }

    /// Stores `listed` (its labels are not kept) as the state `key` of its object.
    pub(crate) fn put(&mut self, key: &Key, listed: &Listed) {
        if key.uid.is_empty() {
            return;
        }
        if let Some(&n) = self.by_uid.get(&fnv1a(key.uid.as_bytes())) {
            self.entries[n as usize].live = false;
        }
        let start = self.buf.len();
        let empty = String::new();
        let chart = listed.chart.as_ref();
        let texts = [
            &key.uid,
            &key.resource_version,
            &listed.name,
            &listed.namespace,
            &listed.status,
            listed.last_deployed.as_ref().unwrap_or(&empty),
            chart.map_or(&empty, |c| &c.name),
            chart.map_or(&empty, |c| &c.version),
            chart.map_or(&empty, |c| &c.app_version),
        ];
        for t in texts {
            self.buf.extend_from_slice(&(t.len() as u32).to_le_bytes());
            self.buf.extend_from_slice(t.as_bytes());
        }
        self.buf.extend_from_slice(&listed.revision.to_le_bytes());
        let flags = if listed.last_deployed.is_some() { HAS_DEPLOYED } else { 0 } | if chart.is_some() { HAS_CHART } else { 0 };
        self.buf.push(flags);
        let Some((stored, _)) = entry_at(&self.buf, start) else { return };
        self.by_uid.insert(fnv1a(key.uid.as_bytes()), self.entries.len() as u32);
        self.entries.push(stored);
        self.dirty = true;
    }

    /// Keeps only the objects that still exist.
    pub(crate) fn retain<'a>(&mut self, uids: impl Iterator<Item = &'a str>) {
        let live: HashSet<&str> = uids.collect();
        for e in &mut self.entries {
            if e.live && !live.contains(span(&self.buf, e.text[0])) {
                e.live = false;
                self.dirty = true;
            }
        }
    }

    /// Everything the cache holds becomes `entries` (after a full LIST).
    pub(crate) fn replace<'a>(&mut self, entries: impl Iterator<Item = (&'a Key, &'a Listed)>) {
        let was_empty = self.len() == 0;
        self.clear();
        for (k, l) in entries {
            self.put(k, l);
        }
        self.dirty |= !was_empty;
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
        let mut bytes = Vec::with_capacity(self.buf.len() + 64);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(self.scope.len() as u32).to_le_bytes());
        bytes.extend_from_slice(self.scope.as_bytes());
        for e in self.entries.iter().filter(|e| e.live) {
            bytes.extend_from_slice(&self.buf[e.entry.0 as usize..e.entry.1 as usize]);
        }
        let tmp = self.path.with_extension(format!("tmp.{}", std::process::id()));
        if write_private(&tmp, &bytes).is_ok() && std::fs::rename(&tmp, &self.path).is_ok() {
            self.dirty = false;
            // The JSON file of earlier versions, no longer read.
            let _ = std::fs::remove_file(self.path.with_extension("json"));
        } else {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// The text at `s` (spans are made only over checked UTF-8).
fn span(buf: &[u8], s: Span) -> &str {
    std::str::from_utf8(&buf[s.0 as usize..s.1 as usize]).unwrap_or_default()
}

/// A length-prefixed UTF-8 string at `at`: its span and where the next field starts.
fn string_at(buf: &[u8], at: usize) -> Option<(Span, usize)> {
    let len = u32::from_le_bytes(buf.get(at..at + 4)?.try_into().ok()?) as usize;
    let start = at + 4;
    let end = start.checked_add(len)?;
    std::str::from_utf8(buf.get(start..end)?).ok()?;
    Some(((u32::try_from(start).ok()?, u32::try_from(end).ok()?), end))
}

/// The entry at `at` and where the next one starts; None when the bytes are not one.
fn entry_at(buf: &[u8], at: usize) -> Option<(Stored, usize)> {
    let mut text = [(0u32, 0u32); 9];
    let mut next = at;
    for t in &mut text {
        let (s, n) = string_at(buf, next)?;
        *t = s;
        next = n;
    }
    let revision = i64::from_le_bytes(buf.get(next..next + 8)?.try_into().ok()?);
    let flags = *buf.get(next + 8)?;
    let end = next + 9;
    Some((Stored { entry: (u32::try_from(at).ok()?, u32::try_from(end).ok()?), text, revision, flags, live: true }, end))
}

/// The scope string and file of a cache; None when turned off or for an unnamed server.
fn location(server: &str, plural: &str, namespace: &str) -> Option<(String, PathBuf)> {
    if std::env::var("RUDDER_RECORD_CACHE").is_ok_and(|v| v == "0" || v == "false") || server.is_empty() {
        return None;
    }
    let scope = format!("{server}|{plural}|{namespace}");
    let dir = rudder_repo::paths::HelmPaths::from_env().cache_home.join("rudder").join("records");
    let path = dir.join(format!("{:016x}.bin", fnv1a(scope.as_bytes())));
    Some((scope, path))
}

/// FNV-1a, 64 bits: a stable file name for a scope (std's hasher may change between releases),
/// and the index key of a uid.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(name: &str, chart: bool) -> Listed {
        Listed {
            name: name.into(),
            namespace: "ns".into(),
            revision: 3,
            status: "deployed".into(),
            last_deployed: Some("2026-12-04T10:00:00Z".into()),
            chart: chart.then(|| ListedChart { name: "c".into(), version: "1.0.0".into(), app_version: "ünï\t\n".into() }),
            labels: Default::default(),
        }
    }

    fn key(uid: &str, rv: &str) -> Key {
        Key { uid: uid.into(), resource_version: rv.into() }
    }

    #[test]
    fn saved_entries_read_back_and_damage_reads_as_empty() {
        let dir = std::env::temp_dir().join(format!("rudder-record-cache-{}", std::process::id()));
        let path = dir.join("c.bin");
        let mut c = RecordCache { path: path.clone(), scope: "s".into(), buf: Vec::new(), entries: Vec::new(), by_uid: HashMap::default(), dirty: false };
        c.put(&key("u1", "1"), &listed("a", true));
        c.put(&key("u2", "5"), &listed("b", false));
        c.put(&key("u1", "2"), &listed("a2", true)); // a newer state replaces the older
        c.retain(["u1"].into_iter());
        c.save();
        let bytes = std::fs::read(&path).unwrap();

        let reopen = |bytes: Vec<u8>, scope: &str| {
            let mut r = RecordCache { path: path.clone(), scope: scope.into(), buf: Vec::new(), entries: Vec::new(), by_uid: HashMap::default(), dirty: false };
            if !r.load(bytes) {
                r.clear();
            }
            r
        };
        let r = reopen(bytes.clone(), "s");
        assert_eq!(r.len(), 1);
        assert!(r.get("u1", "1").is_none());
        assert!(r.get("u2", "5").is_none());
        let got = r.get("u1", "2").unwrap();
        let want = listed("a2", true);
        assert_eq!((got.name, got.namespace, got.revision, got.status), (want.name, want.namespace, want.revision, want.status));
        assert_eq!(got.last_deployed, want.last_deployed);
        assert_eq!(got.chart.map(|c| c.app_version), Some("ünï\t\n".to_string()));

        // Another scope, and every truncation: empty, never a panic or a partial entry.
        assert_eq!(reopen(bytes.clone(), "t").len(), 0);
        for cut in 0..bytes.len() {
            let r = reopen(bytes[..cut].to_vec(), "s");
            assert!(r.len() == 0, "cut at {cut}");
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
