//! Reading a chart archive (Helm: pkg/chart/loader/archive/archive.go).

use std::io::Read;

use super::{strip_bom, LoadError, MAX_DECOMPRESSED_CHART_SIZE};
use crate::model::File;

/// Go's `path.Clean` (the engine's, checked against Go by the path cases).
pub(crate) fn clean(p: &str) -> String {
    rudder_engine::funcs::paths::clean(p)
}

fn too_large() -> LoadError {
    LoadError::Archive(format!("decompressed chart is larger than the maximum size {MAX_DECOMPRESSED_CHART_SIZE}"))
}

/// Helm's `LoadArchiveFiles`: gunzips and untars `bytes`, drops the first path segment, rejects
/// unsafe paths with Helm's texts, strips BOMs, enforces the 100 MiB budget.
pub fn load_archive_files(bytes: &[u8]) -> Result<Vec<File>, LoadError> {
    if bytes.len() < 10 || bytes[0] != 0x1f || bytes[1] != 0x8b {
        return Err(LoadError::Archive("gzip: invalid header".into()));
    }
    let gz = flate2::read::GzDecoder::new(bytes);
    let mut tr = tar::Archive::new(gz);
    let mut files = Vec::new();
    let mut remaining = MAX_DECOMPRESSED_CHART_SIZE;
    let entries = tr.entries().map_err(|e| LoadError::Archive(go_tar_error(&e)))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| LoadError::Archive(go_tar_error(&e)))?;
        let header = entry.header();
        let kind = header.entry_type();
        if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        // GNU long-name records are folded into the next entry by the tar crate.
        if kind.is_gnu_longname() || kind.is_gnu_longlink() {
            continue;
        }
        let raw_name = entry.path_bytes();
        let name = String::from_utf8_lossy(&raw_name).into_owned();
        // Go's FileInfo().IsDir() also holds for a regular entry whose name ends in `/`.
        if name.ends_with('/') && (kind.is_file() || kind.is_contiguous()) {
            continue;
        }
        let delimiter = if name.contains('\\') { '\\' } else { '/' };
        let parts: Vec<&str> = name.split(delimiter).collect();
        let n = parts[1..].join(&delimiter.to_string()).replace(delimiter, "/");
        if n.starts_with('/') {
            return Err(LoadError::Archive("chart illegally contains absolute paths".into()));
        }
        let n = clean(&n);
        if n == "." {
            return Err(LoadError::Archive(format!(
                "chart illegally contains content outside the base directory: {}",
                rudder_engine::print::quote(&name)
            )));
        }
        if n.starts_with("..") {
            return Err(LoadError::Archive("chart illegally references parent directory".into()));
        }
        let nb = n.as_bytes();
        if nb.len() >= 3 && nb[0].is_ascii_alphabetic() && nb[1] == b':' && nb[2] == b'/' {
            return Err(LoadError::Archive("chart contains illegally named files".into()));
        }
        if parts[0] == "Chart.yaml" {
            return Err(LoadError::Archive("chart yaml not in base directory".into()));
        }
        let size = entry.header().size().unwrap_or(0);
        if size > remaining {
            return Err(too_large());
        }
        let mut data = Vec::new();
        let written = (&mut entry)
            .take(remaining)
            .read_to_end(&mut data)
            .map_err(|e| LoadError::Archive(go_tar_error(&e)))? as u64;
        remaining -= written;
        if written < size || remaining == 0 {
            return Err(too_large());
        }
        files.push(File {
            name: n,
            data: strip_bom(data).into(),
        });
    }
    if files.is_empty() {
        return Err(LoadError::Archive("no files in chart archive".into()));
    }
    Ok(files)
}

/// Go's texts for the usual stream failures.
fn go_tar_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "unexpected EOF".into(),
        _ => {
            let s = e.to_string();
            if s.contains("invalid gzip header") || s.contains("gzip header") {
                "gzip: invalid header".into()
            } else if s.contains("corrupt deflate stream") || s.contains("deflate") {
                "flate: corrupt input before offset 0".into()
            } else {
                s
            }
        }
    }
}

/// Helm's `EnsureArchive`: whether the first 512 bytes look gzipped; the error names the file.
pub fn ensure_archive(name: &str, head: &[u8]) -> Result<(), LoadError> {
    if head.starts_with(b"\x1f\x8b\x08") {
        return Ok(());
    }
    if name.ends_with(".yml") || name.ends_with(".yaml") {
        return Err(LoadError::Archive(format!(
            "file '{name}' seems to be a YAML file, but expected a gzipped archive"
        )));
    }
    Err(LoadError::Archive(format!(
        "file '{name}' does not appear to be a gzipped archive; got '{}'",
        detect_content_type(head)
    )))
}

/// A small part of Go's `http.DetectContentType`: the answers a chart path is likely to get.
fn detect_content_type(data: &[u8]) -> &'static str {
    // Helm reads into a zeroed 512-byte buffer and sniffs all of it (short files end in NULs).
    let mut buf = data[..data.len().min(512)].to_vec();
    buf.resize(512, 0);
    let head = &buf[..];
    if head.starts_with(b"\x1f\x8b\x08") {
        return "application/x-gzip";
    }
    if head.starts_with(b"PK\x03\x04") {
        return "application/zip";
    }
    if head.starts_with(b"%PDF-") {
        return "application/pdf";
    }
    if head.starts_with(b"\xef\xbb\xbf") {
        return "text/plain; charset=utf-8";
    }
    if head.starts_with(b"\xfe\xff") {
        return "text/plain; charset=utf-16be";
    }
    if head.starts_with(b"\xff\xfe") {
        return "text/plain; charset=utf-16le";
    }
    let ws = |b: &u8| matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ');
    let trimmed: &[u8] = {
        let i = head.iter().position(|b| !ws(b)).unwrap_or(head.len());
        &head[i..]
    };
    let lower: Vec<u8> = trimmed.iter().take(14).map(|b| b.to_ascii_lowercase()).collect();
    for tag in [&b"<!doctype html"[..], b"<html", b"<head", b"<script", b"<body", b"<title", b"<!--"] {
        if lower.starts_with(tag) && lower.get(tag.len()).is_some_and(|b| *b == b' ' || *b == b'>') {
            return "text/html; charset=utf-8";
        }
    }
    if trimmed.starts_with(b"<?xml") {
        return "text/xml; charset=utf-8";
    }
    // Binary if any byte is a control byte Go's sniffer treats as binary.
    if head
        .iter()
        .any(|&b| b <= 0x08 || b == 0x0b || (0x0e..=0x1a).contains(&b) || (0x1c..=0x1f).contains(&b))
    {
        return "application/octet-stream";
    }
    "text/plain; charset=utf-8"
}
