//! helmfile v1.8.0's chart commands for local charts: `deps` (pkg/app/run.go `Deps`,
//! pkg/state/state.go `UpdateDeps`: `helm dependency update` of each desired release's local
//! chart) and `fetch` (`pull` in pkg/app/app.go: each local chart copied to
//! `OUTPUT/[NAMESPACE/][KUBECONTEXT/]NAME/CHART/(VERSION|latest)` and its dependencies built
//! there). helm's work runs in-process through `rudder_repo::deps`.

use std::collections::BTreeMap;
use std::path::Path;

use rudder_engine::Value;

use crate::commands::{self, Outcome, TemplateOpts};
use crate::{get, str_of, State};

fn helm_binary(st: &State) -> String {
    match str_of(&get(&st.spec, "helmBinary")) {
        b if b.is_empty() => "helm".to_string(),
        b => b,
    }
}

/// Whether the state names a remote chart of one of its `repositories:` (helmfile then
/// resolves versions into `helmfile.lock`).
fn has_repo_charts(st: &State, rels: &[BTreeMap<String, Value>]) -> bool {
    let repos: Vec<String> = crate::list_items(&get(&st.spec, "repositories"))
        .iter()
        .map(|r| str_of(&get(&crate::map_entries(r).into_iter().collect(), "name")))
        .collect();
    rels.iter().any(|r| {
        let chart = str_of(&get(r, "chart"));
        chart
            .split_once('/')
            .is_some_and(|(repo, _)| repos.iter().any(|n| n == repo))
    })
}

/// `helmfile deps`.
pub fn deps(root: &State, all: Option<&State>, o: &TemplateOpts) -> Outcome {
    let mut out = Outcome::default();
    let Ok(plans) = commands::deploy_plan(root, all, o, &mut out) else {
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
        if has_repo_charts(st, &rels) {
            commands::fail_with(
                &mut out,
                &p.prefix,
                &["rudder's helmfile does not resolve remote chart versions into helmfile.lock yet (helmfile deps with repository charts)".into()],
            );
            return out;
        }
        out.stderr.push_str("There are no repositories defined in your helmfile.yaml.\nThis means helmfile cannot update your dependencies or create a lock file.\nSee https://github.com/roboll/helmfile/issues/878 for more information.\n");
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
            if chart.is_empty() || !src.is_dir() {
                errs.push(format!(
                    "release {:?}: rudder's helmfile fetches local charts only, not {chart:?} yet",
                    str_of(&get(r, "name"))
                ));
                break;
            }
            let name = src
                .canonicalize()
                .ok()
                .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_default();
            let mut target = Path::new(&dir).to_path_buf();
            for k in ["namespace", "kubeContext"] {
                let v = str_of(&get(r, k));
                if !v.is_empty() {
                    target.push(v);
                }
            }
            let version = str_of(&get(r, "version"));
            target.push(str_of(&get(r, "name")));
            target.push(&name);
            target.push(if version.is_empty() {
                "latest"
            } else {
                version.as_str()
            });
            let shown = clean(&target);
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
