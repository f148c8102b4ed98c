//! Plain scalar resolution: go-yaml v2's YAML 1.1 rules (`resolve.go`) and go-yaml v3's
//! YAML 1.2-ish rules (used by the v3 encoder to decide quoting).

pub const STR_TAG: &str = "tag:yaml.org,2002:str";
pub const BOOL_TAG: &str = "tag:yaml.org,2002:bool";
pub const INT_TAG: &str = "tag:yaml.org,2002:int";
pub const FLOAT_TAG: &str = "tag:yaml.org,2002:float";
pub const NULL_TAG: &str = "tag:yaml.org,2002:null";
pub const TIMESTAMP_TAG: &str = "tag:yaml.org,2002:timestamp";
pub const BINARY_TAG: &str = "tag:yaml.org,2002:binary";
pub const MERGE_TAG: &str = "tag:yaml.org,2002:merge";

#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Timestamp,
    Merge,
    /// `!!binary`: the caller decodes the base64 text.
    Binary,
}

impl Resolved {
    fn tag(&self) -> &'static str {
        match self {
            Resolved::Null => NULL_TAG,
            Resolved::Bool(_) => BOOL_TAG,
            Resolved::Int(_) | Resolved::Uint(_) => INT_TAG,
            Resolved::Float(_) => FLOAT_TAG,
            Resolved::Str(_) => STR_TAG,
            Resolved::Timestamp => TIMESTAMP_TAG,
            Resolved::Merge => MERGE_TAG,
            Resolved::Binary => BINARY_TAG,
        }
    }
}

pub fn short_tag(tag: &str) -> String {
    match tag.strip_prefix("tag:yaml.org,2002:") {
        Some(rest) => format!("!!{rest}"),
        None => tag.to_string(),
    }
}

fn resolvable_tag(tag: &str) -> bool {
    matches!(tag, "" | STR_TAG | BOOL_TAG | INT_TAG | FLOAT_TAG | NULL_TAG | TIMESTAMP_TAG)
}

fn v2_map(s: &str) -> Option<Resolved> {
    Some(match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Resolved::Bool(true),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Resolved::Bool(false),
        "" | "~" | "null" | "Null" | "NULL" => Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float(f64::NEG_INFINITY),
        "<<" => Resolved::Merge,
        _ => return None,
    })
}

/// go-yaml v2 `resolve(tag, in)`. Errors are go-yaml's `failf` texts.
pub fn resolve(tag: &str, input: &str) -> Result<Resolved, String> {
    if tag == BINARY_TAG {
        return Ok(Resolved::Binary);
    }
    if !resolvable_tag(tag) {
        return Ok(Resolved::Str(input.to_string()));
    }
    let r = resolve_plain(tag, input);
    // The deferred check: an explicit tag must agree with what the text resolves to.
    if tag.is_empty() || tag == r.tag() || tag == STR_TAG {
        return Ok(r);
    }
    if tag == FLOAT_TAG {
        if let Resolved::Int(i) = r {
            return Ok(Resolved::Float(i as f64));
        }
    }
    Err(format!("yaml: cannot decode {} `{}` as a {}", short_tag(r.tag()), input, short_tag(tag)))
}

fn hint(input: &str) -> u8 {
    match input.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => 0,
    }
}

fn resolve_plain(tag: &str, input: &str) -> Resolved {
    let h = hint(input);
    if h != 0 && tag != STR_TAG {
        if let Some(r) = v2_map(input) {
            return r;
        }
        match h {
            b'.' => {
                if let Some(f) = go_parse_float(input) {
                    return Resolved::Float(f);
                }
            }
            b'D' | b'S' => {
                if (tag.is_empty() || tag == TIMESTAMP_TAG) && parse_timestamp(input) {
                    return Resolved::Timestamp;
                }
                let plain = input.replace('_', "");
                if let Some(i) = go_parse_int(&plain) {
                    return Resolved::Int(i);
                }
                if let Some(u) = go_parse_uint(&plain) {
                    return Resolved::Uint(u);
                }
                if yaml_style_float(&plain) {
                    if let Some(f) = go_parse_float(&plain) {
                        return Resolved::Float(f);
                    }
                }
                if let Some(rest) = plain.strip_prefix("0b") {
                    if let Some(i) = parse_radix_i64(rest, 2, false) {
                        return Resolved::Int(i);
                    }
                    if let Some(u) = parse_radix_u64(rest, 2) {
                        return Resolved::Uint(u);
                    }
                } else if let Some(rest) = plain.strip_prefix("-0b") {
                    if let Some(i) = parse_radix_i64(rest, 2, true) {
                        return Resolved::Int(i);
                    }
                }
            }
            _ => {}
        }
    }
    Resolved::Str(input.to_string())
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
pub fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

fn parse_radix_u64(s: &str, radix: u32) -> Option<u64> {
    if s.is_empty() || s.starts_with('+') || s.starts_with('-') {
        return None;
    }
    u64::from_str_radix(s, radix).ok()
}

fn parse_radix_i64(s: &str, radix: u32, neg: bool) -> Option<i64> {
    let u = parse_radix_u64(s, radix)?;
    if neg {
        if u > i64::MAX as u64 + 1 {
            None
        } else {
            Some((u as i64).wrapping_neg())
        }
    } else if u > i64::MAX as u64 {
        None
    } else {
        Some(u as i64)
    }
}

/// Go `strconv.ParseUint(s, 0, 64)` on text without underscores.
pub fn go_parse_uint(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let b = s.as_bytes();
    let (radix, digits) = if b[0] == b'0' {
        if s.len() >= 3 && (b[1] | 0x20) == b'b' {
            (2, &s[2..])
        } else if s.len() >= 3 && (b[1] | 0x20) == b'o' {
            (8, &s[2..])
        } else if s.len() >= 3 && (b[1] | 0x20) == b'x' {
            (16, &s[2..])
        } else {
            (8, &s[1..])
        }
    } else {
        (10, s)
    };
    if digits.is_empty() {
        return if radix == 8 { Some(0) } else { None };
    }
    if digits.starts_with('+') || digits.starts_with('-') {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Go `strconv.ParseInt(s, 0, 64)` on text without underscores.
pub fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let u = go_parse_uint(body)?;
    if neg {
        if u > i64::MAX as u64 + 1 {
            None
        } else {
            Some((u as i64).wrapping_neg())
        }
    } else if u > i64::MAX as u64 {
        None
    } else {
        Some(u as i64)
    }
}

/// Go's `underscoreOK` for base-10 text (underscores only between digits).
fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    if !b.is_empty() && (b[0] == b'-' || b[0] == b'+') {
        i = 1;
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go `strconv.ParseFloat(s, 64)` for decimal text (errors on overflow, like Go).
pub fn go_parse_float(s: &str) -> Option<f64> {
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = t.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(if s.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY });
    }
    if lower == "nan" {
        return Some(f64::NAN);
    }
    if lower.starts_with("0x") {
        return None;
    }
    let mut body = s.to_string();
    if body.contains('_') {
        if !underscore_ok(&body) {
            return None;
        }
        body = body.replace('_', "");
    }
    let bb = body.as_bytes();
    // Validate Go's decimal syntax: digits with an optional point, at least one digit, optional exponent.
    let mut i = 0;
    if i < bb.len() && (bb[i] == b'+' || bb[i] == b'-') {
        i += 1;
    }
    let mut nd = 0;
    let mut seen_dot = false;
    while i < bb.len() {
        match bb[i] {
            b'0'..=b'9' => nd += 1,
            b'.' if !seen_dot => seen_dot = true,
            _ => break,
        }
        i += 1;
    }
    if nd == 0 {
        return None;
    }
    if i < bb.len() && (bb[i] == b'e' || bb[i] == b'E') {
        i += 1;
        if i < bb.len() && (bb[i] == b'+' || bb[i] == b'-') {
            i += 1;
        }
        let st = i;
        while i < bb.len() && bb[i].is_ascii_digit() {
            i += 1;
        }
        if i == st {
            return None;
        }
    }
    if i != bb.len() {
        return None;
    }
    let f: f64 = body.parse().ok()?;
    if f.is_infinite() {
        return None;
    }
    Some(f)
}

fn days_in(month: u32, year: i64) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

/// Go `getnum(s, false)`: one or two digits.
fn getnum(b: &[u8], i: &mut usize) -> Option<u32> {
    if *i >= b.len() || !b[*i].is_ascii_digit() {
        return None;
    }
    let mut v = (b[*i] - b'0') as u32;
    *i += 1;
    if *i < b.len() && b[*i].is_ascii_digit() {
        v = v * 10 + (b[*i] - b'0') as u32;
        *i += 1;
    }
    Some(v)
}

/// go-yaml v2 `parseTimestamp`: the formats `2006-1-2T15:4:5.999999999Z07:00` (also with `t`),
/// `2006-1-2 15:4:5.999999999` and `2006-1-2`, by Go's `time.Parse` rules.
pub fn parse_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i != 4 || i == b.len() || b[i] != b'-' {
        return false;
    }
    let year: i64 = s[..4].parse().unwrap_or(0);
    i += 1;
    let Some(month) = getnum(b, &mut i) else { return false };
    if i >= b.len() || b[i] != b'-' {
        return false;
    }
    i += 1;
    let Some(day) = getnum(b, &mut i) else { return false };
    if !(1..=12).contains(&month) || day < 1 || day > days_in(month, year) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let tz = match b[i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return false,
    };
    i += 1;
    let Some(hour) = getnum(b, &mut i) else { return false };
    if i >= b.len() || b[i] != b':' {
        return false;
    }
    i += 1;
    let Some(min) = getnum(b, &mut i) else { return false };
    if i >= b.len() || b[i] != b':' {
        return false;
    }
    i += 1;
    let Some(sec) = getnum(b, &mut i) else { return false };
    if hour > 23 || min > 59 || sec > 59 {
        return false;
    }
    if i + 1 < b.len() && (b[i] == b'.' || b[i] == b',') && b[i + 1].is_ascii_digit() {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if !tz {
        return i == b.len();
    }
    if i < b.len() && b[i] == b'Z' {
        return i + 1 == b.len();
    }
    let rest = &b[i..];
    if rest.len() != 6 || !(rest[0] == b'+' || rest[0] == b'-') || rest[3] != b':' {
        return false;
    }
    let all_digits = rest[1].is_ascii_digit() && rest[2].is_ascii_digit() && rest[4].is_ascii_digit() && rest[5].is_ascii_digit();
    if !all_digits {
        return false;
    }
    let hh = (rest[1] - b'0') as u32 * 10 + (rest[2] - b'0') as u32;
    let mm = (rest[4] - b'0') as u32 * 10 + (rest[5] - b'0') as u32;
    hh <= 24 && mm <= 60
}

/// go-yaml v3's resolution of an untagged plain scalar, as far as the encoder's quoting needs:
/// whether the text would read back as something other than a string.
pub fn v3_resolves_non_str(s: &str) -> bool {
    let h = match s.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => 0,
    };
    if h == 0 {
        return false;
    }
    if matches!(
        s,
        "" | "~" | "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf"
            | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF" | "<<"
    ) {
        return true;
    }
    match h {
        b'.' => v3_float(s),
        b'D' | b'S' => {
            if parse_timestamp(s) {
                return true;
            }
            let plain = s.replace('_', "");
            if go_parse_int(&plain).is_some() || go_parse_uint(&plain).is_some() {
                return true;
            }
            if yaml_style_float(&plain) && go_parse_float(&plain).is_some() {
                return true;
            }
            if let Some(rest) = plain.strip_prefix("0b") {
                return parse_radix_u64(rest, 2).is_some();
            }
            if let Some(rest) = plain.strip_prefix("-0b") {
                return parse_radix_i64(rest, 2, true).is_some();
            }
            if let Some(rest) = plain.strip_prefix("0o") {
                return parse_radix_u64(rest, 8).is_some();
            }
            if let Some(rest) = plain.strip_prefix("-0o") {
                return parse_radix_i64(rest, 8, true).is_some();
            }
            false
        }
        _ => false,
    }
}

fn v3_float(s: &str) -> bool {
    go_parse_float(s).is_some()
}
