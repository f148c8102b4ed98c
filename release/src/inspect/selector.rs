//! Kubernetes label selectors (`k8s.io/apimachinery/pkg/labels.Parse`), what `helm list -l`
//! matches against a record's storage labels: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
//! `k notin (a,b)`, `k`, `!k`, `k>n`, `k<n`, joined by commas (all must hold).

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
enum Op {
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
    Gt(i64),
    Lt(i64),
}

/// A parsed selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selector {
    reqs: Vec<(String, Op)>,
}

impl Selector {
    pub fn parse(text: &str) -> Result<Selector, String> {
        let mut reqs = Vec::new();
        let mut p = Lexer { s: text.as_bytes(), i: 0, src: text };
        p.ws();
        if p.eof() {
            return Ok(Selector { reqs });
        }
        loop {
            p.ws();
            let negated = p.eat("!");
            p.ws();
            let key = p.word();
            if key.is_empty() {
                return Err(format!("found '{}', expected: !, identifier, or 'end of string'", p.peek_token()));
            }
            validate_key(&key)?;
            p.ws();
            if negated {
                reqs.push((key, Op::DoesNotExist));
            } else if p.eof() || p.peek() == Some(b',') {
                reqs.push((key, Op::Exists));
            } else if p.eat("==") || p.eat("=") {
                p.ws();
                let v = p.word();
                validate_value(&v)?;
                reqs.push((key, Op::In(vec![v])));
            } else if p.eat("!=") {
                p.ws();
                let v = p.word();
                validate_value(&v)?;
                reqs.push((key, Op::NotIn(vec![v])));
            } else if p.eat(">") || p.eat("<") {
                let gt = p.s[p.i - 1] == b'>';
                p.ws();
                let v = p.word();
                let n: i64 = v.parse().map_err(|_| format!("for 'Gt', 'Lt' operators, the value must be an integer"))?;
                reqs.push((key, if gt { Op::Gt(n) } else { Op::Lt(n) }));
            } else {
                let w = p.word();
                let notin = match w.as_str() {
                    "in" => false,
                    "notin" => true,
                    _ => return Err(format!("found '{w}', expected: in, notin, =, ==, !=, gt, lt")),
                };
                p.ws();
                if !p.eat("(") {
                    return Err(format!("found '{}', expected: '('", p.peek_token()));
                }
                let mut vals = Vec::new();
                loop {
                    p.ws();
                    let v = p.word();
                    validate_value(&v)?;
                    vals.push(v);
                    p.ws();
                    if p.eat(",") {
                        continue;
                    }
                    if p.eat(")") {
                        break;
                    }
                    return Err(format!("found '{}', expected: ',', or ')'", p.peek_token()));
                }
                reqs.push((key, if notin { Op::NotIn(vals) } else { Op::In(vals) }));
            }
            p.ws();
            if p.eof() {
                break;
            }
            if !p.eat(",") {
                return Err(format!("found '{}', expected: ',' or 'end of string'", p.peek_token()));
            }
        }
        Ok(Selector { reqs })
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.reqs.iter().all(|(k, op)| {
            let v = labels.get(k);
            match op {
                Op::In(vals) => v.is_some_and(|v| vals.contains(v)),
                Op::NotIn(vals) => v.is_none_or(|v| !vals.contains(v)),
                Op::Exists => v.is_some(),
                Op::DoesNotExist => v.is_none(),
                Op::Gt(n) => v.and_then(|v| v.parse::<i64>().ok()).is_some_and(|x| x > *n),
                Op::Lt(n) => v.and_then(|v| v.parse::<i64>().ok()).is_some_and(|x| x < *n),
            }
        })
    }
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
    src: &'a str,
}

impl Lexer<'_> {
    fn eof(&self) -> bool {
        self.i >= self.s.len()
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }
    fn eat(&mut self, t: &str) -> bool {
        if self.src[self.i..].starts_with(t) {
            self.i += t.len();
            true
        } else {
            false
        }
    }
    fn word(&mut self) -> String {
        let start = self.i;
        while let Some(c) = self.peek() {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b',' | b'=' | b'!' | b'(' | b')' | b'<' | b'>') {
                break;
            }
            self.i += 1;
        }
        self.src[start..self.i].to_string()
    }
    fn peek_token(&self) -> String {
        match self.peek() {
            None => "".into(),
            Some(c) => (c as char).to_string(),
        }
    }
}

fn validate_key(k: &str) -> Result<(), String> {
    let name = k.rsplit('/').next().unwrap_or(k);
    if name.is_empty() || name.len() > 63 || !rudder_state::driver::is_valid_label_value(name) {
        return Err(format!("key: Invalid value: {k:?}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"));
    }
    Ok(())
}

fn validate_value(v: &str) -> Result<(), String> {
    if !rudder_state::driver::is_valid_label_value(v) {
        return Err(format!("values[0][{v}]: Invalid value: {v:?}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_like_kubernetes() {
        let l: BTreeMap<String, String> = [("a", "1"), ("b", "x")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        for (s, want) in [
            ("", true),
            ("a=1", true),
            ("a==1,b=x", true),
            ("a!=1", false),
            ("c!=1", true),
            ("a in (1,2)", true),
            ("b notin (x)", false),
            ("a", true),
            ("!c", true),
            ("!a", false),
            ("a>0", true),
            ("a<1", false),
        ] {
            assert_eq!(Selector::parse(s).unwrap().matches(&l), want, "{s}");
        }
        assert!(Selector::parse("a in 1").is_err());
    }
}
