//! Printing decrypted trees as `sops -d` does: YAML through go-yaml v3's encoder with indent 4
//! (comments back in place), JSON as sops' json store writes it (key order kept, then
//! `json.Indent` with a tab), and the binary store's raw `data`.

use std::collections::BTreeMap;

use rudder_engine::{Str, Value};

use super::read::{CommentLine, Comments};
use super::sops::decrypt_comment;
use super::tree::Node;

/// go-yaml v3's `SetIndent` in sops' YAML store.
const INDENT: usize = 4;

fn to_value(n: &Node) -> Value {
    match n {
        Node::Str(s) | Node::Time(s) => Value::string(s.as_str()),
        Node::Int(i) => Value::int(*i),
        Node::Float(f) => Value::float(*f),
        Node::Bool(b) => Value::Bool(*b),
        _ => Value::Nil,
    }
}

fn one_entry(k: &str, v: Value) -> String {
    let mut m = BTreeMap::new();
    m.insert(Str::from(k), v);
    rudder_engine::yaml::to_yaml_pretty(&Value::map(m)).unwrap_or_default()
}

/// A map key as go-yaml v3 prints it.
fn render_key(k: &str) -> String {
    let t = one_entry(k, Value::Nil);
    t.strip_suffix(": null\n").unwrap_or(t.trim_end()).to_string()
}

/// A scalar as go-yaml v3 prints it as a block mapping value: its first line, and the further
/// lines of a block scalar indented to `content_indent` (each ending in a newline).
fn render_scalar(v: &Node, content_indent: usize) -> (String, String) {
    match v {
        Node::Time(s) => return (s.clone(), String::new()),
        Node::Null => return ("null".into(), String::new()),
        _ => {}
    }
    let text = one_entry("k", to_value(v));
    let body = text.strip_prefix("k: ").unwrap_or(&text);
    let mut lines = body.split_inclusive('\n');
    let mut first = lines.next().unwrap_or("").trim_end_matches('\n').to_string();
    if (first.starts_with('|') || first.starts_with('>')) && first.contains('2') {
        // The indentation indicator is the encoder's indent.
        first = first.replacen('2', &INDENT.to_string(), 1);
    }
    let mut rest = String::new();
    for l in lines {
        if l == "\n" {
            rest.push('\n');
        } else {
            rest.push_str(&" ".repeat(content_indent));
            rest.push_str(l.strip_prefix("  ").unwrap_or(l));
        }
    }
    (first, rest)
}

/// go-yaml v3's indentation of a block nested in a mapping at column `ind` ("everything else
/// aligns to the chosen indentation"): the next multiple of the indent. (Inside a list item
/// the content starts 2 columns in, past `- `.)
fn align(ind: usize) -> usize {
    INDENT * ((ind + INDENT) / INDENT)
}

struct Yaml<'a> {
    out: String,
    comments: &'a Comments,
    key: &'a [u8],
    entry: usize,
    /// The removed `sops` entry: its position among the root entries and how many entries it
    /// numbered (itself included).
    skip: Option<(usize, usize)>,
    /// The key path of the entry printed last.
    last_path: Vec<String>,
    /// Comments waiting for the next map entry (see `flush_pending`).
    pending: Vec<String>,
}

impl Yaml<'_> {
    /// Additional-data candidates for a comment standing before an entry under `path`: that
    /// path and its parents, then the branches around the entry printed last (a foot comment of
    /// a deeper block stands before the next, shallower entry).
    fn candidates(&self, path: &[String]) -> Vec<String> {
        let mut out: Vec<String> = (0..=path.len()).rev().map(|n| format!("{}:", path[..n].join(":"))).collect();
        for n in (0..=self.last_path.len()).rev() {
            let c = format!("{}:", self.last_path[..n].join(":"));
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    fn comment_lines(&mut self, lines: &[CommentLine], path: &[String]) {
        let cands = self.candidates(path);
        for l in lines {
            let text = decrypt_comment(&l.text, self.key, &cands);
            self.out.push_str(&l.indent);
            self.out.push('#');
            self.out.push_str(&text);
            self.out.push('\n');
        }
    }

    /// Passes over the removed `sops` entry; comments that stood above it (the document's foot
    /// comments, as sops writes them) are printed where it was.
    fn skip_sops(&mut self, n: usize, path: &[String]) {
        let idx = self.entry;
        self.entry += n;
        self.head(idx, path);
    }

    fn head(&mut self, idx: usize, path: &[String]) {
        if let Some(lines) = self.comments.head.get(&idx) {
            let lines = lines.clone();
            self.comment_lines(&lines, path);
        }
    }

    /// Comments of a list that holds nothing else (`key: []  # comment`): go-yaml keeps them
    /// pending and prints them before the next entry of the map, unless that entry has
    /// comments of its own (then they are lost), or at the end of the map.
    fn flush_pending(&mut self, idx: Option<usize>, ind: usize) {
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        if idx.is_some_and(|i| self.comments.head.contains_key(&i) || self.comments.inline.contains_key(&i)) {
            return;
        }
        for c in pending {
            self.out.push_str(&format!("{}#{c}\n", " ".repeat(ind)));
        }
    }

    fn inline(&mut self, idx: Option<usize>, path: &[String]) {
        if let Some(c) = idx.and_then(|i| self.comments.inline.get(&i)) {
            let text = decrypt_comment(c, self.key, &self.candidates(path));
            self.out.push_str(" #");
            self.out.push_str(&text);
        }
    }

    fn map(&mut self, m: &[(String, Node)], ind: usize, mut prefix: Option<String>, path: &mut Vec<String>, root: bool) {
        for (i, (k, v)) in m.iter().enumerate() {
            if root {
                if let Some((at, n)) = self.skip {
                    if at == i {
                        self.skip_sops(n, path);
                    }
                }
            }
            let idx = self.entry;
            self.entry += 1;
            self.flush_pending(Some(idx), ind);
            self.head(idx, path);
            // go-yaml v3 reads `key: value #comment` back with the comment on the key, which
            // sops then prints as a comment line above the entry.
            if let Some(c) = self.comments.inline.get(&idx) {
                let text = decrypt_comment(c, self.key, &self.candidates(path));
                // (for the first key of a list item's map: at the item's `-` column)
                let col = if prefix.is_some() { ind.saturating_sub(2) } else { ind };
                self.out.push_str(&format!("{}#{text}\n", " ".repeat(col)));
            }
            let lead = prefix.take().unwrap_or_else(|| " ".repeat(ind));
            self.out.push_str(&lead);
            self.out.push_str(&render_key(k));
            self.out.push(':');
            path.push(k.clone());
            self.last_path = path.clone();
            self.value(v, None, align(ind), path);
            path.pop();
        }
        if root {
            if let Some((at, n)) = self.skip {
                if at == m.len() {
                    self.skip_sops(n, path);
                }
            }
        }
        self.flush_pending(None, ind);
    }

    /// The rest of a line after `key:` or `-`, and what follows it; `idx` is the entry whose
    /// inline comment ends the line.
    fn value(&mut self, v: &Node, idx: Option<usize>, child_ind: usize, path: &mut Vec<String>) {
        match v {
            Node::Map(m) if !m.is_empty() => {
                self.inline(idx, path);
                self.out.push('\n');
                self.map(m, child_ind, None, path, false);
            }
            Node::Seq(s) if s.iter().any(|x| !matches!(x, Node::Comment(_))) => {
                self.inline(idx, path);
                self.out.push('\n');
                self.seq(s, child_ind, None, path);
            }
            Node::Seq(s) if !s.is_empty() => {
                // Only comments: go-yaml prints `[]`, the comments come after.
                self.entry += s.len();
                self.pending = s.iter().filter_map(|x| if let Node::Comment(c) = x { Some(c.clone()) } else { None }).collect();
                self.out.push_str(" []");
                self.inline(idx, path);
                self.out.push('\n');
            }
            Node::Map(_) => {
                self.out.push_str(" {}");
                self.inline(idx, path);
                self.out.push('\n');
            }
            Node::Seq(_) => {
                self.out.push_str(" []");
                self.inline(idx, path);
                self.out.push('\n');
            }
            scalar => {
                let (first, rest) = render_scalar(scalar, child_ind);
                self.out.push(' ');
                self.out.push_str(&first);
                self.inline(idx, path);
                self.out.push('\n');
                self.out.push_str(&rest);
            }
        }
    }

    fn seq(&mut self, s: &[Node], ind: usize, mut prefix: Option<String>, path: &mut Vec<String>) {
        for v in s {
            let idx = self.entry;
            self.entry += 1;
            self.head(idx, path);
            if let Node::Comment(c) = v {
                let lead = prefix.take().unwrap_or_else(|| " ".repeat(ind));
                self.out.push_str(&format!("{lead}#{c}\n"));
                continue;
            }
            let lead = format!("{}-", prefix.take().unwrap_or_else(|| " ".repeat(ind)));
            match v {
                Node::Map(m) if !m.is_empty() => self.map(m, ind + 2, Some(format!("{lead} ")), path, false),
                Node::Seq(items) if !items.is_empty() => self.seq(items, ind + 2, Some(format!("{lead} ")), path),
                other => {
                    self.out.push_str(&lead);
                    self.value(other, Some(idx), ind + 2, path);
                }
            }
        }
    }
}

/// One document as `sops -d` prints it.
pub fn yaml_doc(root: &[(String, Node)], comments: &Comments, key: &[u8], skip: Option<(usize, usize)>) -> String {
    let mut y = Yaml { out: String::new(), comments, key, entry: 0, skip, last_path: Vec::new(), pending: Vec::new() };
    let mut path = Vec::new();
    y.map(root, 0, None, &mut path, true);
    if root.is_empty() && comments.head.is_empty() && comments.tail.is_empty() {
        // go-yaml v3 prints an empty mapping as `{}`.
        y.out.push_str("{}\n");
    }
    let tail = comments.tail.clone();
    y.comment_lines(&tail, &[]);
    y.out
}

/// The YAML stream: documents separated by `---` (go-yaml's encoder between documents).
pub fn yaml(docs: &[String]) -> String {
    docs.join("---\n")
}

/// Compact JSON (no whitespace outside strings), as `json.Indent` expects it.
fn json_compact(n: &Node, out: &mut String) {
    match n {
        Node::Map(m) => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                rudder_engine::json::write_string(out, k, true);
                out.push(':');
                json_compact(v, out);
            }
            out.push('}');
        }
        Node::Seq(s) => {
            out.push('[');
            let mut first = true;
            for v in s.iter().filter(|v| !matches!(v, Node::Comment(_))) {
                if !first {
                    out.push(',');
                }
                first = false;
                json_compact(v, out);
            }
            out.push(']');
        }
        Node::Str(s) | Node::Time(s) => rudder_engine::json::write_string(out, s, true),
        Node::Int(i) => out.push_str(&i.to_string()),
        Node::Float(f) => out.push_str(&rudder_engine::json::format_float(*f, false).unwrap_or_else(|_| "null".into())),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Null | Node::Comment(_) => out.push_str("null"),
    }
}

/// sops' json store EmitPlainFile.
pub fn json(root: &[(String, Node)]) -> String {
    let mut compact = String::new();
    json_compact(&Node::Map(root.to_vec()), &mut compact);
    let mut s = rudder_engine::json::indent_json(&compact, "", "\t");
    s.push('\n');
    s
}
