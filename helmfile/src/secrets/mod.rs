//! Secrets without plugins: what helmfile gets from helm-secrets + sops (`secrets:` files) and
//! from vals (`ref+...` references), done in-process.
//!
//! - [`decrypt_file`] is `sops -d FILE`: SOPS v3 files (YAML, JSON, dotenv, binary) whose data key is
//!   encrypted for age recipients, with the keys sops would find (`SOPS_AGE_KEY`,
//!   `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD`, `$XDG_CONFIG_HOME/sops/age/keys.txt`). The text
//!   is what `sops -d` prints, byte for byte, so helmfile's downstream steps read the same
//!   document. PGP, cloud KMS and Vault keys are refused with an "unsupported key type" error.
//! - [`vals`] evaluates `ref+file://`, `ref+env://` and `ref+envsubst://` references.

mod age;
mod dotenv;
mod emit;
mod read;
mod sops;
mod tree;
pub mod vals;

use std::fmt;
use std::path::{Path, PathBuf};

pub use tree::Node;

/// A file that could not be decrypted, and sops' explanation (or Rudder's, for what it
/// does not support).
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed to decrypt {}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for Error {}

/// sops' file formats, chosen by file name as `sops` does (FormatForPath).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Binary,
}

pub fn format_for_path(p: &Path) -> Format {
    let name = p.to_string_lossy();
    if name.ends_with(".yaml") || name.ends_with(".yml") {
        Format::Yaml
    } else if name.ends_with(".json") {
        Format::Json
    } else if name.ends_with(".env") {
        Format::Dotenv
    } else if name.ends_with(".ini") {
        Format::Ini
    } else {
        Format::Binary
    }
}

/// The process environment, where sops looks for keys.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// `sops -d PATH`: the decrypted file as sops prints it.
pub fn decrypt_file(path: &Path) -> Result<String, Error> {
    decrypt_file_env(path, &process_env)
}

/// [`decrypt_file`] with key locations looked up in `env` instead of the process environment.
pub fn decrypt_file_env(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<String, Error> {
    let text = std::fs::read(path).map_err(|e| Error {
        path: path.to_path_buf(),
        message: format!("Error reading file: open {}: {}", path.display(), rudder_engine::funcs::helmfile::errno_text(&e)),
    })?;
    let text = String::from_utf8_lossy(&text).into_owned();
    decrypt_str(&text, format_for_path(path), path, env)
}

/// [`decrypt_file`] on text already read; `path` names the file in errors.
pub fn decrypt_str(text: &str, format: Format, path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<String, Error> {
    let err = |message: String| Error { path: path.to_path_buf(), message };
    match format {
        Format::Yaml => {
            let docs = read::yaml_docs(text).map_err(err)?;
            let mut roots: Vec<Vec<(String, Node)>> = docs.iter().map(|d| d.root.clone()).collect();
            // Where the `sops` entry stood, so that comment numbering skips its entries.
            let skip = roots.first().and_then(|r| r.iter().position(|(k, _)| k == "sops").map(|i| (i, 1 + r[i].1.entry_count())));
            let key = data_key(&mut roots, env).map_err(err)?;
            let mut out = Vec::new();
            for (i, (root, doc)) in roots.iter().zip(&docs).enumerate() {
                out.push(emit::yaml_doc(root, &doc.comments, &key, if i == 0 { skip } else { None }));
            }
            Ok(emit::yaml(&out))
        }
        Format::Json | Format::Binary => {
            let root = read::json_doc(text).map_err(err)?;
            let mut roots = vec![root];
            let key = data_key(&mut roots, env).map_err(err)?;
            let _ = key;
            if format == Format::Json {
                return Ok(emit::json(&roots[0]));
            }
            match roots[0].iter().find(|(k, _)| k == "data") {
                Some((_, Node::Str(s))) => Ok(s.clone()),
                Some(_) => Err(err("Error dumping file: error emitting binary store: 'data' key in tree does not have a string value\n\nThis is likely not an encrypted binary file? If not, use --output-type to select the correct output type.".into())),
                None => Err(err("Error dumping file: error emitting binary store: no binary data found in tree\n\nThis is likely not an encrypted binary file? If not, use --output-type to select the correct output type.".into())),
            }
        }
        Format::Dotenv => {
            let (lines, meta) = dotenv::read(text).map_err(err)?;
            // The entries as one tree (comments apart), the metadata as its `sops` entry.
            let mut root: Vec<(String, Node)> = lines
                .iter()
                .filter_map(|l| if let dotenv::Line::Entry(k, v) = l { Some((k.clone(), v.clone())) } else { None })
                .collect();
            root.push(("sops".into(), Node::Map(meta)));
            let mut roots = vec![root];
            let key = data_key(&mut roots, env).map_err(err)?;
            let mut values = roots.remove(0).into_iter();
            let lines: Vec<dotenv::Line> = lines
                .into_iter()
                .map(|l| match l {
                    dotenv::Line::Entry(..) => {
                        let (k, v) = values.next().unwrap_or_default();
                        dotenv::Line::Entry(k, v)
                    }
                    dotenv::Line::Comment(c) => dotenv::Line::Comment(sops::decrypt_comment(&c, &key, &[":".to_string()])),
                })
                .collect();
            Ok(dotenv::emit(&lines))
        }
        Format::Ini => Err(err("unsupported SOPS file format ini: Rudder decrypts YAML, JSON, dotenv and binary SOPS files".into())),
    }
}

/// Takes the metadata out of `roots`, recovers the data key, decrypts the values in place and
/// checks the MAC. Returns the data key (comments are decrypted with it when printed).
fn data_key(roots: &mut [Vec<(String, Node)>], env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<u8>, String> {
    let md = sops::extract_metadata(roots)?;
    if md.groups.len() > 1 {
        return Err(format!(
            "unsupported key type: the file is split into {} key groups (Shamir secret sharing, threshold {}), which Rudder does not decrypt",
            md.groups.len(),
            md.shamir_threshold
        ));
    }
    let (ages, others) = &md.groups[0];
    if ages.is_empty() {
        return Err(format!(
            "unsupported key type: the data key is encrypted only for {} key(s); Rudder decrypts SOPS files with age keys",
            others.join(", ")
        ));
    }
    let ids = age::load(env);
    let mut key_errs = Vec::new();
    let mut key = None;
    for k in ages {
        match age::decrypt_data_key(&k.enc, &ids) {
            Ok(dk) => {
                key = Some(dk);
                break;
            }
            Err(e) => key_errs.push((k.recipient.clone(), e)),
        }
    }
    let Some(key) = key else { return Err(data_key_error(&key_errs, others)) };
    sops::decrypt_tree(roots, &md, &key)?;
    Ok(key)
}

/// sops' getDataKeyError.UserError for one key group.
fn data_key_error(key_errs: &[(String, String)], others: &[String]) -> String {
    let mut keys = Vec::new();
    for (name, e) in key_errs {
        let wrapped = prefix_lines(&wordwrap(e, 60), "  | ");
        let msg = format!("-{}", &wrapped[1..]);
        keys.push(format!("{name}: FAILED\n{}", prefix_lines(&msg, "  ")));
    }
    let group = format!("Group 0: FAILED\n{}", prefix_lines(&keys.join("\n\n"), "  "));
    let trailer = wordwrap(
        "Recovery failed because no master key was able to decrypt the file. In order for SOPS to recover the file, at least one key has to be successful, but none were.",
        75,
    );
    let mut s = format!("Failed to get the data key required to decrypt the SOPS file.\n\n{group}\n\n{trailer}");
    if !others.is_empty() {
        s.push_str(&format!("\n\n(The file's {} key(s) are an unsupported key type for Rudder.)", others.join(", ")));
    }
    s
}

fn prefix_lines(s: &str, p: &str) -> String {
    s.split('\n').map(|l| format!("{p}{l}")).collect::<Vec<_>>().join("\n")
}

/// mitchellh/go-wordwrap's WrapString: breaks at spaces so that lines stay within `lim`
/// characters where words allow.
fn wordwrap(s: &str, lim: usize) -> String {
    let mut buf = String::with_capacity(s.len() + 8);
    let mut current = 0usize;
    let mut word = String::new();
    let mut space = String::new();
    let (mut wlen, mut slen) = (0usize, 0usize);
    for ch in s.chars() {
        if ch == '\n' {
            if word.is_empty() {
                if current + slen <= lim {
                    buf.push_str(&space);
                }
            } else {
                buf.push_str(&space);
                buf.push_str(&word);
            }
            space.clear();
            word.clear();
            slen = 0;
            wlen = 0;
            buf.push('\n');
            current = 0;
        } else if ch.is_whitespace() && ch != '\u{a0}' {
            if space.is_empty() || !word.is_empty() {
                current += slen + wlen;
                buf.push_str(&space);
                buf.push_str(&word);
                space.clear();
                word.clear();
                slen = 0;
                wlen = 0;
            }
            space.push(ch);
            slen += 1;
        } else {
            word.push(ch);
            wlen += 1;
            if current + slen + wlen > lim && wlen < lim {
                buf.push('\n');
                current = 0;
                space.clear();
                slen = 0;
            }
        }
    }
    if word.is_empty() {
        if current + slen <= lim {
            buf.push_str(&space);
        }
    } else {
        buf.push_str(&space);
        buf.push_str(&word);
    }
    buf
}
