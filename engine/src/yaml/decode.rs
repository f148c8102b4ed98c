//! go-yaml v2's composer and decoder into `interface{}` (YAML 1.1 resolution, merge keys,
//! aliases with its excessive-aliasing guard), and sigs.k8s.io/yaml's conversion of the result
//! to JSON-compatible values (string keys, then `encoding/json` into `interface{}`: every number
//! a `float64`).

use std::collections::{BTreeMap, HashMap};

use super::parser::{EventType, Parser};
use super::resolve::{resolve, Resolved};
use super::scanner::ScalarStyle;
use crate::value::{Str, Value};

/// A value as go-yaml v2 decodes it into `interface{}`.
#[derive(Clone, Debug, PartialEq)]
pub enum Native {
    Nil,
    Bool(bool),
    /// Go `int`.
    Int(i64),
    /// Go `uint64` (integers above `int64`).
    Uint(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Native>),
    /// `map[interface{}]interface{}`, in first-insertion order (Go's is unordered).
    Map(Vec<(Native, Native)>),
}

impl Drop for Native {
    /// Iterative, so that dropping a 10,000-deep tree cannot overflow the stack.
    fn drop(&mut self) {
        let mut stack: Vec<Native> = Vec::new();
        let take = |n: &mut Native, stack: &mut Vec<Native>| match n {
            Native::Seq(items) => stack.append(items),
            Native::Map(entries) => {
                for (k, v) in entries.drain(..) {
                    stack.push(k);
                    stack.push(v);
                }
            }
            _ => {}
        };
        take(self, &mut stack);
        while let Some(mut n) = stack.pop() {
            take(&mut n, &mut stack);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Document,
    Mapping,
    Sequence,
    Scalar,
    Alias,
}

#[derive(Debug)]
struct Node {
    kind: Kind,
    /// 0-based line (go-yaml's type errors print `line+1`).
    #[allow(dead_code)]
    line: usize,
    tag: String,
    value: String,
    implicit: bool,
    children: Vec<usize>,
    alias: Option<usize>,
}

/// Errors raised with `failf` inside go-yaml (`yaml: ...`).
type R<T> = Result<T, String>;

fn lossy(b: Vec<u8>) -> String {
    match String::from_utf8(b) {
        Ok(s) => s,
        Err(e) => go_lossy(e.as_bytes()),
    }
}

/// Invalid UTF-8 replaced byte by byte with U+FFFD, as Go's range over a string (and
/// `encoding/json`) does.
pub fn go_lossy(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let w = match b[i] {
            0x00..=0x7F => 1,
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => 0,
        };
        if w > 0 && i + w <= b.len() {
            if let Ok(s) = std::str::from_utf8(&b[i..i + w]) {
                out.push_str(s);
                i += w;
                continue;
            }
        }
        out.push('\u{FFFD}');
        i += 1;
    }
    out
}

struct Composer {
    parser: Parser,
    nodes: Vec<Node>,
    anchors: HashMap<String, usize>,
    peeked: Option<super::parser::Event>,
}

impl Composer {
    fn fail_parse(&self, e: super::scanner::ParseError) -> String {
        e.message()
    }

    fn peek(&mut self) -> R<EventType> {
        if self.peeked.is_none() {
            match self.parser.next() {
                Ok(Some(ev)) => self.peeked = Some(ev),
                Ok(None) => return Err("yaml: attempted to go past the end of stream; corrupted value?".into()),
                Err(e) => return Err(self.fail_parse(e)),
            }
        }
        Ok(self.peeked.as_ref().map(|e| e.typ).unwrap_or(EventType::StreamEnd))
    }

    fn take(&mut self) -> R<super::parser::Event> {
        self.peek()?;
        Ok(self.peeked.take().expect("peeked"))
    }

    fn expect(&mut self, t: EventType) -> R<super::parser::Event> {
        let got = self.peek()?;
        if got == EventType::StreamEnd {
            return Err("yaml: attempted to go past the end of stream; corrupted value?".into());
        }
        if got != t {
            return Err(format!("yaml: expected {} event but got {}", t.name(), got.name()));
        }
        self.take()
    }

    fn new_node(&mut self, kind: Kind, line: usize) -> usize {
        self.nodes.push(Node { kind, line, tag: String::new(), value: String::new(), implicit: false, children: Vec::new(), alias: None });
        self.nodes.len() - 1
    }

    fn set_anchor(&mut self, n: usize, anchor: &[u8]) {
        if !anchor.is_empty() {
            self.anchors.insert(lossy(anchor.to_vec()), n);
        }
    }

    /// go-yaml `parser.parse()`: one node (a document at the top).
    fn parse(&mut self) -> R<Option<usize>> {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.parse_inner())
    }

    fn parse_inner(&mut self) -> R<Option<usize>> {
        match self.peek()? {
            EventType::Scalar => {
                let ev = self.take()?;
                let n = self.new_node(Kind::Scalar, ev.start_mark.line);
                self.nodes[n].value = lossy(ev.value.clone());
                self.nodes[n].tag = lossy(ev.tag.clone());
                self.nodes[n].implicit = ev.implicit;
                self.set_anchor(n, &ev.anchor);
                Ok(Some(n))
            }
            EventType::Alias => {
                let ev = self.take()?;
                let n = self.new_node(Kind::Alias, ev.start_mark.line);
                let name = lossy(ev.anchor.clone());
                match self.anchors.get(&name) {
                    Some(&target) => self.nodes[n].alias = Some(target),
                    None => return Err(format!("yaml: unknown anchor '{name}' referenced")),
                }
                self.nodes[n].value = name;
                Ok(Some(n))
            }
            EventType::MappingStart | EventType::SequenceStart => {
                let ev = self.take()?;
                let (kind, end) = if ev.typ == EventType::MappingStart {
                    (Kind::Mapping, EventType::MappingEnd)
                } else {
                    (Kind::Sequence, EventType::SequenceEnd)
                };
                let n = self.new_node(kind, ev.start_mark.line);
                self.nodes[n].tag = lossy(ev.tag.clone());
                self.set_anchor(n, &ev.anchor);
                while self.peek()? != end {
                    let per = if kind == Kind::Mapping { 2 } else { 1 };
                    for _ in 0..per {
                        match self.parse()? {
                            Some(c) => self.nodes[n].children.push(c),
                            None => return Err("yaml: attempted to go past the end of stream; corrupted value?".into()),
                        }
                    }
                }
                self.expect(end)?;
                Ok(Some(n))
            }
            EventType::DocumentStart => {
                let ev = self.take()?;
                let n = self.new_node(Kind::Document, ev.start_mark.line);
                self.anchors.clear();
                match self.parse()? {
                    Some(c) => self.nodes[n].children.push(c),
                    None => return Err("yaml: attempted to go past the end of stream; corrupted value?".into()),
                }
                self.expect(EventType::DocumentEnd)?;
                Ok(Some(n))
            }
            EventType::StreamEnd => Ok(None),
            other => Err(format!("yaml: attempted to parse unknown event: {}", other.name())),
        }
    }
}

const ALIAS_RATIO_RANGE_LOW: usize = 400_000;
const ALIAS_RATIO_RANGE_HIGH: usize = 4_000_000;

fn allowed_alias_ratio(decode_count: usize) -> f64 {
    if decode_count <= ALIAS_RATIO_RANGE_LOW {
        0.99
    } else if decode_count >= ALIAS_RATIO_RANGE_HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((decode_count - ALIAS_RATIO_RANGE_LOW) as f64 / (ALIAS_RATIO_RANGE_HIGH - ALIAS_RATIO_RANGE_LOW) as f64)
    }
}

struct Decoder<'a> {
    nodes: &'a [Node],
    active_aliases: Vec<usize>,
    decode_count: usize,
    alias_count: usize,
    alias_depth: usize,
    /// go-yaml v3's booleans: only `true`/`false` in their three spellings; the YAML 1.1 ones
    /// (`y`, `yes`, `on`, `off`, ...) stay strings. helmfile v1 reads its state with v3.
    v3_bools: bool,
}

const MERGE_TAG: &str = "tag:yaml.org,2002:merge";

impl Decoder<'_> {
    fn count(&mut self) -> R<()> {
        self.decode_count += 1;
        if self.alias_depth > 0 {
            self.alias_count += 1;
        }
        if self.alias_count > 100
            && self.decode_count > 1000
            && self.alias_count as f64 / self.decode_count as f64 > allowed_alias_ratio(self.decode_count)
        {
            return Err("yaml: document contains excessive aliasing".into());
        }
        Ok(())
    }

    /// `d.unmarshal(n, out)` with `out` an `interface{}`.
    fn unmarshal(&mut self, n: usize) -> R<Native> {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.unmarshal_inner(n))
    }

    fn unmarshal_inner(&mut self, n: usize) -> R<Native> {
        self.count()?;
        let node = &self.nodes[n];
        match node.kind {
            Kind::Document => match node.children.first() {
                Some(&c) => self.unmarshal(c),
                None => Ok(Native::Nil),
            },
            Kind::Alias => {
                let target = node.alias.unwrap_or(n);
                if self.active_aliases.contains(&n) {
                    return Err(format!("yaml: anchor '{}' value contains itself", node.value));
                }
                self.active_aliases.push(n);
                self.alias_depth += 1;
                let r = self.unmarshal(target);
                self.alias_depth -= 1;
                self.active_aliases.pop();
                r
            }
            Kind::Scalar => self.scalar(n),
            Kind::Sequence => {
                let mut items = Vec::with_capacity(node.children.len());
                for &c in &node.children {
                    items.push(self.unmarshal(c)?);
                }
                Ok(Native::Seq(items))
            }
            Kind::Mapping => {
                let mut m = MapBuilder::default();
                self.mapping_into(n, &mut m)?;
                Ok(Native::Map(m.entries))
            }
        }
    }

    fn scalar(&mut self, n: usize) -> R<Native> {
        let node = &self.nodes[n];
        if node.tag.is_empty() && !node.implicit {
            return Ok(Native::Str(node.value.clone()));
        }
        let v = scalar_native(&node.tag, &node.value)?;
        if self.v3_bools && node.tag.is_empty() {
            if let Native::Bool(_) = v {
                if !matches!(node.value.as_str(), "true" | "True" | "TRUE" | "false" | "False" | "FALSE") {
                    return Ok(Native::Str(node.value.clone()));
                }
            }
        }
        Ok(v)
    }

    fn is_merge(&self, n: usize) -> bool {
        let node = &self.nodes[n];
        node.kind == Kind::Scalar && node.value == "<<" && (node.implicit || node.tag == MERGE_TAG)
    }

    /// `d.mapping(n, out)` into an existing map (merges write into the map being built).
    fn mapping_into(&mut self, n: usize, out: &mut MapBuilder) -> R<()> {
        let children = self.nodes[n].children.clone();
        let mut i = 0;
        while i + 1 < children.len() {
            let (k, v) = (children[i], children[i + 1]);
            i += 2;
            if self.is_merge(k) {
                self.merge(v, out)?;
                continue;
            }
            let key = self.unmarshal(k)?;
            if matches!(key, Native::Map(_) | Native::Seq(_)) {
                return Err(format!("yaml: invalid map key: {}", sharp_v(&key)));
            }
            let val = self.unmarshal(v)?;
            out.set(key, val);
        }
        Ok(())
    }

    /// `d.unmarshal(n, out)` where `out` is the map being merged into.
    fn unmarshal_into_map(&mut self, n: usize, out: &mut MapBuilder) -> R<()> {
        self.count()?;
        let node = &self.nodes[n];
        match node.kind {
            Kind::Alias => {
                let target = node.alias.unwrap_or(n);
                if self.active_aliases.contains(&n) {
                    return Err(format!("yaml: anchor '{}' value contains itself", node.value));
                }
                self.active_aliases.push(n);
                self.alias_depth += 1;
                let r = stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.unmarshal_into_map(target, out));
                self.alias_depth -= 1;
                self.active_aliases.pop();
                r
            }
            Kind::Mapping => self.mapping_into(n, out),
            _ => Err("yaml: map merge requires map or sequence of maps as the value".into()),
        }
    }

    fn merge(&mut self, n: usize, out: &mut MapBuilder) -> R<()> {
        let want_map = || Err::<(), String>("yaml: map merge requires map or sequence of maps as the value".into());
        let node = &self.nodes[n];
        match node.kind {
            Kind::Mapping => self.unmarshal_into_map(n, out),
            Kind::Alias => {
                if let Some(t) = node.alias {
                    if self.nodes[t].kind != Kind::Mapping {
                        return want_map();
                    }
                }
                self.unmarshal_into_map(n, out)
            }
            Kind::Sequence => {
                let children = node.children.clone();
                for &c in children.iter().rev() {
                    let cn = &self.nodes[c];
                    if cn.kind == Kind::Alias {
                        if let Some(t) = cn.alias {
                            if self.nodes[t].kind != Kind::Mapping {
                                return want_map();
                            }
                        }
                    } else if cn.kind != Kind::Mapping {
                        return want_map();
                    }
                    self.unmarshal_into_map(c, out)?;
                }
                Ok(())
            }
            _ => want_map(),
        }
    }
}

/// Go map semantics over natives: assignment replaces the value of an equal key.
#[derive(Default)]
struct MapBuilder {
    entries: Vec<(Native, Native)>,
    index: HashMap<KeyId, usize>,
}

#[derive(Hash, PartialEq, Eq)]
enum KeyId {
    Nil,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(u64),
    Str(String),
}

impl MapBuilder {
    fn set(&mut self, k: Native, v: Native) {
        let id = match &k {
            Native::Nil => Some(KeyId::Nil),
            Native::Bool(b) => Some(KeyId::Bool(*b)),
            Native::Int(i) => Some(KeyId::Int(*i)),
            Native::Uint(u) => Some(KeyId::Uint(*u)),
            Native::Float(f) if !f.is_nan() => Some(KeyId::Float(if *f == 0.0 { 0 } else { f.to_bits() })),
            Native::Float(_) => None,
            Native::Str(s) => Some(KeyId::Str(s.clone())),
            _ => None,
        };
        match id {
            Some(id) => {
                if let Some(&i) = self.index.get(&id) {
                    self.entries[i].1 = v;
                } else {
                    self.index.insert(id, self.entries.len());
                    self.entries.push((k, v));
                }
            }
            None => self.entries.push((k, v)),
        }
    }
}

/// Go's `base64.StdEncoding.DecodeString` (padding required, CR/LF ignored).
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use base64::Engine;
    let cleaned: String = s.chars().filter(|&c| c != '\n' && c != '\r').collect();
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true).with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    engine.decode(cleaned.as_bytes()).ok()
}

/// Go's `%#v` of a decoded value (used in go-yaml's "invalid map key" message).
pub fn sharp_v(v: &Native) -> String {
    fn inner(v: &Native, top: bool, out: &mut String) {
        match v {
            Native::Nil => out.push_str(if top { "<nil>" } else { "interface {}(nil)" }),
            Native::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Native::Int(i) => out.push_str(&i.to_string()),
            Native::Uint(u) => out.push_str(&format!("0x{u:x}")),
            Native::Float(f) => out.push_str(&crate::print::float::format_v(*f, false)),
            Native::Str(s) => out.push_str(&crate::print::quote(s)),
            Native::Seq(items) => {
                out.push_str("[]interface {}{");
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    inner(it, false, out);
                }
                out.push('}');
            }
            Native::Map(entries) => {
                out.push_str("map[interface {}]interface {}{");
                let mut sorted: Vec<&(Native, Native)> = entries.iter().collect();
                sorted.sort_by(|a, b| sharp_key_order(&a.0, &b.0));
                for (i, (k, v)) in sorted.into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    inner(k, false, out);
                    out.push(':');
                    inner(v, false, out);
                }
                out.push('}');
            }
        }
    }
    let mut s = String::new();
    inner(v, true, &mut s);
    s
}

fn sharp_key_order(a: &Native, b: &Native) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Native::Str(x), Native::Str(y)) => x.cmp(y),
        (Native::Int(x), Native::Int(y)) => x.cmp(y),
        (Native::Float(x), Native::Float(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        _ => Ordering::Equal,
    }
}

/// A scalar with tag `tag` (empty: implicit) and text `value`, decoded as go-yaml v2 decodes it
/// into `interface{}`.
pub(crate) fn scalar_native(tag: &str, value: &str) -> R<Native> {
    match resolve(tag, value)? {
        Resolved::Null => Ok(Native::Nil),
        Resolved::Bool(b) => Ok(Native::Bool(b)),
        Resolved::Int(i) => Ok(Native::Int(i)),
        Resolved::Uint(u) => Ok(Native::Uint(u)),
        Resolved::Float(f) => Ok(Native::Float(f)),
        Resolved::Str(s) => Ok(Native::Str(s)),
        Resolved::Timestamp => Ok(Native::Str(value.to_string())),
        Resolved::Merge => Ok(Native::Str("<<".into())),
        Resolved::Binary => match decode_base64(value) {
            Some(b) => Ok(Native::Str(go_lossy(&b))),
            None => Err("yaml: !!binary value contains invalid base64 data".into()),
        },
    }
}

/// `yaml.Unmarshal(text, &iface)` of go-yaml v2: the first document as native values.
pub fn unmarshal_native(text: &str) -> R<Native> {
    unmarshal_native_with(text, false)
}

/// As [`unmarshal_native`], with go-yaml v3's booleans when `v3_bools`.
pub fn unmarshal_native_with(text: &str, v3_bools: bool) -> R<Native> {
    let input = if text.is_empty() { "\n" } else { text };
    let mut c = Composer { parser: Parser::new(input), nodes: Vec::new(), anchors: HashMap::new(), peeked: None };
    c.expect(EventType::StreamStart)?;
    let root = c.parse()?;
    let Some(root) = root else { return Ok(Native::Nil) };
    let mut d = Decoder { nodes: &c.nodes, active_aliases: Vec::new(), decode_count: 0, alias_count: 0, alias_depth: 0, v3_bools };
    d.unmarshal(root)
}

/// sigs.k8s.io/yaml's map key conversion (`convertToJSONableObject`).
fn key_string(k: &Native, v: &Native) -> R<String> {
    Ok(match k {
        Native::Str(s) => s.clone(),
        Native::Int(i) => i.to_string(),
        Native::Float(f) => {
            let s = crate::print::float::format_v(*f, true);
            match s.as_str() {
                "+Inf" => ".inf".into(),
                "-Inf" => "-.inf".into(),
                "NaN" => ".nan".into(),
                _ => s,
            }
        }
        Native::Bool(b) => if *b { "true" } else { "false" }.into(),
        other => {
            let ty = match other {
                Native::Nil => "%!s(<nil>)",
                Native::Uint(_) => "uint64",
                _ => "interface {}",
            };
            let kv = match other {
                Native::Uint(u) => format!("0x{u:x}"),
                o => sharp_v(o),
            };
            return Err(format!("unsupported map key of type: {ty}, key: {kv}, value: {}", sharp_v(v)));
        }
    })
}

fn check_keys(n: &Native) -> R<()> {
    stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || match n {
        Native::Map(entries) => {
            for (k, v) in entries {
                key_string(k, v)?;
                check_keys(v)?;
            }
            Ok(())
        }
        Native::Seq(items) => items.iter().try_for_each(check_keys),
        _ => Ok(()),
    })
}

fn unsupported_float(f: f64) -> String {
    format!("json: unsupported value: {}", crate::print::float::format_v(f, false))
}

/// The JSON round-trip into `interface{}`: maps keyed by strings, numbers `float64`.
fn to_json_value(n: &Native) -> R<Value> {
    stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || {
        Ok(match n {
            Native::Nil => Value::Nil,
            Native::Bool(b) => Value::Bool(*b),
            Native::Int(i) => Value::float(*i as f64),
            Native::Uint(u) => Value::float(*u as f64),
            Native::Float(f) => {
                if f.is_nan() || f.is_infinite() {
                    return Err(unsupported_float(*f));
                }
                Value::float(*f)
            }
            Native::Str(s) => Value::string(s.as_str()),
            Native::Seq(items) => Value::list(items.iter().map(to_json_value).collect::<R<Vec<_>>>()?),
            Native::Map(entries) => {
                let mut m: BTreeMap<Str, Value> = BTreeMap::new();
                // json.Marshal walks keys in sorted order; report the first bad value in that order.
                let mut keyed: Vec<(String, &Native)> = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    keyed.push((key_string(k, v)?, v));
                }
                keyed.sort_by(|a, b| a.0.cmp(&b.0));
                for (k, v) in keyed {
                    let jv = to_json_value(v)?;
                    m.insert(Str::from(k.as_str()), jv);
                }
                Value::map(m)
            }
        })
    })
}

/// `sigs.k8s.io/yaml.Unmarshal(text, &iface)`: the first document, as Helm's values see it.
pub fn unmarshal_json_compat(text: &str) -> Result<Value, String> {
    let native = unmarshal_native(text).map_err(|e| format!("error converting YAML to JSON: {e}"))?;
    check_keys(&native).map_err(|e| format!("error converting YAML to JSON: {e}"))?;
    to_json_value(&native).map_err(|e| format!("error converting YAML to JSON: {e}"))
}

#[allow(dead_code)]
fn _style_used(_: ScalarStyle) {}

/// [`unmarshal_json_compat`] of a document restricted to some of its top-level keys, without
/// building the rest: `Some(map of those keys)` exactly when the full decode would succeed
/// with a mapping, `None` when this shortcut cannot vouch for that (the caller then decodes
/// in full, which also gives the exact error).
///
/// Reading the kind and metadata of every rendered document (Helm's `SortManifests`) decodes
/// whole documents only to find their errors; for big CRDs that was most of a render. The
/// shortcut runs the same parser over the whole document, so every syntax error still makes
/// it give up, and it gives up on everything whose decoding could fail or differ later: tags,
/// anchors, aliases, merge keys, keys that are not plain strings (JSON needs string keys), and
/// numbers that JSON cannot hold (`.inf`, `.nan`).
pub fn top_level_json_compat(text: &str, keys: &[&str]) -> Option<Value> {
    if text.is_empty() {
        return None;
    }
    let mut s = Skim { parser: Parser::new(text) };
    if s.next()?.typ != EventType::StreamStart || s.next()?.typ != EventType::DocumentStart {
        return None;
    }
    let root = s.next()?;
    if root.typ != EventType::MappingStart || !untagged(&root) {
        return None;
    }
    let mut top = MapBuilder::default();
    loop {
        let k = s.next()?;
        if k.typ == EventType::MappingEnd {
            break;
        }
        let key = s.key(&k)?;
        let v = s.next()?;
        match &key {
            Native::Str(name) if keys.contains(&name.as_str()) => {
                let value = s.build(v)?;
                top.set(key, value);
            }
            _ => s.skip(v)?,
        }
    }
    if s.next()?.typ != EventType::DocumentEnd {
        return None;
    }
    let native = Native::Map(top.entries);
    check_keys(&native).ok()?;
    to_json_value(&native).ok()
}

/// Whether a key event certainly decodes to a string or a bool, judged from its text: plain
/// keys that may be nulls (`~`, `null`, empty), numbers (some not JSON-able as keys) or merge
/// keys (`<<`) are left to the full decode, as is anything tagged or anchored. (YAML 1.1
/// numbers, infinities and NaNs start with a digit, a sign or a dot.)
fn plain_string_key(ev: &super::parser::Event) -> Option<()> {
    if ev.typ != EventType::Scalar || !untagged(ev) {
        return None;
    }
    if ev.implicit {
        let v = &ev.value;
        if matches!(v.first(), None | Some(b'0'..=b'9' | b'+' | b'-' | b'.' | b'~' | b'<')) || v.eq_ignore_ascii_case(b"null") {
            return None;
        }
    }
    Some(())
}

fn untagged(ev: &super::parser::Event) -> bool {
    ev.anchor.is_empty() && ev.tag.is_empty()
}

/// The event walk of [`top_level_json_compat`]; every method answers `None` to give up.
struct Skim {
    parser: Parser,
}

impl Skim {
    fn next(&mut self) -> Option<super::parser::Event> {
        self.parser.next().ok().flatten()
    }

    /// A mapping key that is certainly a string or a bool (both JSON-able keys).
    fn key(&self, ev: &super::parser::Event) -> Option<Native> {
        plain_string_key(ev)?;
        let value = lossy(ev.value.clone());
        if ev.implicit {
            return match scalar_native("", &value).ok()? {
                k @ (Native::Str(_) | Native::Bool(_)) => Some(k),
                _ => None,
            };
        }
        Some(Native::Str(value))
    }

    /// A scalar's value as the full decode makes it, if JSON can hold it.
    fn scalar(&self, ev: &super::parser::Event) -> Option<Native> {
        if !untagged(ev) {
            return None;
        }
        let value = lossy(ev.value.clone());
        if !ev.implicit {
            return Some(Native::Str(value));
        }
        match scalar_native("", &value).ok()? {
            Native::Float(f) if !f.is_finite() => None,
            v => Some(v),
        }
    }

    /// Checks a scalar without keeping it: only those that may read as numbers need a look.
    fn check_scalar(&self, ev: &super::parser::Event) -> Option<()> {
        if !untagged(ev) {
            return None;
        }
        if ev.implicit && matches!(ev.value.first(), Some(b'0'..=b'9' | b'+' | b'-' | b'.')) {
            self.scalar(ev)?;
        }
        Some(())
    }

    fn build(&mut self, ev: super::parser::Event) -> Option<Native> {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || match ev.typ {
            EventType::Scalar => self.scalar(&ev),
            EventType::MappingStart if untagged(&ev) => {
                let mut m = MapBuilder::default();
                loop {
                    let k = self.next()?;
                    if k.typ == EventType::MappingEnd {
                        return Some(Native::Map(m.entries));
                    }
                    let key = self.key(&k)?;
                    let v = self.next()?;
                    let value = self.build(v)?;
                    m.set(key, value);
                }
            }
            EventType::SequenceStart if untagged(&ev) => {
                let mut items = Vec::new();
                loop {
                    let e = self.next()?;
                    if e.typ == EventType::SequenceEnd {
                        return Some(Native::Seq(items));
                    }
                    items.push(self.build(e)?);
                }
            }
            _ => None,
        })
    }

    fn skip(&mut self, ev: super::parser::Event) -> Option<()> {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || match ev.typ {
            EventType::Scalar => self.check_scalar(&ev),
            EventType::MappingStart if untagged(&ev) => loop {
                let k = self.next()?;
                if k.typ == EventType::MappingEnd {
                    return Some(());
                }
                plain_string_key(&k)?;
                let v = self.next()?;
                self.skip(v)?;
            },
            EventType::SequenceStart if untagged(&ev) => loop {
                let e = self.next()?;
                if e.typ == EventType::SequenceEnd {
                    return Some(());
                }
                self.skip(e)?;
            },
            _ => None,
        })
    }
}
