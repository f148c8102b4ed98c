//! Go's `strconv.FormatFloat` for the formats templates reach: shortest `'g'` (fmt's `%v`),
//! and `'e'`, `'f'`, `'g'` with a precision. Shortest digits come from Rust's own shortest
//! round-trip formatting (the same digits Go's Ryū produces); the layout rules are Go's.

/// Decimal digits and the decimal point position: value = 0.d1d2d3... × 10^dp.
struct Digits {
    d: Vec<u8>,
    dp: i32,
}

fn shortest(f: f64, bits32: bool) -> Digits {
    let s = if bits32 { format!("{:e}", f as f32) } else { format!("{f:e}") };
    parse_sci(&s)
}

fn parse_sci(s: &str) -> Digits {
    // The sign is the caller's business (it formats from the float itself).
    let s = s.strip_prefix('-').unwrap_or(s);
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let d: Vec<u8> = mant.bytes().filter(|b| b.is_ascii_digit()).collect();
    let mut d = d;
    while d.len() > 1 && d.last() == Some(&b'0') {
        d.pop();
    }
    if d == b"0" {
        return Digits { d: Vec::new(), dp: 0 };
    }
    Digits { d, dp: exp + 1 }
}

/// Digits rounded to `n` significant digits (`%e`/`%g` with precision), via exact decimal
/// expansion of the binary value (Rust's `{:.*e}` rounds correctly, half to even on ties of the
/// exact value, like Go).
fn fixed_sig(f: f64, n: usize) -> Digits {
    let s = format!("{:.*e}", n.saturating_sub(1), f);
    let mut d = parse_sci(&s);
    if d.d.is_empty() {
        d.dp = 0;
    }
    d
}

fn special(f: f64, plus: bool) -> Option<String> {
    if f.is_nan() {
        return Some("NaN".into());
    }
    if f.is_infinite() {
        return Some(if f > 0.0 { if plus { "+Inf".into() } else { "+Inf".into() } } else { "-Inf".into() });
    }
    None
}

fn fmt_e(neg: bool, d: &[u8], dp: i32, prec: usize, upper: bool) -> String {
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    let first = d.first().copied().unwrap_or(b'0');
    s.push(first as char);
    if prec > 0 {
        s.push('.');
        for i in 1..=prec {
            s.push(d.get(i).copied().unwrap_or(b'0') as char);
        }
    }
    s.push(if upper { 'E' } else { 'e' });
    let exp = if d.is_empty() { 0 } else { dp - 1 };
    s.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        s.push('0');
    }
    s.push_str(&e.to_string());
    s
}

fn fmt_f(neg: bool, d: &[u8], dp: i32, prec: usize) -> String {
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    if dp > 0 {
        for i in 0..dp as usize {
            s.push(d.get(i).copied().unwrap_or(b'0') as char);
        }
    } else {
        s.push('0');
    }
    if prec > 0 {
        s.push('.');
        for i in 0..prec as i32 {
            let j = dp + i;
            let c = if j < 0 { b'0' } else { d.get(j as usize).copied().unwrap_or(b'0') };
            s.push(c as char);
        }
    }
    s
}

/// Go: `strconv.FormatFloat(f, 'g', -1, 64)` (or 32 bits), which is how fmt's `%v` prints a
/// float: shortest round-trip digits, exponent form when the exponent is < -4 or >= 6
/// (strconv: "if precision was the shortest possible, use precision 6 for this decision"), so
/// 1000000 prints `1e+06` and 123456 prints `123456`.
pub fn format_v(f: f64, bits32: bool) -> String {
    // Whole numbers below 1e6 (replica counts, ports: every number in a chart's values is a
    // float64) print as their integer digits; no digit generation needed.
    if f.fract() == 0.0 && f.abs() < 1e6 {
        if f == 0.0 && f.is_sign_negative() {
            return "-0".into();
        }
        return itoa::Buffer::new().format(f as i64).to_string();
    }
    if let Some(s) = special(f, false) {
        return s;
    }
    let digs = shortest(f, bits32);
    let neg = f.is_sign_negative();
    if digs.d.is_empty() {
        return if neg { "-0".into() } else { "0".into() };
    }
    let exp = digs.dp - 1;
    if exp < -4 || exp >= 6 {
        return fmt_e(neg, &digs.d, digs.dp, digs.d.len() - 1, false);
    }
    fmt_f(neg, &digs.d, digs.dp, (digs.d.len() as i32 - digs.dp).max(0) as usize)
}

/// Go: `strconv.FormatFloat(f, 'e', prec, 64)`.
pub fn format_e(f: f64, prec: usize, upper: bool) -> String {
    if let Some(s) = special(f, false) {
        return s;
    }
    let d = fixed_sig(f, prec + 1);
    fmt_e(f.is_sign_negative(), &d.d, d.dp, prec, upper)
}

/// Go: `strconv.FormatFloat(f, 'f', prec, 64)`.
pub fn format_f(f: f64, prec: usize) -> String {
    if let Some(s) = special(f, false) {
        return s;
    }
    let s = format!("{:.*}", prec, f);
    if f.is_sign_negative() && !s.starts_with('-') {
        return format!("-{s}");
    }
    s
}

/// Go: `strconv.FormatFloat(f, 'g', prec, 64)` with an explicit precision.
pub fn format_g(f: f64, prec: usize, upper: bool) -> String {
    if let Some(s) = special(f, false) {
        return s;
    }
    let prec = if prec == 0 { 1 } else { prec };
    let d = fixed_sig(f, prec);
    let neg = f.is_sign_negative();
    if d.d.is_empty() {
        return if neg { "-0".into() } else { "0".into() };
    }
    let mut eprec = prec as i32;
    let nd = d.d.len() as i32;
    if eprec > nd && nd >= d.dp {
        eprec = nd;
    }
    let exp = d.dp - 1;
    if exp < -4 || exp >= eprec {
        return fmt_e(neg, &d.d, d.dp, (nd - 1).max(0) as usize, upper);
    }
    fmt_f(neg, &d.d, d.dp, (nd - d.dp).max(0) as usize)
}

/// Go's `strconv.FormatFloat(x, 'x', -1, 64)` (`%x` on a float): `-0x1.8p+00`.
pub fn format_hex(x: f64, upper: bool) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let bits = x.to_bits();
    let neg = bits >> 63 == 1;
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    let (mut mant, mut exp) = if biased == 0 { (frac, -1022i64) } else { (frac | (1u64 << 52), biased - 1023) };
    if mant == 0 {
        exp = 0;
    }
    mant <<= 60 - 52;
    while mant != 0 && mant & (1u64 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    let hex: &[u8] = if upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    s.push('0');
    s.push(if upper { 'X' } else { 'x' });
    s.push(if (mant >> 60) & 1 == 1 { '1' } else { '0' });
    mant <<= 4;
    if mant != 0 {
        s.push('.');
        while mant != 0 {
            s.push(hex[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
        }
    }
    s.push(if upper { 'P' } else { 'p' });
    s.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        s.push('0');
    }
    s.push_str(&e.to_string());
    s
}
