//! User values from the command line (Helm: pkg/cli/values/options.go `Options.MergeValues`).

use std::sync::Arc;

use rudder_engine::{Map, Value};

use super::files::{load_values, merge_maps};
use super::strvals::{self, Mode};
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

fn base_map(v: &Value) -> Arc<Map> {
    match v {
        Value::Map(m) => m.clone(),
        _ => Arc::new(Map::new(rudder_engine::GoType::Interface, Default::default())),
    }
}

impl ValueOptions {
    /// Helm's `MergeValues` with the default reader: `-f` files in order (every document merged),
    /// then `--set-json`, `--set`, `--set-string`, `--set-file`, `--set-literal`.
    pub fn merge_values(&self) -> Result<Value, ValuesError> {
        self.merge_values_with(&default_reader)
    }

    /// As [`merge_values`](Self::merge_values) with a custom reader (URLs, tests).
    pub fn merge_values_with(&self, read: Reader<'_>) -> Result<Value, ValuesError> {
        let mut base = Value::empty_map();
        for path in &self.value_files {
            let raw = read(path).map_err(ValuesError)?;
            let current = load_values(&raw).map_err(|e| ValuesError(format!("failed to parse {path}: {e}")))?;
            base = merge_maps(&base, &current);
        }
        for value in &self.json_values {
            let trimmed = value.trim();
            if trimmed.starts_with('{') {
                let parsed: Result<serde_json::Map<String, serde_json::Value>, _> = serde_json::from_str(trimmed);
                match parsed {
                    Ok(obj) => {
                        let m = Value::from_json(&serde_json::Value::Object(obj));
                        base = merge_maps(&base, &m);
                    }
                    Err(_) => return Err(ValuesError(format!("failed parsing --set-json data JSON: {value}"))),
                }
            } else {
                strvals::parse_into(value, &base_map(&base), Mode::Json)
                    .map_err(|_| ValuesError(format!("failed parsing --set-json data {value}")))?;
            }
        }
        let dest = base_map(&base);
        for value in &self.values {
            strvals::parse_into(value, &dest, Mode::Typed).map_err(|e| ValuesError(format!("failed parsing --set data: {e}")))?;
        }
        for value in &self.string_values {
            strvals::parse_into(value, &dest, Mode::String)
                .map_err(|e| ValuesError(format!("failed parsing --set-string data: {e}")))?;
        }
        let file_reader = |p: &str| -> Result<Value, String> {
            let bytes = read(p)?;
            Ok(Value::string(String::from_utf8_lossy(&bytes).into_owned()))
        };
        for value in &self.file_values {
            strvals::parse_into(value, &dest, Mode::File(&file_reader))
                .map_err(|e| ValuesError(format!("failed parsing --set-file data: {e}")))?;
        }
        for value in &self.literal_values {
            strvals::parse_into(value, &dest, Mode::Literal)
                .map_err(|e| ValuesError(format!("failed parsing --set-literal data: {e}")))?;
        }
        Ok(Value::Map(dest))
    }
}

/// `-` is stdin; anything else a local file, errors in Go's `*PathError` text. (Helm also fetches
/// `http(s)://` and `oci://` through its getters; those are refused here with a clear text.)
pub fn default_reader(path: &str) -> Result<Vec<u8>, String> {
    if path.trim() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map_err(|e| go_errno_text(&e))?;
        return Ok(buf);
    }
    for scheme in ["http://", "https://", "oci://"] {
        if path.len() >= scheme.len() && path[..scheme.len()].eq_ignore_ascii_case(scheme) {
            return Err(format!("reading values from {path}: remote values files are not supported yet"));
        }
    }
    read_file_go(path)
}

/// Go's `os.ReadFile(path)` with Go's error texts (`open x: no such file or directory`,
/// `read x: is a directory`).
pub fn read_file_go(path: &str) -> Result<Vec<u8>, String> {
    let mut f = std::fs::File::open(path).map_err(|e| format!("open {path}: {}", go_errno_text(&e)))?;
    let mut buf = Vec::new();
    std::io::Read::read_to_end(&mut f, &mut buf).map_err(|e| format!("read {path}: {}", go_errno_text(&e)))?;
    Ok(buf)
}

/// Go's `syscall.Errno` text for an OS error (the C strerror text with a lower-case initial, as
/// Go's table has it).
pub fn go_errno_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => {
            let s = std::io::Error::from_raw_os_error(code).to_string();
            let s = match s.rfind(" (os error ") {
                Some(i) => s[..i].to_string(),
                None => s,
            };
            let mut cs = s.chars();
            match cs.next() {
                Some(c) => c.to_lowercase().collect::<String>() + cs.as_str(),
                None => s,
            }
        }
        None => e.to_string(),
    }
}
