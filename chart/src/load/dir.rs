//! Reading a chart directory (Helm: pkg/chart/v2/loader/directory.go, internal/sympath).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{LoadError, MAX_DECOMPRESSED_CHART_SIZE};
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
        deferred: Vec::new(),
    };
    if let Err(e) = w.walk_children(&topdir) {
        // The files walked before the error are read first: an error reading one of them
        // comes first in Helm's walk.
        w.read_deferred()?;
        return Err(e);
    }
    w.read_deferred()?;
    Ok(w.files)
}

/// Below this many files a chart's files are read on one thread.
const PARALLEL_READ_MIN: usize = 16;

struct Walker {
    top: PathBuf,
    rules: Rules,
    remaining: u64,
    files: Vec<File>,
    /// The files walked, not yet read: (index in `files`, their size when walked, their
    /// path). The walk only looks at names and sizes; the files are opened and read after it,
    /// on two threads (kube-prometheus-stack: 7 MB in 360 files): reading is mostly system
    /// calls and the kernel filling fresh pages, which the second core can share.
    deferred: Vec<(usize, u64, PathBuf)>,
}

fn budget_err(n: &str) -> LoadError {
    LoadError::Io(format!("error reading {n}: chart exceeds maximum decompressed size of {MAX_DECOMPRESSED_CHART_SIZE} bytes"))
}

fn read_err(n: &str, path: &Path, e: &std::io::Error) -> LoadError {
    LoadError::Io(format!("error reading {n}: read {}: {}", path.display(), go_errno_text(e)))
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
        if meta.len() > self.remaining {
            return Err(budget_err(&n));
        }
        // Counted now at its walked size; checked again once read.
        self.remaining -= meta.len();
        self.deferred.push((self.files.len(), meta.len(), path.to_path_buf()));
        self.files.push(File { name: n, data: std::sync::Arc::from(&[][..]) });
        Ok(())
    }

    /// Reads the files walked, in parallel, and checks them against the budget
    /// in walk order, as if each had been read when walked.
    fn read_deferred(&mut self) -> Result<(), LoadError> {
        let deferred = std::mem::take(&mut self.deferred);
        if deferred.is_empty() {
            return Ok(());
        }
        let limit = self.remaining;
        let threads = if deferred.len() < PARALLEL_READ_MIN { 1 } else { rudder_engine::par::threads(2) };
        let read = rudder_engine::par::map_indexed(deferred.len(), threads, &|i| {
            let (_, size, path) = &deferred[i];
            let f = fs::File::open(path).map_err(|e| (true, e))?;
            // The walked size was already counted: up to `limit` more may turn up.
            read_whole(&f, *size, size + limit).map_err(|e| (false, e))
        });
        for ((at, size, path), data) in deferred.into_iter().zip(read) {
            let n = self.files[at].name.clone();
            let data = data.map_err(|(open, e)| {
                if open {
                    LoadError::Io(format!("error reading {n}: open {}: {}", path.display(), go_errno_text(&e)))
                } else {
                    read_err(&n, &path, &e)
                }
            })?;
            let got = data.len() as u64;
            if got > size {
                if got - size > self.remaining {
                    return Err(budget_err(&n));
                }
                self.remaining -= got - size;
            } else {
                self.remaining += size - got;
            }
            self.files[at].data = strip_bom(data);
        }
        Ok(())
    }
}

/// The data without a leading UTF-8 byte order mark (Helm strips it from every file).
fn strip_bom(data: std::sync::Arc<[u8]>) -> std::sync::Arc<[u8]> {
    if data.starts_with(b"\xef\xbb\xbf") {
        std::sync::Arc::from(&data[3..])
    } else {
        data
    }
}

/// The contents of `f`, whose size `stat` gave as `size`, read straight into their final shared
/// buffer: a chart's files (kube-prometheus-stack: 7 MB, mostly CRDs) are copied once, not read
/// into a growing vector and copied again. If the file is not the size it was, it is read
/// afresh to its end (at most `limit + 1` bytes, for the caller's size check).
fn read_whole(mut f: &fs::File, size: u64, limit: u64) -> std::io::Result<std::sync::Arc<[u8]>> {
    if size <= limit {
        let buf = std::sync::Arc::<[u8]>::new_zeroed_slice(size as usize);
        // SAFETY: zeroed bytes are initialised `u8`s.
        let mut buf = unsafe { buf.assume_init() };
        let whole = std::sync::Arc::get_mut(&mut buf).expect("a new Arc is unique");
        let mut got = 0;
        while got < whole.len() {
            match f.read(&mut whole[got..]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if got == whole.len() && at_end(f)? {
            return Ok(buf);
        }
        use std::io::Seek;
        f.rewind()?;
    }
    let mut data = Vec::new();
    f.take(limit + 1).read_to_end(&mut data)?;
    Ok(data.into())
}

/// Whether `f` has nothing more to read.
fn at_end(mut f: &fs::File) -> std::io::Result<bool> {
    let mut probe = [0u8; 1];
    loop {
        match f.read(&mut probe) {
            Ok(k) => return Ok(k == 0),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
