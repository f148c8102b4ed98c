//! sprig's `urlParse` and `urlJoin` (sprig: url.go) on Go's `net/url` parsing, escaping and
//! `URL.String`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::util::*;
use super::{FuncError, FuncMap};
use crate::print::quote;
use crate::value::{Str, Value};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    QueryComponent,
    Fragment,
}

/// Go's `shouldEscape`.
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone)
        && matches!(c, b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' | b':' | b'[' | b']' | b'<' | b'>' | b'"')
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => return c == b'?',
            Mode::UserPassword => return matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::QueryComponent => return true,
            Mode::Fragment => return false,
            _ => {}
        },
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

fn unhex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Go's `unescape`; the error is Go's text.
fn unescape(s: &str, mode: Mode) -> Result<String, String> {
    let b = s.as_bytes();
    let mut n = 0;
    let mut has_plus = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                n += 1;
                if i + 2 >= b.len() || !b[i + 1].is_ascii_hexdigit() || !b[i + 2].is_ascii_hexdigit() {
                    let bad = &b[i..b.len().min(i + 3)];
                    return Err(format!("invalid URL escape {}", quote(&lossy(bad))));
                }
                if mode == Mode::Host && unhex(b[i + 1]) < 8 && &b[i..i + 3] != b"%25" {
                    return Err(format!("invalid URL escape {}", quote(&lossy(&b[i..i + 3]))));
                }
                if mode == Mode::Zone {
                    let v = unhex(b[i + 1]) << 4 | unhex(b[i + 2]);
                    if &b[i..i + 3] != b"%25" && v != b' ' && should_escape(v, Mode::Host) {
                        return Err(format!("invalid URL escape {}", quote(&lossy(&b[i..i + 3]))));
                    }
                }
                i += 3;
            }
            b'+' => {
                has_plus = mode == Mode::QueryComponent;
                i += 1;
            }
            c => {
                if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode) {
                    return Err(format!("invalid character {} in host name", quote(&lossy(&b[i..i + 1]))));
                }
                i += 1;
            }
        }
    }
    if n == 0 && !has_plus {
        return Ok(s.to_string());
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                out.push(unhex(b[i + 1]) << 4 | unhex(b[i + 2]));
                i += 2;
            }
            b'+' => out.push(if mode == Mode::QueryComponent { b' ' } else { b'+' }),
            c => out.push(c),
        }
        i += 1;
    }
    Ok(lossy(&out))
}

/// Go's `escape`.
fn escape(s: &str, mode: Mode) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if c == b' ' && mode == Mode::QueryComponent {
            out.push('+');
        } else if should_escape(c, mode) {
            out.push('%');
            out.push(HEX[(c >> 4) as usize] as char);
            out.push(HEX[(c & 15) as usize] as char);
        } else {
            out.push(c as char);
        }
    }
    // Non-ASCII bytes are always escaped, so `out` is ASCII except for bytes kept as is, which
    // are ASCII too.
    out
}

/// A parsed userinfo: the user name and the password if one was given.
type User = (String, Option<String>);

#[derive(Default)]
struct Url {
    scheme: String,
    opaque: String,
    user: Option<User>,
    host: String,
    path: String,
    raw_path: String,
    omit_host: bool,
    force_query: bool,
    raw_query: String,
    fragment: String,
    raw_fragment: String,
}

fn user_string(u: &User) -> String {
    let mut s = escape(&u.0, Mode::UserPassword);
    if let Some(p) = &u.1 {
        s.push(':');
        s.push_str(&escape(p, Mode::UserPassword));
    }
    s
}

/// Go's `getScheme`.
fn get_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                if i == 0 {
                    return Ok(("", raw));
                }
            }
            b':' => {
                if i == 0 {
                    return Err("missing protocol scheme".into());
                }
                return Ok((&raw[..i], &raw[i + 1..]));
            }
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn valid_optional_port(port: &str) -> bool {
    match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(p) => p.bytes().all(|b| b.is_ascii_digit()),
    }
}

fn valid_userinfo(s: &str) -> bool {
    s.chars().all(|r| {
        r.is_ascii_alphanumeric()
            || matches!(r, '-' | '.' | '_' | ':' | '~' | '!' | '$' | '&' | '\'' | '(' | ')' | '*' | '+' | ',' | ';' | '=' | '%' | '@')
    })
}

fn addr_err(input: &str, msg: &str, at: Option<&str>) -> String {
    match at {
        Some(at) if !at.is_empty() => format!("ParseAddr({}): {msg} (at {})", quote(input), quote(at)),
        _ => format!("ParseAddr({}): {msg}", quote(input)),
    }
}

/// Go's `parseIPv4Fields` over `input[off..end]`.
fn parse_ipv4_fields(input: &str, off: usize, end: usize) -> Result<(), String> {
    let s = &input.as_bytes()[off..end];
    let (mut val, mut pos, mut dig) = (0u32, 0, 0);
    for i in 0..s.len() {
        match s[i] {
            b'0'..=b'9' => {
                if dig == 1 && val == 0 {
                    return Err(addr_err(input, "IPv4 field has octet with leading zero", None));
                }
                val = val * 10 + (s[i] - b'0') as u32;
                dig += 1;
                if val > 255 {
                    return Err(addr_err(input, "IPv4 field has value >255", None));
                }
            }
            b'.' => {
                if i == 0 || i == s.len() - 1 || s[i - 1] == b'.' {
                    return Err(addr_err(input, "IPv4 field must have at least one digit", Some(&input[off + i..end])));
                }
                if pos == 3 {
                    return Err(addr_err(input, "IPv4 address too long", None));
                }
                pos += 1;
                val = 0;
                dig = 0;
            }
            _ => return Err(addr_err(input, "unexpected character", Some(&input[off + i..end]))),
        }
    }
    if pos < 3 {
        return Err(addr_err(input, "IPv4 address too short", None));
    }
    Ok(())
}

/// Go's `parseIPv6` as a check.
fn parse_ipv6(input: &str) -> Result<(), String> {
    let mut s = input;
    let mut zone_len = None;
    if let Some(i) = s.find('%') {
        let zone = &s[i + 1..];
        if zone.is_empty() {
            return Err(addr_err(input, "zone must be a non-empty string", None));
        }
        zone_len = Some(zone.len());
        s = &s[..i];
    }
    let mut ellipsis: Option<usize> = None;
    if s.starts_with("::") {
        ellipsis = Some(0);
        s = &s[2..];
        if s.is_empty() {
            return Ok(());
        }
    }
    let mut i = 0;
    while i < 16 {
        let b = s.as_bytes();
        let mut off = 0;
        let mut acc: u32 = 0;
        while off < b.len() {
            let Some(d) = (b[off] as char).to_digit(16) else { break };
            acc = (acc << 4) + d;
            if off > 3 {
                return Err(addr_err(input, "each group must have 4 or less digits", Some(s)));
            }
            if acc > 0xFFFF {
                return Err(addr_err(input, "IPv6 field has value >=2^16", Some(s)));
            }
            off += 1;
        }
        if off == 0 {
            return Err(addr_err(input, "each colon-separated field must have at least one digit", Some(s)));
        }
        if off < b.len() && b[off] == b'.' {
            if ellipsis.is_none() && i != 12 {
                return Err(addr_err(input, "embedded IPv4 address must replace the final 2 fields of the address", Some(s)));
            }
            if i + 4 > 16 {
                return Err(addr_err(input, "too many hex fields to fit an embedded IPv4 at the end of the address", Some(s)));
            }
            let end = input.len() - zone_len.map_or(0, |z| z + 1);
            let start = end - s.len();
            parse_ipv4_fields(input, start, end)?;
            s = "";
            i += 4;
            break;
        }
        i += 2;
        s = &s[off..];
        if s.is_empty() {
            break;
        }
        if !s.starts_with(':') {
            return Err(addr_err(input, "unexpected character, want colon", Some(s)));
        } else if s.len() == 1 {
            return Err(addr_err(input, "colon must be followed by more characters", Some(s)));
        }
        s = &s[1..];
        if s.starts_with(':') {
            if ellipsis.is_some() {
                return Err(addr_err(input, "multiple :: in address", Some(s)));
            }
            ellipsis = Some(i);
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return Err(addr_err(input, "trailing garbage after address", Some(s)));
    }
    if i < 16 {
        if ellipsis.is_none() {
            return Err(addr_err(input, "address string too short", None));
        }
    } else if ellipsis.is_some() {
        return Err(addr_err(input, "the :: must expand to at least one field of zeros", None));
    }
    Ok(())
}

/// Go's `netip.ParseAddr`: `Ok(true)` for an IPv4 address.
fn parse_addr(s: &str) -> Result<bool, String> {
    for c in s.bytes() {
        match c {
            b'.' => return parse_ipv4_fields(s, 0, s.len()).map(|_| true),
            b':' => return parse_ipv6(s).map(|_| false),
            b'%' => return Err(addr_err(s, "missing IPv6 address", None)),
            _ => {}
        }
    }
    Err(addr_err(s, "unable to parse IP", None))
}

/// Go's `parseHost`.
fn parse_host(scheme: &str, host: &str) -> Result<String, String> {
    match host.rfind('[') {
        Some(i) if i > 0 => return Err("invalid IP-literal".into()),
        Some(_) => {
            let Some(close) = host.rfind(']') else {
                return Err("missing ']' in host".into());
            };
            let colon_port = &host[close + 1..];
            if !valid_optional_port(colon_port) {
                return Err(format!("invalid port {} after host", quote(colon_port)));
            }
            let colon_port = unescape(colon_port, Mode::Host)?;
            let hostname = &host[1..close];
            let unescaped = match hostname.find("%25") {
                Some(z) => unescape(&hostname[..z], Mode::Host)? + &unescape(&hostname[z..], Mode::Zone)?,
                None => unescape(hostname, Mode::Host)?,
            };
            match parse_addr(&unescaped) {
                Err(e) => return Err(format!("invalid host: {e}")),
                Ok(true) => return Err("invalid IP-literal".into()),
                Ok(false) => {}
            }
            return Ok(format!("[{unescaped}]{colon_port}"));
        }
        None => {}
    }
    if let Some(mut i) = host.find(':') {
        let last = host.rfind(':').unwrap_or(i);
        // Go 1.26 (urlstrictcolons=1): http and https hosts may have only one colon.
        if last != i && scheme != "http" && scheme != "https" {
            i = last;
        }
        let colon_port = &host[i..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {} after host", quote(colon_port)));
        }
    }
    unescape(host, Mode::Host)
}

/// Go's `parseAuthority`.
fn parse_authority(scheme: &str, authority: &str) -> Result<(Option<User>, String), String> {
    let at = authority.rfind('@');
    let host = parse_host(scheme, at.map_or(authority, |i| &authority[i + 1..]))?;
    let Some(i) = at else { return Ok((None, host)) };
    let userinfo = &authority[..i];
    if !valid_userinfo(userinfo) {
        return Err("net/url: invalid userinfo".into());
    }
    let user = match userinfo.split_once(':') {
        None => (unescape(userinfo, Mode::UserPassword)?, None),
        Some((u, p)) => (unescape(u, Mode::UserPassword)?, Some(unescape(p, Mode::UserPassword)?)),
    };
    Ok((Some(user), host))
}

/// Go's `url.parse(rawURL, false)`.
fn parse_no_frag(raw: &str) -> Result<Url, String> {
    if raw.bytes().any(|b| b < b' ' || b == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    let mut u = Url::default();
    if raw == "*" {
        u.path = "*".into();
        return Ok(u);
    }
    let (scheme, mut rest) = get_scheme(raw)?;
    u.scheme = scheme.to_ascii_lowercase();
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        u.force_query = true;
        rest = &rest[..rest.len() - 1];
    } else if let Some((r, q)) = rest.split_once('?') {
        rest = r;
        u.raw_query = q.to_string();
    }
    if !rest.starts_with('/') {
        if !u.scheme.is_empty() {
            u.opaque = rest.to_string();
            return Ok(u);
        }
        let segment = rest.split('/').next().unwrap_or("");
        if segment.contains(':') {
            return Err("first path segment in URL cannot contain colon".into());
        }
    }
    if (!u.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let mut authority = &rest[2..];
        rest = "";
        if let Some(i) = authority.find('/') {
            rest = &authority[i..];
            authority = &authority[..i];
        }
        let (user, host) = parse_authority(&u.scheme, authority)?;
        u.user = user;
        u.host = host;
    } else if !u.scheme.is_empty() && rest.starts_with('/') {
        u.omit_host = true;
    }
    u.path = unescape(rest, Mode::Path)?;
    u.raw_path = if escape(&u.path, Mode::Path) == rest { String::new() } else { rest.to_string() };
    Ok(u)
}

/// Go's `url.Parse`; the error is Go's `*url.Error` text.
fn parse(raw: &str) -> Result<Url, String> {
    let (main, frag) = match raw.split_once('#') {
        Some((m, f)) => (m, f),
        None => (raw, ""),
    };
    let mut u = parse_no_frag(main).map_err(|e| format!("parse {}: {e}", quote(main)))?;
    if frag.is_empty() {
        return Ok(u);
    }
    u.fragment = unescape(frag, Mode::Fragment).map_err(|e| format!("parse {}: {e}", quote(raw)))?;
    u.raw_fragment = if escape(&u.fragment, Mode::Fragment) == frag { String::new() } else { frag.to_string() };
    Ok(u)
}

/// Go's `validEncoded`.
fn valid_encoded(s: &str, mode: Mode) -> bool {
    s.bytes().all(|c| {
        matches!(c, b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' | b':' | b'@' | b'[' | b']' | b'%')
            || !should_escape(c, mode)
    })
}

impl Url {
    fn escaped_path(&self) -> String {
        if !self.raw_path.is_empty() && valid_encoded(&self.raw_path, Mode::Path) {
            if let Ok(p) = unescape(&self.raw_path, Mode::Path) {
                if p == self.path {
                    return self.raw_path.clone();
                }
            }
        }
        if self.path == "*" {
            return "*".into();
        }
        escape(&self.path, Mode::Path)
    }

    fn escaped_fragment(&self) -> String {
        if !self.raw_fragment.is_empty() && valid_encoded(&self.raw_fragment, Mode::Fragment) {
            if let Ok(f) = unescape(&self.raw_fragment, Mode::Fragment) {
                if f == self.fragment {
                    return self.raw_fragment.clone();
                }
            }
        }
        escape(&self.fragment, Mode::Fragment)
    }

    /// Go's `URL.String`.
    fn to_go_string(&self) -> String {
        let mut buf = String::new();
        if !self.scheme.is_empty() {
            buf.push_str(&self.scheme);
            buf.push(':');
        }
        if !self.opaque.is_empty() {
            buf.push_str(&self.opaque);
        } else {
            if !self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some() {
                if self.omit_host && self.host.is_empty() && self.user.is_none() {
                    // omit empty host
                } else {
                    if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                        buf.push_str("//");
                    }
                    if let Some(u) = &self.user {
                        buf.push_str(&user_string(u));
                        buf.push('@');
                    }
                    if !self.host.is_empty() {
                        buf.push_str(&escape(&self.host, Mode::Host));
                    }
                }
            }
            let path = self.escaped_path();
            if !path.is_empty() && !path.starts_with('/') && !self.host.is_empty() {
                buf.push('/');
            }
            if buf.is_empty() && path.split('/').next().unwrap_or("").contains(':') {
                buf.push_str("./");
            }
            buf.push_str(&path);
        }
        if self.force_query || !self.raw_query.is_empty() {
            buf.push('?');
            buf.push_str(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            buf.push('#');
            buf.push_str(&self.escaped_fragment());
        }
        buf
    }

    /// Go's `URL.Hostname`.
    fn hostname(&self) -> String {
        let mut host = self.host.as_str();
        if let Some(c) = host.rfind(':') {
            if valid_optional_port(&host[c..]) {
                host = &host[..c];
            }
        }
        if host.starts_with('[') && host.ends_with(']') && host.len() >= 2 {
            host = &host[1..host.len() - 1];
        }
        host.to_string()
    }
}

fn url_parse(s: &str) -> Result<Value, FuncError> {
    let u = parse(s).map_err(|e| FuncError(format!("unable to parse url: {e}")))?;
    let mut m: BTreeMap<Str, Value> = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        m.insert(Arc::from(k), Value::string(v));
    };
    put("scheme", u.scheme.clone());
    put("host", u.host.clone());
    put("hostname", u.hostname());
    put("path", u.path.clone());
    put("query", u.raw_query.clone());
    put("opaque", u.opaque.clone());
    put("fragment", u.fragment.clone());
    put("userinfo", u.user.as_ref().map(user_string).unwrap_or_default());
    Ok(Value::map(m))
}

/// sprig `dictGetOrEmpty`.
fn dict_get(d: &Value, key: &str) -> Result<String, FuncError> {
    let Value::Map(m) = d else { return Ok(String::new()) };
    match m.get(key) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.to_string()),
        Some(Value::Nil) | Some(Value::Missing) => Err(FuncError("runtime error: invalid memory address or nil pointer dereference".into())),
        Some(v) => Err(FuncError(format!("unable to parse {key} key, must be of type string, but {} found", kind_name(&v)))),
    }
}

fn url_join(d: &Value) -> Result<Value, FuncError> {
    let mut u = Url {
        scheme: dict_get(d, "scheme")?,
        host: dict_get(d, "host")?,
        path: dict_get(d, "path")?,
        raw_query: dict_get(d, "query")?,
        opaque: dict_get(d, "opaque")?,
        fragment: dict_get(d, "fragment")?,
        ..Url::default()
    };
    let userinfo = dict_get(d, "userinfo")?;
    if !userinfo.is_empty() {
        let tmp = parse(&format!("proto://{userinfo}@host")).map_err(|e| FuncError(format!("unable to parse userinfo in dict: {e}")))?;
        u.user = tmp.user;
    }
    Ok(Value::string(u.to_go_string()))
}

pub fn register(m: &mut FuncMap) {
    add(m, "urlParse", vec![str_t()], map_t(), |a| url_parse(arg_str(&a[0])));
    add(m, "urlJoin", vec![map_t()], str_t(), |a| url_join(&a[0]));
}
