//! Helm's rewriting of template errors (pkg/engine/engine.go `cleanupParseError` and
//! `reformatExecErrorMsg`).
//!
//! Go's error values form a chain (`errors.Unwrap`); the engine's errors are flat strings, so the
//! chain is rebuilt from the text: a text/template execution error is
//! `template: LOC: executing "NAME" at <CTX>: MSG`, and when MSG is `error calling FN: ERR` the
//! next link is ERR (Go wraps the function's error with `%w`). Each link of Go's chain appears
//! twice (the `ExecError` and the `fmt` error inside it, with the same text); Helm drops equal
//! neighbours, so one copy per link is enough here.

const WARN_START: &str = "HELM_ERR_START";
const WARN_END: &str = "HELM_ERR_END";

/// `parse error at (LOC): MSG` from a parse error `template: LOC: ...: MSG`.
pub fn cleanup_parse_error(filename: &str, err: &str) -> String {
    let tokens: Vec<&str> = err.split(": ").collect();
    if tokens.len() == 1 {
        return format!("parse error in ({filename}): {err}");
    }
    format!("parse error at ({}): {}", tokens[1], tokens[tokens.len() - 1])
}

#[derive(PartialEq, Eq, Debug, Clone)]
struct Traceable {
    location: String,
    message: String,
    executed_function: String,
}

impl Traceable {
    fn render(&self, out: &mut String) {
        if !self.location.is_empty() {
            out.push_str(&self.location);
            out.push_str("\n  ");
        }
        if !self.executed_function.is_empty() {
            out.push_str(&self.executed_function);
            out.push_str("\n    ");
        }
        if !self.message.is_empty() {
            out.push_str(&self.message);
            out.push('\n');
        }
    }
}

/// Parses one link; also returns the text of the next link of the chain, if any.
fn parse_link(s: &str) -> Option<(Traceable, Option<String>)> {
    let remainder = s.strip_prefix("template: ")?;
    if remainder.starts_with("no template ") {
        return Some((Traceable { location: String::new(), message: s.to_string(), executed_function: String::new() }, None));
    }
    // Executing form.
    if let Some((template_name, after)) = remainder.split_once(": executing ") {
        if let Some(after) = after.strip_prefix('"') {
            if let Some(end_quote) = after.find('"') {
                let function_name = &after[..end_quote];
                let after_func = &after[end_quote + 1..];
                if let Some(after_at) = after_func.strip_prefix(" at <") {
                    if let Some((location_name, err_msg)) = after_at.split_once(">: ") {
                        let next = next_link(err_msg);
                        let mut msg = err_msg;
                        if let Some(cut) = msg.find(" template:") {
                            msg = &msg[..cut];
                        }
                        return Some((
                            Traceable {
                                location: template_name.to_string(),
                                message: msg.to_string(),
                                executed_function: format!("executing \"{function_name}\" at <{location_name}>:"),
                            },
                            next,
                        ));
                    }
                }
            }
            return None;
        }
        return None;
    }
    // Simple form.
    if let Some(sep) = remainder.rfind(": ") {
        let template_name = &remainder[..sep];
        let mut msg = &remainder[sep + 2..];
        let next = next_link(msg);
        if let Some(cut) = msg.find(" template:") {
            msg = &msg[..cut];
        }
        return Some((
            Traceable { location: template_name.to_string(), message: msg.to_string(), executed_function: String::new() },
            next,
        ));
    }
    None
}

/// The wrapped error inside `error calling FN: ERR`.
fn next_link(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("error calling ")?;
    let (_, inner) = rest.split_once(": ")?;
    Some(inner.to_string())
}

/// Helm's `reformatExecErrorMsg` for an execution error of template `filename`.
pub fn reformat_exec_error(filename: &str, err: &str) -> String {
    if !err.starts_with("template: ") {
        // Not a text/template ExecError: returned as it is.
        return err.to_string();
    }
    let tokens: Vec<&str> = err.splitn(3, ": ").collect();
    if tokens.len() != 3 {
        return format!("execution error in ({filename}): {err}");
    }
    let location = tokens[1];
    if let Some(start) = tokens[2].find(WARN_START) {
        let body = &tokens[2][start + WARN_START.len()..];
        if let Some(end) = body.rfind(WARN_END) {
            return format!("execution error at ({location}): {}", &body[..end]);
        }
    }
    let mut links: Vec<Traceable> = Vec::new();
    let mut current = Some(err.to_string());
    while let Some(cur) = current {
        match parse_link(&cur) {
            Some((tr, next)) => {
                if links.last() != Some(&tr) {
                    links.push(tr);
                }
                current = next;
            }
            None => return err.to_string(),
        }
    }
    let mut out = String::new();
    for l in &links {
        l.render(&mut out);
    }
    out.trim_matches(crate::manifest::split::go_is_space).to_string()
}
