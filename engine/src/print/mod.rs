//! Go's `fmt` as templates use it: `Sprint` (how `{{ . }}` and `print` show values), `Sprintln`,
//! `Sprintf` with Go's verbs, flags and `%!verb(type=value)` errors, and `strconv`'s float
//! formatting. Placeholder bodies until the Go-fmt work lands; the signatures are the seam.

use crate::value::Value;

/// Go `fmt.Sprint(args...)`: spaces between operands when neither side is a string.
pub fn sprint(args: &[Value]) -> String {
    args.iter().map(format_v).collect::<Vec<_>>().join(" ")
}

/// Go `fmt.Sprintln(args...)`: always a space between operands, and a newline at the end.
pub fn sprintln(args: &[Value]) -> String {
    let mut s = args.iter().map(format_v).collect::<Vec<_>>().join(" ");
    s.push('\n');
    s
}

/// Go `fmt.Sprintf(format, args...)`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let _ = args;
    format.to_string()
}

/// Go `fmt.Sprint(v)` of one value, i.e. `%v`.
pub fn format_v(v: &Value) -> String {
    match v {
        Value::Missing => "<no value>".into(),
        Value::Nil => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i, _) => i.to_string(),
        Value::Uint(u, _) => u.to_string(),
        Value::Float(f, _) => f.to_string(),
        Value::String(s) => s.to_string(),
        Value::Bytes(b) => format!("{b:?}"),
        Value::List(l) => format!(
            "[{}]",
            l.items.iter().map(format_v).collect::<Vec<_>>().join(" ")
        ),
        Value::Map(m) => format!(
            "map[{}]",
            m.read()
                .iter()
                .map(|(k, v)| format!("{k}:{}", format_v(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Value::Object(o) => o.format_v(),
    }
}
