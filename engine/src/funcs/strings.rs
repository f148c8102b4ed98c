//! sprig's string functions (sprig: functions.go genericMap, strings.go).

use std::sync::Arc;

use super::util::*;
use super::FuncMap;
use crate::value::{GoType, Map, Value};

/// Go's `unicode.IsSpace`.
pub fn go_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}') || (c as u32 > 0xff && c.is_whitespace())
}

/// Go: `s[a:b]` (byte offsets) with Go's panic text when out of range.
fn go_slice(s: &str, a: Option<i64>, b: Option<i64>) -> Result<String, String> {
    let len = s.len() as i64;
    let lo = a.unwrap_or(0);
    let hi = b.unwrap_or(len);
    if b.is_some() && (hi < 0 || hi > len) {
        return Err(format!("runtime error: slice bounds out of range [:{hi}] with length {len}"));
    }
    if b.is_none() && lo > len {
        return Err(format!("runtime error: slice bounds out of range [{lo}:{len}]"));
    }
    if lo < 0 || lo > hi {
        return Err(format!("runtime error: slice bounds out of range [{lo}:{hi}]"));
    }
    let bytes = &s.as_bytes()[lo as usize..hi as usize];
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

fn title(s: &str) -> String {
    // Go's deprecated strings.Title: upper-case the first letter of each word.
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else if c.is_alphanumeric() {
            false
        } else {
            go_space(c)
        };
    }
    out
}

fn untitle(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_space = true;
    for c in s.chars() {
        if prev_space && c.is_alphabetic() {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        prev_space = go_space(c);
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

fn words(s: &str) -> Vec<String> {
    // huandu/xstrings word splitting (approximation): split on non-alphanumerics and on
    // lower→upper case changes.
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_numeric() || (prev.is_uppercase() && next_lower) {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
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
            Ok(s.to_string())
        };
        r.map(Value::string).map_err(super::FuncError)
    });
    add(m, "trim", vec![str_t()], str_t(), |a| ok(Value::string(arg_str(&a[0]).trim_matches(go_space))));
    add(m, "upper", vec![str_t()], str_t(), |a| ok(Value::string(arg_str(&a[0]).to_uppercase())));
    add(m, "lower", vec![str_t()], str_t(), |a| ok(Value::string(arg_str(&a[0]).to_lowercase())));
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
    add(m, "repeat", vec![int_t(), str_t()], str_t(), |a| {
        let n = arg_int(&a[0]);
        if n < 0 {
            return err("strings: negative Repeat count");
        }
        ok(Value::string(arg_str(&a[1]).repeat(n as usize)))
    });
    for name in ["trimall", "trimAll"] {
        add(m, name, vec![str_t(), str_t()], str_t(), |a| {
            let cut: Vec<char> = arg_str(&a[0]).chars().collect();
            ok(Value::string(arg_str(&a[1]).trim_matches(|c| cut.contains(&c))))
        });
    }
    add(m, "trimSuffix", vec![str_t(), str_t()], str_t(), |a| {
        let (suf, s) = (arg_str(&a[0]), arg_str(&a[1]));
        ok(Value::string(s.strip_suffix(suf).unwrap_or(s)))
    });
    add(m, "trimPrefix", vec![str_t(), str_t()], str_t(), |a| {
        let (pre, s) = (arg_str(&a[0]), arg_str(&a[1]));
        ok(Value::string(s.strip_prefix(pre).unwrap_or(s)))
    });
    add(m, "nospace", vec![str_t()], str_t(), |a| ok(Value::string(arg_str(&a[0]).chars().filter(|c| !go_space(*c)).collect::<String>())));
    add(m, "initials", vec![str_t()], str_t(), |a| {
        let s = arg_str(&a[0]);
        let mut out = String::new();
        let mut prev_space = true;
        for c in s.chars() {
            if prev_space && !go_space(c) {
                out.push(c);
            }
            prev_space = go_space(c);
        }
        ok(Value::string(out))
    });
    add(m, "swapcase", vec![str_t()], str_t(), |a| {
        let mut out = String::new();
        let mut ws = true;
        for c in arg_str(&a[0]).chars() {
            if c.is_uppercase() {
                out.extend(c.to_lowercase());
            } else if c.is_lowercase() {
                if ws {
                    out.extend(c.to_uppercase());
                } else {
                    out.extend(c.to_uppercase());
                }
            } else {
                out.push(c);
            }
            ws = go_space(c);
        }
        ok(Value::string(out))
    });
    add(m, "snakecase", vec![str_t()], str_t(), |a| ok(Value::string(words(arg_str(&a[0])).iter().map(|w| w.to_lowercase()).collect::<Vec<_>>().join("_"))));
    add(m, "kebabcase", vec![str_t()], str_t(), |a| ok(Value::string(words(arg_str(&a[0])).iter().map(|w| w.to_lowercase()).collect::<Vec<_>>().join("-"))));
    add(m, "camelcase", vec![str_t()], str_t(), |a| {
        let s: String = words(arg_str(&a[0]))
            .iter()
            .map(|w| {
                let mut cs = w.chars();
                match cs.next() {
                    Some(f) => f.to_uppercase().collect::<String>() + &cs.as_str().to_lowercase(),
                    None => String::new(),
                }
            })
            .collect();
        ok(Value::string(s))
    });
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
    add(m, "indent", vec![int_t(), str_t()], str_t(), |a| {
        let pad = " ".repeat(arg_int(&a[0]).max(0) as usize);
        ok(Value::string(format!("{pad}{}", arg_str(&a[1]).replace('\n', &format!("\n{pad}")))))
    });
    add(m, "nindent", vec![int_t(), str_t()], str_t(), |a| {
        let pad = " ".repeat(arg_int(&a[0]).max(0) as usize);
        ok(Value::string(format!("\n{pad}{}", arg_str(&a[1]).replace('\n', &format!("\n{pad}")))))
    });
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

fn wrap(s: &str, width: i64, sep: &str, long_words: bool) -> String {
    // goutils WrapCustom (simplified: breaks at spaces).
    let width = if width < 1 { 1 } else { width as usize };
    let mut out = String::new();
    for (li, line) in s.split('\n').enumerate() {
        if li > 0 {
            out.push_str(sep);
        }
        let mut cur = 0;
        for (wi, w) in line.split(' ').filter(|w| !w.is_empty()).enumerate() {
            if wi > 0 {
                if cur + 1 + w.len() > width {
                    out.push_str(sep);
                    cur = 0;
                } else {
                    out.push(' ');
                    cur += 1;
                }
            }
            if long_words && w.len() > width {
                let mut rest = w;
                while rest.len() > width {
                    out.push_str(&rest[..width]);
                    out.push_str(sep);
                    rest = &rest[width..];
                }
                out.push_str(rest);
                cur = rest.len();
            } else {
                out.push_str(w);
                cur += w.len();
            }
        }
    }
    out
}
