//! The functions helmfile registers for HCL values (pkg/hcllang/hcl_functions.go: a subset of
//! go-cty's stdlib), with cty's semantics as far as hcl-rs values can carry them. Not provided
//! yet: formatdate, timeadd, yamlencode and yamldecode; a call to one fails as a call to an
//! unknown function. csvdecode reads plain (unquoted) CSV only.

use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::{Map, Number, Value};

type R = Result<Value, String>;

fn num(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => Ok(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => s
            .parse::<f64>()
            .map_err(|_| format!("a number is required, got string {s:?}")),
        _ => Err("a number is required".into()),
    }
}

/// A number value: integral results stay integers (as cty prints them).
fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::Number(Number::from(f as i64))
    } else {
        Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

fn string(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err("argument must not be null".into()),
        _ => Err("string required".into()),
    }
}

fn list(v: &Value) -> Result<Vec<Value>, String> {
    match v {
        Value::Array(a) => Ok(a.clone()),
        _ => Err("a list, set or tuple is required".into()),
    }
}

fn object(v: &Value) -> Result<Map<String, Value>, String> {
    match v {
        Value::Object(o) => Ok(o.clone()),
        Value::Null => Ok(Map::new()),
        _ => Err("a map or object is required".into()),
    }
}

fn all(args: &FuncArgs) -> Vec<Value> {
    args.iter().cloned().collect()
}

fn f1(f: fn(FuncArgs) -> R) -> FuncDef {
    FuncDef::builder().param(ParamType::Any).build(f)
}
fn f2(f: fn(FuncArgs) -> R) -> FuncDef {
    FuncDef::builder()
        .param(ParamType::Any)
        .param(ParamType::Any)
        .build(f)
}
fn f3(f: fn(FuncArgs) -> R) -> FuncDef {
    FuncDef::builder()
        .param(ParamType::Any)
        .param(ParamType::Any)
        .param(ParamType::Any)
        .build(f)
}
fn fv(f: fn(FuncArgs) -> R) -> FuncDef {
    FuncDef::builder().variadic_param(ParamType::Any).build(f)
}
fn f1v(f: fn(FuncArgs) -> R) -> FuncDef {
    FuncDef::builder()
        .param(ParamType::Any)
        .variadic_param(ParamType::Any)
        .build(f)
}

/// The function conditionals are rewritten to (a name no HCL identifier can collide with: it
/// is only reachable through the rewrite).
pub const COND: &str = "__helmfile_conditional";

/// cty's conditional: the condition must be a bool; both results are evaluated and unified
/// (a string with a number or bool makes both strings; null takes the other's type).
fn conditional(a: FuncArgs) -> R {
    let c = match &a[0] {
        Value::Bool(b) => *b,
        Value::Null => {
            return Err(
                "The condition value is null. Conditions must either be true or false.".into(),
            )
        }
        _ => return Err("The condition expression must be of type bool.".into()),
    };
    let (t, f) = (a[1].clone(), a[2].clone());
    let pick = if c { t.clone() } else { f.clone() };
    let stringy = |v: &Value| matches!(v, Value::Number(_) | Value::Bool(_));
    match (&t, &f) {
        (Value::String(_), o) | (o, Value::String(_)) if stringy(o) => {
            Ok(Value::String(string(&pick)?))
        }
        _ => Ok(pick),
    }
}

/// The functions arithmetic and comparison operands are wrapped in: cty's conversion of an
/// operand to a number (strings that read as numbers convert), one name per side so that an
/// error can name the side.
pub const LHS: &str = "__helmfile_left_operand";
pub const RHS: &str = "__helmfile_right_operand";

/// Arithmetic on operands already converted to numbers, exact on their decimal forms (cty's
/// 512-bit floats make `0.1 + 0.2` exactly `0.3`); f64 arithmetic where the exact form would
/// overflow.
pub const ADD: &str = "__helmfile_add";
pub const SUB: &str = "__helmfile_subtract";
pub const MUL: &str = "__helmfile_multiply";
pub const DIV: &str = "__helmfile_divide";

/// The shortest decimal form of `f` as (mantissa, scale): `f = m / 10^scale`.
fn decimal(f: f64) -> Option<(i128, u32)> {
    let s = format!("{}", f.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    if int.len() + frac.len() > 36 {
        return None;
    }
    let m: i128 = format!("{int}{frac}").parse().ok()?;
    Some((if f < 0.0 { -m } else { m }, frac.len() as u32))
}

/// `num / den` (den > 0 after sign normalisation) correctly rounded to f64, via 40 digits.
fn ratio(num: i128, den: i128) -> f64 {
    let neg = (num < 0) != (den < 0);
    let (n, d) = (num.unsigned_abs(), den.unsigned_abs());
    let mut s = format!("{}.", n / d);
    let mut r = n % d;
    for _ in 0..40 {
        r *= 10;
        s.push(char::from(b'0' + (r / d) as u8));
        r %= d;
    }
    let f: f64 = s.parse().unwrap_or(f64::NAN);
    if neg {
        -f
    } else {
        f
    }
}

fn arith(a: &FuncArgs, op: char) -> R {
    let (x, y) = (num(&a[0])?, num(&a[1])?);
    let exact = (|| {
        let ((mx, sx), (my, sy)) = (decimal(x)?, decimal(y)?);
        let p10 = |n: u32| 10i128.checked_pow(n);
        match op {
            '+' | '-' => {
                let s = sx.max(sy);
                let ax = mx.checked_mul(p10(s - sx)?)?;
                let ay = my.checked_mul(p10(s - sy)?)?;
                let m = if op == '+' {
                    ax.checked_add(ay)?
                } else {
                    ax.checked_sub(ay)?
                };
                Some(ratio(m, p10(s)?))
            }
            '*' => Some(ratio(mx.checked_mul(my)?, p10(sx + sy)?)),
            _ => {
                if my == 0 {
                    return None;
                }
                Some(ratio(mx.checked_mul(p10(sy)?)?, my.checked_mul(p10(sx)?)?))
            }
        }
    })();
    let f = match exact {
        Some(f) => f,
        None => match op {
            '+' => x + y,
            '-' => x - y,
            '*' => x * y,
            _ => x / y,
        },
    };
    if !f.is_finite() {
        return Err("divide by zero".into());
    }
    Ok(number(f))
}

fn operand(a: FuncArgs) -> R {
    match &a[0] {
        Value::Number(_) => Ok(a[0].clone()),
        Value::String(s) => match s.parse::<i64>() {
            Ok(i) => Ok(Value::Number(Number::from(i))),
            Err(_) => s
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| "a number is required".to_string()),
        },
        _ => Err("a number is required".into()),
    }
}

/// Declares the provided functions in `ctx`.
pub fn declare(ctx: &mut Context) {
    // Eager fallbacks of the lazy try/can (see `try_can` in the parent module).
    ctx.declare_func(
        "try",
        fv(|a| {
            a.first()
                .cloned()
                .ok_or_else(|| "at least one argument is required".into())
        }),
    );
    ctx.declare_func("can", f1(|_| Ok(Value::Bool(true))));
    declare_more(ctx);
    ctx.declare_func(ADD, f2(|a| arith(&a, '+')));
    ctx.declare_func(SUB, f2(|a| arith(&a, '-')));
    ctx.declare_func(MUL, f2(|a| arith(&a, '*')));
    ctx.declare_func(DIV, f2(|a| arith(&a, '/')));
    ctx.declare_func(LHS, f1(operand));
    ctx.declare_func(RHS, f1(operand));
    ctx.declare_func(COND, f3(conditional));
    ctx.declare_func("abs", f1(|a| Ok(number(num(&a[0])?.abs()))));
    ctx.declare_func("ceil", f1(|a| Ok(number(num(&a[0])?.ceil()))));
    ctx.declare_func("floor", f1(|a| Ok(number(num(&a[0])?.floor()))));
    ctx.declare_func("int", f1(|a| Ok(number(num(&a[0])?.trunc()))));
    ctx.declare_func(
        "signum",
        f1(|a| {
            let n = num(&a[0])?;
            Ok(number(if n == 0.0 { 0.0 } else { n.signum() }))
        }),
    );
    ctx.declare_func("pow", f2(|a| Ok(number(num(&a[0])?.powf(num(&a[1])?)))));
    ctx.declare_func(
        "log",
        f2(|a| Ok(number(num(&a[0])?.ln() / num(&a[1])?.ln()))),
    );
    ctx.declare_func(
        "max",
        fv(|a| {
            let ns = a.iter().map(num).collect::<Result<Vec<_>, _>>()?;
            if ns.is_empty() {
                return Err("must pass at least one number".into());
            }
            Ok(number(ns.into_iter().fold(f64::MIN, f64::max)))
        }),
    );
    ctx.declare_func(
        "min",
        fv(|a| {
            let ns = a.iter().map(num).collect::<Result<Vec<_>, _>>()?;
            if ns.is_empty() {
                return Err("must pass at least one number".into());
            }
            Ok(number(ns.into_iter().fold(f64::MAX, f64::min)))
        }),
    );
    ctx.declare_func(
        "parseint",
        f2(|a| {
            let s = string(&a[0])?;
            let base = num(&a[1])? as u32;
            if !(2..=62).contains(&base) {
                return Err("base must be a whole number between 2 and 62 inclusive".into());
            }
            i64::from_str_radix(&s, base)
                .map(|n| Value::Number(Number::from(n)))
                .map_err(|_| format!("cannot parse {s:?} as a base {base} integer"))
        }),
    );
    ctx.declare_func(
        "chomp",
        f1(|a| {
            let s = string(&a[0])?;
            Ok(Value::String(s.trim_end_matches(['\n', '\r']).to_string()))
        }),
    );
    ctx.declare_func(
        "lower",
        f1(|a| Ok(Value::String(string(&a[0])?.to_lowercase()))),
    );
    ctx.declare_func(
        "upper",
        f1(|a| Ok(Value::String(string(&a[0])?.to_uppercase()))),
    );
    ctx.declare_func(
        "title",
        f1(|a| {
            let s = string(&a[0])?;
            let mut out = String::new();
            let mut prev_letter = false;
            for c in s.chars() {
                if !prev_letter {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                prev_letter = c.is_alphanumeric() || c == '_' || c == '\'';
            }
            Ok(Value::String(out))
        }),
    );
    ctx.declare_func(
        "trimspace",
        f1(|a| Ok(Value::String(string(&a[0])?.trim().to_string()))),
    );
    ctx.declare_func(
        "trim",
        f2(|a| {
            let s = string(&a[0])?;
            let cut: Vec<char> = string(&a[1])?.chars().collect();
            Ok(Value::String(s.trim_matches(cut.as_slice()).to_string()))
        }),
    );
    ctx.declare_func(
        "trimprefix",
        f2(|a| {
            let s = string(&a[0])?;
            let p = string(&a[1])?;
            Ok(Value::String(
                s.strip_prefix(p.as_str()).unwrap_or(&s).to_string(),
            ))
        }),
    );
    ctx.declare_func(
        "trimsuffix",
        f2(|a| {
            let s = string(&a[0])?;
            let p = string(&a[1])?;
            Ok(Value::String(
                s.strip_suffix(p.as_str()).unwrap_or(&s).to_string(),
            ))
        }),
    );
    ctx.declare_func(
        "strlen",
        f1(|a| Ok(number(string(&a[0])?.chars().count() as f64))),
    );
    ctx.declare_func(
        "strrev",
        f1(|a| Ok(Value::String(string(&a[0])?.chars().rev().collect()))),
    );
    ctx.declare_func(
        "substr",
        f3(|a| {
            let s: Vec<char> = string(&a[0])?.chars().collect();
            let mut off = num(&a[1])? as i64;
            let mut len = num(&a[2])? as i64;
            let n = s.len() as i64;
            if off < 0 {
                off += n;
            }
            let off = off.clamp(0, n);
            if len < 0 || off + len > n {
                len = n - off;
            }
            Ok(Value::String(
                s[off as usize..(off + len) as usize].iter().collect(),
            ))
        }),
    );
    ctx.declare_func(
        "indent",
        f2(|a| {
            let n = num(&a[0])? as usize;
            let s = string(&a[1])?;
            let pad = " ".repeat(n);
            Ok(Value::String(s.replace('\n', &format!("\n{pad}"))))
        }),
    );
    ctx.declare_func(
        "split",
        f2(|a| {
            let sep = string(&a[0])?;
            let s = string(&a[1])?;
            if s.is_empty() {
                return Ok(Value::Array(vec![]));
            }
            Ok(Value::Array(
                s.split(sep.as_str())
                    .map(|p| Value::String(p.into()))
                    .collect(),
            ))
        }),
    );
    ctx.declare_func(
        "join",
        f1v(|a| {
            let sep = string(&a[0])?;
            let mut parts = Vec::new();
            for l in a.iter().skip(1) {
                for v in list(l)? {
                    parts.push(string(&v)?);
                }
            }
            Ok(Value::String(parts.join(&sep)))
        }),
    );
    ctx.declare_func(
        "coalesce",
        fv(|a| {
            Ok(all(&a)
                .into_iter()
                .find(|v| !v.is_null())
                .unwrap_or(Value::Null))
        }),
    );
    ctx.declare_func(
        "coalescelist",
        fv(|a| {
            for v in all(&a) {
                if let Value::Array(l) = &v {
                    if !l.is_empty() {
                        return Ok(v);
                    }
                }
            }
            Ok(Value::Array(vec![]))
        }),
    );
    ctx.declare_func(
        "compact",
        f1(|a| {
            Ok(Value::Array(
                list(&a[0])?
                    .into_iter()
                    .filter(|v| !v.is_null() && v.as_str() != Some(""))
                    .collect(),
            ))
        }),
    );
    ctx.declare_func(
        "concat",
        fv(|a| {
            let mut out = Vec::new();
            for l in a.iter() {
                out.extend(list(l)?);
            }
            Ok(Value::Array(out))
        }),
    );
    ctx.declare_func(
        "contains",
        f2(|a| Ok(Value::Bool(list(&a[0])?.contains(&a[1])))),
    );
    ctx.declare_func(
        "distinct",
        f1(|a| {
            let mut out: Vec<Value> = Vec::new();
            for v in list(&a[0])? {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
            Ok(Value::Array(out))
        }),
    );
    ctx.declare_func(
        "element",
        f2(|a| {
            let l = list(&a[0])?;
            if l.is_empty() {
                return Err("cannot use element function with an empty list".into());
            }
            let i = num(&a[1])? as i64;
            if i < 0 {
                return Err("cannot use element function with a negative index".into());
            }
            Ok(l[(i as usize) % l.len()].clone())
        }),
    );
    ctx.declare_func(
        "chunklist",
        f2(|a| {
            let l = list(&a[0])?;
            let n = num(&a[1])? as usize;
            if n == 0 {
                return Ok(Value::Array(vec![Value::Array(l)]));
            }
            Ok(Value::Array(
                l.chunks(n).map(|c| Value::Array(c.to_vec())).collect(),
            ))
        }),
    );
    ctx.declare_func(
        "flatten",
        f1(|a| {
            fn flat(v: Vec<Value>, out: &mut Vec<Value>) {
                for x in v {
                    match x {
                        Value::Array(inner) => flat(inner, out),
                        other => out.push(other),
                    }
                }
            }
            let mut out = Vec::new();
            flat(list(&a[0])?, &mut out);
            Ok(Value::Array(out))
        }),
    );
    ctx.declare_func(
        "keys",
        f1(|a| {
            let mut ks: Vec<String> = object(&a[0])?.keys().cloned().collect();
            ks.sort();
            Ok(Value::Array(ks.into_iter().map(Value::String).collect()))
        }),
    );
    ctx.declare_func(
        "values",
        f1(|a| {
            let o = object(&a[0])?;
            let mut ks: Vec<&String> = o.keys().collect();
            ks.sort();
            Ok(Value::Array(ks.into_iter().map(|k| o[k].clone()).collect()))
        }),
    );
    ctx.declare_func(
        "length",
        f1(|a| {
            // Object literals are cty objects, which `length` refuses (only maps from conversions,
            // which helmfile does not register, would count).
            Ok(number(match &a[0] {
                Value::Array(l) => l.len(),
                _ => return Err("collection must be a list, a map or a tuple".into()),
            } as f64))
        }),
    );
    ctx.declare_func(
        "lookup",
        FuncDef::builder()
            .param(ParamType::Any)
            .param(ParamType::Any)
            .variadic_param(ParamType::Any)
            .build(|a| {
                let o = object(&a[0])?;
                let k = string(&a[1])?;
                match o.get(&k) {
                    Some(v) => Ok(v.clone()),
                    None => a
                        .get(2)
                        .cloned()
                        .ok_or_else(|| format!("the given object has no attribute {k:?}")),
                }
            }),
    );
    ctx.declare_func(
        "merge",
        fv(|a| {
            let mut out = Map::new();
            for v in a.iter() {
                if v.is_null() {
                    continue;
                }
                for (k, x) in object(v)? {
                    out.insert(k, x);
                }
            }
            Ok(Value::Object(out))
        }),
    );
    ctx.declare_func("range", fv(|a| {
        let ns = a.iter().map(num).collect::<Result<Vec<_>, _>>()?;
        let (start, end, step) = match ns.as_slice() {
            [e] => (0.0, *e, 1.0),
            [s, e] => (*s, *e, if s <= e { 1.0 } else { -1.0 }),
            [s, e, st] => (*s, *e, *st),
            _ => return Err("must have one, two, or three arguments".into()),
        };
        if step == 0.0 {
            return Err("step must not be zero".into());
        }
        let mut out = Vec::new();
        let mut i = start;
        while (step > 0.0 && i < end) || (step < 0.0 && i > end) {
            out.push(number(i));
            i += step;
            if out.len() > 1024 {
                return Err("more than 1024 values were generated; either decrease the difference between start and end or use a smaller step".into());
            }
        }
        Ok(Value::Array(out))
    }));
    ctx.declare_func(
        "reverselist",
        f1(|a| {
            let mut l = list(&a[0])?;
            l.reverse();
            Ok(Value::Array(l))
        }),
    );
    ctx.declare_func(
        "slice",
        f3(|a| {
            let l = list(&a[0])?;
            let s = num(&a[1])? as usize;
            let e = num(&a[2])? as usize;
            if s > e || e > l.len() {
                return Err("index out of range".into());
            }
            Ok(Value::Array(l[s..e].to_vec()))
        }),
    );
    ctx.declare_func(
        "sort",
        f1(|a| {
            let mut ss = list(&a[0])?
                .iter()
                .map(string)
                .collect::<Result<Vec<_>, _>>()?;
            ss.sort();
            Ok(Value::Array(ss.into_iter().map(Value::String).collect()))
        }),
    );
    ctx.declare_func(
        "zipmap",
        f2(|a| {
            let ks = list(&a[0])?;
            let vs = list(&a[1])?;
            if ks.len() != vs.len() {
                return Err(format!(
                    "number of keys ({}) does not match number of values ({})",
                    ks.len(),
                    vs.len()
                ));
            }
            let mut out = Map::new();
            for (k, v) in ks.iter().zip(vs) {
                out.insert(string(k)?, v);
            }
            Ok(Value::Object(out))
        }),
    );
    ctx.declare_func(
        "jsonencode",
        f1(|a| {
            serde_json::to_string(&json_of(&a[0]))
                .map(Value::String)
                .map_err(|e| e.to_string())
        }),
    );
    ctx.declare_func(
        "jsondecode",
        f1(|a| {
            let s = string(&a[0])?;
            let j: serde_json::Value = serde_json::from_str(&s).map_err(|e| e.to_string())?;
            Ok(of_json(&j))
        }),
    );
}

/// cty's `format`: Go-like verbs over cty values (`%v` `%#v` `%s` `%q` `%d` `%f` `%e` `%g`
/// `%x` `%X` `%o` `%b` `%t` `%%`), with flags `-`, `0`, `+`, ` `, width and precision.
fn format(fmt: &str, args: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    let mut next = 0usize;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let (mut minus, mut zero, mut plus, mut space, mut sharp) =
            (false, false, false, false, false);
        while let Some(&f) = chars.peek() {
            match f {
                '-' => minus = true,
                '0' => zero = true,
                '+' => plus = true,
                ' ' => space = true,
                '#' => sharp = true,
                _ => break,
            }
            chars.next();
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut prec: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            prec = Some(p.parse().unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            return Err("unterminated format verb".into());
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            return Err(format!(
                "not enough arguments for %{verb} at offset {}",
                out.len()
            ));
        };
        next += 1;
        let sign = |n: f64, s: String| {
            if n >= 0.0 && plus {
                format!("+{s}")
            } else if n >= 0.0 && space {
                format!(" {s}")
            } else {
                s
            }
        };
        let body = match verb {
            'v' if sharp => serde_json::to_string(&json_of(arg)).map_err(|e| e.to_string())?,
            'v' => match arg {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) => string(arg)?,
                Value::Null => "null".into(),
                _ => serde_json::to_string(&json_of(arg)).map_err(|e| e.to_string())?,
            },
            's' => {
                let s = string(arg)?;
                match prec {
                    Some(p) => s.chars().take(p).collect(),
                    None => s,
                }
            }
            'q' => serde_json::to_string(&string(arg)?).map_err(|e| e.to_string())?,
            't' => match arg {
                Value::Bool(b) => b.to_string(),
                _ => {
                    return Err(format!(
                        "unsupported value for \"%t\" at {}: bool required",
                        out.len()
                    ))
                }
            },
            'd' | 'x' | 'X' | 'o' | 'b' => {
                let n = num(arg)?;
                if n.fract() != 0.0 {
                    return Err(format!(
                        "unsupported value for \"%{verb}\" at {}: an integer is required",
                        out.len()
                    ));
                }
                let i = n as i64;
                let mag = i.unsigned_abs();
                let digits = match verb {
                    'd' => mag.to_string(),
                    'x' => format!("{mag:x}"),
                    'X' => format!("{mag:X}"),
                    'o' => format!("{mag:o}"),
                    _ => format!("{mag:b}"),
                };
                sign(n, if i < 0 { format!("-{digits}") } else { digits })
            }
            'f' | 'F' => {
                let n = num(arg)?;
                sign(n, format!("{:.*}", prec.unwrap_or(6), n))
            }
            'e' | 'E' => {
                let n = num(arg)?;
                let s = format!("{:.*e}", prec.unwrap_or(6), n);
                // Go writes the exponent with a sign and at least two digits.
                let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
                let (es, ed) = match e.strip_prefix('-') {
                    Some(d) => ('-', d),
                    None => ('+', e),
                };
                let s = format!("{m}e{es}{ed:0>2}");
                sign(n, if verb == 'E' { s.to_uppercase() } else { s })
            }
            'g' | 'G' => {
                let n = num(arg)?;
                sign(n, string(&number(n))?)
            }
            other => return Err(format!("unsupported format verb %{other}")),
        };
        let w: usize = width.parse().unwrap_or(0);
        let len = body.chars().count();
        if len >= w {
            out.push_str(&body);
        } else if minus {
            out.push_str(&body);
            out.push_str(&" ".repeat(w - len));
        } else if zero && !matches!(verb, 's' | 'q' | 'v' | 't') {
            let (sg, rest) = match body.strip_prefix('-') {
                Some(r) => ("-", r.to_string()),
                None => ("", body.clone()),
            };
            out.push_str(sg);
            out.push_str(&"0".repeat(w - len));
            out.push_str(&rest);
        } else {
            out.push_str(&" ".repeat(w - len));
            out.push_str(&body);
        }
    }
    if next < args.len() {
        return Err(format!(
            "too many arguments; only {next} used by format string"
        ));
    }
    Ok(out)
}

/// cty's `regex` result for one match: the match itself without groups, a list of the groups,
/// or an object of named groups.
fn regex_match(re: &regex::Regex, caps: &regex::Captures) -> Value {
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    if names.is_empty() {
        return Value::String(caps[0].to_string());
    }
    let group = |i: usize| {
        caps.get(i)
            .map_or(Value::Null, |m| Value::String(m.as_str().into()))
    };
    if names.iter().all(Option::is_some) {
        let mut o = Map::new();
        for (i, n) in names.iter().enumerate() {
            o.insert(n.unwrap_or_default().to_string(), group(i + 1));
        }
        return Value::Object(o);
    }
    Value::Array((1..=names.len()).map(group).collect())
}

/// A cty set of primitive values, in cty's order (numbers ascending, then strings lexically).
fn set_of(v: &Value) -> Result<Vec<Value>, String> {
    let mut out: Vec<Value> = Vec::new();
    for x in list(v)? {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out.sort_by(|a, b| match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(std::cmp::Ordering::Equal),
        _ => string(a)
            .unwrap_or_default()
            .cmp(&string(b).unwrap_or_default()),
    });
    Ok(out)
}

/// A parsed CIDR prefix: network address (host bits cleared), prefix length, address bits.
struct Cidr {
    net: u128,
    len: u32,
    bits: u32,
}

fn cidr(s: &str) -> Result<Cidr, String> {
    let bad = || format!("invalid CIDR expression: invalid CIDR address: {s}");
    let (ip, len) = s.split_once('/').ok_or_else(bad)?;
    let len: u32 = len.parse().map_err(|_| bad())?;
    let (addr, bits) = match ip.parse::<std::net::IpAddr>().map_err(|_| bad())? {
        std::net::IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        std::net::IpAddr::V6(v6) => (u128::from(v6), 128),
    };
    if len > bits {
        return Err(bad());
    }
    let host = bits - len;
    let mask = if host >= 128 {
        0
    } else {
        !((1u128 << host) - 1)
    };
    let net = addr
        & mask
        & if bits == 32 {
            u128::from(u32::MAX)
        } else {
            u128::MAX
        };
    Ok(Cidr { net, len, bits })
}

fn ip_string(addr: u128, bits: u32) -> String {
    if bits == 32 {
        std::net::Ipv4Addr::from(addr as u32).to_string()
    } else {
        std::net::Ipv6Addr::from(addr).to_string()
    }
}

/// 2^n as u128 (n <= 127), saturating.
fn pow2(n: u32) -> u128 {
    if n >= 128 {
        u128::MAX
    } else {
        1u128 << n
    }
}

fn declare_cidr(ctx: &mut Context) {
    ctx.declare_func(
        "cidrhost",
        f2(|a| {
            let c = cidr(&string(&a[0])?)?;
            let n = num(&a[1])? as i128;
            let count = pow2(c.bits - c.len);
            let host = if n < 0 { count as i128 + n } else { n };
            if host < 0 || host as u128 >= count {
                return Err(format!(
                    "prefix of {} does not accommodate a host numbered {n}",
                    c.len
                ));
            }
            Ok(Value::String(ip_string(c.net + host as u128, c.bits)))
        }),
    );
    ctx.declare_func(
        "cidrnetmask",
        f1(|a| {
            let c = cidr(&string(&a[0])?)?;
            if c.bits != 32 {
                return Err("only IPv4 networks have netmasks".into());
            }
            let mask = !(pow2(32 - c.len) - 1) & u128::from(u32::MAX);
            Ok(Value::String(ip_string(mask, 32)))
        }),
    );
    ctx.declare_func(
        "cidrsubnet",
        f3(|a| {
            let c = cidr(&string(&a[0])?)?;
            let newbits = num(&a[1])? as u32;
            let netnum = num(&a[2])? as u128;
            if newbits > 32 {
                return Err("may not extend prefix by more than 32 bits".into());
            }
            let len = c.len + newbits;
            if len > c.bits {
                return Err(format!(
                    "insufficient address space to extend prefix of {} by {newbits}",
                    c.len
                ));
            }
            if netnum >= pow2(newbits) {
                return Err(format!(
                    "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
                ));
            }
            let addr = c.net | (netnum << (c.bits - len));
            Ok(Value::String(format!("{}/{len}", ip_string(addr, c.bits))))
        }),
    );
    ctx.declare_func("cidrsubnets", f1v(|a| {
        let c = cidr(&string(&a[0])?)?;
        let mut out = Vec::new();
        // The first subnet starts at the network; each next one after the previous (go-cidr's
        // NextSubnet: the last address of the current subnet plus one, aligned to the new size).
        let mut end: Option<u128> = None; // one past the previous subnet
        for v in a.iter().skip(1) {
            let newbits = num(v)? as u32;
            if newbits < 1 {
                return Err("must extend prefix by at least one bit".into());
            }
            if newbits > 32 {
                return Err("may not extend prefix by more than 32 bits".into());
            }
            let len = c.len + newbits;
            if len > c.bits {
                let proto = if c.bits == 32 { "IPv4" } else { "IPv6" };
                return Err(format!("would extend prefix to {len} bits, which is too long for an {proto} address"));
            }
            let size = pow2(c.bits - len);
            let start = match end {
                None => c.net,
                Some(e) => e.div_ceil(size) * size,
            };
            if start + size > c.net + pow2(c.bits - c.len) {
                return Err(format!("not enough remaining address space for a subnet with a prefix of {len} bits"));
            }
            out.push(Value::String(format!("{}/{len}", ip_string(start, c.bits))));
            end = Some(start + size);
        }
        Ok(Value::Array(out))
    }));
}

fn declare_more(ctx: &mut Context) {
    declare_cidr(ctx);
    ctx.declare_func(
        "format",
        f1v(|a| {
            let all = all(&a);
            format(&string(&all[0])?, &all[1..]).map(Value::String)
        }),
    );
    ctx.declare_func(
        "formatlist",
        f1v(|a| {
            let all = all(&a);
            let fmt = string(&all[0])?;
            let mut n: Option<usize> = None;
            for v in &all[1..] {
                if let Value::Array(l) = v {
                    if n.is_some_and(|n| n != l.len()) {
                        return Err("all lists must have the same length".into());
                    }
                    n = Some(l.len());
                }
            }
            let mut out = Vec::new();
            for i in 0..n.unwrap_or(1) {
                let row: Vec<Value> = all[1..]
                    .iter()
                    .map(|v| match v {
                        Value::Array(l) => l[i].clone(),
                        other => other.clone(),
                    })
                    .collect();
                out.push(Value::String(format(&fmt, &row)?));
            }
            Ok(Value::Array(out))
        }),
    );
    ctx.declare_func(
        "regex",
        f2(|a| {
            let re = regex::Regex::new(&string(&a[0])?)
                .map_err(|e| format!("invalid regular expression pattern: {e}"))?;
            let s = string(&a[1])?;
            re.captures(&s)
                .map(|c| regex_match(&re, &c))
                .ok_or_else(|| "pattern did not match any part of the given string".into())
        }),
    );
    ctx.declare_func(
        "regexall",
        f2(|a| {
            let re = regex::Regex::new(&string(&a[0])?)
                .map_err(|e| format!("invalid regular expression pattern: {e}"))?;
            let s = string(&a[1])?;
            Ok(Value::Array(
                re.captures_iter(&s).map(|c| regex_match(&re, &c)).collect(),
            ))
        }),
    );
    ctx.declare_func(
        "setunion",
        fv(|a| {
            let mut all = Vec::new();
            for v in a.iter() {
                all.extend(list(v)?);
            }
            set_of(&Value::Array(all)).map(Value::Array)
        }),
    );
    ctx.declare_func(
        "setintersection",
        f1v(|a| {
            let mut acc = set_of(&a[0])?;
            for v in a.iter().skip(1) {
                let other = set_of(v)?;
                acc.retain(|x| other.contains(x));
            }
            Ok(Value::Array(acc))
        }),
    );
    ctx.declare_func(
        "setsubtract",
        f2(|a| {
            let other = set_of(&a[1])?;
            let mut acc = set_of(&a[0])?;
            acc.retain(|x| !other.contains(x));
            Ok(Value::Array(acc))
        }),
    );
    ctx.declare_func(
        "setproduct",
        fv(|a| {
            let mut rows: Vec<Vec<Value>> = vec![vec![]];
            for v in a.iter() {
                let items = list(v)?;
                let mut next = Vec::new();
                for r in &rows {
                    for x in &items {
                        let mut r = r.clone();
                        r.push(x.clone());
                        next.push(r);
                    }
                }
                rows = next;
            }
            Ok(Value::Array(rows.into_iter().map(Value::Array).collect()))
        }),
    );
    ctx.declare_func(
        "csvdecode",
        f1(|a| {
            let s = string(&a[0])?;
            let mut lines = s.lines().filter(|l| !l.is_empty());
            let Some(head) = lines.next() else {
                return Ok(Value::Array(vec![]));
            };
            let cols: Vec<&str> = head.split(',').collect();
            let mut out = Vec::new();
            for (n, l) in lines.enumerate() {
                let cells: Vec<&str> = l.split(',').collect();
                if cells.len() != cols.len() {
                    return Err(format!(
                        "record on line {} has wrong number of fields",
                        n + 2
                    ));
                }
                out.push(Value::Object(
                    cols.iter()
                        .zip(cells)
                        .map(|(k, v)| (k.to_string(), Value::String(v.into())))
                        .collect(),
                ));
            }
            Ok(Value::Array(out))
        }),
    );
}

/// cty's JSON encoding: objects with sorted keys, numbers as written.
fn json_of(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => serde_json::Value::from(i),
            (None, Some(f)) => serde_json::Value::from(f),
            _ => serde_json::Value::Null,
        },
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Array(a) => serde_json::Value::Array(a.iter().map(json_of).collect()),
        Value::Object(o) => {
            let mut ks: Vec<&String> = o.keys().collect();
            ks.sort();
            serde_json::Value::Object(
                ks.into_iter()
                    .map(|k| (k.clone(), json_of(&o[k])))
                    .collect(),
            )
        }
    }
}

fn of_json(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Number(Number::from(i)),
            None => number(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(a) => Value::Array(a.iter().map(of_json).collect()),
        serde_json::Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), of_json(v))).collect())
        }
    }
}
