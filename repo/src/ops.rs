//! `helm repo add`, `helm repo update`, `helm pull` for HTTP repositories
//! (pkg/cmd/repo_add.go, repo_update.go, pkg/repo/v1/chartrepo.go, pkg/downloader).

use std::path::{Path, PathBuf};

use crate::http::{self, GetOptions};
use crate::index::{effective_version, IndexFile};
use crate::paths::{cache_charts_file, cache_index_file, HelmPaths};
use crate::repofile::{Entry, RepoFile};
use crate::{atomic_write, Error, Result};

/// Go: `repo.ResolveReferenceURL(base, ref)`.
pub fn resolve_reference_url(base: &str, reference: &str) -> Result<String> {
    if let Ok(u) = reqwest::Url::parse(reference) {
        let _ = u;
        return Ok(reference.to_string());
    }
    let mut b = reqwest::Url::parse(base).map_err(|e| Error::new(format!("failed to parse {base} as URL: {e}")))?;
    let query = b.query().map(str::to_string);
    let p = format!("{}/", b.path().trim_end_matches('/'));
    b.set_path(&p);
    let mut r = b.join(reference).map_err(|e| Error::new(format!("failed to parse {reference} as URL: {e}")))?;
    r.set_query(query.as_deref());
    Ok(r.to_string())
}

/// Go: `ChartRepository.DownloadIndexFile`: fetch `<url>/index.yaml`, check it loads, then
/// write `<name>-charts.txt` and `<name>-index.yaml` into `cache` atomically. Nothing is
/// written when the fetch or the load fails.
pub fn download_index_file(entry: &Entry, cache: &Path) -> Result<(PathBuf, IndexFile)> {
    let index_url = resolve_reference_url(&entry.url, "index.yaml")?;
    let data = http::get(&index_url, &GetOptions::for_entry(entry))?;
    let idx = IndexFile::parse(&data, &entry.url)?;
    atomic_write(&cache.join(cache_charts_file(&entry.name)), idx.charts_txt().as_bytes(), 0o644)?;
    let fname = cache.join(cache_index_file(&entry.name));
    atomic_write(&fname, &data, 0o644)?;
    idx.print_warnings();
    if let Some(c) = crate::index_cache::cache_path(&fname, &crate::sha256_hex(&data)) {
        crate::index_cache::write(&c, &idx, &entry.url);
    }
    Ok((fname, idx))
}

/// `helm repo add NAME URL [flags]`: returns Helm's success line.
pub fn repo_add(paths: &HelmPaths, entry: Entry, force_update: bool) -> Result<String> {
    let repo_file = &paths.repository_config;
    let mut f = RepoFile::load_or_default(repo_file)?;
    if entry.name.contains('/') {
        return Err(Error::new(format!(
            "repository name ({}) contains '/', please specify a different name without '/'",
            entry.name
        )));
    }
    if !force_update {
        if let Some(existing) = f.get(&entry.name) {
            if *existing != entry {
                return Err(Error::new(format!(
                    "repository name ({}) already exists, please specify a different name",
                    entry.name
                )));
            }
            return Ok(format!("{:?} already exists with the same configuration, skipping", entry.name));
        }
    }
    download_index_file(&entry, &paths.repository_cache).map_err(|e| {
        Error::new(format!("looks like {:?} is not a valid chart repository or cannot be reached: {e}", entry.url))
    })?;
    let name = entry.name.clone();
    // A missing file is a zero `repo.File`: like helm, Rudder then writes `apiVersion: ""` and a
    // zero `generated`.
    f.update(entry);
    f.write(repo_file)?;
    Ok(format!("{name:?} has been added to your repositories"))
}

/// `helm repo update [NAME...]`: all repositories (or the named ones) concurrently. Helm's
/// output lines go to `out`.
pub fn repo_update(paths: &HelmPaths, names: &[&str], out: &mut String) -> Result<()> {
    let f = match RepoFile::load(&paths.repository_config) {
        Err(_) if !paths.repository_config.exists() => {
            return Err(Error::new("no repositories found. You must add one before updating"))
        }
        Err(e) => return Err(Error::new(format!("failed loading file: {}: {e}", paths.repository_config.display()))),
        Ok(f) if f.repositories.is_empty() => {
            return Err(Error::new("no repositories found. You must add one before updating"))
        }
        Ok(f) => f,
    };
    for n in names {
        if !f.has(n) {
            return Err(Error::new(format!("no repositories found matching '{n}'.  Nothing will be updated")));
        }
    }
    let repos: Vec<&Entry> =
        f.repositories.iter().filter(|r| names.is_empty() || names.contains(&r.name.as_str())).collect();
    out.push_str("Hang tight while we grab the latest from your chart repositories...\n");
    let results: Vec<(&Entry, Result<()>)> = std::thread::scope(|s| {
        let handles: Vec<_> = repos
            .iter()
            .map(|r| {
                let cache = paths.repository_cache.clone();
                s.spawn(move || download_index_file(r, &cache).map(|_| ()))
            })
            .collect();
        repos
            .iter()
            .zip(handles)
            .map(|(r, h)| (*r, h.join().unwrap_or_else(|_| Err(Error::new("update thread panicked")))))
            .collect()
    });
    let mut failed = Vec::new();
    for (r, res) in results {
        match res {
            Ok(()) => out.push_str(&format!("...Successfully got an update from the {:?} chart repository\n", r.name)),
            Err(e) => {
                out.push_str(&format!(
                    "...Unable to get an update from the {:?} chart repository ({}):\n\t{e}\n",
                    r.name, r.url
                ));
                failed.push(r.url.clone());
            }
        }
    }
    if !failed.is_empty() {
        return Err(Error::new(format!("failed to update the following repositories: [{}]", failed.join(" "))));
    }
    out.push_str("Update Complete. ⎈Happy Helming!⎈\n");
    Ok(())
}

/// Go: `urlutil.Equal`: both parse and have the same scheme, host and cleaned path (a trailing
/// slash aside), query and fragment.
pub(crate) fn urls_equal_pub(a: &str, b: &str) -> bool {
    urls_equal(a, b)
}

fn urls_equal(a: &str, b: &str) -> bool {
    match (reqwest::Url::parse(a), reqwest::Url::parse(b)) {
        (Ok(x), Ok(y)) => {
            let p = |u: &reqwest::Url| crate::paths::go_clean(u.path()).trim_end_matches('/').to_string();
            x.scheme() == y.scheme()
                && x.host_str() == y.host_str()
                && x.port_or_known_default() == y.port_or_known_default()
                && p(&x) == p(&y)
                && x.query() == y.query()
                && x.fragment() == y.fragment()
        }
        _ => a == b,
    }
}

/// `helm repo remove NAME...`: drops the entries and their cache files; one line per name.
pub fn repo_remove(paths: &HelmPaths, names: &[&str]) -> Result<String> {
    let mut f = match RepoFile::load(&paths.repository_config) {
        Ok(f) if !f.repositories.is_empty() => f,
        Ok(_) => return Err(Error::new("no repositories configured")),
        Err(_) if !paths.repository_config.exists() => return Err(Error::new("no repositories configured")),
        Err(e) => return Err(e),
    };
    let mut out = String::new();
    for name in names {
        if !f.remove(name) {
            return Err(Error::new(format!("no repo named {name:?} found")));
        }
        f.write(&paths.repository_config)?;
        let _ = std::fs::remove_file(paths.cache_charts_file(name));
        let idx = paths.cache_index_file(name);
        match std::fs::remove_file(&idx) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::new(format!("can't remove index file {}: {}", idx.display(), crate::io_msg(&e))))
            }
        }
        out.push_str(&format!("{name:?} has been removed from your repositories\n"));
    }
    Ok(out)
}

/// Options of `helm pull`.
#[derive(Clone, Debug, Default)]
pub struct PullOptions {
    /// `--version` (a version or a constraint).
    pub version: String,
    /// `--devel`: with no `--version`, accept prereleases (`>0.0.0-0`).
    pub devel: bool,
    /// `--destination` (default `.`).
    pub destination: PathBuf,
    /// `--repo URL`: look the chart up in this repository instead of a configured one.
    pub repo_url: String,
    pub username: String,
    pub password: String,
    pub pass_credentials_all: bool,
    pub cert_file: String,
    pub key_file: String,
    pub ca_file: String,
    pub insecure_skip_tls_verify: bool,
    /// `--plain-http` (OCI).
    pub plain_http: bool,
    /// `--untar`: expand the chart instead of keeping the archive.
    pub untar: bool,
    /// `--untardir` (default `.`, relative to the destination).
    pub untar_dir: PathBuf,
    /// `--offline` / `RUDDER_OFFLINE=1`: resolve from the caches only, never touch the network.
    pub offline: bool,
}

/// What a pull wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pulled {
    pub path: PathBuf,
    pub version: String,
    /// sha256 hex of the archive.
    pub digest: String,
    pub url: String,
    /// OCI manifest digest (`sha256:…`), empty for HTTP.
    pub manifest: String,
    /// The chart name.
    pub name: String,
}

impl Fetched {
    fn pulled(self, path: PathBuf) -> Pulled {
        Pulled { path, version: self.version, digest: self.digest, url: self.url, manifest: self.manifest, name: self.name }
    }
}

/// `helm pull REF`: `repo/chart` from a configured repository (its cached index), a chart name
/// with `--repo URL`, an absolute `http(s)://…/x.tgz` URL, or `oci://host/repo/chart[:tag]`.
/// The archive's sha256 is checked against the index digest; on a mismatch or any error nothing
/// is written.
pub fn pull(paths: &HelmPaths, reference: &str, opts: &PullOptions) -> Result<Pulled> {
    let f = fetch(paths, reference, opts)?;
    let dest = if opts.destination.as_os_str().is_empty() { PathBuf::from(".") } else { opts.destination.clone() };
    if opts.untar {
        let path = untar(&dest, opts, reference, &f.data)?;
        return Ok(f.pulled(path));
    }
    let path = dest.join(&f.file_name);
    atomic_write(&path, &f.data, 0o644)?;
    Ok(f.pulled(path))
}

/// `helm pull --untar [--untardir DIR]` (pkg/action/pull.go, chartutil.Expand): the archive's
/// files under `<untardir>/<chart name>/`, mode 0644; fails when `<untardir>/<ref basename>`
/// exists. Returns the chart directory.
fn untar(dest: &Path, opts: &PullOptions, reference: &str, data: &[u8]) -> Result<PathBuf> {
    let dest_s = dest.display().to_string();
    let untar_dir = if opts.untar_dir.as_os_str().is_empty() { ".".to_string() } else { opts.untar_dir.display().to_string() };
    let ud = if untar_dir.starts_with('/') { crate::paths::go_clean(&untar_dir) } else { crate::paths::go_join(&[&dest_s, &untar_dir]) };
    let base = reference.rsplit('/').next().unwrap_or(reference).to_string();
    let ud_check = if ud == "." { base } else { crate::paths::go_join(&[&ud, &base]) };
    if std::fs::symlink_metadata(&ud_check).is_ok() {
        return Err(Error::new(format!("failed to untar: a file or directory with the name {ud_check} already exists")));
    }
    std::fs::create_dir_all(&ud_check)
        .map_err(|e| Error::new(format!("failed to untar (mkdir): mkdir {ud_check}: {}", crate::io_msg(&e))))?;
    let files = rudder_chart::load::archive::load_archive_files(data).map_err(|e| Error::new(e.to_string()))?;
    let mut name = String::new();
    for file in files.iter().filter(|f| f.name == "Chart.yaml") {
        let doc = rudder_engine::yaml::from_yaml(&String::from_utf8_lossy(&file.data))
            .map_err(|e| Error::new(format!("cannot load Chart.yaml: {e}")))?;
        let mut md = rudder_chart::model::Metadata::default();
        rudder_chart::metadata::decode_metadata(&doc, &mut md).map_err(|e| Error::new(format!("cannot load Chart.yaml: {e}")))?;
        name = md.name;
    }
    if name.is_empty() {
        return Err(Error::new("chart name not specified"));
    }
    if name == "." || name == ".." {
        return Err(Error::new(format!("chart name {name:?} is not allowed")));
    }
    if name.contains('/') {
        return Err(Error::new(format!("chart name {name:?} must not contain path separators")));
    }
    let chart_dir = PathBuf::from(&ud).join(&name);
    for file in &files {
        let clean = crate::paths::go_clean(&format!("/{}", file.name));
        let out = chart_dir.join(clean.trim_start_matches('/'));
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::new(format!("mkdir {}: {}", parent.display(), crate::io_msg(&e))))?;
        }
        std::fs::write(&out, &file.data).map_err(|e| Error::new(format!("open {}: {}", out.display(), crate::io_msg(&e))))?;
    }
    Ok(chart_dir)
}

/// Helm 4's `DownloadToCache`: like [`pull`], but the archive goes into the content cache
/// (`$HELM_CONTENT_CACHE/<xx>/<sha256>.chart`) and the cached file is reused when the index
/// digest names one. `Pulled::path` is the cache file.
pub fn download_to_cache(paths: &HelmPaths, reference: &str, opts: &PullOptions) -> Result<Pulled> {
    let f = fetch(paths, reference, opts)?;
    let path = paths.content_cache_file(&f.digest, ".chart");
    if crate::cache::read_cached(paths, &f.digest).is_none() {
        atomic_write(&path, &f.data, 0o644)?;
    }
    Ok(f.pulled(path))
}

/// A fetched archive.
pub(crate) struct Fetched {
    pub file_name: String,
    pub data: Vec<u8>,
    pub version: String,
    /// sha256 hex of `data`.
    pub digest: String,
    pub url: String,
    pub from_cache: bool,
    /// OCI manifest digest.
    pub manifest: String,
    /// The chart name.
    pub name: String,
    /// The sources this fetch answers for in the reference map (see [`crate::cache`]).
    pub keys: Vec<String>,
}

/// The archive's chart name and version (from its Chart.yaml).
pub(crate) fn archive_name_version(data: &[u8]) -> Result<(String, String)> {
    let files = rudder_chart::load::archive::load_archive_files(data).map_err(|e| Error::new(e.to_string()))?;
    let f = files
        .iter()
        .find(|f| f.name == "Chart.yaml")
        .ok_or_else(|| Error::new("Chart.yaml file is missing"))?;
    let doc = rudder_engine::yaml::from_yaml(&String::from_utf8_lossy(&f.data))
        .map_err(|e| Error::new(format!("cannot load Chart.yaml: {e}")))?;
    let mut md = rudder_chart::model::Metadata::default();
    rudder_chart::metadata::decode_metadata(&doc, &mut md).map_err(|e| Error::new(format!("cannot load Chart.yaml: {e}")))?;
    Ok((md.name, md.version))
}

/// The reference-map key of a chart in an HTTP repository.
pub(crate) fn repo_key(repo_url: &str, chart: &str) -> String {
    format!("{}#{chart}", repo_url.trim_end_matches('/'))
}

/// A fetch that works offline: online, the result is checked, put into the content cache and
/// recorded; offline, only the caches are read.
pub(crate) fn fetch(paths: &HelmPaths, reference: &str, opts: &PullOptions) -> Result<Fetched> {
    if opts.offline {
        return fetch_offline(paths, reference, opts);
    }
    let mut f = fetch_online(paths, reference, opts)?;
    // The archive must be a chart: a truncated or foreign download fails here and is not cached.
    let (name, version) = archive_name_version(&f.data)
        .map_err(|e| Error::new(format!("{}: not a valid chart archive: {e}", f.url)))?;
    if f.version.is_empty() {
        f.version = version.clone();
    }
    f.name = name.clone();
    if !f.from_cache {
        crate::cache::put_cached(paths, &f.data)?;
    }
    let entry = crate::cache::RefEntry {
        version: f.version.clone(),
        digest: f.digest.clone(),
        manifest: f.manifest.clone(),
        url: f.url.clone(),
        name,
    };
    let items: Vec<(String, crate::cache::RefEntry)> = f.keys.iter().map(|k| (k.clone(), entry.clone())).collect();
    // The reference map is a convenience: failing to update it does not fail the fetch.
    let _ = crate::cache::record_refs(paths, &items);
    Ok(f)
}

fn from_ref(paths: &HelmPaths, e: crate::cache::RefEntry, file_name: String) -> Option<Fetched> {
    let data = crate::cache::read_cached(paths, &e.digest)?;
    Some(Fetched {
        file_name,
        data,
        version: e.version,
        digest: e.digest,
        url: e.url,
        from_cache: true,
        manifest: e.manifest,
        name: e.name,
        keys: vec![],
    })
}

fn url_file_name(url: &str) -> String {
    let path = reqwest::Url::parse(url).map(|u| u.path().to_string()).unwrap_or_else(|_| url.to_string());
    path.rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or("index.tgz").to_string()
}

/// [`fetch`] from the caches only.
fn fetch_offline(paths: &HelmPaths, reference: &str, opts: &PullOptions) -> Result<Fetched> {
    use crate::cache::{lookup_ref, offline_miss};
    let version = effective_version(&opts.version, opts.devel);
    if reference.starts_with("oci://") {
        let r = crate::oci::Reference::parse(reference)?;
        let key = format!("oci://{}/{}", r.registry, r.repository);
        let v = if version.is_empty() { r.tag.clone() } else { version.clone() };
        let refs = crate::cache::load_refs(paths);
        let list = refs.get(&key).cloned().unwrap_or_default();
        let hit = if !r.digest.is_empty() {
            list.into_iter().find(|e| e.manifest == r.digest)
        } else {
            crate::cache::pick_version(&list, &v.replace('_', "+"))
        };
        let shown = if r.digest.is_empty() { v } else { r.digest.clone() };
        return hit
            .and_then(|e| {
                let fname = format!("{}-{}.tgz", r.chart_name(), crate::oci::version_to_tag(&e.version));
                from_ref(paths, e, fname)
            })
            .ok_or_else(|| offline_miss(reference, &shown));
    }
    if !opts.repo_url.is_empty() {
        let key = repo_key(&opts.repo_url, reference);
        return lookup_ref(paths, &key, &version)
            .and_then(|e| {
                let f = url_file_name(&e.url);
                from_ref(paths, e, f)
            })
            .ok_or_else(|| offline_miss(&format!("{} (repository {})", reference, opts.repo_url), &version));
    }
    if reqwest::Url::parse(reference).is_ok_and(|u| !u.cannot_be_a_base()) {
        return lookup_ref(paths, reference, "")
            .or_else(|| crate::cache::load_refs(paths).get(reference).and_then(|l| l.last().cloned()))
            .and_then(|e| from_ref(paths, e, url_file_name(reference)))
            .ok_or_else(|| offline_miss(reference, &version));
    }
    let (repo_name, chart_name) = reference.split_once('/').ok_or_else(|| {
        Error::new(format!("non-absolute URLs should be in form of repo_name/path_to_chart, got: {reference}"))
    })?;
    // The cached index decides the version, as online; the digest then names the cache file.
    let f = RepoFile::load_or_default(&paths.repository_config)?;
    if let Some(rc) = f.get(repo_name) {
        if let Ok(idx) = IndexFile::load_chart(&paths.cache_index_file(&rc.name), chart_name) {
            let cv = idx.get(chart_name, &version).map_err(|e| {
                Error::new(format!(
                    "chart {chart_name:?} matching {version} not found in {} index. (try 'helm repo update'): {e}",
                    rc.name
                ))
            })?;
            let want = cv.digest.split_once(':').map(|(_, d)| d).unwrap_or(&cv.digest).to_ascii_lowercase();
            let url = cv.urls.first().map(|u| resolve_reference_url(&rc.url, u).unwrap_or_else(|_| u.clone())).unwrap_or_default();
            if !want.is_empty() {
                if let Some(data) = crate::cache::read_cached(paths, &want) {
                    return Ok(Fetched {
                        file_name: url_file_name(&url),
                        data,
                        version: cv.metadata.version.clone(),
                        digest: want,
                        url,
                        from_cache: true,
                        manifest: String::new(),
                        name: chart_name.to_string(),
                        keys: vec![],
                    });
                }
            }
            let exact = cv.metadata.version.clone();
            return lookup_ref(paths, &repo_key(&rc.url, chart_name), &exact)
                .and_then(|e| from_ref(paths, e, url_file_name(&url)))
                .ok_or_else(|| offline_miss(reference, &exact));
        }
        if let Some(e) = lookup_ref(paths, &repo_key(&rc.url, chart_name), &version) {
            let fname = url_file_name(&e.url);
            if let Some(f) = from_ref(paths, e, fname) {
                return Ok(f);
            }
        }
    }
    lookup_ref(paths, &format!("repo:{reference}"), &version)
        .and_then(|e| {
            let f = url_file_name(&e.url);
            from_ref(paths, e, f)
        })
        .ok_or_else(|| offline_miss(reference, &version))
}

/// The content cache file for a digest, when it is there and not empty (Go: `DiskCache.Get`).
pub fn content_cache_get(paths: &HelmPaths, sha256_hex: &str) -> Option<PathBuf> {
    let p = paths.content_cache_file(sha256_hex, ".chart");
    let md = std::fs::metadata(&p).ok()?;
    (md.is_file() && md.len() > 0).then_some(p)
}

fn fetch_online(paths: &HelmPaths, reference: &str, opts: &PullOptions) -> Result<Fetched> {
    if reference.starts_with("oci://") {
        return crate::oci::fetch(paths, reference, opts);
    }
    let version = effective_version(&opts.version, opts.devel);
    let flag_get = |url: &str| GetOptions {
        url: url.to_string(),
        username: opts.username.clone(),
        password: opts.password.clone(),
        pass_credentials_all: opts.pass_credentials_all,
        cert_file: opts.cert_file.clone(),
        key_file: opts.key_file.clone(),
        ca_file: opts.ca_file.clone(),
        insecure_skip_tls_verify: opts.insecure_skip_tls_verify,
        ..GetOptions::default()
    };
    let mut keys = Vec::new();
    let (url, digest, chart_version, mut get) = if !opts.repo_url.is_empty() {
        keys.push(repo_key(&opts.repo_url, reference));
        let g = flag_get(&opts.repo_url);
        let idx_url = resolve_reference_url(&opts.repo_url, "index.yaml")?;
        let idx = http::get(&idx_url, &g)
            .and_then(|d| IndexFile::parse(&d, &opts.repo_url))
            .map_err(|e| {
                Error::new(format!(
                    "looks like {:?} is not a valid chart repository or cannot be reached: {e}",
                    opts.repo_url
                ))
            })?;
        let mut what = format!("chart {reference:?}");
        if !version.is_empty() {
            what = format!("{what} version {version:?}");
        }
        let cv = idx
            .get(reference, &version)
            .map_err(|_| Error::new(format!("{what} not found in {} repository", opts.repo_url)))?;
        let first = cv.urls.first().ok_or_else(|| Error::new(format!("{what} has no downloadable URLs")))?;
        let u = resolve_reference_url(&opts.repo_url, first)
            .map_err(|e| Error::new(format!("failed to make chart URL absolute: {e}")))?;
        (u, cv.digest.clone(), cv.metadata.version.clone(), g)
    } else if reqwest::Url::parse(reference).is_ok_and(|u| !u.cannot_be_a_base()) {
        // Helm looks for a configured repository whose cached index lists this URL, to use its
        // TLS files and credentials (`scanReposForURL`).
        keys.push(reference.to_string());
        let f = RepoFile::load_or_default(&paths.repository_config)?;
        let mut g = flag_get(reference);
        for rc in &f.repositories {
            let idx = IndexFile::load(&paths.cache_index_file(&rc.name))
                .map_err(|e| Error::new(format!("no cached repo found. (try 'helm repo update'): {e}")))?;
            let owns = idx.entries.values().flatten().flat_map(|v| &v.urls).any(|dl| urls_equal(reference, dl));
            if owns {
                g.url = rc.url.clone();
                if !rc.cert_file.is_empty() || !rc.key_file.is_empty() || !rc.ca_file.is_empty() {
                    g.cert_file = rc.cert_file.clone();
                    g.key_file = rc.key_file.clone();
                    g.ca_file = rc.ca_file.clone();
                }
                if !rc.username.is_empty() && !rc.password.is_empty() {
                    g.username = rc.username.clone();
                    g.password = rc.password.clone();
                    g.pass_credentials_all = rc.pass_credentials_all;
                }
                break;
            }
        }
        (reference.to_string(), String::new(), String::new(), g)
    } else {
        let (repo_name, chart_name) = reference.split_once('/').ok_or_else(|| {
            Error::new(format!("non-absolute URLs should be in form of repo_name/path_to_chart, got: {reference}"))
        })?;
        let f = RepoFile::load_or_default(&paths.repository_config)?;
        let rc = f.get(repo_name).ok_or_else(|| Error::new(format!("repo {repo_name} not found")))?;
        keys.push(repo_key(&rc.url, chart_name));
        keys.push(format!("repo:{reference}"));
        let idx = IndexFile::load_chart(&paths.cache_index_file(&rc.name), chart_name)
            .map_err(|e| Error::new(format!("no cached repo found. (try 'helm repo update'): {e}")))?;
        let cv = idx.get(chart_name, &version).map_err(|e| {
            Error::new(format!(
                "chart {chart_name:?} matching {version} not found in {} index. (try 'helm repo update'): {e}",
                rc.name
            ))
        })?;
        let first = cv.urls.first().ok_or_else(|| Error::new(format!("chart {reference:?} has no downloadable URLs")))?;
        let u = resolve_reference_url(&rc.url, first).map_err(|_| Error::new(format!("invalid chart URL format: {reference}")))?;
        let mut g = GetOptions::for_entry(rc);
        // Helm passes the entry's TLS files and credentials; --insecure-skip-tls-verify comes from the flag.
        g.insecure_skip_tls_verify = opts.insecure_skip_tls_verify || rc.insecure_skip_tls_verify;
        (u, cv.digest.clone(), cv.metadata.version.clone(), g)
    };
    get.accept = "application/gzip,application/octet-stream".into();
    let want = digest.split_once(':').map(|(_, d)| d).unwrap_or(&digest).to_ascii_lowercase();
    if !want.is_empty() && (want.len() != 64 || !want.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err(Error::new(format!("invalid digest length: {}", want.len() / 2)));
    }
    let parsed = reqwest::Url::parse(&url).map_err(|e| Error::new(format!("invalid chart URL format: {url}: {e}")))?;
    let file_name = parsed.path().rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or("index.tgz").to_string();
    if !want.is_empty() {
        if let Some(cached) = content_cache_get(paths, &want) {
            if let Ok(data) = std::fs::read(&cached) {
                if crate::sha256_hex(&data) == want {
                    return Ok(Fetched { file_name, data, version: chart_version, digest: want, url, from_cache: true, manifest: String::new(), name: String::new(), keys });
                }
            }
        }
    }
    let data = http::get(&url, &get)?;
    let got = crate::sha256_hex(&data);
    if !want.is_empty() && want != got {
        return Err(Error::new(format!(
            "digest mismatch for {url}: the index says sha256:{want}, the download is sha256:{got}"
        )));
    }
    Ok(Fetched { file_name, data, version: chart_version, digest: got, url, from_cache: false, manifest: String::new(), name: String::new(), keys })
}

/// The reference-map keys a reference answers for (see [`crate::cache`]).
pub(crate) fn ref_keys(paths: &HelmPaths, reference: &str, opts: &PullOptions) -> Vec<String> {
    if reference.starts_with("oci://") {
        return crate::oci::Reference::parse(reference)
            .map(|r| vec![format!("oci://{}/{}", r.registry, r.repository)])
            .unwrap_or_default();
    }
    if !opts.repo_url.is_empty() {
        return vec![repo_key(&opts.repo_url, reference)];
    }
    if reqwest::Url::parse(reference).is_ok_and(|u| !u.cannot_be_a_base()) {
        return vec![reference.to_string()];
    }
    let mut keys = vec![format!("repo:{reference}")];
    if let Some((repo, chart)) = reference.split_once('/') {
        if let Ok(f) = RepoFile::load_or_default(&paths.repository_config) {
            if let Some(rc) = f.get(repo) {
                keys.push(repo_key(&rc.url, chart));
            }
        }
    }
    keys
}
