//! User values from the command line (Helm: pkg/cli/values/options.go `Options.MergeValues`).

use rudder_engine::Value;

use super::ValuesError;

/// Helm's `values.Options`: each list in command-line order.
#[derive(Clone, Debug, Default)]
pub struct ValueOptions {
    /// `-f/--values`: paths, `-` for stdin.
    pub value_files: Vec<String>,
    /// `--set-string`
    pub string_values: Vec<String>,
    /// `--set`
    pub values: Vec<String>,
    /// `--set-file`
    pub file_values: Vec<String>,
    /// `--set-json`
    pub json_values: Vec<String>,
    /// `--set-literal`
    pub literal_values: Vec<String>,
}

/// Reads a `-f`/`--set-file` source: `Ok(bytes)` or Go's error text. The default reader takes
/// `-` as stdin and anything else as a local path.
pub type Reader<'a> = &'a dyn Fn(&str) -> Result<Vec<u8>, String>;

impl ValueOptions {
    /// Helm's `MergeValues` with the default reader: `-f` files in order (every document merged),
    /// then `--set-json`, `--set`, `--set-string`, `--set-file`, `--set-literal`.
    pub fn merge_values(&self) -> Result<Value, ValuesError> {
        self.merge_values_with(&default_reader)
    }

    /// As [`merge_values`](Self::merge_values) with a custom reader (URLs, tests).
    pub fn merge_values_with(&self, read: Reader<'_>) -> Result<Value, ValuesError> {
        let _ = read;
        Ok(Value::empty_map())
    }
}

/// `-` is stdin; anything else a local file, errors in Go's `*PathError` text.
pub fn default_reader(path: &str) -> Result<Vec<u8>, String> {
    let _ = path;
    Err("not implemented yet".into())
}
