//! Retries as Helm's client (client-go `rest.Request` plus Helm's `RetryingRoundTripper`)
//! makes them, so an overloaded or restarting apiserver costs an operation a wait, not a failed
//! upgrade, and never a retry client-go would not make:
//!
//! - an answer 429 or 5xx **with** a `Retry-After: <seconds>` header, on any method (client-go's
//!   `checkWait`; the request bodies Rudder sends are bytes, which client-go replays): wait that
//!   long and send again;
//! - a GET whose connection was reset or closed before the answer (client-go's
//!   `IsConnectionReset` / `IsProbableEOF` for non-watch requests): send again after 1 s, the
//!   artificial `Retry-After: 1` client-go uses; writes are never replayed after a transport
//!   error, since the apiserver may have applied them;
//! - a 5xx JSON `Status` ending in `etcdserver: leader changed` or `raft proposal dropped`
//!   (Helm 4's `RetryingRoundTripper`, pkg/kubeenv): sent once more at once;
//! - at most [`MAX_RETRIES`] (client-go's 10) `Retry-After` retries per request, then the last
//!   answer goes to the caller as the API error it is.
//!
//! A 5xx without `Retry-After`, a refused connection, a timeout: no retry (client-go makes
//! none), the caller gets the error. Transport errors are worded as Go's `url.Error`
//! (`Patch "https://…": dial tcp 127.0.0.1:6443: connect: connection refused`), with client-go's
//! `- error from a previous attempt: …` when an earlier attempt failed differently.
//!
//! kube-rs's own retry layer (`Config::default_retry`) is switched off where this one is used:
//! it retries 503/504 without `Retry-After` and up to 15 times with growing backoff.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use kube::client::Body;
use tower::{BoxError, Layer, Service, ServiceExt};

/// client-go's `maxRetries` for a request.
pub const MAX_RETRIES: usize = 10;

/// The wait client-go puts on a retried connection reset (its artificial `Retry-After: 1`).
const RESET_WAIT: Duration = Duration::from_secs(1);

/// Immediate re-sends of Helm's `RetryingRoundTripper` for etcd leader changes.
const ETCD_RETRIES: usize = 1;

/// The response body after the layer (buffered when it had to be read).
pub type RetryBody = UnsyncBoxBody<Bytes, BoxError>;

/// The layer: wraps a kube-rs client stack.
#[derive(Debug, Clone)]
pub struct RetryLayer {
    max_retries: usize,
    /// The cluster URL: requests reach this layer with a relative URI (kube-rs adds the base
    /// further in), errors name the whole URL as Go does.
    base: Option<Uri>,
}

impl RetryLayer {
    /// A layer allowing `max_retries` `Retry-After` retries per request (0: none).
    pub fn new(max_retries: usize) -> Self {
        RetryLayer {
            max_retries,
            base: None,
        }
    }

    /// The cluster URL the requests go to (for the URLs in error messages).
    pub fn base(mut self, url: Uri) -> Self {
        self.base = Some(url);
        self
    }
}

impl Default for RetryLayer {
    fn default() -> Self {
        RetryLayer::new(MAX_RETRIES)
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retry<S>;
    fn layer(&self, inner: S) -> Retry<S> {
        Retry {
            inner: Arc::new(tokio::sync::Mutex::new(inner)),
            max_retries: self.max_retries,
            base: self.base.clone(),
        }
    }
}

/// The service of [`RetryLayer`]. The inner stack (kube-rs's boxed service is not `Clone`) is
/// shared behind a mutex held only while it is made ready and called, never across a response.
pub struct Retry<S> {
    inner: Arc<tokio::sync::Mutex<S>>,
    max_retries: usize,
    base: Option<Uri>,
}

impl<S, B> Service<Request<Body>> for Retry<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<RetryBody>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Readiness is awaited per attempt in `call`.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let inner = self.inner.clone();
        let max = self.max_retries;
        let url = full_url(self.base.as_ref(), req.uri());
        Box::pin(send(inner, req, max, url))
    }
}

/// One request through the retry rules.
async fn send<S, B>(
    inner: Arc<tokio::sync::Mutex<S>>,
    req: Request<Body>,
    max_retries: usize,
    uri: Uri,
) -> Result<Response<RetryBody>, BoxError>
where
    S: Service<Request<Body>, Response = Response<B>> + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let method = req.method().clone();
    let watch = uri
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == "watch=true" || kv == "watch=1"));
    let mut req = Some(req);
    let mut retries = 0;
    let mut etcd_retries = 0;
    let mut previous: Option<String> = None;
    loop {
        let Some(this) = req.take() else {
            return Err("request could not be replayed".into());
        };
        // A spare copy for the next attempt (bodies Rudder sends are bytes, always clonable).
        let spare = clone_request(&this);
        let fut = {
            let mut svc = inner.lock().await;
            svc.ready().await.map_err(Into::into)?;
            svc.call(this)
        };
        let outcome = fut.await.map_err(Into::into);
        let resp = match outcome {
            Err(e) => {
                if e.downcast_ref::<kube::Error>().is_some() {
                    // Errors of kube-rs's own layers (auth) pass through as they are.
                    return Err(e);
                }
                let cause = cause_text(&*e, &uri);
                let resettable = method == Method::GET && !watch && is_probable_eof(&*e);
                if resettable && retries < max_retries && spare.is_some() {
                    retries += 1;
                    tracing::debug!(
                        method = %method, url = %uri, attempt = retries, delay = ?RESET_WAIT,
                        "retrying after a lost connection: {cause}"
                    );
                    previous = Some(cause);
                    req = spare;
                    tokio::time::sleep(RESET_WAIT).await;
                    continue;
                }
                return Err(Box::new(TransportError {
                    method,
                    url: uri.to_string(),
                    cause,
                    previous,
                }));
            }
            Ok(r) => r,
        };
        let status = resp.status();
        if status.as_u16() < 500 && status != StatusCode::TOO_MANY_REQUESTS {
            return Ok(boxed(resp));
        }
        let wait = retry_after(&resp);
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.map_err(Into::into)?.to_bytes();
        let resp = Response::from_parts(parts, bytes);
        if status.as_u16() >= 500
            && etcd_retries < ETCD_RETRIES
            && spare.is_some()
            && is_etcd_transient(&resp)
        {
            etcd_retries += 1;
            tracing::debug!(method = %method, url = %uri, status = status.as_u16(), "retrying an etcd leader change");
            req = spare;
            continue;
        }
        match wait {
            Some(secs) if retries < max_retries && spare.is_some() => {
                retries += 1;
                tracing::debug!(
                    method = %method, url = %uri, status = status.as_u16(), attempt = retries,
                    delay_seconds = secs, "Got a Retry-After response"
                );
                previous = None;
                req = spare;
                tokio::time::sleep(Duration::from_secs(secs)).await;
            }
            _ => {
                if wait.is_some() {
                    tracing::debug!(method = %method, url = %uri, status = status.as_u16(), "giving up after {retries} retries");
                }
                return Ok(
                    resp.map(|b| Full::new(b).map_err(|never| match never {}).boxed_unsync())
                );
            }
        }
    }
}

fn boxed<B>(resp: Response<B>) -> Response<RetryBody>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    resp.map(|b| b.map_err(Into::into).boxed_unsync())
}

/// `uri` under `base` when it is relative (the base's own path kept, as kube-rs joins them).
fn full_url(base: Option<&Uri>, uri: &Uri) -> Uri {
    let Some(base) = base.filter(|_| uri.scheme().is_none()) else {
        return uri.clone();
    };
    let prefix = base.to_string();
    let rest = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    format!("{}{rest}", prefix.trim_end_matches('/'))
        .parse()
        .unwrap_or_else(|_| uri.clone())
}

/// client-go's `checkWait`: seconds of a 429/5xx answer's integer `Retry-After`.
fn retry_after<B>(resp: &Response<B>) -> Option<u64> {
    let code = resp.status().as_u16();
    if code != 429 && code < 500 {
        return None;
    }
    resp.headers()
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<i64>()
        .ok()
        .map(|s| s.max(0) as u64)
}

/// Helm's `RetryingRoundTripper` test: a JSON Status whose message ends in an etcd
/// leader-change error.
fn is_etcd_transient(resp: &Response<Bytes>) -> bool {
    let json = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "application/json");
    if !json {
        return false;
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(resp.body()) else {
        return false;
    };
    if v["code"].as_i64().unwrap_or(0) < 500 {
        return false;
    }
    let msg = v["message"].as_str().unwrap_or("");
    msg.ends_with("etcdserver: leader changed") || msg.ends_with("raft proposal dropped")
}

fn clone_request(req: &Request<Body>) -> Option<Request<Body>> {
    let body = req.body().try_clone()?;
    let mut out = Request::builder()
        .method(req.method().clone())
        .uri(req.uri().clone())
        .version(req.version())
        .body(body)
        .ok()?;
    *out.headers_mut() = req.headers().clone();
    *out.extensions_mut() = req.extensions().clone();
    Some(out)
}

/// The error and its sources, lowercased, for matching.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out.to_lowercase()
}

fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = cur {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cur = s.source();
    }
    None
}

/// Go's `net.IsConnectionReset || net.IsProbableEOF`: the connection went away under a
/// request that was sent.
fn is_probable_eof(e: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind::*;
    if matches!(
        io_kind(e),
        Some(ConnectionReset | ConnectionAborted | UnexpectedEof | BrokenPipe)
    ) {
        return true;
    }
    let c = chain(e);
    c.contains("connection closed before message completed")
        || c.contains("connection reset")
        || c.contains("unexpected eof")
        || c.contains("unexpected end of file")
}

/// The cause in Go's words where there is a Go equivalent.
fn cause_text(e: &(dyn std::error::Error + 'static), uri: &Uri) -> String {
    use std::io::ErrorKind::*;
    let host = uri
        .authority()
        .map(|a| {
            let port = a.port_u16().unwrap_or(if uri.scheme_str() == Some("http") {
                80
            } else {
                443
            });
            format!("{}:{port}", a.host())
        })
        .unwrap_or_default();
    let c = chain(e);
    match io_kind(e) {
        Some(ConnectionRefused) => return format!("dial tcp {host}: connect: connection refused"),
        Some(ConnectionReset) => return format!("read tcp {host}: read: connection reset by peer"),
        Some(TimedOut) if c.contains("client error (connect)") => {
            return format!("dial tcp {host}: i/o timeout")
        }
        Some(TimedOut) => {
            return "net/http: request canceled (Client.Timeout exceeded while awaiting headers)"
                .into()
        }
        _ => {}
    }
    if c.contains("connection closed before message completed") || c.contains("unexpected eof") {
        return "EOF".into();
    }
    if c.contains("timed out") || c.contains("deadline has elapsed") {
        return "net/http: request canceled (Client.Timeout exceeded while awaiting headers)"
            .into();
    }
    c
}

/// A request that got no answer, worded as Go's `url.Error` (what helm prints).
#[derive(Debug)]
pub struct TransportError {
    pub method: Method,
    pub url: String,
    pub cause: String,
    /// The failure of an earlier attempt of the same request, when it differs.
    pub previous: Option<String>,
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Go's urlErrorOp: "Get", "Patch", ...
        let m = self.method.as_str();
        let op = format!("{}{}", &m[..1], m[1..].to_lowercase());
        write!(f, "{op} {:?}: {}", self.url, self.cause)?;
        if let Some(p) = self.previous.as_ref().filter(|p| **p != self.cause) {
            write!(f, " - error from a previous attempt: {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TransportError {}

/// The [`TransportError`] inside a kube-rs error, if any.
pub fn transport_error(e: &kube::Error) -> Option<&TransportError> {
    match e {
        kube::Error::Service(b) => b.downcast_ref::<TransportError>(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_only_on_429_and_5xx_with_integer_seconds() {
        let r = |code: u16, h: Option<&str>| {
            let mut b = Response::builder().status(code);
            if let Some(h) = h {
                b = b.header("retry-after", h);
            }
            retry_after(&b.body(()).unwrap())
        };
        assert_eq!(r(429, Some("2")), Some(2));
        assert_eq!(r(500, Some("1")), Some(1));
        assert_eq!(r(503, Some("0")), Some(0));
        assert_eq!(r(503, None), None);
        assert_eq!(r(409, Some("1")), None);
        assert_eq!(r(429, Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
    }

    /// What the stub apiserver answers on attempt `n` (0-based).
    type Script = fn(usize) -> Result<Response<Full<Bytes>>, BoxError>;

    /// Sends `method` through the layer in front of a stub answering by `script`; returns the
    /// outcome (status or error text) and how many attempts reached the stub.
    async fn through(method: Method, max: usize, script: Script) -> (Result<u16, String>, usize) {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let c = calls.clone();
        let stub = tower::service_fn(move |_req: Request<Body>| {
            let n = c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move { script(n) }
        });
        let mut svc = RetryLayer::new(max).layer(stub);
        let req = Request::builder()
            .method(method)
            .uri("http://127.0.0.1:1/api/v1/namespaces/n/configmaps/c")
            .body(Body::from(b"{}".to_vec()))
            .unwrap();
        let out = svc
            .call(req)
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| e.to_string());
        (out, calls.load(std::sync::atomic::Ordering::SeqCst))
    }

    fn answer(code: u16, retry_after: Option<&str>) -> Result<Response<Full<Bytes>>, BoxError> {
        let mut b = Response::builder()
            .status(code)
            .header("content-type", "application/json");
        if let Some(r) = retry_after {
            b = b.header("retry-after", r);
        }
        Ok(b.body(Full::new(Bytes::from_static(b"{}"))).unwrap())
    }

    #[tokio::test]
    async fn retry_after_is_honoured_on_any_method() {
        let script: Script = |n| {
            if n < 2 {
                answer(429, Some("0"))
            } else {
                answer(200, None)
            }
        };
        assert_eq!(through(Method::PATCH, 10, script).await, (Ok(200), 3));
        let script: Script = |n| {
            if n < 1 {
                answer(500, Some("0"))
            } else {
                answer(201, None)
            }
        };
        assert_eq!(through(Method::POST, 10, script).await, (Ok(201), 2));
    }

    #[tokio::test]
    async fn no_retry_without_retry_after_and_at_most_max() {
        assert_eq!(
            through(Method::GET, 10, |_| answer(503, None)).await,
            (Ok(503), 1)
        );
        assert_eq!(
            through(Method::GET, 10, |_| answer(429, None)).await,
            (Ok(429), 1)
        );
        assert_eq!(
            through(Method::GET, 3, |_| answer(429, Some("0"))).await,
            (Ok(429), 4)
        );
        assert_eq!(
            through(Method::GET, 0, |_| answer(429, Some("0"))).await,
            (Ok(429), 1)
        );
    }

    #[tokio::test]
    async fn etcd_leader_change_is_sent_once_more() {
        let script: Script = |_| {
            Ok(Response::builder()
                .status(500)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from_static(
                    br#"{"kind":"Status","code":500,"message":"etcdserver: leader changed"}"#,
                )))
                .unwrap())
        };
        assert_eq!(through(Method::PUT, 10, script).await, (Ok(500), 2));
    }

    #[tokio::test]
    async fn lost_connections_retry_reads_only() {
        let eof: Script = |n| {
            if n == 0 {
                Err("client error (SendRequest): connection closed before message completed".into())
            } else {
                answer(200, None)
            }
        };
        assert_eq!(through(Method::GET, 10, eof).await, (Ok(200), 2));
        let (out, calls) = through(Method::PATCH, 10, eof).await;
        assert_eq!(calls, 1);
        assert_eq!(
            out.unwrap_err(),
            "Patch \"http://127.0.0.1:1/api/v1/namespaces/n/configmaps/c\": EOF"
        );
        let refused: Script = |_| {
            Err(Box::new(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "Connection refused",
            )))
        };
        let (out, calls) = through(Method::GET, 10, refused).await;
        assert_eq!(calls, 1);
        assert_eq!(
            out.unwrap_err(),
            "Get \"http://127.0.0.1:1/api/v1/namespaces/n/configmaps/c\": dial tcp 127.0.0.1:1: connect: connection refused"
        );
    }

    #[test]
    fn relative_uris_are_named_under_the_cluster_url() {
        let base: Uri = "http://127.0.0.1:8080".parse().unwrap();
        let rel: Uri = "/api/v1/namespaces/a/secrets?labelSelector=owner%3Dhelm"
            .parse()
            .unwrap();
        assert_eq!(
            full_url(Some(&base), &rel).to_string(),
            "http://127.0.0.1:8080/api/v1/namespaces/a/secrets?labelSelector=owner%3Dhelm"
        );
        let base: Uri = "https://h/k8s/clusters/c-1/".parse().unwrap();
        assert_eq!(
            full_url(Some(&base), &"/version".parse().unwrap()).to_string(),
            "https://h/k8s/clusters/c-1/version"
        );
        assert_eq!(full_url(None, &rel), rel);
    }

    #[test]
    fn transport_errors_read_as_go() {
        let e = TransportError {
            method: Method::PATCH,
            url: "http://127.0.0.1:1/api/v1/namespaces/a/configmaps/b?fieldManager=helm".into(),
            cause: "dial tcp 127.0.0.1:1: connect: connection refused".into(),
            previous: Some("EOF".into()),
        };
        assert_eq!(
            e.to_string(),
            "Patch \"http://127.0.0.1:1/api/v1/namespaces/a/configmaps/b?fieldManager=helm\": dial tcp 127.0.0.1:1: connect: connection refused - error from a previous attempt: EOF"
        );
    }
}
