//! Glob patterns as `github.com/gobwas/glob` v0.2.3 reads them with `/` as the only separator
//! (Helm's `.Files.Glob`): `*` matches any run of non-separator characters, `**` any run at all,
//! `?` one non-separator character, `[abc]`/`[!abc]` and `[a-z]`/`[!a-z]` one character (any,
//! separators included), `{a,b}` alternatives (nestable), `\x` a literal `x`. A pattern gobwas
//! rejects is an error; Helm then uses `**`.

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Text(Vec<char>),
    Any,
    Super,
    Single,
    Range { lo: char, hi: char, not: bool },
    List { chars: Vec<char>, not: bool },
    AnyOf(Vec<Vec<Node>>),
}

/// A compiled pattern.
#[derive(Clone, Debug)]
pub struct Glob {
    root: Vec<Node>,
}

const SEP: char = '/';

#[derive(Debug, PartialEq)]
enum Tok {
    Text(Vec<char>),
    Any,
    Super,
    Single,
    TermsOpen,
    Separator,
    TermsClose,
    /// A bracket expression, already read.
    Range(Node),
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let mut terms = 0usize;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '{' => {
                terms += 1;
                toks.push(Tok::TermsOpen);
                i += 1;
            }
            ',' if terms > 0 => {
                toks.push(Tok::Separator);
                i += 1;
            }
            '}' if terms > 0 => {
                terms -= 1;
                toks.push(Tok::TermsClose);
                i += 1;
            }
            '[' => {
                i += 1;
                let (node, next) = lex_range(&chars, i)?;
                toks.push(Tok::Range(node));
                i = next;
            }
            '?' => {
                toks.push(Tok::Single);
                i += 1;
            }
            '*' => {
                if chars.get(i + 1) == Some(&'*') {
                    toks.push(Tok::Super);
                    i += 2;
                } else {
                    toks.push(Tok::Any);
                    i += 1;
                }
            }
            _ => {
                let breakers: &[char] = if terms > 0 { &['?', '*', '[', '{', '}', ','] } else { &['?', '*', '[', '{'] };
                let mut data = Vec::new();
                let mut escaped = false;
                while i < chars.len() {
                    let r = chars[i];
                    if !escaped {
                        if r == '\\' {
                            escaped = true;
                            i += 1;
                            continue;
                        }
                        if breakers.contains(&r) {
                            break;
                        }
                    }
                    escaped = false;
                    data.push(r);
                    i += 1;
                }
                if !data.is_empty() {
                    toks.push(Tok::Text(data));
                }
            }
        }
    }
    Ok(toks)
}

/// Reads a bracket expression after `[` (gobwas' `fetchRange` and `parserRange`).
fn lex_range(chars: &[char], mut i: usize) -> Result<(Node, usize), String> {
    let mut not = false;
    let mut seen_not = false;
    let mut lo: Option<char> = None;
    let mut hi: Option<char> = None;
    let mut list: Vec<char> = Vec::new();
    let mut want_hi = false;
    let mut want_close = false;
    loop {
        let Some(&r) = chars.get(i) else {
            return Err("unexpected end of input".into());
        };
        i += 1;
        if want_close {
            if r != ']' {
                return Err("expected close range character".into());
            }
            break;
        }
        if want_hi {
            hi = Some(r);
            want_close = true;
            continue;
        }
        if !seen_not && r == '!' {
            not = true;
            seen_not = true;
            continue;
        }
        if chars.get(i) == Some(&'-') {
            i += 1;
            lo = Some(r);
            want_hi = true;
            continue;
        }
        // Text up to `]` (with escapes).
        i -= 1;
        let mut escaped = false;
        while i < chars.len() {
            let c = chars[i];
            if !escaped {
                if c == '\\' {
                    escaped = true;
                    i += 1;
                    continue;
                }
                if c == ']' {
                    break;
                }
            }
            escaped = false;
            list.push(c);
            i += 1;
        }
        want_close = true;
    }
    if let (Some(l), Some(h)) = (lo, hi) {
        if h < l {
            return Err(format!("hi character '{h}' should be greater than lo '{l}'"));
        }
    }
    let is_range = lo.is_some_and(|c| c != '\0') && hi.is_some_and(|c| c != '\0');
    let is_chars = !list.is_empty();
    if is_chars == is_range {
        return Err("could not parse range".into());
    }
    Ok((
        if is_range {
            Node::Range { lo: lo.unwrap_or('\0'), hi: hi.unwrap_or('\0'), not }
        } else {
            Node::List { chars: list, not }
        },
        i,
    ))
}

fn parse(toks: Vec<Tok>) -> Vec<Node> {
    // A stack of open alternatives: each holds its finished branches and the current one.
    let mut stack: Vec<(Vec<Vec<Node>>, Vec<Node>)> = Vec::new();
    let mut cur: Vec<Node> = Vec::new();
    for t in toks {
        match t {
            Tok::Text(s) => cur.push(Node::Text(s)),
            Tok::Any => cur.push(Node::Any),
            Tok::Super => cur.push(Node::Super),
            Tok::Single => cur.push(Node::Single),
            Tok::Range(n) => cur.push(n),
            Tok::TermsOpen => {
                stack.push((Vec::new(), std::mem::take(&mut cur)));
            }
            Tok::Separator => {
                if let Some(top) = stack.last_mut() {
                    top.0.push(std::mem::take(&mut cur));
                }
            }
            Tok::TermsClose => {
                if let Some((mut branches, outer)) = stack.pop() {
                    branches.push(std::mem::take(&mut cur));
                    cur = outer;
                    cur.push(Node::AnyOf(branches));
                }
            }
        }
    }
    // Unclosed alternatives at the end are closed as they stand.
    while let Some((mut branches, outer)) = stack.pop() {
        branches.push(std::mem::take(&mut cur));
        cur = outer;
        cur.push(Node::AnyOf(branches));
    }
    cur
}

impl Glob {
    /// Compiles `pattern` (gobwas: `glob.Compile(pattern, '/')`).
    pub fn compile(pattern: &str) -> Result<Glob, String> {
        Ok(Glob { root: parse(lex(pattern)?) })
    }

    /// Whether `name` matches the whole pattern.
    pub fn matches(&self, name: &str) -> bool {
        let chars: Vec<char> = name.chars().collect();
        let mut rest: Vec<&Node> = Vec::new();
        match_seq(&self.root, 0, &chars, 0, &mut rest)
    }
}

/// Matches `nodes[ni..]` followed by the continuation `rest` (innermost last) against `s[si..]`.
fn match_seq<'a>(nodes: &'a [Node], ni: usize, s: &[char], si: usize, rest: &mut Vec<&'a Node>) -> bool {
    if ni == nodes.len() {
        return match rest.pop() {
            None => si == s.len(),
            Some(n) => {
                let r = match_seq(std::slice::from_ref(n), 0, s, si, rest);
                rest.push(n);
                r
            }
        };
    }
    match &nodes[ni] {
        Node::Text(t) => {
            if s.len() - si >= t.len() && s[si..si + t.len()] == t[..] {
                match_seq(nodes, ni + 1, s, si + t.len(), rest)
            } else {
                false
            }
        }
        Node::Single => si < s.len() && s[si] != SEP && match_seq(nodes, ni + 1, s, si + 1, rest),
        Node::Range { lo, hi, not } => {
            si < s.len() && ((*lo <= s[si] && s[si] <= *hi) != *not) && match_seq(nodes, ni + 1, s, si + 1, rest)
        }
        Node::List { chars, not } => {
            si < s.len() && (chars.contains(&s[si]) != *not) && match_seq(nodes, ni + 1, s, si + 1, rest)
        }
        Node::Any => {
            let mut j = si;
            loop {
                if match_seq(nodes, ni + 1, s, j, rest) {
                    return true;
                }
                if j >= s.len() || s[j] == SEP {
                    return false;
                }
                j += 1;
            }
        }
        Node::Super => (si..=s.len()).any(|j| match_seq(nodes, ni + 1, s, j, rest)),
        Node::AnyOf(branches) => {
            // Each branch, then the remainder of this sequence, then the outer continuation.
            let tail: Vec<&'a Node> = nodes[ni + 1..].iter().rev().collect();
            let mark = rest.len();
            rest.extend(tail);
            let mut found = false;
            for b in branches {
                if match_seq(b, 0, s, si, rest) {
                    found = true;
                    break;
                }
            }
            rest.truncate(mark);
            found
        }
    }
}
