//! TOML as Helm's `toToml`/`fromToml` see it: BurntSushi/toml v1.6.0's encoder for template
//! values and its decoder into `map[string]interface{}`.
//!
//! Encoder (encode.go): keys of a table without sub-tables first, then sub-tables, each group
//! sorted; nested tables as `[a.b]` headers indented two spaces per level; a blank line before
//! each top-level table and each `[[array.of.tables]]` entry; maps inside plain arrays as inline
//! tables; nil map values dropped; arrays holding nil refused; floats in `'g'` form with `.0`
//! added when there is neither a point nor an exponent.
//!
//! Decoder: integers are `int64`, floats `float64`, datetimes `time.Time` (offset-less ones in
//! BurntSushi's `datetime-local`, `date-local`, `time-local` zones), arrays `[]interface {}`,
//! arrays of tables `[]map[string]interface {}`. Errors read `toml: line N (last key "k"): MSG`.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::value::{FloatKind, GoType, IntKind, List, Member, Object, Str, Value};

// =============================================================================================
// time.Time values that TOML datetimes decode to

/// Which `*time.Location` a decoded datetime carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// `time.UTC` (also the oracle's `time.Local`): `Z`, or an offset equal to the local one.
    Utc,
    /// `time.FixedZone("", offset)`.
    Fixed,
    LocalDatetime,
    LocalDate,
    LocalTime,
}

/// A Go `time.Time` as BurntSushi's decoder makes it.
#[derive(Clone, Debug, PartialEq)]
pub struct TomlTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
    /// Seconds east of UTC.
    pub offset: i32,
    pub zone: Zone,
}

fn frac9(nanos: u32) -> String {
    if nanos == 0 {
        return String::new();
    }
    let s = format!("{nanos:09}");
    format!(".{}", s.trim_end_matches('0'))
}

fn offset_str(off: i32, colon: bool) -> String {
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.unsigned_abs();
    if colon {
        format!("{sign}{:02}:{:02}", a / 3600, (a / 60) % 60)
    } else {
        format!("{sign}{:02}{:02}", a / 3600, (a / 60) % 60)
    }
}

impl TomlTime {
    fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    fn clock(&self) -> String {
        format!("{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }

    /// `t.Format(time.RFC3339Nano)`.
    pub fn rfc3339_nano(&self) -> String {
        let off = if self.offset == 0 { "Z".to_string() } else { offset_str(self.offset, true) };
        format!("{}T{}{}{}", self.date(), self.clock(), frac9(self.nanos), off)
    }

    /// How BurntSushi's encoder writes it.
    fn toml_text(&self) -> String {
        match self.zone {
            Zone::LocalDatetime => format!("{}T{}{}", self.date(), self.clock(), frac9(self.nanos)),
            Zone::LocalDate => self.date(),
            Zone::LocalTime => format!("{}{}", self.clock(), frac9(self.nanos)),
            _ => self.rfc3339_nano(),
        }
    }

    fn zone_name(&self) -> String {
        match self.zone {
            Zone::Utc => "UTC".into(),
            Zone::Fixed => offset_str(self.offset, false),
            Zone::LocalDatetime => "datetime-local".into(),
            Zone::LocalDate => "date-local".into(),
            Zone::LocalTime => "time-local".into(),
        }
    }
}

impl Object for TomlTime {
    fn go_type(&self) -> GoType {
        GoType::Named(Str::from("time.Time"))
    }

    fn member(&self, name: &str) -> Option<Member> {
        let v = match name {
            "Year" => Value::int(self.year as i64),
            "Day" => Value::int(self.day as i64),
            "Hour" => Value::int(self.hour as i64),
            "Minute" => Value::int(self.minute as i64),
            "Second" => Value::int(self.second as i64),
            "Nanosecond" => Value::int(self.nanos as i64),
            "String" => Value::string(self.format_v()),
            _ => return None,
        };
        Some(Member::Field(v))
    }

    /// Go's `Time.String()`: `2006-01-02 15:04:05.999999999 -0700 MST`.
    fn format_v(&self) -> String {
        format!(
            "{} {}{} {} {}",
            self.date(),
            self.clock(),
            frac9(self.nanos),
            offset_str(self.offset, false),
            self.zone_name()
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn json_form(&self) -> Option<crate::json::JsonForm> {
        let mut s = String::new();
        crate::json::write_string(&mut s, &self.rfc3339_nano(), false);
        Some(crate::json::JsonForm::Raw(s))
    }
}

// =============================================================================================
// Encoder

const ERR_ARRAY_NIL: &str = "toml: cannot encode array with nil element";
const ERR_NO_KEY: &str = "toml: top-level values must be Go maps or structs";

/// BurntSushi's `tomlTypeOfGo`, as far as the encoder needs it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TType {
    Nil,
    Plain,
    Hash,
    ArrayHash,
}

fn is_marshaler(o: &Arc<dyn Object>) -> bool {
    o.as_any().is::<TomlTime>() || o.go_type().to_string() == "*semver.Version"
}

fn ttype(v: &Value) -> Result<TType, String> {
    Ok(match v {
        Value::Missing | Value::Nil => TType::Nil,
        Value::Map(_) => TType::Hash,
        Value::Object(o) => {
            if o.is_nil() {
                TType::Nil
            } else if is_marshaler(o) {
                TType::Plain
            } else {
                TType::Hash
            }
        }
        Value::List(l) => {
            if l.items.is_empty() {
                TType::Plain
            } else {
                let mut all_hash = true;
                for item in &l.items {
                    let t = ttype(item)?;
                    if t == TType::Nil {
                        return Err(ERR_ARRAY_NIL.into());
                    }
                    if t != TType::Hash {
                        all_hash = false;
                    }
                }
                if all_hash {
                    TType::ArrayHash
                } else {
                    TType::Plain
                }
            }
        }
        _ => TType::Plain,
    })
}

fn is_table(t: TType) -> bool {
    matches!(t, TType::Hash | TType::ArrayHash)
}

fn bare_key(k: &str) -> bool {
    !k.is_empty() && k.chars().all(|r| r.is_ascii_alphanumeric() || r == '_' || r == '-')
}

fn quote_toml(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn key_part(k: &str) -> String {
    if k.is_empty() {
        "\"\"".into()
    } else if bare_key(k) {
        k.to_string()
    } else {
        quote_toml(k)
    }
}

fn key_string(key: &[Str]) -> String {
    key.iter().map(|k| key_part(k)).collect::<Vec<_>>().join(".")
}

struct Enc {
    out: String,
    written: bool,
}

/// A struct object's fields, as `Object::json_form` declares them.
fn object_fields(o: &Arc<dyn Object>) -> Vec<(Str, Value)> {
    match o.json_form() {
        Some(crate::json::JsonForm::Fields(f)) => f,
        _ => Vec::new(),
    }
}

impl Enc {
    fn write(&mut self, s: &str) {
        self.out.push_str(s);
        self.written = true;
    }

    fn newline(&mut self) {
        if self.written {
            self.write("\n");
        }
    }

    fn indent(&self, key: &[Str]) -> String {
        "  ".repeat(key.len().saturating_sub(1))
    }

    fn encode(&mut self, key: &[Str], v: &Value) -> Result<(), String> {
        match v {
            Value::Missing | Value::Nil => Ok(()),
            Value::Map(_) => self.table(key, v),
            Value::Object(o) => {
                if o.is_nil() {
                    Ok(())
                } else if is_marshaler(o) {
                    self.key_value(key, v, false)
                } else {
                    self.table(key, v)
                }
            }
            Value::List(l) => {
                if ttype(v)? == TType::ArrayHash {
                    if key.is_empty() {
                        return Err(ERR_NO_KEY.into());
                    }
                    for item in &l.items {
                        if ttype(item)? == TType::Nil {
                            continue;
                        }
                        self.newline();
                        let line = format!("{}[[{}]]", self.indent(key), key_string(key));
                        self.write(&line);
                        self.newline();
                        self.map_or_struct(key, item, false)?;
                    }
                    Ok(())
                } else {
                    self.key_value(key, v, false)
                }
            }
            _ => self.key_value(key, v, false),
        }
    }

    fn table(&mut self, key: &[Str], v: &Value) -> Result<(), String> {
        if key.len() == 1 {
            self.newline();
        }
        if !key.is_empty() {
            let line = format!("{}[{}]", self.indent(key), key_string(key));
            self.write(&line);
            self.newline();
        }
        self.map_or_struct(key, v, false)
    }

    fn map_or_struct(&mut self, key: &[Str], v: &Value, inline: bool) -> Result<(), String> {
        let entries: Vec<(Str, Value)> = match v {
            Value::Map(m) => m.read().iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Value::Object(o) => object_fields(o),
            _ => Vec::new(),
        };
        let is_map = matches!(v, Value::Map(_));
        let mut direct = Vec::new();
        let mut sub = Vec::new();
        for (k, item) in entries {
            if is_table(ttype(&item)?) {
                sub.push((k, item));
            } else {
                direct.push((k, item));
            }
        }
        if is_map {
            // Go sorts map keys; struct fields keep their order.
            direct.sort_by(|a, b| a.0.cmp(&b.0));
            sub.sort_by(|a, b| a.0.cmp(&b.0));
        }
        if inline {
            self.write("{");
        }
        let total = direct.len() + sub.len();
        let trail = !sub.is_empty();
        let mut written_fields = 0usize;
        for (group, trail_c) in [(direct, trail), (sub, false)] {
            let n = group.len();
            for (i, (k, item)) in group.into_iter().enumerate() {
                written_fields += 1;
                if matches!(item, Value::Nil | Value::Missing) {
                    continue;
                }
                if inline {
                    self.key_value(std::slice::from_ref(&k), &item, true)?;
                    let more = if is_map { trail_c || i != n - 1 } else { written_fields != total };
                    if more {
                        self.write(", ");
                    }
                } else {
                    let mut kk = key.to_vec();
                    kk.push(k);
                    self.encode(&kk, &item)?;
                }
            }
        }
        if inline {
            self.write("}");
        }
        Ok(())
    }

    fn key_value(&mut self, key: &[Str], v: &Value, inline: bool) -> Result<(), String> {
        if key.is_empty() {
            return self.element(v);
        }
        let head = format!("{}{} = ", self.indent(key), key_part(&key[key.len() - 1]));
        self.write(&head);
        self.element(v)?;
        if !inline {
            self.newline();
        }
        Ok(())
    }

    fn element(&mut self, v: &Value) -> Result<(), String> {
        match v {
            Value::String(s) => {
                let q = quote_toml(s);
                self.write(&q);
            }
            Value::Bool(b) => self.write(if *b { "true" } else { "false" }),
            Value::Int(i, _) => self.write(&i.to_string()),
            Value::Uint(u, _) => self.write(&u.to_string()),
            Value::Float(f, k) => {
                let s = toml_float(*f, *k == FloatKind::Float32);
                self.write(&s);
            }
            Value::Bytes(b) => {
                self.write("[");
                for (i, x) in b.iter().enumerate() {
                    if i > 0 {
                        self.write(", ");
                    }
                    self.write(&x.to_string());
                }
                self.write("]");
            }
            Value::List(l) => {
                self.write("[");
                let n = l.items.len();
                for (i, item) in l.items.iter().enumerate() {
                    self.element(item)?;
                    if i != n - 1 {
                        self.write(", ");
                    }
                }
                self.write("]");
            }
            Value::Map(_) => self.map_or_struct(&[], v, true)?,
            Value::Object(o) => {
                if let Some(t) = o.as_any().downcast_ref::<TomlTime>() {
                    let s = t.toml_text();
                    self.write(&s);
                } else if is_marshaler(o) {
                    let q = quote_toml(&o.format_v());
                    self.write(&q);
                } else {
                    self.map_or_struct(&[], v, true)?;
                }
            }
            Value::Missing | Value::Nil => {
                return Err("reflect: call of reflect.Value.Interface on zero Value".into());
            }
        }
        Ok(())
    }
}

fn toml_float(f: f64, bits32: bool) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan".into() } else { "nan".into() };
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf".into() } else { "inf".into() };
    }
    let s = crate::print::float::format_v(f, bits32);
    if s.contains(['e', '.']) {
        s
    } else {
        s + ".0"
    }
}

/// BurntSushi `toml.NewEncoder(w).Encode(v)`. (A nil `v` makes Go panic with a reflect error
/// before encoding: callers check for it; see `funcs::helm`.)
pub fn to_toml(v: &Value) -> Result<String, String> {
    let mut e = Enc { out: String::new(), written: false };
    e.encode(&[], v)?;
    Ok(e.out)
}

// =============================================================================================
// Decoder

/// BurntSushi `toml.Unmarshal` into `map[string]interface{}`.
pub fn from_toml(text: &str) -> Result<Value, String> {
    if text.contains('\0') {
        return Err("toml: line 1: files cannot contain NULL bytes; probably using UTF-16; TOML files must be UTF-8".into());
    }
    let mut p = Parser { s: text.as_bytes(), i: 0, line: 1, context: Vec::new(), current_key: String::new() };
    let mut root = Tbl::new(TKind::Explicit);
    p.document(&mut root)?;
    Ok(root.into_value())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TKind {
    /// Created as the parent of a `[a.b]` header; may be defined later once.
    Implicit,
    /// Defined by a `[header]`.
    Explicit,
    /// Created by a dotted key `a.b = 1`.
    Dotted,
    /// An inline table `{...}`: closed.
    Inline,
}

#[derive(Debug)]
enum TV {
    Val(Value),
    Arr(Vec<TV>),
    Tbl(Tbl),
    /// An array of tables (`[[a]]`).
    Aot(Vec<Tbl>),
}

#[derive(Debug)]
struct Tbl {
    kind: TKind,
    entries: BTreeMap<String, TV>,
}

impl Tbl {
    fn new(kind: TKind) -> Tbl {
        Tbl { kind, entries: BTreeMap::new() }
    }

    fn into_value(self) -> Value {
        Value::map(self.entries.into_iter().map(|(k, v)| (Str::from(k.as_str()), v.into_value())).collect())
    }
}

impl TV {
    fn into_value(self) -> Value {
        match self {
            TV::Val(v) => v,
            TV::Arr(items) => Value::list(items.into_iter().map(TV::into_value).collect()),
            TV::Tbl(t) => t.into_value(),
            TV::Aot(ts) => Value::List(Arc::new(List {
                elem: GoType::any_map(),
                items: ts.into_iter().map(Tbl::into_value).collect(),
            })),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    line: usize,
    /// The current `[table]` path (plus dotted-key parents while a key/value is read).
    context: Vec<String>,
    current_key: String,
}

type PResult<T> = Result<T, String>;

/// Go's `%q` of a rune (the lexer's EOF rune is 0).
fn rune_q(c: Option<char>) -> String {
    crate::print::quote_rune(c.unwrap_or('\0'))
}

/// BurntSushi's `runeOrEOF`.
fn rune_or_eof(c: Option<char>) -> String {
    match c {
        Some(c) => crate::print::quote_rune(c),
        None => "end of file".into(),
    }
}

fn ctrl_err(c: char) -> String {
    format!("TOML files cannot contain control characters: '0x{:02x}'", c as u32)
}

impl Parser<'_> {
    fn last_key(&self) -> String {
        let ctx = self.context.iter().map(|k| key_part(k)).collect::<Vec<_>>().join(".");
        if self.current_key.is_empty() {
            return ctx;
        }
        if ctx.is_empty() {
            return self.current_key.clone();
        }
        format!("{ctx}.{}", self.current_key)
    }

    fn err(&self, msg: impl Into<String>) -> String {
        let msg = msg.into();
        let lk = self.last_key();
        if lk.is_empty() {
            format!("toml: line {}: {msg}", self.line)
        } else {
            format!("toml: line {} (last key {}): {msg}", self.line, crate::print::quote(&lk))
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn peek_char(&self) -> Option<char> {
        std::str::from_utf8(&self.s[self.i..]).ok().and_then(|r| r.chars().next()).or_else(|| {
            let end = (self.i + 4).min(self.s.len());
            String::from_utf8_lossy(&self.s[self.i..end]).chars().next()
        })
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        if c == b'\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn skip_comment(&mut self) -> PResult<()> {
        if self.peek() == Some(b'#') {
            while let Some(c) = self.peek() {
                if c == b'\n' {
                    break;
                }
                if (c < 0x20 && c != b'\t' && c != b'\r') || c == 0x7f {
                    return Err(self.err(ctrl_err(c as char)));
                }
                self.i += 1;
            }
        }
        Ok(())
    }

    /// Whitespace, newlines and comments (inside arrays).
    fn skip_ws_nl(&mut self) -> PResult<()> {
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'\n') => {
                    self.bump();
                }
                Some(b'\r') if self.s.get(self.i + 1) == Some(&b'\n') => {
                    self.i += 1;
                }
                Some(b'#') => self.skip_comment()?,
                _ => return Ok(()),
            }
        }
    }

    /// After a top-level item: spaces, a comment, then a newline or EOF.
    fn end_of_line(&mut self) -> PResult<()> {
        self.skip_ws();
        self.skip_comment()?;
        match self.peek() {
            None => Ok(()),
            Some(b'\n') => {
                self.bump();
                Ok(())
            }
            Some(b'\r') if self.s.get(self.i + 1) == Some(&b'\n') => {
                self.i += 1;
                self.bump();
                Ok(())
            }
            _ => Err(self.err(format!(
                "expected a top-level item to end with a newline, comment, or EOF, but got {} instead",
                rune_q(self.peek_char())
            ))),
        }
    }

    fn document(&mut self, root: &mut Tbl) -> PResult<()> {
        // The table key/values currently go into (a path from the root).
        let mut cur: Vec<String> = Vec::new();
        loop {
            self.skip_ws_nl()?;
            match self.peek() {
                None => return Ok(()),
                Some(b'[') => {
                    self.i += 1;
                    let aot = self.peek() == Some(b'[');
                    if aot {
                        self.i += 1;
                    }
                    self.skip_ws();
                    let key = self.key_path(if aot { "]]" } else { "]" })?;
                    if aot {
                        if !(self.peek() == Some(b']') && self.s.get(self.i + 1) == Some(&b']')) {
                            return Err(self.err(format!(
                                "expected end of table array name delimiter ']', but got {} instead",
                                rune_q(self.s.get(self.i + 1).map(|b| *b as char))
                            )));
                        }
                        self.i += 2;
                    } else {
                        self.i += 1;
                    }
                    self.context = key.clone();
                    self.current_key.clear();
                    self.define_table(root, &key, aot)?;
                    self.context = key.clone();
                    cur = key;
                    self.end_of_line()?;
                }
                Some(_) => {
                    let outer = self.context.clone();
                    self.key_value_into(root, &cur)?;
                    self.context = outer;
                    self.current_key.clear();
                    self.end_of_line()?;
                }
            }
        }
    }

    /// Reads `a.b."c"` up to `=` (key/value) or `]` (header). Leaves the terminator unread.
    fn key_path(&mut self, end: &str) -> PResult<Vec<String>> {
        let mut parts = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => {
                    return Err(self.err(if end == "=" { "unexpected EOF; expected key separator '='".to_string() } else { "unexpected EOF".to_string() }));
                }
                Some(b']') if end != "=" && parts.is_empty() => {
                    return Err(self.err("unexpected end of table name (table names cannot be empty)"));
                }
                Some(b'.') if parts.is_empty() => {
                    return Err(self.err(if end == "=" {
                        "unexpected '.': keys cannot start with a '.'"
                    } else {
                        "unexpected table separator (table names cannot be empty)"
                    }));
                }
                Some(b'=') if parts.is_empty() && end == "=" => {
                    return Err(self.err("unexpected '=': key name appears blank"));
                }
                _ => {}
            }
            parts.push(self.simple_key(end)?);
            self.skip_ws();
            match self.peek() {
                Some(b'.') => {
                    self.i += 1;
                }
                Some(b'=') if end == "=" => return Ok(parts),
                Some(b']') if end != "=" => return Ok(parts),
                None if end == "=" => return Err(self.err("unexpected EOF; expected key separator '='")),
                c => {
                    let got = rune_q(c.map(|_| self.peek_char().unwrap_or('?')));
                    return Err(self.err(if end == "=" {
                        format!("expected '.' or '=', but got {got} instead")
                    } else {
                        format!("expected '.' or ']' to end table name, but got {got} instead")
                    }));
                }
            }
        }
    }

    fn simple_key(&mut self, end: &str) -> PResult<String> {
        match self.peek() {
            Some(b'"') => self.basic_string(),
            Some(b'\'') => self.literal_string(),
            _ => {
                let start = self.i;
                while let Some(c) = self.peek() {
                    if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                if start == self.i {
                    let c = self.peek_char();
                    if end == "=" {
                        if c == Some('=') {
                            return Err(self.err("unexpected '='"));
                        }
                        if c == Some('.') {
                            return Err(self.err("unexpected '.'"));
                        }
                        return Err(self.err(format!("bare keys cannot contain {}", rune_q(c))));
                    }
                    return Err(self.err(format!("bare keys cannot contain {}", rune_q(c))));
                }
                Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
            }
        }
    }

    fn key_desc(path: &[String]) -> String {
        path.iter().map(|k| key_part(k)).collect::<Vec<_>>().join(".")
    }

    /// `[a.b]` / `[[a.b]]`.
    fn define_table(&mut self, root: &mut Tbl, key: &[String], aot: bool) -> PResult<()> {
        let mut t = root;
        for (idx, part) in key[..key.len() - 1].iter().enumerate() {
            let entry = t.entries.entry(part.clone()).or_insert_with(|| TV::Tbl(Tbl::new(TKind::Implicit)));
            t = match entry {
                TV::Tbl(sub) => {
sub
                }
                TV::Aot(list) => list.last_mut().expect("array of tables is never empty"),
                _ => return Err(self.err(format!("Key '{}' was already created as a hash.", Self::key_desc(&key[..=idx])))),
            };
        }
        // Go checks the last part with the context set to the parents.
        self.context = key[..key.len() - 1].to_vec();
        let last = key[key.len() - 1].clone();
        let desc = Self::key_desc(key);
        if aot {
            match t.entries.get_mut(&last) {
                None => {
                    t.entries.insert(last, TV::Aot(vec![Tbl::new(TKind::Explicit)]));
                }
                Some(TV::Aot(list)) => list.push(Tbl::new(TKind::Explicit)),
                Some(_) => return Err(self.err(format!("Key '{desc}' was already created and cannot be used as an array."))),
            }
        } else {
            match t.entries.get_mut(&last) {
                None => {
                    t.entries.insert(last, TV::Tbl(Tbl::new(TKind::Explicit)));
                }
                Some(TV::Tbl(sub)) if matches!(sub.kind, TKind::Implicit | TKind::Dotted) => sub.kind = TKind::Explicit,
                Some(_) => return Err(self.err(format!("Key '{desc}' has already been defined."))),
            }
        }
        Ok(())
    }

    /// The table at `path` (as set up by headers).
    fn table_at<'t>(root: &'t mut Tbl, path: &[String]) -> &'t mut Tbl {
        let mut t = root;
        for part in path {
            t = match t.entries.get_mut(part) {
                Some(TV::Tbl(sub)) => sub,
                Some(TV::Aot(list)) => list.last_mut().expect("array of tables is never empty"),
                _ => unreachable!("header tables exist"),
            };
        }
        t
    }

    fn key_value_into(&mut self, root: &mut Tbl, cur: &[String]) -> PResult<()> {
        let t = Self::table_at(root, cur);
        self.key_value(t)
    }

    /// `a.b = value` into table `t`.
    fn key_value(&mut self, t: &mut Tbl) -> PResult<()> {
        let key = self.key_path("=")?;
        self.i += 1; // '='
        self.current_key = key[key.len() - 1].clone();
        let mut t = t;
        for part in &key[..key.len() - 1] {
            self.context.push(part.clone());
            let entry = t.entries.entry(part.clone()).or_insert_with(|| TV::Tbl(Tbl::new(TKind::Dotted)));
            t = match entry {
                TV::Tbl(sub) => {
                    // BurntSushi marks every dotted parent implicit again.
                    sub.kind = TKind::Dotted;
                    sub
                }
                TV::Aot(list) => list.last_mut().expect("array of tables is never empty"),
                _ => {
                    let ctx = Self::key_desc(&self.context);
                    return Err(self.err(format!("Key '{ctx}' has already been defined.")));
                }
            };
        }
        self.skip_ws();
        let v = self.value()?;
        let last = key[key.len() - 1].clone();
        if t.entries.contains_key(&last) {
            let mut full = self.context.clone();
            full.push(last);
            return Err(self.err(format!("Key '{}' has already been defined.", Self::key_desc(&full))));
        }
        t.entries.insert(last, v);
        Ok(())
    }

    fn value(&mut self) -> PResult<TV> {
        let Some(c) = self.peek() else {
            return Err(self.err("unexpected EOF; expected value"));
        };
        match c {
            b'"' => {
                if self.s[self.i..].starts_with(b"\"\"\"") {
                    return Ok(TV::Val(Value::string(self.ml_basic_string()?)));
                }
                Ok(TV::Val(Value::string(self.basic_string()?)))
            }
            b'\'' => {
                if self.s[self.i..].starts_with(b"'''") {
                    return Ok(TV::Val(Value::string(self.ml_literal_string()?)));
                }
                Ok(TV::Val(Value::string(self.literal_string()?)))
            }
            b'[' => self.array(),
            b'{' => self.inline_table(),
            _ => {
                // A bare token: bool, number, datetime, inf/nan.
                let start = self.i;
                while let Some(c) = self.peek() {
                    if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'_' | b'.' | b':') {
                        self.i += 1;
                    } else if c == b' ' && self.is_datetime_space(start) {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                if start == self.i {
                    if c == b'\n' || c == b'\r' {
                        return Err(self.err(format!("expected value but found {} instead", rune_q(Some('\n')))));
                    }
                    if let Some(ch) = self.peek_char() {
                        if ((ch as u32) < 0x20 && ch != '\t') || ch == '\u{7f}' {
                            return Err(self.err(ctrl_err(ch)));
                        }
                    }
                    return Err(self.err(format!("expected value but found {} instead", rune_q(self.peek_char()))));
                }
                let tok = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                self.scalar(&tok)
            }
        }
    }

    /// A space between a date and a time (`1979-05-27 07:32:00`).
    fn is_datetime_space(&self, start: usize) -> bool {
        let tok = &self.s[start..self.i];
        tok.len() == 10
            && tok[4] == b'-'
            && tok[7] == b'-'
            && self.s.get(self.i + 1).is_some_and(|c| c.is_ascii_digit())
            && self.s.get(self.i + 3) == Some(&b':')
    }

    fn scalar(&self, tok: &str) -> PResult<TV> {
        match tok {
            "true" => return Ok(TV::Val(Value::Bool(true))),
            "false" => return Ok(TV::Val(Value::Bool(false))),
            "inf" | "+inf" => return Ok(TV::Val(Value::float(f64::INFINITY))),
            "-inf" => return Ok(TV::Val(Value::float(f64::NEG_INFINITY))),
            "nan" | "+nan" => return Ok(TV::Val(Value::float(f64::NAN))),
            "-nan" => return Ok(TV::Val(Value::float(-f64::NAN))),
            _ => {}
        }
        let b = tok.as_bytes();
        let looks_dt = (b.len() >= 10 && b[4] == b'-' && b[..4].iter().all(u8::is_ascii_digit))
            || (b.len() >= 5 && b[2] == b':' && b[..2].iter().all(u8::is_ascii_digit));
        if looks_dt {
            return self.datetime(tok);
        }
        let first = b[0];
        if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
            if first == b'.' {
                return Err(self.err("floats must start with a digit, not '.'"));
            }
            return Err(self.err(format!("expected value but found {} instead", crate::print::quote(tok))));
        }
        let body = tok.trim_start_matches(['+', '-']);
        if let Some(rest) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0o")).or_else(|| body.strip_prefix("0b")) {
            let radix = match &body[..2] {
                "0x" => 16,
                "0o" => 8,
                _ => 2,
            };
            if body.len() != tok.len() {
                return Err(self.err(format!("cannot use sign with non-decimal numbers: '{}'", &tok[..3])));
            }
            if rest.starts_with('_') {
                let what = match radix {
                    16 => "hexadecimal",
                    8 => "octal",
                    _ => "binary",
                };
                return Err(self.err(format!("not a {what} number: '{}_'", &body[..2])));
            }
            if !underscores_ok(rest) {
                return Err(self.err(format!("Invalid integer {}: underscores must be surrounded by digits", crate::print::quote(tok))));
            }
            return match i64::from_str_radix(&rest.replace('_', ""), radix) {
                Ok(i) => Ok(TV::Val(Value::Int(i, IntKind::Int64))),
                Err(_) => Err(self.err(format!("Invalid integer {}", crate::print::quote(tok)))),
            };
        }
        let is_float = body.contains(['.', 'e', 'E']);
        if !body.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'_' | b'.' | b'e' | b'E' | b'+' | b'-')) {
            return Err(self.err(format!("expected value but found {} instead", crate::print::quote(tok))));
        }
        if !is_float {
            if !underscores_ok(body) {
                return Err(self.err(format!("Invalid integer {}: underscores must be surrounded by digits", crate::print::quote(tok))));
            }
            if body.len() > 1 && body.starts_with('0') {
                return Err(self.err(format!("Invalid integer {}: cannot have leading zeroes", crate::print::quote(tok))));
            }
            return match tok.replace('_', "").parse::<i64>() {
                Ok(i) => Ok(TV::Val(Value::Int(i, IntKind::Int64))),
                Err(_) => Err(self.err(format!("{tok} is out of range for int64"))),
            };
        }
        if !underscores_ok(body) {
            return Err(self.err(format!("Invalid float {}: underscores must be surrounded by digits", crate::print::quote(tok))));
        }
        let int_part: String = body.chars().take_while(|c| c.is_ascii_digit() || *c == '_').collect();
        if int_part.len() > 1 && int_part.starts_with('0') {
            return Err(self.err(format!("Invalid float {}: cannot have leading zeroes", crate::print::quote(tok))));
        }
        if let Some(pos) = body.find('.') {
            if !body[pos + 1..].starts_with(|c: char| c.is_ascii_digit()) {
                return Err(self.err(format!("Invalid float {}: '.' must be followed by one or more digits", crate::print::quote(tok))));
            }
        }
        match tok.replace('_', "").parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(TV::Val(Value::float(f))),
            Ok(_) => Err(self.err(format!("{tok} is out of range for float64"))),
            Err(_) => Err(self.err(format!("Invalid float value: {}", crate::print::quote(tok)))),
        }
    }

    fn datetime(&self, tok: &str) -> PResult<TV> {
        let t = tok.replace(['t', ' '], "T").replace('z', "Z");
        let bad = || self.err(format!("invalid datetime: {}", crate::print::quote(tok)));
        let num = |s: &str| -> Option<u32> {
            if s.bytes().all(|c| c.is_ascii_digit()) && !s.is_empty() {
                s.parse().ok()
            } else {
                None
            }
        };
        let parse_clock = |s: &str| -> Option<(u32, u32, u32, u32, usize)> {
            // hh:mm[:ss[.frac]]; returns the length consumed.
            let b = s.as_bytes();
            if b.len() < 5 || b[2] != b':' {
                return None;
            }
            let h = num(&s[0..2])?;
            let m = num(&s[3..5])?;
            let mut n = 5;
            let mut sec = 0;
            let mut nanos = 0;
            if b.len() >= 8 && b[5] == b':' {
                sec = num(&s[6..8])?;
                n = 8;
                if b.len() > 8 && b[8] == b'.' {
                    let digits: String = s[9..].chars().take_while(|c| c.is_ascii_digit()).collect();
                    if digits.is_empty() {
                        return None;
                    }
                    let mut d = digits.clone();
                    d.truncate(9);
                    while d.len() < 9 {
                        d.push('0');
                    }
                    nanos = d.parse().ok()?;
                    n = 9 + digits.len();
                }
            }
            if h > 23 || m > 59 || sec > 60 {
                return None;
            }
            Some((h, m, sec, nanos, n))
        };
        let mut tt = TomlTime { year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0, nanos: 0, offset: 0, zone: Zone::LocalTime };
        if t.as_bytes().get(2) == Some(&b':') {
            let (h, m, s, ns, n) = parse_clock(&t).ok_or_else(bad)?;
            if n != t.len() {
                return Err(bad());
            }
            tt.hour = h;
            tt.minute = m;
            tt.second = s;
            tt.nanos = ns;
            return Ok(TV::Val(Value::Object(Arc::new(tt))));
        }
        if t.len() < 10 || t.as_bytes()[7] != b'-' {
            return Err(bad());
        }
        let y = num(&t[0..4]).ok_or_else(bad)?;
        let mo = num(&t[5..7]).ok_or_else(bad)?;
        let d = num(&t[8..10]).ok_or_else(bad)?;
        if !(1..=12).contains(&mo) || d < 1 || d > days_in(y as i32, mo) {
            return Err(bad());
        }
        tt.year = y as i32;
        tt.month = mo;
        tt.day = d;
        if t.len() == 10 {
            tt.zone = Zone::LocalDate;
            return Ok(TV::Val(Value::Object(Arc::new(tt))));
        }
        if t.as_bytes()[10] != b'T' {
            return Err(bad());
        }
        let rest = &t[11..];
        let (h, m, s, ns, n) = parse_clock(rest).ok_or_else(bad)?;
        tt.hour = h;
        tt.minute = m;
        tt.second = s;
        tt.nanos = ns;
        let zone = &rest[n..];
        if zone.is_empty() {
            tt.zone = Zone::LocalDatetime;
        } else if zone == "Z" {
            tt.zone = Zone::Utc;
        } else {
            let zb = zone.as_bytes();
            if zb.len() != 6 || !matches!(zb[0], b'+' | b'-') || zb[3] != b':' {
                return Err(bad());
            }
            let oh = num(&zone[1..3]).ok_or_else(bad)? as i32;
            let om = num(&zone[4..6]).ok_or_else(bad)? as i32;
            let off = (oh * 3600 + om * 60) * if zb[0] == b'-' { -1 } else { 1 };
            tt.offset = off;
            tt.zone = if off == 0 { Zone::Utc } else { Zone::Fixed };
        }
        Ok(TV::Val(Value::Object(Arc::new(tt))))
    }

    fn array(&mut self) -> PResult<TV> {
        self.i += 1; // '['
        let mut items = Vec::new();
        loop {
            self.skip_ws_nl()?;
            match self.peek() {
                Some(b']') => {
                    self.i += 1;
                    return Ok(TV::Arr(items));
                }
                Some(b',') => return Err(self.err("unexpected comma")),
                None => return Err(self.err("unexpected EOF; expected value")),
                _ => {}
            }
            items.push(self.value()?);
            self.skip_ws_nl()?;
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                }
                Some(b']') => {
                    self.i += 1;
                    return Ok(TV::Arr(items));
                }
                c => {
                    let got = rune_or_eof(c.and(self.peek_char()));
                    return Err(self.err(format!("expected a comma (',') or array terminator (']'), but got {got}")));
                }
            }
        }
    }

    fn inline_table(&mut self) -> PResult<TV> {
        self.i += 1; // '{'
        let mut t = Tbl::new(TKind::Dotted);
        let outer_ctx = self.context.clone();
        let outer_key = std::mem::take(&mut self.current_key);
        if !outer_key.is_empty() {
            self.context.push(outer_key.clone());
        }
        let mut first = true;
        loop {
            self.skip_ws_nl()?;
            match self.peek() {
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                Some(b',') if first => return Err(self.err("unexpected comma")),
                None => return Err(self.err("unexpected EOF; expected value")),
                _ => {}
            }
            let ctx = self.context.clone();
            self.key_value(&mut t)?;
            self.context = ctx;
            first = false;
            self.skip_ws_nl()?;
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                }
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                c => {
                    let got = rune_or_eof(c.and(self.peek_char()));
                    return Err(self.err(format!("expected a comma or an inline table terminator '}}', but got {got} instead")));
                }
            }
        }
        self.context = outer_ctx;
        self.current_key = outer_key;
        seal(&mut t);
        // An inline table's own key ends up defined, its dotted parents implicit.
        t.kind = TKind::Inline;
        Ok(TV::Tbl(t))
    }

    fn basic_string(&mut self) -> PResult<String> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unexpected EOF; expected '\"'"));
            };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(out);
                }
                b'\n' => return Err(self.err("strings cannot contain newlines")),
                b'\\' => {
                    self.i += 1;
                    self.escape(&mut out)?;
                }
                _ => self.push_char(&mut out)?,
            }
        }
    }

    fn push_char(&mut self, out: &mut String) -> PResult<()> {
        let ch = self.peek_char().unwrap_or('\u{fffd}');
        if ((ch as u32) < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') || ch == '\u{7f}' {
            return Err(self.err(ctrl_err(ch)));
        }
        if ch == '\n' {
            self.line += 1;
        }
        out.push(ch);
        self.i += ch.len_utf8();
        Ok(())
    }

    fn escape(&mut self, out: &mut String) -> PResult<()> {
        let Some(e) = self.peek() else {
            return Err(self.err("unexpected EOF; expected '\"'"));
        };
        self.i += 1;
        match e {
            b'b' => out.push('\u{8}'),
            b't' => out.push('\t'),
            b'n' => out.push('\n'),
            b'f' => out.push('\u{c}'),
            b'r' => out.push('\r'),
            b'e' => out.push('\u{1b}'),
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'x' | b'u' | b'U' => {
                let n = match e {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let hex = &self.s[self.i..(self.i + n).min(self.s.len())];
                if hex.len() != n || !hex.iter().all(u8::is_ascii_hexdigit) {
                    let what = match e {
                        b'x' => "two hexadecimal digits after '\\x'",
                        b'u' => "four hexadecimal digits after '\\u'",
                        _ => "eight hexadecimal digits after '\\U'",
                    };
                    let cur = format!("\\{}{}", e as char, String::from_utf8_lossy(hex).chars().take_while(|c| c.is_ascii_hexdigit()).collect::<String>());
                    return Err(self.err(format!("expected {what}, but got {} instead", crate::print::quote(&cur))));
                }
                let code = u32::from_str_radix(std::str::from_utf8(hex).unwrap_or("0"), 16).unwrap_or(0);
                self.i += n;
                match char::from_u32(code) {
                    Some(ch) => out.push(ch),
                    None => {
                        return Err(self.err(format!(
                            "Escaped character '\\u{}' is not valid UTF-8.",
                            std::str::from_utf8(hex).unwrap_or("")
                        )))
                    }
                }
            }
            other => {
                return Err(self.err(format!("invalid escape in string '\\{}'", other as char)));
            }
        }
        Ok(())
    }

    fn ml_basic_string(&mut self) -> PResult<String> {
        self.i += 3;
        self.trim_first_newline();
        let mut out = String::new();
        loop {
            if self.s[self.i..].starts_with(b"\"\"\"") {
                // Up to two quotes may end the content.
                let mut extra = 0;
                while self.s.get(self.i + 3 + extra) == Some(&b'"') && extra < 2 {
                    extra += 1;
                }
                for _ in 0..extra {
                    out.push('"');
                }
                self.i += 3 + extra;
                return Ok(out);
            }
            let Some(c) = self.peek() else {
                return Err(self.err("unexpected EOF; expected '\"\"\"'"));
            };
            match c {
                b'\\' => {
                    // Line-ending backslash: trim whitespace and newlines.
                    let mut j = self.i + 1;
                    while matches!(self.s.get(j), Some(b' ' | b'\t')) {
                        j += 1;
                    }
                    if matches!(self.s.get(j), Some(b'\n')) || (self.s.get(j) == Some(&b'\r') && self.s.get(j + 1) == Some(&b'\n')) {
                        self.i = j;
                        while let Some(c) = self.peek() {
                            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                                self.bump();
                            } else {
                                break;
                            }
                        }
                        continue;
                    }
                    self.i += 1;
                    self.escape(&mut out)?;
                }
                b'\r' if self.s.get(self.i + 1) == Some(&b'\n') => {
                    self.i += 1;
                }
                _ => self.push_char(&mut out)?,
            }
        }
    }

    fn trim_first_newline(&mut self) {
        if self.peek() == Some(b'\n') {
            self.bump();
        } else if self.peek() == Some(b'\r') && self.s.get(self.i + 1) == Some(&b'\n') {
            self.i += 1;
            self.bump();
        }
    }

    fn literal_string(&mut self) -> PResult<String> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unexpected EOF; expected \"'\""));
            };
            match c {
                b'\'' => {
                    self.i += 1;
                    return Ok(out);
                }
                b'\n' => return Err(self.err("strings cannot contain newlines")),
                _ => self.push_char(&mut out)?,
            }
        }
    }

    fn ml_literal_string(&mut self) -> PResult<String> {
        self.i += 3;
        self.trim_first_newline();
        let mut out = String::new();
        loop {
            if self.s[self.i..].starts_with(b"'''") {
                let mut extra = 0;
                while self.s.get(self.i + 3 + extra) == Some(&b'\'') && extra < 2 {
                    extra += 1;
                }
                for _ in 0..extra {
                    out.push('\'');
                }
                self.i += 3 + extra;
                return Ok(out);
            }
            if self.peek().is_none() {
                return Err(self.err("unexpected EOF; expected \"'''\""));
            }
            if self.peek() == Some(b'\r') && self.s.get(self.i + 1) == Some(&b'\n') {
                self.i += 1;
                continue;
            }
            self.push_char(&mut out)?;
        }
    }
}

fn seal(t: &mut Tbl) {
    for v in t.entries.values_mut() {
        if let TV::Tbl(sub) = v {
            if sub.kind != TKind::Dotted {
                sub.kind = TKind::Inline;
            }
            seal(sub);
        }
    }
}

fn underscores_ok(s: &str) -> bool {
    let b = s.as_bytes();
    for (i, c) in b.iter().enumerate() {
        if *c == b'_' {
            let ok_before = i > 0 && b[i - 1].is_ascii_hexdigit();
            let ok_after = b.get(i + 1).is_some_and(|x| x.is_ascii_hexdigit());
            if !ok_before || !ok_after {
                return false;
            }
        }
    }
    true
}

fn days_in(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let v = from_toml("a = 1\nb = 1.5\n[t]\nx = \"y\"\n[[arr]]\nq = true\n").unwrap();
        let s = to_toml(&v).unwrap();
        assert_eq!(s, "a = 1\nb = 1.5\n\n[[arr]]\n  q = true\n\n[t]\n  x = \"y\"\n");
    }
}
