//! Air-gapped bundles: `rudder bundle create REF... -o FILE` and `rudder bundle import FILE`.
//!
//! A bundle is a plain tar:
//! - `charts/<name>-<version>.tgz`: every chart archive, byte for byte as fetched;
//! - `index.yaml`: a Helm repository index of those archives (urls relative, sha256 digests),
//!   so an extracted bundle is also a chart repository any web server can serve;
//! - `rudder-bundle.json`: for each chart the sources it answers for (the keys of
//!   [`crate::cache`]'s reference map), its exact version, archive digest and, for OCI, the
//!   manifest digest.
//!
//! `import` checks every archive against its digest before anything is written, then seeds the
//! content cache and the reference map, so `--offline` resolves the same references on a machine
//! that never reached the servers.

use std::io::Read;
use std::path::Path;

use serde_json::{json, Value as J};

use crate::cache::RefEntry;
use crate::{Error, HelmPaths, PullOptions, Result};

const MANIFEST: &str = "rudder-bundle.json";

/// One chart in a bundle.
#[derive(Clone, Debug)]
pub struct BundleChart {
    pub name: String,
    pub version: String,
    pub digest: String,
    pub manifest: String,
    pub url: String,
    pub keys: Vec<String>,
    pub file: String,
}

/// `REF[@VERSION]` (an `@sha256:` digest stays part of an OCI reference).
pub fn split_ref(r: &str) -> (String, String) {
    if let Some(i) = r.rfind('@') {
        let tail = &r[i + 1..];
        if !tail.starts_with("sha256:") && !r[..i].is_empty() {
            return (r[..i].to_string(), tail.to_string());
        }
    }
    (r.to_string(), String::new())
}

/// Write the bundle for `refs` to `out`; returns one line per chart.
pub fn create(paths: &HelmPaths, refs: &[String], opts: &PullOptions, out: &Path) -> Result<String> {
    if refs.is_empty() {
        return Err(Error::new("bundle create needs at least one chart reference"));
    }
    let items: Vec<(String, PullOptions)> = refs
        .iter()
        .map(|r| {
            let (reference, v) = split_ref(r);
            let mut o = opts.clone();
            if !v.is_empty() {
                o.version = v;
            }
            (reference, o)
        })
        .collect();
    create_items(paths, &items, out)
}

/// Write the bundle for references each with its own options (version, `--repo` URL,
/// plain HTTP), as a helmfile state's releases need them; returns one line per chart.
pub fn create_items(paths: &HelmPaths, items: &[(String, PullOptions)], out: &Path) -> Result<String> {
    let mut charts: Vec<(BundleChart, Vec<u8>)> = Vec::new();
    for (reference, o) in items {
        let reference = reference.clone();
        let f = crate::ops::fetch(paths, &reference, o)
            .map_err(|e| Error::new(format!("{reference}: {e}")))?;
        let keys = crate::ops::ref_keys(paths, &reference, o);
        let file = format!("charts/{}-{}.tgz", f.name, f.version);
        if let Some((c, _)) = charts.iter_mut().find(|(c, _)| c.file == file) {
            // The same archive reached through another source answers for it too (an OCI
            // source brings the manifest digest helm prints).
            if c.manifest.is_empty() {
                c.manifest = f.manifest.clone();
            }
            for k in keys {
                if !c.keys.contains(&k) {
                    c.keys.push(k);
                }
            }
            continue;
        }
        charts.push((
            BundleChart {
                name: f.name.clone(),
                version: f.version.clone(),
                digest: f.digest.clone(),
                manifest: f.manifest.clone(),
                url: f.url.clone(),
                keys,
                file,
            },
            f.data,
        ));
    }
    let mut idx = crate::IndexFile::new();
    for (c, data) in &charts {
        let chart = rudder_chart::load::load_archive(data).map_err(|e| Error::new(format!("{}: {e}", c.url)))?;
        idx.add(chart.metadata.clone(), &c.file, "", &c.digest)?;
    }
    idx.sort_entries();
    let index_yaml =
        rudder_engine::yaml::to_yaml(&rudder_engine::Value::from_json(&idx.to_json()?)).map_err(Error::new)?;
    let manifest = json!({
        "apiVersion": "rudder.dev/bundle/v1",
        "charts": charts.iter().map(|(c, _)| json!({
            "name": c.name, "version": c.version, "digest": c.digest, "manifest": c.manifest,
            "url": c.url, "keys": c.keys, "file": c.file,
        })).collect::<Vec<_>>(),
    });
    let manifest = serde_json::to_string_pretty(&manifest).map_err(|e| Error::new(e.to_string()))?;
    let mut tw = tar::Builder::new(Vec::new());
    let mtime = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let mut add = |name: &str, data: &[u8]| -> Result<()> {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_mtime(mtime);
        h.set_entry_type(tar::EntryType::Regular);
        tw.append_data(&mut h, name, data).map_err(|e| Error::new(format!("{name}: {e}")))
    };
    add(MANIFEST, manifest.as_bytes())?;
    add("index.yaml", index_yaml.as_bytes())?;
    for (c, data) in &charts {
        add(&c.file, data)?;
    }
    let bytes = tw.into_inner().map_err(|e| Error::new(e.to_string()))?;
    crate::atomic_write(out, &bytes, 0o644)?;
    let mut lines = String::new();
    for (c, _) in &charts {
        lines.push_str(&format!("Bundled {} {} (sha256:{})\n", c.name, c.version, c.digest));
    }
    lines.push_str(&format!("Wrote {} ({} charts)\n", out.display(), charts.len()));
    Ok(lines)
}

/// The charts a bundle holds (nothing written).
pub fn read(file: &Path) -> Result<(Vec<BundleChart>, std::collections::HashMap<String, Vec<u8>>)> {
    let shown = file.display();
    let f = std::fs::File::open(file).map_err(|e| Error::new(format!("open {shown}: {}", crate::io_msg(&e))))?;
    let mut ar = tar::Archive::new(f);
    let mut files = std::collections::HashMap::new();
    let entries = ar.entries().map_err(|e| Error::new(format!("bundle {shown}: {e}")))?;
    for e in entries {
        let mut e = e.map_err(|e| Error::new(format!("bundle {shown}: {e}")))?;
        let name = e.path().map_err(|e| Error::new(format!("bundle {shown}: {e}")))?.display().to_string();
        let mut data = Vec::new();
        e.read_to_end(&mut data).map_err(|e| Error::new(format!("bundle {shown}: {name}: {e}")))?;
        files.insert(name, data);
    }
    let m = files
        .get(MANIFEST)
        .ok_or_else(|| Error::new(format!("bundle {shown}: not a rudder bundle ({MANIFEST} missing)")))?;
    let j: J = serde_json::from_slice(m).map_err(|e| Error::new(format!("bundle {shown}: {MANIFEST}: {e}")))?;
    let s = |c: &J, k: &str| c.get(k).and_then(J::as_str).unwrap_or("").to_string();
    let charts = j
        .get("charts")
        .and_then(J::as_array)
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| BundleChart {
            name: s(c, "name"),
            version: s(c, "version"),
            digest: s(c, "digest"),
            manifest: s(c, "manifest"),
            url: s(c, "url"),
            keys: c
                .get("keys")
                .and_then(J::as_array)
                .map(|a| a.iter().filter_map(|k| k.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            file: s(c, "file"),
        })
        .collect();
    Ok((charts, files))
}

/// Seed the content cache and the reference map from a bundle; returns one line per chart.
pub fn import(paths: &HelmPaths, file: &Path) -> Result<String> {
    let (charts, files) = read(file)?;
    // Check everything first: a bad bundle leaves the cache untouched.
    for c in &charts {
        let data = files
            .get(&c.file)
            .ok_or_else(|| Error::new(format!("bundle {}: {} is missing", file.display(), c.file)))?;
        let got = crate::sha256_hex(data);
        if got != c.digest {
            return Err(Error::new(format!(
                "bundle {}: digest mismatch for {}: the bundle says sha256:{}, the archive is sha256:{got}",
                file.display(),
                c.file,
                c.digest
            )));
        }
    }
    let mut items = Vec::new();
    let mut lines = String::new();
    for c in &charts {
        crate::cache::put_cached(paths, &files[&c.file])?;
        let e = RefEntry {
            version: c.version.clone(),
            digest: c.digest.clone(),
            manifest: c.manifest.clone(),
            url: c.url.clone(),
            name: c.name.clone(),
        };
        for k in &c.keys {
            items.push((k.clone(), e.clone()));
        }
        lines.push_str(&format!("Imported {} {} (sha256:{})\n", c.name, c.version, c.digest));
    }
    crate::cache::record_refs(paths, &items)?;
    Ok(lines)
}

/// Extract a bundle as a chart repository directory (`index.yaml` + `charts/`).
pub fn extract_repo(file: &Path, dir: &Path) -> Result<()> {
    let (charts, files) = read(file)?;
    let idx = files.get("index.yaml").ok_or_else(|| Error::new(format!("bundle {}: index.yaml is missing", file.display())))?;
    crate::atomic_write(&dir.join("index.yaml"), idx, 0o644)?;
    for c in &charts {
        if let Some(d) = files.get(&c.file) {
            crate::atomic_write(&dir.join(&c.file), d, 0o644)?;
        }
    }
    Ok(())
}
