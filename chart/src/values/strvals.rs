//! Helm's `--set` family grammar (Helm: pkg/strvals `parser.go`, `literal_parser.go`).
//!
//! `name1=value1,name2.sub[0]=value2` assigns into an existing values tree, which may already hold
//! what `-f` files gave: Go's parser type-asserts what it finds there and recovers the panic into
//! `unable to parse key: interface conversion: ...`, so this port works on the same Go-typed
//! [`Value`] tree and produces the same texts. Typing follows Helm: `--set` turns `true`/`false`
//! into bools, `null` into nil and base-10 integers without a leading zero into `int64`;
//! `--set-string` keeps strings; `--set-json` decodes JSON (numbers `float64`); `--set-file` reads
//! the named file; `--set-literal` takes everything after `=` verbatim.
//!
//! An error that wraps end-of-input ends parsing silently, as Go's `errors.Is(err, io.EOF)` does:
//! `--set a[0]` sets `a` to an empty list and reports nothing, exactly like Helm.

use std::collections::BTreeMap;
use std::sync::Arc;

use rudder_engine::{GoType, List, Map, Value};

/// Helm's `strvals.MaxIndex`: the largest list index `--set` accepts.
pub const MAX_INDEX: i64 = 65536;
/// Helm's `strvals.MaxNestedNameLevel`.
pub const MAX_NESTED_NAME_LEVEL: usize = 30;

/// How values right of `=` are read.
pub enum Mode<'a> {
    /// `--set`: typed scalars, `{a,b}` lists.
    Typed,
    /// `--set-string`: string scalars, `{a,b}` lists.
    String,
    /// `--set-json`: one JSON value per key.
    Json,
    /// `--set-file`: the value names a file; the reader returns its content (or Go's error text).
    File(&'a dyn Fn(&str) -> Result<Value, String>),
    /// `--set-literal`: the rest of the line, verbatim, as a string.
    Literal,
}

/// Parses `line` into `dest` (a `map[string]interface {}`), as Helm's `ParseInto`,
/// `ParseIntoString`, `ParseJSON`, `ParseIntoFile` and `ParseLiteralInto`. The error is Helm's text
/// (the caller adds `failed parsing --set data: `).
pub fn parse_into(line: &str, dest: &Arc<Map>, mode: Mode<'_>) -> Result<(), String> {
    let mut p = Parser {
        chars: line.chars().collect(),
        pos: 0,
        mode,
    };
    loop {
        match p.key(dest, 0) {
            Ok(()) => continue,
            Err(e) if e.eof => return Ok(()),
            Err(e) => return Err(e.msg),
        }
    }
}

/// Parses `line` into a new map (Helm's `Parse`, `ParseString`, `ParseLiteral`...).
pub fn parse(line: &str, mode: Mode<'_>) -> Result<Value, String> {
    let map = Arc::new(Map::new(GoType::Interface, BTreeMap::new()));
    parse_into(line, &map, mode)?;
    Ok(Value::Map(map))
}

/// A Go error as far as the parser cares: its text and whether it wraps `io.EOF` (or is the
/// parser's private `ErrNotList`).
#[derive(Debug)]
struct Error {
    msg: String,
    eof: bool,
    not_list: bool,
}

impl Error {
    fn msg(msg: impl Into<String>) -> Self {
        Error {
            msg: msg.into(),
            eof: false,
            not_list: false,
        }
    }

    fn eof() -> Self {
        Error {
            msg: "EOF".into(),
            eof: true,
            not_list: false,
        }
    }

    fn not_list() -> Self {
        Error {
            msg: "not a list".into(),
            eof: false,
            not_list: true,
        }
    }

    /// Go's `fmt.Errorf("prefix: %w", err)`: the text grows, `errors.Is` still sees the cause.
    fn wrap(self, prefix: &str) -> Self {
        Error {
            msg: format!("{prefix}: {}", self.msg),
            ..self
        }
    }
}

type Result<T, E = Error> = std::result::Result<T, E>;

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    mode: Mode<'a>,
}

impl Parser<'_> {
    fn literal(&self) -> bool {
        matches!(self.mode, Mode::Literal)
    }

    fn read(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn unread(&mut self) {
        self.pos -= 1;
    }

    /// Go: `runesUntil` (backslash escapes the next rune) or `runesUntilLiteral` (no escapes).
    /// Returns the runes read, the stop rune (None at the end) and whether input ended.
    fn until(&mut self, stop: &[char]) -> (String, Option<char>) {
        let mut v = String::new();
        loop {
            match self.read() {
                None => return (v, None),
                Some(c) if stop.contains(&c) => return (v, Some(c)),
                Some('\\') if !self.literal() => match self.read() {
                    None => return (v, None),
                    Some(next) => v.push(next),
                },
                Some(c) => v.push(c),
            }
        }
    }

    /// Go: `parser.key`. Panics of Go's type assertions come back as `unable to parse key: ...`.
    fn key(&mut self, data: &Arc<Map>, level: usize) -> Result<()> {
        self.key_inner(data, level).map_err(|e| {
            if let Some(panic) = e.msg.strip_prefix(PANIC) {
                Error::msg(format!("unable to parse key: {panic}"))
            } else {
                e
            }
        })
    }

    fn key_inner(&mut self, data: &Arc<Map>, mut level: usize) -> Result<()> {
        let stop: &[char] = if self.literal() {
            &['=', '[', '.']
        } else {
            &['=', '[', ',', '.']
        };
        let (k, last) = self.until(stop);
        match last {
            None => {
                if k.is_empty() {
                    return Err(Error::eof());
                }
                Err(Error::msg(format!("key {} has no value", go_quote(&k))))
            }
            Some('[') => {
                let i = self
                    .key_index()
                    .map_err(|e| e.wrap("error parsing index"))?;
                let list = match data.get(&k) {
                    Some(v) => assert_list(&v)?,
                    None => Vec::new(),
                };
                let (list, res) = self.list_item(list, i, level);
                set(data, &k, Value::list(list));
                res
            }
            Some('=') => self.assign(data, &k),
            Some(',') => {
                set(data, &k, Value::string(""));
                Err(Error::msg(format!(
                    "key {} has no value (cannot end with ,)",
                    go_quote(&k)
                )))
            }
            Some(_) => {
                // '.': a nested map.
                level += 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return Err(Error::msg(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                    )));
                }
                let inner = match data.get(&k) {
                    Some(v) => assert_map(&v)?,
                    None => new_map(),
                };
                let res = self.key(&inner, level);
                if res.is_ok() && inner.is_empty() {
                    return Err(Error::msg(format!("key map {} has no value", go_quote(&k))));
                }
                if !inner.is_empty() {
                    set(data, &k, Value::Map(inner));
                }
                res
            }
        }
    }

    /// The `=` case of `key`: read the value and store it under `k`.
    fn assign(&mut self, data: &Arc<Map>, k: &str) -> Result<()> {
        match self.mode {
            Mode::Literal => {
                let (value, _) = self.until(&[]);
                set(data, k, Value::string(value));
                Ok(())
            }
            Mode::Json => {
                if self.empty_val() {
                    set(data, k, Value::Nil);
                    return Ok(());
                }
                let v = self.json_value()?;
                set(data, k, v);
                self.empty_val();
                Ok(())
            }
            _ => match self.val_list() {
                Ok(list) => {
                    set(data, k, Value::list(list));
                    Ok(())
                }
                Err(e) if e.eof => {
                    set(data, k, Value::string(""));
                    Err(e)
                }
                Err(e) if e.not_list => {
                    let (rs, _) = self.until(&[',']);
                    let (v, res) = match self.read_value(&rs) {
                        Ok(v) => (v, Ok(())),
                        Err(msg) => (Value::Nil, Err(Error::msg(msg))),
                    };
                    set(data, k, v);
                    res
                }
                Err(e) => Err(e),
            },
        }
    }

    /// Go: `keyIndex`: the digits up to `]`, through `strconv.Atoi`.
    fn key_index(&mut self) -> Result<i64> {
        let (v, last) = self.until(&[']']);
        if last.is_none() {
            return Err(Error::eof());
        }
        atoi(&v).map_err(Error::msg)
    }

    /// Go: `listItem`. Returns the list to store even when it fails, as Go does.
    fn list_item(&mut self, list: Vec<Value>, i: i64, level: usize) -> (Vec<Value>, Result<()>) {
        if i < 0 {
            return (
                list,
                Err(Error::msg(format!("negative {i} index not allowed"))),
            );
        }
        let (k, last) = self.until(&['[', '.', '=']);
        if !k.is_empty() {
            return (
                list,
                Err(Error::msg(format!(
                    "unexpected data at end of array index: {}",
                    quote_runes(&k)
                ))),
            );
        }
        match last {
            None => (list, Err(Error::eof())),
            Some('=') => match self.mode {
                Mode::Literal => {
                    let (value, _) = self.until(&[]);
                    set_index(list, i, Value::string(value))
                }
                Mode::Json => {
                    if self.empty_val() {
                        return set_index(list, i, Value::Nil);
                    }
                    match self.json_value() {
                        Ok(v) => {
                            let (list, res) = set_index(list, i, v);
                            if res.is_err() {
                                return (list, res);
                            }
                            self.empty_val();
                            (list, Ok(()))
                        }
                        Err(e) => (list, Err(e)),
                    }
                }
                _ => match self.val_list() {
                    Ok(vl) => set_index(list, i, Value::list(vl)),
                    Err(e) if e.eof => set_index(list, i, Value::string("")),
                    Err(e) if e.not_list => {
                        let (rs, _) = self.until(&[',']);
                        match self.read_value(&rs) {
                            Ok(v) => set_index(list, i, v),
                            Err(msg) => (list, Err(Error::msg(msg))),
                        }
                    }
                    Err(e) => (list, Err(e)),
                },
            },
            Some('[') => {
                let next = match self.key_index() {
                    Ok(n) => n,
                    Err(e) => return (list, Err(e.wrap("error parsing index"))),
                };
                let current = match list.get(i as usize) {
                    Some(Value::Nil) | None => Vec::new(),
                    Some(v) => match assert_list(v) {
                        Ok(l) => l,
                        Err(e) => return (list, Err(e)),
                    },
                };
                let (inner, res) = self.list_item(current, next, level);
                if res.is_err() {
                    return (list, res);
                }
                set_index(list, i, Value::list(inner))
            }
            Some(_) => {
                // '.': a map inside the list.
                let inner = match list.get(i as usize) {
                    Some(Value::Map(m)) if m.elem == GoType::Interface => m.clone(),
                    _ => new_map(),
                };
                if let Err(e) = self.key(&inner, level) {
                    return (list, Err(e));
                }
                set_index(list, i, Value::Map(inner))
            }
        }
    }

    /// Go: `emptyVal`: skips spaces; true at a comma (consumed) or the end.
    fn empty_val(&mut self) -> bool {
        loop {
            match self.read() {
                None | Some(',') => return true,
                Some(c) if c.is_whitespace() => continue,
                Some(_) => {
                    self.unread();
                    return false;
                }
            }
        }
    }

    /// One JSON value from the rest of the line (Go: `json.NewDecoder(...).Decode` and
    /// `InputOffset`).
    fn json_value(&mut self) -> Result<Value> {
        let rest: String = self.chars[self.pos..].iter().collect();
        let mut stream = serde_json::Deserializer::from_str(&rest).into_iter::<serde_json::Value>();
        match stream.next() {
            Some(Ok(v)) => {
                let consumed = rest[..stream.byte_offset()].chars().count();
                self.pos += consumed;
                Ok(Value::from_json(&v))
            }
            None => Err(Error::eof()),
            Some(Err(e)) => Err(Error::msg(
                rudder_engine::json::from_json(&rest)
                    .err()
                    .unwrap_or_else(|| e.to_string()),
            )),
        }
    }

    /// Go: `valList`: `{a,b,c}`, or `ErrNotList`.
    fn val_list(&mut self) -> Result<Vec<Value>> {
        match self.read() {
            None => return Err(Error::eof()),
            Some('{') => {}
            Some(_) => {
                self.unread();
                return Err(Error::not_list());
            }
        }
        let mut list = Vec::new();
        loop {
            let (rs, last) = self.until(&[',', '}']);
            match last {
                None => return Err(Error::msg("list must terminate with '}'")),
                Some('}') => {
                    if let Some(c) = self.read() {
                        if c != ',' {
                            self.unread();
                        }
                    }
                    let v = self.read_value(&rs).map_err(Error::msg)?;
                    list.push(v);
                    return Ok(list);
                }
                Some(_) => {
                    let v = self.read_value(&rs).map_err(Error::msg)?;
                    list.push(v);
                }
            }
        }
    }

    /// Go: `parser.reader`: how a scalar right of `=` becomes a value.
    fn read_value(&self, rs: &str) -> Result<Value, String> {
        match &self.mode {
            Mode::Typed => Ok(typed_val(rs)),
            Mode::File(reader) => reader(rs),
            _ => Ok(Value::string(rs)),
        }
    }
}

/// Marks an error that Go raises as a panic (recovered in `key`).
const PANIC: &str = "\u{0}panic:";

fn new_map() -> Arc<Map> {
    Arc::new(Map::new(GoType::Interface, BTreeMap::new()))
}

/// Go: `set`: an empty key is ignored.
fn set(data: &Arc<Map>, key: &str, v: Value) {
    if !key.is_empty() {
        data.write().insert(key.into(), v);
    }
}

/// Go: `setIndex`.
fn set_index(mut list: Vec<Value>, index: i64, v: Value) -> (Vec<Value>, Result<()>) {
    if index < 0 {
        return (
            list,
            Err(Error::msg(format!("negative {index} index not allowed"))),
        );
    }
    if index > MAX_INDEX {
        return (
            list,
            Err(Error::msg(format!(
                "index of {index} is greater than maximum supported index of {MAX_INDEX}"
            ))),
        );
    }
    let i = index as usize;
    if list.len() <= i {
        list.resize(i + 1, Value::Nil);
    }
    list[i] = v;
    (list, Ok(()))
}

/// Go's `x.([]any)`.
fn assert_list(v: &Value) -> Result<Vec<Value>> {
    match v {
        Value::List(l) if l.elem == GoType::Interface => Ok(l.items.clone()),
        other => Err(type_assertion(other, "[]interface {}")),
    }
}

/// Go's `x.(map[string]any)`.
fn assert_map(v: &Value) -> Result<Arc<Map>> {
    match v {
        Value::Map(m) if m.elem == GoType::Interface => Ok(m.clone()),
        other => Err(type_assertion(other, "map[string]interface {}")),
    }
}

fn type_assertion(v: &Value, want: &str) -> Error {
    let have = match v {
        Value::Nil | Value::Missing => "nil".to_string(),
        v => v.go_type().to_string(),
    };
    Error::msg(format!(
        "{PANIC}interface conversion: interface {{}} is {have}, not {want}"
    ))
}

/// Go: `typedVal` for `--set`.
pub fn typed_val(s: &str) -> Value {
    if s.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if s.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if s.eq_ignore_ascii_case("null") {
        return Value::Nil;
    }
    if s == "0" {
        return Value::int64(0);
    }
    if !s.is_empty() && !s.starts_with('0') {
        if let Ok(i) = parse_int10(s) {
            return Value::int64(i);
        }
    }
    Value::string(s)
}

/// Go's `strconv.ParseInt(s, 10, 64)` acceptance: optional sign, ASCII digits only.
fn parse_int10(s: &str) -> Result<i64, bool> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(false);
    }
    let unsigned = s.strip_prefix('+').unwrap_or(s);
    unsigned.parse::<i64>().map_err(|_| true)
}

/// Go's `strconv.Atoi` with its error texts.
fn atoi(s: &str) -> Result<i64, String> {
    parse_int10(s).map_err(|out_of_range| {
        let why = if out_of_range {
            "value out of range"
        } else {
            "invalid syntax"
        };
        format!("strconv.Atoi: parsing {}: {why}", go_quote(s))
    })
}

/// Go's `%q` of a string (strconv.Quote).
fn go_quote(s: &str) -> String {
    rudder_engine::print::sprintf("%q", &[Value::string(s)])
}

/// Go's `%q` of a `[]rune`: each rune quoted, in brackets.
fn quote_runes(s: &str) -> String {
    let runes: Vec<Value> = s
        .chars()
        .map(|c| Value::Int(c as i64, rudder_engine::IntKind::Int32))
        .collect();
    rudder_engine::print::sprintf(
        "%q",
        &[Value::List(Arc::new(List {
            elem: GoType::Int(rudder_engine::IntKind::Int32),
            items: runes,
        }))],
    )
}
