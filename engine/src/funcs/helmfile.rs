//! helmfile v1.8.0's template functions (pkg/tmpl/context_funcs.go, get_or_nil.go,
//! context_tmpl.go, expand_secret_ref.go): `exec`, `envExec`, `isFile`, `isDir`, `readFile`,
//! `readDir`, `readDirEntries`, `toYaml`, `fromYaml`, `setValueAtPath`, `requiredEnv`, `get`,
//! `getOrNil`, `tpl`, `required`, `fetchSecretValue`, `expandSecretRefs`, `include`, and the
//! `sprigGet` alias of sprig's `get`.
//!
//! Relative paths are resolved against the context's base path (the directory of the state file
//! being rendered). In pre-render mode (helmfile's first pass over a multi-part state file) the
//! side-effecting functions return empty results. With `HELMFILE_DISABLE_INSECURE_FEATURES` or
//! `HELMFILE_DISABLE_INSECURE_TEMPLATE_FUNCTIONS` true they fail.
//!
//! Secret references: only `ref+env://NAME` and `ref+file://PATH` are evaluated; every other
//! `ref+BACKEND://` is an "unsupported" error (helmfile delegates them to vals).

use std::any::Any;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::util::{any, bool_t, list_t, map_t, str_t, strs_t};
use super::{CallContext, Func, FuncError, FuncMap, FuncResult, Signature};
use crate::value::{GoType, Member, Object, Str, UintKind, Value};
use crate::yaml::{self, Native};

/// The directory relative paths are resolved against, and whether this is the pre-render pass.
#[derive(Clone, Debug)]
pub struct Context {
    /// helmfile's `basePath` (may be relative; error messages show paths joined to it).
    pub base_path: PathBuf,
    pub pre_render: bool,
    /// The directory relative paths are opened from (helmfile's working directory); `None`
    /// means the process's current directory.
    pub cwd: Option<PathBuf>,
}

impl Default for Context {
    fn default() -> Self {
        Context { base_path: PathBuf::from("."), pre_render: false, cwd: None }
    }
}

const DISABLED: &str = "HELMFILE_DISABLE_INSECURE_FEATURES or HELMFILE_DISABLE_INSECURE_TEMPLATE_FUNCTIONS is active, insecure function calls are disabled";

fn env_true(name: &str) -> bool {
    // strconv.ParseBool
    matches!(
        std::env::var(name).as_deref(),
        Ok("1" | "t" | "T" | "TRUE" | "true" | "True")
    )
}

fn insecure_disabled() -> bool {
    env_true("HELMFILE_DISABLE_INSECURE_FEATURES") || env_true("HELMFILE_DISABLE_INSECURE_TEMPLATE_FUNCTIONS")
}

/// Adds this family's functions to `map`, resolving paths against the current directory.
pub fn register(m: &mut FuncMap) {
    register_with(m, &Context::default());
}

fn sig(params: Vec<GoType>, result: GoType) -> Signature {
    Signature::new(params, result).with_error()
}

fn pure(m: &mut FuncMap, name: &str, s: Signature, f: impl Fn(&[Value]) -> FuncResult + Send + Sync + 'static) {
    m.insert(name, Func::pure(s, f));
}

fn join(base: &Path, p: &str) -> PathBuf {
    if Path::new(p).is_absolute() {
        PathBuf::from(p)
    } else {
        clean(&base.join(p))
    }
}

/// Go's filepath.Clean (lexical), for error messages that print joined paths.
pub fn clean(p: &Path) -> PathBuf {
    let s = p.to_string_lossy();
    let rooted = s.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in s.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if matches!(out.last(), Some(l) if *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            x => out.push(x),
        }
    }
    let body = out.join("/");
    PathBuf::from(match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    })
}

/// Go's `*PathError` text for an I/O error: `OP PATH: REASON`.
pub fn path_error(op: &str, path: &Path, e: &std::io::Error) -> String {
    format!("{op} {}: {}", path.display(), errno_text(e))
}

/// The errno text Go prints (`no such file or directory`, ...).
pub fn errno_text(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file or directory".into(),
        PermissionDenied => "permission denied".into(),
        IsADirectory => "is a directory".into(),
        NotADirectory => "not a directory".into(),
        _ => {
            let s = e.to_string();
            // Rust: "Some text (os error N)"; Go: lower-case strerror.
            let s = s.split(" (os error").next().unwrap_or(&s).to_string();
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
                None => s,
            }
        }
    }
}

/// Adds helmfile's functions bound to `ctx`.
pub fn register_with(m: &mut FuncMap, ctx: &Context) {
    let base = Arc::new(ctx.base_path.clone());
    let cwd = Arc::new(ctx.cwd.clone());
    let pre = ctx.pre_render;
    let disabled = insecure_disabled();

    // sprig's get survives as sprigGet.
    if let Some(f) = m.get("get").cloned() {
        m.insert("sprigGet", f);
    }

    // exec / envExec
    let b = Arc::new(real(&cwd, &base));
    m.insert(
        "exec",
        Func::pure(sig(vec![str_t(), list_t(), str_t()], str_t()).variadic(), move |a| {
            if disabled {
                return Err(FuncError::new(DISABLED));
            }
            if pre {
                return Ok(Value::string(""));
            }
            env_exec(&b, None, a[0].as_str().unwrap_or(""), &a[1], &a[2..])
        }),
    );
    let b = Arc::new(real(&cwd, &base));
    m.insert(
        "envExec",
        Func::pure(sig(vec![map_t(), str_t(), list_t(), str_t()], str_t()).variadic(), move |a| {
            if disabled {
                return Err(FuncError::new(DISABLED));
            }
            if pre {
                return Ok(Value::string(""));
            }
            env_exec(&b, Some(&a[0]), a[1].as_str().unwrap_or(""), &a[2], &a[3..])
        }),
    );

    for (name, want_dir) in [("isFile", false), ("isDir", true)] {
        let b = base.clone();
        let c = cwd.clone();
        pure(m, name, sig(vec![str_t()], bool_t()), move |a| {
            let p = join(&b, a[0].as_str().unwrap_or(""));
            match std::fs::metadata(real(&c, &p)) {
                Ok(md) => Ok(Value::Bool(md.is_dir() == want_dir)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Bool(false)),
                Err(e) => Err(FuncError(path_error("stat", &p, &e))),
            }
        });
    }

    let b = base.clone();
    let c = cwd.clone();
    pure(m, "readFile", sig(vec![str_t()], str_t()), move |a| {
        if disabled {
            return Err(FuncError::new(DISABLED));
        }
        if pre {
            return Ok(Value::string(""));
        }
        let p = join(&b, a[0].as_str().unwrap_or(""));
        match std::fs::read(real(&c, &p)) {
            Ok(bytes) => Ok(Value::string(String::from_utf8_lossy(&bytes).as_ref())),
            Err(e) => Err(FuncError(path_error("open", &p, &e))),
        }
    });

    let b = base.clone();
    let c = cwd.clone();
    pure(m, "readDir", sig(vec![str_t()], strs_t()), move |a| {
        if disabled {
            return Err(FuncError::new(DISABLED));
        }
        if pre {
            return Ok(Value::string_list(Vec::<String>::new()));
        }
        let arg = a[0].as_str().unwrap_or("");
        let p = join(&b, arg);
        let entries = read_dir_sorted(&real(&c, &p)).map_err(|e| FuncError(format!("ReadDir {}: {}", go_quote(&p), path_error("open", &p, &e))))?;
        let mut out = Vec::new();
        for (name, is_dir) in entries {
            if !is_dir {
                out.push(clean(&Path::new(arg).join(&name)).to_string_lossy().into_owned());
            }
        }
        Ok(Value::string_list(out))
    });

    let b = base.clone();
    let c = cwd.clone();
    pure(m, "readDirEntries", sig(vec![str_t()], GoType::slice_of(GoType::Named("fs.DirEntry".into()))), move |a| {
        if disabled {
            return Err(FuncError::new(DISABLED));
        }
        let elem = GoType::Named("fs.DirEntry".into());
        if pre {
            return Ok(Value::List(Arc::new(crate::value::List { elem, items: vec![] })));
        }
        let p = join(&b, a[0].as_str().unwrap_or(""));
        let entries = read_dir_sorted(&real(&c, &p))
            .map_err(|e| FuncError(format!("ReadDirEntries {}: {}", go_quote(&p), path_error("open", &p, &e))))?;
        let items = entries
            .into_iter()
            .map(|(name, is_dir)| Value::Object(Arc::new(DirEntry { name, is_dir })))
            .collect();
        Ok(Value::List(Arc::new(crate::value::List { elem, items })))
    });

    // toYaml: go-yaml v3 encoder, indent 2, trailing newline kept.
    pure(m, "toYaml", sig(vec![any()], str_t()), |a| {
        yaml::to_yaml_pretty(&a[0]).map(Value::string).map_err(FuncError)
    });
    pure(m, "fromYaml", sig(vec![str_t()], any()), |a| {
        let s = a[0].as_str().unwrap_or("");
        match yaml::from_yaml_native_v3_bools(s) {
            Ok(n) => Ok(native_to_value(&n)),
            Err(e) => Err(FuncError(format!("{e}, offending yaml: {s}"))),
        }
    });

    pure(m, "setValueAtPath", sig(vec![str_t(), any(), map_t()], map_t()), |a| {
        set_value_at_path(a[0].as_str().unwrap_or(""), &a[1], &a[2])
    });

    pure(m, "requiredEnv", sig(vec![str_t()], str_t()), |a| {
        let name = a[0].as_str().unwrap_or("");
        match std::env::var_os(name) {
            Some(v) if !v.is_empty() => Ok(Value::string(v.to_string_lossy().as_ref())),
            _ => Err(FuncError(format!("required env var `{name}` is not set"))),
        }
    });

    pure(m, "get", sig(vec![str_t(), any()], any()).variadic(), |a| {
        get(a[0].as_str().unwrap_or(""), &a[1..]).map_err(|e| FuncError(e.msg))
    });
    pure(m, "getOrNil", sig(vec![str_t(), any()], any()), |a| {
        match get(a[0].as_str().unwrap_or(""), &a[1..2]) {
            Ok(v) => Ok(v),
            Err(e) if e.no_value => Ok(Value::Nil),
            Err(e) => Err(FuncError(e.msg)),
        }
    });

    m.insert(
        "tpl",
        Func::new(sig(vec![str_t(), any()], str_t()), |ctx: &mut dyn CallContext, a: &[Value]| {
            let text = a[0].as_str().unwrap_or("");
            ctx.execute_text(text, &a[1]).map(Value::string).map_err(|e| {
                // The executor words errors as Helm's tpl does; helmfile's tpl returns them bare.
                let helm = format!("error during tpl function execution for {}: ", crate::print::quote(text));
                FuncError(e.0.strip_prefix(&helm).map(str::to_string).unwrap_or(e.0))
            })
        }),
    );

    pure(m, "required", sig(vec![str_t(), any()], any()), |a| {
        let warn = a[0].as_str().unwrap_or("");
        match &a[1] {
            Value::Nil | Value::Missing => Err(FuncError::new(warn)),
            Value::String(s) if s.is_empty() => Err(FuncError::new(warn)),
            v => Ok(v.clone()),
        }
    });

    let b = Arc::new(real(&cwd, &base));
    pure(m, "fetchSecretValue", sig(vec![str_t()], str_t()), move |a| {
        let s = a[0].as_str().unwrap_or("");
        match eval_ref(&b, &Value::string(s))? {
            Value::String(r) => Ok(Value::String(r)),
            other => Err(FuncError(format!("expected {} to be string", crate::print::format_v(&other)))),
        }
    });
    let b = Arc::new(real(&cwd, &base));
    pure(m, "expandSecretRefs", sig(vec![map_t()], map_t()), move |a| eval_ref(&b, &a[0]));

    m.insert(
        "include",
        Func::new(sig(vec![str_t(), any()], str_t()), |ctx: &mut dyn CallContext, a: &[Value]| {
            let name = a[0].as_str().unwrap_or("").to_string();
            {
                let count = ctx.include_count(&name);
                if *count > 1000 {
                    return Err(FuncError(format!(
                        "rendering template has a nested reference name: {name}: unable to execute template"
                    )));
                }
                *count += 1;
            }
            let r = ctx.execute_template(&name, &a[1]);
            let count = ctx.include_count(&name);
            *count = count.saturating_sub(1);
            r.map(Value::string)
        }),
    );
}

fn real(cwd: &Option<PathBuf>, p: &Path) -> PathBuf {
    match cwd {
        Some(c) if p.is_relative() => c.join(p),
        _ => p.to_path_buf(),
    }
}

fn go_quote(p: &Path) -> String {
    crate::print::quote(&p.to_string_lossy())
}

fn read_dir_sorted(p: &Path) -> std::io::Result<Vec<(String, bool)>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(p)? {
        let e = e?;
        let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
        v.push((e.file_name().to_string_lossy().into_owned(), is_dir));
    }
    v.sort();
    Ok(v)
}

/// An `fs.DirEntry` (Go's `*os.unixDirent`): `Name`, `IsDir`.
#[derive(Debug)]
struct DirEntry {
    name: String,
    is_dir: bool,
}

impl Object for DirEntry {
    fn go_type(&self) -> GoType {
        GoType::Named("*os.unixDirent".into())
    }
    fn member(&self, name: &str) -> Option<Member> {
        match name {
            "Name" => Some(Member::Field(Value::string(self.name.as_str()))),
            "IsDir" => Some(Member::Field(Value::Bool(self.is_dir))),
            _ => None,
        }
    }
    fn format_v(&self) -> String {
        format!("&{{{}}}", self.name)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// helmexec.Indent: non-empty lines indented; empty lines dropped; a newline only before lines
/// that are neither the first nor the last.
pub fn indent_block(text: &str, indent: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let last = lines.len() - 1;
    let mut b = String::new();
    for (i, j) in lines.iter().enumerate() {
        if i > 0 && i < last && !j.is_empty() {
            b.push('\n');
        }
        if !j.is_empty() {
            b.push_str(indent);
            b.push_str(j);
        }
    }
    b
}

fn env_exec(base: &Path, envs: Option<&Value>, command: &str, args: &Value, inputs: &[Value]) -> FuncResult {
    let input = inputs.first().and_then(|v| v.as_str()).unwrap_or("").to_string();
    let items: Vec<Value> = match args {
        Value::List(l) => l.items.clone(),
        _ => vec![],
    };
    let mut str_args = Vec::new();
    for (i, a) in items.iter().enumerate() {
        match a {
            Value::String(s) => str_args.push(s.to_string()),
            other => {
                let t = match other {
                    Value::Nil | Value::Missing => "%!s(<nil>)".to_string(),
                    o => o.go_type().to_string(),
                };
                return Err(FuncError(format!(
                    "unexpected type of arg \"{t}\" in args {} at index {i}",
                    crate::print::format_v(args)
                )));
            }
        }
    }
    let mut env_pairs = Vec::new();
    if let Some(Value::Map(m)) = envs {
        for (k, v) in m.read().iter() {
            match v {
                Value::String(s) => env_pairs.push((k.to_string(), s.to_string())),
                other => {
                    return Err(FuncError(format!(
                        "unexpected type of env \"{}\" in envs {} at index {k}",
                        other.go_type(),
                        crate::print::format_v(envs.unwrap_or(&Value::Nil))
                    )))
                }
            }
        }
    }
    // exec.Command resolves the program through PATH (LookPath).
    let resolved = lookup_path(command).ok_or_else(|| {
        FuncError(format!("unexpected error: exec: {}: executable file not found in $PATH", crate::print::quote(command)))
    })?;
    let mut cmd = std::process::Command::new(&resolved);
    cmd.args(&str_args).current_dir(base);
    for (k, v) in &env_pairs {
        cmd.env(k, v);
    }
    cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| FuncError(format!("unexpected error: {}", errno_text(&e))))?;
    if let Some(mut stdin) = child.stdin.take() {
        let data = input.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(data.as_bytes());
        });
    }
    let out = child.wait_with_output().map_err(|e| FuncError(format!("unexpected error: {}", errno_text(&e))))?;
    if !out.status.success() {
        let code = out.status.code().unwrap_or(-1);
        let path = resolved.to_string_lossy().into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let mut combined = String::from_utf8_lossy(&out.stdout).into_owned();
        combined.push_str(&stderr);
        let mut s = format!("PATH:\n{}", indent_block(&path, "  "));
        s.push_str("\n\nARGS:");
        let mut all = vec![command.to_string()];
        all.extend(str_args.iter().cloned());
        for (i, a) in all.iter().enumerate() {
            s.push_str(&format!("\n{}", indent_block(&format!("{i}: {a} ({} bytes)", a.len()), "  ")));
        }
        s.push_str(&format!("\n\nERROR:\n{}", indent_block(&format!("exit status {code}"), "  ")));
        s.push_str(&format!("\n\nEXIT STATUS\n{}", indent_block(&code.to_string(), "  ")));
        if !stderr.is_empty() {
            s.push_str(&format!("\n\nSTDERR:\n{}", indent_block(&stderr, "  ")));
        }
        if !combined.is_empty() {
            s.push_str(&format!("\n\nCOMBINED OUTPUT:\n{}", indent_block(&combined, "  ")));
        }
        return Err(FuncError(format!("command {} exited with non-zero status:\n\n{s}", crate::print::quote(&path))));
    }
    Ok(Value::string(String::from_utf8_lossy(&out.stdout).as_ref()))
}

fn lookup_path(command: &str) -> Option<PathBuf> {
    if command.contains('/') {
        return Some(PathBuf::from(command));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
        let cand = dir.join(command);
        if let Ok(md) = std::fs::metadata(&cand) {
            use std::os::unix::fs::PermissionsExt;
            if md.is_file() && md.permissions().mode() & 0o111 != 0 {
                return Some(cand);
            }
        }
    }
    None
}

/// go-yaml decoding into `interface{}`, keys stringified (maputil.RecursivelyStringifyMapKey).
pub fn native_to_value(n: &Native) -> Value {
    match n {
        Native::Nil => Value::Nil,
        Native::Bool(b) => Value::Bool(*b),
        Native::Int(i) => Value::int(*i),
        Native::Uint(u) => Value::Uint(*u, UintKind::Uint64),
        Native::Float(f) => Value::float(*f),
        Native::Str(s) => Value::string(s.as_str()),
        Native::Seq(items) => Value::list(items.iter().map(native_to_value).collect()),
        Native::Map(entries) => {
            let mut m = BTreeMap::new();
            for (k, v) in entries {
                let key = match k {
                    Native::Str(s) => s.clone(),
                    other => crate::print::format_v(&native_to_value(other)),
                };
                m.insert(Str::from(key.as_str()), native_to_value(v));
            }
            Value::map(m)
        }
    }
}

fn set_value_at_path(path: &str, value: &Value, values: &Value) -> FuncResult {
    let comps: Vec<&str> = path.split('.').collect();
    let (key, to_map) = comps.split_last().unwrap_or((&"", &[]));
    let mut current = values.clone();
    for k in to_map {
        let elem = match &current {
            Value::Map(m) => match m.get(k) {
                Some(v) => v,
                None => {
                    return Err(FuncError(format!(
                        "failed to set value at path \"{path}\": value for key \"{k}\" does not exist"
                    )))
                }
            },
            _ => return Err(FuncError(format!("failed to set value at path \"{path}\": value for key \"{k}\" was not a map"))),
        };
        match elem {
            Value::Map(_) => current = elem,
            _ => return Err(FuncError(format!("failed to set value at path \"{path}\": value for key \"{k}\" was not a map"))),
        }
    }
    match &current {
        Value::Map(m) => {
            m.write().insert(Str::from(*key), value.clone());
            Ok(values.clone())
        }
        _ => Err(FuncError(format!("failed to set value at path \"{path}\": value for key \"{key}\" was not a map"))),
    }
}

struct GetError {
    msg: String,
    no_value: bool,
}

fn no_value(msg: String) -> GetError {
    GetError { msg, no_value: true }
}

fn get(path: &str, var_args: &[Value]) -> Result<Value, GetError> {
    let (def, obj) = match var_args.len() {
        1 => (None, var_args[0].clone()),
        2 => (Some(var_args[0].clone()), var_args[1].clone()),
        n => {
            return Err(GetError {
                msg: format!(
                    "unexpected number of args passed to the template function get(path, [def, ]obj): expected 1 or 2, got {n}, args was {}",
                    crate::print::format_v(&Value::list(var_args.to_vec()))
                ),
                no_value: false,
            })
        }
    };
    if path.is_empty() {
        return Ok(obj);
    }
    let (first, rest) = match path.split_once('.') {
        Some((a, b)) => (a, b),
        None => (path, ""),
    };
    let v = match &obj {
        Value::Map(m) => match m.get(first) {
            Some(v) => {
                if m.elem == GoType::String {
                    return Ok(v);
                }
                v
            }
            None => {
                if let Some(d) = def {
                    return Ok(d);
                }
                return Err(no_value(format!(
                    "no value exist for key \"{first}\" in {}",
                    crate::print::format_v(&obj)
                )));
            }
        },
        Value::Object(o) => match o.member(first) {
            Some(Member::Field(v)) => v,
            _ => {
                if let Some(d) = def {
                    return Ok(d);
                }
                return Err(no_value(format!("no field named \"{first}\" exist in {}", o.format_v())));
            }
        },
        other => {
            let t = match other {
                Value::Nil | Value::Missing => "<nil>".to_string(),
                o => o.go_type().to_string(),
            };
            return Err(no_value(format!(
                "unexpected type({t}) of value for key \"{first}\": it must be either map[string]any or any struct"
            )));
        }
    };
    match def {
        Some(d) => get(rest, &[d, v]),
        None => get(rest, &[v]),
    }
}

/// One match of vals' reference pattern `((secret)?ref)\+([^\+:]*://[^\+\n ]+[^\+\n ",])\+?`
/// starting at byte `i` of `s`: the matched length and the reference body (after `ref+` or
/// `secretref+`, without a closing `+`).
pub fn ref_match_at(s: &str, i: usize) -> Option<(usize, &str)> {
    let rest = &s[i..];
    let after_prefix = if rest.starts_with("secretref+") {
        10
    } else if rest.starts_with("ref+") {
        4
    } else {
        return None;
    };
    let body = &rest[after_prefix..];
    let colon = body.find(':')?;
    if body[..colon].contains('+') || !body[colon..].starts_with("://") {
        return None;
    }
    let start = after_prefix + colon + 3;
    let tail = &rest[start..];
    let run: Vec<(usize, char)> = tail.char_indices().take_while(|(_, c)| !matches!(c, '+' | '\n' | ' ')).collect();
    // The last character may not be `"` or `,`, and at least two characters are needed.
    let mut n = run.len();
    while n >= 2 && matches!(run[n - 1].1, '"' | ',') {
        n -= 1;
    }
    if n < 2 {
        return None;
    }
    let end = start + run[n - 1].0 + run[n - 1].1.len_utf8();
    let body = &rest[after_prefix..end];
    let end = if rest[end..].starts_with('+') { end + 1 } else { end };
    Some((end, body))
}

/// vals' evaluation restricted to `ref+env://` and `ref+file://`: strings that are refs are
/// replaced, maps and lists are walked, everything else is kept.
fn eval_ref(base: &Path, v: &Value) -> FuncResult {
    match v {
        Value::String(s) => {
            let s: &str = s;
            // Find every reference; a string that is exactly one reference becomes its value.
            let mut matches = Vec::new();
            let mut i = 0;
            while i < s.len() {
                if let Some((len, _)) = ref_match_at(s, i) {
                    matches.push((i, i + len));
                    i += len;
                } else {
                    i += s[i..].chars().next().map(char::len_utf8).unwrap_or(1);
                }
            }
            if matches.is_empty() {
                return Ok(v.clone());
            }
            if matches.len() == 1 && matches[0] == (0, s.len()) && s.starts_with("ref+") {
                return eval_one_ref(base, v, s);
            }
            let mut out = String::new();
            let mut last = 0;
            for (a, b) in matches {
                out.push_str(&s[last..a]);
                let r = &s[a..b];
                let r = r.strip_prefix("secret").unwrap_or(r);
                let val = eval_one_ref(base, &Value::string(r), r)?;
                out.push_str(&crate::print::format_v(&val));
                last = b;
            }
            out.push_str(&s[last..]);
            Ok(Value::string(out))
        }
        Value::Map(m) => {
            let mut out = BTreeMap::new();
            for (k, x) in m.read().iter() {
                out.insert(k.clone(), eval_ref(base, x)?);
            }
            Ok(Value::map(out))
        }
        Value::List(l) => {
            let mut out = Vec::new();
            for x in &l.items {
                out.push(eval_ref(base, x)?);
            }
            Ok(Value::list(out))
        }
        _ => Ok(v.clone()),
    }
}

fn eval_one_ref(base: &Path, v: &Value, s: &str) -> FuncResult {
    {
        {
            if let Some(rest) = s.strip_prefix("ref+") {
                let (scheme, after) = match rest.split_once("://") {
                    Some(x) => x,
                    None => return Ok(v.clone()),
                };
                let after = after.strip_suffix('+').unwrap_or(after);
                // vals' reference pattern needs at least two characters after `://`.
                if after.chars().count() < 2 {
                    return Ok(v.clone());
                }
                let (target, frag) = match after.split_once('#') {
                    Some((a, f)) => (a, Some(f)),
                    None => (after, None),
                };
                let text = match scheme {
                    "echo" => target.to_string(),
                    "file" => {
                        let p = join(base, target);
                        std::fs::read_to_string(&p).map_err(|e| FuncError(path_error("open", &p, &e)))?
                    }
                    "vault" | "awssecrets" | "awsssm" | "gcpsecrets" | "gcs" | "s3" | "sops" | "tfstate"
                    | "tfstategs" | "tfstates3" | "tfstateazurerm" | "tfstateremote" | "azurekeyvault"
                    | "onepassword" | "onepasswordconnect" | "doppler" | "pulumistateapi" | "kms" | "k8s"
                    | "conjur" | "hcpvaultsecrets" | "bitwarden" | "httpjson" | "gitlab" | "googlesheets"
                    | "infisical" | "oci" | "keychain" | "servercore" | "secretserver" | "exec"
                    | "envsubst" => {
                        return Err(FuncError(format!(
                            "unsupported secret reference backend {scheme:?} in {s:?}: Rudder evaluates only ref+echo:// and ref+file:// references"
                        )))
                    }
                    other => {
                        return Err(FuncError(format!(
                            "expand {}: no provider registered for scheme {other:?}",
                            &s["ref+".len()..]
                        )))
                    }
                };
                match frag {
                    None | Some("") => Ok(Value::string(text)),
                    Some(f) => {
                        let parsed = yaml::from_yaml_native(&text).map(|n| native_to_value(&n)).map_err(FuncError)?;
                        let p = f.trim_start_matches('/').replace('/', ".");
                        get(&p, &[parsed]).map_err(|e| FuncError(e.msg))
                    }
                }
            } else {
                Ok(v.clone())
            }
        }
    }
}
