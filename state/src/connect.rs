//! kube-rs clients whose connections behave like Go's: TCP_NODELAY on every socket.
//!
//! kube-rs builds its TCP connector with hyper's default, Nagle's algorithm on. On a new TLS
//! connection the client's last handshake flight and its first request then go out as two
//! small writes; the second waits until the server ACKs the first, and servers delay that ACK
//! (about 40 ms on Linux). Every fresh connection paid those 40 ms before its first answer:
//! `list` spent most of its time there. Go's `net` package sets TCP_NODELAY on every TCP
//! connection, so helm never waits. The stack below is kube-rs's own
//! (`ClientBuilder::try_from`: TLS from the config, timeouts, base URI, auth, extra headers,
//! its retry policy when enabled) around a connector with TCP_NODELAY set.

use hyper_timeout::TimeoutConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kube::client::{Body, ClientBuilder, ConfigExt, DynBody};
use kube::Config;
use tower::util::BoxService;
use tower::{BoxError, ServiceBuilder, ServiceExt as _};

/// kube-rs's `GenericService` (not exported by name): the boxed service of a client stack.
pub type GenericService = BoxService<http::Request<Body>, http::Response<Box<DynBody>>, BoxError>;

/// kube-rs's client stack for `config`, with TCP_NODELAY connections. Configurations this
/// stack does not cover (a proxy, exec credentials that carry client certificates and their
/// expiry) get kube-rs's own builder unchanged.
pub fn client_builder(config: Config) -> Result<ClientBuilder<GenericService>, kube::Error> {
    if config.proxy_url.is_some() || config.auth_info.exec.is_some() {
        return ClientBuilder::try_from(config);
    }
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    let tls = config.rustls_https_connector_with_connector(tcp)?;
    let mut connector = TimeoutConnector::new(tls);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let http: hyper_util::client::legacy::Client<_, Body> =
        hyper_util::client::legacy::Builder::new(TokioExecutor::new()).build(connector);

    let retry = config
        .default_retry
        .then(|| tower::retry::RetryLayer::new(kube::client::retry::RetryPolicy::server_retry()));
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(retry)
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(BoxError::from)
        .service(http)
        .map_response(|res: http::Response<hyper::body::Incoming>| {
            res.map(|body| Box::new(http_body_util::BodyExt::map_err(body, BoxError::from)) as Box<DynBody>)
        })
        .boxed();
    Ok(ClientBuilder::new(service, config.default_namespace))
}
