//! `repositories.yaml` (pkg/repo/v1/repo.go, chartrepo.go `Entry`).

use std::path::Path;

use serde_json::{json, Map as JMap, Value as J};

use crate::{atomic_write, yaml_to_json, Error, Result};

/// One repository (Go: `repo.Entry`). `Debug` hides the password.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub url: String,
    pub username: String,
    pub password: String,
    pub cert_file: String,
    pub key_file: String,
    pub ca_file: String,
    pub insecure_skip_tls_verify: bool,
    pub pass_credentials_all: bool,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &if self.password.is_empty() { "" } else { "<redacted>" })
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .field("ca_file", &self.ca_file)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("pass_credentials_all", &self.pass_credentials_all)
            .finish()
    }
}

/// The file (Go: `repo.File`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoFile {
    pub api_version: String,
    /// RFC 3339 text as found (or written).
    pub generated: String,
    pub repositories: Vec<Entry>,
}

/// encoding/json matches field names case-insensitively when there is no exact match.
pub(crate) fn field<'a>(m: &'a JMap<String, J>, name: &str) -> Option<&'a J> {
    m.get(name).or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

pub(crate) fn str_field(m: &JMap<String, J>, name: &str, ctx: &str) -> Result<String> {
    match field(m, name) {
        None | Some(J::Null) => Ok(String::new()),
        Some(J::String(s)) => Ok(s.clone()),
        Some(other) => Err(Error::new(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct field {ctx}.{name} of type string",
            json_kind(other)
        ))),
    }
}

fn bool_field(m: &JMap<String, J>, name: &str, ctx: &str) -> Result<bool> {
    match field(m, name) {
        None | Some(J::Null) => Ok(false),
        Some(J::Bool(b)) => Ok(*b),
        Some(other) => Err(Error::new(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct field {ctx}.{name} of type bool",
            json_kind(other)
        ))),
    }
}

pub(crate) fn json_kind(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "bool",
        J::Number(_) => "number",
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    }
}

impl Entry {
    fn from_json(m: &JMap<String, J>) -> Result<Entry> {
        let c = "Entry";
        Ok(Entry {
            name: str_field(m, "name", c)?,
            url: str_field(m, "url", c)?,
            username: str_field(m, "username", c)?,
            password: str_field(m, "password", c)?,
            cert_file: str_field(m, "certFile", c)?,
            key_file: str_field(m, "keyFile", c)?,
            ca_file: str_field(m, "caFile", c)?,
            insecure_skip_tls_verify: bool_field(m, "insecure_skip_tls_verify", c)?,
            pass_credentials_all: bool_field(m, "pass_credentials_all", c)?,
        })
    }

    fn to_json(&self) -> J {
        json!({
            "name": self.name, "url": self.url, "username": self.username,
            "password": self.password, "certFile": self.cert_file, "keyFile": self.key_file,
            "caFile": self.ca_file, "insecure_skip_tls_verify": self.insecure_skip_tls_verify,
            "pass_credentials_all": self.pass_credentials_all,
        })
    }
}

impl RepoFile {
    /// Go: `repo.NewFile()`.
    pub fn new() -> RepoFile {
        RepoFile { api_version: "v1".into(), generated: crate::now_rfc3339(), repositories: vec![] }
    }

    /// Parse the YAML (or JSON) text; an empty text is an empty file (as `yaml.Unmarshal` of
    /// nothing into a zero `repo.File`).
    pub fn parse(text: &str) -> Result<RepoFile> {
        let doc = yaml_to_json(text)?;
        let mut f = RepoFile::default();
        let m = match &doc {
            J::Null => return Ok(f),
            J::Object(m) => m,
            other => {
                return Err(Error::new(format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type repo.File",
                    json_kind(other)
                )))
            }
        };
        f.api_version = str_field(m, "apiVersion", "File")?;
        f.generated = match field(m, "generated") {
            Some(J::String(s)) => s.clone(),
            _ => String::new(),
        };
        match field(m, "repositories") {
            None | Some(J::Null) => {}
            Some(J::Array(items)) => {
                for it in items {
                    match it {
                        J::Object(e) => f.repositories.push(Entry::from_json(e)?),
                        J::Null => {}
                        other => {
                            return Err(Error::new(format!(
                                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct field File.repositories of type repo.Entry",
                                json_kind(other)
                            )))
                        }
                    }
                }
            }
            Some(other) => {
                return Err(Error::new(format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct field File.repositories of type []*repo.Entry",
                    json_kind(other)
                )))
            }
        }
        Ok(f)
    }

    /// Go: `repo.LoadFile`.
    pub fn load(path: &Path) -> Result<RepoFile> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::new(format!("couldn't load repositories file ({0}): open {0}: {1}", path.display(), crate::io_msg(&e)))
        })?;
        RepoFile::parse(&text)
    }

    /// Load, or an empty file when it does not exist (what `repo add` does).
    pub fn load_or_default(path: &Path) -> Result<RepoFile> {
        match std::fs::read_to_string(path) {
            Ok(t) => RepoFile::parse(&t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RepoFile::default()),
            Err(e) => Err(Error::new(format!("{}: {}", path.display(), crate::io_msg(&e)))),
        }
    }

    /// `sigs.k8s.io/yaml.Marshal` of the file: keys sorted, Helm's layout.
    pub fn to_yaml(&self) -> Result<String> {
        let generated = if self.generated.is_empty() { "0001-01-01T00:00:00Z".to_string() } else { self.generated.clone() };
        let doc = json!({
            "apiVersion": self.api_version,
            "generated": generated,
            "repositories": self.repositories.iter().map(Entry::to_json).collect::<Vec<_>>(),
        });
        rudder_engine::yaml::to_yaml(&rudder_engine::Value::from_json(&doc)).map_err(Error::new)
    }

    /// Go: `File.WriteFile(path, 0o600)`, but atomically (temp file + rename).
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = self.to_yaml()?;
        atomic_write(path, text.as_bytes(), 0o600)
    }

    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.repositories.iter().find(|e| e.name == name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Go: `File.Update`: replace the entry with that name, or append.
    pub fn update(&mut self, e: Entry) {
        match self.repositories.iter_mut().find(|r| r.name == e.name) {
            Some(slot) => *slot = e,
            None => self.repositories.push(e),
        }
    }

    /// Go: `File.Remove`.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.repositories.len();
        self.repositories.retain(|r| r.name != name);
        before != self.repositories.len()
    }
}
