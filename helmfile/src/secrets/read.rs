//! Reading encrypted files into sops trees: YAML (sops' yaml store, go-yaml v3 readings) and
//! JSON (sops' json store: key order kept, integers as `int`, other numbers `float64`).
//!
//! YAML comments are not part of the values (nor of the MAC), but `sops -d` prints them,
//! decrypted, where they stood. Files sops wrote have a fixed layout (block style, one map
//! entry or list item starting per line), so comments are found by a line scan and tied to
//! the entry that follows them (or, for `value #comment`, to the entry on that line); the
//! printer puts them back at the same places.

use std::collections::HashMap;

use rudder_engine::yaml::Native;

use super::tree::Node;

/// A full-line comment: the indentation it had and its text after `#`.
#[derive(Clone, Debug, PartialEq)]
pub struct CommentLine {
    pub indent: String,
    pub text: String,
}

/// Comments of one YAML document, keyed by entry number (map entries and list items counted
/// in document order from 0).
#[derive(Clone, Debug, Default)]
pub struct Comments {
    pub head: HashMap<usize, Vec<CommentLine>>,
    pub inline: HashMap<usize, String>,
    pub tail: Vec<CommentLine>,
    /// Entries whose value is a plain YAML timestamp (go-yaml v3 reads `time.Time`, which
    /// sops hashes and prints in RFC 3339), with that RFC 3339 text.
    pub times: HashMap<usize, String>,
}

/// One YAML document: its top-level map and its comments.
#[derive(Clone, Debug)]
pub struct Doc {
    pub root: Vec<(String, Node)>,
    pub comments: Comments,
}

/// The documents of a YAML stream (sops' `LoadPlainFile`).
pub fn yaml_docs(text: &str) -> Result<Vec<Doc>, String> {
    let text = text.replace("\r\n", "\n");
    let mut out = Vec::new();
    for doc in split_docs(&text) {
        let native = rudder_engine::yaml::from_yaml_native_v3_bools(&doc)
            .map_err(|e| format!("Error unmarshaling input YAML: {e}"))?;
        let root = match native_to_node(&native)? {
            Node::Map(m) => m,
            Node::Null => Vec::new(),
            Node::Seq(_) => return Err("Error unmarshaling input YAML: YAML documents that are sequences are not supported".into()),
            _ => return Err("Error unmarshaling input YAML: YAML documents that are values are not supported".into()),
        };
        let comments = scan_comments(&doc);
        let mut root = root;
        if !comments.times.is_empty() {
            let mut n = 0;
            mark_times(&mut root, &comments.times, &mut n);
        }
        out.push(Doc { root, comments });
    }
    Ok(out)
}

/// Splits at `---` lines (what go-yaml's decoder treats as document starts in sops' output).
fn split_docs(text: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut cur = String::new();
    let mut seen_content = false;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        if body == "---" || body.starts_with("--- ") {
            if seen_content {
                docs.push(std::mem::take(&mut cur));
            }
            cur.clear();
            seen_content = false;
            continue;
        }
        if !body.trim().is_empty() {
            seen_content = true;
        }
        cur.push_str(line);
    }
    if seen_content || docs.is_empty() {
        docs.push(cur);
    }
    docs
}

fn native_to_node(n: &Native) -> Result<Node, String> {
    Ok(match n {
        Native::Nil => Node::Null,
        Native::Bool(b) => Node::Bool(*b),
        Native::Int(i) => Node::Int(*i),
        Native::Uint(u) => Node::Float(*u as f64),
        Native::Float(f) => Node::Float(*f),
        Native::Str(s) => Node::Str(s.clone()),
        Native::Seq(items) => Node::Seq(items.iter().map(native_to_node).collect::<Result<_, _>>()?),
        Native::Map(entries) => {
            let mut m = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let key = match k {
                    Native::Str(s) => s.clone(),
                    other => {
                        return Err(format!(
                            "Error walking tree: Tree contains a non-string key: {other:?}. Only string keys are supported"
                        ))
                    }
                };
                m.push((key, native_to_node(v)?));
            }
            Node::Map(m)
        }
    })
}

/// The line scan described in the module comment.
fn scan_comments(doc: &str) -> Comments {
    let mut c = Comments::default();
    let mut pending: Vec<CommentLine> = Vec::new();
    let mut entry = 0usize;
    // Inside a block scalar: the indentation its content must exceed.
    let mut block: Option<usize> = None;
    let mut in_flow_map = false;
    for line in doc.lines() {
        let ind = line.len() - line.trim_start_matches(' ').len();
        let t = &line[ind..];
        if let Some(bi) = block {
            if t.trim().is_empty() || ind > bi {
                continue;
            }
            block = None;
        }
        if t.trim().is_empty() {
            continue;
        }
        if in_flow_map {
            // `key: {` ... `}`: a map that holds only comments; `sops -d` prints `{}` and
            // drops them.
            if t.trim_end() == "}" {
                in_flow_map = false;
            }
            continue;
        }
        if let Some(text) = t.strip_prefix('#') {
            pending.push(CommentLine { indent: line[..ind].to_string(), text: text.to_string() });
            continue;
        }
        let mut rest = t;
        let mut col = ind;
        let mut first = true;
        let mut last_entry = None;
        let mut owner_col = ind;
        let mut take = |entry: &mut usize, first: &mut bool, pending: &mut Vec<CommentLine>| {
            if *first && !pending.is_empty() {
                c.head.insert(*entry, std::mem::take(pending));
            }
            *first = false;
            let e = *entry;
            *entry += 1;
            e
        };
        loop {
            if rest == "-" || rest.starts_with("- ") {
                last_entry = Some(take(&mut entry, &mut first, &mut pending));
                owner_col = col;
                let after = if rest.len() > 1 { &rest[2..] } else { "" };
                let sp = after.len() - after.trim_start_matches(' ').len();
                col += 2 + sp;
                rest = &after[sp..];
                continue;
            }
            break;
        }
        let mut value = rest;
        if let Some(vstart) = key_end(rest) {
            last_entry = Some(take(&mut entry, &mut first, &mut pending));
            owner_col = col;
            value = rest[vstart..].trim_start_matches(' ');
        }
        let (value, comment) = split_inline_comment(value);
        if let (Some(e), Some(cm)) = (last_entry, comment) {
            c.inline.insert(e, cm.to_string());
        }
        let v = value.trim_end();
        if let (Some(e), Some(t)) = (last_entry, timestamp_rfc3339(v)) {
            c.times.insert(e, t);
        }
        if v.starts_with('|') || v.starts_with('>') {
            block = Some(owner_col);
        }
        if v == "{" {
            in_flow_map = true;
        }
    }
    c.tail = pending;
    c
}

/// Turns the values the line scan found to be plain timestamps into `Node::Time`.
fn mark_times(m: &mut [(String, Node)], times: &HashMap<usize, String>, n: &mut usize) {
    for (_, v) in m.iter_mut() {
        let idx = *n;
        *n += 1;
        mark_value(v, idx, times, n);
    }
}

fn mark_value(v: &mut Node, idx: usize, times: &HashMap<usize, String>, n: &mut usize) {
    match v {
        Node::Map(m) => mark_times(m, times, n),
        Node::Seq(items) => {
            for it in items.iter_mut() {
                let i = *n;
                *n += 1;
                mark_value(it, i, times, n);
            }
        }
        Node::Str(_) => {
            if let Some(t) = times.get(&idx) {
                *v = Node::Time(t.clone());
            }
        }
        _ => {}
    }
}

/// A plain scalar go-yaml v3 resolves as `!!timestamp` (`2006-01-02`, or RFC 3339 with `T`
/// and a zone), as Go's `Format(time.RFC3339Nano)` prints it.
fn timestamp_rfc3339(v: &str) -> Option<String> {
    let b = v.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r.clone()).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if b.len() < 10 || !digits(0..4) || b[4] != b'-' || !digits(5..7) || b[7] != b'-' || !digits(8..10) {
        return None;
    }
    if b.len() == 10 {
        return Some(format!("{v}T00:00:00Z"));
    }
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)
    if !(b[10] == b'T' || b[10] == b't') || b.len() < 20 || !digits(11..13) || b[13] != b':' || !digits(14..16) || b[16] != b':' || !digits(17..19) {
        return None;
    }
    let mut i = 19;
    let mut frac = String::new();
    if b[i] == b'.' {
        let start = i + 1;
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac = v[start..i].trim_end_matches('0').to_string();
    }
    let zone = &v[i..];
    let zone_ok = zone == "Z" || (zone.len() == 6 && (zone.starts_with('+') || zone.starts_with('-')) && zone.as_bytes()[3] == b':');
    if !zone_ok {
        return None;
    }
    let zone = if zone == "+00:00" { "Z" } else { zone };
    let frac = if frac.is_empty() { String::new() } else { format!(".{frac}") };
    Some(format!("{}T{}{frac}{zone}", &v[..10], &v[11..19]))
}

/// For `key: value` / `key:` (plain or quoted key), the byte offset just past the `:`.
fn key_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'"') || b.first() == Some(&b'\'') {
        let q = b[0];
        i = 1;
        while i < b.len() {
            if b[i] == b'\\' && q == b'"' {
                i += 2;
                continue;
            }
            if b[i] == q {
                if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                break;
            }
            i += 1;
        }
        i += 1;
        return if b.get(i) == Some(&b':') && matches!(b.get(i + 1), None | Some(b' ')) { Some(i + 1) } else { None };
    }
    if matches!(b.first(), Some(b'[') | Some(b'{') | Some(b'|') | Some(b'>') | Some(b'#')) {
        return None;
    }
    while i < b.len() {
        if b[i] == b':' && matches!(b.get(i + 1), None | Some(b' ')) {
            return Some(i + 1);
        }
        if b[i] == b' ' && b.get(i + 1) == Some(&b'#') {
            return None;
        }
        i += 1;
    }
    None
}

/// A value and its ` #comment`, quotes respected.
fn split_inline_comment(v: &str) -> (&str, Option<&str>) {
    let b = v.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        match quote {
            Some(q) => {
                if q == b'"' && b[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if b[i] == q {
                    quote = None;
                }
            }
            None => {
                if (b[i] == b'"' || b[i] == b'\'') && (i == 0) {
                    quote = Some(b[i]);
                } else if b[i] == b'#' && (i == 0 || b[i - 1] == b' ') {
                    return (&v[..i], Some(&v[i + 1..]));
                }
            }
        }
        i += 1;
    }
    (v, None)
}

/// sops' JSON store reading: one top-level object, order kept.
pub fn json_doc(text: &str) -> Result<Vec<(String, Node)>, String> {
    let mut p = JsonParser { b: text.as_bytes(), i: 0 };
    p.ws();
    let wrap = |e: String| format!("Could not unmarshal input data: {e}");
    match p.b.get(p.i) {
        Some(b'{') => {}
        Some(b'[') => return Err(wrap("SOPS only supports JSON files with a top-level object (starting with '{'), not arrays or other types. Got delimiter [ instead. To encrypt this file, wrap it in an object, e.g., {\"data\": [...]}".into())),
        _ => return Err(wrap("SOPS only supports JSON files with a top-level object (starting with '{'), not other JSON types".into())),
    }
    match p.value().map_err(wrap)? {
        Node::Map(m) => Ok(m),
        _ => unreachable!("checked for an object above"),
    }
}

struct JsonParser<'a> {
    b: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("invalid JSON at offset {}: {what}", self.i))
    }

    fn value(&mut self) -> Result<Node, String> {
        self.ws();
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut m = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Node::Map(m));
                }
                loop {
                    self.ws();
                    if self.b.get(self.i) != Some(&b'"') {
                        return self.err("expected an object key");
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.b.get(self.i) != Some(&b':') {
                        return self.err("expected ':'");
                    }
                    self.i += 1;
                    let v = self.value()?;
                    m.push((k, v));
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Node::Map(m));
                        }
                        _ => return self.err("expected ',' or '}'"),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut s = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Node::Seq(s));
                }
                loop {
                    s.push(self.value()?);
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Node::Seq(s));
                        }
                        _ => return self.err("expected ',' or ']'"),
                    }
                }
            }
            Some(b'"') => Ok(Node::Str(self.string()?)),
            Some(b't') if self.b[self.i..].starts_with(b"true") => {
                self.i += 4;
                Ok(Node::Bool(true))
            }
            Some(b'f') if self.b[self.i..].starts_with(b"false") => {
                self.i += 5;
                Ok(Node::Bool(false))
            }
            Some(b'n') if self.b[self.i..].starts_with(b"null") => {
                self.i += 4;
                Ok(Node::Null)
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                while matches!(self.b.get(self.i), Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')) {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.b[start..self.i]).unwrap_or("");
                // json.Number: Int64 when it parses as one, else Float64.
                if let Ok(i) = t.parse::<i64>() {
                    Ok(Node::Int(i))
                } else if let Ok(f) = t.parse::<f64>() {
                    Ok(Node::Float(f))
                } else {
                    self.err("bad number")
                }
            }
            _ => self.err("unexpected character"),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&c) = self.b.get(self.i) else { return self.err("unterminated string") };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.b.get(self.i) else { return self.err("unterminated string") };
                    self.i += 1;
                    match e {
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'/' => out.push(b'/'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xD800..0xDC00).contains(&cp) && self.b[self.i..].starts_with(b"\\u") {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                } else {
                                    self.i = save;
                                }
                            }
                            let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return self.err("bad escape"),
                    }
                }
                _ => out.push(c),
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self.b.get(self.i..self.i + 4).and_then(|s| std::str::from_utf8(s).ok()).and_then(|s| u32::from_str_radix(s, 16).ok());
        match h {
            Some(v) => {
                self.i += 4;
                Ok(v)
            }
            None => self.err("bad \\u escape"),
        }
    }
}
