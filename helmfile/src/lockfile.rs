//! `helmfile.lock`: the versions of a state's repository charts, as helmfile v1.8.0 keeps them
//! (pkg/state/chart_dependency.go). `helmfile deps` writes a throwaway chart whose dependencies
//! are the state's `repo/chart` releases, runs `helm dependency update` on it (in-process,
//! through `rudder_repo::deps`) and keeps the resulting `Chart.lock`, sorted by name and
//! deduplicated; every other command then pins each such release to the locked version that
//! satisfies its `version:` constraint.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rudder_engine::Value;

use crate::{get, list_items, map_entries, str_of, State};

/// One `repo/chart` release as a dependency of the throwaway chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved {
    pub name: String,
    pub repository: String,
    /// The release's version constraint (`*` when it has none).
    pub version: String,
    pub alias: String,
}

/// A locked chart version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Locked {
    pub name: String,
    pub repository: String,
    pub version: String,
}

/// The state's `repositories:` by name: (url, oci).
fn repositories(st: &State) -> BTreeMap<String, (String, bool)> {
    list_items(&get(&st.spec, "repositories"))
        .iter()
        .map(|r| {
            let m: BTreeMap<String, Value> = map_entries(r).into_iter().collect();
            (
                str_of(&get(&m, "name")),
                (
                    str_of(&get(&m, "url")),
                    matches!(get(&m, "oci"), Value::Bool(true)),
                ),
            )
        })
        .collect()
}

/// helmfile's resolveRemoteChart: `repo/chart` that is neither a local path nor a URL.
pub(crate) fn remote_chart(st: &State, chart: &str) -> Option<(String, String)> {
    if chart.is_empty() || chart.contains("://") || st.base_dir.join(chart).is_dir() {
        return None;
    }
    if chart.starts_with('/') || chart.starts_with("./") || chart.starts_with("../") {
        return None;
    }
    chart
        .split_once('/')
        .map(|(r, c)| (r.to_string(), c.to_string()))
}

/// The state's `repo/chart` releases whose repository the state defines (getUnresolvedDependencies),
/// grouped by chart name as helmfile's map holds them (iterated here in name order).
pub fn unresolved(st: &State) -> Vec<Unresolved> {
    let repos = repositories(st);
    let mut by_name: BTreeMap<String, Vec<Unresolved>> = BTreeMap::new();
    for r in st.releases() {
        let Some((repo, mut chart)) = remote_chart(st, &str_of(&get(&r, "chart"))) else {
            continue;
        };
        let Some((url, oci)) = repos.get(&repo) else {
            continue;
        };
        let mut url = url.clone();
        if *oci {
            // The chart's path prefix joins the repository URL; the name is its last segment.
            let base = format!("oci://{url}");
            url = match chart.rfind('/') {
                Some(i) => format!("{}/{}", base.trim_end_matches('/'), &chart[..i]),
                None => base,
            };
            chart = chart.rsplit('/').next().unwrap_or(&chart).to_string();
        }
        let version = match str_of(&get(&r, "version")) {
            v if v.is_empty() => "*".to_string(),
            v => v,
        };
        by_name.entry(chart.clone()).or_default().push(Unresolved {
            name: chart,
            repository: url,
            version,
            alias: format!(
                "{}-{}",
                str_of(&get(&r, "namespace")),
                str_of(&get(&r, "name"))
            ),
        });
    }
    by_name.into_values().flatten().collect()
}

/// The state file's name without `.gotmpl`, `.yaml`, `.yml` (the lock's and the chart's name).
fn base_name(st: &State) -> String {
    let f = Path::new(&st.file_path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let f = f.strip_suffix(".gotmpl").unwrap_or(&f);
    let f = f.strip_suffix(".yaml").unwrap_or(f);
    f.strip_suffix(".yml").unwrap_or(f).to_string()
}

/// Where the state's lock lives: `lockFilePath:` (relative to the state's directory), else
/// `<name>.lock` beside the state file.
pub fn lock_path(st: &State) -> PathBuf {
    match str_of(&get(&st.spec, "lockFilePath")) {
        p if !p.is_empty() => st.base_dir.join(p),
        _ => st.base_dir.join(format!("{}.lock", base_name(st))),
    }
}

/// A string as go-yaml v3 writes it: plain when that reads back as the same string, else
/// double-quoted (timestamps too: v3 would read them back as times).
fn scalar(s: &str) -> String {
    use rudder_engine::yaml::{plain_kind, PlainKind};
    let b = s.as_bytes();
    let timestamp = b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit);
    let special = s.is_empty()
        || s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` ".contains(c))
        || s.ends_with(' ')
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.chars().any(|c| c.is_control());
    if !timestamp && !special && plain_kind(s) == PlainKind::Str {
        return s.to_string();
    }
    let mut out = String::new();
    rudder_engine::json::write_string(&mut out, s, false);
    out
}

/// The locked entries of a lock file's text (`dependencies:`) and its other fields.
fn parse_lock(text: &str) -> Result<(Vec<Locked>, String, String), String> {
    let v = rudder_engine::yaml::from_yaml(text)?;
    let m: BTreeMap<String, Value> = map_entries(&v).into_iter().collect();
    let deps = list_items(&get(&m, "dependencies"))
        .iter()
        .map(|d| {
            let d: BTreeMap<String, Value> = map_entries(d).into_iter().collect();
            Locked {
                name: str_of(&get(&d, "name")),
                repository: str_of(&get(&d, "repository")),
                version: str_of(&get(&d, "version")),
            }
        })
        .collect();
    Ok((
        deps,
        str_of(&get(&m, "digest")),
        str_of(&get(&m, "generated")),
    ))
}

/// helmfile's ChartLockedRequirements as go-yaml v3 (indent 2) writes it.
fn lock_yaml(deps: &[Locked], digest: &str, generated: &str) -> String {
    let mut out = format!("version: {}\n", scalar(crate::HELMFILE_VERSION));
    if deps.is_empty() {
        out.push_str("dependencies: []\n");
    } else {
        out.push_str("dependencies:\n");
        for d in deps {
            out.push_str(&format!(
                "  - name: {}\n    repository: {}\n    version: {}\n",
                scalar(&d.name),
                scalar(&d.repository),
                scalar(&d.version)
            ));
        }
    }
    out.push_str(&format!(
        "digest: {}\ngenerated: {}\n",
        scalar(digest),
        scalar(generated)
    ));
    out
}

/// The throwaway chart's Chart.yaml (helmfile's text: metadata, then the dependencies).
fn chart_yaml(name: &str, deps: &[Unresolved]) -> String {
    let mut out = format!("name: {name}\nversion: 1.0.0\napiVersion: v2\ndependencies:\n");
    for d in deps {
        out.push_str(&format!(
            "    - name: {}\n      repository: {}\n      version: {}\n      alias: {}\n",
            scalar(&d.name),
            scalar(&d.repository),
            scalar(&d.version),
            scalar(&d.alias)
        ));
    }
    out
}

/// A fresh directory under the temp dir, named as Go's os.MkdirTemp names them.
fn temp_dir() -> std::io::Result<PathBuf> {
    let base = std::env::temp_dir();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64 ^ d.as_secs())
        .unwrap_or(1)
        ^ u64::from(std::process::id()) << 20;
    loop {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let d = base.join(format!("{}", (seed >> 33) % 4_000_000_000));
        match std::fs::create_dir(&d) {
            Ok(()) => return Ok(d),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// `helmfile deps` for one state's repository charts: `helmfile.lock` rewritten from a fresh
/// `helm dependency update`. Logs to `log`; the error is helmfile's text after
/// `unable to update deps: `. `Ok(false)` when the state has no repository charts.
pub fn update(st: &State, plain_http: bool, helm: &str, log: &mut String) -> Result<bool, String> {
    let deps = unresolved(st);
    if deps.is_empty() {
        return Ok(false);
    }
    let groups = {
        let mut names: Vec<&str> = deps.iter().map(|d| d.name.as_str()).collect();
        names.dedup();
        names.len()
    };
    let dir = temp_dir().map_err(|e| format!("unable to create dir: {e}"))?;
    let res = (|| -> Result<(), String> {
        std::fs::write(dir.join("Chart.yaml"), chart_yaml(&base_name(st), &deps))
            .map_err(|e| e.to_string())?;
        let lock = lock_path(st);
        if let Ok(old) = std::fs::read(&lock) {
            std::fs::write(dir.join("Chart.lock"), old).map_err(|e| e.to_string())?;
        }
        log.push_str(&format!("Updating dependency {}\n", dir.display()));
        let paths = rudder_repo::paths::HelmPaths::from_env();
        let opts = rudder_repo::deps::DepOptions {
            plain_http,
            offline: rudder_repo::cache::offline_from_env(),
            ..Default::default()
        };
        let mut out = String::new();
        let res = rudder_repo::deps::update(&paths, &dir, &opts, &mut out);
        log.push_str(&out);
        if let Err(e) = res {
            let mut args = vec![
                "dependency".to_string(),
                "update".into(),
                dir.display().to_string(),
            ];
            if plain_http {
                args.push("--plain-http".into());
            }
            let err = crate::render::exit_error_for(helm, &args, &out, &format!("Error: {e}\n"));
            return Err(format!("unable to update {groups} deps: {err}"));
        }
        let text = std::fs::read_to_string(dir.join("Chart.lock")).map_err(|e| e.to_string())?;
        let (mut locked, digest, generated) = parse_lock(&text)?;
        locked.sort_by(|a, b| a.name.cmp(&b.name));
        let mut seen = std::collections::HashSet::new();
        locked.retain(|d| seen.insert((d.name.clone(), d.repository.clone(), d.version.clone())));
        let yaml = lock_yaml(&locked, &digest, &generated);
        rudder_repo::atomic_write(&lock, yaml.as_bytes(), 0o644).map_err(|e| e.to_string())?;
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    res.map(|()| true)
}

/// The lock's versions of this state (`None` without a lock file, or when the state has no
/// repository charts).
pub fn read(st: &State) -> Result<Option<Vec<Locked>>, String> {
    if unresolved(st).is_empty() {
        return Ok(None);
    }
    let path = lock_path(st);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("unable to resolve deps: {}: {e}", path.display())),
    };
    parse_lock(&text)
        .map(|(d, _, _)| Some(d))
        .map_err(|e| format!("unable to resolve deps: {e}"))
}

/// helmfile's mergeLockedDependencies for one release: the locked version satisfying the
/// release's constraint, for `repo/chart` releases of a repository the state defines.
pub fn pinned(
    st: &State,
    locked: &[Locked],
    rel: &BTreeMap<String, Value>,
) -> Result<Option<String>, String> {
    let Some((repo, chart)) = remote_chart(st, &str_of(&get(rel, "chart"))) else {
        return Ok(None);
    };
    let repos = repositories(st);
    let Some((_, oci)) = repos.get(&repo) else {
        return Ok(None);
    };
    let look = if *oci {
        chart.rsplit('/').next().unwrap_or(&chart).to_string()
    } else {
        chart.clone()
    };
    let constraint = match str_of(&get(rel, "version")) {
        v if v.is_empty() => "*".to_string(),
        v => v,
    };
    let find = |name: &str| -> Result<Option<String>, String> {
        use rudder_engine::semver::{Constraints, Version};
        for d in locked.iter().filter(|d| d.name == name) {
            let c = Constraints::parse(&constraint).map_err(|e| e.to_string())?;
            let v = Version::parse(&d.version).map_err(|e| e.to_string())?;
            if c.check(&v) {
                return Ok(Some(d.version.clone()));
            }
        }
        Ok(None)
    };
    let mut found = find(&look)?;
    if found.is_none() && *oci && look != chart {
        found = find(&chart)?;
    }
    found.map(Some).ok_or_else(|| {
        format!("no resolved dependency found for \"{look}\", running \"helmfile deps\" may resolve the issue")
    })
}

/// The releases with their locked versions applied (helmfile's ResolveDeps before preparing
/// charts).
pub fn apply(
    st: &State,
    rels: Vec<BTreeMap<String, Value>>,
) -> Result<Vec<BTreeMap<String, Value>>, String> {
    let Some(locked) = read(st)? else {
        return Ok(rels);
    };
    rels.into_iter()
        .map(|mut r| {
            if let Some(v) = pinned(st, &locked, &r)? {
                r.insert("version".into(), Value::string(v.as_str()));
            }
            Ok(r)
        })
        .collect()
}
