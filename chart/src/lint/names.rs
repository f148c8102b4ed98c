//! Kubernetes object-name rules the linter applies per kind (Helm: `validateMetadataName`, over
//! k8s.io/apimachinery's validation functions and their messages).

fn is_label(s: &str, first_alpha: bool) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && if first_alpha { b[0].is_ascii_lowercase() } else { b[0] != b'-' }
        && b[b.len() - 1] != b'-'
}

fn is_subdomain(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(|l| is_label(l, false))
}

const LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";

fn dns1123_subdomain(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 253 {
        errs.push("must be no more than 253 bytes".to_string());
    }
    if !is_subdomain(name) {
        errs.push(format!(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '{LABEL_FMT}(\\.{LABEL_FMT})*')"
        ));
    }
    errs
}

fn dns1123_label(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 63 {
        errs.push("must be no more than 63 bytes".to_string());
    }
    if !is_label(name, false) {
        if is_subdomain(name) {
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(format!(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '{LABEL_FMT}')"
            ));
        }
    }
    errs
}

fn dns1035_label(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 63 {
        errs.push("must be no more than 63 bytes".to_string());
    }
    if !is_label(name, true) {
        errs.push("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".to_string());
    }
    errs
}

fn path_segment(name: &str) -> Vec<String> {
    if name == "." || name == ".." {
        return vec![format!("may not be '{name}'")];
    }
    ["/", "%"].iter().filter(|c| name.contains(**c)).map(|c| format!("may not contain '{c}'")).collect()
}

/// The messages for `name` under the rule for `kind` (empty: valid).
pub fn name_errors(kind: &str, name: &str) -> Vec<String> {
    match kind.to_ascii_lowercase().as_str() {
        "service" => dns1035_label(name),
        "namespace" => dns1123_label(name),
        "certificatesigningrequest" => Vec::new(),
        "role" | "clusterrole" | "rolebinding" | "clusterrolebinding" => path_segment(name),
        _ => dns1123_subdomain(name),
    }
}

/// `validateMetadataName`'s error: the `field.ErrorList` aggregate (duplicates dropped; one
/// error as itself, several in brackets).
pub fn validate_metadata_name(kind: &str, name: &str) -> Result<(), String> {
    let mut msgs: Vec<String> = Vec::new();
    for m in name_errors(kind, name) {
        let e = format!("metadata.name: Invalid value: {}: {m}", rudder_engine::print::quote(name));
        if !msgs.contains(&e) {
            msgs.push(e);
        }
    }
    if msgs.is_empty() {
        return Ok(());
    }
    let agg = if msgs.len() == 1 { msgs.remove(0) } else { format!("[{}]", msgs.join(", ")) };
    Err(format!(
        "object name does not conform to Kubernetes naming requirements: {}: {agg}",
        rudder_engine::print::quote(name)
    ))
}
