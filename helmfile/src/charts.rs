//! helmfile v1.8.0's chart commands: `deps` (pkg/app/run.go `Deps`, pkg/state/state.go
//! `UpdateDeps`: `helm dependency update` of each desired release's local chart, then the
//! state's repository charts resolved into `helmfile.lock`, see [`crate::lockfile`]) and
//! `fetch` (`pull` in pkg/app/app.go: each chart under
//! `OUTPUT/[NAMESPACE/][KUBECONTEXT/]NAME/CHART/(VERSION|latest)` or `--output-dir-template`:
//! local charts copied and their dependencies built there, repository charts `helm fetch
//! --untar`ed, OCI charts `helm pull --untar`ed, at their locked versions). helm's work runs
//! in-process through `rudder_repo`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rudder_engine::Value;

use crate::commands::{self, Outcome, TemplateOpts};
use crate::{get, str_of, State};

fn helm_binary(st: &State) -> String {
    match str_of(&get(&st.spec, "helmBinary")) {
        b if b.is_empty() => "helm".to_string(),
        b => b,
    }
}

/// `helmfile deps`.
pub fn deps(root: &State, all: Option<&State>, o: &TemplateOpts) -> Outcome {
    let mut out = Outcome::default();
    // Deps adds the repositories unless --skip-repos (--skip-deps has no say here).
    let plan_opts = TemplateOpts {
        skip_deps: o.skip_repos,
        ..o.clone()
    };
    let Ok(plans) = commands::deploy_plan_unlocked(root, all, &plan_opts, &mut out) else {
        return out;
    };
    let paths = rudder_repo::paths::HelmPaths::from_env();
    for p in &plans {
        let st = p.st;
        // UpdateDeps goes through the releases as written (selected, to be installed).
        let mut rels: Vec<BTreeMap<String, Value>> = p
            .releases
            .iter()
            .filter(|r| commands::is_desired(r))
            .cloned()
            .collect();
        let file: Vec<String> = st.releases().iter().map(crate::dag::release_id).collect();
        rels.sort_by_key(|r| file.iter().position(|id| *id == crate::dag::release_id(r)));
        let mut errs = Vec::new();
        for r in &rels {
            let chart = str_of(&get(r, "chart"));
            // helmfile checks the chart as written against its working directory: a
            // helmfile.d of several files is not changed into (st.cwd empty), so relative
            // charts are not found there and skipped.
            let dir = st.cwd.join(&chart);
            if chart.is_empty() || !dir.is_dir() || !dir.join("Chart.yaml").is_file() {
                continue;
            }
            out.stderr
                .push_str(&format!("Updating dependency {chart}\n"));
            let mut log = String::new();
            let res = rudder_repo::deps::update(
                &paths,
                &dir,
                &rudder_repo::deps::DepOptions::default(),
                &mut log,
            );
            out.stderr.push_str(&log);
            if let Err(e) = res {
                let args = vec!["dependency".to_string(), "update".into(), chart.clone()];
                errs.push(crate::render::exit_error_for(
                    &helm_binary(st),
                    &args,
                    &log,
                    &format!("Error: {e}\n"),
                ));
            }
        }
        if !errs.is_empty() {
            commands::fail_with(&mut out, &p.prefix, &errs);
            return out;
        }
        let mut log = String::new();
        let res = crate::lockfile::update(st, o.oci_plain_http, &helm_binary(st), &mut log);
        out.stderr.push_str(&log);
        match res {
            Ok(true) => {}
            Ok(false) => out.stderr.push_str("There are no repositories defined in your helmfile.yaml.\nThis means helmfile cannot update your dependencies or create a lock file.\nSee https://github.com/roboll/helmfile/issues/878 for more information.\n"),
            Err(e) => {
                commands::fail_with(&mut out, &p.prefix, &[format!("unable to update deps: {e}")]);
                return out;
            }
        }
    }
    out
}

/// Go's filepath.Clean of a joined path, as helmfile spells chart paths.
fn clean(p: &Path) -> String {
    rudder_engine::funcs::helmfile::clean(p)
        .to_string_lossy()
        .into_owned()
}

/// Copies the directory `from` to `to` (otiai10/copy: contents, symlinks as links).
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let ft = e.file_type()?;
        if ft.is_symlink() {
            let target = std::fs::read_link(&src)?;
            let _ = std::fs::remove_file(&dst);
            std::os::unix::fs::symlink(target, &dst)?;
        } else if ft.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// `helmfile fetch [--output-dir DIR]`: local charts only (remote ones are an error).
pub fn fetch(root: &State, all: Option<&State>, o: &TemplateOpts) -> Outcome {
    let mut out = Outcome::default();
    let Ok(plans) = commands::deploy_plan(root, all, o, &mut out) else {
        return out;
    };
    let (dir, temp) = match &o.output_dir {
        Some(d) if !d.is_empty() => (d.clone(), None),
        _ => {
            let t = std::env::temp_dir().join(format!("helmfile{}", std::process::id()));
            (t.to_string_lossy().into_owned(), Some(t))
        }
    };
    let paths = rudder_repo::paths::HelmPaths::from_env();
    // Charts already downloaded in this run, by (chart, version) (helmfile's chart cache).
    let mut fetched: BTreeMap<(String, String), PathBuf> = BTreeMap::new();
    for p in &plans {
        let st = p.st;
        if temp.is_none() {
            out.stderr
                .push_str(&format!("Charts will be downloaded to: {dir}\n"));
        }
        let rels: Vec<BTreeMap<String, Value>> = p
            .releases
            .iter()
            .filter(|r| commands::is_desired(r))
            .cloned()
            .collect();
        if !commands::prepare_hooks(&mut out, st, Some(&rels), "pull", &p.prefix) {
            break;
        }
        let mut errs = Vec::new();
        for r in &rels {
            let chart = str_of(&get(r, "chart"));
            let src = st.base_dir.join(&chart);
            if chart.is_empty() {
                continue;
            }
            if !src.is_dir() {
                let mut log = String::new();
                let res = fetch_remote(st, r, &dir, o, &mut fetched, &mut log);
                out.stderr.push_str(&log);
                if let Err(e) = res {
                    // Only getOCIChart's errors name the release.
                    if crate::charts::oci_reference(st, r).is_some() {
                        errs.push(format!("release {:?}: {e}", str_of(&get(r, "name"))));
                    } else {
                        errs.push(e);
                    }
                    break;
                }
                continue;
            }
            let name = src
                .canonicalize()
                .ok()
                .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_default();
            let shown = match o.output_dir_template.as_deref().filter(|t| !t.is_empty()) {
                Some(t) => match commands::chart_path_template(st, r, t, &name, &dir) {
                    Ok(p) => p,
                    Err(e) => {
                        errs.push(e);
                        break;
                    }
                },
                None => fetch_dir(&dir, r, &name),
            };
            if let Err(e) = copy_dir(&src, &st.cwd.join(&shown)) {
                errs.push(format!("copying {}: {e}", src.display()));
                break;
            }
            let skip = o.skip_deps
                || matches!(get(r, "skipDeps"), Value::Bool(true))
                || (!matches!(get(r, "skipDeps"), Value::Bool(false))
                    && matches!(commands::helm_default(st, "skipDeps"), Value::Bool(true)));
            if skip {
                continue;
            }
            out.stderr.push_str(&format!(
                "Building dependency release={}, chart={shown}\n",
                str_of(&get(r, "name"))
            ));
            let mut log = String::new();
            let res = rudder_repo::deps::build(
                &paths,
                &st.cwd.join(&shown),
                &rudder_repo::deps::DepOptions::default(),
                &mut log,
            );
            out.stderr.push_str(&log);
            if let Err(e) = res {
                let args = vec!["dependency".to_string(), "build".into(), shown.clone()];
                let msg = crate::render::exit_error_for(
                    &helm_binary(st),
                    &args,
                    &log,
                    &format!("Error: {e}\n"),
                );
                errs.push(format!(
                    "building dependencies of local chart {chart:?} for release {:?}: {msg}",
                    str_of(&get(r, "name"))
                ));
                break;
            }
        }
        if !errs.is_empty() {
            // PrepareCharts' errors, printed as Go prints a slice.
            commands::fail_with(&mut out, &p.prefix, &[format!("[{}]", errs.join(" "))]);
            break;
        }
        if !commands::global_cleanup(&mut out, st, "pull", None, &p.prefix) {
            break;
        }
    }
    if let Some(t) = temp {
        let _ = std::fs::remove_dir_all(t);
    }
    out
}

/// An OCI release as helmfile's getOCIQualifiedChartName sees it: (`oci://` reference, chart
/// name, version). `oci://` charts and charts of an `oci: true` repository.
pub(crate) fn oci_reference(
    st: &State,
    rel: &BTreeMap<String, Value>,
) -> Option<(String, String, String)> {
    let chart = str_of(&get(rel, "chart"));
    let version = str_of(&get(rel, "version"));
    if let Some(rest) = chart.strip_prefix("oci://") {
        let name = rest.rsplit('/').next().unwrap_or(rest).to_string();
        return Some((chart.clone(), name, version));
    }
    let (repo, name) = crate::lockfile::remote_chart(st, &chart)?;
    crate::list_items(&get(&st.spec, "repositories"))
        .iter()
        .map(|r| -> BTreeMap<String, Value> { crate::map_entries(r).into_iter().collect() })
        .find(|m| str_of(&get(m, "name")) == repo && matches!(get(m, "oci"), Value::Bool(true)))
        .map(|m| {
            let url = str_of(&get(&m, "url"));
            (format!("oci://{url}/{name}"), name, version)
        })
}

/// A release's directory under the fetch output (DefaultFetchOutputDirTemplate):
/// `OUT/[NAMESPACE/][KUBECONTEXT/]NAME/CHART/(VERSION|latest)`.
fn fetch_dir(out_dir: &str, rel: &BTreeMap<String, Value>, chart_name: &str) -> String {
    let mut target = Path::new(out_dir).to_path_buf();
    for k in ["namespace", "kubeContext"] {
        let v = str_of(&get(rel, k));
        if !v.is_empty() {
            target.push(v);
        }
    }
    target.push(str_of(&get(rel, "name")));
    target.push(chart_name);
    let version = str_of(&get(rel, "version"));
    target.push(if version.is_empty() { "latest" } else { version.as_str() });
    clean(&target)
}

/// `helmfile fetch` of a repository or OCI chart: `helm fetch REPO/CHART --untar --untardir DIR`
/// or `helm pull oci://... --destination DIR --untar`, into the release's directory, beside an
/// empty `DIR.lock` (helmfile's file lock). A chart and version fetched before in this run is
/// not fetched again.
fn fetch_remote(
    st: &State,
    rel: &BTreeMap<String, Value>,
    out_dir: &str,
    o: &TemplateOpts,
    fetched: &mut BTreeMap<(String, String), PathBuf>,
    log: &mut String,
) -> Result<(), String> {
    let chart = str_of(&get(rel, "chart"));
    let version = str_of(&get(rel, "version"));
    let key = (chart.clone(), version.clone());
    if fetched.contains_key(&key) {
        return Ok(());
    }
    let oci = oci_reference(st, rel);
    let chart_name = match &oci {
        Some((_, name, _)) => name.clone(),
        None => chart.clone(),
    };
    let shown = match o.output_dir_template.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => commands::chart_path_template(st, rel, t, &chart_name, out_dir)?,
        None => fetch_dir(out_dir, rel, &chart_name),
    };
    let target = st.cwd.join(&shown);
    let lock = st.cwd.join(format!("{shown}.lock"));
    if let Some(parent) = lock.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            format!("failed to create lock directory {}: {e}", parent.display())
        })?;
    }
    if !lock.exists() {
        std::fs::write(&lock, b"").map_err(|e| format!("{}: {e}", lock.display()))?;
    }
    // A chart already there (a previous fetch) is used as it is.
    let present = std::fs::read_dir(&target)
        .map(|rd| rd.flatten().any(|e| e.path().join("Chart.yaml").is_file()))
        .unwrap_or(false);
    if present {
        fetched.insert(key, target);
        return Ok(());
    }
    let paths = rudder_repo::paths::HelmPaths::from_env();
    let helm = helm_binary(st);
    match oci {
        Some((reference, _, v)) => {
            let qualified = reference.trim_start_matches("oci://");
            let q = if v.is_empty() || chart.contains('@') {
                qualified.to_string()
            } else {
                format!("{qualified}:{v}")
            };
            log.push_str(&format!("Pulling {q}\n"));
            let mut args = vec![
                "pull".to_string(),
                reference.clone(),
                "--destination".into(),
                shown.clone(),
                "--untar".into(),
            ];
            if !v.is_empty() {
                args.extend(["--version".to_string(), v.clone()]);
            }
            if o.oci_plain_http {
                args.push("--plain-http".into());
            }
            let opts = rudder_repo::ops::PullOptions {
                version: v.clone(),
                untar: true,
                destination: target.clone(),
                plain_http: o.oci_plain_http,
                offline: o.offline,
                ..Default::default()
            };
            std::fs::create_dir_all(&target).map_err(|e| e.to_string())?;
            let pulled = rudder_repo::ops::pull(&paths, &reference, &opts).map_err(|e| {
                crate::render::exit_error_for(&helm, &args, "", &format!("Error: {e}\n"))
            })?;
            let r = rudder_repo::oci::Reference::parse(&reference).map_err(|e| e.to_string())?;
            let tag = if v.is_empty() { pulled.version.clone() } else { v.clone() };
            log.push_str(&format!(
                "Pulled: {}/{}:{tag}\nDigest: {}\n",
                r.registry, r.repository, pulled.manifest
            ));
        }
        None => {
            log.push_str(&format!("Fetching {}\n", commands::redacted(&chart)));
            let mut args = vec!["fetch".to_string(), chart.clone()];
            if !version.is_empty() {
                args.extend(["--version".to_string(), version.clone()]);
            }
            args.extend(["--untar".to_string(), "--untardir".into(), shown.clone()]);
            let opts = rudder_repo::ops::PullOptions {
                version: version.clone(),
                untar: true,
                destination: st.cwd.clone(),
                untar_dir: target.clone(),
                offline: o.offline,
                ..Default::default()
            };
            rudder_repo::ops::pull(&paths, &chart, &opts).map_err(|e| {
                crate::render::exit_error_for(&helm, &args, "", &format!("Error: {e}\n"))
            })?;
        }
    }
    fetched.insert(key, target);
    Ok(())
}
