//! The YAML scanner: characters to tokens, with go-yaml v2's (libyaml-derived) rules for simple
//! keys, indentation, block and flow scalars, and the same error texts and marks.
//!
//! The input is a whole string, decoded up front (go-yaml reads it in 512-byte chunks; a reader
//! error such as a control character therefore surfaces here before any scanner error, which is
//! what go-yaml does for inputs shorter than a chunk).

use std::collections::VecDeque;

/// A position: character index, 0-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    pub index: usize,
    pub line: usize,
    pub column: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Reader,
    Scanner,
    Parser,
}

/// A parse failure with libyaml's fields; `message()` formats it as go-yaml v2 does.
#[derive(Clone, Debug)]
pub struct ParseError {
    pub kind: ErrorKind,
    /// libyaml's context ("while scanning a simple key"); go-yaml does not print it.
    #[allow(dead_code)]
    pub context: String,
    pub context_mark: Mark,
    pub problem: String,
    pub problem_mark: Mark,
}

impl ParseError {
    /// go-yaml v2 `parser.fail()`: `yaml: line N: PROBLEM` (scanner lines are 1-based, parser
    /// lines are go-yaml's 0-based problem line, falling back to the context line).
    pub fn message(&self) -> String {
        let mut line = 0;
        if self.problem_mark.line != 0 {
            line = self.problem_mark.line;
            if self.kind == ErrorKind::Scanner {
                line += 1;
            }
        } else if self.context_mark.line != 0 {
            line = self.context_mark.line;
        }
        let where_ = if line != 0 { format!("line {line}: ") } else { String::new() };
        let msg = if self.problem.is_empty() { "unknown problem parsing YAML content" } else { &self.problem };
        format!("yaml: {where_}{msg}")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenType {
    StreamStart,
    StreamEnd,
    VersionDirective,
    TagDirective,
    DocumentStart,
    DocumentEnd,
    BlockSequenceStart,
    BlockMappingStart,
    BlockEnd,
    FlowSequenceStart,
    FlowSequenceEnd,
    FlowMappingStart,
    FlowMappingEnd,
    BlockEntry,
    FlowEntry,
    Key,
    Value,
    Alias,
    Anchor,
    Tag,
    Scalar,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarStyle {
    Any,
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Clone, Debug)]
pub struct Token {
    pub typ: TokenType,
    pub start_mark: Mark,
    pub end_mark: Mark,
    /// Scalar value, alias/anchor name, tag handle, %TAG handle.
    pub value: Vec<u8>,
    /// Tag suffix.
    pub suffix: Vec<u8>,
    /// %TAG prefix.
    pub prefix: Vec<u8>,
    pub style: ScalarStyle,
    pub major: i8,
    pub minor: i8,
}

impl Token {
    fn new(typ: TokenType, start_mark: Mark, end_mark: Mark) -> Token {
        Token {
            typ,
            start_mark,
            end_mark,
            value: Vec::new(),
            suffix: Vec::new(),
            prefix: Vec::new(),
            style: ScalarStyle::Any,
            major: 0,
            minor: 0,
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct SimpleKey {
    possible: bool,
    required: bool,
    token_number: usize,
    mark: Mark,
}

const MAX_FLOW_LEVEL: usize = 10000;
const MAX_INDENTS: usize = 10000;

type R<T> = Result<T, ParseError>;

pub struct Scanner {
    buf: Vec<u8>,
    pos: usize,
    pub mark: Mark,
    tokens: VecDeque<Token>,
    pub tokens_parsed: usize,
    token_available: bool,
    stream_start_produced: bool,
    stream_end_produced: bool,
    indent: isize,
    indents: Vec<isize>,
    simple_key_allowed: bool,
    simple_keys: Vec<SimpleKey>,
    /// Token number → index in `simple_keys` of the possible simple keys (go-yaml's map):
    /// at most one per flow level, so a short list searched in order beats hashing.
    simple_keys_by_tok: TokIndex,
    flow_level: usize,
    /// A reader error found while decoding the input, raised on the first fetch.
    reader_error: Option<ParseError>,
    pub failed: Option<ParseError>,
}

/// A small map from token numbers to simple-key indexes, in insertion order (token numbers
/// grow, so the oldest entry comes first).
#[derive(Default)]
struct TokIndex(Vec<(usize, usize)>);

impl TokIndex {
    /// The index for token `tok`, the next token to be parsed. Entries of tokens already
    /// parsed can never be asked for again (token numbers only grow) and are dropped here: as
    /// in go-yaml, a key that stopped being possible keeps its entry, and they would pile up.
    fn get(&mut self, tok: usize) -> Option<usize> {
        if self.0.first().is_some_and(|(t, _)| *t < tok) {
            self.0.retain(|(t, _)| *t >= tok);
        }
        self.0.iter().find(|(t, _)| *t == tok).map(|(_, i)| *i)
    }
    fn insert(&mut self, tok: usize, idx: usize) {
        match self.0.iter_mut().find(|(t, _)| *t == tok) {
            Some(e) => e.1 = idx,
            None => self.0.push((tok, idx)),
        }
    }
    fn remove(&mut self, tok: usize) {
        self.0.retain(|(t, _)| *t != tok);
    }
    fn clear(&mut self) {
        self.0.clear();
    }
}

fn reader_error(problem: &str) -> ParseError {
    ParseError {
        kind: ErrorKind::Reader,
        context: String::new(),
        context_mark: Mark::default(),
        problem: problem.to_string(),
        problem_mark: Mark::default(),
    }
}

/// The reader's character check: which characters YAML allows in a stream.
fn check_chars(s: &str) -> Option<ParseError> {
    // Values files and rendered manifests are nearly all ASCII: bytes are checked one by one
    // and only the (rare) non-ASCII characters are decoded.
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // 32 bytes at a time while they are all printable ASCII, tab or a break (a loop
        // without an early exit, which the compiler turns into vector code).
        if let Some(chunk) = bytes.get(i..i + 32) {
            if chunk.iter().fold(true, |ok, &b| ok & ((0x20..=0x7E).contains(&b) | (b == 0x09) | (b == 0x0A) | (b == 0x0D))) {
                i += 32;
                continue;
            }
        }
        let b = bytes[i];
        if b < 0x80 {
            if !(b == 0x09 || b == 0x0A || b == 0x0D || (0x20..=0x7E).contains(&b)) {
                return Some(reader_error("control characters are not allowed"));
            }
            i += 1;
            continue;
        }
        let c = s[i..].chars().next().unwrap_or('\0');
        i += c.len_utf8();
        let v = c as u32;
        let ok = v == 0x09
            || v == 0x0A
            || v == 0x0D
            || (0x20..=0x7E).contains(&v)
            || v == 0x85
            || (0xA0..=0xD7FF).contains(&v)
            || (0xE000..=0xFFFD).contains(&v)
            || (0x10000..=0x10FFFF).contains(&v);
        if !ok {
            return Some(reader_error("control characters are not allowed"));
        }
    }
    None
}

fn width(b: u8) -> usize {
    if b & 0x80 == 0 {
        1
    } else if b & 0xE0 == 0xC0 {
        2
    } else if b & 0xF0 == 0xE0 {
        3
    } else if b & 0xF8 == 0xF0 {
        4
    } else {
        0
    }
}

fn is_alpha_b(c: u8) -> bool {
    c.is_ascii_digit() || c.is_ascii_uppercase() || c.is_ascii_lowercase() || c == b'_' || c == b'-'
}

fn is_hex_b(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn as_hex(c: u8) -> u32 {
    match c {
        b'A'..=b'F' => (c - b'A' + 10) as u32,
        b'a'..=b'f' => (c - b'a' + 10) as u32,
        _ => (c.wrapping_sub(b'0')) as u32,
    }
}

impl Scanner {
    pub fn new(input: &str) -> Scanner {
        let reader_error = check_chars(input);
        let mut bytes = input.as_bytes();
        if bytes.starts_with(b"\xEF\xBB\xBF") {
            bytes = &bytes[3..];
        }
        let mut buf = Vec::with_capacity(bytes.len() + 8);
        buf.extend_from_slice(bytes);
        buf.extend_from_slice(&[0u8; 8]);
        Scanner {
            buf,
            pos: 0,
            mark: Mark::default(),
            tokens: VecDeque::new(),
            tokens_parsed: 0,
            token_available: false,
            stream_start_produced: false,
            stream_end_produced: false,
            indent: 0,
            indents: Vec::new(),
            simple_key_allowed: false,
            simple_keys: Vec::new(),
            simple_keys_by_tok: TokIndex::default(),
            flow_level: 0,
            reader_error,
            failed: None,
        }
    }

    // ---- character access -------------------------------------------------------------

    #[inline]
    fn at(&self, off: usize) -> u8 {
        *self.buf.get(self.pos + off).unwrap_or(&0)
    }

    #[inline]
    fn ch(&self) -> u8 {
        self.at(0)
    }

    fn is_z_at(&self, off: usize) -> bool {
        self.at(off) == 0
    }

    fn is_blank_at(&self, off: usize) -> bool {
        matches!(self.at(off), b' ' | b'\t')
    }

    fn is_break_at(&self, off: usize) -> bool {
        let b0 = self.at(off);
        b0 == b'\r'
            || b0 == b'\n'
            || (b0 == 0xC2 && self.at(off + 1) == 0x85)
            || (b0 == 0xE2 && self.at(off + 1) == 0x80 && (self.at(off + 2) == 0xA8 || self.at(off + 2) == 0xA9))
    }

    fn is_breakz_at(&self, off: usize) -> bool {
        self.is_break_at(off) || self.is_z_at(off)
    }

    fn is_blankz_at(&self, off: usize) -> bool {
        self.is_blank_at(off) || self.is_breakz_at(off)
    }

    fn is_blankz(&self) -> bool {
        self.is_blankz_at(0)
    }

    fn is_breakz(&self) -> bool {
        self.is_breakz_at(0)
    }

    fn is_break(&self) -> bool {
        self.is_break_at(0)
    }

    fn is_blank(&self) -> bool {
        self.is_blank_at(0)
    }

    fn skip(&mut self) {
        if self.is_z_at(0) {
            return;
        }
        self.mark.index += 1;
        self.mark.column += 1;
        self.pos += width(self.ch()).max(1);
    }

    fn skip_line(&mut self) {
        if self.ch() == b'\r' && self.at(1) == b'\n' {
            self.mark.index += 2;
            self.mark.column = 0;
            self.mark.line += 1;
            self.pos += 2;
        } else if self.is_break() {
            self.mark.index += 1;
            self.mark.column = 0;
            self.mark.line += 1;
            self.pos += width(self.ch()).max(1);
        }
    }

    fn read(&mut self, s: &mut Vec<u8>) {
        if self.is_z_at(0) {
            return;
        }
        let w = width(self.ch()).max(1);
        s.extend_from_slice(&self.buf[self.pos..self.pos + w]);
        self.pos += w;
        self.mark.index += 1;
        self.mark.column += 1;
    }

    /// Advances over the run of ASCII characters at the reading position for which `keep`
    /// holds (at most `max`), all at once: the per-character loops of the scanner spend most
    /// of a big document's time on such runs (indentation, words). Returns the run's length.
    /// `keep` must not hold for breaks or the end marker (0).
    #[inline]
    fn skip_ascii_run(&mut self, max: usize, keep: impl Fn(u8) -> bool) -> usize {
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        let rest = &rest[..rest.len().min(max)];
        let n = rest.iter().position(|&b| !(b.is_ascii() && keep(b))).unwrap_or(rest.len());
        self.pos += n;
        self.mark.index += n;
        self.mark.column += n;
        n
    }

    /// [`Scanner::skip_ascii_run`], appending the run to `s` as [`Scanner::read`] would.
    #[inline]
    fn read_ascii_run(&mut self, s: &mut Vec<u8>, keep: impl Fn(u8) -> bool) -> usize {
        let from = self.pos;
        let n = self.skip_ascii_run(usize::MAX, keep);
        s.extend_from_slice(&self.buf[from..from + n]);
        n
    }

    fn read_line(&mut self, s: &mut Vec<u8>) {
        let b0 = self.ch();
        let b1 = self.at(1);
        if b0 == b'\r' && b1 == b'\n' {
            s.push(b'\n');
            self.pos += 2;
            self.mark.index += 1;
        } else if b0 == b'\r' || b0 == b'\n' {
            s.push(b'\n');
            self.pos += 1;
        } else if b0 == 0xC2 && b1 == 0x85 {
            s.push(b'\n');
            self.pos += 2;
        } else if b0 == 0xE2 && b1 == 0x80 && (self.at(2) == 0xA8 || self.at(2) == 0xA9) {
            s.extend_from_slice(&self.buf[self.pos..self.pos + 3]);
            self.pos += 3;
        } else {
            return;
        }
        self.mark.index += 1;
        self.mark.column = 0;
        self.mark.line += 1;
    }

    // ---- errors -----------------------------------------------------------------------

    fn error(&mut self, context: &str, context_mark: Mark, problem: &str) -> ParseError {
        ParseError {
            kind: ErrorKind::Scanner,
            context: context.to_string(),
            context_mark,
            problem: problem.to_string(),
            problem_mark: self.mark,
        }
    }

    fn fail<T>(&mut self, context: &str, context_mark: Mark, problem: &str) -> R<T> {
        Err(self.error(context, context_mark, problem))
    }

    // ---- token queue ------------------------------------------------------------------

    fn insert_token(&mut self, pos: Option<usize>, token: Token) {
        match pos {
            None => self.tokens.push_back(token),
            Some(p) => {
                let p = p.min(self.tokens.len());
                self.tokens.insert(p, token);
            }
        }
    }

    /// The next token without consuming it (go-yaml `peek_token`).
    pub fn peek(&mut self) -> R<&Token> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if !self.token_available {
            if let Err(e) = self.fetch_more_tokens() {
                self.failed = Some(e.clone());
                return Err(e);
            }
        }
        if self.tokens.is_empty() {
            return Err(self.error("", Mark::default(), "unknown problem parsing YAML content"));
        }
        Ok(&self.tokens[0])
    }

    /// Consumes the current token (go-yaml `skip_token`).
    pub fn skip_token(&mut self) {
        self.token_available = false;
        self.tokens_parsed += 1;
        if let Some(t) = self.tokens.pop_front() {
            self.stream_end_produced = t.typ == TokenType::StreamEnd;
        }
    }

    fn fetch_more_tokens(&mut self) -> R<()> {
        loop {
            if !self.tokens.is_empty() {
                match self.simple_keys_by_tok.get(self.tokens_parsed) {
                    None => break,
                    Some(idx) => {
                        if !self.simple_key_is_valid(idx)? {
                            break;
                        }
                    }
                }
            }
            self.fetch_next_token()?;
        }
        self.token_available = true;
        Ok(())
    }

    fn simple_key_is_valid(&mut self, idx: usize) -> R<bool> {
        let sk = self.simple_keys[idx];
        if !sk.possible {
            return Ok(false);
        }
        if sk.mark.line < self.mark.line || sk.mark.index + 1024 < self.mark.index {
            if sk.required {
                return self.fail("while scanning a simple key", sk.mark, "could not find expected ':'");
            }
            self.simple_keys[idx].possible = false;
            return Ok(false);
        }
        Ok(true)
    }

    fn fetch_next_token(&mut self) -> R<()> {
        if !self.stream_start_produced {
            return self.fetch_stream_start();
        }
        if let Some(e) = self.reader_error.take() {
            return Err(e);
        }
        self.scan_to_next_token()?;
        self.unroll_indent(self.mark.column as isize);

        if self.is_z_at(0) {
            return self.fetch_stream_end();
        }
        let c = self.ch();
        if self.mark.column == 0 && c == b'%' {
            return self.fetch_directive();
        }
        if self.mark.column == 0 && c == b'-' && self.at(1) == b'-' && self.at(2) == b'-' && self.is_blankz_at(3) {
            return self.fetch_document_indicator(TokenType::DocumentStart);
        }
        if self.mark.column == 0 && c == b'.' && self.at(1) == b'.' && self.at(2) == b'.' && self.is_blankz_at(3) {
            return self.fetch_document_indicator(TokenType::DocumentEnd);
        }
        match c {
            b'[' => return self.fetch_flow_collection_start(TokenType::FlowSequenceStart),
            b'{' => return self.fetch_flow_collection_start(TokenType::FlowMappingStart),
            b']' => return self.fetch_flow_collection_end(TokenType::FlowSequenceEnd),
            b'}' => return self.fetch_flow_collection_end(TokenType::FlowMappingEnd),
            b',' => return self.fetch_flow_entry(),
            _ => {}
        }
        if c == b'-' && self.is_blankz_at(1) {
            return self.fetch_block_entry();
        }
        if c == b'?' && (self.flow_level > 0 || self.is_blankz_at(1)) {
            return self.fetch_key();
        }
        if c == b':' && (self.flow_level > 0 || self.is_blankz_at(1)) {
            return self.fetch_value();
        }
        match c {
            b'*' => return self.fetch_anchor(TokenType::Alias),
            b'&' => return self.fetch_anchor(TokenType::Anchor),
            b'!' => return self.fetch_tag(),
            b'|' if self.flow_level == 0 => return self.fetch_block_scalar(true),
            b'>' if self.flow_level == 0 => return self.fetch_block_scalar(false),
            b'\'' => return self.fetch_flow_scalar(true),
            b'"' => return self.fetch_flow_scalar(false),
            _ => {}
        }
        let indicator = self.is_blankz()
            || matches!(
                c,
                b'-' | b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`'
            );
        if !indicator
            || (c == b'-' && !self.is_blank_at(1))
            || (self.flow_level == 0 && (c == b'?' || c == b':') && !self.is_blankz_at(1))
        {
            return self.fetch_plain_scalar();
        }
        let m = self.mark;
        self.fail("while scanning for the next token", m, "found character that cannot start any token")
    }

    fn save_simple_key(&mut self) -> R<()> {
        let required = self.flow_level == 0 && self.indent == self.mark.column as isize;
        if self.simple_key_allowed {
            let sk = SimpleKey {
                possible: true,
                required,
                token_number: self.tokens_parsed + self.tokens.len(),
                mark: self.mark,
            };
            self.remove_simple_key()?;
            let last = self.simple_keys.len() - 1;
            self.simple_keys[last] = sk;
            self.simple_keys_by_tok.insert(sk.token_number, last);
        }
        Ok(())
    }

    fn remove_simple_key(&mut self) -> R<()> {
        let i = self.simple_keys.len() - 1;
        if self.simple_keys[i].possible {
            if self.simple_keys[i].required {
                let m = self.simple_keys[i].mark;
                return self.fail("while scanning a simple key", m, "could not find expected ':'");
            }
            self.simple_keys[i].possible = false;
            let tn = self.simple_keys[i].token_number;
            self.simple_keys_by_tok.remove(tn);
        }
        Ok(())
    }

    fn increase_flow_level(&mut self) -> R<()> {
        self.simple_keys.push(SimpleKey {
            possible: false,
            required: false,
            token_number: self.tokens_parsed + self.tokens.len(),
            mark: self.mark,
        });
        self.flow_level += 1;
        if self.flow_level > MAX_FLOW_LEVEL {
            let m = self.simple_keys[self.simple_keys.len() - 1].mark;
            return self.fail("while increasing flow level", m, &format!("exceeded max depth of {MAX_FLOW_LEVEL}"));
        }
        Ok(())
    }

    fn decrease_flow_level(&mut self) {
        if self.flow_level > 0 {
            self.flow_level -= 1;
            if let Some(last) = self.simple_keys.pop() {
                self.simple_keys_by_tok.remove(last.token_number);
            }
        }
    }

    fn roll_indent(&mut self, column: isize, number: Option<usize>, typ: TokenType, mark: Mark) -> R<()> {
        if self.flow_level > 0 {
            return Ok(());
        }
        if self.indent < column {
            self.indents.push(self.indent);
            self.indent = column;
            if self.indents.len() > MAX_INDENTS {
                let m = self.simple_keys[self.simple_keys.len() - 1].mark;
                return self.fail("while increasing indent level", m, &format!("exceeded max depth of {MAX_INDENTS}"));
            }
            let token = Token::new(typ, mark, mark);
            let pos = number.map(|n| n.saturating_sub(self.tokens_parsed));
            self.insert_token(pos, token);
        }
        Ok(())
    }

    fn unroll_indent(&mut self, column: isize) {
        if self.flow_level > 0 {
            return;
        }
        while self.indent > column {
            let token = Token::new(TokenType::BlockEnd, self.mark, self.mark);
            self.insert_token(None, token);
            self.indent = self.indents.pop().unwrap_or(-1);
        }
    }

    fn fetch_stream_start(&mut self) -> R<()> {
        self.indent = -1;
        self.simple_keys.push(SimpleKey::default());
        self.simple_keys_by_tok.clear();
        self.simple_key_allowed = true;
        self.stream_start_produced = true;
        let t = Token::new(TokenType::StreamStart, self.mark, self.mark);
        self.insert_token(None, t);
        Ok(())
    }

    fn fetch_stream_end(&mut self) -> R<()> {
        if self.mark.column != 0 {
            self.mark.column = 0;
            self.mark.line += 1;
        }
        self.unroll_indent(-1);
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        let t = Token::new(TokenType::StreamEnd, self.mark, self.mark);
        self.insert_token(None, t);
        Ok(())
    }

    fn fetch_directive(&mut self) -> R<()> {
        self.unroll_indent(-1);
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        let t = self.scan_directive()?;
        self.insert_token(None, t);
        Ok(())
    }

    fn fetch_document_indicator(&mut self, typ: TokenType) -> R<()> {
        self.unroll_indent(-1);
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        let start = self.mark;
        self.skip();
        self.skip();
        self.skip();
        let t = Token::new(typ, start, self.mark);
        self.insert_token(None, t);
        Ok(())
    }

    fn fetch_flow_collection_start(&mut self, typ: TokenType) -> R<()> {
        self.save_simple_key()?;
        self.increase_flow_level()?;
        self.simple_key_allowed = true;
        let start = self.mark;
        self.skip();
        let t = Token::new(typ, start, self.mark);
        self.insert_token(None, t);
        Ok(())
    }

    fn fetch_flow_collection_end(&mut self, typ: TokenType) -> R<()> {
        self.remove_simple_key()?;
        self.decrease_flow_level();
        self.simple_key_allowed = false;
        let start = self.mark;
        self.skip();
        let t = Token::new(typ, start, self.mark);
        self.insert_token(None, t);
        Ok(())
    }

    fn fetch_flow_entry(&mut self) -> R<()> {
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        let start = self.mark;
        self.skip();
        let t = Token::new(TokenType::FlowEntry, start, self.mark);
        self.insert_token(None, t);
        Ok(())
    }

    fn fetch_block_entry(&mut self) -> R<()> {
        if self.flow_level == 0 {
            if !self.simple_key_allowed {
                let m = self.mark;
                return self.fail("", m, "block sequence entries are not allowed in this context");
            }
            let m = self.mark;
            self.roll_indent(self.mark.column as isize, None, TokenType::BlockSequenceStart, m)?;
        }
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        let start = self.mark;
        self.skip();
        let t = Token::new(TokenType::BlockEntry, start, self.mark);
        self.insert_token(None, t);
        Ok(())
    }

    fn fetch_key(&mut self) -> R<()> {
        if self.flow_level == 0 {
            if !self.simple_key_allowed {
                let m = self.mark;
                return self.fail("", m, "mapping keys are not allowed in this context");
            }
            let m = self.mark;
            self.roll_indent(self.mark.column as isize, None, TokenType::BlockMappingStart, m)?;
        }
        self.remove_simple_key()?;
        self.simple_key_allowed = self.flow_level == 0;
        let start = self.mark;
        self.skip();
        let t = Token::new(TokenType::Key, start, self.mark);
        self.insert_token(None, t);
        Ok(())
    }

    fn fetch_value(&mut self) -> R<()> {
        let idx = self.simple_keys.len() - 1;
        if self.simple_key_is_valid(idx)? {
            let sk = self.simple_keys[idx];
            let t = Token::new(TokenType::Key, sk.mark, sk.mark);
            self.insert_token(Some(sk.token_number - self.tokens_parsed), t);
            self.roll_indent(sk.mark.column as isize, Some(sk.token_number), TokenType::BlockMappingStart, sk.mark)?;
            self.simple_keys[idx].possible = false;
            self.simple_keys_by_tok.remove(sk.token_number);
            self.simple_key_allowed = false;
        } else {
            if self.flow_level == 0 {
                if !self.simple_key_allowed {
                    let m = self.mark;
                    return self.fail("", m, "mapping values are not allowed in this context");
                }
                let m = self.mark;
                self.roll_indent(self.mark.column as isize, None, TokenType::BlockMappingStart, m)?;
            }
            self.simple_key_allowed = self.flow_level == 0;
        }
        let start = self.mark;
        self.skip();
        let t = Token::new(TokenType::Value, start, self.mark);
        self.insert_token(None, t);
        Ok(())
    }

    fn fetch_anchor(&mut self, typ: TokenType) -> R<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let t = self.scan_anchor(typ)?;
        self.insert_token(None, t);
        Ok(())
    }

    fn fetch_tag(&mut self) -> R<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let t = self.scan_tag()?;
        self.insert_token(None, t);
        Ok(())
    }

    fn fetch_block_scalar(&mut self, literal: bool) -> R<()> {
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        let t = self.scan_block_scalar(literal)?;
        self.insert_token(None, t);
        Ok(())
    }

    fn fetch_flow_scalar(&mut self, single: bool) -> R<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let t = self.scan_flow_scalar(single)?;
        self.insert_token(None, t);
        Ok(())
    }

    fn fetch_plain_scalar(&mut self) -> R<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let t = self.scan_plain_scalar()?;
        self.insert_token(None, t);
        Ok(())
    }

    fn scan_to_next_token(&mut self) -> R<()> {
        loop {
            if self.mark.column == 0 && self.ch() == 0xEF && self.at(1) == 0xBB && self.at(2) == 0xBF {
                self.skip();
            }
            let tabs = self.flow_level > 0 || !self.simple_key_allowed;
            self.skip_ascii_run(usize::MAX, |b| b == b' ' || (tabs && b == b'\t'));
            if self.ch() == b'#' {
                while !self.is_breakz() {
                    self.skip();
                }
            }
            if self.is_break() {
                self.skip_line();
                if self.flow_level == 0 {
                    self.simple_key_allowed = true;
                }
            } else {
                break;
            }
        }
        Ok(())
    }

    fn scan_directive(&mut self) -> R<Token> {
        let start = self.mark;
        self.skip();
        let name = self.scan_directive_name(start)?;
        let mut token;
        if name == b"YAML" {
            let (major, minor) = self.scan_version_directive_value(start)?;
            token = Token::new(TokenType::VersionDirective, start, self.mark);
            token.major = major;
            token.minor = minor;
        } else if name == b"TAG" {
            let (handle, prefix) = self.scan_tag_directive_value(start)?;
            token = Token::new(TokenType::TagDirective, start, self.mark);
            token.value = handle;
            token.prefix = prefix;
        } else {
            return self.fail("while scanning a directive", start, "found unknown directive name");
        }
        while self.is_blank() {
            self.skip();
        }
        if self.ch() == b'#' {
            while !self.is_breakz() {
                self.skip();
            }
        }
        if !self.is_breakz() {
            return self.fail("while scanning a directive", start, "did not find expected comment or line break");
        }
        if self.is_break() {
            self.skip_line();
        }
        Ok(token)
    }

    fn scan_directive_name(&mut self, start: Mark) -> R<Vec<u8>> {
        let mut s = Vec::new();
        while is_alpha_b(self.ch()) {
            self.read(&mut s);
        }
        if s.is_empty() {
            return self.fail("while scanning a directive", start, "could not find expected directive name");
        }
        if !self.is_blankz() {
            return self.fail("while scanning a directive", start, "found unexpected non-alphabetical character");
        }
        Ok(s)
    }

    fn scan_version_directive_value(&mut self, start: Mark) -> R<(i8, i8)> {
        while self.is_blank() {
            self.skip();
        }
        let major = self.scan_version_directive_number(start)?;
        if self.ch() != b'.' {
            return self.fail("while scanning a %YAML directive", start, "did not find expected digit or '.' character");
        }
        self.skip();
        let minor = self.scan_version_directive_number(start)?;
        Ok((major, minor))
    }

    fn scan_version_directive_number(&mut self, start: Mark) -> R<i8> {
        let mut value: i8 = 0;
        let mut length = 0;
        while self.ch().is_ascii_digit() {
            length += 1;
            if length > 2 {
                return self.fail("while scanning a %YAML directive", start, "found extremely long version number");
            }
            value = value.wrapping_mul(10).wrapping_add((self.ch() - b'0') as i8);
            self.skip();
        }
        if length == 0 {
            return self.fail("while scanning a %YAML directive", start, "did not find expected version number");
        }
        Ok(value)
    }

    fn scan_tag_directive_value(&mut self, start: Mark) -> R<(Vec<u8>, Vec<u8>)> {
        while self.is_blank() {
            self.skip();
        }
        let handle = self.scan_tag_handle(true, start)?;
        if !self.is_blank() {
            return self.fail("while scanning a %TAG directive", start, "did not find expected whitespace");
        }
        while self.is_blank() {
            self.skip();
        }
        let prefix = self.scan_tag_uri(true, &[], start)?;
        if !self.is_blankz() {
            return self.fail("while scanning a %TAG directive", start, "did not find expected whitespace or line break");
        }
        Ok((handle, prefix))
    }

    fn scan_anchor(&mut self, typ: TokenType) -> R<Token> {
        let mut s = Vec::new();
        let start = self.mark;
        self.skip();
        while is_alpha_b(self.ch()) {
            self.read(&mut s);
        }
        let end = self.mark;
        let c = self.ch();
        if s.is_empty() || !(self.is_blankz() || matches!(c, b'?' | b':' | b',' | b']' | b'}' | b'%' | b'@' | b'`')) {
            let context = if typ == TokenType::Anchor { "while scanning an anchor" } else { "while scanning an alias" };
            return self.fail(context, start, "did not find expected alphabetic or numeric character");
        }
        let mut t = Token::new(typ, start, end);
        t.value = s;
        Ok(t)
    }

    fn tag_error<T>(&mut self, directive: bool, start: Mark, problem: &str) -> R<T> {
        let context = if directive { "while parsing a %TAG directive" } else { "while parsing a tag" };
        self.fail(context, start, problem)
    }

    fn scan_tag(&mut self) -> R<Token> {
        let start = self.mark;
        let mut handle;
        let mut suffix;
        if self.at(1) == b'<' {
            handle = Vec::new();
            self.skip();
            self.skip();
            suffix = self.scan_tag_uri(false, &[], start)?;
            if self.ch() != b'>' {
                return self.fail("while scanning a tag", start, "did not find the expected '>'");
            }
            self.skip();
        } else {
            handle = self.scan_tag_handle(false, start)?;
            if handle[0] == b'!' && handle.len() > 1 && handle[handle.len() - 1] == b'!' {
                suffix = self.scan_tag_uri(false, &[], start)?;
            } else {
                suffix = self.scan_tag_uri(false, &handle, start)?;
                handle = vec![b'!'];
                if suffix.is_empty() {
                    std::mem::swap(&mut handle, &mut suffix);
                }
            }
        }
        if !self.is_blankz() {
            return self.fail("while scanning a tag", start, "did not find expected whitespace or line break");
        }
        let mut t = Token::new(TokenType::Tag, start, self.mark);
        t.value = handle;
        t.suffix = suffix;
        Ok(t)
    }

    fn scan_tag_handle(&mut self, directive: bool, start: Mark) -> R<Vec<u8>> {
        if self.ch() != b'!' {
            return self.tag_error(directive, start, "did not find expected '!'");
        }
        let mut s = Vec::new();
        self.read(&mut s);
        while is_alpha_b(self.ch()) {
            self.read(&mut s);
        }
        if self.ch() == b'!' {
            self.read(&mut s);
        } else if directive && s != b"!" {
            return self.tag_error(directive, start, "did not find expected '!'");
        }
        Ok(s)
    }

    fn scan_tag_uri(&mut self, directive: bool, head: &[u8], start: Mark) -> R<Vec<u8>> {
        let mut s = Vec::new();
        let mut has_tag = !head.is_empty();
        if head.len() > 1 {
            s.extend_from_slice(&head[1..]);
        }
        loop {
            let c = self.ch();
            let ok = is_alpha_b(c)
                || matches!(
                    c,
                    b';' | b'/' | b'?' | b':' | b'@' | b'&' | b'=' | b'+' | b'$' | b',' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')' | b'[' | b']' | b'%'
                );
            if !ok {
                break;
            }
            if c == b'%' {
                self.scan_uri_escapes(directive, start, &mut s)?;
            } else {
                self.read(&mut s);
            }
            has_tag = true;
        }
        if !has_tag {
            return self.tag_error(directive, start, "did not find expected tag URI");
        }
        Ok(s)
    }

    fn scan_uri_escapes(&mut self, directive: bool, start: Mark, s: &mut Vec<u8>) -> R<()> {
        let mut w: usize = 1024;
        while w > 0 {
            if !(self.ch() == b'%' && is_hex_b(self.at(1)) && is_hex_b(self.at(2))) {
                return self.tag_error(directive, start, "did not find URI escaped octet");
            }
            let octet = ((as_hex(self.at(1)) << 4) + as_hex(self.at(2))) as u8;
            if w == 1024 {
                w = width(octet);
                if w == 0 {
                    return self.tag_error(directive, start, "found an incorrect leading UTF-8 octet");
                }
            } else if octet & 0xC0 != 0x80 {
                return self.tag_error(directive, start, "found an incorrect trailing UTF-8 octet");
            }
            s.push(octet);
            self.skip();
            self.skip();
            self.skip();
            w -= 1;
        }
        Ok(())
    }

    fn scan_block_scalar(&mut self, literal: bool) -> R<Token> {
        let start = self.mark;
        self.skip();
        let mut chomping = 0i32;
        let mut increment = 0usize;
        if self.ch() == b'+' || self.ch() == b'-' {
            chomping = if self.ch() == b'+' { 1 } else { -1 };
            self.skip();
            if self.ch().is_ascii_digit() {
                if self.ch() == b'0' {
                    return self.fail("while scanning a block scalar", start, "found an indentation indicator equal to 0");
                }
                increment = (self.ch() - b'0') as usize;
                self.skip();
            }
        } else if self.ch().is_ascii_digit() {
            if self.ch() == b'0' {
                return self.fail("while scanning a block scalar", start, "found an indentation indicator equal to 0");
            }
            increment = (self.ch() - b'0') as usize;
            self.skip();
            if self.ch() == b'+' || self.ch() == b'-' {
                chomping = if self.ch() == b'+' { 1 } else { -1 };
                self.skip();
            }
        }
        while self.is_blank() {
            self.skip();
        }
        if self.ch() == b'#' {
            while !self.is_breakz() {
                self.skip();
            }
        }
        if !self.is_breakz() {
            return self.fail("while scanning a block scalar", start, "did not find expected comment or line break");
        }
        if self.is_break() {
            self.skip_line();
        }
        let mut end = self.mark;
        let mut indent: usize = 0;
        if increment > 0 {
            indent = if self.indent >= 0 { self.indent as usize + increment } else { increment };
        }
        let mut s = Vec::new();
        let mut leading_break = Vec::new();
        let mut trailing_breaks = Vec::new();
        self.scan_block_scalar_breaks(&mut indent, &mut trailing_breaks, start, &mut end)?;
        let mut leading_blank = false;
        let mut trailing_blank;
        while self.mark.column == indent && !self.is_z_at(0) {
            trailing_blank = self.is_blank();
            if !literal && !leading_blank && !trailing_blank && leading_break.first() == Some(&b'\n') {
                if trailing_breaks.is_empty() {
                    s.push(b' ');
                }
            } else {
                s.extend_from_slice(&leading_break);
            }
            leading_break.clear();
            s.extend_from_slice(&trailing_breaks);
            trailing_breaks.clear();
            leading_blank = self.is_blank();
            while !self.is_breakz() {
                if self.read_ascii_run(&mut s, |b| b == b'\t' || (b' '..=b'~').contains(&b)) == 0 {
                    self.read(&mut s);
                }
            }
            self.read_line(&mut leading_break);
            self.scan_block_scalar_breaks(&mut indent, &mut trailing_breaks, start, &mut end)?;
        }
        if chomping != -1 {
            s.extend_from_slice(&leading_break);
        }
        if chomping == 1 {
            s.extend_from_slice(&trailing_breaks);
        }
        let mut t = Token::new(TokenType::Scalar, start, end);
        t.value = s;
        t.style = if literal { ScalarStyle::Literal } else { ScalarStyle::Folded };
        Ok(t)
    }

    fn scan_block_scalar_breaks(&mut self, indent: &mut usize, breaks: &mut Vec<u8>, start: Mark, end: &mut Mark) -> R<()> {
        *end = self.mark;
        let mut max_indent = 0usize;
        loop {
            let most = if *indent == 0 { usize::MAX } else { indent.saturating_sub(self.mark.column) };
            self.skip_ascii_run(most, |b| b == b' ');
            if self.mark.column > max_indent {
                max_indent = self.mark.column;
            }
            if (*indent == 0 || self.mark.column < *indent) && self.ch() == b'\t' {
                return self.fail("while scanning a block scalar", start, "found a tab character where an indentation space is expected");
            }
            if !self.is_break() {
                break;
            }
            self.read_line(breaks);
            *end = self.mark;
        }
        if *indent == 0 {
            let mut ind = max_indent as isize;
            if ind < self.indent + 1 {
                ind = self.indent + 1;
            }
            if ind < 1 {
                ind = 1;
            }
            *indent = ind as usize;
        }
        Ok(())
    }

    fn scan_flow_scalar(&mut self, single: bool) -> R<Token> {
        let start = self.mark;
        self.skip();
        let mut s = Vec::new();
        let mut leading_break = Vec::new();
        let mut trailing_breaks = Vec::new();
        let mut whitespaces = Vec::new();
        loop {
            if self.mark.column == 0
                && ((self.at(0) == b'-' && self.at(1) == b'-' && self.at(2) == b'-') || (self.at(0) == b'.' && self.at(1) == b'.' && self.at(2) == b'.'))
                && self.is_blankz_at(3)
            {
                return self.fail("while scanning a quoted scalar", start, "found unexpected document indicator");
            }
            if self.is_z_at(0) {
                return self.fail("while scanning a quoted scalar", start, "found unexpected end of stream");
            }
            let mut leading_blanks = false;
            while !self.is_blankz() {
                let c = self.ch();
                if single && c == b'\'' && self.at(1) == b'\'' {
                    s.push(b'\'');
                    self.skip();
                    self.skip();
                } else if single && c == b'\'' {
                    break;
                } else if !single && c == b'"' {
                    break;
                } else if !single && c == b'\\' && self.is_break_at(1) {
                    self.skip();
                    self.skip_line();
                    leading_blanks = true;
                    break;
                } else if !single && c == b'\\' {
                    let mut code_length = 0;
                    match self.at(1) {
                        b'0' => s.push(0),
                        b'a' => s.push(0x07),
                        b'b' => s.push(0x08),
                        b't' | b'\t' => s.push(0x09),
                        b'n' => s.push(0x0A),
                        b'v' => s.push(0x0B),
                        b'f' => s.push(0x0C),
                        b'r' => s.push(0x0D),
                        b'e' => s.push(0x1B),
                        b' ' => s.push(0x20),
                        b'"' => s.push(b'"'),
                        b'\'' => s.push(b'\''),
                        b'\\' => s.push(b'\\'),
                        b'N' => s.extend_from_slice(&[0xC2, 0x85]),
                        b'_' => s.extend_from_slice(&[0xC2, 0xA0]),
                        b'L' => s.extend_from_slice(&[0xE2, 0x80, 0xA8]),
                        b'P' => s.extend_from_slice(&[0xE2, 0x80, 0xA9]),
                        b'x' => code_length = 2,
                        b'u' => code_length = 4,
                        b'U' => code_length = 8,
                        _ => return self.fail("while parsing a quoted scalar", start, "found unknown escape character"),
                    }
                    self.skip();
                    self.skip();
                    if code_length > 0 {
                        let mut value: u32 = 0;
                        for k in 0..code_length {
                            if !is_hex_b(self.at(k)) {
                                return self.fail("while parsing a quoted scalar", start, "did not find expected hexdecimal number");
                            }
                            value = (value << 4) + as_hex(self.at(k));
                        }
                        if (0xD800..=0xDFFF).contains(&value) || value > 0x10FFFF {
                            return self.fail("while parsing a quoted scalar", start, "found invalid Unicode character escape code");
                        }
                        push_utf8(&mut s, value);
                        for _ in 0..code_length {
                            self.skip();
                        }
                    }
                } else {
                    self.read(&mut s);
                }
            }
            if single {
                if self.ch() == b'\'' {
                    break;
                }
            } else if self.ch() == b'"' {
                break;
            }
            while self.is_blank() || self.is_break() {
                if self.is_blank() {
                    if !leading_blanks {
                        self.read(&mut whitespaces);
                    } else {
                        self.skip();
                    }
                } else if !leading_blanks {
                    whitespaces.clear();
                    self.read_line(&mut leading_break);
                    leading_blanks = true;
                } else {
                    self.read_line(&mut trailing_breaks);
                }
            }
            if leading_blanks {
                if leading_break.first() == Some(&b'\n') {
                    if trailing_breaks.is_empty() {
                        s.push(b' ');
                    } else {
                        s.extend_from_slice(&trailing_breaks);
                    }
                } else {
                    s.extend_from_slice(&leading_break);
                    s.extend_from_slice(&trailing_breaks);
                }
                trailing_breaks.clear();
                leading_break.clear();
            } else {
                s.extend_from_slice(&whitespaces);
                whitespaces.clear();
            }
        }
        self.skip();
        let mut t = Token::new(TokenType::Scalar, start, self.mark);
        t.value = s;
        t.style = if single { ScalarStyle::SingleQuoted } else { ScalarStyle::DoubleQuoted };
        Ok(t)
    }

    fn scan_plain_scalar(&mut self) -> R<Token> {
        let mut s = Vec::new();
        let mut leading_break = Vec::new();
        let mut trailing_breaks = Vec::new();
        let mut whitespaces = Vec::new();
        let mut leading_blanks = false;
        let indent = self.indent + 1;
        let start = self.mark;
        let mut end = self.mark;
        // Whether characters were read since `end` was last set: `end` is the mark after the
        // last one (set once per run, not per character).
        let mut read_any = false;
        loop {
            if self.mark.column == 0
                && ((self.at(0) == b'-' && self.at(1) == b'-' && self.at(2) == b'-') || (self.at(0) == b'.' && self.at(1) == b'.' && self.at(2) == b'.'))
                && self.is_blankz_at(3)
            {
                break;
            }
            if self.ch() == b'#' {
                break;
            }
            while !self.is_blankz() {
                let c = self.ch();
                if (c == b':' && self.is_blankz_at(1))
                    || (self.flow_level > 0 && matches!(c, b',' | b'?' | b'[' | b']' | b'{' | b'}'))
                {
                    break;
                }
                if leading_blanks || !whitespaces.is_empty() {
                    if leading_blanks {
                        if leading_break.first() == Some(&b'\n') {
                            if trailing_breaks.is_empty() {
                                s.push(b' ');
                            } else {
                                s.extend_from_slice(&trailing_breaks);
                            }
                        } else {
                            s.extend_from_slice(&leading_break);
                            s.extend_from_slice(&trailing_breaks);
                        }
                        trailing_breaks.clear();
                        leading_break.clear();
                        leading_blanks = false;
                    } else {
                        s.extend_from_slice(&whitespaces);
                        whitespaces.clear();
                    }
                }
                // Characters that cannot end the scalar (no blank, break, ':' or flow
                // indicator) go in at once; anything else one at a time, as before.
                let flow = self.flow_level > 0;
                if self.read_ascii_run(&mut s, |b| (b'!'..=b'~').contains(&b) && b != b':' && !(flow && matches!(b, b',' | b'?' | b'[' | b']' | b'{' | b'}'))) == 0 {
                    self.read(&mut s);
                }
                read_any = true;
            }
            if read_any {
                end = self.mark;
                read_any = false;
            }
            if !(self.is_blank() || self.is_break()) {
                break;
            }
            while self.is_blank() || self.is_break() {
                if self.is_blank() {
                    if leading_blanks && (self.mark.column as isize) < indent && self.ch() == b'\t' {
                        return self.fail("while scanning a plain scalar", start, "found a tab character that violates indentation");
                    }
                    if !leading_blanks {
                        self.read(&mut whitespaces);
                    } else {
                        self.skip();
                    }
                } else if !leading_blanks {
                    whitespaces.clear();
                    self.read_line(&mut leading_break);
                    leading_blanks = true;
                } else {
                    self.read_line(&mut trailing_breaks);
                }
            }
            if self.flow_level == 0 && (self.mark.column as isize) < indent {
                break;
            }
        }
        let mut t = Token::new(TokenType::Scalar, start, end);
        t.value = s;
        t.style = ScalarStyle::Plain;
        if leading_blanks {
            self.simple_key_allowed = true;
        }
        Ok(t)
    }
}

pub fn push_utf8(s: &mut Vec<u8>, value: u32) {
    if value <= 0x7F {
        s.push(value as u8);
    } else if value <= 0x7FF {
        s.push((0xC0 + (value >> 6)) as u8);
        s.push((0x80 + (value & 0x3F)) as u8);
    } else if value <= 0xFFFF {
        s.push((0xE0 + (value >> 12)) as u8);
        s.push((0x80 + ((value >> 6) & 0x3F)) as u8);
        s.push((0x80 + (value & 0x3F)) as u8);
    } else {
        s.push((0xF0 + (value >> 18)) as u8);
        s.push((0x80 + ((value >> 12) & 0x3F)) as u8);
        s.push((0x80 + ((value >> 6) & 0x3F)) as u8);
        s.push((0x80 + (value & 0x3F)) as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::check_chars;

    /// YAML 1.1's printable set, character by character (what `check_chars` must accept).
    fn printable(c: char) -> bool {
        matches!(c as u32, 0x09 | 0x0A | 0x0D | 0x20..=0x7E | 0x85 | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
    }

    #[test]
    fn the_byte_fast_path_accepts_exactly_the_printable_characters() {
        let samples = ['a', '\t', '\n', '\r', ' ', '~', '\u{7f}', '\u{1}', '\u{85}', '\u{9f}', '\u{a0}', 'é', '✓', '\u{fffe}', '\u{feff}', '😀'];
        for &c in &samples {
            for text in [c.to_string(), format!("key: {c}\n"), format!("ü{c}ü")] {
                assert_eq!(check_chars(&text).is_none(), text.chars().all(printable), "{text:?}");
            }
        }
        for b in 0u8..0x80 {
            let text = format!("abc{}def", b as char);
            assert_eq!(check_chars(&text).is_none(), printable(b as char), "byte {b:#x}");
        }
    }
}
