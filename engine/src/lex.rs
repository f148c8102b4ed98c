//! The lexer (Go: text/template/parse/lex.go): the same states and the same token boundaries,
//! including trim markers (`{{- ` and ` -}}`), comments, raw strings, character constants and Go's
//! number syntax. It produces the whole token list up front; an error token ends the list, so the
//! parser meets it exactly where Go's lazy lexer would.

/// Token kinds (Go: `itemType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemType {
    Error,
    Bool,
    Char,
    CharConstant,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords (Go: after `itemKeyword`).
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl ItemType {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            ItemType::Block
                | ItemType::Break
                | ItemType::Continue
                | ItemType::Dot
                | ItemType::Define
                | ItemType::Else
                | ItemType::End
                | ItemType::If
                | ItemType::Nil
                | ItemType::Range
                | ItemType::Template
                | ItemType::With
        )
    }
}

/// A token: kind, byte offset and length of its text in the template source, and the line it
/// starts on. Sixteen bytes and no lifetime: a big chart has a couple of hundred thousand
/// tokens, and a thread reuses one token buffer for all the texts it parses. The text of an
/// error token is the lexer's message ([`Lexed::error`]), of the end token "EOF".
#[derive(Clone, Copy, Debug)]
pub struct Item {
    pub typ: ItemType,
    pub pos: u32,
    pub len: u32,
    pub line: u32,
}

impl Item {
    pub fn pos(&self) -> usize {
        self.pos as usize
    }

    pub fn line(&self) -> usize {
        self.line as usize
    }

    /// The token's text in `input` (the source it was lexed from); "" for the end token.
    pub fn text<'s>(&self, input: &'s str) -> &'s str {
        input.get(self.pos as usize..(self.pos + self.len) as usize).unwrap_or("")
    }
}

/// Go: `item.String`, as used in "unexpected X in Y": `text` is the token's text (the message
/// of an error token).
pub fn describe(typ: ItemType, text: &str) -> String {
    match typ {
        ItemType::Eof => "EOF".to_string(),
        ItemType::Error => text.to_string(),
        t if t.is_keyword() => format!("<{text}>"),
        _ if text.chars().count() > 10 => {
            let head: String = text.chars().take(10).collect();
            format!("{}...", crate::print::quote(&head))
        }
        _ => crate::print::quote(text),
    }
}

/// A lexed text: its tokens, ending with `Eof` or `Error`, and the error's message.
#[derive(Default)]
pub struct Lexed {
    pub items: Vec<Item>,
    pub error: String,
}

fn keyword(word: &str) -> Option<ItemType> {
    Some(match word {
        "." => ItemType::Dot,
        "block" => ItemType::Block,
        "break" => ItemType::Break,
        "continue" => ItemType::Continue,
        "define" => ItemType::Define,
        "else" => ItemType::Else,
        "end" => ItemType::End,
        "if" => ItemType::If,
        "range" => ItemType::Range,
        "nil" => ItemType::Nil,
        "template" => ItemType::Template,
        "with" => ItemType::With,
        _ => return None,
    })
}

const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";

pub struct Options {
    pub break_ok: bool,
    pub continue_ok: bool,
}

struct Lexer<'a> {
    input: &'a str,
    left: &'a str,
    right: &'a str,
    pos: usize,
    start: usize,
    line: usize,
    start_line: usize,
    paren_depth: i32,
    items: Vec<Item>,
    error: String,
    opts: Options,
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

#[inline]
fn is_alnum(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    c.is_alphabetic() || c.is_numeric() && is_go_digit(c)
}

/// Go's `unicode.IsDigit` (category Nd).
fn is_go_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric() && c.to_digit(10).is_none() && is_nd(c))
}

fn is_nd(c: char) -> bool {
    // Characters of category Nd outside ASCII: Rust's `is_numeric` also covers No and Nl; a
    // decimal digit has a digit value in some script. This approximation accepts Nd-looking
    // characters (those whose block has 10 consecutive digits).
    let u = c as u32;
    [0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0xFF10]
        .iter()
        .any(|b| u >= *b && u < b + 10)
}

fn has_left_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

fn has_right_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

/// Where `needle` (a delimiter) first occurs in `hay`: memchr for its first byte, then a
/// comparison. Texts between actions are short, so this beats setting up a substring
/// searcher for every one of them.
#[inline]
fn find(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let first = *n.first()?;
    let mut from = 0;
    while let Some(i) = memchr::memchr(first, &h[from..]) {
        let at = from + i;
        if h[at..].starts_with(n) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The number of `\n` bytes in `s` (a byte count the compiler vectorises).
#[inline]
fn count_newlines(s: &str) -> usize {
    s.bytes().filter(|&b| b == b'\n').count()
}

const SPACE_CHARS: [char; 4] = [' ', '\t', '\r', '\n'];

impl<'a> Lexer<'a> {
    /// The next character, consumed. ASCII (nearly every byte of a template) is read as a
    /// byte; only other characters are decoded.
    #[inline]
    fn next(&mut self) -> Option<char> {
        let b = *self.input.as_bytes().get(self.pos)?;
        if b < 0x80 {
            self.pos += 1;
            if b == b'\n' {
                self.line += 1;
            }
            return Some(b as char);
        }
        let c = self.input[self.pos..].chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    #[inline]
    fn peek(&self) -> Option<char> {
        let b = *self.input.as_bytes().get(self.pos)?;
        if b < 0x80 {
            return Some(b as char);
        }
        self.input[self.pos..].chars().next()
    }

    /// Steps over a run of ASCII letters, digits and underscores (the common body of
    /// identifiers, fields and variables) without decoding characters; the caller's
    /// character loop then handles whatever follows, non-ASCII letters included.
    #[inline]
    fn skip_ascii_alnum(&mut self) {
        let rest = &self.input.as_bytes()[self.pos..];
        let n = rest.iter().position(|&b| !(b.is_ascii_alphanumeric() || b == b'_')).unwrap_or(rest.len());
        self.pos += n;
    }

    fn backup(&mut self, c: Option<char>) {
        if let Some(c) = c {
            self.pos -= c.len_utf8();
            if c == '\n' {
                self.line -= 1;
            }
        }
    }

    fn item(&self, typ: ItemType, start: usize, end: usize) -> Item {
        // `lex` refuses texts of 4 GiB and more, so offsets fit.
        Item { typ, pos: start as u32, len: (end - start) as u32, line: self.start_line as u32 }
    }

    fn emit(&mut self, typ: ItemType) {
        let item = self.item(typ, self.start, self.pos);
        self.items.push(item);
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn ignore(&mut self) {
        self.line += count_newlines(&self.input[self.start..self.pos]);
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.next();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    /// Go: `errorf`: an error item ends the stream.
    fn error(&mut self, msg: String) -> bool {
        let item = self.item(ItemType::Error, self.start, self.start);
        self.items.push(item);
        self.error = msg;
        false
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = &self.input[self.pos..];
        if has_right_trim_marker(rest) && self.starts_with_right(&rest[2..]) {
            return (true, true);
        }
        (self.starts_with_right(rest), false)
    }

    /// Whether `s` starts with the right delimiter. Asked before every token of an action:
    /// the first byte is compared inline, so that the common miss costs no `memcmp` call.
    #[inline]
    fn starts_with_right(&self, s: &str) -> bool {
        s.as_bytes().first() == self.right.as_bytes().first() && s.starts_with(self.right)
    }

    /// Go: `lexText`. Returns false when lexing is over.
    fn lex_text(&mut self) -> bool {
        if let Some(x) = find(&self.input[self.pos..], self.left) {
            if x > 0 {
                // Scan over the text without counting lines twice.
                let text_end = self.pos + x;
                let delim_end = text_end + self.left.len();
                let mut trim = 0;
                if has_left_trim_marker(&self.input[delim_end..]) {
                    let s = &self.input[self.start..text_end];
                    trim = s.len() - s.trim_end_matches(SPACE_CHARS).len();
                }
                self.pos = text_end - trim;
                self.line += count_newlines(&self.input[self.start..self.pos]);
                let item = self.item(ItemType::Text, self.start, self.pos);
                self.start = self.pos;
                self.start_line = self.line;
                self.pos += trim;
                self.ignore();
                if item.len > 0 {
                    self.items.push(item);
                }
            }
            return self.lex_left_delim();
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.line += count_newlines(&self.input[self.start..self.pos]);
            let item = self.item(ItemType::Text, self.start, self.pos);
            self.items.push(item);
            self.start = self.pos;
            self.start_line = self.line;
        }
        let item = self.item(ItemType::Eof, self.pos, self.pos);
        self.items.push(item);
        false
    }

    fn lex_left_delim(&mut self) -> bool {
        self.pos += self.left.len();
        let trim = has_left_trim_marker(&self.input[self.pos..]);
        let after = if trim { 2 } else { 0 };
        if self.input[self.pos + after..].starts_with(LEFT_COMMENT) {
            self.pos += after;
            self.ignore();
            return self.lex_comment();
        }
        self.emit(ItemType::LeftDelim);
        self.pos += after;
        self.ignore();
        self.paren_depth = 0;
        self.lex_inside_action()
    }

    fn lex_comment(&mut self) -> bool {
        self.pos += LEFT_COMMENT.len();
        let Some(x) = self.input[self.pos..].find(RIGHT_COMMENT) else {
            return self.error("unclosed comment".into());
        };
        self.pos += x + RIGHT_COMMENT.len();
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return self.error("comment ends before closing delimiter".into());
        }
        self.line += count_newlines(&self.input[self.start..self.pos]);
        self.start = self.pos;
        self.start_line = self.line;
        if trim {
            self.pos += 2;
        }
        self.pos += self.right.len();
        if trim {
            let s = &self.input[self.pos..];
            self.pos += s.len() - s.trim_start_matches(SPACE_CHARS).len();
        }
        self.ignore();
        true
    }

    fn lex_right_delim(&mut self) -> bool {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.pos += 2;
            self.ignore();
        }
        self.pos += self.right.len();
        self.emit(ItemType::RightDelim);
        if trim {
            let s = &self.input[self.pos..];
            self.pos += s.len() - s.trim_start_matches(SPACE_CHARS).len();
            self.ignore();
        }
        true
    }

    /// Go: `lexInsideAction`, looping until the right delimiter.
    fn lex_inside_action(&mut self) -> bool {
        loop {
            let (delim, _) = self.at_right_delim();
            if delim {
                if self.paren_depth == 0 {
                    return self.lex_right_delim();
                }
                return self.error("unclosed left paren".into());
            }
            let c = self.next();
            let ok = match c {
                None => self.error("unclosed action".into()),
                Some(c) if is_space(c) => {
                    self.backup(Some(c));
                    self.lex_space()
                }
                Some('=') => {
                    self.emit(ItemType::Assign);
                    true
                }
                Some(':') => {
                    if self.next() != Some('=') {
                        return self.error("expected :=".into());
                    }
                    self.emit(ItemType::Declare);
                    true
                }
                Some('|') => {
                    self.emit(ItemType::Pipe);
                    true
                }
                Some('"') => self.lex_quote(),
                Some('`') => self.lex_raw_quote(),
                Some('$') => self.lex_variable(),
                Some('\'') => self.lex_char(),
                Some('.') if !matches!(self.input.as_bytes().get(self.pos), Some(b'0'..=b'9')) => {
                    self.lex_field_or_variable(ItemType::Field)
                }
                Some(c) if c == '.' || c == '+' || c == '-' || c.is_ascii_digit() => {
                    self.backup(Some(c));
                    self.lex_number()
                }
                Some(c) if is_alnum(c) => {
                    self.backup(Some(c));
                    self.lex_identifier()
                }
                Some('(') => {
                    self.paren_depth += 1;
                    self.emit(ItemType::LeftParen);
                    true
                }
                Some(')') => {
                    self.paren_depth -= 1;
                    if self.paren_depth < 0 {
                        return self.error("unexpected right paren".into());
                    }
                    self.emit(ItemType::RightParen);
                    true
                }
                Some(c) if c.is_ascii() && !c.is_ascii_control() => {
                    self.emit(ItemType::Char);
                    true
                }
                Some(c) => self.error(format!("unrecognized character in action: {}", go_sharp_u(c))),
            };
            if !ok {
                return false;
            }
            if self.items.last().map(|i| i.typ) == Some(ItemType::RightDelim) {
                return true;
            }
        }
    }

    fn lex_space(&mut self) -> bool {
        let mut n = 0;
        while let Some(c) = self.peek() {
            if !is_space(c) {
                break;
            }
            self.next();
            n += 1;
        }
        let rest = &self.input[self.pos - 1..];
        if has_right_trim_marker(rest) && self.starts_with_right(&rest[2..]) {
            // Back up before the last space: it belongs to " -}}".
            self.pos -= 1;
            if self.input.as_bytes()[self.pos] == b'\n' {
                self.line -= 1;
            }
            if n == 1 {
                return self.lex_right_delim();
            }
        }
        self.emit(ItemType::Space);
        true
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            _ => self.starts_with_right(&self.input[self.pos..]),
        }
    }

    fn lex_identifier(&mut self) -> bool {
        loop {
            self.skip_ascii_alnum();
            let c = self.next();
            match c {
                Some(c) if is_alnum(c) => {}
                _ => {
                    self.backup(c);
                    let word = &self.input[self.start..self.pos];
                    if !self.at_terminator() {
                        return self.error(format!("bad character {}", go_sharp_u(c.unwrap_or('\u{0}'))));
                    }
                    let typ = match keyword(word) {
                        Some(ItemType::Break) if !self.opts.break_ok => ItemType::Identifier,
                        Some(ItemType::Continue) if !self.opts.continue_ok => ItemType::Identifier,
                        Some(k) if k != ItemType::Dot => k,
                        _ if word.starts_with('.') => ItemType::Field,
                        _ if word == "true" || word == "false" => ItemType::Bool,
                        _ => ItemType::Identifier,
                    };
                    self.emit(typ);
                    return true;
                }
            }
        }
    }

    fn lex_variable(&mut self) -> bool {
        if self.at_terminator() {
            self.emit(ItemType::Variable);
            return true;
        }
        self.lex_field_or_variable(ItemType::Variable)
    }

    fn lex_field_or_variable(&mut self, typ: ItemType) -> bool {
        if self.at_terminator() {
            self.emit(if typ == ItemType::Variable { ItemType::Variable } else { ItemType::Dot });
            return true;
        }
        let mut last;
        loop {
            self.skip_ascii_alnum();
            last = self.next();
            match last {
                Some(c) if is_alnum(c) => {}
                _ => {
                    self.backup(last);
                    break;
                }
            }
        }
        if !self.at_terminator() {
            return self.error(format!("bad character {}", go_sharp_u(last.unwrap_or('\u{0}'))));
        }
        self.emit(typ);
        true
    }

    fn lex_char(&mut self) -> bool {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some(c) if c != '\n' => {}
                    _ => return self.error("unterminated character constant".into()),
                },
                None | Some('\n') => return self.error("unterminated character constant".into()),
                Some('\'') => break,
                _ => {}
            }
        }
        self.emit(ItemType::CharConstant);
        true
    }

    fn lex_number(&mut self) -> bool {
        if !self.scan_number() {
            return self.error(format!("bad number syntax: {}", crate::print::quote(&self.input[self.start..self.pos])));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                return self.error(format!("bad number syntax: {}", crate::print::quote(&self.input[self.start..self.pos])));
            }
            self.emit(ItemType::Complex);
            return true;
        }
        self.emit(ItemType::Number);
        true
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if let Some(c) = self.peek() {
            if is_alnum(c) {
                self.next();
                return false;
            }
        }
        true
    }

    fn lex_quote(&mut self) -> bool {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some(c) if c != '\n' => {}
                    _ => return self.error("unterminated quoted string".into()),
                },
                None | Some('\n') => return self.error("unterminated quoted string".into()),
                Some('"') => break,
                _ => {}
            }
        }
        self.emit(ItemType::String);
        true
    }

    fn lex_raw_quote(&mut self) -> bool {
        loop {
            match self.next() {
                None => return self.error("unterminated raw quoted string".into()),
                Some('`') => break,
                _ => {}
            }
        }
        self.emit(ItemType::RawString);
        true
    }
}

/// Go's `%#U`: `U+0041 'A'` (the character is shown when printable, U+FFFD included).
pub fn go_sharp_u(c: char) -> String {
    if c.is_control() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("U+{:04X} '{}'", c as u32, c)
    }
}

/// Lexes `input` into tokens, ending with `Eof` or `Error`.
pub fn lex(input: &str, left: &str, right: &str, opts: Options) -> Lexed {
    lex_into(input, left, right, opts, Vec::new())
}

/// [`lex`] into `items` (emptied first): a caller lexing many texts hands the same buffer back
/// each time, so its memory is touched once.
pub fn lex_into(input: &str, left: &str, right: &str, opts: Options, mut items: Vec<Item>) -> Lexed {
    items.clear();
    if input.len() >= u32::MAX as usize {
        items.push(Item { typ: ItemType::Error, pos: 0, len: 0, line: 1 });
        return Lexed { items, error: "template text too large (4 GiB or more)".into() };
    }
    let left = if left.is_empty() { "{{" } else { left };
    let right = if right.is_empty() { "}}" } else { right };
    // About a dozen items per action (spaces count): one allocation instead of a doubling
    // series whose copies touch twice the memory.
    items.reserve(input.matches(left).count() * 12 + 2);
    let mut l = Lexer {
        input,
        left,
        right,
        pos: 0,
        start: 0,
        line: 1,
        start_line: 1,
        paren_depth: 0,
        items,
        error: String::new(),
        opts,
    };
    while l.lex_text() {}
    Lexed { items: l.items, error: l.error }
}
