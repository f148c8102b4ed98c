//! sprig's path functions (sprig: functions.go): Go's `path` package (`base`, `dir`, `clean`,
//! `ext`, `isAbs`) and `path/filepath` on Linux (`osBase` ...), where both use `/` only.

use super::util::*;
use super::FuncMap;
use crate::value::Value;

/// Go's `path.Clean`: the shortest equivalent path (lexically).
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let p = path.as_bytes();
    let rooted = p[0] == b'/';
    let n = p.len();
    let mut out: Vec<u8> = Vec::with_capacity(n);
    let (mut r, mut dotdot) = (0, 0);
    if rooted {
        out.push(b'/');
        r = 1;
        dotdot = 1;
    }
    while r < n {
        if p[r] == b'/' || (p[r] == b'.' && (r + 1 == n || p[r + 1] == b'/')) {
            // An empty or `.` element.
            r += 1;
        } else if p[r] == b'.' && p[r + 1] == b'.' && (r + 2 == n || p[r + 2] == b'/') {
            r += 2;
            if out.len() > dotdot {
                let mut w = out.len() - 1;
                while w > dotdot && out[w] != b'/' {
                    w -= 1;
                }
                out.truncate(w);
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            if (rooted && out.len() != 1) || (!rooted && !out.is_empty()) {
                out.push(b'/');
            }
            while r < n && p[r] != b'/' {
                out.push(p[r]);
                r += 1;
            }
        }
    }
    if out.is_empty() {
        return ".".into();
    }
    // Only whole ASCII bytes were removed, so the result stays valid UTF-8.
    String::from_utf8_lossy(&out).into_owned()
}

/// Go's `path.Base`.
pub fn base(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let p = path.trim_end_matches('/');
    let p = match p.rfind('/') {
        Some(i) => &p[i + 1..],
        None => p,
    };
    if p.is_empty() {
        return "/".into();
    }
    p.to_string()
}

/// Go's `path.Dir`.
pub fn dir(path: &str) -> String {
    let i = path.rfind('/').map_or(0, |i| i + 1);
    clean(&path[..i])
}

/// Go's `path.Ext`.
pub fn ext(path: &str) -> String {
    let b = path.as_bytes();
    for i in (0..b.len()).rev() {
        match b[i] {
            b'/' => break,
            b'.' => return path[i..].to_string(),
            _ => {}
        }
    }
    String::new()
}

pub fn register(m: &mut FuncMap) {
    for prefix in ["", "os"] {
        let name = |n: &str| if prefix.is_empty() { n.to_string() } else { format!("os{}{}", n[..1].to_uppercase(), &n[1..]) };
        add(m, &name("base"), vec![str_t()], str_t(), |a| ok(Value::string(base(arg_str(&a[0])))));
        add(m, &name("dir"), vec![str_t()], str_t(), |a| ok(Value::string(dir(arg_str(&a[0])))));
        add(m, &name("clean"), vec![str_t()], str_t(), |a| ok(Value::string(clean(arg_str(&a[0])))));
        add(m, &name("ext"), vec![str_t()], str_t(), |a| ok(Value::string(ext(arg_str(&a[0])))));
        add(m, &name("isAbs"), vec![str_t()], bool_t(), |a| ok(Value::Bool(arg_str(&a[0]).starts_with('/'))));
    }
}
