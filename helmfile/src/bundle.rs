//! The charts a helmfile state needs, for `rudder bundle create -f helmfile.yaml`: every
//! selected, installed release's chart as the other commands would fetch it (repository charts
//! at their `helmfile.lock` version when there is one, OCI charts, absolute chart URLs) and the
//! repository dependencies of its local chart directories (at their `Chart.lock` versions).
//! The archives themselves are fetched and packed by `rudder_repo::bundle`.

use std::collections::BTreeMap;
use std::path::Path;

use rudder_engine::Value;
use rudder_repo::ops::PullOptions;

use crate::commands::{self, Outcome, TemplateOpts};
use crate::{get, str_of, LoadOptions, State};

/// One chart to bundle: the reference and options `rudder_repo::bundle` fetches it with, and
/// the release that needs it (for messages).
#[derive(Clone, Debug)]
pub struct Source {
    pub reference: String,
    pub options: PullOptions,
    pub release: String,
}

/// What the state needs, and what loading it printed (`helm repo add` lines).
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub log: String,
    pub sources: Vec<Source>,
}

/// The state file `file` (found as helmfile finds it: default `helmfile.yaml` /
/// `helmfile.yaml.gotmpl` or every file of `helmfile.d/` in `cwd`, or `-f FILE|DIR`) loaded
/// with `load` (environment, selectors), and the charts its releases need. The state's
/// repositories are added first (as `helmfile template` adds them) so that `repo/chart`
/// references resolve through their indexes. Errors are helmfile's texts.
pub fn plan(
    file: Option<&str>,
    cwd: &Path,
    load: &LoadOptions,
    plain_http: bool,
    offline: bool,
) -> Result<Plan, String> {
    let files = crate::state_files::find(file, cwd, false)?;
    let several = files.len() > 1;
    let mut plan = Plan::default();
    for file in &files {
        let one = plan_file(file, cwd, several, load, plain_http, offline)?;
        plan.log.push_str(&one.log);
        plan.sources.extend(one.sources);
    }
    Ok(plan)
}

/// [`plan`] for one state file. Of several (`helmfile.d`), each is loaded as the other commands
/// load it there (its directory as base directory; skipped without the selected environment).
fn plan_file(file: &str, cwd: &Path, several: bool, load: &LoadOptions, plain_http: bool, offline: bool) -> Result<Plan, String> {
    let (dir, name, label) = crate::state_files::split(cwd, file);
    let load_one = |lo: &LoadOptions| -> Result<Option<State>, String> {
        if several {
            crate::load_with_base_dir(&cwd.join(file), lo)
        } else {
            crate::load(&name, &dir, lo).map(Some)
        }
    };
    let Some(st) = load_one(load).map_err(|e| format!("in {label}: {e}"))? else { return Ok(Plan::default()) };
    let all = if load.selectors.is_empty() {
        None
    } else {
        let mut lo = load.clone();
        lo.selectors.clear();
        load_one(&lo).ok().flatten()
    };
    let o = TemplateOpts {
        label,
        oci_plain_http: plain_http,
        offline,
        skip_needs: true,
        ..TemplateOpts::default()
    };
    let mut out = Outcome::default();
    let plans = commands::deploy_plan(&st, all.as_ref(), &o, &mut out)
        .map_err(|()| out.stderr.trim_end().to_string())?;
    let mut sources = Vec::new();
    for p in &plans {
        for r in p.releases.iter().filter(|r| commands::is_desired(r)) {
            release_sources(p.st, r, plain_http, offline, &mut sources)?;
        }
    }
    Ok(Plan {
        log: out.stderr,
        sources,
    })
}

fn release_sources(
    st: &State,
    rel: &BTreeMap<String, Value>,
    plain_http: bool,
    offline: bool,
    out: &mut Vec<Source>,
) -> Result<(), String> {
    let release = str_of(&get(rel, "name"));
    let chart = str_of(&get(rel, "chart"));
    let version = str_of(&get(rel, "version"));
    let version = version.split('@').next().unwrap_or("").to_string();
    let base = PullOptions {
        plain_http,
        offline,
        ..Default::default()
    };
    let mut push = |reference: String, options: PullOptions| {
        out.push(Source {
            reference,
            options,
            release: release.clone(),
        })
    };
    if chart.is_empty() {
        return Ok(());
    }
    let local = if Path::new(&chart).is_absolute() {
        Path::new(&chart).to_path_buf()
    } else {
        st.base_dir.join(&chart)
    };
    if local.is_dir() {
        for (reference, options) in local_dependencies(&local, &base)
            .map_err(|e| format!("release {release:?}: chart {chart:?}: {e}"))?
        {
            push(reference, options);
        }
        return Ok(());
    }
    if let Some((reference, _, v)) = crate::charts::oci_reference(st, rel) {
        let v = v.split('@').next().unwrap_or("").to_string();
        push(
            reference,
            PullOptions {
                version: v,
                ..base.clone()
            },
        );
        return Ok(());
    }
    push(chart, PullOptions { version, ..base });
    Ok(())
}

/// The repository dependencies of a local chart directory: `Chart.lock` (or
/// `requirements.lock`) versions when locked, the `Chart.yaml` constraints otherwise.
/// `file://` dependencies live beside the chart and are not fetched.
fn local_dependencies(
    dir: &Path,
    base: &PullOptions,
) -> Result<Vec<(String, PullOptions)>, String> {
    let read = |f: &str| -> Result<Option<Value>, String> {
        match std::fs::read_to_string(dir.join(f)) {
            Ok(t) => rudder_engine::yaml::from_yaml(&t)
                .map(Some)
                .map_err(|e| format!("{f}: {e}")),
            Err(_) => Ok(None),
        }
    };
    let deps_of = |v: &Option<Value>| -> Vec<BTreeMap<String, Value>> {
        let Some(v) = v else { return vec![] };
        let m: BTreeMap<String, Value> = crate::map_entries(v).into_iter().collect();
        crate::list_items(&get(&m, "dependencies"))
            .iter()
            .map(|d| crate::map_entries(d).into_iter().collect())
            .collect()
    };
    let meta = match read("Chart.yaml")? {
        Some(v) => Some(v),
        None => return Ok(vec![]),
    };
    let mut declared = deps_of(&meta);
    declared.extend(deps_of(&read("requirements.yaml")?));
    let mut locked = deps_of(&read("Chart.lock")?);
    locked.extend(deps_of(&read("requirements.lock")?));
    let repos = rudder_repo::RepoFile::load_or_default(
        &rudder_repo::paths::HelmPaths::from_env().repository_config,
    )
    .unwrap_or_default();
    let mut out = Vec::new();
    for d in &declared {
        let name = str_of(&get(d, "name"));
        let mut repository = str_of(&get(d, "repository"));
        if repository.is_empty() || repository.starts_with("file://") {
            continue;
        }
        // `@name` / `alias:name`: a repository of repositories.yaml.
        if let Some(alias) = repository
            .strip_prefix('@')
            .or_else(|| repository.strip_prefix("alias:"))
        {
            match repos.get(alias) {
                Some(e) => repository = e.url.clone(),
                None => return Err(format!("no repository definition for {repository}")),
            }
        }
        let version = locked
            .iter()
            .find(|l| {
                str_of(&get(l, "name")) == name
                    && str_of(&get(l, "repository")) == str_of(&get(d, "repository"))
            })
            .map(|l| str_of(&get(l, "version")))
            .unwrap_or_else(|| str_of(&get(d, "version")));
        if repository.starts_with("oci://") {
            out.push((
                format!("{}/{name}", repository.trim_end_matches('/')),
                PullOptions {
                    version,
                    ..base.clone()
                },
            ));
        } else {
            out.push((
                name,
                PullOptions {
                    version,
                    repo_url: repository,
                    ..base.clone()
                },
            ));
        }
    }
    Ok(out)
}
