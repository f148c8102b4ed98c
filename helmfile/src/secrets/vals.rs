//! vals-style secret references, evaluated in-process: `ref+file://PATH[#/a/b]` (the file's
//! text, or with a fragment the value at that path of the file read as YAML),
//! `ref+envsubst://TEXT` (`$VAR`, `${VAR}`, `${VAR:-default}`... substituted) and
//! `ref+env://NAME[#/a/b]` (an environment variable; vals itself has no `env` backend, this is
//! the plain reading of the name). `ref+echo://TEXT` returns TEXT. Every other backend is an
//! "unsupported backend" error naming the reference.
//!
//! As vals does, a string that is exactly one reference becomes the referenced value (a map,
//! a number... when a fragment selects one); references inside a longer string are replaced
//! by their text. `secretref+` is the same as `ref+`. Relative file paths are read from `base`
//! (helmfile's working directory).

use std::path::Path;

use rudder_engine::funcs::helmfile::{native_to_value, ref_match_at};
use rudder_engine::Value;

/// vals' Eval over a value: strings are expanded, maps and lists walked.
pub fn eval(v: &Value, base: &Path) -> Result<Value, String> {
    match v {
        Value::String(s) => eval_string(s, base),
        Value::Map(m) => {
            let mut out = std::collections::BTreeMap::new();
            for (k, x) in m.read().iter() {
                out.insert(k.clone(), eval(x, base)?);
            }
            Ok(Value::map(out))
        }
        Value::List(l) => Ok(Value::list(l.items.iter().map(|x| eval(x, base)).collect::<Result<_, _>>()?)),
        other => Ok(other.clone()),
    }
}

/// Whether `s` holds a reference at all.
pub fn has_ref(s: &str) -> bool {
    (0..s.len()).any(|i| s.is_char_boundary(i) && match_at(s, i).is_some())
}

/// vals' reference pattern at byte `i` (the engine's): the end of the match and the reference
/// body (after `ref+`, without a closing `+`).
fn match_at(s: &str, i: usize) -> Option<(usize, &str)> {
    ref_match_at(s, i).map(|(len, body)| (i + len, body))
}

fn eval_string(s: &str, base: &Path) -> Result<Value, String> {
    let mut found: Vec<(usize, usize, &str)> = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if let Some((end, body)) = match_at(s, i) {
            found.push((i, end, body));
            i = end;
        } else {
            i += s[i..].chars().next().map(char::len_utf8).unwrap_or(1);
        }
    }
    if found.is_empty() {
        return Ok(Value::string(s));
    }
    if found.len() == 1 && found[0].0 == 0 && found[0].1 == s.len() {
        return resolve(found[0].2, base);
    }
    let mut out = String::new();
    let mut last = 0;
    for (a, b, body) in found {
        out.push_str(&s[last..a]);
        let v = resolve(body, base)?;
        out.push_str(&match v {
            Value::Nil | Value::Missing => "<nil>".to_string(),
            other => rudder_engine::print::format_v(&other),
        });
        last = b;
    }
    out.push_str(&s[last..]);
    Ok(Value::string(out))
}

/// Backends vals has that Rudder does not evaluate.
const KNOWN_BACKENDS: &[&str] = &[
    "vault", "openbao", "awskms", "awssecrets", "s3", "ssm", "gcpsecrets", "gcs", "gkms", "googlesheets", "sops", "tfstate",
    "tfstategs", "tfstates3", "tfstateazurerm", "tfstateremote", "azurekeyvault", "onepassword", "onepasswordconnect",
    "doppler", "pulumistateapi", "k8s", "conjur", "hcpvaultsecrets", "bitwarden", "httpjson", "gitlab", "infisical",
    "oci", "keychain", "servercore", "secretserver", "exec", "scaleway", "yclockbox",
];

/// One reference body `SCHEME://REST`.
fn resolve(body: &str, base: &Path) -> Result<Value, String> {
    let (scheme, rest) = body.split_once("://").unwrap_or((body, ""));
    let (target, frag) = match rest.split_once('#') {
        Some((a, f)) => (a, Some(f)),
        None => (rest, None),
    };
    let (target, query) = match target.split_once('?') {
        Some((a, q)) => (a, q),
        None => (target, ""),
    };
    let param = |name: &str| {
        query.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
    };
    let text = match scheme {
        "echo" => target.to_string(),
        "file" => {
            let t = target.trim_end_matches('/');
            let p = if Path::new(t).is_absolute() { Path::new(t).to_path_buf() } else { base.join(t) };
            let bytes = std::fs::read(&p).map_err(|e| {
                format!("expand ref+{body}: open {t}: {}", rudder_engine::funcs::helmfile::errno_text(&e))
            })?;
            match param("encode").as_deref() {
                None | Some("raw") => String::from_utf8_lossy(&bytes).into_owned(),
                Some("base64") => {
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD.encode(&bytes)
                }
                Some(other) => return Err(format!("expand ref+{body}: Unsupported encode parameter: '{other}'.")),
            }
        }
        "env" => {
            let name = target.trim_end_matches('/');
            match std::env::var(name) {
                Ok(v) => v,
                Err(_) => return Err(format!("expand ref+{body}: environment variable {name:?} is not set")),
            }
        }
        "envsubst" => envsubst(target.trim_end_matches('/').trim()),
        s if KNOWN_BACKENDS.contains(&s) => {
            return Err(format!(
                "unsupported backend {s:?} in secret reference \"ref+{body}\": Rudder evaluates only ref+file://, ref+env://, ref+envsubst:// and ref+echo:// references"
            ))
        }
        other => return Err(format!("expand ref+{body}: no provider registered for scheme {other:?}")),
    };
    let Some(frag) = frag else { return Ok(Value::string(text)) };
    let frag = frag.trim_start_matches('#').trim_start_matches('/');
    if frag.is_empty() {
        return Ok(Value::string(text));
    }
    let doc = rudder_engine::yaml::from_yaml_native(&text).map_err(|e| format!("expand ref+{body}: {e}"))?;
    let mut cur = native_to_value(&doc);
    let keys: Vec<&str> = frag.split('/').collect();
    for (i, k) in keys.iter().enumerate() {
        let next = match &cur {
            Value::Map(m) => m.get(k),
            _ => None,
        };
        let Some(next) = next else { return Ok(Value::Nil) };
        if i + 1 < keys.len() && !matches!(next, Value::Map(_)) {
            return Err(format!(
                "expand ref+{body}: unexpected type of value for key at {i}={k} in [{}]: expected a map, got {}",
                keys.join(" "),
                rudder_engine::print::format_v(&next)
            ));
        }
        cur = next;
    }
    Ok(cur)
}

/// a8m/envsubst's String for the common forms: `$VAR`, `${VAR}`, `${VAR:-def}`, `${VAR-def}`,
/// `${VAR:=def}`, `${VAR=def}`, `${VAR:+alt}`, `${VAR+alt}`, and `$$` for a literal `$`.
pub fn envsubst(s: &str) -> String {
    let get = |n: &str| std::env::var(n).ok();
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let is_name = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    while i < b.len() {
        if b[i] != b'$' {
            let ch = s[i..].chars().next().unwrap_or('\u{FFFD}');
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        if b.get(i + 1) == Some(&b'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if b.get(i + 1) == Some(&b'{') {
            if let Some(close) = s[i + 2..].find('}') {
                let inner = &s[i + 2..i + 2 + close];
                let name_len = inner.bytes().take_while(|c| is_name(*c)).count();
                let (name, op) = inner.split_at(name_len);
                let val = get(name);
                let r = match op {
                    "" => val.unwrap_or_default(),
                    o if o.starts_with(":-") || o.starts_with(":=") => val.filter(|v| !v.is_empty()).unwrap_or_else(|| o[2..].to_string()),
                    o if o.starts_with('-') || o.starts_with('=') => val.unwrap_or_else(|| o[1..].to_string()),
                    o if o.starts_with(":+") => val.filter(|v| !v.is_empty()).map(|_| o[2..].to_string()).unwrap_or_default(),
                    o if o.starts_with('+') => val.map(|_| o[1..].to_string()).unwrap_or_default(),
                    _ => val.unwrap_or_default(),
                };
                out.push_str(&r);
                i += 3 + close;
                continue;
            }
        }
        let n = b[i + 1..].iter().take_while(|c| is_name(**c)).count();
        if n == 0 {
            out.push('$');
            i += 1;
            continue;
        }
        out.push_str(&get(&s[i + 1..i + 1 + n]).unwrap_or_default());
        i += 1 + n;
    }
    out
}

/// Replaces the engine's `fetchSecretValue` / `expandSecretRefs` in `funcs` with ones backed
/// by [`eval`] (so `ref+envsubst://` works in templates too). helmfile's texts: a
/// `fetchSecretValue` whose reference yields a non-string is `expected X to be string`.
pub fn register_template_funcs(funcs: &mut rudder_engine::FuncMap, base: std::path::PathBuf) {
    use rudder_engine::funcs::util::{map_t, str_t};
    use rudder_engine::{Func, FuncError, Signature};
    let b = base.clone();
    funcs.insert(
        "fetchSecretValue",
        Func::pure(Signature::new(vec![str_t()], str_t()), move |a| {
            let s = a.first().and_then(|v| v.as_str()).unwrap_or("");
            match eval(&Value::string(s), &b).map_err(FuncError)? {
                Value::String(r) => Ok(Value::String(r)),
                other => Err(FuncError(format!("expected {} to be string", rudder_engine::print::format_v(&other)))),
            }
        }),
    );
    funcs.insert(
        "expandSecretRefs",
        Func::pure(Signature::new(vec![map_t()], map_t()), move |a| eval(a.first().unwrap_or(&Value::Nil), &base).map_err(FuncError)),
    );
}
