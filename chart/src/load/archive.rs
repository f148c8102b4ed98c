//! Reading a chart archive (Helm: pkg/chart/loader/archive/archive.go).

use super::LoadError;
use crate::model::File;

/// Helm's `LoadArchiveFiles`: gunzips and untars `bytes`, drops the first path segment, rejects
/// unsafe paths with Helm's texts, strips BOMs, enforces the 100 MiB budget.
pub fn load_archive_files(bytes: &[u8]) -> Result<Vec<File>, LoadError> {
    let _ = bytes;
    Err(LoadError::Other("load_archive_files: not implemented yet".into()))
}

/// Helm's `EnsureArchive`: whether the first 512 bytes look gzipped; the error names the file.
pub fn ensure_archive(name: &str, head: &[u8]) -> Result<(), LoadError> {
    let _ = (name, head);
    Ok(())
}
