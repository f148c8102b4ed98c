//! The part of Kubernetes' JSONPath templates (k8s.io/client-go/util/jsonpath) that
//! `helm show values --jsonpath` needs: literal text, `{.a.b}`, `{['a']}`, `{[n]}`, `{[*]}`,
//! `{.a[*].b}`, quoted literals `{"\n"}` and several expressions in one template.
//! Not supported (a parse error): `range`/`end`, filters `[?()]`, slices `[a:b]`, unions and
//! recursive descent `..`.
//!
//! Printing follows `PrintResults`: maps and lists as compact JSON, other values with Go's
//! `fmt.Fprint`, several results of one expression separated by a space. A missing key stops
//! execution with `KEY is not found`.

use rudder_engine::Value;

#[derive(Clone, Debug)]
enum Step {
    Field(String),
    Index(i64),
    All,
}

#[derive(Clone, Debug)]
enum Node {
    Text(String),
    Path(Vec<Step>),
}

/// A parsed template.
#[derive(Clone, Debug)]
pub struct JsonPath {
    nodes: Vec<Node>,
}

impl JsonPath {
    /// Parses a template; the error is the text after `error parsing jsonpath EXPR: `.
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let mut nodes = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            match rest.find('{') {
                None => {
                    nodes.push(Node::Text(rest.to_string()));
                    break;
                }
                Some(i) => {
                    if i > 0 {
                        nodes.push(Node::Text(rest[..i].to_string()));
                    }
                    let after = &rest[i + 1..];
                    let end = after.find('}').ok_or_else(|| "unclosed action".to_string())?;
                    nodes.push(parse_action(after[..end].trim())?);
                    rest = &after[end + 1..];
                }
            }
        }
        Ok(JsonPath { nodes })
    }

    /// Runs the template over `data`, appending to `out`; stops at the first error.
    pub fn execute(&self, data: &Value, out: &mut String) -> Result<(), String> {
        for n in &self.nodes {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Path(steps) => {
                    let mut cur = vec![data.clone()];
                    for s in steps {
                        let mut next = Vec::new();
                        for v in &cur {
                            match (s, v) {
                                (Step::Field(f), Value::Map(m)) => match m.get(f) {
                                    Some(x) => next.push(x),
                                    None => return Err(format!("{f} is not found")),
                                },
                                (Step::Field(f), _) => return Err(format!("{f} is not found")),
                                (Step::Index(i), Value::List(l)) => {
                                    let n = l.items.len() as i64;
                                    let idx = if *i < 0 { n + i } else { *i };
                                    if idx < 0 || idx >= n {
                                        return Err("array index out of bounds".to_string());
                                    }
                                    next.push(l.items[idx as usize].clone());
                                }
                                (Step::All, Value::List(l)) => next.extend(l.items.iter().cloned()),
                                (Step::All, Value::Map(m)) => next.extend(m.read().values().cloned()),
                                _ => return Err("not an array".to_string()),
                            }
                        }
                        cur = next;
                    }
                    for (i, v) in cur.iter().enumerate() {
                        match v {
                            Value::Map(_) | Value::List(_) => out.push_str(&rudder_engine::json::to_json(v)?),
                            Value::Nil | Value::Missing => out.push_str("null"),
                            other => out.push_str(&rudder_engine::print::format_v(other)),
                        }
                        if i + 1 != cur.len() {
                            out.push(' ');
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn parse_action(a: &str) -> Result<Node, String> {
    if let Some(q) = a.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return Ok(Node::Text(unescape(q)));
    }
    let mut steps = Vec::new();
    let mut s = a.strip_prefix('$').unwrap_or(a);
    while !s.is_empty() {
        if s.starts_with("..") {
            return Err("recursive descent is not supported".into());
        }
        if let Some(r) = s.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end > 0 {
                steps.push(Step::Field(r[..end].to_string()));
            }
            s = &r[end..];
        } else if let Some(r) = s.strip_prefix('[') {
            let end = r.find(']').ok_or_else(|| "unterminated array".to_string())?;
            let inner = r[..end].trim();
            if inner == "*" {
                steps.push(Step::All);
            } else if let Some(q) = inner
                .strip_prefix('\'')
                .and_then(|x| x.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')))
            {
                steps.push(Step::Field(q.to_string()));
            } else {
                let i: i64 = inner.parse().map_err(|_| format!("unsupported array expression [{inner}]"))?;
                steps.push(Step::Index(i));
            }
            s = &r[end + 1..];
        } else {
            return Err(format!("unrecognized identifier {s}"));
        }
    }
    Ok(Node::Path(steps))
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}
