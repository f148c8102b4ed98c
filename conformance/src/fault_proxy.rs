//! A fault-injecting reverse proxy in front of the test bed's kube-apiserver, started inside a
//! test, so install/upgrade/list can be shown to survive (or fail clearly on) what real clusters
//! do: 429 with Retry-After under API priority and fairness, 500/503 from an overloaded or
//! restarting apiserver, connections cut mid-request, slow answers, and the apiserver being gone
//! altogether for a while.
//!
//! Clients speak plain HTTP/1.1 to the proxy (`http://127.0.0.1:<port>`, the kubeconfig from
//! [`FaultProxy::kubeconfig`] carries the test bed's token); the proxy forwards each client
//! connection over its own TLS connection to the apiserver, so one client connection maps to one
//! upstream connection and cutting one cuts the other. Watches stream through untouched.
//! client-go (so helm) sends no kubeconfig token to a plain-http server, so the proxy adds the
//! test bed's token to requests that come without an `Authorization` header.
//!
//! Faults are [`Rule`]s checked in order against each request's method and path (a glob where
//! `*` matches any run of characters, the query string excluded); the first rule that matches
//! and still has shots left decides. [`Fault::Outage`] (and [`FaultProxy::go_down`]) close the
//! listening socket and every open connection, so clients get "connection refused" like a
//! stopped apiserver, until the proxy listens again on the same port.
//!
//! The proxy runs on the test's tokio runtime: run blocking work (a real `helm` through
//! `std::process::Command`) with `spawn_blocking`, or the proxy stops answering while it waits.
//! `RUDDER_FAULT_PROXY_DEBUG=1` prints every request and its outcome.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What a matching request gets.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this status and a Kubernetes `Status` body; `retry_after` seconds go into a
    /// `Retry-After` header (client-go retries 429/5xx only when it is present).
    Status { code: u16, retry_after: Option<u64> },
    /// Close the connection without an answer.
    Drop,
    /// Wait, then forward normally.
    Delay(Duration),
    /// Stop listening and cut every connection for this long (this request included).
    Outage(Duration),
}

/// One entry of the schedule.
#[derive(Debug, Clone)]
pub struct Rule {
    method: Option<String>,
    path: String,
    skip: usize,
    times: Option<usize>,
    fault: Fault,
}

impl Rule {
    /// A rule matching every request, firing without limit until [`Rule::times`] says otherwise.
    pub fn new(fault: Fault) -> Self {
        Rule { method: None, path: "*".into(), skip: 0, times: None, fault }
    }
    /// `code` answers (429 gets `Retry-After: 1` unless [`Rule::retry_after`] changes it).
    pub fn status(code: u16) -> Self {
        Rule::new(Fault::Status { code, retry_after: (code == 429).then_some(1) })
    }
    /// Sets (or with None removes) the Retry-After of a [`Fault::Status`] rule.
    pub fn retry_after(mut self, secs: Option<u64>) -> Self {
        if let Fault::Status { retry_after, .. } = &mut self.fault {
            *retry_after = secs;
        }
        self
    }
    /// Only requests with this method (`GET`, `PATCH`, ...).
    pub fn method(mut self, m: &str) -> Self {
        self.method = Some(m.to_ascii_uppercase());
        self
    }
    /// Only paths matching this glob (`*` = any characters, e.g. `/api/v1/namespaces/*/secrets*`).
    pub fn path(mut self, glob: &str) -> Self {
        self.path = glob.to_string();
        self
    }
    /// Let the first `n` matching requests through untouched.
    pub fn after(mut self, n: usize) -> Self {
        self.skip = n;
        self
    }
    /// Fire on `n` matching requests, then stop.
    pub fn times(mut self, n: usize) -> Self {
        self.times = Some(n);
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method) && glob(&self.path, path)
    }
}

/// `*` matches any run of characters, everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// What happened to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Forwarded; the apiserver answered with this status.
    Forwarded(u16),
    /// Forwarding failed (the apiserver was unreachable); the client got a 502.
    Upstream(String),
    /// Answered by the proxy with this status.
    Injected(u16),
    /// Connection closed without an answer.
    Dropped,
    /// Started an outage.
    Outage,
}

/// One request seen by the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    /// Path without the query.
    pub path: String,
    pub query: String,
    /// Index of the rule that fired, if any.
    pub rule: Option<usize>,
    pub outcome: Outcome,
}

struct RuleState {
    rule: Rule,
    seen: usize,
    fired: usize,
}

struct Shared {
    rules: Mutex<Vec<RuleState>>,
    log: Mutex<Vec<Logged>>,
    /// Down until this instant (None = up). Bumping the watch tells the accept loop and every
    /// connection.
    down: watch::Sender<Option<Instant>>,
    upstream: Upstream,
    /// `Bearer <token>`, added to requests that carry no Authorization: client-go (helm) does
    /// not send a kubeconfig token to a plain-http server.
    auth: String,
}

#[derive(Clone)]
struct Upstream {
    host: String,
    port: u16,
    tls: Arc<rustls::ClientConfig>,
}

/// A running proxy; stopped on drop.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    kubeconfig: PathBuf,
    _dir: TempDir,
    task: tokio::task::JoinHandle<()>,
}

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn kubeconfig_field(text: &str, key: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(key).map(|v| v.trim().trim_matches('"').to_string()))
}

impl FaultProxy {
    /// A proxy in front of the test bed (its server and token from
    /// [`crate::testbed::testbed`]'s kubeconfig). Needs a tokio runtime.
    pub async fn start() -> Result<Self> {
        let kc = &crate::testbed::testbed().kubeconfig;
        Self::start_for(kc).await
    }

    /// A proxy in front of the cluster of a kubeconfig that uses a bearer token (`server:` and
    /// `token:` are read from it; its server certificate is not verified, as with
    /// `insecure-skip-tls-verify`, which is how the test bed's kubeconfig reaches it).
    pub async fn start_for(kubeconfig: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(kubeconfig)
            .with_context(|| format!("reading {}", kubeconfig.display()))?;
        let server = kubeconfig_field(&text, "server:")
            .with_context(|| format!("no server in {}", kubeconfig.display()))?;
        let token = kubeconfig_field(&text, "token:")
            .with_context(|| format!("no token in {}", kubeconfig.display()))?;
        let Some(hostport) = server.strip_prefix("https://") else {
            bail!("{}: server {server:?} is not https", kubeconfig.display());
        };
        let hostport = hostport.trim_end_matches('/');
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().context("server port")?),
            None => (hostport.to_string(), 443),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("TLS versions")?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyServer(provider)))
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];

        let listener = TcpListener::bind("127.0.0.1:0").await.context("binding the proxy")?;
        let addr = listener.local_addr()?;
        let (down, _) = watch::channel(None);
        let shared = Arc::new(Shared {
            rules: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            down,
            upstream: Upstream { host, port, tls: Arc::new(tls) },
            auth: format!("Bearer {token}"),
        });

        let dir = std::env::temp_dir().join(crate::testbed::unique_name("fault-proxy"));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("kubeconfig");
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: fault-proxy\n  cluster:\n    server: http://{addr}\nusers:\n- name: admin\n  user:\n    token: {token}\ncontexts:\n- name: fault-proxy\n  context:\n    cluster: fault-proxy\n    user: admin\ncurrent-context: fault-proxy\n"
            ),
        )?;
        let task = tokio::spawn(accept_loop(listener, addr, shared.clone()));
        Ok(FaultProxy { addr, shared, kubeconfig: path, _dir: TempDir(dir), task })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A kubeconfig pointing at the proxy with the test bed's token (deleted with the proxy).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// Appends a rule to the schedule.
    pub fn add(&self, rule: Rule) -> &Self {
        if let Ok(mut r) = self.shared.rules.lock() {
            r.push(RuleState { rule, seen: 0, fired: 0 });
        }
        self
    }

    /// Removes every rule (an outage in progress continues).
    pub fn clear(&self) {
        if let Ok(mut r) = self.shared.rules.lock() {
            r.clear();
        }
    }

    /// How many times each rule has fired, in order.
    pub fn fired(&self) -> Vec<usize> {
        self.shared.rules.lock().map(|r| r.iter().map(|s| s.fired).collect()).unwrap_or_default()
    }

    /// Whether every rule with a `times` limit has used it up.
    pub fn schedule_done(&self) -> bool {
        self.shared
            .rules
            .lock()
            .map(|r| r.iter().all(|s| s.rule.times.is_none_or(|t| s.fired >= t)))
            .unwrap_or(false)
    }

    /// Every request seen so far.
    pub fn log(&self) -> Vec<Logged> {
        self.shared.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Stops listening and cuts every connection until [`FaultProxy::come_up`].
    pub fn go_down(&self) {
        self.shared.down.send_replace(Some(Instant::now() + Duration::from_secs(86_400 * 365)));
    }

    /// Stops listening for `d`.
    pub fn outage(&self, d: Duration) {
        self.shared.down.send_replace(Some(Instant::now() + d));
    }

    /// Listens again.
    pub fn come_up(&self) {
        self.shared.down.send_replace(None);
    }

    /// Whether the proxy is refusing connections now.
    pub fn is_down(&self) -> bool {
        is_down(&self.shared)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
        // Connection tasks watch this: ending the proxy ends them too.
        self.shared.down.send_replace(Some(Instant::now() + Duration::from_secs(86_400 * 365)));
    }
}

fn is_down(shared: &Shared) -> bool {
    shared.down.borrow().is_some_and(|t| t > Instant::now())
}

async fn accept_loop(listener: TcpListener, addr: SocketAddr, shared: Arc<Shared>) {
    let mut listener = Some(listener);
    let mut changes = shared.down.subscribe();
    loop {
        let until = *changes.borrow_and_update();
        match until.filter(|t| *t > Instant::now()) {
            Some(t) => {
                // Down: no socket, so clients get "connection refused".
                listener = None;
                tokio::select! {
                    _ = tokio::time::sleep_until(t.into()) => {
                        // The outage ran out: mark up (unless someone changed it meanwhile).
                        shared.down.send_if_modified(|d| {
                            if *d == Some(t) { *d = None; true } else { false }
                        });
                    }
                    r = changes.changed() => if r.is_err() { return },
                }
            }
            None => {
                if listener.is_none() {
                    // Rebind the same port; another process taking it in between is retried.
                    for _ in 0..100 {
                        match TcpListener::bind(addr).await {
                            Ok(l) => {
                                listener = Some(l);
                                break;
                            }
                            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                        }
                    }
                }
                let Some(l) = listener.as_ref() else { return };
                tokio::select! {
                    accepted = l.accept() => {
                        if let Ok((stream, _)) = accepted {
                            tokio::spawn(serve(stream, shared.clone()));
                        }
                    }
                    r = changes.changed() => if r.is_err() { return },
                }
            }
        }
    }
}

/// `RUDDER_FAULT_PROXY_DEBUG=1` prints every request and what became of it.
fn debug() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("RUDDER_FAULT_PROXY_DEBUG").is_some_and(|v| v != "0"))
}

type Body = BoxBody<Bytes, hyper::Error>;

fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|never: Infallible| match never {}).boxed()
}

/// Serves one client connection until it ends or an outage cuts it.
async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    // Accepted just as an outage began (the listener goes away a moment later): refused too.
    if is_down(&shared) {
        return;
    }
    let _ = stream.set_nodelay(true);
    let upstream: Arc<tokio::sync::Mutex<Option<hyper::client::conn::http1::SendRequest<Incoming>>>> =
        Arc::new(tokio::sync::Mutex::new(None));
    let svc_shared = shared.clone();
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let shared = svc_shared.clone();
        let upstream = upstream.clone();
        async move { handle(req, shared, upstream).await }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), svc);
    let mut down = shared.down.subscribe();
    tokio::pin!(conn);
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            r = down.changed() => {
                if r.is_err() || is_down(&shared) {
                    return; // dropping the connection closes the socket
                }
            }
        }
    }
}

/// The proxy's own refusal of a request: closes the connection.
#[derive(Debug)]
struct Dropped;
impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the fault proxy")
    }
}
impl std::error::Error for Dropped {}

fn status_body(code: u16) -> String {
    let reason = match code {
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    };
    let text = StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error");
    serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": format!("fault proxy: injected {code} {text}"),
        "reason": reason,
        "code": code,
    })
    .to_string()
}

async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    upstream: Arc<tokio::sync::Mutex<Option<hyper::client::conn::http1::SendRequest<Incoming>>>>,
) -> Result<Response<Body>, Dropped> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    if is_down(&shared) {
        // A request that raced the outage on a connection not yet cut.
        if let Ok(mut l) = shared.log.lock() {
            l.push(Logged { method, path, query, rule: None, outcome: Outcome::Dropped });
        }
        return Err(Dropped);
    }
    let picked = {
        let mut rules = shared.rules.lock().map_err(|_| Dropped)?;
        let mut picked = None;
        for (i, st) in rules.iter_mut().enumerate() {
            if !st.rule.matches(&method, &path) {
                continue;
            }
            if st.rule.times.is_some_and(|t| st.fired >= t) {
                continue;
            }
            st.seen += 1;
            if st.seen <= st.rule.skip {
                continue;
            }
            st.fired += 1;
            picked = Some((i, st.rule.fault.clone()));
            break;
        }
        picked
    };
    if debug() {
        eprintln!("fault-proxy: -> {method} {path}?{query}");
    }
    let log = |rule: Option<usize>, outcome: Outcome| {
        if debug() {
            eprintln!("fault-proxy: <- {method} {path}: {outcome:?}");
        }
        if let Ok(mut l) = shared.log.lock() {
            l.push(Logged { method: method.clone(), path: path.clone(), query: query.clone(), rule, outcome });
        }
    };
    let rule = picked.as_ref().map(|(i, _)| *i);
    match picked.map(|(_, f)| f) {
        Some(Fault::Status { code, retry_after }) => {
            log(rule, Outcome::Injected(code));
            let mut resp = Response::builder()
                .status(code)
                .header("content-type", "application/json");
            if let Some(s) = retry_after {
                resp = resp.header("retry-after", s.to_string());
            }
            return resp.body(full(status_body(code))).map_err(|_| Dropped);
        }
        Some(Fault::Drop) => {
            log(rule, Outcome::Dropped);
            return Err(Dropped);
        }
        Some(Fault::Outage(d)) => {
            log(rule, Outcome::Outage);
            shared.down.send_replace(Some(Instant::now() + d));
            return Err(Dropped);
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        None => {}
    }
    let mut req = req;
    if !req.headers().contains_key(hyper::header::AUTHORIZATION) {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&shared.auth) {
            req.headers_mut().insert(hyper::header::AUTHORIZATION, v);
        }
    }
    match forward(req, &shared.upstream, &upstream).await {
        Ok(resp) => {
            log(rule, Outcome::Forwarded(resp.status().as_u16()));
            Ok(resp.map(|b| b.boxed()))
        }
        Err(e) => {
            let msg = format!("{e:#}");
            log(rule, Outcome::Upstream(msg.clone()));
            Response::builder()
                .status(502)
                .header("content-type", "text/plain")
                .body(full(format!("fault proxy: upstream: {msg}\n")))
                .map_err(|_| Dropped)
        }
    }
}

const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

async fn connect(up: &Upstream) -> Result<hyper::client::conn::http1::SendRequest<Incoming>> {
    let tcp = TcpStream::connect((up.host.as_str(), up.port))
        .await
        .with_context(|| format!("connecting to {}:{}", up.host, up.port))?;
    let _ = tcp.set_nodelay(true);
    let name = rustls::pki_types::ServerName::try_from(up.host.clone()).context("server name")?;
    let tls = tokio_rustls::TlsConnector::from(up.tls.clone())
        .connect(name, tcp)
        .await
        .context("TLS handshake with the apiserver")?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .context("HTTP handshake with the apiserver")?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn forward(
    mut req: Request<Incoming>,
    up: &Upstream,
    slot: &tokio::sync::Mutex<Option<hyper::client::conn::http1::SendRequest<Incoming>>>,
) -> Result<Response<Incoming>> {
    for h in HOP_BY_HOP {
        req.headers_mut().remove(h);
    }
    let mut guard = slot.lock().await;
    let reusable = match guard.as_mut() {
        Some(s) => s.ready().await.is_ok(),
        None => false,
    };
    if !reusable {
        *guard = Some(connect(up).await?);
    }
    let sender = guard.as_mut().context("no upstream connection")?;
    let mut resp = sender.send_request(req).await.context("forwarding to the apiserver")?;
    for h in HOP_BY_HOP {
        resp.headers_mut().remove(h);
    }
    Ok(resp)
}

/// Accepts any server certificate (the test bed's kubeconfig says insecure-skip-tls-verify) but
/// still checks the handshake signatures, so the TLS session itself is sound.
#[derive(Debug)]
struct AnyServer(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob("*", "/api/v1"));
        assert!(glob("/api/v1/namespaces/*/secrets*", "/api/v1/namespaces/a-b/secrets"));
        assert!(glob("/api/v1/namespaces/*/secrets*", "/api/v1/namespaces/x/secrets/sh.helm"));
        assert!(!glob("/api/v1/namespaces/*/secrets", "/api/v1/namespaces/x/configmaps"));
        assert!(glob("*/leases/*", "/apis/coordination.k8s.io/v1/namespaces/n/leases/l"));
        assert!(!glob("/apis*", "/api/v1"));
    }
}
