//! OCI registries (pkg/registry): pull of `oci://host/repo/chart[:tag]` with Helm's media types,
//! the `+`/`_` tag rule, version resolution over the tag list, and basic or token auth.

use base64::Engine as _;
use serde_json::Value as J;

use crate::http::{error_chain, status_text, USER_AGENT};
use crate::{Error, HelmPaths, PullOptions, Pulled, Result};

pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
pub const CHART_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
pub const LEGACY_CHART_LAYER_MEDIA_TYPE: &str = "application/tar+gzip";
pub const PROV_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.provenance.v1.prov";
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// A parsed `oci://` reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]`
    pub registry: String,
    /// `path/to/chart`
    pub repository: String,
    /// The tag as written (with `+`, if any); empty when absent.
    pub tag: String,
    /// `sha256:…` when given with `@`.
    pub digest: String,
}

impl Reference {
    pub fn parse(r: &str) -> Result<Reference> {
        let s = r.strip_prefix("oci://").unwrap_or(r);
        let (s, digest) = match s.split_once('@') {
            Some((a, d)) => (a, d.to_string()),
            None => (s, String::new()),
        };
        let (registry, rest) =
            s.split_once('/').ok_or_else(|| Error::new(format!("invalid reference: missing repository: {r}")))?;
        let (repository, tag) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains('/') => (&rest[..i], rest[i + 1..].to_string()),
            _ => (rest, String::new()),
        };
        if registry.is_empty() || repository.is_empty() {
            return Err(Error::new(format!("invalid reference: {r}")));
        }
        Ok(Reference { registry: registry.into(), repository: repository.into(), tag, digest })
    }

    /// The chart name (last path element of the repository).
    pub fn chart_name(&self) -> &str {
        self.repository.rsplit('/').next().unwrap_or(&self.repository)
    }
}

/// Registry tags are not allowed `+`: Helm stores `1.0.0+b` as `1.0.0_b`.
pub fn version_to_tag(v: &str) -> String {
    v.replace('+', "_")
}

/// Go: `Client.Tags` then `GetTagMatchingVersionOrConstraint`: tags back to versions (`_`→`+`),
/// only strict semver, newest first; an exact match wins, then the first satisfying the
/// constraint (`""` = `*`).
pub fn match_tag(tags: &[String], version: &str) -> Result<String> {
    use rudder_engine::semver::{Constraints, Version};
    let mut vs: Vec<Version> =
        tags.iter().filter_map(|t| Version::parse_strict(&t.replace('_', "+")).ok()).collect();
    vs.sort_by(|a, b| b.compare(a));
    let tags: Vec<String> = vs.iter().map(|v| v.to_string()).collect();
    let c = if version.is_empty() {
        Constraints::parse("*").map_err(|e| Error::new(e.to_string()))?
    } else {
        if let Some(t) = tags.iter().find(|t| *t == version) {
            return Ok(t.clone());
        }
        Constraints::parse(version).map_err(|e| Error::new(e.to_string()))?
    };
    for (t, v) in tags.iter().zip(&vs) {
        if c.check(v) {
            return Ok(t.clone());
        }
    }
    Err(Error::new(format!("could not locate a version matching provided version string {version}")))
}

/// Credentials for a registry host: Helm's registry config (`$HELM_REGISTRY_CONFIG`), then
/// Docker's (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`), as oras' credential
/// store falls back to Docker's file.
pub fn credentials(paths: &HelmPaths, host: &str) -> Option<(String, String)> {
    config_credentials(&paths.registry_config, host).or_else(|| {
        let docker = match std::env::var_os("DOCKER_CONFIG") {
            Some(d) => std::path::PathBuf::from(d).join("config.json"),
            None => std::path::PathBuf::from(std::env::var_os("HOME")?).join(".docker/config.json"),
        };
        config_credentials(&docker, host)
    })
}

/// Credentials for a registry host from a docker-style config.json (`auths.<host>.auth`).
pub fn config_credentials(config: &std::path::Path, host: &str) -> Option<(String, String)> {
    let text = std::fs::read_to_string(config).ok()?;
    let j: J = serde_json::from_str(&text).ok()?;
    let auths = j.get("auths")?.as_object()?;
    let entry = auths.iter().find(|(k, _)| {
        let k = k.trim_start_matches("https://").trim_start_matches("http://");
        k.trim_end_matches('/') == host || k.split('/').next() == Some(host)
    })?;
    let auth = entry.1.get("auth")?.as_str()?;
    let raw = base64::engine::general_purpose::STANDARD.decode(auth).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (u, p) = raw.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// A small registry client (distribution API v2).
pub struct Registry {
    http: reqwest::blocking::Client,
    base: String,
    creds: Option<(String, String)>,
    auth_header: Option<String>,
    /// The status of the last failed response.
    last_status: Option<u16>,
    host: String,
}

impl Registry {
    pub fn new(registry: &str, plain_http: bool, creds: Option<(String, String)>, opts: &PullOptions) -> Result<Registry> {
        let g = crate::http::GetOptions {
            ca_file: opts.ca_file.clone(),
            cert_file: opts.cert_file.clone(),
            key_file: opts.key_file.clone(),
            insecure_skip_tls_verify: opts.insecure_skip_tls_verify,
            ..Default::default()
        };
        let http = crate::http::client(&g)?;
        let scheme = if plain_http { "http" } else { "https" };
        Ok(Registry {
            http,
            base: format!("{scheme}://{registry}"),
            creds,
            auth_header: None,
            last_status: None,
            host: registry.to_string(),
        })
    }

    fn send(&self, url: &str, accept: &str) -> Result<reqwest::blocking::Response> {
        let mut r = self.http.get(url).header(reqwest::header::USER_AGENT, USER_AGENT);
        if !accept.is_empty() {
            r = r.header(reqwest::header::ACCEPT, accept);
        }
        if let Some(h) = &self.auth_header {
            r = r.header(reqwest::header::AUTHORIZATION, h);
        }
        r.send().map_err(|e| Error::new(format!("Get {url:?}: {}", crate::http::go_transport_error(url, &e))))
    }

    /// GET with auth on demand: a 401 challenge gets Basic credentials or a Bearer token.
    fn get(&mut self, path: &str, accept: &str) -> Result<Vec<u8>> {
        let url = format!("{}{path}", self.base);
        let mut resp = self.send(&url, accept)?;
        if resp.status() == reqwest::StatusCode::UNAUTHORIZED && self.auth_header.is_none() {
            let challenge = resp
                .headers()
                .get(reqwest::header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            if challenge.to_ascii_lowercase().starts_with("basic") && self.creds.is_none() {
                self.last_status = Some(401);
                return Err(Error::new(format!("GET {url:?}: basic credential not found")));
            }
            if let Some(h) = self.authorize(&challenge)? {
                self.auth_header = Some(h);
                resp = self.send(&url, accept)?;
            }
        }
        let status = resp.status();
        if !status.is_success() {
            self.last_status = Some(status.as_u16());
            let body = resp.bytes().map(|b| b.to_vec()).unwrap_or_default();
            return Err(Error::new(format!("GET {url:?}: {}", status_error(status, &body))));
        }
        resp.bytes().map(|b| b.to_vec()).map_err(|e| Error::new(format!("GET {url:?}: {}", error_chain(&e.without_url()))))
    }

    fn authorize(&self, challenge: &str) -> Result<Option<String>> {
        let b64 = |u: &str, p: &str| base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
        let (scheme, params) = challenge.split_once(' ').unwrap_or((challenge, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Ok(self.creds.as_ref().map(|(u, p)| format!("Basic {}", b64(u, p))));
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Ok(None);
        }
        let mut realm = String::new();
        let mut query = Vec::new();
        for part in split_params(params) {
            if let Some((k, v)) = part.split_once('=') {
                let v = v.trim_matches('"').to_string();
                if k == "realm" {
                    realm = v;
                } else {
                    query.push((k.to_string(), v));
                }
            }
        }
        let mut r = self.http.get(&realm).query(&query).header(reqwest::header::USER_AGENT, USER_AGENT);
        if let Some((u, p)) = &self.creds {
            r = r.basic_auth(u, Some(p));
        }
        let resp = r.send().map_err(|e| Error::new(format!("GET {realm:?}: {}", error_chain(&e.without_url()))))?;
        if !resp.status().is_success() {
            return Err(Error::new(format!("GET {realm:?}: response status code {}", status_text(resp.status()))));
        }
        let body = resp.bytes().map_err(|e| Error::new(format!("GET {realm:?}: {}", error_chain(&e.without_url()))))?;
        let j: J = serde_json::from_slice(&body).map_err(|e| Error::new(format!("GET {realm:?}: {e}")))?;
        let tok = j.get("token").or_else(|| j.get("access_token")).and_then(J::as_str).unwrap_or("");
        Ok(Some(format!("Bearer {tok}")))
    }

    /// All tags of a repository.
    pub fn tags(&mut self, repository: &str) -> Result<Vec<String>> {
        let body = self.get(&format!("/v2/{repository}/tags/list"), "application/json")?;
        let j: J = serde_json::from_slice(&body).map_err(|e| Error::new(format!("tags list: {e}")))?;
        Ok(j.get("tags")
            .and_then(J::as_array)
            .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect())
            .unwrap_or_default())
    }

    /// The manifest bytes for a tag or digest.
    pub fn manifest(&mut self, repository: &str, reference: &str) -> Result<Vec<u8>> {
        self.last_status = None;
        self.get(
            &format!("/v2/{repository}/manifests/{reference}"),
            &format!("{MANIFEST_MEDIA_TYPE}, application/vnd.oci.image.index.v1+json"),
        )
        .map_err(|e| {
            let sep = if reference.starts_with("sha256:") { '@' } else { ':' };
            let what = if self.last_status == Some(404) {
                format!("{}/{repository}{sep}{reference}: not found", self.host)
            } else {
                e.0
            };
            Error::new(format!("failed to perform \"FetchReference\" on source: {what}"))
        })
    }

    /// A blob, checked against its digest.
    pub fn blob(&mut self, repository: &str, digest: &str) -> Result<Vec<u8>> {
        let data = self.get(&format!("/v2/{repository}/blobs/{digest}"), "")?;
        let got = format!("sha256:{}", crate::sha256_hex(&data));
        if digest.starts_with("sha256:") && got != digest {
            return Err(Error::new(format!("digest mismatch for blob {digest}: downloaded {got}")));
        }
        Ok(data)
    }
}

impl Registry {
    /// Any request, with the same on-demand auth as [`Registry::get`]. `target` is a path below
    /// the registry or an absolute URL (upload locations).
    fn call(
        &mut self,
        method: reqwest::Method,
        target: &str,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<reqwest::blocking::Response> {
        let url = if target.starts_with("http://") || target.starts_with("https://") {
            target.to_string()
        } else {
            format!("{}{target}", self.base)
        };
        let build = |auth: &Option<String>| {
            let mut r = self.http.request(method.clone(), &url).header(reqwest::header::USER_AGENT, USER_AGENT);
            if let Some(ct) = content_type {
                r = r.header(reqwest::header::CONTENT_TYPE, ct);
            }
            if let Some(b) = body {
                r = r.body(b.to_vec());
            }
            if let Some(h) = auth {
                r = r.header(reqwest::header::AUTHORIZATION, h);
            }
            r
        };
        let err = |e: reqwest::Error| Error::new(format!("{method} {url:?}: {}", error_chain(&e.without_url())));
        let mut resp = build(&self.auth_header).send().map_err(err)?;
        if resp.status() == reqwest::StatusCode::UNAUTHORIZED && self.auth_header.is_none() {
            let challenge = resp
                .headers()
                .get(reqwest::header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            if let Some(h) = self.authorize(&challenge)? {
                self.auth_header = Some(h);
                resp = build(&self.auth_header).send().map_err(err)?;
            }
        }
        if !resp.status().is_success() {
            let status = resp.status();
            let body = resp.bytes().map(|b| b.to_vec()).unwrap_or_default();
            return Err(Error::new(format!("{method} {url:?}: {}", status_error(status, &body))));
        }
        Ok(resp)
    }

    /// Upload a blob unless the registry has it (monolithic POST + PUT).
    pub fn push_blob(&mut self, repository: &str, data: &[u8]) -> Result<String> {
        let digest = format!("sha256:{}", crate::sha256_hex(data));
        if self.call(reqwest::Method::HEAD, &format!("/v2/{repository}/blobs/{digest}"), None, None).is_ok() {
            return Ok(digest);
        }
        let resp = self.call(reqwest::Method::POST, &format!("/v2/{repository}/blobs/uploads/"), None, None)?;
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::new("blob upload: the registry sent no Location"))?
            .to_string();
        let mut loc = crate::ops::resolve_reference_url(&self.base, &location)?;
        loc.push(if loc.contains('?') { '&' } else { '?' });
        loc.push_str(&format!("digest={digest}"));
        self.call(reqwest::Method::PUT, &loc, Some("application/octet-stream"), Some(data))?;
        Ok(digest)
    }

    /// PUT a manifest under a tag; returns its digest.
    pub fn push_manifest(&mut self, repository: &str, tag: &str, manifest: &[u8]) -> Result<String> {
        self.call(reqwest::Method::PUT, &format!("/v2/{repository}/manifests/{tag}"), Some(MANIFEST_MEDIA_TYPE), Some(manifest))?;
        Ok(format!("sha256:{}", crate::sha256_hex(manifest)))
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::new();
    rudder_engine::json::write_string(&mut out, s, true);
    out
}

/// `json.Marshal(chart.Metadata)`: Go's field order, `omitempty`.
pub fn metadata_config_json(md: &rudder_chart::model::Metadata) -> Result<String> {
    let mut f: Vec<String> = Vec::new();
    let s = |f: &mut Vec<String>, k: &str, v: &str| {
        if !v.is_empty() {
            f.push(format!("\"{k}\":{}", json_str(v)));
        }
    };
    let list = |v: &[String]| format!("[{}]", v.iter().map(|x| json_str(x)).collect::<Vec<_>>().join(","));
    s(&mut f, "name", &md.name);
    s(&mut f, "home", &md.home);
    if !md.sources.is_empty() {
        f.push(format!("\"sources\":{}", list(&md.sources)));
    }
    s(&mut f, "version", &md.version);
    s(&mut f, "description", &md.description);
    if !md.keywords.is_empty() {
        f.push(format!("\"keywords\":{}", list(&md.keywords)));
    }
    if !md.maintainers.is_empty() {
        let ms: Vec<String> = md
            .maintainers
            .iter()
            .map(|m| {
                let mut o = Vec::new();
                for (k, v) in [("name", &m.name), ("email", &m.email), ("url", &m.url)] {
                    if !v.is_empty() {
                        o.push(format!("\"{k}\":{}", json_str(v)));
                    }
                }
                format!("{{{}}}", o.join(","))
            })
            .collect();
        f.push(format!("\"maintainers\":[{}]", ms.join(",")));
    }
    s(&mut f, "icon", &md.icon);
    s(&mut f, "apiVersion", &md.api_version);
    s(&mut f, "condition", &md.condition);
    s(&mut f, "tags", &md.tags);
    s(&mut f, "appVersion", &md.app_version);
    if md.deprecated {
        f.push("\"deprecated\":true".into());
    }
    if !md.annotations.is_empty() {
        let a: Vec<String> = md.annotations.iter().map(|(k, v)| format!("{}:{}", json_str(k), json_str(v))).collect();
        f.push(format!("\"annotations\":{{{}}}", a.join(",")));
    }
    s(&mut f, "kubeVersion", &md.kube_version);
    if !md.dependencies.is_empty() {
        let mut ds = Vec::new();
        for d in &md.dependencies {
            let mut o = vec![format!("\"name\":{}", json_str(&d.name))];
            if !d.version.is_empty() {
                o.push(format!("\"version\":{}", json_str(&d.version)));
            }
            o.push(format!("\"repository\":{}", json_str(&d.repository)));
            if !d.condition.is_empty() {
                o.push(format!("\"condition\":{}", json_str(&d.condition)));
            }
            if !d.tags.is_empty() {
                o.push(format!("\"tags\":{}", list(&d.tags)));
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
            ds.push(format!("{{{}}}", o.join(",")));
        }
        f.push(format!("\"dependencies\":[{}]", ds.join(",")));
    }
    s(&mut f, "type", &md.chart_type);
    Ok(format!("{{{}}}", f.join(",")))
}

/// Helm's manifest annotations (`generateOCIAnnotations`).
pub fn oci_annotations(md: &rudder_chart::model::Metadata, created: &str) -> std::collections::BTreeMap<String, String> {
    let mut a = std::collections::BTreeMap::new();
    let mut add = |k: &str, v: &str| {
        if !v.trim().is_empty() {
            a.insert(k.to_string(), v.to_string());
        }
    };
    add("org.opencontainers.image.description", &md.description);
    add("org.opencontainers.image.title", &md.name);
    add("org.opencontainers.image.version", &md.version);
    add("org.opencontainers.image.url", &md.home);
    add("org.opencontainers.image.created", created);
    if let Some(s) = md.sources.first() {
        add("org.opencontainers.image.source", s);
    }
    if !md.maintainers.is_empty() {
        let authors: Vec<String> = md
            .maintainers
            .iter()
            .map(|m| if m.email.is_empty() { m.name.clone() } else { format!("{} ({})", m.name, m.email) })
            .collect();
        add("org.opencontainers.image.authors", &authors.join(", "));
    }
    for (k, v) in &md.annotations {
        if k != "org.opencontainers.image.title" && k != "org.opencontainers.image.version" {
            a.insert(k.clone(), v.clone());
        }
    }
    a
}

/// RFC 3339 (seconds, UTC) of a file's modification time: what `helm push` records as
/// `org.opencontainers.image.created` (Go formats the local time; on a UTC machine that is this).
fn mtime_rfc3339(path: &std::path::Path) -> Result<String> {
    let m = std::fs::metadata(path).map_err(|e| Error::new(format!("{}: {}", path.display(), crate::io_msg(&e))))?;
    let t = m.modified().map_err(|e| Error::new(e.to_string()))?;
    let secs = t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let s = crate::rfc3339_from_unix(secs as i64, 0);
    Ok(s)
}

/// What `helm push` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pushed {
    /// `host/repo/name:tag`
    pub reference: String,
    /// Manifest digest `sha256:…`.
    pub digest: String,
    /// Helm's output lines.
    pub output: String,
}

/// `helm push CHART.tgz oci://host/repo`: the archive as the chart layer, Chart.yaml metadata
/// as the config, Helm's annotations (created = the archive's mtime), tag = version with `+`
/// as `_`. Credentials: the options, else `$HELM_REGISTRY_CONFIG`.
pub fn push(paths: &HelmPaths, archive: &std::path::Path, remote: &str, opts: &PullOptions) -> Result<Pushed> {
    let st = std::fs::metadata(archive).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::new(format!("{}: no such file", archive.display()))
        } else {
            Error::new(format!("{}: {}", archive.display(), crate::io_msg(&e)))
        }
    })?;
    if st.is_dir() {
        return Err(Error::new("cannot push directory, must provide chart archive (.tgz)"));
    }
    let chart = rudder_chart::load(archive).map_err(|e| Error::new(e.to_string()))?;
    let md = &chart.metadata;
    let data = std::fs::read(archive).map_err(|e| Error::new(format!("{}: {}", archive.display(), crate::io_msg(&e))))?;
    let base = remote.strip_prefix("oci://").unwrap_or(remote).trim_end_matches('/');
    let (registry, repo_path) = base.split_once('/').unwrap_or((base, ""));
    let repository = crate::paths::go_clean(&format!("{repo_path}/{}", md.name)).trim_start_matches('/').to_string();
    let tag = version_to_tag(&md.version);
    let creds = if !opts.username.is_empty() || !opts.password.is_empty() {
        Some((opts.username.clone(), opts.password.clone()))
    } else {
        credentials(paths, registry)
    };
    let mut reg = Registry::new(registry, opts.plain_http, creds, opts)?;
    let config = metadata_config_json(md)?;
    let layer_digest = reg.push_blob(&repository, &data)?;
    let config_digest = reg.push_blob(&repository, config.as_bytes())?;
    let created = mtime_rfc3339(archive)?;
    let ann: Vec<String> =
        oci_annotations(md, &created).iter().map(|(k, v)| format!("{}:{}", json_str(k), json_str(v))).collect();
    let manifest = format!(
        "{{\"schemaVersion\":2,\"config\":{{\"mediaType\":\"{CONFIG_MEDIA_TYPE}\",\"digest\":\"{config_digest}\",\"size\":{}}},\"layers\":[{{\"mediaType\":\"{CHART_LAYER_MEDIA_TYPE}\",\"digest\":\"{layer_digest}\",\"size\":{}}}],\"annotations\":{{{}}}}}",
        config.len(),
        data.len(),
        ann.join(",")
    );
    let digest = reg.push_manifest(&repository, &tag, manifest.as_bytes())?;
    let reference = format!("{registry}/{repository}:{tag}");
    let mut output = format!("Pushed: {reference}\nDigest: {digest}\n");
    if tag.contains('_') {
        output.push_str(&format!("{reference} contains an underscore.\n"));
    }
    Ok(Pushed { reference, digest, output })
}

/// oras' text for a failed registry response: `response status code N: code: message` from the
/// distribution error body, or the status text.
fn status_error(status: reqwest::StatusCode, body: &[u8]) -> String {
    let errs: Vec<String> = serde_json::from_slice::<J>(body)
        .ok()
        .and_then(|j| j.get("errors").and_then(J::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .map(|e| {
            let code = e.get("code").and_then(J::as_str).unwrap_or("").to_lowercase().replace('_', " ");
            let msg = e.get("message").and_then(J::as_str).unwrap_or("");
            let mut t = match (code.is_empty(), msg.is_empty()) {
                (false, false) => format!("{code}: {msg}"),
                (false, true) => code,
                _ => msg.to_string(),
            };
            if let Some(d) = e.get("detail").filter(|d| !d.is_null()) {
                t.push_str(": ");
                t.push_str(&go_v(d));
            }
            t
        })
        .collect();
    if errs.is_empty() {
        format!("response status code {}: {}", status.as_u16(), status.canonical_reason().unwrap_or(""))
    } else {
        format!("response status code {}: {}", status.as_u16(), errs.join("; "))
    }
}

/// Go's `%v` of a decoded JSON value (`map[k:v]` with sorted keys, `[a b]`).
fn go_v(v: &J) -> String {
    match v {
        J::Null => "<nil>".into(),
        J::Bool(b) => b.to_string(),
        J::Number(n) => n.as_f64().map(|f| rudder_engine::print::float::format_v(f, false)).unwrap_or_else(|| n.to_string()),
        J::String(s) => s.clone(),
        J::Array(a) => format!("[{}]", a.iter().map(go_v).collect::<Vec<_>>().join(" ")),
        J::Object(m) => format!("map[{}]", m.iter().map(|(k, v)| format!("{k}:{}", go_v(v))).collect::<Vec<_>>().join(" ")),
    }
}

/// `helm registry login HOST -u USER -p PASS`: check the credentials against `GET /v2/`, then
/// store them in `$HELM_REGISTRY_CONFIG` (docker config.json, tab-indented, mode 0600).
pub fn registry_login(paths: &HelmPaths, host: &str, username: &str, password: &str, opts: &PullOptions) -> Result<String> {
    let mut reg = Registry::new(host, opts.plain_http, Some((username.into(), password.into())), opts)?;
    reg.get("/v2/", "").map_err(|e| Error::new(format!("authenticating to {host:?}: {e}")))?;
    let mut cfg = read_config(&paths.registry_config)?;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    cfg.entry("auths").or_insert_with(|| J::Object(Default::default()));
    if let Some(J::Object(a)) = cfg.get_mut("auths") {
        a.insert(host.to_string(), serde_json::json!({ "auth": auth }));
    }
    write_config(&paths.registry_config, &cfg)?;
    Ok("Login Succeeded".into())
}

/// `helm registry logout HOST`.
pub fn registry_logout(paths: &HelmPaths, host: &str) -> Result<String> {
    let mut cfg = read_config(&paths.registry_config)?;
    cfg.entry("auths").or_insert_with(|| J::Object(Default::default()));
    if let Some(J::Object(a)) = cfg.get_mut("auths") {
        a.remove(host);
    }
    write_config(&paths.registry_config, &cfg)?;
    Ok(format!("Removing login credentials for {host}"))
}

fn read_config(path: &std::path::Path) -> Result<serde_json::Map<String, J>> {
    match std::fs::read(path) {
        Ok(b) if b.iter().all(u8::is_ascii_whitespace) => Ok(Default::default()),
        Ok(b) => match serde_json::from_slice::<J>(&b) {
            Ok(J::Object(m)) => Ok(m),
            _ => Err(Error::new(format!("failed to decode config file at {}: invalid format", path.display()))),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(e) => Err(Error::new(format!("open {}: {}", path.display(), crate::io_msg(&e)))),
    }
}

fn write_config(path: &std::path::Path, cfg: &serde_json::Map<String, J>) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::create_dir_all(dir).map_err(|e| Error::new(format!("mkdir {}: {}", dir.display(), crate::io_msg(&e))))?;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
    let text = rudder_engine::json::to_json_indent(&rudder_engine::Value::from_json(&J::Object(cfg.clone())), "", "\t")
        .map_err(Error::new)?;
    crate::atomic_write(path, text.as_bytes(), 0o600)
}

fn split_params(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c)
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// `helm pull oci://host/repo/chart[:tag] [--version V]`: resolve the tag (Helm's
/// `ValidateReference`), fetch the manifest, check the config media type, fetch the chart layer
/// and write `<chart>-<version>.tgz`. Credentials: the options, else `$HELM_REGISTRY_CONFIG`.
pub fn pull(paths: &HelmPaths, reference: &str, opts: &PullOptions) -> Result<Pulled> {
    crate::ops::pull(paths, reference, opts)
}

pub(crate) fn fetch(paths: &HelmPaths, reference: &str, opts: &PullOptions) -> Result<crate::ops::Fetched> {
    let r = Reference::parse(reference)?;
    let mut version = crate::index::effective_version(&opts.version, opts.devel);
    if version.is_empty() {
        version = r.tag.clone();
    } else if !r.tag.is_empty() && r.tag != version {
        return Err(Error::new(format!("chart reference and version mismatch: {version} is not {}", r.tag)));
    }
    let creds = if !opts.username.is_empty() || !opts.password.is_empty() {
        Some((opts.username.clone(), opts.password.clone()))
    } else {
        credentials(paths, &r.registry)
    };
    let mut reg = Registry::new(&r.registry, opts.plain_http, creds, opts)?;
    let tag = if !r.digest.is_empty() && version.is_empty() {
        String::new()
    } else if rudder_engine::semver::Version::parse(&version).is_ok() {
        version.clone()
    } else {
        let tags = reg.tags(&r.repository)?;
        if tags.is_empty() {
            return Err(Error::new(format!("unable to locate any tags in provided repository: {reference}")));
        }
        match_tag(&tags, &version)?
    };
    let manifest_ref = if !r.digest.is_empty() { r.digest.clone() } else { version_to_tag(&tag) };
    let manifest = reg.manifest(&r.repository, &manifest_ref)?;
    if !r.digest.is_empty() {
        let got = format!("sha256:{}", crate::sha256_hex(&manifest));
        if got != r.digest {
            return Err(Error::new(format!("chart reference digest mismatch: {got} is not {}", r.digest)));
        }
    }
    let m: J = serde_json::from_slice(&manifest).map_err(|e| Error::new(format!("invalid manifest: {e}")))?;
    let config_type = m.pointer("/config/mediaType").and_then(J::as_str).unwrap_or("");
    let layers = m.get("layers").and_then(J::as_array).cloned().unwrap_or_default();
    // Helm keeps the nodes of the manifest graph whose media types it knows (the manifest
    // itself, its config, chart layers) and wants at least the manifest and the config.
    let chart_layers = layers
        .iter()
        .filter(|l| matches!(l.get("mediaType").and_then(J::as_str), Some(CHART_LAYER_MEDIA_TYPE | LEGACY_CHART_LAYER_MEDIA_TYPE)))
        .count();
    let found = 1 + usize::from(config_type == CONFIG_MEDIA_TYPE) + chart_layers;
    if found < 2 {
        return Err(Error::new(format!(
            "manifest does not contain minimum number of descriptors (2), descriptors found: {found}"
        )));
    }
    if config_type != CONFIG_MEDIA_TYPE {
        return Err(Error::new(format!("could not load config with mediatype {CONFIG_MEDIA_TYPE}")));
    }
    let layer = layers
        .iter()
        .find(|l| l.get("mediaType").and_then(J::as_str) == Some(CHART_LAYER_MEDIA_TYPE))
        .or_else(|| layers.iter().find(|l| l.get("mediaType").and_then(J::as_str) == Some(LEGACY_CHART_LAYER_MEDIA_TYPE)))
        .ok_or_else(|| Error::new(format!("manifest does not contain a layer with mediatype {CHART_LAYER_MEDIA_TYPE}")))?;
    let digest = layer.get("digest").and_then(J::as_str).unwrap_or("").to_string();
    let data = reg.blob(&r.repository, &digest)?;
    let config_digest = m.pointer("/config/digest").and_then(J::as_str).unwrap_or("").to_string();
    let config = reg.blob(&r.repository, &config_digest)?;
    let cfg: J = serde_json::from_slice(&config).map_err(|e| Error::new(format!("invalid chart config: {e}")))?;
    let chart_version = cfg.get("version").and_then(J::as_str).unwrap_or(&tag).to_string();
    let file_tag = if tag.is_empty() { chart_version.clone() } else { tag.clone() };
    Ok(crate::ops::Fetched {
        file_name: format!("{}-{file_tag}.tgz", r.chart_name()),
        data,
        version: chart_version,
        digest: digest.trim_start_matches("sha256:").to_string(),
        url: format!("oci://{}/{}:{}", r.registry, r.repository, file_tag),
        from_cache: false,
        manifest: format!("sha256:{}", crate::sha256_hex(&manifest)),
        name: r.chart_name().to_string(),
        keys: vec![format!("oci://{}/{}", r.registry, r.repository)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_tags() {
        let r = Reference::parse("oci://127.0.0.1:5000/a/b/demo:1.0.0+x").unwrap();
        assert_eq!((r.registry.as_str(), r.repository.as_str(), r.tag.as_str()), ("127.0.0.1:5000", "a/b/demo", "1.0.0+x"));
        assert_eq!(r.chart_name(), "demo");
        let r = Reference::parse("oci://h:5/demo").unwrap();
        assert_eq!((r.repository.as_str(), r.tag.as_str()), ("demo", ""));
        let tags: Vec<String> = ["0.1.0", "0.2.0_build.1", "v0.3.0", "latest", "1.0.0-rc.1"].map(String::from).to_vec();
        assert_eq!(match_tag(&tags, "").unwrap(), "0.2.0+build.1");
        assert_eq!(match_tag(&tags, "~0.1").unwrap(), "0.1.0");
        assert_eq!(match_tag(&tags, ">0.0.0-0").unwrap(), "1.0.0-rc.1");
        assert!(match_tag(&tags, "0.3.x").is_err());
        assert_eq!(version_to_tag("1.0.0+b"), "1.0.0_b");
    }
}
