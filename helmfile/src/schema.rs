//! The Go structs of helmfile v1.8.0's state (pkg/state), as field lists in declaration order:
//! the YAML key, how it is typed, and whether it is `omitempty`. `helmfile build` prints the state
//! with go-yaml v3, which keeps struct field order and sorts map keys.

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// Any `omitempty` field printed as the input value (strings, pointers, lists, maps).
    Any,
    /// A non-omitempty `bool`.
    Bool,
    /// An `omitempty` plain `bool` (false is omitted; a `*bool` false is printed).
    OBool,
    /// A non-omitempty `int`.
    Int,
    /// A non-omitempty `string`.
    Str,
    /// A struct.
    Struct(&'static [Field]),
    /// `[]Struct`.
    List(&'static [Field]),
    /// `map[string]Struct`.
    Map(&'static [Field]),
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub key: &'static str,
    pub kind: Kind,
    pub omit: bool,
}

const fn a(key: &'static str) -> Field {
    Field { key, kind: Kind::Any, omit: true }
}
const fn ob(key: &'static str) -> Field {
    Field { key, kind: Kind::OBool, omit: true }
}
const fn b(key: &'static str) -> Field {
    Field { key, kind: Kind::Bool, omit: false }
}
const fn i(key: &'static str) -> Field {
    Field { key, kind: Kind::Int, omit: false }
}
const fn s(key: &'static str, kind: Kind, omit: bool) -> Field {
    Field { key, kind, omit }
}

pub const SET_VALUE: &[Field] = &[a("name"), a("value"), a("file"), a("values")];
pub const HOOK: &[Field] = &[
    Field { key: "name", kind: Kind::Str, omit: false },
    Field { key: "events", kind: Kind::Any, omit: false },
    Field { key: "command", kind: Kind::Str, omit: false },
    a("kubectlApply"),
    Field { key: "args", kind: Kind::Any, omit: false },
    b("showlogs"),
];
pub const DEPENDENCY: &[Field] = &[
    Field { key: "chart", kind: Kind::Str, omit: false },
    Field { key: "version", kind: Kind::Str, omit: false },
    Field { key: "alias", kind: Kind::Str, omit: false },
];
pub const INHERIT: &[Field] = &[a("template"), a("except")];

pub const RELEASE: &[Field] = &[
    a("chart"), a("chartPath"), a("directory"), a("version"), a("verify"), a("keyring"),
    a("enableDNS"), a("devel"), a("wait"), a("waitRetries"), a("waitForJobs"), a("timeout"),
    a("recreatePods"), a("force"), a("installed"), a("updateStrategy"), a("atomic"),
    a("rollbackOnFailure"), a("cleanupOnFail"), a("forceConflicts"), a("historyMax"),
    a("condition"), a("createNamespace"), a("reuseValues"), a("disableOpenAPIValidation"),
    a("disableValidation"), a("disableValidationOnInstall"), a("missingFileHandler"),
    a("missingFileHandlerConfig"), a("needs"), s("hooks", Kind::List(HOOK), true), a("unitTests"),
    a("name"), a("description"), a("namespace"), a("labels"), a("values"), a("secrets"),
    s("set", Kind::List(SET_VALUE), true), s("setString", Kind::List(SET_VALUE), true),
    a("valuesTemplate"), s("setTemplate", Kind::List(SET_VALUE), true), a("apiVersions"),
    a("kubeVersion"), s("env", Kind::List(SET_VALUE), true), a("valuesPathPrefix"),
    a("kubeContext"), ob("insecureSkipTLSVerify"), ob("plainHttp"), a("verifyTemplate"),
    a("waitTemplate"), a("installedTemplate"), a("conditionTemplate"),
    s("dependencies", Kind::List(DEPENDENCY), true), a("jsonPatches"), a("strategicMergePatches"),
    a("transformers"), a("adopt"), ob("forceGoGetter"), a("forceNamespace"), a("skipDeps"),
    a("skipRefresh"), a("resolveOCIVersions"), a("postRenderer"), a("skipSchemaValidation"),
    a("postRendererArgs"), a("cascade"), a("suppressOutputLineRegex"),
    a("disableAutoDetectedKubeVersionForDiff"), s("inherit", Kind::List(INHERIT), true),
    a("suppressDiff"), a("deleteWait"), a("deleteTimeout"), a("syncReleaseLabels"),
    a("takeOwnership"), a("serverSide"), a("trackMode"),
];

pub const HELM_SPEC: &[Field] = &[
    a("kubeContext"), a("args"), a("diffArgs"), a("syncArgs"), a("templateArgs"), b("verify"),
    a("keyring"), b("enableDNS"), a("skipSchemaValidation"), b("devel"), b("wait"),
    i("waitRetries"), b("waitForJobs"), i("timeout"), b("recreatePods"), b("force"), b("atomic"),
    b("rollbackOnFailure"), ob("cleanupOnFail"), b("forceConflicts"), a("historyMax"),
    a("createNamespace"), ob("skipCRDs"), b("skipDeps"), b("skipRefresh"),
    a("resolveOCIVersions"), b("reuseValues"), a("postRenderer"), a("postRendererArgs"),
    a("cascade"), a("suppressOutputLineRegex"), a("disableAutoDetectedKubeVersionForDiff"),
    a("disableValidation"), a("disableOpenAPIValidation"), ob("insecureSkipTLSVerify"),
    ob("plainHttp"), a("deleteWait"), a("deleteTimeout"), a("syncReleaseLabels"),
    a("takeOwnership"), a("serverSide"), a("trackMode"), a("helmStuckGrace"),
];

pub const REPOSITORY: &[Field] = &[
    a("name"), a("url"), a("caFile"), a("certFile"), a("keyFile"), a("username"), a("password"),
    a("registryConfig"), a("managed"), ob("oci"), ob("verify"), a("keyring"), ob("passCredentials"),
    ob("skipTLSVerify"), ob("plainHttp"),
];

pub const ENVIRONMENT: &[Field] = &[a("values"), a("secrets"), a("kubeContext"), a("missingFileHandler")];

pub const SUB_HELMFILE: &[Field] = &[
    a("path"), a("selectors"), ob("selectorsInherited"), a("inherits"), a("values"),
];

/// `HelmState` printed by `helmfile build`: `filepath`, then the inline `ReleaseSetSpec`, then
/// `renderedvalues`.
pub const RELEASE_SET: &[Field] = &[
    a("helmBinary"), a("kustomizeBinary"), a("values"), s("environments", Kind::Map(ENVIRONMENT), true),
    a("bases"), s("helmDefaults", Kind::Struct(HELM_SPEC), true),
    s("helmfiles", Kind::List(SUB_HELMFILE), true), a("kubeContext"), a("namespace"), a("chart"),
    s("repositories", Kind::List(REPOSITORY), true), a("commonLabels"),
    s("releases", Kind::List(RELEASE), true), a("llm"), a("apiVersions"), a("kubeVersion"),
    s("hooks", Kind::List(HOOK), true), s("templates", Kind::Map(RELEASE), false),
    a("defaultInherit"), a("missingFileHandler"), a("missingFileHandlerConfig"), a("lockFilePath"),
];

/// Keys a state file may hold at the top level (ReleaseSetSpec's fields).
pub fn known_top_level(key: &str) -> bool {
    key == "filepath" || key == "renderedvalues" || RELEASE_SET.iter().any(|f| f.key == key)
}

pub fn known_release(key: &str) -> bool {
    RELEASE.iter().any(|f| f.key == key)
}
