//! A rendered manifest as API objects (Helm's `KubeClient.Build`): the YAML stream split into
//! documents, `List` kinds flattened, each object mapped to its resource through discovery and
//! given the default namespace when it is namespaced and names none.

use serde_json::{Map, Value};

use super::discovery::{Mapper, Mapping};
use super::KubeError;

/// One object of a manifest.
#[derive(Debug, Clone)]
pub struct Resource {
    pub mapping: Mapping,
    /// `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    pub name: String,
    /// The object as JSON (nulls dropped).
    pub obj: Value,
}

/// Helm's `objectKey`: apiVersion, kind, namespace, name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl Resource {
    pub fn kind(&self) -> &str {
        &self.mapping.api.kind
    }

    pub fn key(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.mapping.api.api_version.clone(),
            kind: self.mapping.api.kind.clone(),
            namespace: self.namespace.clone().unwrap_or_default(),
            name: self.name.clone(),
        }
    }

    /// Helm's `resourceString`: `Kind "name" in namespace "ns"`.
    pub fn describe(&self) -> String {
        format!(
            "{} {} in namespace {}",
            self.kind(),
            go_quote(&self.name),
            go_quote(self.namespace.as_deref().unwrap_or(""))
        )
    }

    /// Go's `GroupVersionKind.String()`: `apps/v1, Kind=Deployment`, `/v1, Kind=ConfigMap`.
    pub fn gvk_string(&self) -> String {
        let api = &self.mapping.api;
        format!("{}/{}, Kind={}", api.group, api.version, api.kind)
    }

    /// `namespace/name` as Helm's apply errors print it.
    pub fn ns_name(&self) -> String {
        format!("{}/{}", self.namespace.as_deref().unwrap_or(""), self.name)
    }

    pub fn annotations(&self) -> Map<String, Value> {
        self.obj["metadata"]["annotations"]
            .as_object()
            .cloned()
            .unwrap_or_default()
    }
}

/// Go's `%q` for plain strings.
pub fn go_quote(s: &str) -> String {
    rudder_engine::print::quote(s)
}

/// An engine value as the JSON Go's encoding/json writes for it (whole floats as integers).
pub fn value_to_json(v: &rudder_engine::Value) -> Result<Value, String> {
    let text = rudder_engine::json::to_json(v)?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// Removes `null` map entries everywhere: server-side apply rejects or misreads them (an
/// explicit null in an apply patch means "remove", which a rendered template never intends).
pub fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            for x in m.values_mut() {
                drop_nulls(x);
            }
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                drop_nulls(x);
            }
        }
        _ => {}
    }
}

/// Parses the documents of a manifest into JSON objects (empty documents skipped, Lists
/// flattened).
pub fn parse_objects(manifest: &str) -> Result<Vec<Value>, KubeError> {
    let docs = rudder_engine::yaml::split_documents(manifest).map_err(KubeError)?;
    let mut out = Vec::new();
    for d in docs {
        let v = rudder_engine::yaml::from_yaml(&d).map_err(|e| KubeError(format!("error parsing : {e}")))?;
        let mut j = value_to_json(&v).map_err(KubeError)?;
        if j.is_null() {
            continue;
        }
        drop_nulls(&mut j);
        if !j.is_object() {
            return Err(KubeError(format!(
                "error unmarshaling JSON: json: cannot unmarshal into Go value of type map[string]interface {{}}: {}",
                d.trim()
            )));
        }
        let kind = j["kind"].as_str().unwrap_or("").to_string();
        if kind.ends_with("List") && j.get("items").is_some_and(Value::is_array) {
            for item in j["items"].as_array().cloned().unwrap_or_default() {
                out.push(item);
            }
            continue;
        }
        out.push(j);
    }
    Ok(out)
}

/// Helm's `Build`: every object of `manifest` mapped through discovery. Namespaced objects
/// without a namespace get `default_ns`; cluster-scoped ones lose any namespace they name.
pub async fn build(mapper: &Mapper, manifest: &str, default_ns: &str) -> Result<Vec<Resource>, KubeError> {
    let objs = parse_objects(manifest)?;
    let mut out = Vec::with_capacity(objs.len());
    for mut obj in objs {
        let api_version = obj["apiVersion"].as_str().unwrap_or("").to_string();
        let kind = obj["kind"].as_str().unwrap_or("").to_string();
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        let ns = obj["metadata"]["namespace"].as_str().unwrap_or("").to_string();
        // kubectl's schema check (Helm builds with validation on).
        match (api_version.is_empty(), kind.is_empty()) {
            (true, true) => {
                return Err(KubeError(
                    "error validating \"\": error validating data: [apiVersion not set, kind not set]".into(),
                ))
            }
            (true, false) => {
                return Err(KubeError(
                    "error validating \"\": error validating data: apiVersion not set".into(),
                ))
            }
            (false, true) => {
                return Err(KubeError(
                    "error validating \"\": error validating data: kind not set".into(),
                ))
            }
            _ => {}
        }
        let Some(mapping) = mapper.mapping(&api_version, &kind).await? else {
            let (group, version) = match api_version.split_once('/') {
                Some((g, v)) => (g.to_string(), v.to_string()),
                None => (String::new(), api_version.clone()),
            };
            let _ = group;
            return Err(KubeError(format!(
                "resource mapping not found for name: {} namespace: {} from \"\": no matches for kind {} in version {}\nensure CRDs are installed first",
                go_quote(&name),
                go_quote(&ns),
                go_quote(&kind),
                go_quote(&if api_version.contains('/') { api_version.clone() } else { version })
            )));
        };
        let namespace = if mapping.namespaced {
            let n = if ns.is_empty() { default_ns.to_string() } else { ns };
            if let Some(md) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                md.insert("namespace".into(), Value::String(n.clone()));
            }
            Some(n)
        } else {
            if let Some(md) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                md.remove("namespace");
            }
            None
        };
        out.push(Resource {
            mapping,
            namespace,
            name,
            obj,
        });
    }
    Ok(out)
}
