//! The live objects `helm status` shows (pkg/action/status.go, pkg/kube/client.go `Get` with
//! related pods): each manifest object fetched from the cluster — as a server-side `Table`
//! for table output, printed the way kubectl's `TablePrinter` prints one object at a time — plus
//! the pods matched by the `spec.selector` of ReplicaSets, Deployments, StatefulSets,
//! DaemonSets, Jobs and ReplicationControllers (key `v1/Pod(related)`).
//!
//! Helm keeps these in a Go map and prints the kinds in map order, which Go randomises; Rudder
//! prints them in manifest order (the same whenever a release has one kind).

use std::collections::BTreeMap;

use kube::core::GroupVersionKind;
use kube::discovery::{ApiResource, Scope};
use rudder_engine::value::Value;
use rudder_state::driver::DriverKind;
use rudder_state::Release;

use super::{InspectError, Target};

/// Objects by `version/Kind`, in first-seen order.
#[derive(Debug, Default)]
pub struct Resources {
    /// Table mode: the printed kubectl tables per kind.
    pub tables: Vec<(String, String)>,
    /// Object mode: the objects per kind.
    pub objects: Vec<(String, Vec<serde_json::Value>)>,
}

impl Resources {
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty() && self.objects.is_empty()
    }

    /// `info.resources` as JSON (a map, sorted by key as Go encodes maps).
    pub fn objects_json(&self) -> serde_json::Value {
        if self.objects.is_empty() {
            return serde_json::Value::Null;
        }
        let m: serde_json::Map<String, serde_json::Value> =
            self.objects.iter().map(|(k, v)| (k.clone(), serde_json::Value::Array(v.clone()))).collect();
        serde_json::Value::Object(m)
    }

    fn push_table(&mut self, kind: &str, text: String) {
        match self.tables.iter_mut().find(|(k, _)| k == kind) {
            Some((_, t)) => t.push_str(&text),
            None => self.tables.push((kind.to_string(), text)),
        }
    }

    fn push_object(&mut self, kind: &str, obj: serde_json::Value) {
        match self.objects.iter_mut().find(|(k, _)| k == kind) {
            Some((_, v)) => v.push(obj),
            None => self.objects.push((kind.to_string(), vec![obj])),
        }
    }
}

/// A manifest object's identity.
struct Ref {
    api_version: String,
    kind: String,
    name: String,
    namespace: Option<String>,
    selector: Option<BTreeMap<String, String>>,
}

fn manifest_refs(manifest: &str) -> Vec<Ref> {
    let docs = rudder_engine::yaml::from_yaml_documents(manifest).unwrap_or_default();
    let s = |v: &Value, path: &[&str]| -> Option<String> {
        let mut cur = v.clone();
        for p in path {
            cur = match &cur {
                Value::Map(m) => m.get(p)?,
                _ => return None,
            };
        }
        cur.as_str().map(str::to_string)
    };
    let string_map = |v: &Value, path: &[&str]| -> Option<BTreeMap<String, String>> {
        let mut cur = v.clone();
        for p in path {
            cur = match &cur {
                Value::Map(m) => m.get(p)?,
                _ => return None,
            };
        }
        match &cur {
            Value::Map(m) => Some(m.read().iter().filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string()))).collect()),
            _ => None,
        }
    };
    docs.iter()
        .filter_map(|d| {
            let kind = s(d, &["kind"])?;
            let selector = match kind.as_str() {
                "ReplicaSet" | "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => string_map(d, &["spec", "selector", "matchLabels"]),
                "ReplicationController" => string_map(d, &["spec", "selector"]),
                _ => None,
            };
            Some(Ref {
                api_version: s(d, &["apiVersion"]).unwrap_or_default(),
                kind,
                name: s(d, &["metadata", "name"]).unwrap_or_default(),
                namespace: s(d, &["metadata", "namespace"]).filter(|n| !n.is_empty()),
                selector,
            })
        })
        .collect()
}

/// Fetches the release's objects (none for the memory driver, as Helm's fake client there).
pub async fn fetch(target: &Target, rel: &Release, table: bool) -> Result<Resources, InspectError> {
    let mut out = Resources::default();
    if target.driver == DriverKind::Memory {
        return Ok(out);
    }
    let refs = manifest_refs(&rel.manifest);
    if refs.is_empty() {
        return Ok(out);
    }
    let client = rudder_state::driver::kube::client(target.kubeconfig.as_deref(), target.context.as_deref())
        .await
        .map_err(|e| InspectError::new(format!("kubernetes cluster unreachable: {e}")))?;
    let mut found: BTreeMap<(String, String), (ApiResource, bool)> = BTreeMap::new();
    let mut printer = TablePrinter::default();
    let mut selectors: Vec<BTreeMap<String, String>> = Vec::new();
    for r in refs {
        let key = (r.api_version.clone(), r.kind.clone());
        if !found.contains_key(&key) {
            let (group, version) = match r.api_version.split_once('/') {
                Some((g, v)) => (g.to_string(), v.to_string()),
                None => (String::new(), r.api_version.clone()),
            };
            let gvk = GroupVersionKind::gvk(&group, &version, &r.kind);
            let (ar, caps) = kube::discovery::pinned_kind(&client, &gvk).await.map_err(|e| {
                InspectError::new(format!(
                    "unable to build kubernetes objects from release manifest: resource mapping not found for name: {:?} namespace: {:?} from \"\": no matches for kind {:?} in version {:?}\nensure CRDs are installed first: {e}",
                    r.name,
                    r.namespace.clone().unwrap_or_default(),
                    r.kind,
                    r.api_version
                ))
            })?;
            found.insert(key.clone(), (ar, caps.scope == Scope::Namespaced));
        }
        let (ar, namespaced) = found[&key].clone();
        let ns = namespaced.then(|| r.namespace.clone().unwrap_or_else(|| target.namespace.clone()));
        let vk = format!("{}/{}", ar.version, ar.kind);
        let path = object_path(&ar, ns.as_deref(), Some(&r.name));
        let Ok(body) = get(&client, &path, table).await else { continue };
        if table {
            out.push_table(&vk, printer.print(&body));
        } else {
            out.push_object(&vk, body);
        }
        if let Some(sel) = r.selector {
            if selectors.contains(&sel) {
                continue;
            }
            selectors.push(sel.clone());
            let pods = ApiResource::erase::<k8s_openapi::api::core::v1::Pod>(&());
            let selector: Vec<String> = sel.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let path = format!(
                "{}?labelSelector={}",
                object_path(&pods, Some(ns.as_deref().unwrap_or(&target.namespace)), None),
                url_escape(&selector.join(","))
            );
            let Ok(body) = get(&client, &path, table).await else { continue };
            if table {
                out.push_table("v1/Pod(related)", printer.print(&body));
            } else {
                // The pods come as one PodList object (an unstructured list, whose items carry
                // apiVersion and kind).
                let mut list = body;
                if let Some(items) = list.get_mut("items").and_then(|i| i.as_array_mut()) {
                    for p in items.iter_mut() {
                        if let Some(o) = p.as_object_mut() {
                            o.insert("apiVersion".into(), "v1".into());
                            o.insert("kind".into(), "Pod".into());
                        }
                    }
                }
                out.push_object("v1/Pod(related)", list);
            }
        }
    }
    Ok(out)
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn object_path(ar: &ApiResource, ns: Option<&str>, name: Option<&str>) -> String {
    let mut p = if ar.group.is_empty() { format!("/api/{}", ar.version) } else { format!("/apis/{}/{}", ar.group, ar.version) };
    if let Some(ns) = ns {
        p.push_str(&format!("/namespaces/{ns}"));
    }
    p.push('/');
    p.push_str(&ar.plural);
    if let Some(n) = name {
        p.push('/');
        p.push_str(n);
    }
    p
}

async fn get(client: &kube::Client, path: &str, table: bool) -> Result<serde_json::Value, kube::Error> {
    let mut uri = path.to_string();
    let mut req = http::Request::get(&uri);
    if table {
        uri.push_str(if uri.contains('?') { "&includeObject=Object" } else { "?includeObject=Object" });
        req = http::Request::get(&uri).header(
            "Accept",
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
        );
    }
    let req = req.body(Vec::new()).map_err(|e| kube::Error::Service(Box::new(e)))?;
    let text = client.request_text(req).await?;
    serde_json::from_str(&text).map_err(kube::Error::SerdeError)
}

/// kubectl's `HumanReadablePrinter` shared across objects: a header only when the columns
/// differ from the last table printed; each object aligned on its own (a fresh tabwriter with
/// minwidth 6, padding 3 per call).
#[derive(Default)]
struct TablePrinter {
    last_columns: Option<serde_json::Value>,
    printed_headers: bool,
}

impl TablePrinter {
    fn print(&mut self, table: &serde_json::Value) -> String {
        let columns = table.get("columnDefinitions").cloned().unwrap_or(serde_json::Value::Null);
        let cols = columns.as_array().cloned().unwrap_or_default();
        let rows = table.get("rows").and_then(|r| r.as_array()).cloned().unwrap_or_default();
        let mut no_headers = false;
        if self.printed_headers && (cols.is_empty() || Some(&columns) == self.last_columns.as_ref()) {
            no_headers = true;
        }
        if !cols.is_empty() && Some(&columns) != self.last_columns.as_ref() {
            self.last_columns = Some(columns.clone());
            self.printed_headers = false;
        }
        if !rows.is_empty() {
            self.printed_headers = true;
        }
        let visible: Vec<usize> = cols
            .iter()
            .enumerate()
            .filter(|(_, c)| c.get("priority").and_then(|p| p.as_i64()).unwrap_or(0) == 0)
            .map(|(i, _)| i)
            .collect();
        let mut lines: Vec<Vec<String>> = Vec::new();
        if !no_headers {
            if rows.is_empty() {
                return String::new();
            }
            lines.push(
                visible
                    .iter()
                    .map(|&i| cols[i].get("name").and_then(|n| n.as_str()).unwrap_or("").to_uppercase())
                    .collect(),
            );
        }
        for row in &rows {
            let cells = row.get("cells").and_then(|c| c.as_array()).cloned().unwrap_or_default();
            lines.push(
                visible
                    .iter()
                    .map(|&i| match cells.get(i) {
                        None | Some(serde_json::Value::Null) => String::new(),
                        Some(serde_json::Value::String(s)) => s.clone(),
                        Some(other) => other.to_string(),
                    })
                    .collect(),
            );
        }
        tabwrite(&lines, 6, 3)
    }
}

/// Go's `text/tabwriter` for rows of equal length whose cells are tab-terminated except the
/// last: each column as wide as its widest cell plus `padding`, at least `minwidth`.
fn tabwrite(lines: &[Vec<String>], minwidth: usize, padding: usize) -> String {
    let ncols = lines.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![minwidth; ncols.saturating_sub(1)];
    for l in lines {
        for (i, c) in l.iter().enumerate().take(ncols.saturating_sub(1)) {
            widths[i] = widths[i].max(c.chars().count() + padding);
        }
    }
    let mut out = String::new();
    for l in lines {
        for (i, c) in l.iter().enumerate() {
            out.push_str(c);
            if i + 1 < l.len() {
                out.extend(std::iter::repeat_n(' ', widths[i] - c.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}
