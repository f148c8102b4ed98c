//! sprig's string functions (sprig: functions.go genericMap, strings.go).

use std::sync::Arc;

use super::util::*;
use super::FuncMap;
use crate::value::{GoType, Map, Value};

/// Go's `unicode.IsSpace`.
pub fn go_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}') || (c as u32 > 0xff && c.is_whitespace())
}

/// Go's `unicode` package: general categories (Go's `IsUpper` is category Lu, not Unicode's
/// Uppercase property) and the simple one-rune case mappings (`ToUpper('ß')` is `'ß'`).
pub mod uni {
    use std::sync::OnceLock;

    fn in_class(cell: &'static OnceLock<Option<regex::Regex>>, pat: &'static str, c: char) -> bool {
        let re = cell.get_or_init(|| regex::Regex::new(pat).ok());
        let mut buf = [0u8; 4];
        re.as_ref().is_some_and(|re| re.is_match(c.encode_utf8(&mut buf)))
    }

    /// `unicode.IsUpper` (category Lu).
    pub fn is_upper(c: char) -> bool {
        if c.is_ascii() {
            return c.is_ascii_uppercase();
        }
        static C: OnceLock<Option<regex::Regex>> = OnceLock::new();
        in_class(&C, r"\p{Lu}", c)
    }

    /// `unicode.IsLower` (category Ll).
    pub fn is_lower(c: char) -> bool {
        if c.is_ascii() {
            return c.is_ascii_lowercase();
        }
        static C: OnceLock<Option<regex::Regex>> = OnceLock::new();
        in_class(&C, r"\p{Ll}", c)
    }

    /// `unicode.IsTitle` (category Lt).
    pub fn is_title(c: char) -> bool {
        if c.is_ascii() {
            return false;
        }
        static C: OnceLock<Option<regex::Regex>> = OnceLock::new();
        in_class(&C, r"\p{Lt}", c)
    }

    /// `unicode.IsLetter` (category L).
    pub fn is_letter(c: char) -> bool {
        if c.is_ascii() {
            return c.is_ascii_alphabetic();
        }
        static C: OnceLock<Option<regex::Regex>> = OnceLock::new();
        in_class(&C, r"\p{L}", c)
    }

    /// `unicode.IsDigit` (category Nd).
    pub fn is_digit(c: char) -> bool {
        if c.is_ascii() {
            return c.is_ascii_digit();
        }
        static C: OnceLock<Option<regex::Regex>> = OnceLock::new();
        in_class(&C, r"\p{Nd}", c)
    }

    /// `unicode.IsNumber` (category N).
    pub fn is_number(c: char) -> bool {
        if c.is_ascii() {
            return c.is_ascii_digit();
        }
        static C: OnceLock<Option<regex::Regex>> = OnceLock::new();
        in_class(&C, r"\p{N}", c)
    }

    /// `unicode.IsPunct` (category P).
    pub fn is_punct(c: char) -> bool {
        static C: OnceLock<Option<regex::Regex>> = OnceLock::new();
        in_class(&C, r"\p{P}", c)
    }

    fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
        let first = it.next()?;
        if it.next().is_some() {
            None
        } else {
            Some(first)
        }
    }

    /// `unicode.ToUpper`: the simple mapping. Where Rust's full mapping has several characters the
    /// simple one is the character itself, except for the Greek letters with ypogegrammeni, whose
    /// simple upper case is the title-case letter with prosgegrammeni.
    pub fn to_upper(c: char) -> char {
        if c.is_ascii() {
            return c.to_ascii_uppercase();
        }
        if let Some(u) = single(c.to_uppercase()) {
            return u;
        }
        let n = c as u32;
        let mapped = match n {
            0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7 => n + 8,
            0x1FB3 | 0x1FC3 | 0x1FF3 => n + 9,
            _ => n,
        };
        char::from_u32(mapped).unwrap_or(c)
    }

    /// `unicode.ToLower`: the simple mapping (`İ` becomes `i`).
    pub fn to_lower(c: char) -> char {
        if c.is_ascii() {
            return c.to_ascii_lowercase();
        }
        if c == '\u{130}' {
            return 'i';
        }
        single(c.to_lowercase()).unwrap_or(c)
    }

    /// `unicode.ToTitle`: like `to_upper` except for the digraphs (`ǆ` becomes `ǅ`) and
    /// Georgian Mkhedruli, which has no title case.
    pub fn to_title(c: char) -> char {
        match c as u32 {
            0x1C4..=0x1C6 => '\u{1C5}',
            0x1C7..=0x1C9 => '\u{1C8}',
            0x1CA..=0x1CC => '\u{1CB}',
            0x1F1..=0x1F3 => '\u{1F2}',
            0x10D0..=0x10FA | 0x10FD..=0x10FF => c,
            _ => to_upper(c),
        }
    }
}

/// Go: `s[a:b]` (byte offsets) with Go's panic text when out of range.
fn go_slice(s: &str, a: Option<i64>, b: Option<i64>) -> Result<String, String> {
    let len = s.len() as i64;
    let lo = a.unwrap_or(0);
    let hi = b.unwrap_or(len);
    if b.is_some() {
        if hi < 0 {
            return Err(format!("runtime error: slice bounds out of range [:{hi}]"));
        }
        if hi > len {
            return Err(format!("runtime error: slice bounds out of range [:{hi}] with length {len}"));
        }
    }
    if lo < 0 {
        return Err(format!("runtime error: slice bounds out of range [{lo}:]"));
    }
    if lo > hi {
        return Err(format!("runtime error: slice bounds out of range [{lo}:{hi}]"));
    }
    let bytes = &s.as_bytes()[lo as usize..hi as usize];
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// Go's `strings.ToUpper` / `strings.ToLower` / `strings.Map(unicode.ToTitle)`.
pub fn go_upper(s: &str) -> String {
    s.chars().map(uni::to_upper).collect()
}

pub fn go_lower(s: &str) -> String {
    s.chars().map(uni::to_lower).collect()
}

/// Go's deprecated `strings.Title`: the first letter of each word in title case; words are
/// separated by what `isSeparator` says.
fn title(s: &str) -> String {
    fn is_separator(c: char) -> bool {
        if c.is_ascii() {
            return !(c.is_ascii_alphanumeric() || c == '_');
        }
        if uni::is_letter(c) || uni::is_digit(c) {
            return false;
        }
        go_space(c)
    }
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if is_separator(prev) { uni::to_title(c) } else { c };
            prev = c;
            out
        })
        .collect()
}

/// goutils `Uncapitalize` with whitespace delimiters.
fn untitle(s: &str) -> String {
    let mut next = true;
    s.chars()
        .map(|c| {
            if go_space(c) {
                next = true;
                c
            } else if next {
                next = false;
                uni::to_lower(c)
            } else {
                c
            }
        })
        .collect()
}

/// goutils `SwapCase`.
fn swap_case(s: &str) -> String {
    let mut ws = true;
    s.chars()
        .map(|c| {
            if uni::is_upper(c) || uni::is_title(c) {
                ws = false;
                uni::to_lower(c)
            } else if uni::is_lower(c) {
                if ws {
                    ws = false;
                    uni::to_title(c)
                } else {
                    uni::to_upper(c)
                }
            } else {
                ws = go_space(c);
                c
            }
        })
        .collect()
}

/// goutils `DeleteWhiteSpace`: works on bytes, each taken as a Latin-1 rune; if anything was
/// removed, the remaining bytes are re-encoded as those runes.
fn delete_white_space(s: &str) -> String {
    let kept: Vec<u8> = s.bytes().filter(|b| !go_space(char::from(*b))).collect();
    if kept.len() == s.len() {
        return s.to_string();
    }
    kept.into_iter().map(char::from).collect()
}

/// goutils `Initials` with whitespace delimiters (byte-wise, as Latin-1 runes).
fn initials(s: &str) -> String {
    let mut out = String::new();
    let mut gap = true;
    for b in s.bytes() {
        let c = char::from(b);
        if go_space(c) {
            gap = true;
        } else if gap {
            out.push(c);
            gap = false;
        }
    }
    out
}

fn split_to_map(parts: Vec<&str>) -> Value {
    let entries = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (Arc::from(format!("_{i}").as_str()), Value::string(p)))
        .collect();
    Value::Map(Arc::new(Map::new(GoType::String, entries)))
}

/// Go's `strings.Split(s, sep)` (an empty separator splits into UTF-8 characters).
pub fn go_split<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    if sep.is_empty() {
        return s.char_indices().map(|(i, c)| &s[i..i + c.len_utf8()]).collect();
    }
    s.split(sep).collect()
}

fn go_splitn<'a>(s: &'a str, sep: &str, n: i64) -> Vec<&'a str> {
    if n == 0 {
        return Vec::new();
    }
    if n < 0 {
        return go_split(s, sep);
    }
    if sep.is_empty() {
        let mut v: Vec<&str> = Vec::new();
        let mut rest = s;
        while v.len() + 1 < n as usize {
            let Some(c) = rest.chars().next() else { break };
            v.push(&rest[..c.len_utf8()]);
            rest = &rest[c.len_utf8()..];
        }
        if !rest.is_empty() {
            v.push(rest);
        }
        return v;
    }
    s.splitn(n as usize, sep).collect()
}

/// huandu/xstrings v1.5.0 case conversions.
mod xs {
    use super::{go_space, uni};

    const RUNE_ERROR: char = '\u{FFFD}';

    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Word {
        Invalid,
        Number,
        Upper,
        Alphabet,
        Connector,
        Punct,
        Other,
    }

    pub fn is_connector(c: char) -> bool {
        c == '-' || c == '_' || go_space(c)
    }

    /// xstrings `isAlphabet`: letters, but not the common CJK ideographs.
    fn is_alphabet(c: char) -> bool {
        if !uni::is_letter(c) {
            return false;
        }
        let n = c as u32;
        if n < 0x3400 {
            return true;
        }
        !matches!(n, 0x4E00..=0x9FCC | 0x3400..=0x4D85 | 0x20000..=0x2B81D)
    }

    /// The first rune of `s` that is not U+FFFD (Go's `utf8.RuneError`), and the bytes up to and
    /// including it; `prev` if there is none (then all of `s` is consumed).
    fn next_valid(s: &str, prev: char) -> (char, usize) {
        let mut size = 0;
        for c in s.chars() {
            size += c.len_utf8();
            if c != RUNE_ERROR {
                return (c, size);
            }
        }
        (prev, size)
    }

    /// xstrings `nextWord`: the type of the next word, its length in bytes.
    fn next_word(s: &str) -> (Word, usize) {
        if s.is_empty() {
            return (Word::Invalid, 0);
        }
        let (mut r, size) = next_valid(s, RUNE_ERROR);
        let mut offset = size;
        if r == RUNE_ERROR {
            return (Word::Invalid, offset);
        }
        // `pos` is where `remaining` starts.
        let mut pos = size;
        let take_while = |pos: &mut usize, offset: &mut usize, r: &mut char, keep: &dyn Fn(char) -> bool| {
            while *pos < s.len() {
                let (c, sz) = next_valid(&s[*pos..], *r);
                *r = c;
                if !keep(c) {
                    break;
                }
                *offset += sz;
                *pos += sz;
            }
        };
        let wt;
        if is_connector(r) {
            wt = Word::Connector;
            take_while(&mut pos, &mut offset, &mut r, &is_connector);
        } else if uni::is_punct(r) {
            wt = Word::Punct;
            take_while(&mut pos, &mut offset, &mut r, &uni::is_punct);
        } else if uni::is_upper(r) {
            wt = Word::Upper;
            if pos < s.len() {
                let (c, sz) = next_valid(&s[pos..], r);
                r = c;
                if uni::is_upper(c) {
                    let mut prev_size = sz;
                    offset += sz;
                    pos += sz;
                    while pos < s.len() {
                        let (c, sz) = next_valid(&s[pos..], r);
                        r = c;
                        if !uni::is_upper(c) {
                            break;
                        }
                        prev_size = sz;
                        offset += sz;
                        pos += sz;
                    }
                    // "HTTPStatus": the "S" starts the next word.
                    if pos < s.len() && is_alphabet(r) {
                        offset -= prev_size;
                    }
                } else if is_alphabet(c) {
                    offset += sz;
                    pos += sz;
                    take_while(&mut pos, &mut offset, &mut r, &|c| is_alphabet(c) && !uni::is_upper(c));
                }
            }
        } else if is_alphabet(r) {
            wt = Word::Alphabet;
            take_while(&mut pos, &mut offset, &mut r, &|c| is_alphabet(c) && !uni::is_upper(c));
        } else if uni::is_number(r) {
            wt = Word::Number;
            take_while(&mut pos, &mut offset, &mut r, &uni::is_number);
        } else {
            wt = Word::Other;
            take_while(&mut pos, &mut offset, &mut r, &|c| !(is_connector(c) || is_alphabet(c) || uni::is_number(c) || uni::is_punct(c)));
        }
        (wt, offset)
    }

    fn to_lower(out: &mut String, wt: Word, word: &str, connector: char) {
        if wt != Word::Upper && wt != Word::Connector {
            out.push_str(word);
            return;
        }
        for c in word.chars() {
            if is_connector(c) {
                out.push(connector);
            } else if uni::is_upper(c) {
                out.push(uni::to_lower(c));
            } else {
                out.push(c);
            }
        }
    }

    /// A cursor over the words of a string.
    struct Words<'a> {
        rest: &'a str,
    }

    impl<'a> Words<'a> {
        fn next(&mut self) -> (Word, &'a str) {
            let (wt, n) = next_word(self.rest);
            let (word, rest) = self.rest.split_at(n);
            self.rest = rest;
            (wt, word)
        }
    }

    /// xstrings `camelCaseToLowerCase` (`ToSnakeCase`, `ToKebabCase`).
    pub fn to_lower_case(s: &str, connector: char) -> String {
        let mut out = String::with_capacity(s.len() + 4);
        if s.is_empty() {
            return out;
        }
        let mut ws = Words { rest: s };
        let (mut wt, mut word) = ws.next();
        while !ws.rest.is_empty() {
            if wt != Word::Connector {
                to_lower(&mut out, wt, word, connector);
            }
            let prev = wt;
            let last = word;
            (wt, word) = ws.next();
            match prev {
                Word::Number => {
                    while wt == Word::Alphabet || wt == Word::Number {
                        to_lower(&mut out, wt, word, connector);
                        (wt, word) = ws.next();
                    }
                    if !matches!(wt, Word::Invalid | Word::Punct | Word::Connector) {
                        out.push(connector);
                    }
                }
                Word::Connector => to_lower(&mut out, prev, last, connector),
                Word::Punct => {}
                _ => {
                    if wt != Word::Number {
                        if wt != Word::Connector && wt != Word::Punct {
                            out.push(connector);
                        }
                        continue;
                    }
                    if ws.rest.is_empty() {
                        continue;
                    }
                    let number = word;
                    (wt, word) = ws.next();
                    if wt != Word::Alphabet {
                        to_lower(&mut out, Word::Number, number, connector);
                        if wt != Word::Connector && wt != Word::Punct {
                            out.push(connector);
                        }
                        continue;
                    }
                    // "HTTP2xx": the number starts a new word with what follows.
                    out.push(connector);
                    to_lower(&mut out, Word::Number, number, connector);
                    while wt == Word::Alphabet || wt == Word::Number {
                        to_lower(&mut out, wt, word, connector);
                        (wt, word) = ws.next();
                    }
                    if !matches!(wt, Word::Invalid | Word::Connector | Word::Punct) {
                        out.push(connector);
                    }
                }
            }
        }
        to_lower(&mut out, wt, word, connector);
        out
    }

    /// xstrings `ToPascalCase` (`toCamelCase(s, true)`).
    pub fn to_pascal_case(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut chars = s.chars();
        let mut first_upper = false;
        let mut r0 = '\0';
        let mut seen = false;
        for c in chars.by_ref() {
            seen = true;
            r0 = c;
            if !is_connector(c) {
                first_upper = uni::is_upper(c);
                r0 = uni::to_upper(c);
                break;
            }
            out.push(c);
        }
        let rest = chars.as_str();
        if rest.is_empty() {
            if seen {
                out.push(r0);
            }
            return out;
        }
        for c in rest.chars() {
            let r1 = r0;
            r0 = c;
            if is_connector(r0) && is_connector(r1) {
                out.push(r1);
                continue;
            }
            if is_connector(r1) {
                first_upper = uni::is_upper(r0);
                r0 = uni::to_upper(r0);
            } else {
                if first_upper {
                    if uni::is_upper(r0) {
                        r0 = uni::to_lower(r0);
                    } else {
                        first_upper = false;
                    }
                }
                out.push(r1);
            }
        }
        out.push(r0);
        out
    }

    /// xstrings `Shuffle`: the runes in random order.
    pub fn shuffle(s: &str) -> String {
        let mut runes: Vec<char> = s.chars().collect();
        let mut rng = super::Rng::new();
        for i in (1..runes.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            runes.swap(i, j);
        }
        runes.into_iter().collect()
    }
}

/// A small non-cryptographic random source (xorshift*) for `shuffle`, seeded from the clock,
/// a counter and the address space.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        let c = COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        let local = 0u8;
        let addr = &local as *const u8 as u64;
        let mut seed = t ^ c.rotate_left(17) ^ addr.rotate_left(41);
        if seed == 0 {
            seed = 0x2545_F491_4F6C_DD1D;
        }
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        // Rejection sampling for an unbiased result.
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.next();
            if v < zone {
                return v % n;
            }
        }
    }
}

fn expand_env(s: &str) -> String {
    // Go's os.Expand with os.Getenv.
    let mut out = String::new();
    let b = s.as_bytes();
    let mut i = 0;
    let mut start = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            out.push_str(&s[start..i]);
            let rest = &s[i + 1..];
            let (name, w) = if let Some(r) = rest.strip_prefix('{') {
                match r.find('}') {
                    Some(0) => ("", 2),
                    Some(e) => (&r[..e], e + 2),
                    None => ("", 1),
                }
            } else if rest.starts_with(|c: char| c == '*' || c == '#' || c == '$' || c == '@' || c == '!' || c == '?' || c == '-' || c.is_ascii_digit()) {
                (&rest[..1], 1)
            } else {
                let n = rest.bytes().take_while(|c| c.is_ascii_alphanumeric() || *c == b'_').count();
                (&rest[..n], n)
            };
            if name.is_empty() && w > 0 {
                // Bad syntax: Go drops the `$` and `{...}`.
            } else if !name.is_empty() {
                out.push_str(&std::env::var(name).unwrap_or_default());
            } else {
                out.push('$');
            }
            i += 1 + w;
            start = i;
            continue;
        }
        i += 1;
    }
    out.push_str(&s[start.min(s.len())..]);
    out
}

pub fn register(m: &mut FuncMap) {
    add(m, "hello", vec![], str_t(), |_| ok(Value::string("Hello!")));
    add(m, "abbrev", vec![int_t(), str_t()], str_t(), |a| {
        let (w, s) = (arg_int(&a[0]), arg_str(&a[1]));
        if w < 4 || s.len() as i64 <= w {
            return ok(Value::string(s));
        }
        let cut = go_slice(s, Some(0), Some(w - 3)).map_err(super::FuncError)?;
        ok(Value::string(format!("{cut}...")))
    });
    add(m, "abbrevboth", vec![int_t(), int_t(), str_t()], str_t(), |a| {
        let (left, right, s) = (arg_int(&a[0]), arg_int(&a[1]), arg_str(&a[2]));
        ok(Value::string(abbrev_both(s, left, right)))
    });
    add(m, "trunc", vec![int_t(), str_t()], str_t(), |a| {
        let (c, s) = (arg_int(&a[0]), arg_str(&a[1]));
        let len = s.len() as i64;
        let r = if c < 0 && len + c > 0 {
            go_slice(s, Some(len + c), None)
        } else if c >= 0 && len > c {
            go_slice(s, Some(0), Some(c))
        } else {
            // Nothing cut: the same string, shared.
            return ok(a[1].clone());
        };
        r.map(Value::string).map_err(super::FuncError)
    });
    add(m, "trim", vec![str_t()], str_t(), |a| ok(Value::string(arg_str(&a[0]).trim_matches(go_space))));
    add(m, "upper", vec![str_t()], str_t(), |a| ok(Value::string(go_upper(arg_str(&a[0])))));
    add(m, "lower", vec![str_t()], str_t(), |a| ok(Value::string(go_lower(arg_str(&a[0])))));
    add(m, "title", vec![str_t()], str_t(), |a| ok(Value::string(title(arg_str(&a[0])))));
    add(m, "untitle", vec![str_t()], str_t(), |a| ok(Value::string(untitle(arg_str(&a[0])))));
    add(m, "substr", vec![int_t(), int_t(), str_t()], str_t(), |a| {
        let (start, end, s) = (arg_int(&a[0]), arg_int(&a[1]), arg_str(&a[2]));
        let len = s.len() as i64;
        let r = if start < 0 {
            go_slice(s, None, Some(end))
        } else if end < 0 || end > len {
            go_slice(s, Some(start), None)
        } else {
            go_slice(s, Some(start), Some(end))
        };
        r.map(Value::string).map_err(super::FuncError)
    });
    add(m, "repeat", vec![int_t(), str_t()], str_t(), |a| go_repeat(arg_str(&a[1]), arg_int(&a[0])).map(Value::string).map_err(super::FuncError));
    for name in ["trimall", "trimAll"] {
        add(m, name, vec![str_t(), str_t()], str_t(), |a| {
            let cut: Vec<char> = arg_str(&a[0]).chars().collect();
            ok(Value::string(arg_str(&a[1]).trim_matches(|c| cut.contains(&c))))
        });
    }
    add(m, "trimSuffix", vec![str_t(), str_t()], str_t(), |a| {
        let (suf, s) = (arg_str(&a[0]), arg_str(&a[1]));
        match s.strip_suffix(suf) {
            Some(cut) => ok(Value::string(cut)),
            None => ok(a[1].clone()),
        }
    });
    add(m, "trimPrefix", vec![str_t(), str_t()], str_t(), |a| {
        let (pre, s) = (arg_str(&a[0]), arg_str(&a[1]));
        match s.strip_prefix(pre) {
            Some(cut) => ok(Value::string(cut)),
            None => ok(a[1].clone()),
        }
    });
    add(m, "nospace", vec![str_t()], str_t(), |a| ok(Value::string(delete_white_space(arg_str(&a[0])))));
    add(m, "initials", vec![str_t()], str_t(), |a| ok(Value::string(initials(arg_str(&a[0])))));
    add(m, "swapcase", vec![str_t()], str_t(), |a| ok(Value::string(swap_case(arg_str(&a[0])))));
    add(m, "shuffle", vec![str_t()], str_t(), |a| ok(Value::string(xs::shuffle(arg_str(&a[0])))));
    add(m, "snakecase", vec![str_t()], str_t(), |a| ok(Value::string(xs::to_lower_case(arg_str(&a[0]), '_'))));
    add(m, "kebabcase", vec![str_t()], str_t(), |a| ok(Value::string(xs::to_lower_case(arg_str(&a[0]), '-'))));
    add(m, "camelcase", vec![str_t()], str_t(), |a| ok(Value::string(xs::to_pascal_case(arg_str(&a[0])))));
    add(m, "wrap", vec![int_t(), str_t()], str_t(), |a| ok(Value::string(wrap(arg_str(&a[1]), arg_int(&a[0]), "\n", false))));
    add(m, "wrapWith", vec![int_t(), str_t(), str_t()], str_t(), |a| ok(Value::string(wrap(arg_str(&a[2]), arg_int(&a[0]), arg_str(&a[1]), true))));
    add(m, "contains", vec![str_t(), str_t()], bool_t(), |a| ok(Value::Bool(arg_str(&a[1]).contains(arg_str(&a[0])))));
    add(m, "hasPrefix", vec![str_t(), str_t()], bool_t(), |a| ok(Value::Bool(arg_str(&a[1]).starts_with(arg_str(&a[0])))));
    add(m, "hasSuffix", vec![str_t(), str_t()], bool_t(), |a| ok(Value::Bool(arg_str(&a[1]).ends_with(arg_str(&a[0])))));
    add_variadic(m, "quote", vec![any()], str_t(), |a| {
        let v: Vec<String> = a.iter().filter(|x| !matches!(x, Value::Nil | Value::Missing)).map(|x| crate::print::quote(&strval(x))).collect();
        ok(Value::string(v.join(" ")))
    });
    add_variadic(m, "squote", vec![any()], str_t(), |a| {
        let v: Vec<String> = a.iter().filter(|x| !matches!(x, Value::Nil | Value::Missing)).map(|x| format!("'{}'", crate::print::format_v(x))).collect();
        ok(Value::string(v.join(" ")))
    });
    add_variadic(m, "cat", vec![any()], str_t(), |a| {
        let v: Vec<String> = a.iter().filter(|x| !matches!(x, Value::Nil | Value::Missing)).map(crate::print::format_v).collect();
        ok(Value::string(v.join(" ")))
    });
    add(m, "indent", vec![int_t(), str_t()], str_t(), |a| indent(arg_int(&a[0]), arg_str(&a[1]), false).map(Value::string));
    add(m, "nindent", vec![int_t(), str_t()], str_t(), |a| indent(arg_int(&a[0]), arg_str(&a[1]), true).map(Value::string));
    add(m, "replace", vec![str_t(), str_t(), str_t()], str_t(), |a| {
        let (old, new, src) = (arg_str(&a[0]), arg_str(&a[1]), arg_str(&a[2]));
        if old.is_empty() {
            // Go inserts `new` around every UTF-8 character.
            let mut out = String::from(new);
            for c in src.chars() {
                out.push(c);
                out.push_str(new);
            }
            return ok(Value::string(out));
        }
        ok(Value::string(src.replace(old, new)))
    });
    add(m, "plural", vec![str_t(), str_t(), int_t()], str_t(), |a| ok(a[if arg_int(&a[2]) == 1 { 0 } else { 1 }].clone()));
    add(m, "sha1sum", vec![str_t()], str_t(), |a| {
        use sha1::Digest;
        ok(Value::string(hex(&sha1::Sha1::digest(arg_str(&a[0]).as_bytes()))))
    });
    add(m, "sha256sum", vec![str_t()], str_t(), |a| {
        use sha2::Digest;
        ok(Value::string(hex(&sha2::Sha256::digest(arg_str(&a[0]).as_bytes()))))
    });
    add(m, "sha512sum", vec![str_t()], str_t(), |a| {
        use sha2::Digest;
        ok(Value::string(hex(&sha2::Sha512::digest(arg_str(&a[0]).as_bytes()))))
    });
    add(m, "adler32sum", vec![str_t()], str_t(), |a| {
        let (mut x, mut y) = (1u32, 0u32);
        for b in arg_str(&a[0]).bytes() {
            x = (x + b as u32) % 65521;
            y = (y + x) % 65521;
        }
        ok(Value::string(((y << 16) | x).to_string()))
    });
    add(m, "toString", vec![any()], str_t(), |a| ok(Value::string(strval(&a[0]))));
    add(m, "toStrings", vec![any()], strs_t(), |a| ok(string_list(strslice(&a[0]))));
    add(m, "split", vec![str_t(), str_t()], GoType::map_of(GoType::String, GoType::String), |a| ok(split_to_map(go_split(arg_str(&a[1]), arg_str(&a[0])))));
    add(m, "splitn", vec![str_t(), int_t(), str_t()], GoType::map_of(GoType::String, GoType::String), |a| ok(split_to_map(go_splitn(arg_str(&a[2]), arg_str(&a[0]), arg_int(&a[1])))));
    add(m, "splitList", vec![str_t(), str_t()], strs_t(), |a| ok(string_list(go_split(arg_str(&a[1]), arg_str(&a[0])).into_iter().map(String::from).collect())));
    add(m, "join", vec![str_t(), any()], str_t(), |a| ok(Value::string(strslice(&a[1]).join(arg_str(&a[0])))));
    add(m, "sortAlpha", vec![any()], strs_t(), |a| {
        let mut v = match &a[0] {
            Value::List(_) | Value::Bytes(_) => strslice(&a[0]),
            v => vec![strval(v)],
        };
        v.sort();
        ok(string_list(v))
    });
    add(m, "env", vec![str_t()], str_t(), |a| ok(Value::string(std::env::var(arg_str(&a[0])).unwrap_or_default())));
    add(m, "expandenv", vec![str_t()], str_t(), |a| ok(Value::string(expand_env(arg_str(&a[0])))));
}

pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

fn abbrev_both(s: &str, left: i64, right: i64) -> String {
    // goutils AbbreviateFull.
    let len = s.len() as i64;
    if s.is_empty() || right < 4 || len <= right {
        return s.to_string();
    }
    let mut offset = left.min(len).max(0);
    if len - offset < right - 3 {
        offset = len - (right - 3);
    }
    let abrevmarker = "...";
    if offset <= 4 {
        return format!("{}{abrevmarker}", &s[..(right - 3) as usize]);
    }
    if right < 7 {
        return s.to_string();
    }
    if offset + right - 3 < len {
        let inner = abbrev_both(&s[offset as usize..], 0, right - 3);
        return format!("{abrevmarker}{inner}");
    }
    format!("{abrevmarker}{}", &s[(len - (right - 3)) as usize..])
}

/// goutils `WrapCustom`: byte offsets, words separated by ' ' only.
fn wrap(s: &str, width: i64, sep: &str, long_words: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let sep = if sep.is_empty() { "\n" } else { sep };
    let width = width.max(1) as usize;
    let b = s.as_bytes();
    let n = b.len();
    let mut out: Vec<u8> = Vec::with_capacity(n + 8);
    let mut offset = 0usize;
    while n - offset > width {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = width + offset + 1;
        if let Some(sp) = b[offset..end].iter().rposition(|&c| c == b' ') {
            let at = offset + sp;
            out.extend_from_slice(&b[offset..at]);
            out.extend_from_slice(sep.as_bytes());
            offset = at + 1;
        } else if long_words {
            out.extend_from_slice(&b[offset..offset + width]);
            out.extend_from_slice(sep.as_bytes());
            offset += width;
        } else {
            let end = width + offset;
            match b[end..].iter().position(|&c| c == b' ') {
                None => {
                    out.extend_from_slice(&b[offset..]);
                    offset = n;
                }
                Some(i) => {
                    let at = end + i;
                    out.extend_from_slice(&b[offset..at]);
                    out.extend_from_slice(sep.as_bytes());
                    offset = at + 1;
                }
            }
        }
    }
    out.extend_from_slice(&b[offset..]);
    String::from_utf8_lossy(&out).into_owned()
}

/// Go's `strings.Repeat`, with its panics.
pub fn go_repeat(s: &str, count: i64) -> Result<String, String> {
    match count {
        0 => return Ok(String::new()),
        1 => return Ok(s.to_string()),
        _ => {}
    }
    if count < 0 {
        return Err("strings: negative Repeat count".into());
    }
    match (s.len() as u64).checked_mul(count as u64) {
        Some(n) if n <= i64::MAX as u64 => Ok(s.repeat(count as usize)),
        _ => Err("strings: Repeat output length overflow".into()),
    }
}

/// sprig `indent`.
/// sprig `nindent` when `newline_first`. Built in one buffer of the final size: charts pipe
/// every `toYaml` block and `include` through it.
fn indent(spaces: i64, s: &str, newline_first: bool) -> Result<String, super::FuncError> {
    let pad = go_repeat(" ", spaces).map_err(super::FuncError)?;
    let lines = 1 + s.bytes().filter(|&b| b == b'\n').count();
    let mut out = String::with_capacity(usize::from(newline_first) + s.len() + lines * pad.len());
    if newline_first {
        out.push('\n');
    }
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&pad);
        out.push_str(line);
    }
    Ok(out)
}
