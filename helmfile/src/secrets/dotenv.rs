//! sops' dotenv store: `KEY=VALUE` lines (`\n` escapes), `#` comments (encrypted like values),
//! and the metadata flattened into `sops_...` keys (`sops_age__list_0__map_enc=...`).

use super::tree::Node;

/// One line of a dotenv file.
#[derive(Clone, Debug)]
pub enum Line {
    Entry(String, Node),
    Comment(String),
}

/// sops' LoadPlainFile for dotenv, then the `sops_` keys unflattened into a `sops` entry.
pub fn read(text: &str) -> Result<(Vec<Line>, Vec<(String, Node)>), String> {
    let mut lines = Vec::new();
    let mut meta: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            lines.push(Line::Comment(c.to_string()));
            continue;
        }
        let Some(pos) = line.find('=') else { return Err(format!("invalid dotenv input line: {line}")) };
        let key = &line[..pos];
        let value = line[pos + 1..].replace("\\n", "\n");
        match key.strip_prefix("sops_") {
            Some(m) => meta.push((m.to_string(), value)),
            None => lines.push(Line::Entry(key.to_string(), Node::Str(value))),
        }
    }
    if meta.is_empty() {
        return Err("sops metadata not found".into());
    }
    let mut root = Node::Map(Vec::new());
    for (k, v) in meta {
        place(&mut root, &tokenize(&k), Node::Str(v));
    }
    let Node::Map(m) = root else { unreachable!("the root is a map") };
    // Numbers and booleans of the metadata are read weakly typed by sops (mapstructure).
    let m = m
        .into_iter()
        .map(|(k, v)| match (k.as_str(), &v) {
            ("shamir_threshold", Node::Str(s)) => (k, s.parse().map(Node::Int).unwrap_or(v)),
            ("mac_only_encrypted", Node::Str(s)) => (k, Node::Bool(s == "true" || s == "1" || s == "True")),
            _ => (k, v),
        })
        .collect();
    Ok((lines, m))
}

enum Tok {
    Key(String),
    Index(usize),
}

/// sops' flatten tokens: `a__map_b__list_0` is `a`, `b`, `[0]`.
fn tokenize(path: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut rest = path;
    let mut kind_list = false;
    loop {
        let next_map = rest.find("__map_");
        let next_list = rest.find("__list_");
        let (cut, sep_len, is_list) = match (next_map, next_list) {
            (Some(a), Some(b)) if a < b => (a, 6, false),
            (Some(_), Some(b)) => (b, 7, true),
            (Some(a), None) => (a, 6, false),
            (None, Some(b)) => (b, 7, true),
            (None, None) => {
                out.push(if kind_list { Tok::Index(rest.parse().unwrap_or(0)) } else { Tok::Key(rest.to_string()) });
                return out;
            }
        };
        let part = &rest[..cut];
        out.push(if kind_list { Tok::Index(part.parse().unwrap_or(0)) } else { Tok::Key(part.to_string()) });
        kind_list = is_list;
        rest = &rest[cut + sep_len..];
    }
}

fn place(root: &mut Node, path: &[Tok], value: Node) {
    let Some((first, rest)) = path.split_first() else {
        *root = value;
        return;
    };
    match first {
        Tok::Key(k) => {
            if !matches!(root, Node::Map(_)) {
                *root = Node::Map(Vec::new());
            }
            let Node::Map(m) = root else { return };
            let i = match m.iter().position(|(kk, _)| kk == k) {
                Some(i) => i,
                None => {
                    m.push((k.clone(), Node::Null));
                    m.len() - 1
                }
            };
            place(&mut m[i].1, rest, value);
        }
        Tok::Index(n) => {
            if !matches!(root, Node::Seq(_)) {
                *root = Node::Seq(Vec::new());
            }
            let Node::Seq(s) = root else { return };
            while s.len() <= *n {
                s.push(Node::Null);
            }
            place(&mut s[*n], rest, value);
        }
    }
}

/// sops' ValToString.
fn val_to_string(n: &Node) -> String {
    match n {
        Node::Str(s) => s.replace('\n', "\\n"),
        Node::Time(s) => s.clone(),
        Node::Int(i) => i.to_string(),
        Node::Bool(b) => b.to_string(),
        // Dotenv values are encrypted as strings; a float only comes from a hand-made file.
        Node::Float(f) => {
            let s = rudder_engine::print::float::format_v(*f, false).to_uppercase();
            if !s.contains('.') && !s.contains('E') && f.is_finite() {
                format!("{f:.1}")
            } else {
                s
            }
        }
        _ => String::new(),
    }
}

/// sops' EmitPlainFile for dotenv.
pub fn emit(lines: &[Line]) -> String {
    let mut out = String::new();
    for l in lines {
        match l {
            Line::Comment(c) => out.push_str(&format!("#{c}\n")),
            Line::Entry(k, v) => out.push_str(&format!("{k}={}\n", val_to_string(v))),
        }
    }
    out
}
