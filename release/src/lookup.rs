//! Templates rendered against the cluster (Helm's engine with a REST config):
//! `rudder_chart::render::Engine` with a `lookup` that reads live objects
//! (pkg/engine/lookup_func.go).
//!
//! Template functions are synchronous; the lookups run on a worker thread with its own runtime
//! and client, so rendering never blocks the caller's runtime on itself.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use rudder_chart::model::Chart;
use rudder_chart::render::Engine;
use rudder_engine::funcs::{Func, FuncError, Signature};
use rudder_engine::{GoType, List, Str, Value};

type Reply = mpsc::Sender<Result<serde_json::Value, String>>;
type Request = ([String; 4], Reply);

/// A thread answering lookups; it stops when the sender is dropped.
pub struct LookupWorker {
    tx: Mutex<mpsc::Sender<Request>>,
}

impl LookupWorker {
    pub fn start(config: kube::Config) -> LookupWorker {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            // The client is built at the first lookup: most charts never call one.
            let mut client = None;
            for (args, reply) in rx {
                let client = client.get_or_insert_with(|| {
                    rt.block_on(async { crate::kube::client(config.clone()) })
                });
                let res = match client {
                    Ok(c) => rt.block_on(lookup(c, &args)),
                    Err(e) => Err(e.to_string()),
                };
                let _ = reply.send(res);
            }
        });
        LookupWorker { tx: Mutex::new(tx) }
    }

    fn ask(&self, args: [String; 4]) -> Result<serde_json::Value, String> {
        let (rtx, rrx) = mpsc::channel();
        self.tx
            .lock()
            .map_err(|e| e.to_string())?
            .send((args, rtx))
            .map_err(|e| e.to_string())?;
        rrx.recv().map_err(|e| e.to_string())?
    }
}

async fn lookup(client: &kube::Client, args: &[String; 4]) -> Result<serde_json::Value, String> {
    let [api_version, kind, namespace, name] = args;
    let gv = api_version.as_str();
    let list = if gv.contains('/') {
        client.list_api_group_resources(gv).await
    } else {
        client.list_core_api_resources(gv).await
    };
    let (group, version) = gv.split_once('/').unwrap_or(("", gv));
    let gvk = format!("{group}/{version}, Kind={kind}");
    let list = list.map_err(|e| {
        format!(
            "unable to get apiresource from unstructured: {gvk}: {}",
            crate::kube::api_message(&e)
        )
    })?;
    let Some(res) = list
        .resources
        .iter()
        .find(|r| &r.kind == kind && !r.name.contains('/'))
    else {
        return Err(format!(
            "unable to get apiresource from unstructured: {gvk}: the server could not find the requested resource"
        ));
    };
    let ar = kube::discovery::ApiResource {
        group: group.to_string(),
        version: version.to_string(),
        api_version: gv.to_string(),
        kind: kind.clone(),
        plural: res.name.clone(),
    };
    let api: kube::Api<kube::api::DynamicObject> = if res.namespaced && !namespace.is_empty() {
        kube::Api::namespaced_with(client.clone(), namespace, &ar)
    } else {
        kube::Api::all_with(client.clone(), &ar)
    };
    if !name.is_empty() {
        return match api.get(name).await {
            Ok(o) => serde_json::to_value(o).map_err(|e| e.to_string()),
            Err(e) if crate::kube::is_not_found(&e) => Ok(serde_json::json!({})),
            Err(e) => Err(crate::kube::api_message(&e)),
        };
    }
    match api.list(&Default::default()).await {
        Ok(l) => {
            let mut v = serde_json::to_value(l).map_err(|e| e.to_string())?;
            v["apiVersion"] = serde_json::Value::String(gv.to_string());
            v["kind"] = serde_json::Value::String(format!("{kind}List"));
            Ok(v)
        }
        Err(e) if crate::kube::is_not_found(&e) => Ok(serde_json::json!({})),
        Err(e) => Err(crate::kube::api_message(&e)),
    }
}

/// JSON as Kubernetes' unstructured decoder gives it: whole numbers `int64`, others
/// `float64`, maps `map[string]interface {}`.
pub fn unstructured(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::int64(i),
            None => Value::float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::string(s.as_str()),
        serde_json::Value::Array(a) => Value::List(Arc::new(List {
            elem: GoType::Interface,
            items: a.iter().map(unstructured).collect(),
        })),
        serde_json::Value::Object(o) => Value::map(
            o.iter()
                .map(|(k, v)| (Str::from(k.as_str()), unstructured(v)))
                .collect(),
        ),
    }
}

/// A `lookup` that asks the cluster through `worker`.
fn cluster_lookup(worker: Arc<LookupWorker>) -> rudder_engine::FuncMap {
    let mut m = rudder_engine::FuncMap::new();
    m.insert(
        "lookup",
        Func::pure(
            Signature::new(vec![GoType::String; 4], GoType::any_map()).with_error(),
            move |a| {
                let s = |i: usize| a.get(i).and_then(|v| v.as_str()).unwrap_or("").to_string();
                match worker.ask([s(0), s(1), s(2), s(3)]) {
                    Ok(v) => Ok(match unstructured(&v) {
                        m @ Value::Map(_) => m,
                        _ => Value::empty_map(),
                    }),
                    Err(e) => Err(FuncError::new(e)),
                }
            },
        ),
    );
    m
}

/// Renders every template as `Engine::render` does, `lookup` answered by `worker` (an empty
/// map without one, as in `helm template`).
pub fn render(
    chart: &Chart,
    top: &Value,
    worker: Option<Arc<LookupWorker>>,
    enable_dns: bool,
) -> Result<BTreeMap<String, String>, String> {
    let engine = Engine {
        enable_dns,
        extra_funcs: worker.map(cluster_lookup),
        ..Engine::default()
    };
    engine.render(chart, top).map_err(|e| e.0)
}
