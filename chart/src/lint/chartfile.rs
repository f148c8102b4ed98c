//! Chart.yaml rules (Helm: pkg/chart/v2/lint/rules/chartfile.go).

use rudder_engine::Value;

use super::{Linter, Severity};
use crate::metadata;
use crate::model::Metadata;
use crate::values::options::go_errno_text;

/// `rules.Chartfile`.
pub fn chartfile(linter: &mut Linter) {
    let file = "Chart.yaml";
    let path = linter.chart_dir.join(file);
    let is_dir = std::fs::metadata(&path).map(|m| m.is_dir()).unwrap_or(false);
    linter.rule(Severity::Error, file, if is_dir { Err("should be a file, not a directory".into()) } else { Ok(()) });

    let loaded = std::fs::read(&path)
        .map_err(|e| format!("read {}: {}", path.display(), go_errno_text(&e)))
        .and_then(|data| {
            let text = String::from_utf8_lossy(&data).into_owned();
            let doc = rudder_engine::yaml::from_yaml(&text)?;
            let mut md = Metadata::default();
            metadata::decode_metadata(&doc, &mut md)?;
            Ok((md, doc))
        });
    let (md, doc) = match loaded {
        Ok(x) => x,
        Err(e) => {
            linter.rule(Severity::Error, file, Err(format!("unable to parse YAML\n\t{e}")));
            return;
        }
    };
    if let Some(field) = first_unknown_field(&doc) {
        linter.rule(
            Severity::Warning,
            file,
            Err(format!(
                "failed to strictly parse chart metadata file\n\terror unmarshaling JSON: while decoding JSON: json: unknown field \"{field}\""
            )),
        );
    }
    linter.rule(Severity::Error, file, validate_name(&md));
    linter.rule(Severity::Error, file, validate_api_version(&md));
    linter.rule(Severity::Error, file, string_typed(&doc, "version"));
    linter.rule(Severity::Error, file, validate_version(&md));
    linter.rule(Severity::Error, file, string_typed(&doc, "appVersion"));
    linter.rule(Severity::Error, file, validate_maintainers(&md));
    linter.rule(Severity::Error, file, validate_sources(&md));
    linter.rule(Severity::Info, file, if md.icon.is_empty() { Err("icon is recommended".into()) } else { Ok(()) });
    linter.rule(
        Severity::Error,
        file,
        if !md.icon.is_empty() && !is_request_url(&md.icon) { Err(format!("invalid icon URL '{}'", md.icon)) } else { Ok(()) },
    );
    linter.rule(
        Severity::Error,
        file,
        if !md.chart_type.is_empty() && md.api_version != "v2" {
            Err(format!("chart type is not valid in apiVersion '{}'. It is valid in apiVersion 'v2'", md.api_version))
        } else {
            Ok(())
        },
    );
    linter.rule(
        Severity::Error,
        file,
        if !md.dependencies.is_empty() && md.api_version != "v2" {
            Err(format!(
                "dependencies are not valid in the Chart file with apiVersion '{}'. They are valid in apiVersion 'v2'",
                md.api_version
            ))
        } else {
            Ok(())
        },
    );
    linter.rule(
        Severity::Warning,
        file,
        match rudder_engine::semver::Version::parse_strict(&md.version) {
            Ok(_) => Ok(()),
            Err(_) => Err(format!("version '{}' is not a valid SemVerV2", md.version)),
        },
    );
}

/// The first field `yaml.UnmarshalStrict` into `Metadata` rejects: encoding/json with
/// `DisallowUnknownFields` walks the JSON object (keys sorted) depth first.
fn first_unknown_field(doc: &Value) -> Option<String> {
    const TOP: &[&str] = &[
        "name", "home", "sources", "version", "description", "keywords", "maintainers", "icon", "apiVersion",
        "condition", "tags", "appVersion", "deprecated", "annotations", "kubeVersion", "dependencies", "type",
    ];
    const MAINT: &[&str] = &["name", "email", "url"];
    const DEP: &[&str] = &["name", "version", "repository", "condition", "tags", "enabled", "import-values", "alias"];
    let known = |names: &[&str], k: &str| names.iter().any(|n| n.eq_ignore_ascii_case(k));
    let Value::Map(m) = doc else { return None };
    for (k, v) in m.read().iter() {
        if !known(TOP, k) {
            return Some(k.to_string());
        }
        let sub: Option<&[&str]> = if k.eq_ignore_ascii_case("maintainers") {
            Some(MAINT)
        } else if k.eq_ignore_ascii_case("dependencies") {
            Some(DEP)
        } else {
            None
        };
        if let (Some(names), Value::List(l)) = (sub, v) {
            for item in &l.items {
                if let Value::Map(im) = item {
                    for ik in im.read().keys() {
                        if !known(names, ik) {
                            return Some(ik.to_string());
                        }
                    }
                }
            }
        }
    }
    None
}

/// Go's `%T` of a value decoded by sigs.k8s.io/yaml into `interface{}`.
fn go_type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil | Value::Missing => "<nil>",
        Value::Bool(_) => "bool",
        Value::String(_) => "string",
        Value::Map(_) => "map[string]interface {}",
        Value::List(_) => "[]interface {}",
        Value::Int(..) => "int64",
        _ => "float64",
    }
}

fn string_typed(doc: &Value, key: &str) -> Result<(), String> {
    let Value::Map(m) = doc else { return Ok(()) };
    match m.get(key) {
        None => Ok(()),
        Some(v) => {
            let t = go_type_name(&v);
            if t == "string" {
                Ok(())
            } else {
                Err(format!("{key} should be of type string but it's of type {t}"))
            }
        }
    }
}

/// Go's `filepath.Base` on Unix.
fn go_base(p: &str) -> &str {
    if p.is_empty() {
        return ".";
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/";
    }
    t.rsplit('/').next().unwrap_or(t)
}

fn validate_name(md: &Metadata) -> Result<(), String> {
    if md.name.is_empty() {
        return Err("name is required".into());
    }
    if go_base(&md.name) != md.name {
        return Err(format!("chart name {} is invalid", rudder_engine::print::quote(&md.name)));
    }
    Ok(())
}

fn validate_api_version(md: &Metadata) -> Result<(), String> {
    if md.api_version.is_empty() {
        return Err("apiVersion is required. The value must be either \"v1\" or \"v2\"".into());
    }
    if md.api_version != "v1" && md.api_version != "v2" {
        return Err(format!("apiVersion '{}' is not valid. The value must be either \"v1\" or \"v2\"", md.api_version));
    }
    Ok(())
}

fn validate_version(md: &Metadata) -> Result<(), String> {
    if md.version.is_empty() {
        return Err("version is required".into());
    }
    let v = rudder_engine::semver::Version::parse(&md.version).map_err(|_| format!("version '{}' is not a valid SemVer", md.version))?;
    let c = rudder_engine::semver::Constraints::parse(">0.0.0-0").map_err(|e| e.to_string())?;
    match c.validate(&v) {
        Ok(()) => Ok(()),
        Err(msgs) => match msgs.first() {
            Some(m) => Err(format!("version {m}")),
            None => Ok(()),
        },
    }
}

fn validate_maintainers(md: &Metadata) -> Result<(), String> {
    for m in &md.maintainers {
        if m.name.is_empty() {
            return Err("each maintainer requires a name".into());
        }
        if !m.email.is_empty() && !is_email(&m.email) {
            return Err(format!("invalid email '{}' for maintainer '{}'", m.email, m.name));
        }
        if !m.url.is_empty() && !is_url(&m.url) {
            return Err(format!("invalid url '{}' for maintainer '{}'", m.url, m.name));
        }
    }
    Ok(())
}

fn validate_sources(md: &Metadata) -> Result<(), String> {
    for s in &md.sources {
        if s.is_empty() || !is_request_url(s) {
            return Err(format!("invalid source URL '{s}'"));
        }
    }
    Ok(())
}

/// govalidator's `IsRequestURL`: `url.ParseRequestURI` succeeds and there is a scheme.
pub fn is_request_url(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else { return false };
    let scheme_ok = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || s.chars().any(|c| c.is_ascii_control()) {
        return false;
    }
    if let Some(after) = rest.strip_prefix("//") {
        let authority = after.split(['/', '?', '#']).next().unwrap_or("");
        let host = authority.rsplit('@').next().unwrap_or("");
        if host.contains(' ') {
            return false;
        }
    }
    true
}

/// An approximation of govalidator's `IsURL` (its rxURL): an optional scheme, a host that is a
/// DNS name, `localhost` or an IP, an optional port, then a path without spaces.
pub fn is_url(s: &str) -> bool {
    if s.is_empty() || s.len() >= 2083 || s.len() <= 3 || s.starts_with('.') {
        return false;
    }
    let rest = match s.find("://") {
        Some(i) => {
            let scheme = &s[..i];
            if !["http", "https", "ftp", "tcp", "udp", "ws", "wss"].iter().any(|p| scheme.eq_ignore_ascii_case(p)) {
                return false;
            }
            &s[i + 3..]
        }
        None => s,
    };
    if rest.contains(' ') {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = authority.rsplit('@').next().unwrap_or("");
    let host = match hostport.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => h,
        _ => hostport,
    };
    if host.is_empty() || host.starts_with('.') || host.ends_with('-') {
        return false;
    }
    host == "localhost"
        || host.parse::<std::net::IpAddr>().is_ok()
        || (host.contains('.')
            && host.split('.').all(|l| {
                !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_') && !l.starts_with('-')
            }))
}

/// An approximation of govalidator's `IsEmail` (its rxEmail): a dot-atom local part, `@`, and
/// a domain of at least two labels whose last starts and ends with a letter.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else { return false };
    let atom = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || (c as u32) >= 0xa0;
    let local_ok = !local.is_empty() && local.split('.').all(|p| !p.is_empty() && p.chars().all(atom));
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let labels: Vec<&str> = domain.split('.').collect();
    if !local_ok || labels.len() < 2 {
        return false;
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '~' | '_') || (c as u32) >= 0xa0)
            && l.chars().next().is_some_and(|c| c.is_alphanumeric())
            && l.chars().last().is_some_and(|c| c.is_alphanumeric())
    };
    let tld = labels[labels.len() - 1];
    labels.iter().all(|l| label_ok(l))
        && tld.chars().next().is_some_and(|c| c.is_alphabetic())
        && tld.chars().last().is_some_and(|c| c.is_alphabetic())
}
