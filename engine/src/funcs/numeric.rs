//! sprig's conversion and math functions (sprig: functions.go, numeric.go): `atoi`, `int`,
//! `int64`, `float64`, `toDecimal`, `seq`, `until`, `untilStep`, integer arithmetic on
//! spf13/cast's `ToInt64` (Go's wrapping `int64` arithmetic and its divide-by-zero panic), the `*f`
//! functions on shopspring/decimal, `max`/`min`/`maxf`/`minf`, `ceil`, `floor`, `round`.

use std::cmp::Ordering;
use std::sync::Arc;

use num_bigint::{BigInt, Sign};

use super::util::*;
use super::{FuncError, FuncMap, FuncResult};
use crate::value::{GoType, List, Value};

/// 2^63 (exactly representable).
const TWO_63: f64 = 9_223_372_036_854_775_808.0;

const DIV_ZERO: &str = "runtime error: integer divide by zero";

/// Go's `int64(f)` conversion as amd64 does it: out-of-range values and NaN become MinInt64.
pub fn go_f64_to_i64(f: f64) -> i64 {
    if f.is_nan() || !(-TWO_63..TWO_63).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// spf13/cast v1.7 `ToInt64` (and `ToInt`, the same on 64-bit): errors become 0.
pub fn cast_int64(v: &Value) -> i64 {
    match v {
        Value::Float(f, _) => go_f64_to_i64(*f),
        Value::String(s) => go_parse_int0(trim_zero_decimal(s)).unwrap_or(0),
        Value::Object(o) => super::date::month_or_weekday(o.as_ref()).unwrap_or(0),
        v => to_int64(v),
    }
}

/// spf13/cast v1.7 `ToFloat64`: errors become 0.
pub fn cast_float64(v: &Value) -> f64 {
    match v {
        Value::String(s) => go_parse_float(s).unwrap_or(0.0),
        Value::Object(o) => super::date::month_or_weekday(o.as_ref()).map(|i| i as f64).unwrap_or(0.0),
        v => to_float64(v),
    }
}

/// spf13/cast's `trimZeroDecimal`: `"3.00"` → `"3"`.
fn trim_zero_decimal(s: &str) -> &str {
    let b = s.as_bytes();
    let mut found_zero = false;
    for i in (0..b.len()).rev() {
        match b[i] {
            b'.' => {
                if found_zero {
                    return &s[..i];
                }
            }
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// Go's `underscoreOK`: `_` only between digits (a base prefix counts as a digit).
fn underscore_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = s[1].eq_ignore_ascii_case(&b'x');
    }
    while i < s.len() {
        let c = s[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go's `strconv.ParseInt(s, 0, 64)`: sign, `0x`/`0o`/`0b`/`0` prefixes, `_` separators.
pub fn go_parse_int0(s0: &str) -> Option<i64> {
    let (neg, s) = match s0.as_bytes().first() {
        Some(b'-') => (true, &s0[1..]),
        Some(b'+') => (false, &s0[1..]),
        _ => (false, s0),
    };
    if s.is_empty() {
        return None;
    }
    let b = s.as_bytes();
    let (base, digits) = if b[0] == b'0' && b.len() >= 3 && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        (match b[1].to_ascii_lowercase() { b'b' => 2, b'o' => 8, _ => 16 }, &s[2..])
    } else if b[0] == b'0' {
        (8, &s[1..])
    } else {
        (10, s)
    };
    let mut n: u64 = 0;
    let mut underscores = false;
    for c in digits.bytes() {
        let d = match c {
            b'_' => {
                underscores = true;
                continue;
            }
            b'0'..=b'9' => c - b'0',
            c if c.is_ascii_alphabetic() => c.to_ascii_lowercase() - b'a' + 10,
            _ => return None,
        };
        if d as u32 >= base {
            return None;
        }
        n = n.checked_mul(base as u64)?.checked_add(d as u64)?;
    }
    if underscores && !underscore_ok(s0) {
        return None;
    }
    if neg {
        if n > 1u64 << 63 {
            return None;
        }
        Some((n as i64).wrapping_neg())
    } else if n > i64::MAX as u64 {
        None
    } else {
        Some(n as i64)
    }
}

/// Go's `strconv.ParseFloat(s, 64)` (`None` where Go reports an error, including overflow).
pub fn go_parse_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let neg = s.starts_with('-');
    match body.to_ascii_lowercase().as_str() {
        "inf" | "infinity" => return Some(if neg { f64::NEG_INFINITY } else { f64::INFINITY }),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if body.contains('_') && !underscore_ok(s) {
        return None;
    }
    let clean = body.replace('_', "");
    let lower = clean.to_ascii_lowercase();
    let v = if let Some(h) = lower.strip_prefix("0x").filter(|h| !h.is_empty()) {
        parse_hex_float(h)?
    } else {
        let ok = !clean.is_empty()
            && clean.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
            && clean.bytes().any(|b| b.is_ascii_digit())
            && matches!(clean.as_bytes()[0], b'0'..=b'9' | b'.');
        if !ok {
            return None;
        }
        clean.parse::<f64>().ok()?
    };
    if v.is_infinite() {
        return None;
    }
    Some(if neg { -v } else { v })
}

fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = s.split_once('p')?;
    let exp: i64 = exp.parse().ok()?;
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut m = BigInt::from(0);
    for c in int.chars().chain(frac.chars()) {
        m = m * 16 + c.to_digit(16)?;
    }
    let e2 = exp - 4 * frac.len() as i64;
    // Exact value m × 2^e2, rounded once through a decimal string of enough digits.
    let text = if e2 >= 0 {
        format!("{}", m << (e2 as usize))
    } else {
        let five = BigInt::from(5).pow((-e2) as u32);
        format!("{}e{}", m * five, e2)
    };
    text.parse::<f64>().ok()
}

/// Go's `strconv.Atoi` value when its error is ignored: 0 for bad syntax, the clamped bound for
/// out-of-range numbers.
fn atoi(s: &str) -> i64 {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    match digits.parse::<u64>() {
        Ok(u) if !neg && u <= i64::MAX as u64 => u as i64,
        Ok(u) if neg && u <= (i64::MAX as u64) + 1 => (u as i64).wrapping_neg(),
        _ => {
            if neg {
                i64::MIN
            } else {
                i64::MAX
            }
        }
    }
}

/// Go's `strconv.ParseInt(s, 8, 64)` (no prefixes, no underscores with an explicit base).
fn parse_octal(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    let u = u64::from_str_radix(digits, 8).ok()?;
    if neg {
        if u > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((u as i64).wrapping_neg())
    } else if u > i64::MAX as u64 {
        None
    } else {
        Some(u as i64)
    }
}

fn int_list(items: Vec<i64>) -> Value {
    Value::List(Arc::new(List { elem: GoType::INT, items: items.into_iter().map(Value::int).collect() }))
}

/// sprig `untilStep` (with Go's int overflow ending the loop instead of wrapping forever).
fn until_step(start: i64, stop: i64, step: i64) -> Vec<i64> {
    let mut v = Vec::new();
    if stop < start {
        if step >= 0 {
            return v;
        }
        let mut i = start;
        while i > stop {
            v.push(i);
            match i.checked_add(step) {
                Some(n) => i = n,
                None => break,
            }
        }
        return v;
    }
    if step <= 0 {
        return v;
    }
    let mut i = start;
    while i < stop {
        v.push(i);
        match i.checked_add(step) {
            Some(n) => i = n,
            None => break,
        }
    }
    v
}

fn seq(p: &[i64]) -> String {
    let list = match p.len() {
        1 => {
            let (start, end) = (1, p[0]);
            let inc = if end < start { -1 } else { 1 };
            until_step(start, end.wrapping_add(inc), inc)
        }
        2 => {
            let (start, end) = (p[0], p[1]);
            let step = if end < start { -1 } else { 1 };
            until_step(start, end.wrapping_add(step), step)
        }
        3 => {
            let (start, step, end) = (p[0], p[1], p[2]);
            let mut inc = 1;
            if end < start {
                inc = -1;
                if step > 0 {
                    return String::new();
                }
            }
            until_step(start, end.wrapping_add(inc), step)
        }
        _ => return String::new(),
    };
    list.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
}

// --- Go's math ---------------------------------------------------------------------------------

fn frexp(f: f64) -> (f64, i32) {
    if f == 0.0 || f.is_infinite() || f.is_nan() {
        return (f, 0);
    }
    let (mut f, mut exp) = (f, 0);
    if f.abs() < f64::MIN_POSITIVE {
        f *= (1u64 << 52) as f64;
        exp = -52;
    }
    let x = f.to_bits();
    exp += ((x >> 52) & 0x7ff) as i32 - 1023 + 1;
    let x = (x & !(0x7ffu64 << 52)) | (1022u64 << 52);
    (f64::from_bits(x), exp)
}

fn ldexp(frac: f64, exp: i64) -> f64 {
    if frac == 0.0 || frac.is_infinite() || frac.is_nan() {
        return frac;
    }
    let (mut frac, mut exp) = (frac, exp);
    if frac.abs() < f64::MIN_POSITIVE {
        frac *= (1u64 << 52) as f64;
        exp -= 52;
    }
    let x = frac.to_bits();
    exp += ((x >> 52) & 0x7ff) as i64 - 1023;
    if exp < -1075 {
        return 0.0f64.copysign(frac);
    }
    if exp > 1023 {
        return if frac < 0.0 { f64::NEG_INFINITY } else { f64::INFINITY };
    }
    let mut m = 1.0;
    if exp < -1022 {
        exp += 53;
        m = 1.0 / (1u64 << 53) as f64;
    }
    let x = (x & !(0x7ffu64 << 52)) | (((exp + 1023) as u64) << 52);
    m * f64::from_bits(x)
}

/// Go's `math.Pow` for a finite `x` and an integral `y` (the only use here: `10^places`).
fn go_pow_int(x: f64, y: f64) -> f64 {
    if y == 0.0 || x == 1.0 {
        return 1.0;
    }
    if y == 1.0 {
        return x;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if y.is_infinite() {
        return if x == -1.0 {
            1.0
        } else if (x.abs() < 1.0) == (y > 0.0) {
            0.0
        } else {
            f64::INFINITY
        };
    }
    let yi = y.abs().trunc();
    if yi >= TWO_63 {
        return if x == -1.0 {
            1.0
        } else if (x.abs() < 1.0) == (y > 0.0) {
            0.0
        } else {
            f64::INFINITY
        };
    }
    let mut a1 = 1.0;
    let mut ae: i64 = 0;
    let (mut x1, xe) = frexp(x);
    let mut xe = xe as i64;
    let mut i = yi as i64;
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&xe) {
            ae += xe;
            break;
        }
        if i & 1 == 1 {
            a1 *= x1;
            ae += xe;
        }
        x1 *= x1;
        xe <<= 1;
        if x1 < 0.5 {
            x1 += x1;
            xe -= 1;
        }
        i >>= 1;
    }
    if y < 0.0 {
        a1 = 1.0 / a1;
        ae = -ae;
    }
    ldexp(a1, ae)
}

/// Go's `math.Max`.
fn go_max(x: f64, y: f64) -> f64 {
    if x.is_infinite() && x > 0.0 || y.is_infinite() && y > 0.0 {
        return f64::INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { y } else { x };
    }
    if x > y {
        x
    } else {
        y
    }
}

/// Go's `math.Min`.
fn go_min(x: f64, y: f64) -> f64 {
    if x.is_infinite() && x < 0.0 || y.is_infinite() && y < 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { x } else { y };
    }
    if x < y {
        x
    } else {
        y
    }
}

fn round(val: f64, places: f64, round_on: f64) -> f64 {
    let pow = go_pow_int(10.0, places);
    let digit = pow * val;
    let frac = if digit.is_infinite() { f64::NAN } else { digit - digit.trunc() };
    let r = if frac >= round_on { digit.ceil() } else { digit.floor() };
    r / pow
}

// --- shopspring/decimal ------------------------------------------------------------------------

/// A decimal `value × 10^exp` (shopspring/decimal's representation).
#[derive(Clone, Debug)]
struct Decimal {
    value: BigInt,
    exp: i64,
}

fn pow10(n: u64) -> BigInt {
    num_bigint::BigInt::from(10u32).pow(n as u32)
}

impl Decimal {
    /// `decimal.NewFromFloat`: the shortest decimal that round-trips.
    fn from_float(f: f64) -> Result<Decimal, FuncError> {
        if f.is_nan() || f.is_infinite() {
            return Err(FuncError::new(format!(
                "Cannot create a Decimal from {}",
                crate::print::float::format_v(f, false)
            )));
        }
        if f == 0.0 {
            return Ok(Decimal { value: BigInt::from(0), exp: 0 });
        }
        let s = format!("{:e}", f);
        let (mant, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i64 = e.parse().unwrap_or(0);
        let neg = mant.starts_with('-');
        let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
        let frac_len = digits.len() as i64 - 1;
        let mut value: BigInt = digits.parse().unwrap_or_default();
        if neg {
            value = -value;
        }
        Ok(Decimal { value, exp: e - frac_len })
    }

    fn rescaled(&self, exp: i64) -> BigInt {
        if exp >= self.exp {
            self.value.clone()
        } else {
            &self.value * pow10((self.exp - exp) as u64)
        }
    }

    fn add(&self, o: &Decimal) -> Decimal {
        let exp = self.exp.min(o.exp);
        Decimal { value: self.rescaled(exp) + o.rescaled(exp), exp }
    }

    fn sub(&self, o: &Decimal) -> Decimal {
        let exp = self.exp.min(o.exp);
        Decimal { value: self.rescaled(exp) - o.rescaled(exp), exp }
    }

    fn mul(&self, o: &Decimal) -> Decimal {
        Decimal { value: &self.value * &o.value, exp: self.exp + o.exp }
    }

    fn cmp(&self, o: &Decimal) -> Ordering {
        let exp = self.exp.min(o.exp);
        self.rescaled(exp).cmp(&o.rescaled(exp))
    }

    fn abs(&self) -> Decimal {
        Decimal { value: if self.value.sign() == Sign::Minus { -&self.value } else { self.value.clone() }, exp: self.exp }
    }

    fn sign(&self) -> i32 {
        match self.value.sign() {
            Sign::Minus => -1,
            Sign::NoSign => 0,
            Sign::Plus => 1,
        }
    }

    /// `Decimal.Div`: `DivRound(d2, 16)`, half away from zero.
    fn div(&self, d2: &Decimal) -> Result<Decimal, FuncError> {
        const PRECISION: i64 = 16;
        if d2.value.sign() == Sign::NoSign {
            return Err(FuncError::new("decimal division by 0"));
        }
        let scale = -PRECISION;
        let e = self.exp - d2.exp - scale;
        if e > i32::MAX as i64 || e < i32::MIN as i64 {
            return Err(FuncError::new("overflow in decimal QuoRem"));
        }
        let (aa, bb, scalerest) = if e < 0 {
            (self.value.clone(), &d2.value * pow10((-e) as u64), self.exp)
        } else {
            (&self.value * pow10(e as u64), d2.value.clone(), scale + d2.exp)
        };
        let q = &aa / &bb;
        let r = &aa - &q * &bb;
        let q = Decimal { value: q, exp: scale };
        let rv2 = Decimal { value: r.magnitude().clone().into(), exp: scalerest + PRECISION };
        let r2 = Decimal { value: rv2.value * 2, exp: rv2.exp };
        if r2.cmp(&d2.abs()) == Ordering::Less {
            return Ok(q);
        }
        let one = Decimal { value: BigInt::from(1), exp: -PRECISION };
        if self.sign() * d2.sign() < 0 {
            Ok(q.sub(&one))
        } else {
            Ok(q.add(&one))
        }
    }

    /// `Decimal.Float64()` (via `big.Rat`): the nearest float64.
    fn to_f64(&self) -> f64 {
        format!("{}e{}", self.value, self.exp).parse::<f64>().unwrap_or(0.0)
    }
}

type DecOp = fn(&Decimal, &Decimal) -> Result<Decimal, FuncError>;

/// sprig `execDecimalOp`.
fn decimal_op(a: &Value, rest: &[Value], f: DecOp) -> FuncResult {
    let mut acc = Decimal::from_float(cast_float64(a))?;
    for x in rest {
        let d = Decimal::from_float(cast_float64(x))?;
        acc = f(&acc, &d)?;
    }
    Ok(Value::float(acc.to_f64()))
}

fn i64v(i: i64) -> FuncResult {
    Ok(Value::int64(i))
}

fn f64v(f: f64) -> FuncResult {
    Ok(Value::float(f))
}

/// Adds this family's functions to `map`.
pub fn register(m: &mut FuncMap) {
    add(m, "atoi", vec![str_t()], int_t(), |a| Ok(Value::int(atoi(arg_str(&a[0])))));
    add(m, "int", vec![any()], int_t(), |a| Ok(Value::int(cast_int64(&a[0]))));
    add(m, "int64", vec![any()], i64_t(), |a| i64v(cast_int64(&a[0])));
    add(m, "float64", vec![any()], f64_t(), |a| f64v(cast_float64(&a[0])));
    add(m, "toDecimal", vec![any()], i64_t(), |a| {
        let s = match &a[0] {
            Value::Missing | Value::Nil => "<nil>".to_string(),
            v => crate::print::format_v(v),
        };
        i64v(parse_octal(&s).unwrap_or(0))
    });
    add_variadic(m, "seq", vec![int_t()], str_t(), |a| {
        let p: Vec<i64> = a.iter().map(arg_int).collect();
        Ok(Value::string(seq(&p)))
    });
    add(m, "until", vec![int_t()], GoType::slice_of(int_t()), |a| {
        let n = arg_int(&a[0]);
        Ok(int_list(until_step(0, n, if n < 0 { -1 } else { 1 })))
    });
    add(m, "untilStep", vec![int_t(), int_t(), int_t()], GoType::slice_of(int_t()), |a| {
        Ok(int_list(until_step(arg_int(&a[0]), arg_int(&a[1]), arg_int(&a[2]))))
    });
    add(m, "add1", vec![any()], i64_t(), |a| i64v(cast_int64(&a[0]).wrapping_add(1)));
    add_variadic(m, "add", vec![any()], i64_t(), |a| {
        i64v(a.iter().fold(0i64, |acc, x| acc.wrapping_add(cast_int64(x))))
    });
    add(m, "sub", vec![any(), any()], i64_t(), |a| i64v(cast_int64(&a[0]).wrapping_sub(cast_int64(&a[1]))));
    add(m, "div", vec![any(), any()], i64_t(), |a| {
        let (x, y) = (cast_int64(&a[0]), cast_int64(&a[1]));
        if y == 0 {
            return err(DIV_ZERO);
        }
        i64v(x.wrapping_div(y))
    });
    add(m, "mod", vec![any(), any()], i64_t(), |a| {
        let (x, y) = (cast_int64(&a[0]), cast_int64(&a[1]));
        if y == 0 {
            return err(DIV_ZERO);
        }
        i64v(x.wrapping_rem(y))
    });
    add_variadic(m, "mul", vec![any(), any()], i64_t(), |a| {
        i64v(a[1..].iter().fold(cast_int64(&a[0]), |acc, x| acc.wrapping_mul(cast_int64(x))))
    });
    add(m, "randInt", vec![int_t(), int_t()], int_t(), |a| {
        let (lo, hi) = (arg_int(&a[0]), arg_int(&a[1]));
        let n = hi.wrapping_sub(lo);
        if n <= 0 {
            return err("invalid argument to Intn");
        }
        Ok(Value::int(random_below(n as u64) as i64 + lo))
    });
    add(m, "add1f", vec![any()], f64_t(), |a| decimal_op(&a[0], &[Value::int(1)], |x, y| Ok(x.add(y))));
    add_variadic(m, "addf", vec![any()], f64_t(), |a| decimal_op(&Value::float(0.0), a, |x, y| Ok(x.add(y))));
    add_variadic(m, "subf", vec![any(), any()], f64_t(), |a| decimal_op(&a[0], &a[1..], |x, y| Ok(x.sub(y))));
    add_variadic(m, "divf", vec![any(), any()], f64_t(), |a| decimal_op(&a[0], &a[1..], |x, y| x.div(y)));
    add_variadic(m, "mulf", vec![any(), any()], f64_t(), |a| decimal_op(&a[0], &a[1..], |x, y| Ok(x.mul(y))));
    for name in ["biggest", "max"] {
        add_variadic(m, name, vec![any(), any()], i64_t(), |a| {
            i64v(a[1..].iter().map(cast_int64).fold(cast_int64(&a[0]), i64::max))
        });
    }
    add_variadic(m, "min", vec![any(), any()], i64_t(), |a| {
        i64v(a[1..].iter().map(cast_int64).fold(cast_int64(&a[0]), i64::min))
    });
    add_variadic(m, "maxf", vec![any(), any()], f64_t(), |a| {
        f64v(a[1..].iter().map(cast_float64).fold(cast_float64(&a[0]), go_max))
    });
    add_variadic(m, "minf", vec![any(), any()], f64_t(), |a| {
        f64v(a[1..].iter().map(cast_float64).fold(cast_float64(&a[0]), go_min))
    });
    add(m, "ceil", vec![any()], f64_t(), |a| f64v(cast_float64(&a[0]).ceil()));
    add(m, "floor", vec![any()], f64_t(), |a| f64v(cast_float64(&a[0]).floor()));
    add_variadic(m, "round", vec![any(), int_t(), f64_t()], f64_t(), |a| {
        let round_on = match a.get(2) {
            Some(Value::Float(f, _)) => *f,
            _ => 0.5,
        };
        f64v(round(cast_float64(&a[0]), arg_int(&a[1]) as f64, round_on))
    });
}

/// A uniformly random number in `0..n` (Go's `rand.Intn` is not reproducible here either: its
/// global source is randomly seeded).
fn random_below(n: u64) -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u64(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0));
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let r = h.finish();
        if r < zone {
            return r % n;
        }
        h.write_u64(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(f: f64) -> Decimal {
        Decimal::from_float(f).unwrap()
    }

    #[test]
    fn decimal_ops() {
        assert_eq!(dec(0.1).add(&dec(0.2)).to_f64(), 0.3);
        assert_eq!(dec(1.0).div(&dec(3.0)).unwrap().to_f64(), 0.3333333333333333);
        assert_eq!(dec(2.0).div(&dec(3.0)).unwrap().to_f64(), 0.6666666666666667);
        assert_eq!(dec(-2.0).div(&dec(3.0)).unwrap().to_f64(), -0.6666666666666667);
        assert_eq!(dec(1.1).mul(&dec(1.1)).to_f64(), 1.21);
        assert_eq!(dec(1.0).div(&dec(0.0)).unwrap_err().0, "decimal division by 0");
        assert_eq!(Decimal::from_float(f64::NAN).unwrap_err().0, "Cannot create a Decimal from NaN");
        assert_eq!(dec(1e300).mul(&dec(1e300)).to_f64(), f64::INFINITY);
    }

    #[test]
    fn go_math() {
        assert_eq!(go_pow_int(10.0, 2.0), 100.0);
        assert_eq!(go_pow_int(10.0, -2.0), 0.01);
        assert_eq!(go_pow_int(10.0, 400.0), f64::INFINITY);
        assert_eq!(go_pow_int(10.0, -400.0), 0.0);
        assert_eq!(round(2.5, 0.0, 0.5), 3.0);
        assert_eq!(round(-2.5, 0.0, 0.5), -3.0);
        assert!(go_max(1.0, f64::NAN).is_nan());
        assert!(go_min(0.0, -0.0).is_sign_negative());
        assert_eq!(go_f64_to_i64(1e20), i64::MIN);
    }

    #[test]
    fn go_parsing() {
        assert_eq!(go_parse_int0("0x_1F"), Some(31));
        assert_eq!(go_parse_int0("1_000"), Some(1000));
        assert_eq!(go_parse_int0("_1"), None);
        assert_eq!(go_parse_int0("010"), Some(8));
        assert_eq!(go_parse_int0("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(go_parse_int0("9223372036854775808"), None);
        assert_eq!(go_parse_float("0x1p3"), Some(8.0));
        assert_eq!(go_parse_float("1e400"), None);
        assert_eq!(go_parse_float("1_0.5"), Some(10.5));
        assert_eq!(go_parse_float("1_.5"), None);
        assert_eq!(atoi("99999999999999999999"), i64::MAX);
        assert_eq!(parse_octal("0777"), Some(511));
        assert_eq!(seq(&[10, -3, 0]), "10 7 4 1");
    }
}
