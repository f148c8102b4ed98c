//! Reading a chart directory (Helm: pkg/chart/v2/loader/directory.go, internal/sympath).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{strip_bom, LoadError, MAX_DECOMPRESSED_CHART_SIZE};
use crate::ignore::{Rules, HELM_IGNORE};
use crate::model::File;
use crate::values::options::go_errno_text;

/// The files of a chart directory in Helm's walk order (names sorted byte-wise per directory,
/// depth first, symlinks followed), `.helmignore` plus `templates/.?*` applied, BOMs stripped,
/// the 100 MiB budget enforced.
pub fn load_dir_files(dir: &Path) -> Result<Vec<File>, LoadError> {
    let topdir = std::path::absolute(dir).map_err(|e| LoadError::Io(go_errno_text(&e)))?;
    let mut rules = Rules::empty();
    let ifile = topdir.join(HELM_IGNORE);
    if ifile.exists() {
        let text = fs::read(&ifile).map_err(|e| LoadError::Io(format!("open {}: {}", ifile.display(), go_errno_text(&e))))?;
        rules = Rules::parse(&String::from_utf8_lossy(&text)).map_err(|(_, e)| LoadError::Other(e.to_string()))?;
    }
    rules.add_defaults();
    let mut w = Walker {
        top: topdir.clone(),
        rules,
        remaining: MAX_DECOMPRESSED_CHART_SIZE,
        files: Vec::new(),
    };
    w.walk_children(&topdir)?;
    Ok(w.files)
}

struct Walker {
    top: PathBuf,
    rules: Rules,
    remaining: u64,
    files: Vec<File>,
}

impl Walker {
    fn rel(&self, p: &Path) -> String {
        p.strip_prefix(&self.top).unwrap_or(p).to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/")
    }

    fn walk_children(&mut self, dir: &Path) -> Result<(), LoadError> {
        let rd = fs::read_dir(dir).map_err(|e| LoadError::Io(format!("open {}: {}", dir.display(), go_errno_text(&e))))?;
        let mut names: Vec<std::ffi::OsString> = Vec::new();
        for ent in rd {
            let ent = ent.map_err(|e| LoadError::Io(format!("readdirent {}: {}", dir.display(), go_errno_text(&e))))?;
            names.push(ent.file_name());
        }
        names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
        for name in names {
            let path = dir.join(&name);
            self.visit(&path)?;
        }
        Ok(())
    }

    /// sympath's `symwalk` + Helm's walk function for one path.
    fn visit(&mut self, path: &Path) -> Result<(), LoadError> {
        let lmeta = fs::symlink_metadata(path)
            .map_err(|e| LoadError::Io(format!("lstat {}: {}", path.display(), go_errno_text(&e))))?;
        let meta = if lmeta.file_type().is_symlink() {
            let resolved = fs::canonicalize(path).map_err(|e| {
                LoadError::Io(format!("error evaluating symlink {}: lstat {}: {}", path.display(), path.display(), go_errno_text(&e)))
            })?;
            fs::symlink_metadata(&resolved)
                .map_err(|e| LoadError::Io(format!("lstat {}: {}", resolved.display(), go_errno_text(&e))))?
        } else {
            lmeta
        };
        let n = self.rel(path);
        if meta.is_dir() {
            if self.rules.ignore(&n, true) {
                return Ok(());
            }
            return self.walk_children(path);
        }
        if self.rules.ignore(&n, false) {
            return Ok(());
        }
        if !meta.is_file() {
            return Err(LoadError::Io(format!(
                "cannot load irregular file {} as it has file mode type bits set",
                path.display()
            )));
        }
        let budget_err = || {
            LoadError::Io(format!(
                "error reading {n}: chart exceeds maximum decompressed size of {MAX_DECOMPRESSED_CHART_SIZE} bytes"
            ))
        };
        if meta.len() > self.remaining {
            return Err(budget_err());
        }
        let mut f = fs::File::open(path)
            .map_err(|e| LoadError::Io(format!("error reading {n}: open {}: {}", path.display(), go_errno_text(&e))))?;
        let mut data = Vec::new();
        (&mut f)
            .take(self.remaining + 1)
            .read_to_end(&mut data)
            .map_err(|e| LoadError::Io(format!("error reading {n}: read {}: {}", path.display(), go_errno_text(&e))))?;
        if data.len() as u64 > self.remaining {
            return Err(budget_err());
        }
        self.remaining -= data.len() as u64;
        self.files.push(File {
            name: n,
            data: strip_bom(data).into(),
        });
        Ok(())
    }
}
