//! sprig's regular-expression functions (sprig: regex.go) on Go's `regexp` semantics.
//!
//! Go's RE2 syntax is parsed here the way `regexp/syntax` parses it (same errors, same texts)
//! and translated into an equivalent pattern for the `regex` crate: Go's `\d`, `\s`, `\w`, `\b`
//! and POSIX classes are ASCII-only, `{` that is not a repetition is a literal, `\Q...\E` quotes,
//! octal escapes exist, flags are scoped to the item they apply to, and capture names follow
//! Go's rules. The matching loops (`FindAll`, `ReplaceAll`, `Split`, `Expand`) follow Go's
//! `regexp` package, including its treatment of empty matches.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::util::*;
use super::{FuncError, FuncMap};
use crate::value::Value;

/// A compiled Go regular expression.
pub struct GoRegex {
    re: regex::Regex,
    /// Go's `SubexpNames`: index 0 is the whole match; unnamed groups are "".
    names: Vec<String>,
    /// Go's `re.expr` (the source pattern) is empty.
    expr_empty: bool,
}

#[derive(Clone, Copy, Default)]
struct Flags {
    fold: bool,
    /// Not Go's `OneLine`: `^` and `$` match at line boundaries.
    multi_line: bool,
    dot_nl: bool,
    non_greedy: bool,
}

/// One repetition `{n,m}` and those nested in it (Go's `repeatIsValid`).
#[derive(Clone)]
struct Rep {
    m: i64,
    subs: Vec<Rep>,
}

fn reps_valid(reps: &[Rep], n: i64) -> bool {
    reps.iter().all(|r| {
        if r.m == 0 {
            return true;
        }
        if r.m > n {
            return false;
        }
        let n = if r.m > 0 { n / r.m } else { n };
        reps_valid(&r.subs, n)
    })
}

/// A translated item: Rust syntax that a quantifier can follow (after wrapping when `wrap`).
struct Item {
    text: String,
    wrap: bool,
    reps: Vec<Rep>,
    /// Go's parse-tree height (for "expression nests too deeply").
    height: u32,
    /// A plain literal with its case folding: Go merges runs of these into one node.
    lit: Option<bool>,
}

/// Go's `maxHeight`.
const MAX_HEIGHT: u32 = 1000;

/// The height of a concatenation (Go collapses a single node into itself).
fn concat_height(items: &[Item]) -> u32 {
    let mut units = 0;
    let mut max = 1;
    let mut prev_lit: Option<bool> = None;
    for it in items {
        if !(it.lit.is_some() && it.lit == prev_lit) {
            units += 1;
        }
        prev_lit = it.lit;
        max = max.max(it.height);
    }
    if units <= 1 {
        max
    } else {
        1 + max
    }
}

struct Frame {
    /// `None` for the top level, `Some(true)` for a capture, `Some(false)` for `(?:`.
    capture: Option<bool>,
    saved: Flags,
    alts: Vec<String>,
    alt_reps: Vec<Rep>,
    alt_heights: Vec<u32>,
    cur: Vec<Item>,
}

impl Frame {
    fn new(capture: Option<bool>, saved: Flags) -> Self {
        Frame { capture, saved, alts: Vec::new(), alt_reps: Vec::new(), alt_heights: Vec::new(), cur: Vec::new() }
    }

    fn end_concat(&mut self) {
        self.alt_heights.push(concat_height(&self.cur));
        let mut text = String::new();
        for it in self.cur.drain(..) {
            text.push_str(&it.text);
            self.alt_reps.extend(it.reps);
        }
        self.alts.push(text);
    }

    /// The height of the alternation of the finished alternatives.
    fn alt_height(&self) -> u32 {
        let max = self.alt_heights.iter().copied().max().unwrap_or(1);
        if self.alt_heights.len() > 1 {
            1 + max
        } else {
            max
        }
    }
}

fn perr(code: &str, expr: &str) -> String {
    format!("error parsing regexp: {code}: `{expr}`")
}

const ERR_INVALID_CHAR_CLASS_RANGE: &str = "invalid character class range";
const ERR_INVALID_ESCAPE: &str = "invalid escape sequence";
const ERR_INVALID_NAMED_CAPTURE: &str = "invalid named capture";
const ERR_INVALID_PERL_OP: &str = "invalid or unsupported Perl syntax";
const ERR_INVALID_REPEAT_OP: &str = "invalid nested repetition operator";
const ERR_INVALID_REPEAT_SIZE: &str = "invalid repeat count";
const ERR_MISSING_BRACKET: &str = "missing closing ]";
const ERR_MISSING_PAREN: &str = "missing closing )";
const ERR_MISSING_REPEAT_ARG: &str = "missing argument to repetition operator";
const ERR_TRAILING_BACKSLASH: &str = "trailing backslash at end of expression";
const ERR_UNEXPECTED_PAREN: &str = "unexpected )";

/// A literal character in Rust syntax.
fn lit(c: char) -> String {
    if c.is_ascii_alphanumeric() {
        c.to_string()
    } else {
        format!("\\x{{{:X}}}", c as u32)
    }
}

fn with_fold(text: String, fold: bool) -> String {
    if fold {
        format!("(?i:{text})")
    } else {
        text
    }
}

/// Go's Perl classes (`\d` ...) as Rust class bodies (ASCII, as Go's).
fn perl_class(c: char) -> Option<(bool, &'static str)> {
    Some(match c {
        'd' => (false, r"0-9"),
        'D' => (true, r"0-9"),
        's' => (false, r"\t\n\x0C\r "),
        'S' => (true, r"\t\n\x0C\r "),
        'w' => (false, r"0-9A-Za-z_"),
        'W' => (true, r"0-9A-Za-z_"),
        _ => return None,
    })
}

/// Go's POSIX classes (`[:alpha:]` ...) as Rust class bodies.
fn posix_class(name: &str) -> Option<&'static str> {
    Some(match name {
        "alnum" => r"0-9A-Za-z",
        "alpha" => r"A-Za-z",
        "ascii" => r"\x00-\x7F",
        "blank" => r"\t ",
        "cntrl" => r"\x00-\x1F\x7F",
        "digit" => r"0-9",
        "graph" => r"!-~",
        "lower" => r"a-z",
        "print" => r" -~",
        "punct" => r"!-/:-@\[-`\{-~",
        "space" => r"\t-\r ",
        "upper" => r"A-Z",
        "word" => r"0-9A-Za-z_",
        "xdigit" => r"0-9A-Fa-f",
        _ => return None,
    })
}

/// Go's `canonicalName` for Unicode class names.
fn canonical_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut first = true;
    for b in name.bytes() {
        match b {
            b'_' | b'-' | b' ' => continue,
            _ if first => {
                out.push(b.to_ascii_uppercase() as char);
                first = false;
            }
            _ => out.push(b.to_ascii_lowercase() as char),
        }
    }
    out
}

/// The Unicode classes Go 1.26's `regexp` accepts (canonical name → Rust class), with Go's
/// Unicode tables: general categories, their long aliases, and the scripts whose names have a
/// single word (Go's lookup does not find the others once the name is canonicalized).
fn unicode_class(name: &str) -> Option<String> {
    const CATEGORIES: &[&str] = &[
        "C", "Cc", "Cf", "Cn", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N", "Nd", "Nl",
        "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm", "So", "Z", "Zl", "Zp", "Zs",
    ];
    const ALIASES: &[(&str, &str)] = &[
        ("Casedletter", "LC"), ("Closepunctuation", "Pe"), ("Cntrl", "Cc"), ("Combiningmark", "M"),
        ("Connectorpunctuation", "Pc"), ("Control", "Cc"), ("Currencysymbol", "Sc"), ("Dashpunctuation", "Pd"),
        ("Decimalnumber", "Nd"), ("Digit", "Nd"), ("Enclosingmark", "Me"), ("Finalpunctuation", "Pf"),
        ("Format", "Cf"), ("Initialpunctuation", "Pi"), ("Letter", "L"), ("Letternumber", "Nl"),
        ("Lineseparator", "Zl"), ("Lowercaseletter", "Ll"), ("Mark", "M"), ("Mathsymbol", "Sm"),
        ("Modifierletter", "Lm"), ("Modifiersymbol", "Sk"), ("Nonspacingmark", "Mn"), ("Number", "N"),
        ("Openpunctuation", "Ps"), ("Other", "C"), ("Otherletter", "Lo"), ("Othernumber", "No"),
        ("Otherpunctuation", "Po"), ("Othersymbol", "So"), ("Paragraphseparator", "Zp"), ("Privateuse", "Co"),
        ("Punct", "P"), ("Punctuation", "P"), ("Separator", "Z"), ("Spaceseparator", "Zs"),
        ("Spacingmark", "Mc"), ("Surrogate", "Cs"), ("Symbol", "S"), ("Titlecaseletter", "Lt"),
        ("Unassigned", "Cn"), ("Uppercaseletter", "Lu"),
    ];
    const SCRIPTS: &[&str] = &[
        "Adlam", "Ahom", "Arabic", "Armenian", "Avestan", "Balinese", "Bamum", "Batak", "Bengali", "Bhaiksuki",
        "Bopomofo", "Brahmi", "Braille", "Buginese", "Buhid", "Carian", "Chakma", "Cham", "Cherokee", "Chorasmian",
        "Common", "Coptic", "Cuneiform", "Cypriot", "Cyrillic", "Deseret", "Devanagari", "Dogra", "Duployan",
        "Elbasan", "Elymaic", "Ethiopic", "Georgian", "Glagolitic", "Gothic", "Grantha", "Greek", "Gujarati",
        "Gurmukhi", "Han", "Hangul", "Hanunoo", "Hatran", "Hebrew", "Hiragana", "Inherited", "Javanese", "Kaithi",
        "Kannada", "Katakana", "Kawi", "Kharoshthi", "Khmer", "Khojki", "Khudawadi", "Lao", "Latin", "Lepcha",
        "Limbu", "Lisu", "Lycian", "Lydian", "Mahajani", "Makasar", "Malayalam", "Mandaic", "Manichaean",
        "Marchen", "Medefaidrin", "Miao", "Modi", "Mongolian", "Mro", "Multani", "Myanmar", "Nabataean",
        "Nandinagari", "Newa", "Nko", "Nushu", "Ogham", "Oriya", "Osage", "Osmanya", "Palmyrene", "Phoenician",
        "Rejang", "Runic", "Samaritan", "Saurashtra", "Sharada", "Shavian", "Siddham", "Sinhala", "Sogdian",
        "Soyombo", "Sundanese", "Syriac", "Tagalog", "Tagbanwa", "Takri", "Tamil", "Tangsa", "Tangut", "Telugu",
        "Thaana", "Thai", "Tibetan", "Tifinagh", "Tirhuta", "Toto", "Ugaritic", "Vai", "Vithkuqi", "Wancho",
        "Yezidi", "Yi",
    ];
    let cat = |c: &str| -> String {
        match c {
            // The regex crate has no surrogates (they cannot occur in a string).
            "C" => r"\p{Cc}\p{Cf}\p{Cn}\p{Co}".into(),
            "Cs" => String::new(),
            c => format!(r"\p{{{c}}}"),
        }
    };
    match name {
        "Any" => return Some(r"\x{0}-\x{10FFFF}".into()),
        "Assigned" => return Some(r"\P{Cn}".into()),
        "Ascii" => return Some(r"\x{0}-\x{7F}".into()),
        "Lc" => return Some(r"\p{LC}".into()),
        _ => {}
    }
    if let Some(c) = CATEGORIES.iter().find(|c| **c == name) {
        return Some(cat(c));
    }
    if let Some(s) = SCRIPTS.iter().find(|s| **s == name) {
        return Some(format!(r"\p{{sc={s}}}"));
    }
    ALIASES.iter().find(|(a, _)| *a == name).map(|(_, c)| cat(c))
}

struct Parser<'a> {
    whole: &'a str,
    flags: Flags,
    frames: Vec<Frame>,
    ncap: usize,
    names: Vec<String>,
}

/// Go's `parseEscape`: the character of an ordinary escape at `s` (which starts with `\`).
fn parse_escape(s: &str) -> Result<(u32, &str), String> {
    let t = &s[1..];
    let mut chars = t.chars();
    let Some(c) = chars.next() else {
        return Err(perr(ERR_TRAILING_BACKSLASH, ""));
    };
    let mut t = chars.as_str();
    let bad = |t: &str| perr(ERR_INVALID_ESCAPE, &s[..s.len() - t.len()]);
    let octal = |b: Option<u8>| matches!(b, Some(b'0'..=b'7'));
    match c {
        '1'..='7' if !octal(t.bytes().next()) => {}
        '0'..='7' => {
            let mut r = c as u32 - '0' as u32;
            for _ in 1..3 {
                match t.bytes().next() {
                    Some(d @ b'0'..=b'7') => {
                        r = r * 8 + (d - b'0') as u32;
                        t = &t[1..];
                    }
                    _ => break,
                }
            }
            return Ok((r, t));
        }
        'x' => {
            let mut it = t.chars();
            let Some(c) = it.next() else {
                return Err(bad(t));
            };
            t = it.as_str();
            if c == '{' {
                let mut n = 0;
                let mut r: u32 = 0;
                loop {
                    let mut it = t.chars();
                    let Some(c) = it.next() else {
                        return Err(bad(t));
                    };
                    t = it.as_str();
                    if c == '}' {
                        break;
                    }
                    let Some(v) = c.to_digit(16) else {
                        return Err(bad(t));
                    };
                    r = r * 16 + v;
                    if r > 0x10FFFF {
                        return Err(bad(t));
                    }
                    n += 1;
                }
                if n == 0 {
                    return Err(bad(t));
                }
                return Ok((r, t));
            }
            let x = c.to_digit(16);
            let mut it = t.chars();
            let c2 = it.next();
            t = it.as_str();
            match (x, c2.and_then(|c| c.to_digit(16))) {
                (Some(x), Some(y)) => return Ok((x * 16 + y, t)),
                _ => return Err(bad(t)),
            }
        }
        'a' => return Ok((7, t)),
        'f' => return Ok((0xC, t)),
        'n' => return Ok((0xA, t)),
        'r' => return Ok((0xD, t)),
        't' => return Ok((9, t)),
        'v' => return Ok((0xB, t)),
        c if c.is_ascii() && !c.is_ascii_alphanumeric() => return Ok((c as u32, t)),
        _ => {}
    }
    Err(bad(t))
}

/// Go's `parseUnicodeClass` at `s` (starting with `\p` or `\P`): the Rust class body (to be
/// put in a class) with its sign, and the rest.
fn parse_unicode_class(s: &str) -> Result<(bool, String, &str), String> {
    let mut negated = s.as_bytes()[1] == b'P';
    let t = &s[2..];
    let (seq, name, rest) = match t.chars().next() {
        Some('{') => {
            let Some(end) = s.find('}') else {
                return Err(perr(ERR_INVALID_CHAR_CLASS_RANGE, s));
            };
            (&s[..end + 1], &s[3..end], &s[end + 1..])
        }
        Some(c) => {
            let n = 2 + c.len_utf8();
            (&s[..n], &s[2..n], &s[n..])
        }
        None => (s, "", ""),
    };
    let name = match name.strip_prefix('^') {
        Some(n) => {
            negated = !negated;
            n
        }
        None => name,
    };
    match unicode_class(&canonical_name(name)) {
        Some(body) => Ok((negated, body, rest)),
        None => Err(perr(ERR_INVALID_CHAR_CLASS_RANGE, seq)),
    }
}

/// A class that matches nothing.
const NOTHING: &str = r"[^\x{0}-\x{10FFFF}]";

fn class_part(negated: bool, body: &str) -> String {
    if body.is_empty() {
        return if negated { r"[\x{0}-\x{10FFFF}]".into() } else { NOTHING.into() };
    }
    if negated {
        format!("[^{body}]")
    } else {
        format!("[{body}]")
    }
}

impl<'a> Parser<'a> {
    fn top(&mut self) -> &mut Frame {
        let n = self.frames.len();
        &mut self.frames[n - 1]
    }

    fn push(&mut self, text: String, wrap: bool) {
        self.top().cur.push(Item { text, wrap, reps: Vec::new(), height: 1, lit: None });
    }

    fn literal(&mut self, c: char) {
        let fold = self.flags.fold;
        self.top().cur.push(Item { text: with_fold(lit(c), fold), wrap: false, reps: Vec::new(), height: 1, lit: Some(fold) });
    }

    /// Go's `checkHeight` on a new node.
    fn check_height(&self, h: u32) -> Result<(), String> {
        if h > MAX_HEIGHT {
            return Err(perr("expression nests too deeply", self.whole));
        }
        Ok(())
    }

    /// Go's `parseClass` at `s` (starting with `[`).
    fn parse_class(&mut self, s: &'a str) -> Result<&'a str, String> {
        let mut t = &s[1..];
        let mut negated = false;
        if t.starts_with('^') {
            negated = true;
            t = &t[1..];
        }
        let mut body = String::new();
        let mut first = true;
        while t.is_empty() || !t.starts_with(']') || first {
            first = false;
            if t.len() > 2 && t.starts_with("[:") {
                if let Some(i) = t[2..].find(":]") {
                    let name = &t[..i + 4];
                    let inner = &t[2..i + 2];
                    let (neg, n) = match inner.strip_prefix('^') {
                        Some(n) => (true, n),
                        None => (false, inner),
                    };
                    match posix_class(n) {
                        Some(b) => {
                            body.push_str(&class_part(neg, b));
                            t = &t[i + 4..];
                            continue;
                        }
                        None => return Err(perr(ERR_INVALID_CHAR_CLASS_RANGE, name)),
                    }
                }
            }
            if t.len() >= 2 && (t.starts_with("\\p") || t.starts_with("\\P")) {
                let (neg, b, rest) = parse_unicode_class(t)?;
                body.push_str(&class_part(neg, &b));
                t = rest;
                continue;
            }
            if t.len() >= 2 && t.starts_with('\\') {
                if let Some((neg, b)) = t[1..].chars().next().and_then(perl_class) {
                    body.push_str(&class_part(neg, b));
                    t = &t[2..];
                    continue;
                }
            }
            let rng = t;
            let (lo, rest) = class_char(t, s)?;
            t = rest;
            let mut hi = lo;
            if t.len() >= 2 && t.starts_with('-') && !t[1..].starts_with(']') {
                let (h, rest) = class_char(&t[1..], s)?;
                t = rest;
                hi = h;
                if hi < lo {
                    return Err(perr(ERR_INVALID_CHAR_CLASS_RANGE, &rng[..rng.len() - t.len()]));
                }
            }
            push_range(&mut body, lo, hi);
        }
        t = &t[1..];
        let text = class_part(negated, &body);
        let fold = self.flags.fold;
        self.push(with_fold(text, fold), false);
        Ok(t)
    }

    fn parse_perl_flags(&mut self, s: &'a str) -> Result<&'a str, String> {
        let b = s.as_bytes();
        let starts_with_p = s.len() > 4 && b[2] == b'P' && b[3] == b'<';
        let starts_with_name = s.len() > 3 && b[2] == b'<';
        if starts_with_p || starts_with_name {
            let start = if starts_with_p { 4 } else { 3 };
            let Some(end) = s.find('>') else {
                return Err(perr(ERR_INVALID_NAMED_CAPTURE, s));
            };
            let capture = &s[..end + 1];
            let name = &s[start..end];
            if name.is_empty() || !name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()) {
                return Err(perr(ERR_INVALID_NAMED_CAPTURE, capture));
            }
            self.ncap += 1;
            self.names.push(name.to_string());
            let saved = self.flags;
            self.frames.push(Frame::new(Some(true), saved));
            return Ok(&s[end + 1..]);
        }
        let mut t = &s[2..];
        let mut flags = self.flags;
        let mut neg = false;
        let mut saw_flag = false;
        while let Some(c) = t.chars().next() {
            t = &t[c.len_utf8()..];
            match c {
                'i' => flags.fold = !neg,
                'm' => flags.multi_line = !neg,
                's' => flags.dot_nl = !neg,
                'U' => flags.non_greedy = !neg,
                '-' => {
                    if neg {
                        break;
                    }
                    neg = true;
                    saw_flag = false;
                    continue;
                }
                ':' | ')' => {
                    if neg && !saw_flag {
                        break;
                    }
                    if c == ':' {
                        let saved = self.flags;
                        self.frames.push(Frame::new(Some(false), saved));
                    }
                    self.flags = flags;
                    return Ok(t);
                }
                _ => break,
            }
            saw_flag = true;
        }
        Err(perr(ERR_INVALID_PERL_OP, &s[..s.len() - t.len()]))
    }

    /// Go's `repeat`: `before` starts at the operator, `after` follows it.
    fn repeat(&mut self, min: i64, max: i64, op: &str, before: &'a str, after: &'a str, last_repeat: Option<&'a str>) -> Result<&'a str, String> {
        let mut after = after;
        let mut non_greedy = self.flags.non_greedy;
        if after.starts_with('?') {
            after = &after[1..];
            non_greedy = !non_greedy;
        }
        if let Some(last) = last_repeat {
            return Err(perr(ERR_INVALID_REPEAT_OP, &last[..last.len() - after.len()]));
        }
        let expr = &before[..before.len() - after.len()];
        let Some(sub) = self.top().cur.pop() else {
            return Err(perr(ERR_MISSING_REPEAT_ARG, expr));
        };
        let sub_height = sub.height;
        let mut text = if sub.wrap { format!("(?:{})", sub.text) } else { sub.text };
        text.push_str(op);
        if non_greedy {
            text.push('?');
        }
        let reps = if op.starts_with('{') {
            let m = if max < 0 { min } else { max };
            vec![Rep { m, subs: sub.reps }]
        } else {
            sub.reps
        };
        if op.starts_with('{') && (min >= 2 || max >= 2) && !reps_valid(&reps, 1000) {
            return Err(perr(ERR_INVALID_REPEAT_SIZE, expr));
        }
        let height = 1 + sub_height;
        self.check_height(height)?;
        self.top().cur.push(Item { text, wrap: true, reps, height, lit: None });
        Ok(after)
    }

    fn right_paren(&mut self) -> Result<(), String> {
        if self.frames.len() < 2 {
            return Err(perr(ERR_UNEXPECTED_PAREN, self.whole));
        }
        let Some(mut f) = self.frames.pop() else {
            return Err(perr(ERR_UNEXPECTED_PAREN, self.whole));
        };
        f.end_concat();
        let inner = f.alt_height();
        self.check_height(inner)?;
        let height = if f.capture == Some(true) { 1 + inner } else { inner };
        self.check_height(height)?;
        let inner = f.alts.join("|");
        let text = if f.capture == Some(true) { format!("({inner})") } else { format!("(?:{inner})") };
        self.flags = f.saved;
        self.top().cur.push(Item { text, wrap: false, reps: f.alt_reps, height, lit: None });
        Ok(())
    }

    fn parse(&mut self) -> Result<String, String> {
        let mut t: &'a str = self.whole;
        let mut last_repeat: Option<&'a str> = None;
        while !t.is_empty() {
            let mut repeat: Option<&'a str> = None;
            let c = t.as_bytes()[0];
            match c {
                b'(' => {
                    if t.len() >= 2 && t.as_bytes()[1] == b'?' {
                        t = self.parse_perl_flags(t)?;
                    } else {
                        self.ncap += 1;
                        self.names.push(String::new());
                        let saved = self.flags;
                        self.frames.push(Frame::new(Some(true), saved));
                        t = &t[1..];
                    }
                }
                b'|' => {
                    self.top().end_concat();
                    t = &t[1..];
                }
                b')' => {
                    self.right_paren()?;
                    t = &t[1..];
                }
                b'^' => {
                    let text = if self.flags.multi_line { "(?m:^)" } else { r"\A" };
                    self.push(text.into(), true);
                    t = &t[1..];
                }
                b'$' => {
                    let text = if self.flags.multi_line { "(?m:$)" } else { r"\z" };
                    self.push(text.into(), true);
                    t = &t[1..];
                }
                b'.' => {
                    let text = if self.flags.dot_nl { "(?s:.)" } else { "." };
                    self.push(text.into(), false);
                    t = &t[1..];
                }
                b'[' => t = self.parse_class(t)?,
                b'*' | b'+' | b'?' => {
                    let op = &t[..1];
                    let before = t;
                    t = self.repeat(0, 0, op, before, &t[1..], last_repeat)?;
                    repeat = Some(before);
                }
                b'{' => {
                    let before = t;
                    match parse_repeat(t) {
                        None => {
                            self.literal('{');
                            t = &t[1..];
                        }
                        Some((min, max, after)) => {
                            if !(0..=1000).contains(&min) || max > 1000 || (max >= 0 && min > max) {
                                return Err(perr(ERR_INVALID_REPEAT_SIZE, &before[..before.len() - after.len()]));
                            }
                            let op = if max == min {
                                format!("{{{min}}}")
                            } else if max < 0 {
                                format!("{{{min},}}")
                            } else {
                                format!("{{{min},{max}}}")
                            };
                            t = self.repeat(min, max, &op, before, after, last_repeat)?;
                            repeat = Some(before);
                        }
                    }
                }
                b'\\' => t = self.escape(t)?,
                _ => {
                    let ch = t.chars().next().unwrap_or('\0');
                    self.literal(ch);
                    t = &t[ch.len_utf8()..];
                }
            }
            last_repeat = repeat;
        }
        if self.frames.len() != 1 {
            return Err(perr(ERR_MISSING_PAREN, self.whole));
        }
        let mut f = self.frames.pop().unwrap_or_else(|| Frame::new(None, Flags::default()));
        f.end_concat();
        self.check_height(f.alt_height())?;
        Ok(f.alts.join("|"))
    }

    fn escape(&mut self, t: &'a str) -> Result<&'a str, String> {
        if t.len() >= 2 {
            let fixed = match t.as_bytes()[1] {
                b'A' => Some(r"\A"),
                b'b' => Some(r"(?-u:\b)"),
                b'B' => Some(r"(?-u:\B)"),
                b'z' => Some(r"\z"),
                b'C' => return Err(perr(ERR_INVALID_ESCAPE, &t[..2])),
                b'Q' => {
                    let rest = &t[2..];
                    let (quoted, after) = match rest.find("\\E") {
                        Some(i) => (&rest[..i], &rest[i + 2..]),
                        None => (rest, ""),
                    };
                    for c in quoted.chars() {
                        self.literal(c);
                    }
                    return Ok(after);
                }
                _ => None,
            };
            if let Some(text) = fixed {
                self.push(text.into(), true);
                return Ok(&t[2..]);
            }
            let b1 = t.as_bytes()[1];
            if b1 == b'p' || b1 == b'P' {
                let (neg, body, rest) = parse_unicode_class(t)?;
                let fold = self.flags.fold;
                self.push(with_fold(class_part(neg, &body), fold), false);
                return Ok(rest);
            }
            if let Some((neg, body)) = perl_class(b1 as char) {
                let fold = self.flags.fold;
                self.push(with_fold(class_part(neg, body), fold), false);
                return Ok(&t[2..]);
            }
        }
        let (c, rest) = parse_escape(t)?;
        match char::from_u32(c) {
            Some(c) => self.literal(c),
            // A surrogate never matches a valid string.
            None => self.push(NOTHING.into(), false),
        }
        Ok(rest)
    }
}

/// Adds `lo-hi` to a class body, without the surrogates (which the regex crate rejects and
/// which cannot occur in a valid string).
fn push_range(body: &mut String, lo: u32, hi: u32) {
    let mut one = |lo: u32, hi: u32| {
        if let (Some(a), Some(b)) = (char::from_u32(lo), char::from_u32(hi)) {
            body.push_str(&lit(a));
            if hi != lo {
                body.push('-');
                body.push_str(&lit(b));
            }
        }
    };
    if hi < 0xD800 || lo > 0xDFFF {
        one(lo, hi);
        return;
    }
    if lo < 0xD800 {
        one(lo, 0xD7FF);
    }
    if hi > 0xDFFF {
        one(0xE000, hi);
    }
}

/// A class character (Go's `parseClassChar`); `whole` is the class from its `[`.
fn class_char<'a>(s: &'a str, whole: &str) -> Result<(u32, &'a str), String> {
    if s.is_empty() {
        return Err(perr(ERR_MISSING_BRACKET, whole));
    }
    if s.starts_with('\\') {
        return parse_escape(s);
    }
    let c = s.chars().next().unwrap_or('\0');
    Ok((c as u32, &s[c.len_utf8()..]))
}

/// Go's `parseInt` for repeat counts: `None` if no digits or a leading zero; -1 if too big.
fn parse_int(s: &str) -> Option<(i64, &str)> {
    let b = s.as_bytes();
    if b.is_empty() || !b[0].is_ascii_digit() {
        return None;
    }
    if b.len() >= 2 && b[0] == b'0' && b[1].is_ascii_digit() {
        return None;
    }
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut v: i64 = 0;
    for &d in &b[..n] {
        if v >= 100_000_000 {
            v = -1;
            break;
        }
        v = v * 10 + (d - b'0') as i64;
    }
    Some((v, &s[n..]))
}

/// Go's `parseRepeat`: `{min}`, `{min,}`, `{min,max}` → (min, max (-1 for none), rest).
fn parse_repeat(s: &str) -> Option<(i64, i64, &str)> {
    let s = s.strip_prefix('{')?;
    let (mut min, s) = parse_int(s)?;
    let max;
    let s = if let Some(s) = s.strip_prefix(',') {
        if s.starts_with('}') {
            max = -1;
            s
        } else {
            let (m, s) = parse_int(s)?;
            max = m;
            if m < 0 {
                min = -1;
            }
            s
        }
    } else {
        if s.is_empty() {
            return None;
        }
        max = min;
        s
    };
    let rest = s.strip_prefix('}')?;
    Some((min, max, rest))
}

/// Go's `regexp.Compile`; the error is Go's text.
pub fn compile(pattern: &str) -> Result<Arc<GoRegex>, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<GoRegex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(re) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(re);
    }
    let mut p = Parser { whole: pattern, flags: Flags::default(), frames: vec![Frame::new(None, Flags::default())], ncap: 0, names: vec![String::new()] };
    let rust = p.parse()?;
    let re = regex::RegexBuilder::new(&rust)
        .size_limit(1 << 28)
        .dfa_size_limit(1 << 26)
        .nest_limit(2000)
        .build()
        .map_err(|e| format!("error parsing regexp: {e}"))?;
    let compiled = Arc::new(GoRegex { re, names: p.names, expr_empty: pattern.is_empty() });
    if let Ok(mut c) = cache.lock() {
        if c.len() > 512 {
            c.clear();
        }
        c.insert(pattern.to_string(), compiled.clone());
    }
    Ok(compiled)
}

impl GoRegex {
    /// Go's `allMatches` loop: up to `n` (all if negative) non-overlapping match spans; an
    /// empty match right after a previous match is skipped.
    fn all_matches(&self, s: &str, n: i64) -> Vec<(usize, usize)> {
        let limit = if n < 0 { s.len() as i64 + 1 } else { n };
        let mut out = Vec::new();
        let mut pos = 0usize;
        let mut prev_end: Option<usize> = None;
        while (out.len() as i64) < limit && pos <= s.len() {
            let Some(m) = self.re.find_at(s, pos) else { break };
            let (a, b) = (m.start(), m.end());
            let mut accept = true;
            if b == pos {
                if prev_end == Some(a) {
                    accept = false;
                }
                pos += s[pos..].chars().next().map_or(1, char::len_utf8);
            } else {
                pos = b;
            }
            prev_end = Some(b);
            if accept {
                out.push((a, b));
            }
        }
        out
    }

    pub fn is_match(&self, s: &str) -> bool {
        self.re.is_match(s)
    }

    pub fn find(&self, s: &str) -> String {
        self.re.find(s).map(|m| m.as_str().to_string()).unwrap_or_default()
    }

    pub fn find_all(&self, s: &str, n: i64) -> Vec<String> {
        self.all_matches(s, n).into_iter().map(|(a, b)| s[a..b].to_string()).collect()
    }

    /// Go's `replaceAll`; `expand` says whether `$` references are expanded.
    pub fn replace_all(&self, src: &str, repl: &str, expand: bool) -> String {
        let mut out = String::with_capacity(src.len());
        let mut last_end = 0usize;
        let mut search = 0usize;
        let mut locs = self.re.capture_locations();
        while search <= src.len() {
            let Some(m) = self.re.captures_read_at(&mut locs, src, search) else { break };
            let (a, b) = (m.start(), m.end());
            out.push_str(&src[last_end..a]);
            if b > last_end || a == 0 {
                if expand {
                    self.expand(&mut out, repl, src, &locs);
                } else {
                    out.push_str(repl);
                }
            }
            last_end = b;
            let width = src[search..].chars().next().map_or(0, char::len_utf8);
            if search + width > b {
                search += width;
            } else if search + 1 > b {
                search += 1;
            } else {
                search = b;
            }
        }
        out.push_str(&src[last_end..]);
        out
    }

    /// Go's `Regexp.expand` of `$1`, `${1}`, `$name`, `${name}` and `$$`.
    fn expand(&self, out: &mut String, template: &str, src: &str, locs: &regex::CaptureLocations) {
        let group = |i: usize| locs.get(i).map(|(a, b)| &src[a..b]);
        let mut t = template;
        while let Some(i) = t.find('$') {
            out.push_str(&t[..i]);
            t = &t[i + 1..];
            if let Some(r) = t.strip_prefix('$') {
                out.push('$');
                t = r;
                continue;
            }
            let Some((name, num, rest)) = extract(t) else {
                out.push('$');
                continue;
            };
            t = rest;
            if let Some(num) = num {
                if num < self.names.len() {
                    if let Some(g) = group(num) {
                        out.push_str(g);
                    }
                }
            } else if let Some(g) = self.names.iter().enumerate().filter(|(_, n)| *n == name).find_map(|(i, _)| group(i)) {
                out.push_str(g);
            }
        }
        out.push_str(t);
    }

    /// Go's `Regexp.Split`.
    pub fn split(&self, s: &str, n: i64) -> Option<Vec<String>> {
        if n == 0 {
            return None;
        }
        if !self.expr_empty && s.is_empty() {
            return Some(vec![String::new()]);
        }
        let matches = self.all_matches(s, n);
        let mut out = Vec::with_capacity(matches.len() + 1);
        let (mut beg, mut end) = (0usize, 0usize);
        for (a, b) in matches {
            if n > 0 && out.len() as i64 >= n - 1 {
                break;
            }
            end = a;
            if b != 0 {
                out.push(s[beg..end].to_string());
            }
            beg = b;
        }
        if end != s.len() {
            out.push(s[beg..].to_string());
        }
        Some(out)
    }
}

/// Go's `extract` for `Expand`: the name after `$` (braced or not), its number if it is one,
/// and the rest.
fn extract(s: &str) -> Option<(&str, Option<usize>, &str)> {
    let (brace, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let mut i = 0;
    for c in body.chars() {
        if !(super::strings::uni::is_letter(c) || super::strings::uni::is_digit(c) || c == '_') {
            break;
        }
        i += c.len_utf8();
    }
    if i == 0 {
        return None;
    }
    let name = &body[..i];
    let mut rest = &body[i..];
    if brace {
        rest = rest.strip_prefix('}')?;
    }
    let mut num: Option<usize> = Some(0);
    for b in name.bytes() {
        match num {
            Some(n) if b.is_ascii_digit() && n < 100_000_000 => num = Some(n * 10 + (b - b'0') as usize),
            _ => {
                num = None;
                break;
            }
        }
    }
    if name.len() > 1 && name.starts_with('0') {
        num = None;
    }
    Some((name, num, rest))
}

/// Go's `regexp.QuoteMeta`.
pub fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if matches!(c, '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Go's `strconv.CanBackquote`.
fn can_backquote(s: &str) -> bool {
    s.chars().all(|c| c != '\u{feff}' && c != '`' && c != '\u{7f}' && (c >= ' ' || c == '\t'))
}

/// The panic text of `regexp.MustCompile`.
fn must_compile(pattern: &str) -> Result<Arc<GoRegex>, FuncError> {
    compile(pattern).map_err(|e| {
        let q = if can_backquote(pattern) { format!("`{pattern}`") } else { crate::print::quote(pattern) };
        FuncError(format!("regexp: Compile({q}): {e}"))
    })
}

fn compile_err(pattern: &str) -> Result<Arc<GoRegex>, FuncError> {
    compile(pattern).map_err(FuncError)
}

fn strings_value(v: Vec<String>) -> Value {
    string_list(v)
}

pub fn register(m: &mut FuncMap) {
    let s2 = || vec![str_t(), str_t()];
    let s2i = || vec![str_t(), str_t(), int_t()];
    let s3 = || vec![str_t(), str_t(), str_t()];
    add(m, "regexMatch", s2(), bool_t(), |a| ok(Value::Bool(compile(arg_str(&a[0])).map(|r| r.is_match(arg_str(&a[1]))).unwrap_or(false))));
    add_err(m, "mustRegexMatch", s2(), bool_t(), false, |a| Ok(Value::Bool(compile_err(arg_str(&a[0]))?.is_match(arg_str(&a[1])))));
    add(m, "regexFindAll", s2i(), strs_t(), |a| Ok(strings_value(must_compile(arg_str(&a[0]))?.find_all(arg_str(&a[1]), arg_int(&a[2])))));
    add_err(m, "mustRegexFindAll", s2i(), strs_t(), false, |a| Ok(strings_value(compile_err(arg_str(&a[0]))?.find_all(arg_str(&a[1]), arg_int(&a[2])))));
    add(m, "regexFind", s2(), str_t(), |a| Ok(Value::string(must_compile(arg_str(&a[0]))?.find(arg_str(&a[1])))));
    add_err(m, "mustRegexFind", s2(), str_t(), false, |a| Ok(Value::string(compile_err(arg_str(&a[0]))?.find(arg_str(&a[1])))));
    add(m, "regexReplaceAll", s3(), str_t(), |a| Ok(Value::string(must_compile(arg_str(&a[0]))?.replace_all(arg_str(&a[1]), arg_str(&a[2]), true))));
    add_err(m, "mustRegexReplaceAll", s3(), str_t(), false, |a| Ok(Value::string(compile_err(arg_str(&a[0]))?.replace_all(arg_str(&a[1]), arg_str(&a[2]), true))));
    add(m, "regexReplaceAllLiteral", s3(), str_t(), |a| Ok(Value::string(must_compile(arg_str(&a[0]))?.replace_all(arg_str(&a[1]), arg_str(&a[2]), false))));
    add_err(m, "mustRegexReplaceAllLiteral", s3(), str_t(), false, |a| Ok(Value::string(compile_err(arg_str(&a[0]))?.replace_all(arg_str(&a[1]), arg_str(&a[2]), false))));
    add(m, "regexSplit", s2i(), strs_t(), |a| Ok(strings_value(must_compile(arg_str(&a[0]))?.split(arg_str(&a[1]), arg_int(&a[2])).unwrap_or_default())));
    add_err(m, "mustRegexSplit", s2i(), strs_t(), false, |a| Ok(strings_value(compile_err(arg_str(&a[0]))?.split(arg_str(&a[1]), arg_int(&a[2])).unwrap_or_default())));
    add(m, "regexQuoteMeta", vec![str_t()], str_t(), |a| ok(Value::string(quote_meta(arg_str(&a[0])))));
}
