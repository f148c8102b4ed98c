//! Go's `fmt` as templates use it: `Sprint` (how `{{ . }}` and `print` show values), `Sprintln`,
//! `Sprintf` with Go's verbs, flags, width and precision and its `%!verb(type=value)` error
//! forms, and `strconv.Quote`.

pub mod float;

use crate::value::{FloatKind, Value};

/// Go `fmt.Sprint(args...)`: a space between operands when neither side is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        write_v(&mut out, a);
        prev_string = is_string;
    }
    out
}

/// Go `fmt.Sprintln(args...)`: always a space between operands, and a newline at the end.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_v(&mut out, a);
    }
    out.push('\n');
    out
}

/// Go `fmt.Sprint(v)` of one value, i.e. `%v`.
pub fn format_v(v: &Value) -> String {
    let mut s = String::new();
    write_v(&mut s, v);
    s
}

/// Appends `%v` of `v` (Go: `fmt.Fprint`).
pub fn write_v(out: &mut String, v: &Value) {
    match v {
        Value::Missing => out.push_str("<invalid reflect.Value>"),
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i, _) => out.push_str(itoa::Buffer::new().format(*i)),
        Value::Uint(u, _) => out.push_str(itoa::Buffer::new().format(*u)),
        Value::Float(f, k) => out.push_str(&float::format_v(*f, *k == FloatKind::Float32)),
        Value::String(s) => out.push_str(s),
        Value::Bytes(b) => {
            out.push('[');
            for (i, x) in b.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(itoa::Buffer::new().format(*x));
            }
            out.push(']');
        }
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(out, x);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (i, (k, x)) in m.read().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_v(out, x);
            }
            out.push(']');
        }
        Value::Object(o) => out.push_str(&o.format_v()),
    }
}

/// Go's `strconv.Quote`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        quote_char_into(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// Go's `strconv.QuoteToASCII` (`%+q`): like `quote`, with every non-ASCII rune escaped.
pub fn quote_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c.is_ascii() {
            quote_char_into(&mut out, c, '"');
        } else if (c as u32) < 0x10000 {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push_str(&format!("\\U{:08x}", c as u32));
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.CanBackquote`.
fn can_backquote(s: &str) -> bool {
    s.chars().all(|c| c != '`' && c != '\u{FEFF}' && (c == '\t' || !(c < ' ' || c == '\u{7f}')))
}

/// Go's `%#v`: the value in Go syntax. `top` is false for elements of `interface {}` containers,
/// where a nil prints as `interface {}(nil)`.
pub fn go_syntax(v: &Value, top: bool) -> String {
    match v {
        Value::Missing | Value::Nil => if top { "<nil>".into() } else { "interface {}(nil)".into() },
        Value::Bool(b) => b.to_string(),
        Value::Int(i, _) => i.to_string(),
        Value::Uint(u, _) => format!("0x{u:x}"),
        Value::Float(x, k) => float::format_v(*x, *k == FloatKind::Float32),
        Value::String(s) => quote(s),
        Value::Bytes(b) => {
            let items: Vec<String> = b.iter().map(|x| format!("0x{x:x}")).collect();
            format!("[]byte{{{}}}", items.join(", "))
        }
        Value::List(l) => {
            let items: Vec<String> = l.items.iter().map(|x| go_syntax(x, false)).collect();
            format!("{}{{{}}}", v.go_type(), items.join(", "))
        }
        Value::Map(m) => {
            let items: Vec<String> = m.read().iter().map(|(k, x)| format!("{}:{}", quote(k), go_syntax(x, false))).collect();
            format!("{}{{{}}}", v.go_type(), items.join(", "))
        }
        Value::Object(o) => o.format_v(),
    }
}

/// Go's `strconv.QuoteRune`.
pub fn quote_rune(c: char) -> String {
    let mut out = String::from("'");
    quote_char_into(&mut out, c, '\'');
    out.push('\'');
    out
}

fn quote_char_into(out: &mut String, c: char, q: char) {
    match c {
        c if c == q => {
            out.push('\\');
            out.push(c);
        }
        '\\' => out.push_str("\\\\"),
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if is_print(c) => out.push(c),
        c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// Go's `strconv.IsPrint` (approximated with Rust's character classes: letters, marks,
/// numbers, punctuation, symbols and the ASCII space).
pub fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    // Unassigned/format/private-use ranges Go does not print.
    !matches!(u, 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xFFFE | 0xFFFF | 0xF0000..)
}

/// One `%` directive's flags.
#[derive(Default, Clone, Copy)]
struct Flags {
    plus: bool,
    /// `%+v`: struct field names.
    plus_v: bool,
    minus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

fn pad(out: &mut String, s: &str, f: &Flags) {
    let n = s.chars().count();
    let w = f.width.unwrap_or(0);
    if n >= w {
        out.push_str(s);
        return;
    }
    let fill = w - n;
    if f.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if f.zero {
        // Zero padding goes after a sign.
        let (sign, rest) = match s.chars().next() {
            Some(c @ ('+' | '-' | ' ')) => (Some(c), &s[1..]),
            _ => (None, s),
        };
        if let Some(c) = sign {
            out.push(c);
        }
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(rest);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(s);
    }
}

fn type_of(v: &Value) -> String {
    match v {
        Value::Missing | Value::Nil => "<nil>".into(),
        v => v.go_type().to_string(),
    }
}

/// Go: `pp.badVerb`. The value is printed with `%v` under the verb's own flags (width, zero
/// padding), as Go's `printArg(p.arg, 'v')` does.
fn bad_verb_flags(out: &mut String, verb: char, v: &Value, f: &Flags) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    match v {
        Value::Missing | Value::Nil => out.push_str("<nil>"),
        v => {
            out.push_str(&type_of(v));
            out.push('=');
            print_arg(out, v, 'v', f);
        }
    }
    out.push(')');
}

#[allow(dead_code)]
fn bad_verb(out: &mut String, verb: char, v: &Value) {
    bad_verb_flags(out, verb, v, &Flags::default());
}

fn fmt_integer(out: &mut String, neg: bool, mag: u128, verb: char, f: &Flags) {
    let digits = match verb {
        'd' | 'v' => mag.to_string(),
        'x' => format!("{mag:x}"),
        'X' => format!("{mag:X}"),
        'o' | 'O' => format!("{mag:o}"),
        'b' => format!("{mag:b}"),
        _ => mag.to_string(),
    };
    let mut digits = digits;
    if let Some(p) = f.prec {
        if p == 0 && mag == 0 {
            digits.clear();
        }
        while digits.len() < p {
            digits.insert(0, '0');
        }
    }
    let mut s = String::new();
    if neg {
        s.push('-');
    } else if f.plus {
        s.push('+');
    } else if f.space {
        s.push(' ');
    }
    if verb == 'O' {
        s.push_str("0o");
    } else if f.sharp {
        match verb {
            'x' => s.push_str("0x"),
            'X' => s.push_str("0X"),
            'o' if !digits.starts_with('0') => s.push('0'),
            'b' => s.push_str("0b"),
            _ => {}
        }
    }
    s.push_str(&digits);
    let mut f2 = *f;
    if f.prec.is_some() {
        f2.zero = false;
    }
    pad(out, &s, &f2);
}

fn fmt_float(out: &mut String, x: f64, verb: char, f: &Flags, bits32: bool) {
    let mut s = match verb {
        'v' | 'g' | 'G' => match f.prec {
            None => {
                let s = float::format_v(x, bits32);
                if verb == 'G' { s.to_uppercase() } else { s }
            }
            Some(p) => float::format_g(x, p, verb == 'G'),
        },
        'e' | 'E' => float::format_e(x, f.prec.unwrap_or(6), verb == 'E'),
        'f' | 'F' => float::format_f(x, f.prec.unwrap_or(6)),
        'x' | 'X' if f.prec.is_none() => float::format_hex(x, verb == 'X'),
        _ => float::format_v(x, bits32),
    };
    if f.sharp && x.is_finite() {
        s = sharp_float(&s, verb, f.prec);
    }
    if f.plus && !s.starts_with('-') && !s.starts_with('+') {
        s.insert(0, '+');
    } else if f.space && !s.starts_with('-') && !s.starts_with('+') {
        s.insert(0, ' ');
    }
    if s == "+Inf" && !f.plus {
        s = "+Inf".into();
    }
    let mut f2 = *f;
    if x.is_nan() || x.is_infinite() {
        f2.zero = false;
    }
    pad(out, &s, &f2);
}

/// Go's `#` flag on floats: keep the decimal point and, for `%g`, pad to the precision's count of
/// significant digits (Go: fmt/format.go `fmtFloat`).
fn sharp_float(num: &str, verb: char, prec: Option<usize>) -> String {
    let mut digits: i64 = match verb {
        'v' | 'g' | 'G' | 'x' | 'X' => prec.map(|p| p as i64).unwrap_or(6),
        _ => 0,
    };
    let (sign, body) = match num.strip_prefix(['-', '+', ' ']) {
        Some(b) => (&num[..1], b),
        None => ("", num),
    };
    let split = body.find(|c: char| c == 'p' || c == 'P' || ((c == 'e' || c == 'E') && verb != 'x' && verb != 'X'));
    let (mant, tail) = match split {
        Some(i) => (&body[..i], &body[i..]),
        None => (body, ""),
    };
    let mut has_point = false;
    let mut nonzero = false;
    for c in mant.chars() {
        match c {
            '.' => has_point = true,
            c => {
                if c != '0' {
                    nonzero = true;
                }
                if nonzero {
                    digits -= 1;
                }
            }
        }
    }
    let mut out = format!("{sign}{mant}");
    if !has_point {
        if mant == "0" {
            digits -= 1;
        }
        out.push('.');
    }
    while digits > 0 {
        out.push('0');
        digits -= 1;
    }
    out.push_str(tail);
    out
}

fn fmt_string(out: &mut String, s: &str, verb: char, f: &Flags) {
    match verb {
        's' | 'v' => {
            let s: String = match f.prec {
                Some(p) => s.chars().take(p).collect(),
                None => s.to_string(),
            };
            pad(out, &s, f);
        }
        'q' => {
            let s: String = match f.prec {
                Some(p) => s.chars().take(p).collect(),
                None => s.to_string(),
            };
            let q = if f.sharp && can_backquote(&s) {
                format!("`{s}`")
            } else if f.plus {
                quote_ascii(&s)
            } else {
                quote(&s)
            };
            pad(out, &q, f);
        }
        'x' | 'X' => {
            let bytes = s.as_bytes();
            let bytes = match f.prec {
                Some(p) => &bytes[..p.min(bytes.len())],
                None => bytes,
            };
            let mut h = String::new();
            for (i, b) in bytes.iter().enumerate() {
                if f.space && i > 0 {
                    h.push(' ');
                }
                if f.sharp && (f.space || i == 0) {
                    h.push_str(if verb == 'x' { "0x" } else { "0X" });
                }
                if verb == 'x' {
                    h.push_str(&format!("{b:02x}"));
                } else {
                    h.push_str(&format!("{b:02X}"));
                }
            }
            pad(out, &h, f);
        }
        _ => bad_verb_flags(out, verb, &Value::string(s), f),
    }
}

/// Formats an element of a slice or map (Go: `printValue` at depth > 0, where a nil interface
/// prints `<nil>` whatever the verb).
fn print_elem(out: &mut String, v: &Value, verb: char, f: &Flags) {
    match v {
        // Go writes it unpadded (printValue: buf.writeString(nilAngleString)).
        Value::Missing | Value::Nil => out.push_str("<nil>"),
        v => print_arg(out, v, verb, f),
    }
}

/// Formats one argument for one verb (Go: `pp.printArg`).
fn print_arg(out: &mut String, v: &Value, verb: char, f: &Flags) {
    if verb == 'T' {
        pad(out, &type_of(v), f);
        return;
    }
    match v {
        Value::Missing | Value::Nil => match verb {
            'v' => pad(out, "<nil>", f),
            _ => bad_verb_flags(out, verb, v, f),
        },
        Value::Bool(b) => match verb {
            't' | 'v' => pad(out, if *b { "true" } else { "false" }, f),
            _ => bad_verb_flags(out, verb, v, f),
        },
        Value::Int(i, _) => match verb {
            'v' | 'd' | 'x' | 'X' | 'o' | 'O' | 'b' => fmt_integer(out, *i < 0, i.unsigned_abs() as u128, verb, f),
            'c' => pad(out, &char::from_u32(*i as u32).unwrap_or('\u{FFFD}').to_string(), f),
            'q' => pad(out, &quote_rune(char::from_u32(*i as u32).unwrap_or('\u{FFFD}')), f),
            'U' => pad(out, &format!("U+{:04X}", *i), f),
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 's' | 't' => bad_verb_flags(out, verb, v, f),
            _ => bad_verb_flags(out, verb, v, f),
        },
        Value::Uint(u, _) => match verb {
            'v' | 'd' | 'x' | 'X' | 'o' | 'O' | 'b' => fmt_integer(out, false, *u as u128, verb, f),
            'c' => pad(out, &char::from_u32(*u as u32).unwrap_or('\u{FFFD}').to_string(), f),
            'q' => pad(out, &quote_rune(char::from_u32(*u as u32).unwrap_or('\u{FFFD}')), f),
            'U' => pad(out, &format!("U+{:04X}", *u), f),
            _ => bad_verb_flags(out, verb, v, f),
        },
        Value::Float(x, k) => match verb {
            'v' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' => fmt_float(out, *x, verb, f, *k == FloatKind::Float32),
            'x' | 'X' if f.prec.is_none() => fmt_float(out, *x, verb, f, *k == FloatKind::Float32),
            _ => bad_verb_flags(out, verb, v, f),
        },
        Value::String(s) => fmt_string(out, s, verb, f),
        Value::Bytes(b) => match verb {
            's' | 'q' | 'x' | 'X' => fmt_string(out, &String::from_utf8_lossy(b), verb, f),
            _ => {
                let mut s = String::new();
                write_v(&mut s, v);
                pad(out, &s, f)
            }
        },
        Value::List(l) => {
                out.push('[');
                for (i, x) in l.items.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    print_elem(out, x, verb, f);
                }
                out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (i, (k, x)) in m.read().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                print_elem(out, &Value::String(k.clone()), verb, f);
                out.push(':');
                print_elem(out, x, verb, f);
            }
            out.push(']');
        }
        Value::Object(o) => match verb {
            'v' if f.plus_v => match o.json_form() {
                Some(crate::json::JsonForm::Fields(fields)) => {
                    let mut s = String::from("{");
                    for (i, (k, x)) in fields.iter().enumerate() {
                        if i > 0 {
                            s.push(' ');
                        }
                        s.push_str(k);
                        s.push(':');
                        print_arg(&mut s, x, 'v', &Flags { width: None, ..*f });
                    }
                    s.push('}');
                    pad(out, &s, f)
                }
                _ => pad(out, &o.format_v(), f),
            },
            'v' => pad(out, &o.format_v(), f),
            // Go's handleMethods: a Stringer under a string verb prints its String().
            's' | 'q' | 'x' | 'X' => fmt_string(out, &o.format_v(), verb, f),
            _ => bad_verb_flags(out, verb, v, f),
        },
    }
}

/// The common `printf "%s-%s" .a .b`: bare `%s` verbs, one string argument each, printed as
/// they are. `None` for anything else (flags, other verbs, `%%`, other argument types or counts).
fn sprintf_strings(format: &str, args: &[Value]) -> Option<String> {
    let mut len = format.len();
    for a in args {
        len += a.as_str()?.len();
    }
    let mut out = String::with_capacity(len);
    let mut args = args.iter();
    let mut rest = format;
    while let Some(i) = rest.find('%') {
        if rest.as_bytes().get(i + 1) != Some(&b's') {
            return None;
        }
        out.push_str(&rest[..i]);
        out.push_str(args.next()?.as_str()?);
        rest = &rest[i + 2..];
    }
    if args.next().is_some() {
        return None;
    }
    out.push_str(rest);
    Some(out)
}

/// Go `fmt.Sprintf(format, args...)`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    if let Some(s) = sprintf_strings(format, args) {
        return s;
    }
    let mut out = String::with_capacity(format.len() + 16);
    let chars: Vec<char> = format.chars().collect();
    let mut i = 0;
    let mut argn = 0;
    let mut reordered = false;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let mut f = Flags::default();
        while i < chars.len() {
            match chars[i] {
                '+' => f.plus = true,
                '-' => {
                    f.minus = true;
                    f.zero = false;
                }
                '#' => f.sharp = true,
                '0' => f.zero = !f.minus,
                ' ' => f.space = true,
                _ => break,
            }
            i += 1;
        }
        // Argument index [n] (Go: `argNumber`): a bad or out-of-range index makes the verb print
        // `%!v(BADINDEX)`.
        let mut good_arg = true;
        let nargs = args.len();
        let take_index = |i: &mut usize, argn: &mut usize, good: &mut bool| -> bool {
            if *i >= chars.len() || chars[*i] != '[' {
                return false;
            }
            let rest = &chars[*i..];
            let mut wid = 1;
            let mut parsed: Option<usize> = None;
            if rest.len() >= 3 {
                if let Some(close) = rest.iter().position(|&c| c == ']') {
                    wid = close + 1;
                    let digits: String = rest[1..close].iter().collect();
                    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
                        parsed = digits.parse::<usize>().ok();
                    }
                }
            }
            *i += wid;
            match parsed {
                Some(n) if n >= 1 && n - 1 < nargs => *argn = n - 1,
                _ => *good = false,
            }
            true
        };
        if take_index(&mut i, &mut argn, &mut good_arg) {
            reordered = true;
        }
        // Width.
        if i < chars.len() && chars[i] == '*' {
            i += 1;
            match args.get(argn) {
                Some(Value::Int(w, _)) => {
                    let w = *w;
                    if w < 0 {
                        f.minus = true;
                        f.zero = false;
                    }
                    f.width = Some(w.unsigned_abs() as usize);
                }
                _ => out.push_str("%!(BADWIDTH)"),
            }
            argn += 1;
        } else {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i > start {
                f.width = chars[start..i].iter().collect::<String>().parse().ok();
            }
        }
        // Precision.
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            if take_index(&mut i, &mut argn, &mut good_arg) {
                reordered = true;
            }
            if i < chars.len() && chars[i] == '*' {
                i += 1;
                match args.get(argn) {
                    Some(Value::Int(p, _)) if *p >= 0 => f.prec = Some(*p as usize),
                    Some(Value::Int(..)) => f.prec = None,
                    _ => out.push_str("%!(BADPREC)"),
                }
                argn += 1;
            } else {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                f.prec = Some(chars[start..i].iter().collect::<String>().parse().unwrap_or(0));
            }
        }
        if take_index(&mut i, &mut argn, &mut good_arg) {
            reordered = true;
        }
        if i >= chars.len() {
            out.push_str("%!(NOVERB)");
            break;
        }
        let verb = chars[i];
        i += 1;
        if verb == '%' {
            out.push('%');
            continue;
        }
        if !good_arg {
            out.push_str("%!");
            out.push(verb);
            out.push_str("(BADINDEX)");
            continue;
        }
        match args.get(argn) {
            None => {
                out.push_str("%!");
                out.push(verb);
                out.push_str("(MISSING)");
            }
            Some(a) => {
                if verb == 'v' && f.plus {
                    f.plus = false;
                    f.plus_v = true;
                }
                if verb == 'v' && f.sharp {
                    // %#v: Go syntax; strings quoted, others as %v.
                    pad(&mut out, &go_syntax(a, true), &Flags { sharp: false, ..f });
                } else {
                    print_arg(&mut out, a, verb, &f);
                }
                argn += 1;
            }
        }
    }
    if !reordered && argn < args.len() {
        out.push_str("%!(EXTRA ");
        for (k, a) in args[argn..].iter().enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            match a {
                Value::Missing | Value::Nil => out.push_str("<nil>"),
                a => {
                    out.push_str(&type_of(a));
                    out.push('=');
                    write_v(&mut out, a);
                }
            }
        }
        out.push(')');
    }
    out
}
