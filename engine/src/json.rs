//! Go's `encoding/json` for template values: `Marshal`, `MarshalIndent`, an `Encoder` without
//! HTML escaping (sprig's `toRawJson`), and `Unmarshal` into `interface{}`, `map[string]interface{}`
//! and `[]interface{}` with Go's exact error texts.
//!
//! Encoding follows encode.go: map keys in sorted order, strings escaped as Go escapes them
//! (`\u003c` for `<` when HTML escaping is on, `\u2028`/`\u2029` always), floats in Go's JSON
//! layout (shortest digits, `'e'` form below 1e-6 and from 1e21 on, `e-07` cleaned to `e-7`),
//! `[]byte` as standard base64, NaN and infinities refused. Indentation is Go's `Indent` applied to
//! the compact output, as `MarshalIndent` does.
//!
//! Decoding first checks the whole text with a scanner that mirrors Go's (so syntax errors carry
//! Go's words: "invalid character 'x' looking for beginning of value", "unexpected end of JSON
//! input"), then builds values: numbers are `float64`, later duplicate keys win.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;

use crate::value::{FloatKind, Str, Value};

/// How an `Object` (a Go struct or pointer) marshals. Objects say it through
/// `Object::json_form`; one that says nothing marshals as `{}` (a struct without exported
/// fields).
#[derive(Clone, Debug)]
pub enum JsonForm {
    /// The output of a `MarshalJSON` method (Go compacts it, escaping HTML if asked).
    Raw(String),
    /// Exported struct fields in declaration order, already named by their `json` tags and with
    /// `omitempty` fields left out.
    Fields(Vec<(Str, Value)>),
    /// Marshals as this value (e.g. a `MarshalText` string, or a `time.Duration`'s integer).
    Value(Value),
}

/// Encoder options.
#[derive(Clone, Copy)]
struct Opts {
    escape_html: bool,
}

/// `json.Marshal(v)`: sorted keys, `<`, `>`, `&` escaped as `\u003c` etc., Go's float format.
pub fn to_json(v: &Value) -> Result<String, String> {
    marshal(v, Opts { escape_html: true })
}

/// `json.MarshalIndent(v, prefix, indent)`.
pub fn to_json_indent(v: &Value, prefix: &str, indent: &str) -> Result<String, String> {
    let compact = to_json(v)?;
    Ok(indent_json(&compact, prefix, indent))
}

/// `json.NewEncoder(w)` with `SetEscapeHTML(false)`, then `Encode(v)`, without the final newline
/// (sprig's `toRawJson`).
pub fn to_json_raw(v: &Value) -> Result<String, String> {
    marshal(v, Opts { escape_html: false })
}

/// `json.Unmarshal` into `interface{}` (numbers `float64`). Errors carry Go's message.
pub fn from_json(text: &str) -> Result<Value, String> {
    let (v, err) = unmarshal(text, Target::Any);
    match err {
        Some(e) => Err(e),
        None => Ok(v),
    }
}

/// What `Unmarshal` decodes into.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Target {
    /// `interface{}`
    Any,
    /// `map[string]interface{}` (Helm's `fromJson`)
    Map,
    /// `[]interface{}` (Helm's `fromJsonArray`)
    Slice,
}

/// `json.Unmarshal(text, &target)`: the value the target holds afterwards and the error Go
/// returned, if any. Go keeps decoding after a type error (the first one is returned), so the
/// value can be partly filled even with an error; after a syntax error it is untouched.
pub fn unmarshal(text: &str, target: Target) -> (Value, Option<String>) {
    let untouched = match target {
        Target::Any => Value::Nil,
        Target::Map => Value::empty_map(),
        Target::Slice => Value::list(Vec::new()),
    };
    if let Err(e) = check_valid(text.as_bytes()) {
        return (untouched, Some(e));
    }
    let mut d = Decoder { b: text.as_bytes(), i: 0, err: None };
    d.ws();
    let v = match target {
        Target::Any => d.value(),
        Target::Map | Target::Slice => {
            let c = d.b[d.i];
            let want_map = target == Target::Map;
            let type_name = if want_map { "map[string]interface {}" } else { "[]interface {}" };
            match c {
                b'{' if want_map => d.value(),
                b'[' if !want_map => d.value(),
                b'n' => {
                    d.i += 4;
                    // null sets a map or slice to nil; it prints and ranges like an empty one.
                    untouched
                }
                _ => {
                    let what = match c {
                        b'{' => "object",
                        b'[' => "array",
                        b'"' => "string",
                        b't' | b'f' => "bool",
                        _ => "number",
                    };
                    d.skip_value();
                    d.save(format!("json: cannot unmarshal {what} into Go value of type {type_name}"));
                    untouched
                }
            }
        }
    };
    (v, d.err)
}

// ---------------------------------------------------------------------------------------------
// Encoding

fn marshal(v: &Value, opts: Opts) -> Result<String, String> {
    let mut out = String::new();
    let mut path: Vec<*const ()> = Vec::new();
    encode(&mut out, v, opts, &mut path)?;
    Ok(out)
}

/// Go starts looking for cycles once this many maps are nested.
const START_DETECTING_CYCLES_AFTER: usize = 1000;

fn encode(out: &mut String, v: &Value, opts: Opts, path: &mut Vec<*const ()>) -> Result<(), String> {
    match v {
        Value::Missing | Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i, _) => out.push_str(itoa::Buffer::new().format(*i)),
        Value::Uint(u, _) => out.push_str(itoa::Buffer::new().format(*u)),
        Value::Float(f, k) => out.push_str(&format_float(*f, *k == FloatKind::Float32)?),
        Value::String(s) => write_string(out, s, opts.escape_html),
        Value::Bytes(b) => {
            out.push('"');
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
            out.push('"');
        }
        Value::List(l) => {
            out.push('[');
            for (i, item) in l.items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                encode(out, item, opts, path)?;
            }
            out.push(']');
        }
        Value::Map(m) => {
            let ptr = Arc::as_ptr(m) as *const ();
            if path.len() >= START_DETECTING_CYCLES_AFTER && path.contains(&ptr) {
                return Err(format!("json: unsupported value: encountered a cycle via {}", v.go_type()));
            }
            path.push(ptr);
            let entries: Vec<(Str, Value)> = m.read().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k, opts.escape_html);
                out.push(':');
                let r = stacker::maybe_grow(64 * 1024, 1024 * 1024, || encode(out, item, opts, path));
                if let Err(e) = r {
                    path.pop();
                    return Err(e);
                }
            }
            out.push('}');
            path.pop();
        }
        Value::Object(o) => {
            if o.is_nil() {
                out.push_str("null");
                return Ok(());
            }
            match o.json_form() {
                Some(JsonForm::Raw(raw)) => {
                    let tn = o.go_type();
                    compact_into(out, &raw, opts.escape_html).map_err(|e| {
                        format!("json: error calling MarshalJSON for type {tn}: {e}")
                    })?;
                }
                Some(JsonForm::Fields(fields)) => {
                    out.push('{');
                    for (i, (k, item)) in fields.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        write_string(out, k, opts.escape_html);
                        out.push(':');
                        encode(out, item, opts, path)?;
                    }
                    out.push('}');
                }
                Some(JsonForm::Value(inner)) => encode(out, &inner, opts, path)?,
                None => {
                    // A `*semver.Version` marshals its `String()`; other structs without a
                    // declared form have no exported fields that templates know of.
                    if o.go_type().to_string() == "*semver.Version" {
                        write_string(out, &o.format_v(), opts.escape_html);
                    } else {
                        out.push_str("{}");
                    }
                }
            }
        }
    }
    Ok(())
}

/// Go's JSON float layout (encode.go `floatEncoder`).
pub fn format_float(f: f64, bits32: bool) -> Result<String, String> {
    if f.is_nan() || f.is_infinite() {
        let s = if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        };
        return Err(format!("json: unsupported value: {s}"));
    }
    let abs = f.abs();
    let exp_form = abs != 0.0
        && if bits32 {
            let a = abs as f32;
            a < 1e-6 || a >= 1e21
        } else {
            abs < 1e-6 || abs >= 1e21
        };
    // Shortest round-trip digits (the digits Go's strconv picks), as d.ddd and an exponent.
    let sci = if bits32 { format!("{:e}", f as f32) } else { format!("{f:e}") };
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    if exp_form {
        s.push_str(&digits[..1]);
        if digits.len() > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        s.push('e');
        s.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        // strconv writes at least two exponent digits; encoding/json trims `e-07` to `e-7`
        // (only for negative exponents).
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
    // 'f' with the shortest digits: value = 0.DIGITS × 10^(exp+1).
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

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Go's `appendString`: a JSON string literal.
pub fn write_string(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<String> = match c {
            '\\' => Some("\\\\".into()),
            '"' => Some("\\\"".into()),
            '\u{8}' => Some("\\b".into()),
            '\u{c}' => Some("\\f".into()),
            '\n' => Some("\\n".into()),
            '\r' => Some("\\r".into()),
            '\t' => Some("\\t".into()),
            '<' | '>' | '&' if escape_html => Some(format!("\\u00{}{}", HEX[(c as usize) >> 4] as char, HEX[(c as usize) & 15] as char)),
            c if (c as u32) < 0x20 => Some(format!("\\u00{}{}", HEX[(c as usize) >> 4] as char, HEX[(c as usize) & 15] as char)),
            '\u{2028}' => Some("\\u2028".into()),
            '\u{2029}' => Some("\\u2029".into()),
            _ => None,
        };
        if let Some(e) = esc {
            out.push_str(&s[start..i]);
            out.push_str(&e);
            start = i + c.len_utf8();
        }
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Go's `compact` for a `MarshalJSON` result: checks it, drops insignificant space, escapes HTML
/// characters and U+2028/U+2029 in strings if asked.
fn compact_into(out: &mut String, raw: &str, escape_html: bool) -> Result<(), String> {
    check_valid(raw.as_bytes())?;
    let mut in_str = false;
    let mut esc = false;
    for c in raw.chars() {
        if in_str {
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            } else if escape_html && matches!(c, '<' | '>' | '&') {
                out.push_str(&format!("\\u00{:02x}", c as u32));
                continue;
            } else if c == '\u{2028}' || c == '\u{2029}' {
                out.push_str(&format!("\\u{:04x}", c as u32));
                continue;
            }
            out.push(c);
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    Ok(())
}

/// Go's `Indent` on valid compact JSON (no whitespace outside strings).
pub fn indent_json(src: &str, prefix: &str, indent: &str) -> String {
    let mut dst = String::with_capacity(src.len() * 2);
    let newline = |dst: &mut String, depth: usize| {
        dst.push('\n');
        dst.push_str(prefix);
        for _ in 0..depth {
            dst.push_str(indent);
        }
    };
    let mut need_indent = false;
    let mut depth = 0usize;
    let mut in_str = false;
    let mut esc = false;
    for c in src.chars() {
        if in_str {
            dst.push(c);
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        if need_indent && c != '}' && c != ']' {
            need_indent = false;
            depth += 1;
            newline(&mut dst, depth);
        }
        match c {
            '"' => {
                in_str = true;
                dst.push(c);
            }
            '{' | '[' => {
                need_indent = true;
                dst.push(c);
            }
            ',' => {
                dst.push(c);
                newline(&mut dst, depth);
            }
            ':' => {
                dst.push(':');
                dst.push(' ');
            }
            '}' | ']' => {
                if need_indent {
                    need_indent = false;
                } else {
                    depth = depth.saturating_sub(1);
                    newline(&mut dst, depth);
                }
                dst.push(c);
            }
            c => dst.push(c),
        }
    }
    dst
}

// ---------------------------------------------------------------------------------------------
// Syntax check (Go's scanner.go, as a state machine with the same error texts)

/// Go's `maxNestingDepth`.
const MAX_NESTING_DEPTH: usize = 10000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum St {
    BeginValue,
    BeginValueOrEmpty,
    BeginStringOrEmpty,
    BeginString,
    EndValue,
    EndTop,
    InString,
    InStringEsc,
    InStringEscU(u8),
    Neg,
    Zero,
    One,
    Dot,
    Dot0,
    E,
    ESign,
    E0,
    Lit(&'static [u8], u8),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Parse {
    ObjectKey,
    ObjectValue,
    ArrayValue,
}

/// Go's `quoteChar`: the byte as a rune (so 0xC3 shows as 'Ã'), in single quotes.
fn quote_char(c: u8) -> String {
    if c == b'\'' {
        return "'\\''".into();
    }
    if c == b'"' {
        return "'\"'".into();
    }
    let q = crate::print::quote(&char::from(c).to_string());
    format!("'{}'", &q[1..q.len() - 1])
}

fn syntax(c: u8, context: &str) -> String {
    format!("invalid character {} {}", quote_char(c), context)
}

const EOF_MSG: &str = "unexpected end of JSON input";

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Go's `checkValid`.
fn check_valid(b: &[u8]) -> Result<(), String> {
    let mut st = St::BeginValue;
    let mut stack: Vec<Parse> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        st = step(st, c, &mut stack)?;
        i += 1;
    }
    // Go's `eof`: a final space ends a number at the top level; a value still open is an error.
    if st == St::EndTop {
        return Ok(());
    }
    match step(st, b' ', &mut stack)? {
        St::EndTop => Ok(()),
        _ => Err(EOF_MSG.into()),
    }
}

fn step(st: St, c: u8, stack: &mut Vec<Parse>) -> Result<St, String> {
    match st {
        St::BeginValueOrEmpty => {
            if is_space(c) {
                return Ok(st);
            }
            if c == b']' {
                return end_value(c, stack);
            }
            step(St::BeginValue, c, stack)
        }
        St::BeginValue => {
            if is_space(c) {
                return Ok(st);
            }
            match c {
                b'{' => {
                    push(stack, Parse::ObjectKey)?;
                    Ok(St::BeginStringOrEmpty)
                }
                b'[' => {
                    push(stack, Parse::ArrayValue)?;
                    Ok(St::BeginValueOrEmpty)
                }
                b'"' => Ok(St::InString),
                b'-' => Ok(St::Neg),
                b'0' => Ok(St::Zero),
                b'1'..=b'9' => Ok(St::One),
                b't' => Ok(St::Lit(b"true", 1)),
                b'f' => Ok(St::Lit(b"false", 1)),
                b'n' => Ok(St::Lit(b"null", 1)),
                _ => Err(syntax(c, "looking for beginning of value")),
            }
        }
        St::BeginStringOrEmpty => {
            if is_space(c) {
                return Ok(st);
            }
            if c == b'}' {
                if let Some(top) = stack.last_mut() {
                    *top = Parse::ObjectValue;
                }
                return end_value(c, stack);
            }
            step(St::BeginString, c, stack)
        }
        St::BeginString => {
            if is_space(c) {
                return Ok(st);
            }
            if c == b'"' {
                return Ok(St::InString);
            }
            Err(syntax(c, "looking for beginning of object key string"))
        }
        St::EndValue => end_value(c, stack),
        St::EndTop => {
            if !is_space(c) {
                return Err(syntax(c, "after top-level value"));
            }
            Ok(st)
        }
        St::InString => match c {
            b'"' => Ok(St::EndValue),
            b'\\' => Ok(St::InStringEsc),
            c if c < 0x20 => Err(syntax(c, "in string literal")),
            _ => Ok(st),
        },
        St::InStringEsc => match c {
            b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"' => Ok(St::InString),
            b'u' => Ok(St::InStringEscU(0)),
            _ => Err(syntax(c, "in string escape code")),
        },
        St::InStringEscU(n) => {
            if c.is_ascii_hexdigit() {
                if n == 3 {
                    Ok(St::InString)
                } else {
                    Ok(St::InStringEscU(n + 1))
                }
            } else {
                Err(syntax(c, "in \\u hexadecimal character escape"))
            }
        }
        St::Neg => match c {
            b'0' => Ok(St::Zero),
            b'1'..=b'9' => Ok(St::One),
            _ => Err(syntax(c, "in numeric literal")),
        },
        St::One => {
            if c.is_ascii_digit() {
                return Ok(St::One);
            }
            step(St::Zero, c, stack)
        }
        St::Zero => match c {
            b'.' => Ok(St::Dot),
            b'e' | b'E' => Ok(St::E),
            _ => end_value(c, stack),
        },
        St::Dot => {
            if c.is_ascii_digit() {
                Ok(St::Dot0)
            } else {
                Err(syntax(c, "after decimal point in numeric literal"))
            }
        }
        St::Dot0 => match c {
            b'0'..=b'9' => Ok(St::Dot0),
            b'e' | b'E' => Ok(St::E),
            _ => end_value(c, stack),
        },
        St::E => match c {
            b'+' | b'-' => Ok(St::ESign),
            _ => step(St::ESign, c, stack),
        },
        St::ESign => {
            if c.is_ascii_digit() {
                Ok(St::E0)
            } else {
                Err(syntax(c, "in exponent of numeric literal"))
            }
        }
        St::E0 => {
            if c.is_ascii_digit() {
                Ok(St::E0)
            } else {
                end_value(c, stack)
            }
        }
        St::Lit(word, n) => {
            let want = word[n as usize];
            if c != want {
                let name = std::str::from_utf8(word).unwrap_or("");
                return Err(syntax(c, &format!("in literal {name} (expecting {})", quote_char(want))));
            }
            if n as usize + 1 == word.len() {
                Ok(St::EndValue)
            } else {
                Ok(St::Lit(word, n + 1))
            }
        }
    }
}

fn push(stack: &mut Vec<Parse>, p: Parse) -> Result<(), String> {
    stack.push(p);
    if stack.len() > MAX_NESTING_DEPTH {
        return Err("exceeded max depth".into());
    }
    Ok(())
}

/// Go's `stateEndValue`: after a complete value.
fn end_value(c: u8, stack: &mut Vec<Parse>) -> Result<St, String> {
    let Some(top) = stack.last().copied() else {
        return step(St::EndTop, c, stack);
    };
    if is_space(c) {
        return Ok(St::EndValue);
    }
    match top {
        Parse::ObjectKey => {
            if c == b':' {
                *stack.last_mut().unwrap() = Parse::ObjectValue;
                return Ok(St::BeginValue);
            }
            Err(syntax(c, "after object key"))
        }
        Parse::ObjectValue => {
            if c == b',' {
                *stack.last_mut().unwrap() = Parse::ObjectKey;
                return Ok(St::BeginString);
            }
            if c == b'}' {
                stack.pop();
                return Ok(if stack.is_empty() { St::EndTop } else { St::EndValue });
            }
            Err(syntax(c, "after object key:value pair"))
        }
        Parse::ArrayValue => {
            if c == b',' {
                return Ok(St::BeginValue);
            }
            if c == b']' {
                stack.pop();
                return Ok(if stack.is_empty() { St::EndTop } else { St::EndValue });
            }
            Err(syntax(c, "after array element"))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Building values from checked text

struct Decoder<'a> {
    b: &'a [u8],
    i: usize,
    err: Option<String>,
}

impl Decoder<'_> {
    fn save(&mut self, e: String) {
        if self.err.is_none() {
            self.err = Some(e);
        }
    }

    fn ws(&mut self) {
        while self.i < self.b.len() && is_space(self.b[self.i]) {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Value {
        self.ws();
        match self.b[self.i] {
            b'{' => {
                self.i += 1;
                let mut m: BTreeMap<Str, Value> = BTreeMap::new();
                self.ws();
                if self.b[self.i] == b'}' {
                    self.i += 1;
                    return Value::map(m);
                }
                loop {
                    self.ws();
                    let k = self.string();
                    self.ws();
                    self.i += 1; // ':'
                    let v = stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.value());
                    m.insert(Str::from(k.as_str()), v);
                    self.ws();
                    let c = self.b[self.i];
                    self.i += 1;
                    if c == b'}' {
                        break;
                    }
                }
                Value::map(m)
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b[self.i] == b']' {
                    self.i += 1;
                    return Value::list(items);
                }
                loop {
                    items.push(stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.value()));
                    self.ws();
                    let c = self.b[self.i];
                    self.i += 1;
                    if c == b']' {
                        break;
                    }
                }
                Value::list(items)
            }
            b'"' => Value::string(self.string()),
            b't' => {
                self.i += 4;
                Value::Bool(true)
            }
            b'f' => {
                self.i += 5;
                Value::Bool(false)
            }
            b'n' => {
                self.i += 4;
                Value::Nil
            }
            _ => {
                let start = self.i;
                while self.i < self.b.len() && matches!(self.b[self.i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                    self.i += 1;
                }
                let s = std::str::from_utf8(&self.b[start..self.i]).unwrap_or("0");
                match s.parse::<f64>() {
                    Ok(f) if f.is_finite() => Value::float(f),
                    _ => {
                        self.save(format!("json: cannot unmarshal number {s} into Go value of type float64"));
                        Value::Nil
                    }
                }
            }
        }
    }

    /// A string literal at `self.i` (already checked), unquoted as Go does: bad surrogates
    /// become U+FFFD.
    fn string(&mut self) -> String {
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.b[self.i];
            match c {
                b'"' => {
                    self.i += 1;
                    break;
                }
                b'\\' => {
                    let e = self.b[self.i + 1];
                    self.i += 2;
                    match e {
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let r = self.hex4();
                            let ch = if (0xD800..0xDC00).contains(&r) {
                                // A high surrogate needs a following \u low surrogate.
                                if self.b.get(self.i) == Some(&b'\\') && self.b.get(self.i + 1) == Some(&b'u') {
                                    let save = self.i;
                                    self.i += 2;
                                    let r2 = self.hex4();
                                    if (0xDC00..0xE000).contains(&r2) {
                                        char::from_u32(0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00)).unwrap_or('\u{fffd}')
                                    } else {
                                        self.i = save;
                                        '\u{fffd}'
                                    }
                                } else {
                                    '\u{fffd}'
                                }
                            } else {
                                char::from_u32(r).unwrap_or('\u{fffd}')
                            };
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                _ => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
        String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    fn hex4(&mut self) -> u32 {
        let s = std::str::from_utf8(&self.b[self.i..self.i + 4]).unwrap_or("0");
        self.i += 4;
        u32::from_str_radix(s, 16).unwrap_or(0xfffd)
    }

    /// Skips one (checked) value.
    fn skip_value(&mut self) {
        let saved = self.err.take();
        let _ = self.value();
        self.err = saved;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats() {
        let f = |x: f64| format_float(x, false).unwrap();
        assert_eq!(f(1.0), "1");
        assert_eq!(f(1.5), "1.5");
        assert_eq!(f(1e21), "1e+21");
        assert_eq!(f(1e20), "100000000000000000000");
        assert_eq!(f(1e-7), "1e-7");
        assert_eq!(f(1.5e-7), "1.5e-7");
        assert_eq!(f(0.000001), "0.000001");
        assert_eq!(f(-0.0), "-0");
        assert_eq!(f(1e-10), "1e-10");
        assert_eq!(f(123456789.0), "123456789");
    }

    #[test]
    fn errors() {
        assert_eq!(from_json("").unwrap_err(), "unexpected end of JSON input");
        assert_eq!(from_json("x").unwrap_err(), "invalid character 'x' looking for beginning of value");
        assert_eq!(from_json("{\"a\" 1}").unwrap_err(), "invalid character '1' after object key");
        assert_eq!(from_json("1 2").unwrap_err(), "invalid character '2' after top-level value");
        assert_eq!(from_json("tx").unwrap_err(), "invalid character 'x' in literal true (expecting 'r')");
    }

    #[test]
    fn indent() {
        let v = from_json(r#"{"a":[1,2],"b":{},"c":[]}"#).unwrap();
        assert_eq!(to_json_indent(&v, "", "  ").unwrap(), "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {},\n  \"c\": []\n}");
    }
}
