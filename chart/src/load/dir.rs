//! Reading a chart directory (Helm: pkg/chart/v2/loader/directory.go, internal/sympath).

use std::path::Path;

use super::LoadError;
use crate::model::File;

/// The files of a chart directory in Helm's walk order, `.helmignore` applied.
pub fn load_dir_files(dir: &Path) -> Result<Vec<File>, LoadError> {
    let _ = dir;
    Err(LoadError::Other("load_dir_files: not implemented yet".into()))
}
