//! The Go objects Helm hands to templates: `.Files` (`engine.files`), `.Capabilities`
//! (`*common.Capabilities` with `KubeVersion`, `APIVersions` and `HelmVersion`).

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use rudder_engine::json::JsonForm;
use rudder_engine::{Func, FuncResult, GoType, List, Map, Member, Object, Signature, Str, UintKind, Value};

use super::glob::Glob;

fn bytes_t() -> GoType {
    GoType::slice_of(GoType::Uint(UintKind::Uint8))
}

fn method(params: Vec<GoType>, result: GoType, f: impl Fn(&[Value]) -> FuncResult + Send + Sync + 'static) -> Member {
    Member::Method(Func::pure(Signature::new(params, result), f))
}

/// Helm's `engine.files`: a `map[string][]byte` of the chart's non-special files, with the
/// methods `Get`, `GetBytes`, `Glob`, `AsConfig`, `AsSecrets`, `Lines`.
#[derive(Debug)]
pub struct Files {
    map: Arc<Map>,
}

impl Files {
    /// From `(name, bytes)` pairs; a later file of the same name replaces an earlier one, as in
    /// Helm's map.
    pub fn new<'a>(files: impl IntoIterator<Item = (&'a str, Arc<[u8]>)>) -> Files {
        let mut m = BTreeMap::new();
        for (name, data) in files {
            m.insert(Str::from(name), Value::Bytes(data));
        }
        Files::from_entries(m)
    }

    fn from_entries(m: BTreeMap<Str, Value>) -> Files {
        Files { map: Arc::new(Map::new(bytes_t(), m)) }
    }

    pub fn value(self) -> Value {
        Value::Object(Arc::new(self))
    }

    fn bytes(&self, name: &str) -> Arc<[u8]> {
        match self.map.get(name) {
            Some(Value::Bytes(b)) => b,
            _ => Arc::from(&b""[..]),
        }
    }

    fn glob(&self, pattern: &str) -> Files {
        let g = Glob::compile(pattern).unwrap_or_else(|_| Glob::compile("**").expect("** compiles"));
        let m: BTreeMap<Str, Value> =
            self.map.read().iter().filter(|(k, _)| g.matches(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        Files::from_entries(m)
    }

    fn as_map_of(&self, f: impl Fn(&[u8]) -> String) -> String {
        let mut m: BTreeMap<Str, Value> = BTreeMap::new();
        for (k, v) in self.map.read().iter() {
            let base = go_path_base(k);
            let data = match v {
                Value::Bytes(b) => f(b),
                _ => String::new(),
            };
            m.insert(Str::from(base), Value::string(data));
        }
        let v = Value::Map(Arc::new(Map::new(GoType::String, m)));
        match rudder_engine::yaml::to_yaml(&v) {
            Ok(s) => s.strip_suffix('\n').map(str::to_string).unwrap_or(s),
            Err(_) => String::new(),
        }
    }

    fn lines(&self, path: &str) -> Vec<String> {
        let b = self.bytes(path);
        if b.is_empty() {
            return Vec::new();
        }
        let s = String::from_utf8_lossy(&b).into_owned();
        let s = s.strip_suffix('\n').unwrap_or(&s);
        s.split('\n').map(str::to_string).collect()
    }
}

/// Go's `path.Base`.
pub fn go_path_base(p: &str) -> &str {
    if p.is_empty() {
        return ".";
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/";
    }
    match t.rfind('/') {
        Some(i) => &t[i + 1..],
        None => t,
    }
}

impl Object for Files {
    fn go_type(&self) -> GoType {
        GoType::Named("engine.files".into())
    }

    fn member(&self, name: &str) -> Option<Member> {
        let me = Files { map: self.map.clone() };
        let me = Arc::new(me);
        Some(match name {
            "Get" => {
                let me = me.clone();
                method(vec![GoType::String], GoType::String, move |a| {
                    Ok(Value::string(String::from_utf8_lossy(&me.bytes(a[0].as_str().unwrap_or(""))).into_owned()))
                })
            }
            "GetBytes" => {
                let me = me.clone();
                method(vec![GoType::String], bytes_t(), move |a| Ok(Value::Bytes(me.bytes(a[0].as_str().unwrap_or("")))))
            }
            "Glob" => {
                let me = me.clone();
                method(vec![GoType::String], GoType::Named("engine.files".into()), move |a| {
                    Ok(me.glob(a[0].as_str().unwrap_or("")).value())
                })
            }
            "AsConfig" => {
                let me = me.clone();
                method(vec![], GoType::String, move |_| {
                    Ok(Value::string(me.as_map_of(|b| String::from_utf8_lossy(b).into_owned())))
                })
            }
            "AsSecrets" => {
                let me = me.clone();
                method(vec![], GoType::String, move |_| Ok(Value::string(me.as_map_of(base64_std))))
            }
            "Lines" => {
                let me = me.clone();
                method(vec![GoType::String], GoType::slice_of(GoType::String), move |a| {
                    Ok(Value::string_list(me.lines(a[0].as_str().unwrap_or(""))))
                })
            }
            _ => return None,
        })
    }

    fn format_v(&self) -> String {
        rudder_engine::print::format_v(&Value::Map(self.map.clone()))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn underlying(&self) -> Option<Value> {
        Some(Value::Map(self.map.clone()))
    }

    fn json_form(&self) -> Option<JsonForm> {
        Some(JsonForm::Value(Value::Map(self.map.clone())))
    }
}

/// Go's `base64.StdEncoding.EncodeToString`.
pub fn base64_std(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 { A[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if chunk.len() > 2 { A[n as usize & 63] as char } else { '=' });
    }
    out
}

/// Helm's `common.KubeVersion`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeVersion {
    /// Full version as given (e.g. `v1.33.4-gke.1245000`).
    pub version: String,
    /// Normalised for constraint checking (e.g. `v1.33.4`).
    pub normalized: String,
    pub major: String,
    pub minor: String,
}

impl KubeVersion {
    /// `v<major>.<minor>.0`, as Helm builds its default.
    pub fn from_major_minor(major: u64, minor: u64) -> KubeVersion {
        let v = format!("v{major}.{minor}.0");
        KubeVersion { version: v.clone(), normalized: v, major: major.to_string(), minor: minor.to_string() }
    }

    /// Go: `KubeVersion.String()`: the normalised version when there is one.
    pub fn string(&self) -> &str {
        if self.normalized.is_empty() {
            &self.version
        } else {
            &self.normalized
        }
    }

    /// Helm's `common.ParseKubeVersion` (Kubernetes' lenient `ParseGeneric`). Errors carry Go's
    /// message.
    pub fn parse(s: &str) -> Result<KubeVersion, String> {
        let t = s.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\u{b}' || c == '\u{c}');
        let t = t.strip_prefix('v').unwrap_or(t);
        let digits_end = {
            let b = t.as_bytes();
            let mut i = 0;
            let mut end = 0;
            loop {
                let st = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                if i == st {
                    break;
                }
                end = i;
                if i < b.len() && b[i] == b'.' && i + 1 < b.len() && b[i + 1].is_ascii_digit() {
                    i += 1;
                } else {
                    break;
                }
            }
            end
        };
        if digits_end == 0 {
            return Err(format!("could not parse {} as version", go_quote(s)));
        }
        let comps: Vec<&str> = t[..digits_end].split('.').collect();
        if comps.len() < 2 {
            return Err(format!("illegal version string {}", go_quote(s)));
        }
        let mut nums = Vec::new();
        for (i, c) in comps.iter().enumerate() {
            if i == 0 && c.starts_with('0') && *c != "0" {
                return Err(format!("illegal zero-prefixed version component {} in {}", go_quote(c), go_quote(s)));
            }
            match c.parse::<u64>() {
                Ok(n) => nums.push(n),
                Err(_) => {
                    return Err(format!(
                        "illegal non-numeric version component {} in {}: strconv.ParseUint: parsing {}: value out of range",
                        go_quote(c),
                        go_quote(s),
                        go_quote(c)
                    ))
                }
            }
        }
        let git = if s.starts_with('v') { s.to_string() } else { format!("v{s}") };
        let norm = format!("v{}", nums.iter().map(|n| n.to_string()).collect::<Vec<_>>().join("."));
        Ok(KubeVersion { version: git, normalized: norm, major: nums[0].to_string(), minor: nums[1].to_string() })
    }
}

fn go_quote(s: &str) -> String {
    rudder_engine::print::quote(s)
}

impl Object for KubeVersion {
    fn go_type(&self) -> GoType {
        GoType::Named("common.KubeVersion".into())
    }

    fn member(&self, name: &str) -> Option<Member> {
        Some(match name {
            "Version" => Member::Field(Value::string(self.version.as_str())),
            "Major" => Member::Field(Value::string(self.major.as_str())),
            "Minor" => Member::Field(Value::string(self.minor.as_str())),
            "String" => {
                let s = self.string().to_string();
                method(vec![], GoType::String, move |_| Ok(Value::string(s.as_str())))
            }
            "GitVersion" => {
                let s = self.version.clone();
                method(vec![], GoType::String, move |_| Ok(Value::string(s.as_str())))
            }
            _ => return None,
        })
    }

    /// Printing `{{ .Capabilities.KubeVersion }}` calls `String()` (the field is addressable).
    fn format_v(&self) -> String {
        self.string().to_string()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn json_form(&self) -> Option<JsonForm> {
        Some(JsonForm::Fields(vec![
            ("Version".into(), Value::string(self.version.as_str())),
            ("Major".into(), Value::string(self.major.as_str())),
            ("Minor".into(), Value::string(self.minor.as_str())),
        ]))
    }
}

/// Helm's `common.VersionSet` (`[]string` with `Has`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionSet(pub Vec<String>);

impl VersionSet {
    fn list(&self) -> Value {
        Value::List(Arc::new(List {
            elem: GoType::String,
            items: self.0.iter().map(|s| Value::string(s.as_str())).collect(),
        }))
    }
}

impl Object for VersionSet {
    fn go_type(&self) -> GoType {
        GoType::Named("common.VersionSet".into())
    }

    fn member(&self, name: &str) -> Option<Member> {
        match name {
            "Has" => {
                let set = self.0.clone();
                Some(method(vec![GoType::String], GoType::Bool, move |a| {
                    let want = a[0].as_str().unwrap_or("");
                    Ok(Value::Bool(set.iter().any(|s| s == want)))
                }))
            }
            _ => None,
        }
    }

    fn format_v(&self) -> String {
        format!("[{}]", self.0.join(" "))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn underlying(&self) -> Option<Value> {
        Some(self.list())
    }

    fn json_form(&self) -> Option<JsonForm> {
        Some(JsonForm::Value(self.list()))
    }
}

/// Helm's `version.BuildInfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildInfo {
    pub version: String,
    pub git_commit: String,
    pub git_tree_state: String,
    pub go_version: String,
    pub kube_client_version: String,
}

impl Object for BuildInfo {
    fn go_type(&self) -> GoType {
        GoType::Named("version.BuildInfo".into())
    }

    fn member(&self, name: &str) -> Option<Member> {
        let v = match name {
            "Version" => &self.version,
            "GitCommit" => &self.git_commit,
            "GitTreeState" => &self.git_tree_state,
            "GoVersion" => &self.go_version,
            "KubeClientVersion" => &self.kube_client_version,
            _ => return None,
        };
        Some(Member::Field(Value::string(v.as_str())))
    }

    fn format_v(&self) -> String {
        format!(
            "{{{} {} {} {} {}}}",
            self.version, self.git_commit, self.git_tree_state, self.go_version, self.kube_client_version
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    /// json tags: `version,omitempty`, `git_commit,omitempty`, `git_tree_state,omitempty`,
    /// `go_version,omitempty`, `kube_client_version`.
    fn json_form(&self) -> Option<JsonForm> {
        let mut f: Vec<(Str, Value)> = Vec::new();
        for (k, v) in [
            ("version", &self.version),
            ("git_commit", &self.git_commit),
            ("git_tree_state", &self.git_tree_state),
            ("go_version", &self.go_version),
        ] {
            if !v.is_empty() {
                f.push((k.into(), Value::string(v.as_str())));
            }
        }
        f.push(("kube_client_version".into(), Value::string(self.kube_client_version.as_str())));
        Some(JsonForm::Fields(f))
    }
}

/// Helm's `*common.Capabilities`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    pub kube_version: KubeVersion,
    pub api_versions: VersionSet,
    pub helm_version: BuildInfo,
}

/// The group/versions Helm v4.3.1 reports offline (client-go v0.37's scheme, in registration
/// order, then the two apiextensions versions).
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "lifecycle.k8s.io/v1alpha1",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// Helm v4.3.1's build: its version and the client-go it was built with (v0.37 → Kubernetes
/// v1.37.0).
pub const HELM_VERSION: &str = "v4.3.1";
pub const HELM_GO_VERSION: &str = "go1.26.8";
pub const KUBE_CLIENT_MINOR: u64 = 37;

impl Capabilities {
    /// Helm's `DefaultCapabilities` (what `helm template` uses without a cluster).
    pub fn helm_default() -> Capabilities {
        Capabilities {
            kube_version: KubeVersion::from_major_minor(1, KUBE_CLIENT_MINOR),
            api_versions: VersionSet(DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect()),
            helm_version: BuildInfo {
                version: HELM_VERSION.into(),
                git_commit: String::new(),
                git_tree_state: String::new(),
                go_version: HELM_GO_VERSION.into(),
                kube_client_version: format!("v1.{KUBE_CLIENT_MINOR}"),
            },
        }
    }

    pub fn value(&self) -> Value {
        Value::Object(Arc::new(self.clone()))
    }
}

impl Object for Capabilities {
    fn go_type(&self) -> GoType {
        GoType::Named("*common.Capabilities".into())
    }

    fn member(&self, name: &str) -> Option<Member> {
        Some(Member::Field(match name {
            "KubeVersion" => Value::Object(Arc::new(self.kube_version.clone())),
            "APIVersions" => Value::Object(Arc::new(self.api_versions.clone())),
            "HelmVersion" => Value::Object(Arc::new(self.helm_version.clone())),
            _ => return None,
        }))
    }

    /// As text/template prints it (the pointer is followed; fields print with `%v`).
    fn format_v(&self) -> String {
        let kv = &self.kube_version;
        format!(
            "{{{{{} {} {} {}}} {} {}}}",
            kv.version,
            kv.normalized,
            kv.major,
            kv.minor,
            self.api_versions.format_v(),
            self.helm_version.format_v()
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn json_form(&self) -> Option<JsonForm> {
        Some(JsonForm::Fields(vec![
            ("KubeVersion".into(), Value::Object(Arc::new(self.kube_version.clone()))),
            ("APIVersions".into(), Value::Object(Arc::new(self.api_versions.clone()))),
            ("HelmVersion".into(), Value::Object(Arc::new(self.helm_version.clone()))),
        ]))
    }
}

/// Helm 4's `common.Values`, the type of every chart's `.Values`: a named
/// `map[string]interface{}` whose methods (`AsMap`, `YAML`) templates can call (cilium's
/// `.Values.AsMap`); everything else sees the map.
pub fn values_type() -> Arc<rudder_engine::NamedMapType> {
    static TYPE: std::sync::OnceLock<Arc<rudder_engine::NamedMapType>> = std::sync::OnceLock::new();
    TYPE.get_or_init(|| Arc::new(rudder_engine::NamedMapType { name: Str::from("common.Values"), method: values_method }))
        .clone()
}

fn values_method(this: &Arc<Map>, name: &str) -> Option<Member> {
    match name {
        // Go returns the same map under its unnamed type (a fresh empty map when empty).
        "AsMap" => Some(Member::Field(Value::Map(this.clone()))),
        "YAML" => {
            let v = Value::Map(this.clone());
            Some(Member::Method(Func::pure(Signature::new(vec![], GoType::String).with_error(), move |_| {
                rudder_engine::yaml::to_yaml(&v).map(Value::string).map_err(rudder_engine::FuncError::new)
            })))
        }
        _ => None,
    }
}

/// `v` as a `common.Values` (a map keeps its entries; anything else is returned as is).
pub fn as_values(v: &Value) -> Value {
    match v {
        Value::Map(m) if m.named.is_none() => {
            Value::Map(Arc::new(Map::new_named(values_type(), m.elem.clone(), m.read().clone())))
        }
        v => v.clone(),
    }
}
