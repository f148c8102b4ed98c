//! A dedicated reader for repository `index.yaml` files: the block-style YAML that `helm repo
//! index` (go-yaml v2's emitter), ChartMuseum and Bitnami's tooling write, read in one pass
//! straight into [`ChartVersion`]s, without the generic value tree of the engine's YAML reader.
//!
//! A 15 MB index has half a million lines; building maps of shared values for each of them, a
//! JSON-compatible copy, then walking that copy to validate and decode cost seconds. Here each
//! line is looked at once, scalars are borrowed from the input until they land in the typed
//! entry, and each entry is validated as soon as it is read.
//!
//! The reader only accepts what it can decode exactly as [`IndexFile::parse_generic`] does
//! (Helm's `loadIndex`: go-yaml v2's YAML 1.1 scalars, sigs.k8s.io/yaml's JSON step,
//! encoding/json into the typed structs, strict unknown-field and duplicate-key errors). Anything
//! else (anchors, aliases, tags, non-empty flow collections, numbers in string fields, unknown
//! or differently cased fields, duplicate keys, tabs, control characters, structural errors)
//! returns a [`Fallback`] and the caller takes the generic path, which then also produces the
//! error message Helm would print. The two paths are compared on every index we can find in
//! `repo/tests/index_reader.rs`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rudder_chart::model::{Dependency, Maintainer, Metadata};
use rudder_engine::yaml::{plain_kind, PlainKind};

use crate::index::{
    finish_entry, skipped_warning, ChartVersion, IndexFile, DEPENDENCY_FIELDS, ENTRY_FIELDS,
    MAINTAINER_FIELDS, TOP_FIELDS,
};

/// Why a document was left to the generic reader: the 1-based line and what was found there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fallback {
    pub line: usize,
    pub reason: &'static str,
}

impl std::fmt::Display for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

type R<T> = Result<T, Fallback>;

/// Reads `data` as an index, or says why it leaves it to the generic reader. Warnings for
/// skipped entries name `source`, as Helm's do.
pub fn read(data: &[u8], source: &str) -> R<IndexFile> {
    let text = std::str::from_utf8(data).map_err(|_| Fallback {
        line: 0,
        reason: "not UTF-8",
    })?;
    if u32::try_from(text.len()).is_err() {
        return Err(Fallback {
            line: 0,
            reason: "larger than 4 GiB",
        });
    }
    let mut r = Reader::new(text)?;
    r.document(source)
}

/// One line of the input (`u32` offsets: half a million of these for a 15 MB index).
#[derive(Clone, Copy)]
struct Line {
    start: u32,
    /// Without the line break (`\n` or `\r\n`).
    end: u32,
    /// Leading spaces.
    indent: u32,
    /// Nothing but spaces.
    blank: bool,
    /// Followed by a line break (the last line of a file may not be).
    nl: bool,
}

impl Line {
    fn start(&self) -> usize {
        self.start as usize
    }
    fn end(&self) -> usize {
        self.end as usize
    }
    fn indent(&self) -> usize {
        self.indent as usize
    }
}

/// A value as found after `key:` or `- `.
enum Node<'a> {
    /// Nothing (an empty value).
    Null,
    /// A scalar's text; `true` when plain (its type then depends on the text).
    Scalar(Cow<'a, str>, bool),
    /// A block mapping whose keys sit at this column (the reader is at its first key).
    Map(usize),
    /// A block sequence whose dashes sit at this column (the reader is at its first dash).
    Seq(usize),
    EmptyMap,
    EmptySeq,
}

/// What a scalar decodes to (go-yaml v2 resolution for plain text; quoted text is a string).
fn kind(text: &str, plain: bool) -> PlainKind {
    if !plain {
        return PlainKind::Str;
    }
    // Only these first bytes can make a plain scalar anything but a string (go-yaml's hints).
    match text.as_bytes().first() {
        None => PlainKind::Null,
        Some(
            b'+'
            | b'-'
            | b'0'..=b'9'
            | b'.'
            | b'y'
            | b'Y'
            | b'n'
            | b'N'
            | b't'
            | b'T'
            | b'f'
            | b'F'
            | b'o'
            | b'O'
            | b'~'
            | b'<',
        ) => plain_kind(text),
        Some(_) => PlainKind::Str,
    }
}

fn is_dash(body: &str) -> bool {
    let b = body.as_bytes();
    b.first() == Some(&b'-') && (b.len() == 1 || b[1] == b' ')
}

/// Characters go-yaml's reader refuses, or treats as line breaks, outside ASCII.
fn odd_char(c: char) -> bool {
    matches!(
        c,
        '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
    )
}

struct Reader<'a> {
    text: &'a str,
    lines: Vec<Line>,
    /// The current line; `lines.len()` at the end.
    cur: usize,
    /// Where the unread part of the current line starts (its indent, or after `- `).
    col: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> R<Reader<'a>> {
        let b = text.as_bytes();
        let mut lines = Vec::with_capacity(b.len() / 24 + 1);
        let mut start = 0;
        let mut ascii = true;
        let mut i = 0;
        while start < b.len() {
            let mut indent_done = false;
            let mut indent = 0;
            let mut blank = true;
            let (end, next, nl) = loop {
                if i == b.len() {
                    break (i, i, false);
                }
                let c = b[i];
                match c {
                    b'\n' => break (i, i + 1, true),
                    b'\r' => {
                        if b.get(i + 1) == Some(&b'\n') {
                            break (i, i + 2, true);
                        }
                        return Err(Fallback {
                            line: lines.len() + 1,
                            reason: "carriage return without line feed",
                        });
                    }
                    b' ' => {
                        if !indent_done {
                            indent += 1;
                        }
                    }
                    0..=0x1f | 0x7f => {
                        return Err(Fallback {
                            line: lines.len() + 1,
                            reason: "tab or control character",
                        })
                    }
                    _ => {
                        indent_done = true;
                        blank = false;
                        if c >= 0x80 {
                            ascii = false;
                        }
                    }
                }
                i += 1;
            };
            lines.push(Line {
                start: start as u32,
                end: end as u32,
                indent: indent as u32,
                blank,
                nl,
            });
            start = next;
            i = next;
        }
        if !ascii {
            if let Some(pos) = text.find(odd_char) {
                let line = text[..pos].matches('\n').count() + 1;
                return Err(Fallback {
                    line,
                    reason: "character go-yaml treats specially",
                });
            }
        }
        Ok(Reader {
            text,
            lines,
            cur: 0,
            col: 0,
        })
    }

    fn bail<T>(&self, reason: &'static str) -> R<T> {
        Err(Fallback {
            line: self.cur + 1,
            reason,
        })
    }

    fn end(&self) -> bool {
        self.cur >= self.lines.len()
    }

    /// The unread part of the current line.
    fn body(&self) -> &'a str {
        let l = self.lines[self.cur];
        &self.text[l.start() + self.col..l.end()]
    }

    fn line_text(&self, n: usize) -> &'a str {
        let l = self.lines[n];
        &self.text[l.start() + l.indent()..l.end()]
    }

    /// From the current line on, the first line with content (not blank, not a comment).
    fn skip_to_content(&mut self) -> R<()> {
        while self.cur < self.lines.len() {
            let l = self.lines[self.cur];
            let body = self.line_text(self.cur);
            if !l.blank && !body.starts_with('#') {
                if l.indent() == 0
                    && (body.starts_with("---") || body.starts_with("...") || body.starts_with('%'))
                {
                    return self.bail("document marker or directive");
                }
                self.col = l.indent();
                return Ok(());
            }
            self.cur += 1;
        }
        self.col = 0;
        Ok(())
    }

    fn next_line(&mut self) -> R<()> {
        self.cur += 1;
        self.skip_to_content()
    }

    /// After a scalar or marker: the rest of the line must be empty or a comment.
    fn line_done(&mut self, rest: &str) -> R<()> {
        let t = rest.trim_start_matches(' ');
        if !(t.is_empty() || (t.starts_with('#') && t.len() < rest.len())) {
            return self.bail("text after a value");
        }
        self.next_line()
    }

    // ---- structure ------------------------------------------------------------------------

    /// The key at the reader's position, and the column after its colon; `None` when the text
    /// there is not a `key:` (a scalar, a dash, ...).
    fn key(&self) -> R<Option<(Cow<'a, str>, usize)>> {
        let b = self.body();
        let bytes = b.as_bytes();
        match bytes[0] {
            q @ (b'"' | b'\'') => {
                let Some(close) = b[1..].find(q as char).map(|i| i + 1) else {
                    return Ok(None);
                };
                let inner = &b[1..close];
                if (q == b'"' && inner.contains('\\'))
                    || (q == b'\'' && bytes.get(close + 1) == Some(&b'\''))
                {
                    return self.bail("escapes in a quoted key");
                }
                let after = &b[close + 1..];
                if after.starts_with(':') && (after.len() == 1 || after.as_bytes()[1] == b' ') {
                    return Ok(Some((Cow::Borrowed(inner), self.col + close + 2)));
                }
                if after.trim_start_matches(' ').starts_with(':') {
                    return self.bail("space before a colon");
                }
                Ok(None)
            }
            b'[' | b']' | b'{' | b'}' | b',' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%'
            | b'@' | b'`' => Ok(None),
            b'-' | b'?' | b':' if bytes.len() == 1 || bytes[1] == b' ' => Ok(None),
            _ => {
                let mut i = 0;
                while i < bytes.len() {
                    match bytes[i] {
                        b':' if i + 1 == bytes.len() || bytes[i + 1] == b' ' => {
                            let key = &b[..i];
                            if key.ends_with(' ') {
                                return self.bail("space before a colon");
                            }
                            if key == "<<" || kind(key, true) != PlainKind::Str {
                                return self.bail("key that is not a string");
                            }
                            return Ok(Some((Cow::Borrowed(key), self.col + i + 1)));
                        }
                        b'#' if bytes[i - 1] == b' ' => return Ok(None),
                        _ => {}
                    }
                    i += 1;
                }
                Ok(None)
            }
        }
    }

    /// Each `key: value` of the block mapping whose keys are at column `col` (the reader is at
    /// its first key); `f` reads the value (the reader is after the colon).
    fn map(&mut self, col: usize, mut f: impl FnMut(&mut Self, Cow<'a, str>) -> R<()>) -> R<()> {
        loop {
            if self.end() || self.col < col {
                return Ok(());
            }
            if self.col > col {
                return self.bail("unexpected indentation");
            }
            let Some((key, after)) = self.key()? else {
                return self.bail("not a key");
            };
            self.col = after;
            f(self, key)?;
        }
    }

    /// Each item of the block sequence whose dashes are at column `col`.
    fn seq(&mut self, col: usize, mut f: impl FnMut(&mut Self, Node<'a>) -> R<()>) -> R<()> {
        loop {
            if self.end() || self.col < col {
                return Ok(());
            }
            if self.col > col {
                return self.bail("unexpected indentation");
            }
            let body = self.body();
            if !is_dash(body) {
                return Ok(());
            }
            let after = &body[1..];
            let rest = after.trim_start_matches(' ');
            if rest.is_empty() || rest.starts_with('#') {
                self.next_line()?;
                if !self.end() && self.col > col {
                    return self.bail("item below its dash");
                }
                f(self, Node::Null)?;
            } else {
                self.col += 1 + (after.len() - rest.len());
                let node = self.inline(col, true)?;
                f(self, node)?;
            }
        }
    }

    /// The value after the colon of a key at column `kc`.
    fn value(&mut self, kc: usize) -> R<Node<'a>> {
        let body = self.body();
        let rest = body.trim_start_matches(' ');
        if !rest.is_empty() && !rest.starts_with('#') {
            self.col += body.len() - rest.len();
            return self.inline(kc, false);
        }
        self.next_line()?;
        if self.end() {
            return Ok(Node::Null);
        }
        let c = self.col;
        if c > kc {
            if is_dash(self.body()) {
                return Ok(Node::Seq(c));
            }
            if self.key()?.is_some() {
                return Ok(Node::Map(c));
            }
            return self.bail("scalar on the line after its key");
        }
        if c == kc && is_dash(self.body()) {
            return Ok(Node::Seq(c));
        }
        Ok(Node::Null)
    }

    /// A node starting at the reader's position on this line; `parent` is the column of the
    /// mapping key or dash it belongs to; `item`: after a dash.
    fn inline(&mut self, parent: usize, item: bool) -> R<Node<'a>> {
        if item && self.key()?.is_some() {
            return Ok(Node::Map(self.col));
        }
        let body = self.body();
        match body.as_bytes()[0] {
            b'"' | b'\'' => self.quoted(parent),
            b'|' | b'>' if !item => self.block(parent),
            b'[' if body.starts_with("[]") => {
                self.line_done(&body[2..])?;
                Ok(Node::EmptySeq)
            }
            b'{' if body.starts_with("{}") => {
                self.line_done(&body[2..])?;
                Ok(Node::EmptyMap)
            }
            b'[' | b']' | b'{' | b'}' | b',' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@'
            | b'`' | b'?' => self.bail("flow collection, anchor, alias, tag or reserved indicator"),
            b'-' | b':' if is_dash(body) || body == ":" || body.starts_with(": ") => {
                self.bail("nested block collection")
            }
            _ => match self.plain(parent)? {
                // `~`, `null`: the same as nothing.
                Node::Scalar(t, true) if kind(&t, true) == PlainKind::Null => Ok(Node::Null),
                n => Ok(n),
            },
        }
    }

    /// A plain scalar, folded over the more-indented lines that continue it.
    fn plain(&mut self, parent: usize) -> R<Node<'a>> {
        let body = self.body();
        let bytes = body.as_bytes();
        let mut end = bytes.len();
        let mut comment = false;
        for i in 0..bytes.len() {
            match bytes[i] {
                b':' if i + 1 == bytes.len() || bytes[i + 1] == b' ' => {
                    return self.bail("colon in a plain scalar")
                }
                b'#' if i > 0 && bytes[i - 1] == b' ' => {
                    end = i;
                    comment = true;
                    break;
                }
                _ => {}
            }
        }
        let first = body[..end].trim_end_matches(' ');
        let mut text = Cow::Borrowed(first);
        let mut last = self.cur;
        let mut blanks = 0;
        let mut j = self.cur + 1;
        while j < self.lines.len() {
            let l = self.lines[j];
            if l.blank {
                blanks += 1;
                j += 1;
                continue;
            }
            let t = self.line_text(j);
            if l.indent() <= parent || t.starts_with('#') {
                break;
            }
            if comment {
                return self.bail("plain scalar continued after a comment");
            }
            if t.contains(": ")
                || t.ends_with(':')
                || t.contains(" #")
                || is_dash(t)
                || t.starts_with(['"', '\''])
            {
                return Err(Fallback {
                    line: j + 1,
                    reason: "continuation line that looks like structure",
                });
            }
            let s = text.to_mut();
            if blanks == 0 {
                s.push(' ');
            } else {
                s.extend(std::iter::repeat_n('\n', blanks));
            }
            s.push_str(t.trim_end_matches(' '));
            blanks = 0;
            last = j;
            j += 1;
        }
        self.cur = last;
        self.next_line()?;
        Ok(Node::Scalar(text, true))
    }

    /// A single- or double-quoted scalar, possibly over several lines (go-yaml's folding: one
    /// line break is a space, each further blank line a newline, `\` at the end of a line
    /// joins without a space).
    fn quoted(&mut self, parent: usize) -> R<Node<'a>> {
        let body = self.body();
        let q = body.as_bytes()[0];
        // The common case: on one line, no escapes.
        if let Some(close) = body[1..].find(q as char).map(|i| i + 1) {
            let inner = &body[1..close];
            let simple = if q == b'"' {
                !inner.contains('\\')
            } else {
                body.as_bytes().get(close + 1) != Some(&b'\'')
            };
            if simple {
                let rest = &body[close + 1..];
                if rest.trim_start_matches(' ').starts_with(':') {
                    return self.bail("quoted key where a value belongs");
                }
                self.line_done(rest)?;
                return Ok(Node::Scalar(Cow::Borrowed(inner), false));
            }
        }
        let bytes = self.text.as_bytes();
        let mut s = String::new();
        let mut line = self.cur;
        let mut p = self.lines[line].start() + self.col + 1;
        loop {
            let end = self.lines[line].end();
            let mut ws: Option<usize> = None;
            let mut escaped_break = false;
            let mut closed = None;
            while p < end {
                let c = bytes[p];
                if c == b' ' {
                    ws.get_or_insert(p);
                    p += 1;
                    continue;
                }
                if let Some(w) = ws.take() {
                    s.push_str(&self.text[w..p]);
                }
                if q == b'\'' {
                    if c == b'\'' {
                        if p + 1 < end && bytes[p + 1] == b'\'' {
                            s.push('\'');
                            p += 2;
                            continue;
                        }
                        closed = Some(p);
                        break;
                    }
                } else if c == b'"' {
                    closed = Some(p);
                    break;
                } else if c == b'\\' {
                    if p + 1 == end {
                        escaped_break = true;
                        break;
                    }
                    let (ch, len) = match bytes[p + 1] {
                        b'0' => ('\0', 2),
                        b'a' => ('\u{7}', 2),
                        b'b' => ('\u{8}', 2),
                        b't' => ('\t', 2),
                        b'n' => ('\n', 2),
                        b'v' => ('\u{b}', 2),
                        b'f' => ('\u{c}', 2),
                        b'r' => ('\r', 2),
                        b'e' => ('\u{1b}', 2),
                        b' ' => (' ', 2),
                        b'"' => ('"', 2),
                        b'\'' => ('\'', 2),
                        b'\\' => ('\\', 2),
                        b'N' => ('\u{85}', 2),
                        b'_' => ('\u{a0}', 2),
                        b'L' => ('\u{2028}', 2),
                        b'P' => ('\u{2029}', 2),
                        h @ (b'x' | b'u' | b'U') => {
                            let n = match h {
                                b'x' => 2,
                                b'u' => 4,
                                _ => 8,
                            };
                            let hex = self.text.get(p + 2..p + 2 + n).filter(|_| p + 2 + n <= end);
                            let Some(c) = hex
                                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .and_then(char::from_u32)
                            else {
                                return self.bail("bad escape in a double-quoted scalar");
                            };
                            (c, 2 + n)
                        }
                        _ => return self.bail("unknown escape in a double-quoted scalar"),
                    };
                    s.push(ch);
                    p += len;
                    continue;
                }
                let w = utf8_width(c);
                s.push_str(&self.text[p..p + w]);
                p += w;
            }
            if let Some(at) = closed {
                self.cur = line;
                let rest = &self.text[at + 1..end];
                if rest.trim_start_matches(' ').starts_with(':') {
                    return self.bail("quoted key where a value belongs");
                }
                self.line_done(rest)?;
                return Ok(Node::Scalar(Cow::Owned(s), false));
            }
            // A line break: trailing blanks go, blank lines count.
            line += 1;
            let mut blanks = 0;
            while line < self.lines.len() && self.lines[line].blank {
                blanks += 1;
                line += 1;
            }
            if line >= self.lines.len() {
                return self.bail("unterminated quoted scalar");
            }
            let l = self.lines[line];
            // Its text may look like keys: the generic path's duplicate-key scan knows it is not.
            if l.indent() <= parent {
                return Err(Fallback {
                    line: line + 1,
                    reason: "quoted continuation line not indented",
                });
            }
            if escaped_break || blanks > 0 {
                s.extend(std::iter::repeat_n('\n', blanks));
            } else {
                s.push(' ');
            }
            p = l.start() + l.indent();
        }
    }

    /// A literal (`|`) or folded (`>`) block scalar with clip, strip (`-`) or keep (`+`)
    /// chomping and an indentation found from its first line.
    fn block(&mut self, parent: usize) -> R<Node<'a>> {
        let body = self.body();
        let literal = body.starts_with('|');
        let mut header = &body[1..];
        let chomp = match header.as_bytes().first() {
            Some(b'-') => b'-',
            Some(b'+') => b'+',
            _ => b' ',
        };
        if chomp != b' ' {
            header = &header[1..];
        }
        let h = header.trim_start_matches(' ');
        if !(h.is_empty() || (h.starts_with('#') && h.len() < header.len())) {
            return self.bail("block scalar header");
        }
        let mut j = self.cur + 1;
        let mut leading = 0;
        let mut max_lead = 0;
        while j < self.lines.len() && self.lines[j].blank {
            max_lead = max_lead.max(self.lines[j].end() - self.lines[j].start());
            leading += 1;
            j += 1;
        }
        if j >= self.lines.len() || self.lines[j].indent() <= parent {
            return self.bail("empty block scalar");
        }
        let ind = self.lines[j].indent();
        if max_lead > ind {
            return self.bail("block scalar with long leading blank lines");
        }
        let mut s = String::new();
        s.extend(std::iter::repeat_n('\n', leading));
        let mut first = true;
        let mut blanks = 0;
        let mut last_nl = true;
        while j < self.lines.len() {
            let l = self.lines[j];
            if l.blank {
                if l.end() - l.start() > ind {
                    return Err(Fallback {
                        line: j + 1,
                        reason: "block scalar line of spaces",
                    });
                }
                blanks += 1;
                j += 1;
                continue;
            }
            if l.indent() < ind {
                break;
            }
            let content = &self.text[l.start() + ind..l.end()];
            if !first {
                if literal {
                    s.push('\n');
                    s.extend(std::iter::repeat_n('\n', blanks));
                } else if blanks == 0 {
                    s.push(' ');
                } else {
                    s.extend(std::iter::repeat_n('\n', blanks));
                }
            }
            if !literal && content.starts_with(' ') {
                return Err(Fallback {
                    line: j + 1,
                    reason: "more-indented line in a folded scalar",
                });
            }
            s.push_str(content);
            first = false;
            blanks = 0;
            last_nl = l.nl;
            j += 1;
        }
        match chomp {
            b'-' => {}
            b'+' => {
                if last_nl {
                    s.push('\n');
                }
                s.extend(std::iter::repeat_n('\n', blanks));
            }
            _ => {
                if last_nl {
                    s.push('\n');
                }
            }
        }
        self.cur = j;
        self.skip_to_content()?;
        Ok(Node::Scalar(Cow::Owned(s), false))
    }

    // ---- the index schema -----------------------------------------------------------------

    fn document(&mut self, source: &str) -> R<IndexFile> {
        self.skip_to_content_start()?;
        if self.end() {
            return self.bail("empty document");
        }
        if self.col != 0 {
            return self.bail("indented top-level mapping");
        }
        let mut idx = IndexFile::default();
        let mut charts: BTreeMap<String, (Vec<ChartVersion>, Vec<String>)> = BTreeMap::new();
        let mut seen = 0u32;
        self.map(0, |r, key| {
            let f = r.field(TOP_FIELDS, &key, &mut seen)?;
            let node = r.value(0)?;
            match f {
                "apiVersion" => idx.api_version = r.strict_string(node)?,
                "generated" => match node {
                    Node::Scalar(t, plain) => {
                        if kind(&t, plain) == PlainKind::Str {
                            idx.generated = t.into_owned();
                        }
                    }
                    Node::Null => {}
                    _ => return r.bail("generated that is not a scalar"),
                },
                "publicKeys" => idx.public_keys = r.url_list(node)?,
                "annotations" => match node {
                    Node::Null | Node::EmptyMap => {}
                    Node::Map(c) => r.map(c, |r, k| {
                        let v = r.value(c)?;
                        if idx.annotations.contains_key(k.as_ref()) {
                            return r.bail("duplicate key");
                        }
                        match v {
                            Node::Scalar(t, plain) => {
                                if kind(&t, plain) == PlainKind::Str {
                                    idx.annotations.insert(k.into_owned(), t.into_owned());
                                }
                            }
                            Node::Null => {}
                            _ => return r.bail("annotation that is not a scalar"),
                        }
                        Ok(())
                    })?,
                    _ => return r.bail("annotations that are not a mapping"),
                },
                "serverInfo" => r.skip(node)?,
                _ => match node {
                    Node::Null | Node::EmptyMap => {}
                    Node::Map(c) => r.map(c, |r, name| {
                        if charts.contains_key(name.as_ref()) {
                            return r.bail("duplicate key");
                        }
                        let list = r.value(c)?;
                        let mut cvs = Vec::new();
                        let mut warnings = Vec::new();
                        match list {
                            Node::Null | Node::EmptySeq => {}
                            Node::Seq(sc) => r.seq(sc, |r, item| {
                                let md_src = match item {
                                    Node::Null => None,
                                    Node::Scalar(t, plain)
                                        if kind(&t, plain) == PlainKind::Null =>
                                    {
                                        None
                                    }
                                    Node::EmptyMap => Some(None),
                                    Node::Map(ic) => Some(Some(ic)),
                                    _ => return r.bail("entry that is not a mapping"),
                                };
                                match md_src {
                                    None => warnings.push(skipped_warning(
                                        &name,
                                        None,
                                        source,
                                        "empty entry",
                                    )),
                                    Some(at) => {
                                        let (md, urls, created, removed, digest) = match at {
                                            Some(ic) => r.entry(ic)?,
                                            None => Default::default(),
                                        };
                                        match finish_entry(md, urls, created, removed, digest) {
                                            Ok(cv) => cvs.push(cv),
                                            Err((version, e)) => warnings.push(skipped_warning(
                                                &name,
                                                Some(&version),
                                                source,
                                                &e,
                                            )),
                                        }
                                    }
                                }
                                Ok(())
                            })?,
                            _ => return r.bail("chart versions that are not a sequence"),
                        }
                        charts.insert(name.into_owned(), (cvs, warnings));
                        Ok(())
                    })?,
                    _ => return r.bail("entries that are not a mapping"),
                },
            }
            Ok(())
        })?;
        if !self.end() {
            return self.bail("text after the document");
        }
        if idx.api_version.is_empty() {
            return Err(Fallback {
                line: 1,
                reason: "no apiVersion",
            });
        }
        for (name, (mut cvs, mut warnings)) in charts {
            // Helm walks each list backwards, so its warnings come last entry first.
            warnings.reverse();
            idx.warnings.extend(warnings);
            crate::index::sort_versions(&mut cvs);
            idx.entries.insert(name, cvs);
        }
        Ok(idx)
    }

    /// The start of the stream: an optional `---` line.
    fn skip_to_content_start(&mut self) -> R<()> {
        while self.cur < self.lines.len() {
            let l = self.lines[self.cur];
            let body = self.line_text(self.cur);
            if l.blank || body.starts_with('#') {
                self.cur += 1;
                continue;
            }
            if l.indent() == 0 && body.starts_with("---") {
                let rest = &body[3..];
                let t = rest.trim_start_matches(' ');
                if t.is_empty() || (t.starts_with('#') && t.len() < rest.len()) {
                    return self.next_line();
                }
            }
            break;
        }
        self.skip_to_content()
    }

    /// The struct field `key` names (exact spelling only), once per mapping.
    fn field(&self, fields: &[&'static str], key: &str, seen: &mut u32) -> R<&'static str> {
        let Some(i) = fields.iter().position(|f| *f == key) else {
            return self.bail("unknown or differently spelled field");
        };
        if *seen & (1 << i) != 0 {
            return self.bail("duplicate key");
        }
        *seen |= 1 << i;
        Ok(fields[i])
    }

    /// A scalar for a Go `string` field that only takes JSON strings (`digest`, `created`,
    /// `apiVersion`): a string, or nothing for null.
    fn strict_string(&self, node: Node<'a>) -> R<String> {
        match node {
            Node::Null => Ok(String::new()),
            Node::Scalar(t, plain) => match kind(&t, plain) {
                PlainKind::Str => Ok(t.into_owned()),
                PlainKind::Null => Ok(String::new()),
                _ => self.bail("non-string value for a string field"),
            },
            _ => self.bail("collection for a string field"),
        }
    }

    /// A scalar for a `chart.Metadata` string field (sigs.k8s.io/yaml writes bools as text);
    /// `None` for null (the field keeps its value).
    fn meta_string(&self, node: Node<'a>) -> R<Option<String>> {
        match node {
            Node::Null => Ok(None),
            Node::Scalar(t, plain) => match kind(&t, plain) {
                PlainKind::Str => Ok(Some(t.into_owned())),
                PlainKind::Null => Ok(None),
                PlainKind::Bool(b) => Ok(Some(if b { "true" } else { "false" }.into())),
                PlainKind::Other => self.bail("number for a string field"),
            },
            _ => self.bail("collection for a string field"),
        }
    }

    fn set_string(&self, node: Node<'a>, out: &mut String) -> R<()> {
        if let Some(s) = self.meta_string(node)? {
            *out = s;
        }
        Ok(())
    }

    fn bool_field(&self, node: Node<'a>, out: &mut bool) -> R<()> {
        match node {
            Node::Null => Ok(()),
            Node::Scalar(t, plain) => match kind(&t, plain) {
                PlainKind::Null => Ok(()),
                PlainKind::Bool(b) => {
                    *out = b;
                    Ok(())
                }
                _ => self.bail("non-bool for a bool field"),
            },
            _ => self.bail("collection for a bool field"),
        }
    }

    /// A `[]string` of `chart.Metadata` (null items are empty strings).
    fn string_list(&mut self, node: Node<'a>) -> R<Vec<String>> {
        match node {
            Node::Null | Node::EmptySeq => Ok(Vec::new()),
            Node::Seq(c) => {
                let mut out = Vec::new();
                self.seq(c, |r, item| {
                    out.push(r.meta_string(item)?.unwrap_or_default());
                    Ok(())
                })?;
                Ok(out)
            }
            _ => self.bail("non-sequence for a list field"),
        }
    }

    /// `urls` and `publicKeys`: strings only.
    fn url_list(&mut self, node: Node<'a>) -> R<Vec<String>> {
        match node {
            Node::Null | Node::EmptySeq => Ok(Vec::new()),
            Node::Seq(c) => {
                let mut out = Vec::new();
                self.seq(c, |r, item| match item {
                    Node::Scalar(t, plain) if kind(&t, plain) == PlainKind::Str => {
                        out.push(t.into_owned());
                        Ok(())
                    }
                    _ => r.bail("non-string in a string list"),
                })?;
                Ok(out)
            }
            _ => self.bail("non-sequence for a list field"),
        }
    }

    /// Any value, read for its syntax only (`serverInfo`).
    fn skip(&mut self, node: Node<'a>) -> R<()> {
        match node {
            Node::Null | Node::Scalar(..) | Node::EmptyMap | Node::EmptySeq => Ok(()),
            Node::Map(c) => {
                let mut keys: Vec<Cow<'a, str>> = Vec::new();
                self.map(c, |r, k| {
                    if keys.contains(&k) {
                        return r.bail("duplicate key");
                    }
                    keys.push(k);
                    let v = r.value(c)?;
                    r.skip(v)
                })
            }
            Node::Seq(c) => self.seq(c, |r, item| r.skip(item)),
        }
    }

    /// One chart version: its metadata and the `repo.ChartVersion` fields.
    #[allow(clippy::type_complexity)]
    fn entry(&mut self, col: usize) -> R<(Metadata, Vec<String>, String, bool, String)> {
        let mut md = Metadata::default();
        let (mut urls, mut created, mut removed, mut digest) =
            (Vec::new(), String::new(), false, String::new());
        let mut seen = 0u32;
        self.map(col, |r, key| {
            let f = r.field(ENTRY_FIELDS, &key, &mut seen)?;
            let node = r.value(col)?;
            match f {
                "name" => r.set_string(node, &mut md.name)?,
                "home" => r.set_string(node, &mut md.home)?,
                "version" => r.set_string(node, &mut md.version)?,
                "description" => r.set_string(node, &mut md.description)?,
                "icon" => r.set_string(node, &mut md.icon)?,
                "apiVersion" => r.set_string(node, &mut md.api_version)?,
                "condition" => r.set_string(node, &mut md.condition)?,
                "tags" => r.set_string(node, &mut md.tags)?,
                "appVersion" => r.set_string(node, &mut md.app_version)?,
                "kubeVersion" => r.set_string(node, &mut md.kube_version)?,
                "type" => r.set_string(node, &mut md.chart_type)?,
                "sources" => md.sources = r.string_list(node)?,
                "keywords" => md.keywords = r.string_list(node)?,
                "deprecated" => r.bool_field(node, &mut md.deprecated)?,
                "annotations" => match node {
                    Node::Null | Node::EmptyMap => {}
                    Node::Map(c) => r.map(c, |r, k| {
                        if md.annotations.contains_key(k.as_ref()) {
                            return r.bail("duplicate key");
                        }
                        let v = r.value(c)?;
                        let v = r.meta_string(v)?.unwrap_or_default();
                        md.annotations.insert(k.into_owned(), v);
                        Ok(())
                    })?,
                    _ => return r.bail("annotations that are not a mapping"),
                },
                "maintainers" => md.maintainers = r.maintainers(node)?,
                "dependencies" => md.dependencies = r.dependencies(node)?,
                "urls" => urls = r.url_list(node)?,
                "created" => created = r.strict_string(node)?,
                "digest" => digest = r.strict_string(node)?,
                "removed" => r.bool_field(node, &mut removed)?,
                // Legacy fields: present on the struct for strict decoding, ignored.
                _ => match node {
                    Node::Null | Node::Scalar(..) => {}
                    _ => return r.bail("collection for a legacy field"),
                },
            }
            Ok(())
        })?;
        Ok((md, urls, created, removed, digest))
    }

    /// The items of a list of mappings, each read by `f` (`None`: `{}`).
    fn maps<T: Default>(
        &mut self,
        node: Node<'a>,
        mut f: impl FnMut(&mut Self, usize) -> R<T>,
    ) -> R<Vec<T>> {
        match node {
            Node::Null | Node::EmptySeq => Ok(Vec::new()),
            Node::Seq(c) => {
                let mut out = Vec::new();
                self.seq(c, |r, item| {
                    out.push(match item {
                        Node::EmptyMap => T::default(),
                        Node::Map(ic) => f(r, ic)?,
                        _ => return r.bail("list item that is not a mapping"),
                    });
                    Ok(())
                })?;
                Ok(out)
            }
            _ => self.bail("non-sequence for a list field"),
        }
    }

    fn maintainers(&mut self, node: Node<'a>) -> R<Vec<Maintainer>> {
        self.maps(node, |r, col| {
            let mut m = Maintainer::default();
            let mut seen = 0u32;
            r.map(col, |r, key| {
                let f = r.field(MAINTAINER_FIELDS, &key, &mut seen)?;
                let node = r.value(col)?;
                match f {
                    "name" => r.set_string(node, &mut m.name),
                    "email" => r.set_string(node, &mut m.email),
                    _ => r.set_string(node, &mut m.url),
                }
            })?;
            Ok(m)
        })
    }

    fn dependencies(&mut self, node: Node<'a>) -> R<Vec<Dependency>> {
        self.maps(node, |r, col| {
            let mut d = Dependency::default();
            let mut seen = 0u32;
            r.map(col, |r, key| {
                let f = r.field(DEPENDENCY_FIELDS, &key, &mut seen)?;
                let node = r.value(col)?;
                match f {
                    "name" => r.set_string(node, &mut d.name),
                    "version" => r.set_string(node, &mut d.version),
                    "repository" => r.set_string(node, &mut d.repository),
                    "condition" => r.set_string(node, &mut d.condition),
                    "alias" => r.set_string(node, &mut d.alias),
                    "tags" => {
                        d.tags = r.string_list(node)?;
                        Ok(())
                    }
                    "enabled" => r.bool_field(node, &mut d.enabled),
                    _ => {
                        d.import_values = r.import_values(node)?;
                        Ok(())
                    }
                }
            })?;
            Ok(d)
        })
    }
}

impl<'a> Reader<'a> {
    /// `import-values`: kept as values (`[]interface{}`); here strings and `{child, parent}`
    /// mappings of strings, the forms Helm documents.
    fn import_values(&mut self, node: Node<'a>) -> R<Vec<rudder_engine::Value>> {
        use rudder_engine::Value;
        let string = |r: &Self, node: Node<'a>| match node {
            Node::Scalar(t, plain) if kind(&t, plain) == PlainKind::Str => {
                Ok(Value::string(t.as_ref()))
            }
            _ => r.bail("import-values item that is not a string"),
        };
        match node {
            Node::Null | Node::EmptySeq => Ok(Vec::new()),
            Node::Seq(c) => {
                let mut out = Vec::new();
                self.seq(c, |r, item| {
                    out.push(match item {
                        Node::Map(mc) => {
                            let mut m = BTreeMap::new();
                            r.map(mc, |r, k| {
                                let v = r.value(mc)?;
                                let v = string(r, v)?;
                                if m.insert(rudder_engine::Str::from(k.as_ref()), v).is_some() {
                                    return r.bail("duplicate key");
                                }
                                Ok(())
                            })?;
                            Value::map(m)
                        }
                        other => string(r, other)?,
                    });
                    Ok(())
                })?;
                Ok(out)
            }
            _ => self.bail("import-values that are not a sequence"),
        }
    }
}

fn utf8_width(b: u8) -> usize {
    match b {
        0..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}
