//! Encoders: values to emitter events.
//!
//! - `marshal_v2`: `sigs.k8s.io/yaml.Marshal` = `json.Marshal`, the JSON text read back by
//!   go-yaml v2 (so numbers become `int`/`uint64`/`float64` by YAML 1.1 rules), then go-yaml v2's
//!   encoder (natural key order, quoting of strings that would resolve to another type).
//! - `marshal_v3`: go-yaml v3's encoder on the template value itself (Helm's `toYamlPretty`).

use std::cmp::Ordering;

use super::decode::{scalar_native, unmarshal_native, Native};
use super::emitter::{Emitter, Ev, Style};
use super::resolve::{parse_timestamp, resolve, v3_resolves_non_str, Resolved};
use crate::value::{FloatKind, Value};

// ---- encoding/json ---------------------------------------------------------------------

/// Go's `encoding/json` float text (`'f'` between 1e-6 and 1e21, `'e'` outside, `e-07` → `e-7`).
pub fn json_float(f: f64, bits32: bool) -> Result<String, String> {
    if f.is_nan() || f.is_infinite() {
        return Err(format!("json: unsupported value: {}", crate::print::float::format_v(f, bits32)));
    }
    let abs = f.abs();
    let use_e = abs != 0.0
        && if bits32 {
            let a = abs as f32;
            a < 1e-6 || a >= 1e21
        } else {
            !(1e-6..1e21).contains(&abs)
        };
    let sci = if bits32 { format!("{:e}", f as f32) } else { format!("{f:e}") };
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    if use_e {
        s.push_str(&digits[..1]);
        if digits.len() > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        s.push('e');
        s.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 && exp >= 0 {
            s.push('0');
        }
        s.push_str(&e.to_string());
        return Ok(s);
    }
    if digits == "0" {
        s.push('0');
        return Ok(s);
    }
    // Fixed notation: value = 0.d1d2... × 10^(exp+1).
    let dp = exp + 1;
    if dp <= 0 {
        s.push_str("0.");
        for _ in 0..(-dp) {
            s.push('0');
        }
        s.push_str(&digits);
    } else if dp as usize >= digits.len() {
        s.push_str(&digits);
        for _ in 0..(dp as usize - digits.len()) {
            s.push('0');
        }
    } else {
        s.push_str(&digits[..dp as usize]);
        s.push('.');
        s.push_str(&digits[dp as usize..]);
    }
    Ok(s)
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `json.Marshal(v)` for template values (objects go through `crate::json::to_json`).
pub fn json_marshal(v: &Value, out: &mut String) -> Result<(), String> {
    stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || {
        match v {
            Value::Missing | Value::Nil => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i, _) => out.push_str(&i.to_string()),
            Value::Uint(u, _) => out.push_str(&u.to_string()),
            Value::Float(f, k) => out.push_str(&json_float(*f, *k == FloatKind::Float32)?),
            Value::String(s) => json_string(s, out),
            Value::Bytes(b) => {
                use base64::Engine;
                json_string(&base64::engine::general_purpose::STANDARD.encode(b), out)
            }
            Value::List(l) => {
                out.push('[');
                for (i, it) in l.items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_marshal(it, out)?;
                }
                out.push(']');
            }
            Value::Map(m) => {
                out.push('{');
                for (i, (k, v)) in m.read().iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_string(k, out);
                    out.push(':');
                    json_marshal(v, out)?;
                }
                out.push('}');
            }
            Value::Object(_) => out.push_str(&crate::json::to_json(v)?),
        }
        Ok(())
    })
}

// ---- key order (go-yaml sorter.go) -----------------------------------------------------

fn go_is_letter(c: char) -> bool {
    c.is_alphabetic()
}

fn go_is_digit(c: char) -> bool {
    c.is_numeric() && (c.is_ascii_digit() || !c.is_ascii())
}

/// go-yaml's `keyList.Less` for two string keys (`v3` adds its `digits` tweak).
fn key_less(a: &str, b: &str, v3: bool) -> bool {
    // Keys are nearly always ASCII: compare their bytes in place, without collecting chars.
    if a.is_ascii() && b.is_ascii() {
        let ar: &[u8] = a.as_bytes();
        let br: &[u8] = b.as_bytes();
        return key_less_chars(ar, br, v3);
    }
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    key_less_chars(&ar, &br, v3)
}

/// A character of a key: `char`, or a byte of an ASCII key.
trait KeyChar: Copy + PartialEq + PartialOrd {
    fn ch(self) -> char;
}

impl KeyChar for char {
    fn ch(self) -> char {
        self
    }
}

impl KeyChar for u8 {
    fn ch(self) -> char {
        self as char
    }
}

fn key_less_chars<C: KeyChar>(ar: &[C], br: &[C], v3: bool) -> bool {
    let mut digits = false;
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            digits = go_is_digit(ar[i].ch());
            i += 1;
            continue;
        }
        let al = go_is_letter(ar[i].ch());
        let bl = go_is_letter(br[i].ch());
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            if v3 && digits {
                return al;
            }
            return bl;
        }
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ar[i].ch() == '0' || br[i].ch() == '0' {
            let mut j = i as isize - 1;
            while j >= 0 && go_is_digit(ar[j as usize].ch()) {
                if ar[j as usize].ch() != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
                j -= 1;
            }
        }
        let mut ai = i;
        while ai < ar.len() && go_is_digit(ar[ai].ch()) {
            an = an.wrapping_mul(10).wrapping_add(ar[ai].ch() as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && go_is_digit(br[bi].ch()) {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi].ch() as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

fn sort_keys<T>(items: &mut [(String, T)], v3: bool) {
    items.sort_by(|a, b| key_order(&a.0, &b.0, v3));
}

/// go-yaml's key order as an `Ordering` (keys neither less nor greater are equal).
fn key_order(a: &str, b: &str, v3: bool) -> Ordering {
    if key_less(a, b, v3) {
        Ordering::Less
    } else if key_less(b, a, v3) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

// ---- go-yaml v2 encoder ----------------------------------------------------------------

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !(b[0] == b'+' || b[0] == b'-' || b[0].is_ascii_digit()) || !s.contains(':') {
        return false;
    }
    let mut i = 0;
    if b[i] == b'+' || b[i] == b'-' {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        // [0-5]?[0-9]
        if i + 1 < b.len() && (b'0'..=b'5').contains(&b[i]) && b[i + 1].is_ascii_digit() {
            i += 2;
        } else if i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        } else {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

fn v2_string_style(s: &str) -> Style {
    let rtag_is_str = matches!(resolve("", s), Ok(Resolved::Str(_)));
    let can_use_plain = rtag_is_str && !is_base60_float(s);
    if s.contains('\n') {
        Style::Literal
    } else if can_use_plain {
        Style::Plain
    } else {
        Style::DoubleQuoted
    }
}

fn scalar(value: String, style: Style) -> Ev {
    Ev::Scalar { value, style }
}

fn native_events(n: &Native, evs: &mut Vec<Ev>) {
    stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || match n {
        Native::Nil => evs.push(scalar("null".into(), Style::Plain)),
        Native::Bool(b) => evs.push(scalar(if *b { "true" } else { "false" }.into(), Style::Plain)),
        Native::Int(i) => evs.push(scalar(i.to_string(), Style::Plain)),
        Native::Uint(u) => evs.push(scalar(u.to_string(), Style::Plain)),
        Native::Float(f) => evs.push(scalar(float_text(*f, false), Style::Plain)),
        Native::Str(s) => evs.push(scalar(s.clone(), v2_string_style(s))),
        Native::Seq(items) => {
            evs.push(Ev::SequenceStart { flow: false });
            for it in items {
                native_events(it, evs);
            }
            evs.push(Ev::SequenceEnd);
        }
        Native::Map(entries) => {
            evs.push(Ev::MappingStart { flow: false });
            // After the JSON step every key is a string.
            let keys: Vec<std::borrow::Cow<'_, str>> = entries
                .iter()
                .map(|(k, _)| match k {
                    Native::Str(s) => std::borrow::Cow::Borrowed(s.as_str()),
                    other => std::borrow::Cow::Owned(format!("{other:?}")),
                })
                .collect();
            let mut order: Vec<usize> = (0..entries.len()).collect();
            order.sort_by(|&a, &b| key_order(&keys[a], &keys[b], false));
            for i in order {
                let (k, v) = &entries[i];
                native_events(k, evs);
                native_events(v, evs);
            }
            evs.push(Ev::MappingEnd);
        }
    })
}

fn float_text(f: f64, bits32: bool) -> String {
    let s = crate::print::float::format_v(f, bits32);
    match s.as_str() {
        "+Inf" => ".inf".into(),
        "-Inf" => "-.inf".into(),
        "NaN" => ".nan".into(),
        _ => s,
    }
}

fn emit(events: Vec<Ev>, v3: bool, indent: i64) -> Result<String, String> {
    let mut all = Vec::with_capacity(events.len() + 4);
    all.push(Ev::StreamStart);
    all.push(Ev::DocumentStart);
    all.extend(events);
    all.push(Ev::DocumentEnd);
    if !v3 {
        all.push(Ev::StreamEnd);
    }
    Emitter::new(v3, indent).emit_all(&all).map_err(|e| format!("yaml: {e}"))
}

/// `sigs.k8s.io/yaml.Marshal(v)`.
pub fn marshal_v2(v: &Value) -> Result<String, String> {
    if let Some(native) = json_read_back(v, 0) {
        let mut evs = Vec::new();
        native_events(&native, &mut evs);
        return emit(evs, false, 2);
    }
    marshal_v2_literal(v)
}

/// `marshal_v2` the literal way: the JSON text written, then read by the YAML parser.
pub(crate) fn marshal_v2_literal(v: &Value) -> Result<String, String> {
    let mut json = String::new();
    json_marshal(v, &mut json).map_err(|e| format!("error marshaling into JSON: {e}"))?;
    // JSONToYAML: go-yaml v2 reads the JSON (errors come back unwrapped), then marshals it.
    let native = unmarshal_native(&json)?;
    let mut evs = Vec::new();
    native_events(&native, &mut evs);
    emit(evs, false, 2)
}

/// What go-yaml v2 reads back from `json.Marshal(v)`, computed from `v` without writing and
/// scanning the JSON text: maps and lists keep their (sorted) order, strings come back as they
/// were (JSON's escapes are all undone by YAML's double-quoted style), numbers are resolved
/// from their JSON text by YAML 1.1 rules. `None` when the text round trip could differ or fail
/// (objects with their own JSON form, NaN and infinities, characters YAML's reader rejects,
/// keys long enough to stop being simple keys, nesting near the flow depth limit): the caller
/// then takes the literal route.
fn json_read_back(v: &Value, depth: usize) -> Option<Native> {
    stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || json_read_back_inner(v, depth))
}

fn json_read_back_inner(v: &Value, depth: usize) -> Option<Native> {
    Some(match v {
        Value::Missing | Value::Nil => Native::Nil,
        Value::Bool(b) => Native::Bool(*b),
        Value::Int(i, _) => Native::Int(*i),
        Value::Uint(u, _) => match i64::try_from(*u) {
            Ok(i) => Native::Int(i),
            Err(_) => Native::Uint(*u),
        },
        Value::Float(f, k) => {
            if *k == FloatKind::Float64 && f.fract() == 0.0 && f.abs() < 9.0e15 {
                // JSON writes these whole numbers as their exact integer digits ("-0" for -0).
                Native::Int(*f as i64)
            } else {
                scalar_native("", &json_float(*f, *k == FloatKind::Float32).ok()?).ok()?
            }
        }
        Value::String(s) => Native::Str(yaml_readable(s)?.to_string()),
        Value::Bytes(_) | Value::Object(_) => return None,
        Value::List(l) => {
            if depth >= 9000 {
                return None;
            }
            let mut items = Vec::with_capacity(l.items.len());
            for it in &l.items {
                items.push(json_read_back(it, depth + 1)?);
            }
            Native::Seq(items)
        }
        Value::Map(m) => {
            if depth >= 9000 {
                return None;
            }
            let entries = m.read();
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries.iter() {
                // go-yaml forgets a simple key 1024 characters after its start.
                if k.len() > 150 {
                    return None;
                }
                out.push((Native::Str(yaml_readable(k)?.to_string()), json_read_back(v, depth + 1)?));
            }
            Native::Map(out)
        }
    })
}

/// `s` if go-yaml reads its JSON form back unchanged: JSON escapes the C0 controls, U+2028
/// and U+2029, but leaves raw the characters go-yaml's reader rejects (DEL, the C1 controls,
/// U+FFFE, U+FFFF) and NEL, which a double-quoted scalar folds as a line break (and, to be
/// safe, the byte order mark).
fn yaml_readable(s: &str) -> Option<&str> {
    if s.bytes().all(|b| b < 0x7F) {
        return Some(s);
    }
    let ok = s.chars().all(|c| {
        let v = c as u32;
        v < 0x7F || (0xA0..=0xD7FF).contains(&v) || ((0xE000..=0xFFFD).contains(&v) && v != 0xFEFF) || v >= 0x10000
    });
    ok.then_some(s)
}

// ---- go-yaml v3 encoder ----------------------------------------------------------------

fn is_old_bool(s: &str) -> bool {
    matches!(s, "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF")
}

fn v3_string_style(s: &str) -> Style {
    let can_use_plain = !v3_resolves_non_str(s) && !(is_base60_float(s) || is_old_bool(s));
    if s.contains('\n') {
        Style::Literal
    } else if can_use_plain {
        Style::Plain
    } else {
        Style::DoubleQuoted
    }
}

fn value_events_v3(v: &Value, evs: &mut Vec<Ev>) {
    stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || match v {
        Value::Missing | Value::Nil => evs.push(scalar("null".into(), Style::Plain)),
        Value::Bool(b) => evs.push(scalar(if *b { "true" } else { "false" }.into(), Style::Plain)),
        Value::Int(i, _) => evs.push(scalar(i.to_string(), Style::Plain)),
        Value::Uint(u, _) => evs.push(scalar(u.to_string(), Style::Plain)),
        Value::Float(f, k) => evs.push(scalar(float_text(*f, *k == FloatKind::Float32), Style::Plain)),
        Value::String(s) => evs.push(scalar(s.to_string(), v3_string_style(s))),
        Value::Bytes(b) => {
            evs.push(Ev::SequenceStart { flow: false });
            for x in b.iter() {
                evs.push(scalar(x.to_string(), Style::Plain));
            }
            evs.push(Ev::SequenceEnd);
        }
        Value::List(l) => {
            evs.push(Ev::SequenceStart { flow: false });
            for it in &l.items {
                value_events_v3(it, evs);
            }
            evs.push(Ev::SequenceEnd);
        }
        Value::Map(m) => {
            evs.push(Ev::MappingStart { flow: false });
            let mut items: Vec<(String, Value)> = m.read().iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            sort_keys(&mut items, true);
            for (k, v) in items {
                evs.push(scalar(k.clone(), v3_string_style(&k)));
                value_events_v3(&v, evs);
            }
            evs.push(Ev::MappingEnd);
        }
        Value::Object(o) => {
            let s = o.format_v();
            let st = v3_string_style(&s);
            evs.push(scalar(s, st));
        }
    })
}

/// go-yaml v3 `Encoder` with `SetIndent(indent)`, one `Encode(v)` (no `Close`).
pub fn marshal_v3(v: &Value, indent: i64) -> Result<String, String> {
    let mut evs = Vec::new();
    value_events_v3(v, &mut evs);
    emit(evs, true, indent)
}

#[allow(dead_code)]
fn _ts(s: &str) -> bool {
    parse_timestamp(s)
}
