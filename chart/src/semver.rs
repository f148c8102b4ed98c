//! The two Masterminds/semver v3.5.0 questions the chart layer asks: is a version valid
//! (`NewVersion`, lenient: `v` prefix, `1.2`, leading zeros coerced) and does a version satisfy a
//! constraint (`NewConstraint` + `Check`). A compact local implementation until the engine's
//! semver (engine/src/semver.rs, branch wt/numtime) lands; then these two functions delegate to it.

use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `NewVersion` with `CoerceNewVersion = true` (the loose regex, then the prerelease checks).
fn parse_version(v: &str) -> Option<Version> {
    if v.len() > 256 {
        return None;
    }
    let s = v.strip_prefix('v').unwrap_or(v);
    let (s, meta) = match s.split_once('+') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    if let Some(m) = meta {
        if !m.split('.').all(is_ident) {
            return None;
        }
    }
    let (core, pre) = match s.split_once('-') {
        Some((a, p)) => (a, p),
        None => (s, ""),
    };
    if s.contains('-') {
        if !pre.split('.').all(is_ident) {
            return None;
        }
        for part in pre.split('.') {
            if part.bytes().all(|b| b.is_ascii_digit()) && part.len() > 1 && part.starts_with('0') {
                return None;
            }
        }
    }
    let nums: Vec<&str> = core.split('.').collect();
    if nums.is_empty() || nums.len() > 3 || nums.iter().any(|n| n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let seg = |i: usize| -> Option<u64> { nums.get(i).map_or(Some(0), |n| n.parse().ok()) };
    Some(Version {
        major: seg(0)?,
        minor: seg(1)?,
        patch: seg(2)?,
        pre: pre.to_string(),
    })
}

fn compare_pre_part(s: &str, o: &str) -> Ordering {
    if s == o {
        return Ordering::Equal;
    }
    if s.is_empty() {
        return Ordering::Less;
    }
    if o.is_empty() {
        return Ordering::Greater;
    }
    match (s.parse::<u64>(), o.parse::<u64>()) {
        (Err(_), Err(_)) => {
            if s > o {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Ok(a), Ok(b)) => {
            if a > b {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
    }
}

fn compare(v: &Version, o: &Version) -> Ordering {
    let c = (v.major, v.minor, v.patch).cmp(&(o.major, o.minor, o.patch));
    if c != Ordering::Equal {
        return c;
    }
    match (v.pre.is_empty(), o.pre.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => {
            let (sp, op): (Vec<&str>, Vec<&str>) = (v.pre.split('.').collect(), o.pre.split('.').collect());
            for i in 0..sp.len().max(op.len()) {
                let d = compare_pre_part(sp.get(i).copied().unwrap_or(""), op.get(i).copied().unwrap_or(""));
                if d != Ordering::Equal {
                    return d;
                }
            }
            Ordering::Equal
        }
    }
}

struct Constraint {
    op: String,
    con: Version,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

/// `parseConstraint` for one `op version` item.
fn parse_constraint(op: &str, ver: &str) -> Option<Constraint> {
    let body = ver.strip_prefix('v').unwrap_or(ver);
    let (body, meta) = match body.split_once('+') {
        Some((a, m)) => (a, format!("+{m}")),
        None => (body, String::new()),
    };
    let (core, pre) = match body.split_once('-') {
        Some((a, p)) => (a, format!("-{p}")),
        None => (body, String::new()),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'x' | b'X' | b'*' | b'|')))
    {
        return None;
    }
    let tail = format!("{pre}{meta}");
    let (text, dirty, minor_dirty, patch_dirty) = if is_x(parts[0]) {
        (format!("0.0.0{tail}"), true, false, false)
    } else if parts.len() < 2 || is_x(parts[1]) {
        (format!("{}.0.0{tail}", parts[0]), true, true, false)
    } else if parts.len() < 3 || is_x(parts[2]) {
        (format!("{}.{}.0{tail}", parts[0], parts[1]), true, false, true)
    } else {
        (ver.to_string(), false, false, false)
    };
    Some(Constraint {
        op: op.to_string(),
        con: parse_version(&text)?,
        dirty,
        minor_dirty,
        patch_dirty,
    })
}

impl Constraint {
    fn check(&self, v: &Version, include_pre: bool) -> bool {
        if !v.pre.is_empty() && !include_pre {
            return false;
        }
        let c = &self.con;
        match self.op.as_str() {
            "" | "=" => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    compare(v, c) == Ordering::Equal
                }
            }
            "!=" => {
                if self.dirty {
                    if c.major != v.major {
                        return true;
                    }
                    if c.minor != v.minor && !self.minor_dirty {
                        return true;
                    } else if self.minor_dirty {
                        return false;
                    } else if c.patch != v.patch && !self.patch_dirty {
                        return true;
                    } else if self.patch_dirty {
                        if !v.pre.is_empty() || !c.pre.is_empty() {
                            return compare_pre_part(&v.pre, &c.pre) != Ordering::Equal;
                        }
                        return false;
                    }
                }
                compare(v, c) != Ordering::Equal
            }
            ">" => {
                if !self.dirty {
                    return compare(v, c) == Ordering::Greater;
                }
                if v.major > c.major {
                    true
                } else if v.major < c.major || self.minor_dirty {
                    false
                } else if self.patch_dirty {
                    v.minor > c.minor
                } else {
                    compare(v, c) == Ordering::Greater
                }
            }
            "<" => compare(v, c) == Ordering::Less,
            ">=" | "=>" => compare(v, c) != Ordering::Less,
            "<=" | "=<" => {
                if !self.dirty {
                    return compare(v, c) != Ordering::Greater;
                }
                !(v.major > c.major || (v.major == c.major && v.minor > c.minor && !self.minor_dirty))
            }
            "~" | "~>" => self.tilde(v),
            "^" => {
                if compare(v, c) == Ordering::Less {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    return v.major == c.major;
                }
                if c.major == 0 && v.major > 0 {
                    return false;
                }
                if c.minor > 0 || self.patch_dirty {
                    return v.minor == c.minor;
                }
                if c.minor == 0 && v.minor > 0 {
                    return false;
                }
                c.patch == v.patch
            }
            _ => false,
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if compare(v, c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        !(v.minor != c.minor && !self.minor_dirty)
    }
}

const OPS: &[&str] = &["!=", ">=", "=>", "<=", "=<", "~>", "=", ">", "<", "~", "^"];

fn split_op(s: &str) -> (&str, &str) {
    for op in OPS {
        if let Some(rest) = s.strip_prefix(op) {
            return (op, rest);
        }
    }
    ("", s)
}

/// One `||` group: `op version` items separated by spaces or commas; `a - b` ranges rewritten.
fn parse_group(g: &str) -> Option<Vec<Constraint>> {
    let words: Vec<&str> = g.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect();
    let mut items: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let (op, rest) = split_op(words[i]);
        let (op, ver) = if rest.is_empty() {
            i += 1;
            (op.to_string(), words.get(i)?.to_string())
        } else {
            (op.to_string(), rest.to_string())
        };
        if op.is_empty() && words.get(i + 1) == Some(&"-") {
            let hi = words.get(i + 2)?;
            items.push((">=".into(), ver));
            items.push(("<=".into(), hi.to_string()));
            i += 3;
            continue;
        }
        items.push((op, ver));
        i += 1;
    }
    if items.is_empty() {
        return None;
    }
    items.iter().map(|(op, v)| parse_constraint(op, v)).collect()
}

/// `semver.NewVersion(v)` succeeds (lenient: `v` prefix, `1.2`, `1`).
pub fn is_valid_version(v: &str) -> bool {
    parse_version(v).is_some()
}

/// Helm's `IsCompatibleRange(constraint, version)`: both parse and the version satisfies it.
pub fn is_compatible_range(constraint: &str, version: &str) -> bool {
    let Some(v) = parse_version(version) else { return false };
    if constraint.len() > 512 {
        return false;
    }
    let groups: Option<Vec<Vec<Constraint>>> = constraint.split("||").map(parse_group).collect();
    let Some(groups) = groups else { return false };
    groups.iter().any(|g| {
        let has_pre = g.iter().any(|c| !c.con.pre.is_empty());
        g.iter().all(|c| c.check(&v, has_pre))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints() {
        assert!(is_compatible_range("1.2.3", "1.2.3"));
        assert!(is_compatible_range("~1.2.0", "1.2.9"));
        assert!(!is_compatible_range("~1.2.0", "1.3.0"));
        assert!(is_compatible_range("^1.2.0", "1.9.0"));
        assert!(!is_compatible_range("^1.2.0", "2.0.0"));
        assert!(is_compatible_range(">=1.0.0, <2.0.0", "1.5.0"));
        assert!(is_compatible_range("1.x", "1.5.0"));
        assert!(is_compatible_range("*", "3.0.0"));
        assert!(!is_compatible_range("*", "3.0.0-rc1"));
        assert!(is_compatible_range("1.0.0 - 2.0.0", "1.5.0"));
        assert!(is_compatible_range("< 1.0.0 || >= 3", "3.1.0"));
        assert!(!is_compatible_range("", "1.0.0"));
        assert!(is_valid_version("v1.2"));
        assert!(is_valid_version("01.2.3"));
        assert!(!is_valid_version("1.2.3.4"));
        assert!(!is_valid_version("1.0.0-01"));
    }
}
