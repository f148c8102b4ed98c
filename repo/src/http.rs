//! Helm's HTTP getter (pkg/getter/httpgetter.go) over reqwest with rustls.

use std::time::Duration;

use crate::{Error, Result};

/// Helm's User-Agent.
pub const USER_AGENT: &str = "Helm/4.3.1";

/// Getter options (Go: `getter.Options`). `Debug` hides the password.
#[derive(Clone, Default)]
pub struct GetOptions {
    /// The repository URL the credentials belong to (Go: `WithURL`).
    pub url: String,
    pub username: String,
    pub password: String,
    /// Send the credentials to every host, not only the repository's scheme+host.
    pub pass_credentials_all: bool,
    pub cert_file: String,
    pub key_file: String,
    pub ca_file: String,
    pub insecure_skip_tls_verify: bool,
    pub accept: String,
    pub timeout: Option<Duration>,
}

impl std::fmt::Debug for GetOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetOptions")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &if self.password.is_empty() { "" } else { "<redacted>" })
            .field("pass_credentials_all", &self.pass_credentials_all)
            .field("ca_file", &self.ca_file)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .finish()
    }
}

impl GetOptions {
    /// The options a repository entry gives (Go: `DownloadIndexFile`).
    pub fn for_entry(e: &crate::Entry) -> GetOptions {
        GetOptions {
            url: e.url.clone(),
            username: e.username.clone(),
            password: e.password.clone(),
            pass_credentials_all: e.pass_credentials_all,
            cert_file: e.cert_file.clone(),
            key_file: e.key_file.clone(),
            ca_file: e.ca_file.clone(),
            insecure_skip_tls_verify: e.insecure_skip_tls_verify,
            ..GetOptions::default()
        }
    }
}

fn scheme_host(u: &str) -> Option<(String, String)> {
    let u = reqwest::Url::parse(u).ok()?;
    let host = match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    };
    Some((u.scheme().to_string(), host))
}

/// A client for the options' TLS settings.
pub fn client(opts: &GetOptions) -> Result<reqwest::blocking::Client> {
    let mut b = reqwest::blocking::Client::builder().use_rustls_tls().user_agent(USER_AGENT);
    if let Some(t) = opts.timeout {
        b = b.timeout(t);
    }
    if !opts.ca_file.is_empty() {
        let pem = std::fs::read(&opts.ca_file).map_err(|e| {
            Error::new(format!("can't create TLS config: can't read CA file: open {}: {}", opts.ca_file, crate::io_msg(&e)))
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|_| Error::new(format!("can't create TLS config: failed to append certificates from file: {}", opts.ca_file)))?;
        if certs.is_empty() {
            return Err(Error::new(format!(
                "can't create TLS config: failed to append certificates from file: {}",
                opts.ca_file
            )));
        }
        b = b.tls_built_in_root_certs(false);
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    if !opts.cert_file.is_empty() && !opts.key_file.is_empty() {
        let mut pem = std::fs::read(&opts.cert_file)
            .map_err(|e| Error::new(format!("can't create TLS config: open {}: {}", opts.cert_file, crate::io_msg(&e))))?;
        pem.push(b'\n');
        pem.extend(
            std::fs::read(&opts.key_file)
                .map_err(|e| Error::new(format!("can't create TLS config: open {}: {}", opts.key_file, crate::io_msg(&e))))?,
        );
        let id = reqwest::Identity::from_pem(&pem)
            .map_err(|e| Error::new(format!("can't create TLS config: can't load key pair from cert {} and key {}: {e}", opts.cert_file, opts.key_file)))?;
        b = b.identity(id);
    }
    if opts.insecure_skip_tls_verify {
        b = b.danger_accept_invalid_certs(true).danger_accept_invalid_hostnames(true);
    }
    b.build().map_err(|e| Error::new(format!("can't create HTTP client: {}", error_chain(&e))))
}

/// The error and its sources on one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// A transport error in Go's words where the cause is recognisable (connection refused, an
/// untrusted certificate), otherwise reqwest's chain.
pub(crate) fn go_transport_error(href: &str, e: &reqwest::Error) -> String {
    let chain = e.without_url_ref();
    if chain.contains("Connection refused") {
        if let Ok(u) = reqwest::Url::parse(href) {
            let host = u.host_str().unwrap_or("");
            let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_string() };
            return format!("dial tcp {host}:{}: connect: connection refused", u.port_or_known_default().unwrap_or(0));
        }
    }
    if chain.contains("UnknownIssuer") {
        return "tls: failed to verify certificate: x509: certificate signed by unknown authority".into();
    }
    chain
}

trait WithoutUrlRef {
    fn without_url_ref(&self) -> String;
}
impl WithoutUrlRef for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let mut s = String::new();
        let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(self);
        let top = self.to_string();
        let top = match self.url() {
            Some(u) => top.replace(&format!(" for url ({u})"), ""),
            None => top,
        };
        s.push_str(&top);
        while let Some(c) = cur {
            let t = c.to_string();
            if !s.contains(&t) {
                s.push_str(": ");
                s.push_str(&t);
            }
            cur = c.source();
        }
        s
    }
}

/// Go's `http.Response.Status` text for a code.
pub(crate) fn status_text(s: reqwest::StatusCode) -> String {
    format!("{} {}", s.as_u16(), s.canonical_reason().unwrap_or(""))
        .trim_end()
        .to_string()
}

/// Go: `HTTPGetter.Get(href)`: the body of a 200 response, or `failed to fetch HREF : STATUS`.
/// Basic auth is sent when both username and password are set and either
/// `pass_credentials_all` or `href` has the repository URL's scheme and host.
pub fn get(href: &str, opts: &GetOptions) -> Result<Vec<u8>> {
    let c = client(opts)?;
    get_with(&c, href, opts)
}

/// [`get`] with a ready client.
pub fn get_with(c: &reqwest::blocking::Client, href: &str, opts: &GetOptions) -> Result<Vec<u8>> {
    let target = reqwest::Url::parse(href).map_err(|e| Error::new(format!("parse {href:?}: {e}")))?;
    let mut req = c.get(target);
    if !opts.accept.is_empty() {
        req = req.header(reqwest::header::ACCEPT, &opts.accept);
    }
    let same = scheme_host(&opts.url).is_some_and(|a| Some(a) == scheme_host(href));
    if (opts.pass_credentials_all || same) && !opts.username.is_empty() && !opts.password.is_empty() {
        req = req.basic_auth(&opts.username, Some(&opts.password));
    }
    let resp = req.send().map_err(|e| Error::new(format!("Get {href:?}: {}", go_transport_error(href, &e))))?;
    if resp.status() != reqwest::StatusCode::OK {
        return Err(Error::new(format!("failed to fetch {href} : {}", status_text(resp.status()))));
    }
    let body = resp.bytes().map_err(|e| Error::new(format!("Get {href:?}: {}", error_chain(&e.without_url()))))?;
    Ok(body.to_vec())
}
