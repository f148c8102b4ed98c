//! age identities, found where sops v3.13.3 looks for them (`SOPS_AGE_KEY`,
//! `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD`, then `$XDG_CONFIG_HOME/sops/age/keys.txt` or
//! `~/.config/sops/age/keys.txt`), and the decryption of a file's data key with them.
//!
//! Only X25519 identities (`AGE-SECRET-KEY-1...`) are read; SSH, plugin, post-quantum and
//! passphrase-protected identities give an error naming the location.

use std::io::Read;
use std::path::PathBuf;
use std::str::FromStr;

/// What the key locations yielded: the identities, and for sops' error text the load errors
/// and the locations that held no key.
pub struct Identities {
    pub ids: Vec<age::x25519::Identity>,
    pub errs: Vec<String>,
    pub unused: Vec<String>,
}

/// Environment lookups (the process environment, or a test's).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Go's os.UserConfigDir on Linux.
fn user_config_dir(env: Env<'_>) -> Result<PathBuf, String> {
    if let Some(x) = env("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        if !x.starts_with('/') {
            return Err("path in $XDG_CONFIG_HOME is relative".into());
        }
        return Ok(PathBuf::from(x));
    }
    match env("HOME").filter(|h| !h.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".config")),
        None => Err("neither $XDG_CONFIG_HOME nor $HOME are defined".into()),
    }
}

/// sops' parseIdentities: one identity per line (every word, for `SOPS_AGE_KEY`); empty lines
/// and `#` comments skipped.
fn parse_identities(text: &str, many_per_line: bool) -> Result<Vec<age::x25519::Identity>, String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = if many_per_line { line.split_whitespace().collect() } else { vec![line] };
        for w in words {
            out.push(parse_identity(w)?);
        }
    }
    Ok(out)
}

fn parse_identity(s: &str) -> Result<age::x25519::Identity, String> {
    if s.starts_with("AGE-PLUGIN-") {
        Err("unsupported identity type: age plugin identities are not supported by Rudder".into())
    } else if s.starts_with("AGE-SECRET-KEY-PQ-1") {
        Err("unsupported identity type: post-quantum (hybrid) age identities are not supported by Rudder".into())
    } else if s.starts_with("AGE-SECRET-KEY-1") {
        age::x25519::Identity::from_str(s).map_err(|e| format!("malformed secret key: {e}"))
    } else {
        Err("unknown identity type".into())
    }
}

fn unwrap_identities(location: &str, text: &str, many_per_line: bool) -> Result<Vec<age::x25519::Identity>, String> {
    if text.starts_with("age-encryption") || text.starts_with("-----BEGIN AGE") {
        return Err(format!("failed to read '{location}': passphrase-protected age identity files are not supported by Rudder"));
    }
    parse_identities(text, many_per_line).map_err(|e| format!("failed to parse '{location}' age identities: {e}"))
}

/// sops' loadIdentities (without the SSH and plugin sources).
pub fn load(env: Env<'_>) -> Identities {
    let mut ids = Vec::new();
    let mut errs = Vec::new();
    let mut unused = Vec::new();
    // The SSH locations sops also looks at, reported as sops reports them when absent.
    for var in ["SOPS_AGE_SSH_PRIVATE_KEY_FILE", "SOPS_AGE_SSH_PRIVATE_KEY_CMD"] {
        if env(var).is_some() {
            errs.push(format!("{var}: SSH identities are not supported by Rudder"));
        } else {
            unused.push(var.to_string());
        }
    }
    match env("HOME").filter(|h| !h.is_empty()) {
        None => errs.push("$HOME is not defined".into()),
        Some(h) => {
            for f in ["id_ed25519", "id_rsa"] {
                let p = PathBuf::from(&h).join(".ssh").join(f);
                if !p.exists() {
                    unused.push(p.display().to_string());
                }
            }
        }
    }
    let mut readers: Vec<(String, String, bool)> = Vec::new();
    match env("SOPS_AGE_KEY") {
        Some(k) => readers.push(("SOPS_AGE_KEY".into(), k, true)),
        None => unused.push("SOPS_AGE_KEY".into()),
    }
    match env("SOPS_AGE_KEY_FILE") {
        Some(f) => match std::fs::read_to_string(&f) {
            Ok(t) => readers.push(("SOPS_AGE_KEY_FILE".into(), t, false)),
            Err(e) => errs.push(format!(
                "failed to open SOPS_AGE_KEY_FILE file: open {f}: {}",
                rudder_engine::funcs::helmfile::errno_text(&e)
            )),
        },
        None => unused.push("SOPS_AGE_KEY_FILE".into()),
    }
    match env("SOPS_AGE_KEY_CMD") {
        Some(cmd) => match run_key_cmd(&cmd) {
            Ok(t) => readers.push(("SOPS_AGE_KEY_CMD".into(), t, false)),
            Err(e) => errs.push(e),
        },
        None => unused.push("SOPS_AGE_KEY_CMD".into()),
    }
    match user_config_dir(env) {
        Err(e) => {
            if readers.is_empty() {
                errs.push(format!("user config directory could not be determined: {e}"));
            }
        }
        Ok(dir) => {
            let p = dir.join("sops/age/keys.txt");
            match std::fs::read_to_string(&p) {
                Ok(t) => readers.push((p.display().to_string(), t, false)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if readers.is_empty() {
                        unused.push(p.display().to_string());
                    }
                }
                Err(e) => errs.push(format!("failed to open file: open {}: {}", p.display(), rudder_engine::funcs::helmfile::errno_text(&e))),
            }
        }
    }
    for (loc, text, many) in readers {
        match unwrap_identities(&loc, &text, many) {
            Ok(found) => {
                if found.is_empty() {
                    unused.push(loc);
                }
                ids.extend(found);
            }
            Err(e) => errs.push(e),
        }
    }
    Identities { ids, errs, unused }
}

/// `SOPS_AGE_KEY_CMD`: the command's standard output (words split as a shell would for
/// simple commands; sops uses shlex).
fn run_key_cmd(cmd: &str) -> Result<String, String> {
    let args: Vec<&str> = cmd.split_whitespace().collect();
    let Some((prog, rest)) = args.split_first() else {
        return Err(format!("failed to execute command {cmd}: no command"));
    };
    let out = std::process::Command::new(prog)
        .args(rest)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("failed to execute command {cmd}: {e}"))?;
    if !out.status.success() {
        return Err(format!("failed to execute command {cmd}: {}", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// sops' formatError.
fn format_error(msg: &str, err: Option<&str>, ids: &Identities) -> String {
    let load = if ids.errs.is_empty() { String::new() } else { format!(". Errors while loading age identities: {}", ids.errs.join("; ")) };
    let unused = match ids.unused.len() {
        0 => String::new(),
        1 => format!(". Did not find keys in location '{}'.", ids.unused[0]),
        2 => format!(". Did not find keys in locations '{}' and '{}'.", ids.unused[0], ids.unused[1]),
        n => format!(". Did not find keys in locations '{}', and '{}'.", ids.unused[..n - 1].join("', '"), ids.unused[n - 1]),
    };
    match err {
        Some(e) => format!("{msg}: {e}{load}{unused}"),
        None => format!("{msg}{load}{unused}"),
    }
}

/// age's MasterKey.Decrypt: the data key from one armored, age-encrypted `enc` block.
pub fn decrypt_data_key(enc: &str, ids: &Identities) -> Result<Vec<u8>, String> {
    if ids.ids.is_empty() {
        return Err(format_error("failed to load age identities", None, ids));
    }
    let fail = |e: String| format_error("failed to create reader for decrypting sops data key with age", Some(&e), ids);
    let reader = age::armor::ArmoredReader::new(enc.as_bytes());
    let dec = age::Decryptor::new(reader).map_err(|e| fail(age_error_text(&e)))?;
    let mut r = dec.decrypt(ids.ids.iter().map(|i| i as &dyn age::Identity)).map_err(|e| fail(age_error_text(&e)))?;
    let mut out = Vec::new();
    r.read_to_end(&mut out).map_err(|e| format!("failed to copy age decrypted data into bytes.Buffer: {e}"))?;
    Ok(out)
}

/// filippo.io/age's texts for the failures users meet.
fn age_error_text(e: &age::DecryptError) -> String {
    match e {
        age::DecryptError::NoMatchingKeys => "identity did not match any of the recipients: incorrect identity for recipient block".into(),
        age::DecryptError::InvalidHeader => "failed to read header: parsing age header: malformed header".into(),
        age::DecryptError::InvalidMac => "bad header MAC".into(),
        age::DecryptError::UnknownFormat => "failed to read header: parsing age header: unknown format".into(),
        age::DecryptError::Io(io) => format!("failed to read header: {io}"),
        age::DecryptError::DecryptionFailed | age::DecryptError::KeyDecryptionFailed => "incorrect identity for recipient block".into(),
        age::DecryptError::ExcessiveWork { .. } => "excessive work factor".into(),
    }
}
