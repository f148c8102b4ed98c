//! Go's built-in functions (Go: text/template/funcs.go `builtins`). They take Go's
//! `reflect.Value`s (any value, even "no value"), so the executor evaluates their arguments
//! without conversion; `and`/`or` short-circuit.

use std::sync::Arc;

use super::{compare, is_true, At, Result, State, Wv};
use crate::parse::node::Arg;
use crate::value::{GoType, IntKind, List, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    And,
    Or,
    Not,
    Len,
    Index,
    Slice,
    Print,
    Printf,
    Println,
    Html,
    Js,
    Urlquery,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Call,
}

impl Builtin {
    pub fn lookup(name: &str) -> Option<Builtin> {
        Some(match name {
            "and" => Builtin::And,
            "or" => Builtin::Or,
            "not" => Builtin::Not,
            "len" => Builtin::Len,
            "index" => Builtin::Index,
            "slice" => Builtin::Slice,
            "print" => Builtin::Print,
            "printf" => Builtin::Printf,
            "println" => Builtin::Println,
            "html" => Builtin::Html,
            "js" => Builtin::Js,
            "urlquery" => Builtin::Urlquery,
            "eq" => Builtin::Eq,
            "ne" => Builtin::Ne,
            "lt" => Builtin::Lt,
            "le" => Builtin::Le,
            "gt" => Builtin::Gt,
            "ge" => Builtin::Ge,
            "call" => Builtin::Call,
            _ => return None,
        })
    }

    /// (fixed parameters, variadic) as Go declares them.
    fn arity(self) -> (usize, bool) {
        match self {
            Builtin::And | Builtin::Or | Builtin::Eq | Builtin::Index | Builtin::Slice | Builtin::Call => (1, true),
            Builtin::Not | Builtin::Len => (1, false),
            Builtin::Print | Builtin::Println | Builtin::Html | Builtin::Js | Builtin::Urlquery => (0, true),
            Builtin::Printf => (1, true),
            Builtin::Ne | Builtin::Lt | Builtin::Le | Builtin::Gt | Builtin::Ge => (2, false),
        }
    }
}

impl<'t> State<'t, '_> {
    pub(super) fn eval_builtin(&mut self, dot: &Wv, b: Builtin, node: At<'t>, name: &str, args: &'t [Arg], final_: Option<Value>) -> Result<Wv> {
        let args = if args.is_empty() { args } else { &args[1..] };
        let has_final = final_.is_some();
        let num_in = args.len() + usize::from(has_final);
        let (fixed, variadic) = b.arity();
        if variadic {
            if num_in < fixed {
                return Err(self.errorf(format!("wrong number of args for {name}: want at least {fixed} got {}", args.len())));
            }
        } else if num_in != fixed {
            return Err(self.errorf(format!("wrong number of args for {name}: want {fixed} got {num_in}")));
        }
        if matches!(b, Builtin::And | Builtin::Or) {
            let want = b == Builtin::Or;
            let mut v = Value::Missing;
            for a in args {
                v = self.eval_arg_any(dot, a)?;
                if is_true(&v) == want {
                    return Ok(Wv::plain(v));
                }
            }
            if let Some(f) = final_ {
                v = f;
            }
            return Ok(Wv::plain(v));
        }
        let mut argv = Vec::with_capacity(num_in);
        for (i, a) in args.iter().enumerate() {
            if b == Builtin::Printf && i == 0 {
                argv.push(self.eval_arg(dot, Some(&GoType::String), a)?);
            } else if matches!(b, Builtin::Print | Builtin::Println | Builtin::Printf | Builtin::Html | Builtin::Js | Builtin::Urlquery) {
                argv.push(self.eval_arg(dot, Some(&GoType::Interface), a)?);
            } else {
                argv.push(self.eval_arg_any(dot, a)?);
            }
        }
        if let Some(fv) = final_ {
            if b == Builtin::Printf && argv.is_empty() {
                argv.push(self.validate_type(Wv::plain(fv), Some(&GoType::String))?);
            } else {
                argv.push(fv);
            }
        }
        let r = if b == Builtin::Call {
            // Go passes the callee's node text as the function's name for messages.
            let callee = args.first().map(|a| a.to_string()).unwrap_or_default();
            match &argv[0] {
                Value::Missing | Value::Nil => Err("call of nil".to_string()),
                v => Err(format!("non-function {callee} of type {}", v.go_type())),
            }
        } else {
            self.call_builtin(b, &argv)
        };
        match r {
            Ok(v) => Ok(v),
            Err(msg) => {
                self.at = node;
                Err(self.errorf(format!("error calling {name}: {msg}")))
            }
        }
    }

    /// An argument for a `reflect.Value` parameter: evaluated, never converted.
    fn eval_arg_any(&mut self, dot: &Wv, a: &'t Arg) -> Result<Value> {
        // Go's evalArg starts with s.at(n) whatever the node.
        self.at = At::Arg(a);
        match a {
            // nil for a reflect.Value parameter is the zero reflect.Value: "no value".
            Arg::Nil { .. } => Ok(Value::Missing),
            Arg::Number { num, .. } => {
                self.at = At::Arg(a);
                self.ideal_constant(num)
            }
            Arg::Field { .. } | Arg::Variable { .. } | Arg::Chain { .. } | Arg::Dot { .. } => {
                // Keep "no value" as is; interface nils become Go's nil.
                let v = self.eval_arg(dot, None, a)?;
                Ok(v)
            }
            _ => self.eval_arg(dot, None, a),
        }
    }

    fn call_builtin(&mut self, b: Builtin, argv: &[Value]) -> std::result::Result<Wv, String> {
        use crate::print;
        let plain = |v: Value| Ok(Wv::plain(v));
        match b {
            Builtin::Not => plain(Value::Bool(!is_true(&argv[0]))),
            Builtin::Len => match &super::underlying(argv[0].clone()) {
                Value::String(s) => plain(Value::int(s.len() as i64)),
                Value::Bytes(x) => plain(Value::int(x.len() as i64)),
                Value::List(l) => plain(Value::int(l.items.len() as i64)),
                Value::Map(m) => plain(Value::int(m.len() as i64)),
                Value::Nil => Err("len of nil pointer".into()),
                Value::Missing => Err("reflect: call of reflect.Value.Type on zero Value".into()),
                v => Err(format!("len of type {}", v.go_type())),
            },
            Builtin::Index => index(&super::underlying(argv[0].clone()), &argv[1..]),
            Builtin::Slice => slice(&argv[0], &argv[1..]).map(Wv::plain),
            Builtin::Print => plain(Value::string(print::sprint(argv))),
            Builtin::Println => plain(Value::string(print::sprintln(argv))),
            Builtin::Printf => {
                let f = argv[0].as_str().unwrap_or_default();
                plain(Value::string(print::sprintf(f, &argv[1..])))
            }
            Builtin::Html => plain(Value::string(html_escape(&eval_args(argv)))),
            Builtin::Js => plain(Value::string(js_escape(&eval_args(argv)))),
            Builtin::Urlquery => plain(Value::string(query_escape(&eval_args(argv)))),
            Builtin::Eq => compare::eq(&argv[0], &argv[1..]).map(|b| Wv::plain(Value::Bool(b))),
            Builtin::Ne => compare::eq(&argv[0], &argv[1..2]).map(|b| Wv::plain(Value::Bool(!b))),
            Builtin::Lt => compare::lt(&argv[0], &argv[1]).map(|b| Wv::plain(Value::Bool(b))),
            Builtin::Le => compare::le(&argv[0], &argv[1]).map(|b| Wv::plain(Value::Bool(b))),
            Builtin::Gt => compare::le(&argv[0], &argv[1]).map(|b| Wv::plain(Value::Bool(!b))),
            Builtin::Ge => compare::lt(&argv[0], &argv[1]).map(|b| Wv::plain(Value::Bool(!b))),
            Builtin::Call => match &argv[0] {
                Value::Missing | Value::Nil => Err("call of nil".into()),
                v => Err(format!("non-function of type {}", v.go_type())),
            },
            Builtin::And | Builtin::Or => unreachable_builtin(),
        }
    }
}

fn unreachable_builtin() -> std::result::Result<Wv, String> {
    Err("internal error: and/or are evaluated by the executor".into())
}

/// Go: `evalArgs`: a lone string argument as is, else `fmt.Sprint`.
/// Go: `evalArgs` for `html`, `js` and `urlquery`: a nil argument prints as `<no value>` (a
/// string, so `fmt.Sprint` puts no space next to it).
fn eval_args(argv: &[Value]) -> String {
    if let [Value::String(s)] = argv {
        return s.to_string();
    }
    let printable: Vec<Value> = argv
        .iter()
        .map(|v| match v {
            Value::Missing | Value::Nil => Value::string("<no value>"),
            v => v.clone(),
        })
        .collect();
    crate::print::sprint(&printable)
}

fn index_arg(i: &Value, cap: usize) -> std::result::Result<usize, String> {
    let x: i128 = match i {
        Value::Int(n, _) => *n as i128,
        Value::Uint(n, _) => *n as i128,
        Value::Missing | Value::Nil => return Err("cannot index slice/array with nil".into()),
        v => return Err(format!("cannot index slice/array with type {}", v.go_type())),
    };
    if x < 0 || x > cap as i128 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

/// Go: `index`.
fn index(item: &Value, indexes: &[Value]) -> std::result::Result<Wv, String> {
    if matches!(item, Value::Missing | Value::Nil) {
        return Err("index of untyped nil".into());
    }
    let mut cur = Wv::plain(item.clone());
    for ix in indexes {
        let base = super::underlying(cur.v.clone());
        cur = match &base {
            Value::List(l) => {
                let x = index_arg(ix, l.items.len())?;
                if x == l.items.len() {
                    return Err(format!("reflect: slice index out of range"));
                }
                Wv { v: l.items[x].clone(), wrapped: l.elem == GoType::Interface }
            }
            Value::String(s) => {
                let x = index_arg(ix, s.len())?;
                if x == s.len() {
                    return Err("reflect: string index out of range".into());
                }
                Wv::plain(Value::Uint(s.as_bytes()[x] as u64, crate::value::UintKind::Uint8))
            }
            Value::Bytes(b) => {
                let x = index_arg(ix, b.len())?;
                if x == b.len() {
                    return Err("reflect: slice index out of range".into());
                }
                Wv::plain(Value::Uint(b[x] as u64, crate::value::UintKind::Uint8))
            }
            Value::Map(m) => {
                let key = match ix {
                    Value::String(s) => s.clone(),
                    Value::Missing | Value::Nil => {
                        return Ok(Wv { v: super::zero_value(&m.elem), wrapped: m.elem == GoType::Interface });
                    }
                    v => return Err(format!("value has type {}; should be string", v.go_type())),
                };
                let wrapped = m.elem == GoType::Interface;
                match m.get(&key) {
                    Some(v) => Wv { v, wrapped },
                    None => Wv { v: super::zero_value(&m.elem), wrapped },
                }
            }
            Value::Nil => return Err("index of nil pointer".into()),
            v => return Err(format!("can't index item of type {}", v.go_type())),
        };
    }
    Ok(cur)
}

/// Go: `slice`.
fn slice(item: &Value, indexes: &[Value]) -> std::result::Result<Value, String> {
    if matches!(item, Value::Missing | Value::Nil) {
        return Err("slice of untyped nil".into());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let (len, cap) = match item {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            (s.len(), s.len())
        }
        Value::List(l) => (l.items.len(), l.items.len()),
        Value::Bytes(b) => (b.len(), b.len()),
        v => return Err(format!("can't slice item of type {}", v.go_type())),
    };
    let mut idx = [0usize, len, cap];
    for (i, ix) in indexes.iter().enumerate() {
        let x = index_arg(ix, cap)?;
        idx[i] = x;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if indexes.len() < 3 {
        return Ok(match item {
            Value::String(s) => match s.get(idx[0]..idx[1]) {
                Some(t) => Value::string(t),
                None => Value::string(String::from_utf8_lossy(&s.as_bytes()[idx[0]..idx[1]]).into_owned()),
            },
            Value::List(l) => Value::List(Arc::new(List { elem: l.elem.clone(), items: l.items[idx[0]..idx[1]].to_vec() })),
            Value::Bytes(b) => Value::Bytes(Arc::from(&b[idx[0]..idx[1]])),
            _ => Value::Missing,
        });
    }
    if idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    Ok(match item {
        Value::List(l) => Value::List(Arc::new(List { elem: l.elem.clone(), items: l.items[idx[0]..idx[1]].to_vec() })),
        Value::Bytes(b) => Value::Bytes(Arc::from(&b[idx[0]..idx[1]])),
        _ => Value::Missing,
    })
}

/// Go: `template.HTMLEscapeString`.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Go: `template.JSEscapeString`.
fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u00{:02X}", c as u32)),
            c if !c.is_ascii() && !crate::print::is_print(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Go: `url.QueryEscape`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[allow(dead_code)]
fn _k(_: IntKind) {}
