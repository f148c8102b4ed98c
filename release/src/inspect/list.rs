//! `helm list` (pkg/cmd/list.go, pkg/action/list.go).
//!
//! Order of operations, as Helm: every record whose name matches `--filter` (a Go RE2 regexp;
//! Rudder uses the `regex` crate, whose syntax is the same RE2 family: Go-only syntax such as
//! `\C` is rejected and error texts differ), then the highest revision of each release (unless
//! only `--superseded` is asked for), the status mask, the label selector, the sort, then
//! `--offset`/`--max`.
//!
//! Helm sorts with Go's unstable `sort.Slice` after collecting the latest revisions in a Go map,
//! so the order of releases that compare equal (the same name in two namespaces; the same
//! second with `--date`) is unspecified there; Rudder breaks such ties by namespace.

use serde::Serialize;

use super::encode::{encode_json, encode_yaml};
use super::selector::Selector;
use super::table::Table;
use super::records::Listed;
use super::{Colors, Format, InspectError, Target};

/// Status bits (`action.ListStates`).
pub const DEPLOYED: u32 = 1;
pub const UNINSTALLED: u32 = 1 << 1;
pub const UNINSTALLING: u32 = 1 << 2;
pub const PENDING_INSTALL: u32 = 1 << 3;
pub const PENDING_UPGRADE: u32 = 1 << 4;
pub const PENDING_ROLLBACK: u32 = 1 << 5;
pub const SUPERSEDED: u32 = 1 << 6;
pub const FAILED: u32 = 1 << 7;
pub const UNKNOWN: u32 = 1 << 8;
/// `ListAll` (note: without `UNKNOWN`, so records with an unknown status never show).
pub const ALL: u32 = DEPLOYED | UNINSTALLED | UNINSTALLING | PENDING_INSTALL | PENDING_ROLLBACK | PENDING_UPGRADE | SUPERSEDED | FAILED;

fn state_bit(status: &str) -> u32 {
    match status {
        "deployed" => DEPLOYED,
        "uninstalled" => UNINSTALLED,
        "superseded" => SUPERSEDED,
        "failed" => FAILED,
        "uninstalling" => UNINSTALLING,
        "pending-install" => PENDING_INSTALL,
        "pending-upgrade" => PENDING_UPGRADE,
        "pending-rollback" => PENDING_ROLLBACK,
        _ => UNKNOWN,
    }
}

/// The flags of `helm list`.
#[derive(Debug, Clone)]
pub struct ListOptions {
    pub all_namespaces: bool,
    pub by_date: bool,
    pub reverse: bool,
    pub deployed: bool,
    pub failed: bool,
    pub pending: bool,
    pub superseded: bool,
    pub uninstalled: bool,
    pub uninstalling: bool,
    /// `--max` (default 256; 0 = no limit).
    pub max: i64,
    pub offset: i64,
    pub filter: String,
    pub selector: String,
    pub short: bool,
    pub no_headers: bool,
    pub time_format: String,
    pub output: Format,
    pub colors: Colors,
}

impl Default for ListOptions {
    fn default() -> Self {
        ListOptions {
            all_namespaces: false,
            by_date: false,
            reverse: false,
            deployed: false,
            failed: false,
            pending: false,
            superseded: false,
            uninstalled: false,
            uninstalling: false,
            max: 256,
            offset: 0,
            filter: String::new(),
            selector: String::new(),
            short: false,
            no_headers: false,
            time_format: String::new(),
            output: Format::Table,
            colors: Colors::default(),
        }
    }
}

impl ListOptions {
    /// `SetStateMask`.
    pub fn state_mask(&self) -> u32 {
        let mut s = 0;
        if self.deployed {
            s |= DEPLOYED;
        }
        if self.uninstalled {
            s |= UNINSTALLED;
        }
        if self.uninstalling {
            s |= UNINSTALLING;
        }
        if self.pending {
            s |= PENDING_INSTALL | PENDING_ROLLBACK | PENDING_UPGRADE;
        }
        if self.failed {
            s |= FAILED;
        }
        if self.superseded {
            s |= SUPERSEDED;
        }
        if s == 0 {
            ALL
        } else {
            s
        }
    }
}

/// Runs `helm list` and returns stdout.
pub async fn run(target: &Target, opts: &ListOptions) -> Result<String, InspectError> {
    let ns = if opts.all_namespaces { "" } else { target.namespace.as_str() };
    let records = target.list_all(ns, !opts.selector.is_empty()).await?;
    let releases = select(records, opts)?;
    render(&releases, opts)
}

/// The action: filter, latest revisions, mask, selector, sort, offset and max.
pub fn select(records: Vec<Listed>, opts: &ListOptions) -> Result<Vec<Listed>, InspectError> {
    let filter = if opts.filter.is_empty() {
        None
    } else {
        if let Some(e) = go_only_rejects(&opts.filter) {
            return Err(InspectError::new(format!("error parsing regexp: {e}")));
        }
        Some(regex::Regex::new(&literal_braces(&opts.filter)).map_err(|e| InspectError::new(regex_error(&e, &opts.filter)))?)
    };
    // There may be thousands of records: they are filtered in place (`retain` moves nothing
    // while all are kept), sorted as a permutation, and only the page shown is moved out.
    let mut rels = records;
    if let Some(f) = &filter {
        rels.retain(|r| f.is_match(&r.name));
    }
    let total = rels.len();
    if total == 0 {
        return Ok(Vec::new());
    }
    let mask = opts.state_mask();
    if mask != SUPERSEDED {
        latest(&mut rels);
    }
    let selector = Selector::parse(&opts.selector).map_err(InspectError::new)?;
    rels.retain(|r| mask & state_bit(&r.status) != 0 && selector.matches(&r.labels));
    let order = sorted_order(&rels, opts);
    let offset = usize::try_from(opts.offset.max(0)).unwrap_or(usize::MAX);
    if offset >= rels.len() {
        return Ok(Vec::new());
    }
    let mut limit = total;
    if opts.max > 0 && (opts.max as usize) < limit {
        limit = opts.max as usize;
    }
    let last = (offset + limit).min(rels.len());
    Ok(order[offset..last].iter().map(|&i| std::mem::take(&mut rels[i])).collect())
}

/// `filterLatestReleases`: keeps the highest revision per namespace/name (of equal ones, the
/// later), in input order.
fn latest(rels: &mut Vec<Listed>) {
    use std::collections::hash_map::Entry;
    let mut keep = vec![false; rels.len()];
    {
        let mut best: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::with_capacity(rels.len());
        for (i, r) in rels.iter().enumerate() {
            match best.entry((r.namespace.as_str(), r.name.as_str())) {
                Entry::Occupied(mut e) => {
                    if rels[*e.get()].revision <= r.revision {
                        e.insert(i);
                    }
                }
                Entry::Vacant(e) => {
                    e.insert(i);
                }
            }
        }
        for i in best.into_values() {
            keep[i] = true;
        }
    }
    let mut i = 0;
    rels.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

/// Helm's sort, as the order of indices into `rels`: by name; `--reverse` by name descending;
/// `--date` by last-deployed Unix second ascending then name (Helm calls that "ByDateDesc"),
/// with `--reverse` the reverse of that; ties on name (and namespace) keep the input order.
fn sorted_order(rels: &[Listed], opts: &ListOptions) -> Vec<usize> {
    let by_name = |a: usize, b: usize| rels[a].name.cmp(&rels[b].name).then_with(|| rels[a].namespace.cmp(&rels[b].namespace));
    let mut order: Vec<usize> = (0..rels.len()).collect();
    if opts.by_date {
        let secs: Vec<_> = rels.iter().map(|r| r.last_deployed().secs).collect();
        order.sort_by(|&a, &b| secs[a].cmp(&secs[b]).then_with(|| by_name(a, b)));
    } else {
        order.sort_by(|&a, &b| by_name(a, b));
    }
    if opts.reverse {
        order.reverse();
    }
    order
}

/// Go's `regexp/syntax` error text for the common mistakes (`error parsing regexp: CODE: `EXPR``);
/// other errors keep the `regex` crate's description after the same prefix.
fn regex_error(e: &regex::Error, pattern: &str) -> String {
    let msg = e.to_string();
    let what = msg
        .lines()
        .rev()
        .find(|l| l.starts_with("error: "))
        .map(|l| l.trim_start_matches("error: ").to_string())
        .unwrap_or(msg);
    let go = match what.as_str() {
        "unclosed group" => format!("missing closing ): `{pattern}`"),
        "unopened group" => format!("unexpected ): `{pattern}`"),
        "unclosed character class" => {
            let at = pattern.rfind('[').unwrap_or(0);
            format!("missing closing ]: `{}`", &pattern[at..])
        }
        "repetition operator missing expression" => {
            let op: String = pattern.chars().take_while(|c| matches!(c, '*' | '+' | '?')).take(2).collect();
            format!("missing argument to repetition operator: `{op}`")
        }
        w if w.starts_with("incomplete escape sequence") => "trailing backslash at end of expression: ``".to_string(),
        w if w.starts_with("invalid repetition count range") || w.starts_with("repetition quantifier") => {
            match (pattern.find('{'), pattern.find('}')) {
                (Some(a), Some(b)) if a < b => format!("invalid repeat count: `{}`", &pattern[a..=b]),
                _ => w.to_string(),
            }
        }
        "unrecognized escape sequence" => {
            let known = "afnrtvdDsSwWbBAzpPxQE0123456789";
            let mut it = pattern.char_indices();
            let mut found = None;
            while let Some((_, c)) = it.next() {
                if c == '\\' {
                    match it.next() {
                        Some((_, e)) if e.is_ascii_alphanumeric() && !known.contains(e) => {
                            found = Some(format!("\\{e}"));
                            break;
                        }
                        _ => {}
                    }
                }
            }
            match found {
                Some(esc) => format!("invalid escape sequence: `{esc}`"),
                None => what.clone(),
            }
        }
        _ => what,
    };
    format!("error parsing regexp: {go}")
}

/// Go reads a `{` that does not start `{n}`, `{n,}` or `{n,m}` as a literal; the `regex`
/// crate rejects it. Escapes those braces.
fn literal_braces(pattern: &str) -> String {
    let b: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len());
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        let c = b[i];
        if c == '\\' {
            out.push(c);
            if let Some(&n) = b.get(i + 1) {
                out.push(n);
            }
            i += 2;
            continue;
        }
        if in_class {
            in_class = c != ']';
        } else if c == '[' {
            in_class = true;
            out.push(c);
            for lead in ['^', ']'] {
                if b.get(i + 1) == Some(&lead) {
                    out.push(lead);
                    i += 1;
                }
            }
            i += 1;
            continue;
        } else if c == '{' && brace_repeat(&b, i).is_none() {
            out.push('\\');
        }
        out.push(c);
        i += 1;
    }
    out
}

/// `{n}`, `{n,}` or `{n,m}` at `i`: its length and whether a count exceeds Go's 1000.
fn brace_repeat(b: &[char], i: usize) -> Option<(usize, bool)> {
    let mut j = i + 1;
    let mut nums = vec![String::new()];
    while j < b.len() && b[j] != '}' {
        match b[j] {
            d @ '0'..='9' => nums.last_mut()?.push(d),
            ',' if nums.len() == 1 => nums.push(String::new()),
            _ => return None,
        }
        j += 1;
    }
    if j >= b.len() || nums[0].is_empty() {
        return None;
    }
    let too_big = nums.iter().any(|n| !n.is_empty() && n.parse::<u64>().map_or(true, |v| v > 1000));
    Some((j - i + 1, too_big))
}

/// What Go's parser rejects but the `regex` crate accepts: a repetition operator applied to a
/// repetition (`a**`, `a+*`, `a{2}*`) and counts above 1000. The message after
/// `error parsing regexp: `.
fn go_only_rejects(pattern: &str) -> Option<String> {
    let b: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    let mut last_rep: Option<usize> = None;
    while i < b.len() {
        let c = b[i];
        if c == '\\' {
            i += 2;
            last_rep = None;
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            }
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                // `[]...]` and `[^]...]`: a leading `]` is literal.
                if b.get(i + 1) == Some(&'^') {
                    i += 1;
                }
                if b.get(i + 1) == Some(&']') {
                    i += 1;
                }
                last_rep = None;
            }
            '{' if brace_repeat(&b, i).is_some() => {
                let (len, too_big) = brace_repeat(&b, i).unwrap_or((1, false));
                let end = i + len - 1;
                if too_big {
                    return Some(format!("invalid repeat count: `{}`", b[i..=end].iter().collect::<String>()));
                }
                if let Some(start) = last_rep {
                    return Some(format!("invalid nested repetition operator: `{}`", b[start..=end].iter().collect::<String>()));
                }
                let start = i;
                i = end;
                if b.get(i + 1) == Some(&'?') {
                    i += 1;
                }
                last_rep = Some(start);
                i += 1;
                continue;
            }
            '*' | '+' | '?' => {
                if let Some(start) = last_rep {
                    return Some(format!("invalid nested repetition operator: `{}`", b[start..=i].iter().collect::<String>()));
                }
                let start = i;
                if b.get(i + 1) == Some(&'?') {
                    i += 1; // non-greedy marker belongs to this operator
                }
                last_rep = Some(start);
                i += 1;
                continue;
            }
            _ => last_rep = None,
        }
        i += 1;
    }
    None
}

/// `releaseElement`.
#[derive(Serialize)]
struct Element {
    name: String,
    namespace: String,
    revision: String,
    updated: String,
    status: String,
    chart: String,
    app_version: String,
}

/// The output of `helm list` for the selected releases.
pub fn render(rels: &[Listed], opts: &ListOptions) -> Result<String, InspectError> {
    if opts.short {
        let names: Vec<&str> = rels.iter().map(|r| r.name.as_str()).collect();
        return match opts.output {
            Format::Json => encode_json(&names),
            Format::Yaml => encode_yaml(&names),
            Format::Table => Ok(names.iter().map(|n| format!("{n}\n")).collect()),
        };
    }
    let elements: Vec<Element> = rels
        .iter()
        .map(|r| {
            let t = r.last_deployed();
            let updated = if t.is_zero() {
                "-".to_string()
            } else if !opts.time_format.is_empty() {
                t.format(&opts.time_format)
            } else {
                t.string()
            };
            Element {
                name: r.name.clone(),
                namespace: r.namespace.clone(),
                revision: r.revision.to_string(),
                updated,
                status: r.status.clone(),
                chart: r.chart_name(),
                app_version: r.app_version(),
            }
        })
        .collect();
    match opts.output {
        Format::Json => encode_json(&elements),
        Format::Yaml => encode_yaml(&elements),
        Format::Table => {
            let c = opts.colors;
            let mut t = Table::new();
            if !opts.no_headers {
                t.add_row(["NAME", "NAMESPACE", "REVISION", "UPDATED", "STATUS", "CHART", "APP VERSION"].map(|h| c.header(h)));
            }
            for e in elements {
                t.add_row([e.name, c.namespace(&e.namespace), e.revision, e.updated, c.status(&e.status), e.chart, e.app_version]);
            }
            Ok(t.encode())
        }
    }
}
