//! Writing a chart archive as Helm's `chartutil.Save` does (pkg/chart/v2/util/save.go): used for
//! `file://` dependencies. The tar holds the same entries in the same order with the same
//! contents (Chart.yaml re-marshalled with sorted keys, values.yaml and the rest as loaded);
//! the gzip stream itself is flate2's, not Go's, so the archive bytes differ from Helm's.

use std::io::Write;
use std::path::{Path, PathBuf};

use rudder_chart::model::Chart;

use crate::{Error, Result};

/// Chart.yaml as `yaml.Marshal(chart.Metadata)` writes it (v1 charts without dependencies).
pub fn chart_yaml(c: &Chart) -> Result<String> {
    let mut md = c.metadata.clone();
    if md.api_version == "v1" {
        md.dependencies.clear();
    }
    let j = crate::index::metadata_json_pub(&md)?;
    rudder_engine::yaml::to_yaml(&rudder_engine::Value::from_json(&serde_json::Value::Object(j))).map_err(Error::new)
}

/// `Chart.lock` as `yaml.Marshal(chart.Lock)` writes it.
pub fn lock_yaml(lock: &rudder_chart::model::Lock) -> Result<String> {
    let deps: Vec<serde_json::Value> = lock.dependencies.iter().map(crate::deps::dependency_json).collect::<Result<_>>()?;
    let generated = if lock.generated.is_empty() { "0001-01-01T00:00:00Z".to_string() } else { lock.generated.clone() };
    let doc = serde_json::json!({"generated": generated, "digest": lock.digest, "dependencies": deps});
    rudder_engine::yaml::to_yaml(&rudder_engine::Value::from_json(&doc)).map_err(Error::new)
}

fn entries(c: &Chart, prefix: &str, out: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
    let name = &c.metadata.name;
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(Error::new(format!("chart name {name:?} is not allowed")));
    }
    let base = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
    out.push((format!("{base}/Chart.yaml"), chart_yaml(c)?.into_bytes()));
    if c.metadata.api_version == "v2" {
        if let Some(l) = &c.lock {
            out.push((format!("{base}/Chart.lock"), lock_yaml(l)?.into_bytes()));
        }
    }
    for f in c.raw.iter().filter(|f| f.name == "values.yaml") {
        out.push((format!("{base}/values.yaml"), f.data.to_vec()));
    }
    if let Some(s) = &c.schema {
        if serde_json::from_slice::<serde_json::Value>(s).is_err() {
            return Err(Error::new("invalid JSON in values.schema.json"));
        }
        out.push((format!("{base}/values.schema.json"), s.clone()));
    }
    for f in c.templates.iter().chain(&c.files) {
        out.push((format!("{base}/{}", f.name), f.data.to_vec()));
    }
    for d in &c.dependencies {
        entries(d, &format!("{base}/charts"), out)?;
    }
    Ok(())
}

/// The gzipped tar of a loaded chart, as `chartutil.Save` lays it out.
pub fn archive_bytes(c: &Chart) -> Result<Vec<u8>> {
    let mut files = Vec::new();
    entries(c, "", &mut files)?;
    let mtime = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let mut gz = flate2::GzBuilder::new().comment("Helm").write(Vec::new(), flate2::Compression::default());
    {
        let mut tw = tar::Builder::new(&mut gz);
        for (name, data) in &files {
            let mut h = tar::Header::new_ustar();
            h.set_mode(0o644);
            h.set_size(data.len() as u64);
            h.set_mtime(mtime);
            h.set_entry_type(tar::EntryType::Regular);
            tw.append_data(&mut h, name, data.as_slice()).map_err(|e| Error::new(format!("{name}: {e}")))?;
        }
        tw.finish().map_err(|e| Error::new(e.to_string()))?;
    }
    gz.flush().map_err(|e| Error::new(e.to_string()))?;
    gz.finish().map_err(|e| Error::new(e.to_string()))
}

/// `chartutil.Save(chart, dir)`: writes `<dir>/<name>-<version>.tgz` atomically.
pub fn save(c: &Chart, dir: &Path) -> Result<PathBuf> {
    let data = archive_bytes(c)?;
    let path = dir.join(format!("{}-{}.tgz", c.metadata.name, c.metadata.version));
    crate::atomic_write(&path, &data, 0o644)?;
    Ok(path)
}
