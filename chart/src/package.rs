//! `helm package`: a chart directory written as `NAME-VERSION.tgz` byte for byte as Helm v4.3.1
//! writes it (pkg/action/package.go `Package.Run`, pkg/chart/v2/util/save.go `Save`).
//!
//! The layout Helm's `writeTarContents` produces, and which this module reproduces:
//! - entries: `NAME/Chart.yaml` (re-marshalled metadata, dependencies dropped for apiVersion v1),
//!   `NAME/Chart.lock` (re-marshalled, v2 only), `NAME/values.yaml`, `NAME/values.schema.json`,
//!   templates and other files in load order, then each subchart under `NAME/charts/` the same
//!   way; no directory entries;
//! - Go's `archive/tar` headers: mode 0644, uid/gid 0, empty uname/gname, typeflag `0`, USTAR
//!   (long names split into prefix/name), PAX (`PaxHeaders.0/...` record) only when a name
//!   cannot be split or is not ASCII; mtimes are the files' own (Helm 4 keeps them on load)
//!   rounded to the second, `Chart.lock` stamped with its `generated` time, everything with
//!   `SOURCE_DATE_EPOCH` when set; two zero blocks at the end;
//! - Go's gzip header: mtime 0, XFL 0, OS 255, the `Extra` field Helm sets and the comment
//!   `Helm`; the deflate stream from [`crate::goflate`] (Go's compress/flate, level 6), fed the
//!   same write calls Go's tar writer makes.

use std::path::{Path, PathBuf};

use crate::model::Chart;
use rudder_engine::funcs::date::gotime::{civil_from_days, days_from_civil};

/// A point in time as Go's `time.Time` holds it for our purposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Time {
    /// Seconds since the Unix epoch (UTC).
    pub unix: i64,
    pub nanos: u32,
    /// The zone offset the time was written with, in seconds east of UTC.
    pub offset: i32,
}

/// Parses an RFC 3339 timestamp (`2006-01-02T15:04:05.999999999Z07:00`).
pub fn parse_rfc3339(s: &str) -> Option<Time> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut j = start;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let frac = &s[start..j];
        if frac.is_empty() {
            return None;
        }
        let mut digits: String = frac.chars().take(9).collect();
        while digits.len() < 9 {
            digits.push('0');
        }
        nanos = digits.parse().ok()?;
        i = j;
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        c @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let o = (oh * 3600 + om * 60) as i32;
            if *c == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let unix = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset as i64;
    Some(Time { unix, nanos, offset })
}

impl Time {
    /// Go's `time.Time.MarshalJSON` text: RFC 3339 with up to nine fraction digits (trailing
    /// zeros dropped), `Z` for UTC.
    pub fn format_rfc3339_nano(&self) -> String {
        let local = self.unix + self.offset as i64;
        let (y, m, d) = civil_from_days(local.div_euclid(86_400));
        let rem = local.rem_euclid(86_400);
        let mut s = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60);
        if self.nanos != 0 {
            let f = format!("{:09}", self.nanos);
            s.push('.');
            s.push_str(f.trim_end_matches('0'));
        }
        if self.offset == 0 {
            s.push('Z');
        } else {
            let o = self.offset.abs();
            s.push_str(&format!("{}{:02}:{:02}", if self.offset < 0 { '-' } else { '+' }, o / 3600, o % 3600 / 60));
        }
        s
    }

    /// Go's `Round(time.Second).Unix()` (halves round up).
    pub fn rounded_unix(&self) -> i64 {
        self.unix + if self.nanos >= 500_000_000 { 1 } else { 0 }
    }
}

fn system_time(t: std::time::SystemTime) -> Time {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => Time { unix: d.as_secs() as i64, nanos: d.subsec_nanos(), offset: 0 },
        Err(e) => {
            let d = e.duration();
            let (mut s, mut n) = (-(d.as_secs() as i64), d.subsec_nanos());
            if n > 0 {
                s -= 1;
                n = 1_000_000_000 - n;
            }
            Time { unix: s, nanos: n, offset: 0 }
        }
    }
}

/// Where a chart's files got their mtimes from.
#[derive(Clone, Debug)]
enum Origin {
    Dir(PathBuf),
    /// A `.tgz` subchart: name (without the top directory) → header mtime (seconds).
    Archive(std::collections::HashMap<String, i64>),
}

impl Origin {
    fn mtime(&self, name: &str) -> i64 {
        match self {
            Origin::Dir(d) => std::fs::metadata(d.join(name))
                .and_then(|m| m.modified())
                .map(|t| system_time(t).rounded_unix())
                .unwrap_or(0),
            Origin::Archive(m) => m.get(name).copied().unwrap_or(0),
        }
    }
}

fn archive_mtimes(data: &[u8]) -> std::collections::HashMap<String, i64> {
    let mut out = std::collections::HashMap::new();
    let gz = flate2::read::GzDecoder::new(data);
    let mut tr = tar::Archive::new(gz);
    if let Ok(entries) = tr.entries() {
        for e in entries.flatten() {
            let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
            let rest = name.split_once('/').map(|(_, r)| r.to_string()).unwrap_or_default();
            let mtime = e.header().mtime().unwrap_or(0) as i64;
            out.insert(crate::load::archive::clean(&rest), mtime);
        }
    }
    out
}

/// The origins of a chart's loaded subcharts, in the order the loader adds them (subchart
/// directory or archive names in `charts/`, sorted, `_`/`.` ones skipped).
fn subchart_origins(chart: &Chart, origin: &Origin) -> Vec<Origin> {
    let mut names: Vec<String> = chart
        .raw
        .iter()
        .filter_map(|f| f.name.strip_prefix("charts/"))
        .filter(|rest| !rest.ends_with(".prov"))
        .map(|rest| rest.split('/').next().unwrap_or("").to_string())
        .collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|n| !n.starts_with('_') && !n.starts_with('.'))
        .map(|n| {
            if n.ends_with(".tgz") {
                let data = chart.raw.iter().find(|f| f.name == format!("charts/{n}")).map(|f| f.data.clone()).unwrap_or_default();
                Origin::Archive(archive_mtimes(&data))
            } else {
                match origin {
                    Origin::Dir(d) => Origin::Dir(d.join("charts").join(&n)),
                    Origin::Archive(m) => Origin::Archive(
                        m.iter()
                            .filter_map(|(k, v)| k.strip_prefix(&format!("charts/{n}/")).map(|r| (r.to_string(), *v)))
                            .collect(),
                    ),
                }
            }
        })
        .collect()
}

/// One archive member.
struct Entry {
    name: String,
    data: Vec<u8>,
    mtime: i64,
}

fn collect_entries(chart: &Chart, origin: &Origin, prefix: &str, stamp: Option<i64>, out: &mut Vec<Entry>) -> Result<(), String> {
    let name = chart.name();
    if crate::render::engine::go_path_clean(name).rsplit('/').next() != Some(name) {
        return Err(format!("\"{name}\" is not a valid chart name"));
    }
    let base = crate::render::engine::go_path_join(prefix, name);
    let mtime = |n: &str| stamp.unwrap_or_else(|| origin.mtime(n));
    let mut md = chart.metadata.clone();
    if md.api_version == "v1" {
        md.dependencies.clear();
    }
    out.push(Entry {
        name: format!("{base}/Chart.yaml"),
        data: crate::show::metadata_yaml(&md)?.into_bytes(),
        mtime: mtime("Chart.yaml"),
    });
    if chart.metadata.api_version == "v2" {
        if let Some(lock) = &chart.lock {
            let t = stamp.unwrap_or_else(|| parse_rfc3339(&lock.generated).map(|t| t.rounded_unix()).unwrap_or(-62_135_596_800));
            let mut l = lock.clone();
            if let Some(s) = stamp {
                l.generated = Time { unix: s, nanos: 0, offset: 0 }.format_rfc3339_nano();
            }
            out.push(Entry { name: format!("{base}/Chart.lock"), data: crate::show::lock_yaml(&l)?.into_bytes(), mtime: t });
        }
    }
    for f in chart.raw.iter().filter(|f| f.name == "values.yaml") {
        out.push(Entry { name: format!("{base}/values.yaml"), data: f.data.to_vec(), mtime: mtime("values.yaml") });
    }
    if let Some(schema) = &chart.schema {
        if rudder_engine::json::from_json(&String::from_utf8_lossy(schema)).is_err() {
            return Err("invalid JSON in values.schema.json".into());
        }
        out.push(Entry {
            name: format!("{base}/values.schema.json"),
            data: schema.clone(),
            mtime: mtime("values.schema.json"),
        });
    }
    for f in chart.templates.iter().chain(chart.files.iter()) {
        out.push(Entry {
            name: crate::render::engine::go_path_join(&base, &f.name),
            data: f.data.to_vec(),
            mtime: mtime(&f.name),
        });
    }
    let origins = subchart_origins(chart, origin);
    for (i, dep) in chart.dependencies.iter().enumerate() {
        let o = origins.get(i).cloned().unwrap_or(Origin::Archive(Default::default()));
        collect_entries(dep, &o, &format!("{base}/charts"), stamp, out)?;
    }
    Ok(())
}

/// Go's `formatter.formatOctal`: zero-padded octal leaving room for a NUL.
fn octal(field: &mut [u8], v: i64) {
    let s = format!("{v:o}");
    let width = field.len() - 1;
    let padded = if s.len() < width { format!("{}{s}", "0".repeat(width - s.len())) } else { s };
    string_field(field, &padded);
}

/// Go's `formatter.formatString`: copy, NUL after the text when it fits.
fn string_field(field: &mut [u8], s: &str) {
    let b = s.as_bytes();
    let n = b.len().min(field.len());
    field[..n].copy_from_slice(&b[..n]);
    if b.len() < field.len() {
        field[b.len()] = 0;
    }
}

/// Go's `toASCII`: non-ASCII runes dropped.
fn to_ascii(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii()).collect()
}

/// Go's `splitUSTARPath`.
fn split_ustar_path(name: &str) -> Option<(&str, &str)> {
    let mut length = name.len();
    if length <= 100 || !name.is_ascii() {
        return None;
    } else if length > 156 {
        length = 156;
    } else if name.as_bytes()[length - 1] == b'/' {
        length -= 1;
    }
    let i = name[..length].rfind('/')?;
    let nlen = name.len() - i - 1;
    if i == 0 || nlen > 100 || nlen == 0 || i > 155 {
        return None;
    }
    Some((&name[..i], &name[i + 1..]))
}

#[allow(clippy::too_many_arguments)]
fn header(name: &str, prefix: &str, mode: i64, size: usize, mtime: i64, flag: u8) -> [u8; 512] {
    let mut h = [0u8; 512];
    string_field(&mut h[0..100], name);
    octal(&mut h[100..108], mode);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size as i64);
    octal(&mut h[136..148], mtime);
    h[156] = flag;
    // uname, gname empty; devmajor/devminor zero.
    octal(&mut h[329..337], 0);
    octal(&mut h[337..345], 0);
    string_field(&mut h[345..500], prefix);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    octal(&mut h[148..155], sum as i64);
    h[155] = b' ';
    h
}

/// Go's `blockPadding`: zeros up to the next 512-byte boundary.
fn padding(size: usize) -> Vec<u8> {
    vec![0; (512 - size % 512) % 512]
}

/// Go's `formatPAXRecord`.
fn pax_record(k: &str, v: &str) -> String {
    let size = k.len() + v.len() + 3;
    let mut n = size + size.to_string().len();
    if n.to_string().len() != size.to_string().len() {
        n = size + n.to_string().len();
    }
    format!("{n} {k}={v}\n")
}

/// The tar stream of `entries` as Go's `tar.Writer` writes it, in the chunks its `Write` calls
/// hand to the gzip writer (header block, body, padding, ..., two zero blocks); the chunking
/// matters to the compressor.
fn tar_chunks(entries: &[Entry]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for e in entries {
        let ustar_ok = e.name.len() <= 100 && e.name.is_ascii() || split_ustar_path(&e.name).is_some();
        if ustar_ok {
            let (prefix, name) = split_ustar_path(&e.name).unwrap_or(("", &e.name));
            out.push(header(name, prefix, 0o644, e.data.len(), e.mtime, b'0').to_vec());
        } else {
            let rec = pax_record("path", &e.name);
            let (dir, file) = match e.name.rfind('/') {
                Some(i) => (&e.name[..=i], &e.name[i + 1..]),
                None => ("", e.name.as_str()),
            };
            let mut xname = to_ascii(&crate::render::engine::go_path_join(&format!("{dir}PaxHeaders.0"), file));
            xname.truncate(100);
            let xname = xname.trim_end_matches('/').to_string();
            out.push(header(&xname, "", 0, rec.len(), 0, b'x').to_vec());
            out.push(rec.clone().into_bytes());
            out.push(padding(rec.len()));
            let main = to_ascii(&e.name);
            out.push(header(&main, "", 0o644, e.data.len(), e.mtime, b'0').to_vec());
        }
        out.push(e.data.clone());
        out.push(padding(e.data.len()));
    }
    out.push(vec![0; 512]);
    out.push(vec![0; 512]);
    out.retain(|c| !c.is_empty());
    out
}

/// Helm's gzip `Extra` field.
const HEADER_EXTRA: &[u8] = b"rr\x28\x00aHR0cHM6Ly95b3V0dS5iZS96OVV6MWljandyTQo=";

/// Go's `gzip.Writer` with `Extra` and `Comment = "Helm"` at the default level, fed `chunks`
/// one `Write` call each.
pub fn gzip_helm(chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0x04 | 0x10, 0, 0, 0, 0, 0, 0xff];
    out.extend_from_slice(&(HEADER_EXTRA.len() as u16).to_le_bytes());
    out.extend_from_slice(HEADER_EXTRA);
    out.extend_from_slice(b"Helm\0");
    let mut d = crate::goflate::Deflater::new(6);
    let mut crc = flate2::Crc::new();
    let mut size: u32 = 0;
    for c in chunks {
        d.write(c);
        crc.update(c);
        size = size.wrapping_add(c.len() as u32);
    }
    out.extend_from_slice(&d.finish());
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out
}

/// What `Package.Run` takes.
#[derive(Clone, Debug, Default)]
pub struct PackageOptions {
    pub version: Option<String>,
    pub app_version: Option<String>,
    /// `-d`; `.` means the working directory.
    pub destination: PathBuf,
    /// `SOURCE_DATE_EPOCH`, already parsed.
    pub source_date_epoch: Option<i64>,
}

/// `Package.Run(path)`: loads the chart directory, applies `--version`/`--app-version`, checks
/// dependencies and writes the archive; returns the archive path as Helm prints it.
pub fn package(path: &Path, opts: &PackageOptions) -> Result<PathBuf, String> {
    let mut chart = crate::load::load(path).map_err(|e| e.to_string())?;
    if let Some(v) = opts.version.as_deref().filter(|v| !v.is_empty()) {
        chart.metadata.version = v.to_string();
    }
    if !crate::semver::is_valid_version(&chart.metadata.version) {
        return Err("invalid semantic version".into());
    }
    if let Some(v) = opts.app_version.as_deref().filter(|v| !v.is_empty()) {
        chart.metadata.app_version = v.to_string();
    }
    if !chart.metadata.dependencies.is_empty() {
        crate::deps::check_dependencies(&chart)?;
    }
    let dest = if opts.destination.as_os_str() == "." {
        std::env::current_dir().map_err(|e| e.to_string())?
    } else {
        opts.destination.clone()
    };
    let mut md = chart.metadata.clone();
    crate::metadata::validate(&mut md).map_err(|e| format!("failed to save: chart validation: validation: {e}"))?;
    let file = dest.join(format!("{}-{}.tgz", chart.name(), chart.metadata.version));
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    match std::fs::metadata(&dir) {
        Ok(m) if !m.is_dir() => return Err(format!("failed to save: is not a directory: {}", dir.display())),
        Ok(_) => {}
        Err(_) => std::fs::create_dir_all(&dir).map_err(|e| format!("failed to save: {e}"))?,
    }
    let mut entries = Vec::new();
    let origin = Origin::Dir(path.to_path_buf());
    collect_entries(&chart, &origin, "", opts.source_date_epoch, &mut entries).map_err(|e| format!("failed to save: {e}"))?;
    let bytes = gzip_helm(&tar_chunks(&entries));
    std::fs::write(&file, bytes).map_err(|e| format!("failed to save: open {}: {e}", file.display()))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let t = parse_rfc3339("2026-06-15T10:27:45.019725+02:00").unwrap();
        assert_eq!(t.rounded_unix(), 1781512065);
        assert_eq!(t.format_rfc3339_nano(), "2026-06-15T10:27:45.019725+02:00");
        let z = parse_rfc3339("2025-08-13T17:40:33.748453422Z").unwrap();
        assert_eq!(z.format_rfc3339_nano(), "2025-08-13T17:40:33.748453422Z");
    }
}
