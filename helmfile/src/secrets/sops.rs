//! The SOPS file format as sops v3.13.3 decrypts it: the `sops` metadata entry, the
//! `ENC[AES256_GCM,data:..,iv:..,tag:..,type:..]` values (AES-256-GCM with a 32-byte IV and the
//! value's key path as additional data), which values are encrypted at all
//! (`unencrypted_suffix` & co.), and the MAC (SHA-512 over the plaintext leaves, stored
//! encrypted with `lastmodified` as additional data).

use aes_gcm::aead::consts::U32;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::AesGcm;
use base64::Engine as _;
use sha2::{Digest, Sha512};

use super::tree::{mac_bytes, Node};

/// sops' default `unencrypted_suffix` when a file names no rule.
pub const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

/// `echo -n sops | sha256sum`: what the MAC starts with when `mac_only_encrypted` is set.
const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b, 0x0b, 0x97, 0x5b, 0x3b,
    0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// An age master key of the file: its recipient and the armored, age-encrypted data key.
#[derive(Clone, Debug)]
pub struct AgeKey {
    pub recipient: String,
    pub enc: String,
}

/// The parts of the `sops` entry decryption needs.
#[derive(Clone, Debug, Default)]
pub struct Metadata {
    pub last_modified: String,
    pub mac: String,
    pub unencrypted_suffix: String,
    pub encrypted_suffix: String,
    pub unencrypted_regex: String,
    pub encrypted_regex: String,
    pub unencrypted_comment_regex: String,
    pub encrypted_comment_regex: String,
    pub mac_only_encrypted: bool,
    /// Key groups; each holds its age keys and the names of the other key types it has.
    pub groups: Vec<(Vec<AgeKey>, Vec<String>)>,
    pub shamir_threshold: i64,
}

/// Key types sops knows besides age, by their metadata names.
const OTHER_KEY_TYPES: &[(&str, &str)] = &[
    ("pgp", "PGP"),
    ("kms", "AWS KMS"),
    ("gcp_kms", "GCP KMS"),
    ("hckms", "HuaweiCloud KMS"),
    ("azure_kv", "Azure Key Vault"),
    ("hc_vault", "HashiCorp Vault"),
];

fn text_of(n: Option<&Node>) -> String {
    match n {
        Some(Node::Str(s)) | Some(Node::Time(s)) => s.clone(),
        Some(Node::Int(i)) => i.to_string(),
        Some(Node::Float(f)) => super::tree::format_float_f(*f),
        Some(Node::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn group_of(n: &Node) -> (Vec<AgeKey>, Vec<String>) {
    let mut ages = Vec::new();
    if let Some(Node::Seq(items)) = n.get("age") {
        for it in items {
            ages.push(AgeKey { recipient: text_of(it.get("recipient")), enc: text_of(it.get("enc")) });
        }
    }
    let mut others = Vec::new();
    for (key, name) in OTHER_KEY_TYPES {
        if matches!(n.get(key), Some(Node::Seq(s)) if !s.is_empty()) {
            others.push(name.to_string());
        }
    }
    (ages, others)
}

/// Removes the `sops` entry from the documents (sops' ExtractMetadata) and reads it.
pub fn extract_metadata(docs: &mut [Vec<(String, Node)>]) -> Result<Metadata, String> {
    let mut meta: Option<Node> = None;
    for (bi, doc) in docs.iter_mut().enumerate() {
        let mut i = 0;
        while i < doc.len() {
            if doc[i].0 == "sops" {
                if bi == 0 {
                    if meta.is_some() {
                        return Err("Found duplicate sops entry".into());
                    }
                    if !matches!(doc[i].1, Node::Map(_)) {
                        return Err("Found sops entry that is not a mapping".into());
                    }
                    meta = Some(doc[i].1.clone());
                }
                doc.remove(i);
            } else {
                i += 1;
            }
        }
    }
    let Some(m) = meta else { return Err("sops metadata not found".into()) };
    let mut md = Metadata {
        last_modified: text_of(m.get("lastmodified")),
        mac: text_of(m.get("mac")),
        unencrypted_suffix: text_of(m.get("unencrypted_suffix")),
        encrypted_suffix: text_of(m.get("encrypted_suffix")),
        unencrypted_regex: text_of(m.get("unencrypted_regex")),
        encrypted_regex: text_of(m.get("encrypted_regex")),
        unencrypted_comment_regex: text_of(m.get("unencrypted_comment_regex")),
        encrypted_comment_regex: text_of(m.get("encrypted_comment_regex")),
        mac_only_encrypted: matches!(m.get("mac_only_encrypted"), Some(Node::Bool(true))),
        groups: Vec::new(),
        shamir_threshold: match m.get("shamir_threshold") {
            Some(Node::Int(i)) => *i,
            _ => 0,
        },
    };
    let top = group_of(&m);
    if !top.0.is_empty() || !top.1.is_empty() {
        md.groups.push(top);
    } else if let Some(Node::Seq(groups)) = m.get("key_groups") {
        for g in groups {
            md.groups.push(group_of(g));
        }
    }
    if md.groups.is_empty() {
        return Err("No keys found in file".into());
    }
    let rules = [
        &md.unencrypted_suffix,
        &md.encrypted_suffix,
        &md.unencrypted_regex,
        &md.encrypted_regex,
        &md.unencrypted_comment_regex,
        &md.encrypted_comment_regex,
    ]
    .iter()
    .filter(|s| !s.is_empty())
    .count();
    if rules > 1 {
        return Err("Cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the same file".into());
    }
    if rules == 0 {
        md.unencrypted_suffix = DEFAULT_UNENCRYPTED_SUFFIX.into();
    }
    Ok(md)
}

/// A parsed `ENC[...]` value.
struct EncValue {
    data: Vec<u8>,
    iv: Vec<u8>,
    tag: Vec<u8>,
    datatype: String,
}

/// sops' `^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]` (greedy groups: base64
/// has no commas, so each field runs to the next field name).
fn parse_enc(value: &str) -> Result<EncValue, String> {
    let nomatch = || format!("Input string {value} does not match sops' data format");
    let body = value.strip_prefix("ENC[AES256_GCM,data:").ok_or_else(nomatch)?;
    let end = body.rfind(']').ok_or_else(nomatch)?;
    let body = &body[..end];
    let (data, rest) = body.rsplit_once(",iv:").ok_or_else(nomatch)?;
    let (iv, rest) = rest.rsplit_once(",tag:").ok_or_else(nomatch)?;
    let (tag, datatype) = rest.rsplit_once(",type:").ok_or_else(nomatch)?;
    if data.is_empty() || iv.is_empty() || tag.is_empty() || datatype.is_empty() {
        return Err(nomatch());
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let dec = |s: &str, what: &str| b64.decode(s).map_err(|e| format!("Error base64-decoding {what}: {e}"));
    Ok(EncValue { data: dec(data, "data")?, iv: dec(iv, "iv")?, tag: dec(tag, "tag")?, datatype: datatype.to_string() })
}

/// What a decrypted value is: a tree value, or a comment's text.
pub enum Plain {
    Value(Node),
    Comment(String),
}

/// sops' aes.Cipher.Decrypt: `ciphertext` under `key` with `aad` as additional data.
pub fn decrypt_value(ciphertext: &str, key: &[u8], aad: &str) -> Result<Plain, String> {
    if ciphertext.is_empty() {
        return Ok(Plain::Value(Node::Str(String::new())));
    }
    let ev = parse_enc(ciphertext)?;
    if ev.iv.len() != 32 {
        // sops writes 32-byte IVs; Go's GCM accepts other sizes, this port only that one.
        return Err(format!("Could not decrypt with AES_GCM: unsupported IV length {}", ev.iv.len()));
    }
    let cipher = AesGcm::<Aes256, U32>::new_from_slice(key).map_err(|_| format!("crypto/aes: invalid key size {}", key.len()))?;
    let mut msg = ev.data.clone();
    msg.extend_from_slice(&ev.tag);
    let nonce = aes_gcm::Nonce::<U32>::from_slice(&ev.iv);
    let plain = cipher
        .decrypt(nonce, Payload { msg: &msg, aad: aad.as_bytes() })
        .map_err(|_| "Could not decrypt with AES_GCM: cipher: message authentication failed".to_string())?;
    let text = String::from_utf8_lossy(&plain).into_owned();
    let v = match ev.datatype.as_str() {
        "str" | "bytes" => Node::Str(text),
        "int" => Node::Int(text.parse::<i64>().map_err(|_| format!("strconv.Atoi: parsing {text:?}: invalid syntax"))?),
        "float" => Node::Float(go_parse_float(&text).ok_or_else(|| format!("strconv.ParseFloat: parsing {text:?}: invalid syntax"))?),
        "bool" => Node::Bool(match text.as_str() {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
            "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
            _ => return Err(format!("strconv.ParseBool: parsing {text:?}: invalid syntax")),
        }),
        "time" => Node::Time(text),
        "comment" => return Ok(Plain::Comment(text)),
        other => return Err(format!("Unknown datatype: {other}")),
    };
    Ok(Plain::Value(v))
}

fn go_parse_float(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" | "inf" | "+inf" | "Infinity" | "+Infinity" => Some(f64::INFINITY),
        "-Inf" | "-inf" | "-Infinity" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ => s.parse::<f64>().ok(),
    }
}

/// Tree.shouldBeEncrypted for a value at `path` (comment rules are refused earlier).
fn should_be_encrypted(md: &Metadata, path: &[String], re_enc: &Option<regex::Regex>, re_unenc: &Option<regex::Regex>) -> bool {
    let mut encrypted = true;
    if !md.unencrypted_suffix.is_empty() && path.iter().any(|p| p.ends_with(&md.unencrypted_suffix)) {
        encrypted = false;
    }
    if !md.encrypted_suffix.is_empty() {
        encrypted = path.iter().any(|p| p.ends_with(&md.encrypted_suffix));
    }
    if let Some(re) = re_unenc {
        if path.iter().any(|p| re.is_match(p)) {
            encrypted = false;
        }
    }
    if !md.encrypted_regex.is_empty() {
        encrypted = match re_enc {
            Some(re) => path.iter().any(|p| re.is_match(p)),
            None => false,
        };
    }
    encrypted
}

/// Go's `regexp.Match` ignores a bad pattern (no match); so does this.
fn compile(p: &str) -> Option<regex::Regex> {
    if p.is_empty() {
        None
    } else {
        regex::Regex::new(p).ok()
    }
}

/// Decrypts every document in place (sops' Tree.Decrypt) and checks the MAC (DecryptTree).
/// Errors carry sops' texts.
pub fn decrypt_tree(docs: &mut [Vec<(String, Node)>], md: &Metadata, key: &[u8]) -> Result<(), String> {
    if !md.unencrypted_comment_regex.is_empty() || !md.encrypted_comment_regex.is_empty() {
        return Err("unsupported: files encrypted with unencrypted_comment_regex or encrypted_comment_regex cannot be decrypted by Rudder yet".into());
    }
    let re_enc = compile(&md.encrypted_regex);
    let re_unenc = compile(&md.unencrypted_regex);
    let mut hash = Sha512::new();
    if md.mac_only_encrypted {
        hash.update(MAC_ONLY_ENCRYPTED_INIT);
    }
    let mut path: Vec<String> = Vec::new();
    for doc in docs.iter_mut() {
        walk_map(doc, &mut path, &mut |v: &mut Node, path: &[String]| {
            let encrypted = should_be_encrypted(md, path, &re_enc, &re_unenc);
            if encrypted {
                let Node::Str(s) = &*v else {
                    let t = match v {
                        Node::Int(_) => "int",
                        Node::Float(_) => "float64",
                        Node::Bool(_) => "bool",
                        _ => "time.Time",
                    };
                    return Err(format!("Error decrypting tree: Error walking tree: Expected encrypted value as string, but got {t}"));
                };
                let aad = format!("{}:", path.join(":"));
                match decrypt_value(s, key, &aad) {
                    Ok(Plain::Value(n)) => *v = n,
                    // A list item that decrypts to a comment stays a comment.
                    Ok(Plain::Comment(c)) => *v = Node::Comment(c),
                    Err(e) => return Err(format!("Error decrypting tree: Error walking tree: Could not decrypt value: {e}")),
                }
            }
            if !md.mac_only_encrypted || encrypted {
                if let Some(b) = mac_bytes(v) {
                    hash.update(&b);
                }
            }
            Ok(())
        })?;
    }
    let computed: String = hash.finalize().iter().map(|b| format!("{b:02X}")).collect();
    let aad = rfc3339_reformat(&md.last_modified);
    let file_mac = match decrypt_value(&md.mac, key, &aad) {
        Ok(Plain::Value(Node::Str(s))) => s,
        Ok(_) => String::new(),
        Err(e) => return Err(format!("Cannot decrypt MAC: {e}")),
    };
    if file_mac != computed {
        let shown = if file_mac.is_empty() { "no MAC".to_string() } else { file_mac };
        return Err(format!("MAC mismatch. File has {shown}, computed {computed}"));
    }
    Ok(())
}

type Leaf<'a> = dyn FnMut(&mut Node, &[String]) -> Result<(), String> + 'a;

fn walk_map(m: &mut [(String, Node)], path: &mut Vec<String>, f: &mut Leaf<'_>) -> Result<(), String> {
    for (k, v) in m.iter_mut() {
        path.push(k.clone());
        let r = walk_value(v, path, f);
        path.pop();
        r?;
    }
    Ok(())
}

fn walk_value(v: &mut Node, path: &mut Vec<String>, f: &mut Leaf<'_>) -> Result<(), String> {
    match v {
        Node::Map(m) => walk_map(m, path, f),
        // List items share their list's path (sops' walkSlice).
        Node::Seq(items) => {
            for it in items.iter_mut() {
                walk_value(it, path, f)?;
            }
            Ok(())
        }
        Node::Null | Node::Comment(_) => Ok(()),
        _ => f(v, path),
    }
}

/// `time.Parse(time.RFC3339, s).Format(time.RFC3339)`: fractional seconds dropped.
pub fn rfc3339_reformat(s: &str) -> String {
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)
    if s.len() > 19 && s.as_bytes()[19] == b'.' {
        let rest = &s[20..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        return format!("{}{}", &s[..19], &rest[digits..]);
    }
    s.to_string()
}

/// Decrypts a comment's text when it is an encrypted one (sops keeps a comment that does not
/// decrypt as it is). The comment's additional data is the path of the map or list it stands
/// in, which the line scan does not know exactly; the candidates are tried in turn.
pub fn decrypt_comment(text: &str, key: &[u8], candidate_paths: &[String]) -> String {
    if !text.starts_with("ENC[AES256_GCM,") {
        return text.to_string();
    }
    for p in candidate_paths {
        if let Ok(Plain::Comment(c)) | Ok(Plain::Value(Node::Str(c))) = decrypt_value(text, key, p) {
            return c;
        }
    }
    text.to_string()
}
