//! helmfile v1.8.0's hooks (pkg/event/bus.go): `hooks:` entries of a release or of the state,
//! each run as a real subprocess when one of its `events` fires.
//!
//! A hook's `command` and `args` are Go templates rendered with `.Environment`, `.Namespace`
//! (the `--namespace` override), `.Event` (`.Name`, `.Error`), `.HelmfileCommand` and, for
//! release hooks, `.Release` and `.Values`. The command runs in the state's directory with the
//! caller's environment; its stdout is what `showlogs: true` prints, line by line, as
//! `hook[EVENT] logs | LINE`. A failing hook is helmfile's
//! `hook[NAME]: command `CMD` failed: <exit error>` (the same exit-error text as a failing helm).
//! `HELMFILE_DISABLE_HOOKS=true` makes any hooked state an error, as there.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use rudder_engine::Value;

use crate::{get, list_items, map_entries, mk_map, str_of, State};

/// One `hooks:` entry.
#[derive(Clone, Debug, Default)]
pub struct Hook {
    pub name: String,
    pub events: Vec<String>,
    pub command: String,
    pub args: Vec<String>,
    pub show_logs: bool,
    /// `kubectlApply:` (`filename` or `kustomize`).
    pub kubectl: Option<BTreeMap<String, String>>,
}

/// The hooks of a `hooks:` list (a release's or the state's).
pub fn hooks_of(v: &Value) -> Vec<Hook> {
    list_items(v)
        .iter()
        .map(|h| {
            let m: BTreeMap<String, Value> = map_entries(h).into_iter().collect();
            let kubectl = match get(&m, "kubectlApply") {
                k @ Value::Map(_) => Some(
                    map_entries(&k)
                        .into_iter()
                        .map(|(k, v)| (k, str_of(&v)))
                        .collect(),
                ),
                _ => None,
            };
            Hook {
                name: str_of(&get(&m, "name")),
                events: list_items(&get(&m, "events")).iter().map(str_of).collect(),
                command: str_of(&get(&m, "command")),
                args: list_items(&get(&m, "args")).iter().map(str_of).collect(),
                show_logs: matches!(get(&m, "showlogs"), Value::Bool(true)),
                kubectl,
            }
        })
        .collect()
}

/// What a trigger printed (helmfile's log lines, in order) and whether it failed.
#[derive(Debug, Default)]
pub struct Fired {
    pub log: String,
    pub error: Option<String>,
}

/// `.Release` as a hook sees it: the ReleaseSpec's Go field names.
fn release_struct(rel: &BTreeMap<String, Value>) -> Value {
    let f = |k: &str| Value::string(str_of(&get(rel, k)));
    let labels = match get(rel, "labels") {
        l @ Value::Map(_) => l,
        _ => Value::empty_map(),
    };
    let fields: BTreeMap<String, Value> = [
        ("Name".into(), f("name")),
        ("Namespace".into(), f("namespace")),
        ("Chart".into(), f("chart")),
        ("Version".into(), f("version")),
        ("KubeContext".into(), f("kubeContext")),
        ("Condition".into(), f("condition")),
        ("Labels".into(), labels),
        ("Needs".into(), get(rel, "needs")),
        ("Installed".into(), get(rel, "installed")),
    ]
    .into_iter()
    .collect();
    Value::Object(Arc::new(ReleaseObj(fields)))
}

/// `.Release` of a hook: a `*ReleaseSpec` (fields by their Go names; an unknown field is Go's
/// `can't evaluate field` error).
#[derive(Debug)]
struct ReleaseObj(BTreeMap<String, Value>);

impl rudder_engine::value::Object for ReleaseObj {
    fn go_type(&self) -> rudder_engine::value::GoType {
        rudder_engine::value::GoType::Named("*state.ReleaseSpec".into())
    }
    fn member(&self, name: &str) -> Option<rudder_engine::value::Member> {
        self.0
            .get(name)
            .map(|v| rudder_engine::value::Member::Field(v.clone()))
    }
    fn format_v(&self) -> String {
        format!(
            "&{{{}}}",
            str_of(self.0.get("Name").unwrap_or(&Value::Missing))
        )
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Fires `event` for the release `rel` (its `hooks:`), or for the state itself (`rel` None:
/// the top-level `hooks:`, only `prepare` and `cleanup` are fired there by helmfile).
pub fn trigger(
    st: &State,
    rel: Option<&BTreeMap<String, Value>>,
    event: &str,
    event_error: Option<&str>,
    helmfile_command: &str,
) -> Fired {
    let hooks = match rel {
        Some(r) => hooks_of(&get(r, "hooks")),
        None => hooks_of(&get(&st.spec, "hooks")),
    };
    let mut fired = Fired::default();
    if hooks.is_empty() {
        return fired;
    }
    if std::env::var("HELMFILE_DISABLE_HOOKS").is_ok_and(|v| go_parse_bool(&v)) {
        fired.error = Some("HELMFILE_DISABLE_HOOKS is active, hooks are disabled".into());
        return fired;
    }
    let env = mk_map(vec![
        ("Name".into(), Value::string(st.env_name.as_str())),
        (
            "KubeContext".into(),
            Value::string(str_of(&get(&st.spec, "kubeContext"))),
        ),
        ("Values".into(), st.rendered_values.clone()),
        ("Defaults".into(), st.rendered_values.clone()),
    ]);
    let mut data = vec![
        ("Environment".into(), env),
        (
            "Namespace".into(),
            Value::string(str_of(&get(&st.spec, "namespace"))),
        ),
        (
            "Event".into(),
            Value::Object(Arc::new(EventObj {
                name: event.into(),
                error: event_error.map(String::from),
            })),
        ),
        ("HelmfileCommand".into(), Value::string(helmfile_command)),
    ];
    if let Some(r) = rel {
        data.push(("Values".into(), st.rendered_values.clone()));
        data.push(("Release".into(), release_struct(r)));
    }
    let data = mk_map(data);
    for mut hook in hooks
        .into_iter()
        .filter(|h| h.events.iter().any(|e| e == event))
    {
        let name = if !hook.name.is_empty() {
            hook.name.clone()
        } else if hook.kubectl.is_some() {
            "kubectlApply".to_string()
        } else {
            hook.command.clone()
        };
        if let Some(k) = hook.kubectl.clone() {
            if !hook.command.is_empty() {
                fired.log.push_str(&format!(
                    "warn: ignoring command '{}' given within a kubectlApply hook\n",
                    hook.command
                ));
            }
            hook.command = "kubectl".into();
            hook.args = match (k.get("filename"), k.get("kustomize")) {
                (Some(_), Some(_)) => {
                    fired.error = Some(format!(
                        "hook[{name}]: kustomize & filename cannot be used together"
                    ));
                    return fired;
                }
                (Some(f), None) => vec!["apply".into(), "-f".into(), f.clone()],
                (None, Some(k)) => vec!["apply".into(), "-k".into(), k.clone()],
                (None, None) => {
                    fired.error = Some(format!(
                        "hook[{name}]: either kustomize or filename must be given"
                    ));
                    return fired;
                }
            };
        }
        let render =
            |t: &str| crate::render_in(st, t, &data).map_err(|e| format!("hook[{name}]: {e}"));
        let command = match render(&hook.command) {
            Ok(c) => c,
            Err(e) => {
                fired.error = Some(e);
                return fired;
            }
        };
        let mut args = Vec::new();
        for a in &hook.args {
            match render(a) {
                Ok(a) => args.push(a),
                Err(e) => {
                    fired.error = Some(e);
                    return fired;
                }
            }
        }
        let (stdout, res) = execute(&st.base_dir, &command, &args);
        if hook.show_logs {
            let prefix = format!("\nhook[{event}] logs | ");
            fired
                .log
                .push_str(&format!("{prefix}{}\n", stdout.replace('\n', &prefix)));
        }
        if let Err(e) = res {
            fired.error = Some(format!("hook[{name}]: command `{command}` failed: {e}"));
            return fired;
        }
    }
    fired
}

/// Go's strconv.ParseBool.
fn go_parse_bool(s: &str) -> bool {
    matches!(s, "1" | "t" | "T" | "TRUE" | "true" | "True")
}

/// Go's exec.LookPath for a command without a slash: the first executable file on PATH.
fn look_path(cmd: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    if cmd.contains('/') {
        return Some(cmd.to_string());
    }
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(if dir.is_empty() { "." } else { dir }).join(cmd);
        if let Ok(m) = std::fs::metadata(&p) {
            if m.is_file() && m.permissions().mode() & 0o111 != 0 {
                return Some(p.to_string_lossy().into_owned());
            }
        }
    }
    None
}

/// helmexec's ShellRunner.Execute: runs `cmd args` in `dir`, returns its stdout and, when it
/// fails, helmfile's error text (the ExitError with PATH/ARGS/STDERR/COMBINED OUTPUT).
pub fn execute(dir: &Path, cmd: &str, args: &[String]) -> (String, Result<(), String>) {
    let Some(path) = look_path(cmd) else {
        return (
            String::new(),
            Err(format!(
                "unexpected error: exec: {cmd:?}: executable file not found in $PATH"
            )),
        );
    };
    let child = Command::new(&path)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return (
                String::new(),
                Err(format!(
                    "unexpected error: fork/exec {path}: {}",
                    rudder_engine::funcs::helmfile::errno_text(&e)
                )),
            );
        }
    };
    let combined: Arc<Mutex<Vec<u8>>> = Arc::default();
    let pump = |mut r: Box<dyn Read + Send>, combined: Arc<Mutex<Vec<u8>>>| {
        std::thread::spawn(move || {
            let mut own = Vec::new();
            let mut buf = [0u8; 8192];
            loop {
                match r.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        own.extend_from_slice(&buf[..n]);
                        if let Ok(mut c) = combined.lock() {
                            c.extend_from_slice(&buf[..n]);
                        }
                    }
                }
            }
            own
        })
    };
    let out_t = child
        .stdout
        .take()
        .map(|s| pump(Box::new(s), combined.clone()));
    let err_t = child
        .stderr
        .take()
        .map(|s| pump(Box::new(s), combined.clone()));
    let stdout = out_t.and_then(|t| t.join().ok()).unwrap_or_default();
    let stderr = err_t.and_then(|t| t.join().ok()).unwrap_or_default();
    let status = child.wait();
    let stdout_s = String::from_utf8_lossy(&stdout).into_owned();
    let status = match status {
        Ok(s) => s,
        Err(e) => return (stdout_s, Err(format!("unexpected error: {e}"))),
    };
    if status.success() {
        return (stdout_s, Ok(()));
    }
    use std::os::unix::process::ExitStatusExt;
    let (code, err_text) = match (status.code(), status.signal()) {
        (Some(c), _) => (c, format!("exit status {c}")),
        (None, Some(s)) => (-1, format!("signal: {}", signal_name(s))),
        _ => (-1, "exit status -1".to_string()),
    };
    let combined = combined
        .lock()
        .map(|c| String::from_utf8_lossy(&c).into_owned())
        .unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr).into_owned();
    let indent = crate::render::go_indent;
    let mut out = format!("PATH:\n{}", indent(&path, "  "));
    out.push_str("\n\nARGS:");
    let all: Vec<&str> = std::iter::once(cmd)
        .chain(args.iter().map(String::as_str))
        .collect();
    for (i, a) in all.iter().enumerate() {
        out.push_str(&format!(
            "\n{}",
            indent(&format!("{i}: {a} ({} bytes)", a.len()), "  ")
        ));
    }
    out.push_str(&format!("\n\nERROR:\n{}", indent(&err_text, "  ")));
    out.push_str(&format!(
        "\n\nEXIT STATUS\n{}",
        indent(&code.to_string(), "  ")
    ));
    if !stderr.is_empty() {
        out.push_str(&format!("\n\nSTDERR:\n{}", indent(&stderr, "  ")));
    }
    if !combined.is_empty() {
        out.push_str(&format!(
            "\n\nCOMBINED OUTPUT:\n{}",
            indent(&combined, "  ")
        ));
    }
    (
        stdout_s,
        Err(format!(
            "command {path:?} exited with non-zero status:\n\n{out}"
        )),
    )
}

/// Go's syscall.Signal names for the signals a hook is likely to die of.
fn signal_name(s: i32) -> String {
    match s {
        1 => "hangup".into(),
        2 => "interrupt".into(),
        6 => "aborted".into(),
        9 => "killed".into(),
        11 => "segmentation fault".into(),
        13 => "broken pipe".into(),
        15 => "terminated".into(),
        n => format!("signal {n}"),
    }
}

/// `.Event` (helmfile's unexported `event` struct): a nil `Error` prints `<nil>`.
#[derive(Debug)]
struct EventObj {
    name: String,
    error: Option<String>,
}

impl rudder_engine::value::Object for EventObj {
    fn go_type(&self) -> rudder_engine::value::GoType {
        rudder_engine::value::GoType::Named("event.event".into())
    }
    fn member(&self, name: &str) -> Option<rudder_engine::value::Member> {
        use rudder_engine::value::Member;
        match name {
            "Name" => Some(Member::Field(Value::string(self.name.as_str()))),
            "Error" => Some(Member::Field(match &self.error {
                Some(e) => Value::string(e.as_str()),
                None => Value::Object(Arc::new(NilError)),
            })),
            _ => None,
        }
    }
    fn format_v(&self) -> String {
        format!(
            "{{{} {}}}",
            self.name,
            self.error.as_deref().unwrap_or("<nil>")
        )
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A nil `error`: Go's templates print it `<nil>` (a non-empty interface is not unwrapped into
/// an invalid value the way a nil `interface{}` is) and treat it as false.
#[derive(Debug)]
struct NilError;

impl rudder_engine::value::Object for NilError {
    fn go_type(&self) -> rudder_engine::value::GoType {
        rudder_engine::value::GoType::Named("error".into())
    }
    fn member(&self, _name: &str) -> Option<rudder_engine::value::Member> {
        None
    }
    fn format_v(&self) -> String {
        "<nil>".into()
    }
    fn is_nil(&self) -> bool {
        true
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
