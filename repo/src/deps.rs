//! `helm dependency update|build|list` (pkg/downloader/manager.go, internal/resolver,
//! pkg/action/dependency.go): Chart.lock / requirements.lock with Helm's digest, `file://`,
//! OCI and HTTP dependencies, unmanaged repositories (`helm-manager-<sha256>`), `--skip-refresh`,
//! and `--offline` (no repository refresh, archives from the content cache only).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rudder_chart::model::{Chart, Dependency, Lock};
use rudder_engine::semver::{Constraints, Version};
use serde_json::Value as J;

use crate::index::IndexFile;
use crate::repofile::{Entry, RepoFile};
use crate::{Error, HelmPaths, PullOptions, Result};

/// Flags of `helm dependency update|build`.
#[derive(Clone, Debug, Default)]
pub struct DepOptions {
    pub skip_refresh: bool,
    pub offline: bool,
    pub username: String,
    pub password: String,
    pub cert_file: String,
    pub key_file: String,
    pub ca_file: String,
    pub insecure_skip_tls_verify: bool,
    pub plain_http: bool,
    /// `--debug`: Helm's extra lines (`Archiving … from repo …`).
    pub debug: bool,
    /// The registry client's `Pulled:`/`Digest:` lines go to stderr (as under `helm template`)
    /// instead of the manager's output.
    pub oci_lines_to_stderr: bool,
}

const MANAGER_PREFIX: &str = "helm-manager-";

fn json_str(s: &str) -> String {
    let mut out = String::new();
    rudder_engine::json::write_string(&mut out, s, true);
    out
}

/// `json.Marshal(*chart.Dependency)`: Go's field order and `omitempty`s.
fn go_dep_json(d: &Dependency) -> Result<String> {
    let mut o = vec![format!("\"name\":{}", json_str(&d.name))];
    if !d.version.is_empty() {
        o.push(format!("\"version\":{}", json_str(&d.version)));
    }
    o.push(format!("\"repository\":{}", json_str(&d.repository)));
    if !d.condition.is_empty() {
        o.push(format!("\"condition\":{}", json_str(&d.condition)));
    }
    if !d.tags.is_empty() {
        let t: Vec<String> = d.tags.iter().map(|t| json_str(t)).collect();
        o.push(format!("\"tags\":[{}]", t.join(",")));
    }
    if d.enabled {
        o.push("\"enabled\":true".into());
    }
    if !d.import_values.is_empty() {
        let iv = rudder_engine::json::to_json(&rudder_engine::Value::list(d.import_values.clone())).map_err(Error::new)?;
        o.push(format!("\"import-values\":{iv}"));
    }
    if !d.alias.is_empty() {
        o.push(format!("\"alias\":{}", json_str(&d.alias)));
    }
    Ok(format!("{{{}}}", o.join(",")))
}

fn go_deps_json(ds: &[Dependency]) -> Result<String> {
    let items: Vec<String> = ds.iter().map(go_dep_json).collect::<Result<_>>()?;
    Ok(format!("[{}]", items.join(",")))
}

/// Go: `resolver.HashReq(req, lock)`: sha256 of `json.Marshal([2][]*Dependency{req, lock})`.
pub fn hash_req(req: &[Dependency], lock: &[Dependency]) -> Result<String> {
    let data = format!("[{},{}]", go_deps_json(req)?, go_deps_json(lock)?);
    Ok(format!("sha256:{}", crate::sha256_hex(data.as_bytes())))
}

/// Go: `resolver.HashV2Req(req)` (requirements.lock written by Helm 2).
pub fn hash_v2_req(req: &[Dependency]) -> Result<String> {
    let data = format!("{{\"dependencies\":{}}}", go_deps_json(req)?);
    Ok(format!("sha256:{}", crate::sha256_hex(data.as_bytes())))
}

/// A dependency as a JSON value (for `yaml.Marshal` of a lock; key order does not matter there).
pub fn dependency_json(d: &Dependency) -> Result<J> {
    serde_json::from_str(&go_dep_json(d)?).map_err(|e| Error::new(e.to_string()))
}

fn constraint(d: &Dependency) -> Result<Constraints> {
    Constraints::parse(&d.version)
        .map_err(|e| Error::new(format!("dependency {:?} has an invalid version/constraint format: {e}", d.name)))
}

/// Go: `resolver.GetLocalPath`.
fn local_path(repo: &str, chart_path: &Path) -> Result<PathBuf> {
    let p = repo.strip_prefix("file://").unwrap_or(repo);
    let dep = if p.starts_with('/') {
        PathBuf::from(crate::paths::go_clean(p))
    } else {
        PathBuf::from(crate::paths::go_join(&[&chart_path.display().to_string(), p]))
    };
    match std::fs::metadata(&dep) {
        Ok(_) => Ok(dep),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::new(format!("directory {} not found", dep.display()))),
        Err(e) => Err(Error::new(format!("stat {}: {}", dep.display(), crate::io_msg(&e)))),
    }
}

fn load_dir(p: &Path) -> Result<Chart> {
    rudder_chart::load::load_dir(p).map_err(|e| Error::new(e.to_string()))
}

/// Go: `Manager.loadChartDir`.
fn load_chart_dir(chart_path: &Path) -> Result<Chart> {
    let shown = chart_path.display();
    let md = std::fs::metadata(chart_path)
        .map_err(|e| Error::new(format!("could not find {shown}: stat {shown}: {}", crate::io_msg(&e))))?;
    if !md.is_dir() {
        return Err(Error::new("only unpacked charts can be updated"));
    }
    rudder_chart::load(chart_path).map_err(|e| Error::new(e.to_string()))
}

fn load_repo_config(paths: &HelmPaths) -> Result<RepoFile> {
    match std::fs::read_to_string(&paths.repository_config) {
        Ok(t) => RepoFile::parse(&t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RepoFile::default()),
        Err(e) => Err(Error::new(format!(
            "couldn't load repositories file ({0}): open {0}: {1}",
            paths.repository_config.display(),
            crate::io_msg(&e)
        ))),
    }
}

fn is_oci(s: &str) -> bool {
    s.starts_with("oci://")
}

/// Go: `Manager.resolveRepoNames`: dependency name → repository name; `@name` / `alias:name`
/// are replaced by the repository's URL in `deps`.
fn resolve_repo_names(paths: &HelmPaths, chart_path: &Path, deps: &mut [Dependency]) -> Result<BTreeMap<String, String>> {
    let rf = load_repo_config(paths)?;
    let mut names = BTreeMap::new();
    let mut missing = Vec::new();
    for dd in deps.iter_mut() {
        if dd.repository.is_empty() {
            continue;
        }
        if dd.repository.starts_with("file://") {
            local_path(&dd.repository, chart_path)?;
            names.insert(dd.name.clone(), dd.repository.clone());
            continue;
        }
        if is_oci(&dd.repository) {
            names.insert(dd.name.clone(), dd.repository.clone());
            continue;
        }
        let mut found = false;
        for r in &rf.repositories {
            let alias = dd.repository.strip_prefix('@').or_else(|| dd.repository.strip_prefix("alias:"));
            if alias == Some(r.name.as_str()) {
                dd.repository = r.url.clone();
                names.insert(dd.name.clone(), r.name.clone());
                found = true;
                break;
            } else if crate::ops::urls_equal_pub(&r.url, &dd.repository) {
                names.insert(dd.name.clone(), r.name.clone());
                found = true;
                break;
            }
        }
        if !found {
            // Go's url.ParseRequestURI: an absolute URL or an absolute path.
            if reqwest::Url::parse(&dd.repository).is_ok() || dd.repository.starts_with('/') {
                names.insert(dd.repository.clone(), dd.repository.clone());
                continue;
            }
            missing.push(dd.repository.clone());
        }
    }
    if !missing.is_empty() {
        let mut msg = format!("no repository definition for {}. Please add them via 'helm repo add'", missing.join(", "));
        if missing.iter().any(|r| !r.contains("//") && !r.starts_with('@') && !r.starts_with("alias:")) {
            msg.push_str("\nNote that repositories must be URLs or aliases. For example, to refer to the \"example\"\nrepository, use \"https://charts.example.com/\" or \"@example\" instead of\n\"example\". Don't forget to add the repo, too ('helm repo add').");
        }
        return Err(Error::new(msg));
    }
    Ok(names)
}

/// Go: `Manager.parallelRepoUpdate`: failures are reported in the output, not returned.
fn parallel_repo_update(paths: &HelmPaths, repos: &[Entry], out: &mut String) {
    let mut seen: BTreeMap<String, &Entry> = BTreeMap::new();
    for r in repos {
        seen.insert(r.url.trim_end_matches('/').to_string(), r);
    }
    let unique: Vec<&Entry> = seen.into_values().collect();
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let hs: Vec<_> = unique
            .iter()
            .map(|r| s.spawn(|| crate::ops::download_index_file(r, &paths.repository_cache).map(|_| ())))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(Error::new("update thread panicked")))).collect()
    });
    for (r, res) in unique.iter().zip(results) {
        let managed = !r.name.starts_with(MANAGER_PREFIX);
        match (res, managed) {
            (Ok(()), true) => out.push_str(&format!("...Successfully got an update from the {:?} chart repository\n", r.name)),
            (Ok(()), false) => out.push_str(&format!("...Successfully got an update from the {:?} chart repository\n", r.url)),
            (Err(e), true) => out.push_str(&format!(
                "...Unable to get an update from the {:?} chart repository ({}):\n\t{e}\n",
                r.name, r.url
            )),
            (Err(e), false) => {
                out.push_str(&format!("...Unable to get an update from the {:?} chart repository:\n\t{e}\n", r.url))
            }
        }
    }
}

/// Go: `Manager.UpdateRepositories`.
fn update_repositories(paths: &HelmPaths, out: &mut String) -> Result<()> {
    let rf = load_repo_config(paths)?;
    if !rf.repositories.is_empty() {
        out.push_str("Hang tight while we grab the latest from your chart repositories...\n");
        parallel_repo_update(paths, &rf.repositories, out);
        out.push_str("Update Complete. ⎈Happy Helming!⎈\n");
    }
    Ok(())
}

/// Go: `Manager.ensureMissingRepos`.
fn ensure_missing_repos(
    paths: &HelmPaths,
    mut names: BTreeMap<String, String>,
    deps: &[Dependency],
    opts: &DepOptions,
    out: &mut String,
) -> BTreeMap<String, String> {
    let mut ru = Vec::new();
    for dd in deps {
        if dd.repository.is_empty() || names.contains_key(&dd.name) {
            continue;
        }
        let rn = format!("{MANAGER_PREFIX}{}", crate::sha256_hex(dd.repository.as_bytes()));
        names.insert(dd.name.clone(), rn.clone());
        ru.push(Entry { name: rn, url: dd.repository.clone(), ..Entry::default() });
    }
    if !opts.skip_refresh && !opts.offline && !ru.is_empty() {
        out.push_str("Getting updates for unmanaged Helm repositories...\n");
        parallel_repo_update(paths, &ru, out);
    }
    names
}

fn pull_opts(opts: &DepOptions) -> PullOptions {
    PullOptions {
        username: opts.username.clone(),
        password: opts.password.clone(),
        cert_file: opts.cert_file.clone(),
        key_file: opts.key_file.clone(),
        ca_file: opts.ca_file.clone(),
        insecure_skip_tls_verify: opts.insecure_skip_tls_verify,
        plain_http: opts.plain_http,
        offline: opts.offline,
        ..PullOptions::default()
    }
}

/// OCI tags of `<repository>/<name>` (offline: the versions recorded in the reference map).
fn oci_tags(paths: &HelmPaths, repository: &str, name: &str, opts: &DepOptions) -> Result<Vec<String>> {
    let base = format!("{}/{name}", repository.trim_end_matches('/'));
    if opts.offline {
        let refs = crate::cache::load_refs(paths);
        return Ok(refs.get(&base).map(|l| l.iter().map(|e| crate::oci::version_to_tag(&e.version)).collect()).unwrap_or_default());
    }
    let r = crate::oci::Reference::parse(&base)?;
    let po = pull_opts(opts);
    let creds = if !po.username.is_empty() || !po.password.is_empty() {
        Some((po.username.clone(), po.password.clone()))
    } else {
        crate::oci::credentials(paths, &r.registry)
    };
    let mut reg = crate::oci::Registry::new(&r.registry, po.plain_http, creds, &po)?;
    reg.tags(&r.repository)
}

/// Go: `resolver.Resolve`.
fn resolve(
    paths: &HelmPaths,
    chart_path: &Path,
    reqs: &[Dependency],
    names: &BTreeMap<String, String>,
    opts: &DepOptions,
) -> Result<Lock> {
    let mut locked: Vec<Dependency> = Vec::new();
    let mut missing = Vec::new();
    for d in reqs {
        let c = constraint(d)?;
        let miss = || format!("{:?} (repository {:?}, version {:?})", d.name, d.repository, d.version);
        if d.repository.is_empty() {
            local_path(&format!("charts/{}", d.name), chart_path)?;
            locked.push(Dependency { name: d.name.clone(), version: d.version.clone(), ..Dependency::default() });
            continue;
        }
        if d.repository.starts_with("file://") {
            let p = local_path(&d.repository, chart_path)?;
            let ch = load_dir(&p)?;
            let Ok(v) = Version::parse(&ch.metadata.version) else { continue };
            if !c.check(&v) {
                missing.push(miss());
                continue;
            }
            locked.push(Dependency {
                name: d.name.clone(),
                repository: d.repository.clone(),
                version: ch.metadata.version.clone(),
                ..Dependency::default()
            });
            continue;
        }
        let repo_name = names.get(&d.name).cloned().unwrap_or_default();
        if repo_name.is_empty() {
            locked.push(Dependency { name: d.name.clone(), repository: d.repository.clone(), version: d.version.clone(), ..Dependency::default() });
            continue;
        }
        let mut found = true;
        let mut version = String::new();
        let mut candidates: Vec<(String, bool)> = Vec::new(); // (version, has urls)
        if !is_oci(&d.repository) {
            // Go's filepath.Join cleans the name (`oci://h` → `oci:/h`).
            let idx_path = PathBuf::from(crate::paths::go_join(&[
                &paths.repository_cache.display().to_string(),
                &crate::paths::cache_index_file(&repo_name),
            ]));
            match IndexFile::load_chart(&idx_path, &d.name) {
                Ok(idx) => {
                    let vs = idx
                        .entries
                        .get(&d.name)
                        .ok_or_else(|| Error::new(format!("{} chart not found in repo {}", d.name, d.repository)))?;
                    candidates = vs.iter().map(|v| (v.metadata.version.clone(), !v.urls.is_empty())).collect();
                }
                // Offline without the repository's index (a machine seeded by `bundle import`):
                // the versions recorded for this repository and chart, newest first.
                Err(_) if opts.offline && !recorded_versions(paths, &d.repository, &d.name).is_empty() => {
                    candidates = recorded_versions(paths, &d.repository, &d.name).into_iter().map(|v| (v, true)).collect();
                }
                Err(_) if opts.offline => {
                    return Err(crate::cache::offline_miss(
                        &format!("{} (repository {})", d.name, d.repository),
                        &d.version,
                    ))
                }
                Err(e) => {
                    return Err(Error::new(format!(
                        "no cached repository for {repo_name} found. (try 'helm repo update'): {e}"
                    )))
                }
            }
            found = false;
        } else {
            version = d.version.clone();
            if Version::parse(&version).is_ok() {
                candidates.push((version.clone(), true));
            } else {
                let tags = oci_tags(paths, &d.repository, &d.name, opts).map_err(|e| {
                    Error::new(format!("could not retrieve list of tags for repository {}: {e}", d.repository))
                })?;
                // Helm's registry client lists strict semver tags, newest first.
                let mut vs: Vec<(Version, String)> = tags
                    .iter()
                    .filter_map(|t| Version::parse_strict(&t.replace('_', "+")).ok().map(|v| (v, t.replace('_', "+"))))
                    .collect();
                vs.sort_by(|a, b| b.0.compare(&a.0));
                candidates = vs.into_iter().map(|(_, t)| (t, true)).collect();
            }
        }
        let mut lv = version.clone();
        for (ver, has_urls) in &candidates {
            let Ok(v) = Version::parse(ver) else { continue };
            if !has_urls {
                continue;
            }
            if c.check(&v) {
                found = true;
                lv = ver.clone();
                break;
            }
        }
        locked.push(Dependency { name: d.name.clone(), repository: d.repository.clone(), version: lv, ..Dependency::default() });
        if !found {
            missing.push(miss());
        }
    }
    if !missing.is_empty() {
        return Err(Error::new(format!(
            "can't get a valid version for {} subchart(s): {}. Make sure a matching chart version exists in the repo, or change the version constraint in Chart.yaml",
            missing.len(),
            missing.join(", ")
        )));
    }
    let digest = hash_req(reqs, &locked)?;
    Ok(Lock { generated: crate::now_rfc3339(), digest, dependencies: locked })
}

/// Where a dependency's archive comes from.
struct Source {
    /// Chart URL (`oci://…/name:tag` for OCI).
    url: String,
    /// The index digest (HTTP), when known.
    digest: String,
    entry: Option<Entry>,
}

/// Go: `Manager.findChartURL` (configured repositories first, then the unmanaged one's cached
/// index).
fn find_chart_url(
    paths: &HelmPaths,
    name: &str,
    version: &str,
    repo_url: &str,
    repos: &[(Entry, IndexFile)],
) -> Result<Source> {
    if is_oci(repo_url) {
        return Ok(Source { url: format!("{repo_url}/{name}:{version}"), digest: String::new(), entry: None });
    }
    let pick = |idx: &IndexFile| -> Result<(String, String)> {
        let vs = idx.entries.get(name).ok_or_else(|| Error::new("entry not found"))?;
        let ve = vs
            .iter()
            .filter(|v| !v.urls.is_empty())
            .find(|v| version.is_empty() || version_equals(version, &v.metadata.version))
            .ok_or_else(|| Error::new("no matching version"))?;
        Ok((ve.urls[0].clone(), ve.digest.clone()))
    };
    for (e, idx) in repos {
        if !crate::ops::urls_equal_pub(repo_url, &e.url) {
            continue;
        }
        let (u, digest) = pick(idx).map_err(|err| Error::new(format!("could not find : {err}")))?;
        let url = crate::ops::resolve_reference_url(repo_url, &u).map_err(|err| Error::new(format!("could not find {u}: {err}")))?;
        return Ok(Source { url, digest, entry: Some(e.clone()) });
    }
    let rn = format!("{MANAGER_PREFIX}{}", crate::sha256_hex(repo_url.as_bytes()));
    let res = IndexFile::load(&paths.cache_index_file(&rn)).and_then(|idx| pick(&idx)).and_then(|(u, d)| {
        Ok((crate::ops::resolve_reference_url(repo_url, &u)?, d))
    });
    match res {
        Ok((url, digest)) => Ok(Source { url, digest, entry: None }),
        Err(e) => {
            // No index, but the archive is recorded (fetched before, or imported from a bundle):
            // its digest names the content-cache file.
            let key = crate::ops::repo_key(repo_url, name);
            match crate::cache::lookup_ref(paths, &key, version) {
                Some(r) => Ok(Source { url: r.url, digest: r.digest, entry: None }),
                None => Err(Error::new(format!("could not find : chart {name} not found in {repo_url}: {e}"))),
            }
        }
    }
}

/// The versions the reference map records for `name` in the repository at `repo_url`, newest
/// first.
fn recorded_versions(paths: &HelmPaths, repo_url: &str, name: &str) -> Vec<String> {
    let refs = crate::cache::load_refs(paths);
    let mut vs: Vec<(Version, String)> = refs
        .get(&crate::ops::repo_key(repo_url, name))
        .map(|l| l.iter().filter_map(|e| Version::parse(&e.version).ok().map(|v| (v, e.version.clone()))).collect())
        .unwrap_or_default();
    vs.sort_by(|a, b| b.0.compare(&a.0));
    vs.into_iter().map(|(_, v)| v).collect()
}

fn version_equals(a: &str, b: &str) -> bool {
    match Version::parse(a) {
        Err(_) => a == b,
        Ok(x) => Version::parse(b).is_ok_and(|y| x.compare(&y) == std::cmp::Ordering::Equal),
    }
}

/// Go: `tarFromLocalDir`.
fn tar_from_local_dir(chart_path: &Path, d: &Dependency, dest: &Path) -> Result<String> {
    let orig = local_path(&d.repository, chart_path)?;
    let ch = load_dir(&orig)?;
    let c = constraint(d)?;
    let v = Version::parse(&ch.metadata.version).map_err(|e| Error::new(e.to_string()))?;
    if c.check(&v) {
        crate::package::save(&ch, dest)?;
        return Ok(ch.metadata.version.clone());
    }
    Err(Error::new(format!("can't get a valid version for dependency {}", d.name)))
}

/// Go: `Manager.downloadAll`.
fn download_all(paths: &HelmPaths, chart_path: &Path, deps: &mut [Dependency], opts: &DepOptions, out: &mut String) -> Result<()> {
    let rf = load_repo_config(paths)
        .map_err(|e| Error::new(format!("failed to load {}: {e}", paths.repository_config.display())))?;
    let mut repos = Vec::new();
    for e in &rf.repositories {
        repos.push((e.clone(), IndexFile::load(&paths.cache_index_file(&e.name))?));
    }
    let dest = chart_path.join("charts");
    let tmp = chart_path.join(format!("tmpcharts-{}", std::process::id()));
    match std::fs::metadata(&dest) {
        Ok(m) if !m.is_dir() => return Err(Error::new(format!("{:?} is not a directory", dest.display().to_string()))),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&dest).map_err(|e| Error::new(format!("mkdir {}: {}", dest.display(), crate::io_msg(&e))))?
        }
        Err(e) => return Err(Error::new(format!("unable to retrieve file info for '{}': {}", dest.display(), crate::io_msg(&e)))),
    }
    std::fs::create_dir_all(&tmp).map_err(|e| Error::new(format!("mkdir {}: {}", tmp.display(), crate::io_msg(&e))))?;
    struct Cleanup(PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = Cleanup(tmp.clone());
    out.push_str(&format!("Saving {} charts\n", deps.len()));
    let mut save_error: Option<Error> = None;
    let mut seen = std::collections::HashSet::new();
    for dep in deps.iter_mut() {
        if dep.repository.is_empty() {
            out.push_str(&format!(
                "Dependency {} did not declare a repository. Assuming it exists in the charts directory\n",
                dep.name
            ));
            let p = dest.join(&dep.name);
            let ch = load_dir(&p).map_err(|e| Error::new(format!("unable to load chart '{}': {e}", p.display())))?;
            let c = constraint(dep)?;
            let v = Version::parse(&ch.metadata.version).map_err(|e| {
                Error::new(format!("invalid version {} for dependency {}: {e}", dep.version, dep.name))
            })?;
            if !c.check(&v) {
                save_error = Some(Error::new(format!(
                    "dependency {} at version {} does not satisfy the constraint {}",
                    dep.name, ch.metadata.version, dep.version
                )));
                break;
            }
            continue;
        }
        if dep.repository.starts_with("file://") {
            if opts.debug {
                out.push_str(&format!("Archiving {} from repo {}\n", dep.name, dep.repository));
            }
            match tar_from_local_dir(chart_path, dep, &tmp) {
                Ok(v) => dep.version = v,
                Err(e) => {
                    save_error = Some(e);
                    break;
                }
            }
            continue;
        }
        let src = match find_chart_url(paths, &dep.name, &dep.version, &dep.repository, &repos) {
            Ok(s) => s,
            Err(e) => {
                save_error = Some(e);
                break;
            }
        };
        if !seen.insert(src.url.clone()) {
            out.push_str(&format!("Already downloaded {} from repo {}\n", dep.name, dep.repository));
            continue;
        }
        out.push_str(&format!("Downloading {} from repo {}\n", dep.name, dep.repository));
        if let Err(e) = download_one(paths, dep, &src, opts, &tmp, out) {
            save_error = Some(Error::new(format!("could not download {}: {e}", src.url)));
            break;
        }
    }
    if let Some(e) = save_error {
        out.push_str(&format!("Save error occurred:  {e}\n"));
        return Err(e);
    }
    safe_move_deps(deps, &tmp, &dest, out)
}

fn download_one(paths: &HelmPaths, dep: &Dependency, src: &Source, opts: &DepOptions, tmp: &Path, out: &mut String) -> Result<()> {
    let mut po = pull_opts(opts);
    if is_oci(&src.url) {
        let (base, tag) = src.url.rsplit_once(':').unwrap_or((&src.url, ""));
        po.version = tag.to_string();
        let f = crate::ops::fetch(paths, base, &po)?;
        crate::atomic_write(&tmp.join(&f.file_name), &f.data, 0o644)?;
        if !opts.offline {
            let r = crate::oci::Reference::parse(base)?;
            let reference = format!("{}/{}:{}", r.registry, r.repository, crate::oci::version_to_tag(&f.version));
            let lines = format!("Pulled: {reference}\nDigest: {}\n", f.manifest);
            if opts.oci_lines_to_stderr {
                eprint!("{lines}");
            } else {
                out.push_str(&lines);
            }
        }
        return Ok(());
    }
    let want = src.digest.split_once(':').map(|(_, d)| d).unwrap_or(&src.digest).to_ascii_lowercase();
    let file_name = reqwest::Url::parse(&src.url)
        .ok()
        .and_then(|u| u.path().rsplit('/').next().map(str::to_string))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "index.tgz".into());
    if !want.is_empty() {
        if let Some(data) = crate::cache::read_cached(paths, &want) {
            return crate::atomic_write(&tmp.join(&file_name), &data, 0o644);
        }
    }
    if let Some(e) = &src.entry {
        po.username = e.username.clone();
        po.password = e.password.clone();
        po.pass_credentials_all = e.pass_credentials_all;
        po.insecure_skip_tls_verify = e.insecure_skip_tls_verify;
        po.ca_file = e.ca_file.clone();
        po.cert_file = e.cert_file.clone();
        po.key_file = e.key_file.clone();
    }
    let f = crate::ops::fetch(paths, &src.url, &po).map_err(|e| {
        if opts.offline { crate::cache::offline_miss(&dep.name, &dep.version) } else { e }
    })?;
    if !want.is_empty() && f.digest != want {
        return Err(Error::new(format!(
            "digest mismatch for {}: the index says sha256:{want}, the download is sha256:{}",
            src.url, f.digest
        )));
    }
    crate::atomic_write(&tmp.join(&file_name), &f.data, 0o644)
}

fn load_any(p: &Path) -> Result<Chart> {
    rudder_chart::load(p).map_err(|e| Error::new(e.to_string()))
}

fn sorted_entries(dir: &Path) -> Result<Vec<std::fs::DirEntry>> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::new(format!("open {}: {}", dir.display(), crate::io_msg(&e))))?
        .filter_map(|e| e.ok())
        .collect();
    v.sort_by_key(|e| e.file_name());
    Ok(v)
}

/// Go: `Manager.safeMoveDeps`.
fn safe_move_deps(deps: &[Dependency], source: &Path, dest: &Path, out: &mut String) -> Result<()> {
    let src_files = sorted_entries(source)?;
    let dest_files = sorted_entries(dest)?;
    let local: std::collections::HashSet<&str> =
        deps.iter().filter(|d| d.repository.is_empty()).map(|d| d.name.as_str()).collect();
    let mut in_source = std::collections::HashSet::new();
    for f in src_files {
        if f.path().is_dir() {
            continue;
        }
        let name = f.file_name().to_string_lossy().into_owned();
        let sf = source.join(&name);
        in_source.insert(name.clone());
        if let Err(e) = load_any(&sf) {
            out.push_str(&format!("Could not verify {} for moving: {e} (Skipping)", sf.display()));
            continue;
        }
        if let Err(e) = std::fs::rename(&sf, dest.join(&name)) {
            out.push_str(&format!("Unable to move {} to charts dir {} (Skipping)", sf.display(), crate::io_msg(&e)));
        }
    }
    out.push_str("Deleting outdated charts\n");
    for f in dest_files {
        let name = f.file_name().to_string_lossy().into_owned();
        let p = dest.join(&name);
        if p.is_dir() || in_source.contains(&name) {
            continue;
        }
        let ch = match load_any(&p) {
            Ok(c) => c,
            Err(e) => {
                out.push_str(&format!("Could not verify {} for deletion: {e} (Skipping)\n", p.display()));
                continue;
            }
        };
        if local.contains(ch.metadata.name.as_str()) {
            continue;
        }
        if let Err(e) = std::fs::remove_file(&p) {
            out.push_str(&format!("Could not delete {}: {} (Skipping)", p.display(), crate::io_msg(&e)));
        }
    }
    Ok(())
}

/// Go: `writeLock`.
fn write_lock(chart_path: &Path, lock: &Lock, legacy: bool) -> Result<()> {
    let data = crate::package::lock_yaml(lock)?;
    let name = if legacy { "requirements.lock" } else { "Chart.lock" };
    let dest = chart_path.join(name);
    if let Ok(m) = std::fs::symlink_metadata(&dest) {
        if m.file_type().is_symlink() {
            let link = std::fs::read_link(&dest).map(|l| l.display().to_string()).unwrap_or_default();
            return Err(Error::new(format!("the {name} file is a symlink to {link:?}")));
        }
    }
    std::fs::write(&dest, data).map_err(|e| Error::new(format!("open {}: {}", dest.display(), crate::io_msg(&e))))
}

/// `helm dependency update CHART`; Helm's output lines go to `out`.
pub fn update(paths: &HelmPaths, chart_path: &Path, opts: &DepOptions, out: &mut String) -> Result<()> {
    let c = load_chart_dir(chart_path)?;
    let mut req = c.metadata.dependencies.clone();
    if req.is_empty() {
        return Ok(());
    }
    let names = resolve_repo_names(paths, chart_path, &mut req)?;
    let names = ensure_missing_repos(paths, names, &req, opts, out);
    if !opts.skip_refresh && !opts.offline {
        update_repositories(paths, out)?;
    }
    let mut lock = resolve(paths, chart_path, &req, &names, opts)?;
    download_all(paths, chart_path, &mut lock.dependencies, opts, out)?;
    lock.digest = hash_req(&req, &lock.dependencies)?;
    if c.lock.as_ref().is_some_and(|old| old.digest == lock.digest) {
        return Ok(());
    }
    write_lock(chart_path, &lock, c.metadata.api_version == "v1")
}

/// `helm dependency build CHART`: charts/ from the lock file (an update when there is none).
pub fn build(paths: &HelmPaths, chart_path: &Path, opts: &DepOptions, out: &mut String) -> Result<()> {
    let c = load_chart_dir(chart_path)?;
    let Some(lock) = c.lock.clone() else { return update(paths, chart_path, opts, out) };
    let mut req = c.metadata.dependencies.clone();
    let v1 = c.metadata.api_version == "v1";
    let v2sum = if v1 { hash_v2_req(&req)? } else { String::new() };
    resolve_repo_names(paths, chart_path, &mut req)?;
    if hash_req(&req, &lock.dependencies)? != lock.digest {
        if !v1 {
            return Err(Error::new("the lock file (Chart.lock) is out of sync with the dependencies file (Chart.yaml). Please update the dependencies with 'helm dependency update'"));
        }
        eprintln!("{} warning: a valid Helm v3 hash was not found. Checking against Helm v2 hash...", go_log_time());
        if v2sum != lock.digest {
            return Err(Error::new("the lock file (requirements.lock) is out of sync with the dependencies file (requirements.yaml). Please update the dependencies"));
        }
    }
    let rf = load_repo_config(paths)?;
    let missing: Vec<String> = lock
        .dependencies
        .iter()
        .filter(|d| !d.repository.is_empty() && !d.repository.starts_with("file://") && !is_oci(&d.repository))
        .filter(|d| !rf.repositories.iter().any(|r| crate::ops::urls_equal_pub(&r.url, d.repository.trim_end_matches('/'))))
        .map(|d| d.repository.clone())
        .collect();
    if opts.offline {
        // Offline, a locked dependency needs no repository definition, only its archive
        // (recorded when fetched, or imported from a bundle).
        for d in lock.dependencies.iter().filter(|d| missing.contains(&d.repository)) {
            let key = crate::ops::repo_key(&d.repository, &d.name);
            if crate::cache::lookup_ref(paths, &key, &d.version).is_none() {
                return Err(crate::cache::offline_miss(&format!("{} (repository {})", d.name, d.repository), &d.version));
            }
        }
    } else if !missing.is_empty() {
        return Err(Error::new(format!(
            "no repository definition for {}. Please add the missing repos via 'helm repo add'",
            missing.join(", ")
        )));
    }
    if !opts.skip_refresh && !opts.offline {
        update_repositories(paths, out)?;
    }
    let mut deps = lock.dependencies.clone();
    download_all(paths, chart_path, &mut deps, opts, out)
}

fn go_log_time() -> String {
    let now = crate::now_rfc3339();
    // 2006-01-02T15:04:05… → 2006/01/02 15:04:05
    let date = now.get(..10).unwrap_or("").replace('-', "/");
    let time = now.get(11..19).unwrap_or("");
    format!("{date} {time}")
}

/// A gosuri/uitable table as Helm prints it: every cell padded to its column's width (cut to
/// `max` with `...` when `max` > 0), cells joined by a tab.
pub fn table(rows: &[Vec<String>], max: usize) -> String {
    let width = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = Vec::new();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            let mut w = width(c);
            if max > 0 && w > max {
                w = max;
            }
            if widths.len() <= i {
                widths.push(0);
            }
            widths[i] = widths[i].max(w);
        }
    }
    let mut lines = Vec::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let n = widths[i];
                let w = width(c);
                if w > n {
                    let keep: String = c.chars().take(n.saturating_sub(3)).collect();
                    format!("{keep}...")
                } else {
                    format!("{c}{}", " ".repeat(n - w))
                }
            })
            .collect();
        lines.push(cells.join("\t"));
    }
    lines.join("\n")
}

/// `helm dependency list CHART [--max-col-width N]`.
pub fn list(chart_path: &Path, max_col_width: usize) -> Result<String> {
    let c = load_any(chart_path)?;
    let shown = chart_path.display().to_string();
    let charts = crate::paths::go_join(&[&shown, "charts"]);
    if c.metadata.dependencies.is_empty() {
        return Ok(format!("WARNING: no dependencies at {charts}\n"));
    }
    let mut rows = vec![vec!["NAME".to_string(), "VERSION".into(), "REPOSITORY".into(), "STATUS".into()]];
    for d in &c.metadata.dependencies {
        rows.push(vec![d.name.clone(), d.version.clone(), d.repository.clone(), status(&charts, d, &c)]);
    }
    let mut out = table(&rows, max_col_width);
    out.push_str("\n\n");
    // Charts on disk that Chart.yaml does not name.
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&charts)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    entries.sort();
    for f in entries {
        let is_dir = f.is_dir();
        if !is_dir && f.extension().and_then(|e| e.to_str()) != Some("tgz") {
            continue;
        }
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let p = crate::paths::go_join(&[&charts, &name]);
        match load_any(&f) {
            Err(_) => out.push_str(&format!("WARNING: {p:?} is not a chart.\n")),
            Ok(ch) => {
                if !c.metadata.dependencies.iter().any(|d| d.name == ch.metadata.name) {
                    out.push_str(&format!("WARNING: {p:?} is not in Chart.yaml.\n"));
                }
            }
        }
    }
    Ok(out)
}

fn version_status(have: &str, want: &str) -> Option<&'static str> {
    if have == want {
        return None;
    }
    let Ok(c) = Constraints::parse(want) else { return Some("invalid version") };
    let Ok(v) = Version::parse(have) else { return Some("invalid version") };
    (!c.check(&v)).then_some("wrong version")
}

fn archive_status(archive: &Path, d: &Dependency) -> String {
    let Ok(c) = load_any(archive) else { return "corrupt".into() };
    if c.metadata.name != d.name {
        return "misnamed".into();
    }
    version_status(&c.metadata.version, &d.version).unwrap_or("ok").to_string()
}

/// Go: `Dependency.dependencyStatus`.
fn status(charts: &str, d: &Dependency, parent: &Chart) -> String {
    let prefix = format!("{}-", d.name);
    let mut archives: Vec<PathBuf> = std::fs::read_dir(charts)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    n.starts_with(&prefix) && n.ends_with(".tgz")
                })
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    archives.sort();
    if archives.len() > 1 {
        let found: Vec<&PathBuf> = archives
            .iter()
            .filter(|a| {
                let n = a.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let v = n.trim_end_matches(".tgz").strip_prefix(&prefix).unwrap_or("");
                Version::parse_strict(v).is_ok()
            })
            .collect();
        if found.len() == 1 {
            return archive_status(found[0], d);
        } else if found.len() > 1 {
            return "too many matches".into();
        }
    } else if archives.len() == 1 {
        return archive_status(&archives[0], d);
    }
    let Some(dc) = parent.dependencies.iter().rev().find(|c| c.metadata.name == d.name) else {
        return "missing".into();
    };
    version_status(&dc.metadata.version, &d.version).unwrap_or("unpacked").to_string()
}
