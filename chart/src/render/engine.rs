//! Rendering a chart's templates (Helm: pkg/engine/engine.go `Engine.Render`).

use std::collections::BTreeMap;
use std::sync::Arc;

use rudder_engine::{funcs, Func, FuncMap, GoType, List, Map, MissingKey, Signature, Str, TemplateSet, Value};

use super::errors::{cleanup_parse_error, reformat_exec_error};
use super::objects::{go_path_base, Capabilities, Files};
use crate::model::{Chart, Metadata};

/// `.Release` (Helm: `common.ReleaseOptions` as the render map holds it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseOptions {
    pub name: String,
    pub namespace: String,
    pub revision: i64,
    pub is_upgrade: bool,
    pub is_install: bool,
}

impl Default for ReleaseOptions {
    fn default() -> Self {
        ReleaseOptions {
            name: "release-name".into(),
            namespace: "default".into(),
            revision: 1,
            is_upgrade: false,
            is_install: true,
        }
    }
}

/// Engine switches (Helm: `engine.Engine`).
#[derive(Clone, Debug, Default)]
pub struct Engine {
    /// `missingkey=error` instead of `missingkey=zero`.
    pub strict: bool,
    /// `required` and `fail` do not fail (lint).
    pub lint_mode: bool,
    /// `getHostByName` really resolves (otherwise it returns "").
    pub enable_dns: bool,
    /// Functions added last, shadowing Helm's (a cluster-backed `lookup` when rendering for
    /// install/upgrade, as Helm's engine does with a REST config).
    pub extra_funcs: Option<FuncMap>,
    /// The process exits right after this render (the `template` command): the parsed
    /// templates are left for the OS to reclaim instead of being freed node by node, which
    /// costs a big chart (kube-prometheus-stack) about 7% of its render.
    pub exits_after: bool,
}

/// An error from rendering, with Helm's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderError(pub String);

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RenderError {}

fn str_map(entries: Vec<(&str, Value)>) -> BTreeMap<Str, Value> {
    entries.into_iter().map(|(k, v)| (Str::from(k), v)).collect()
}

fn any_list(items: impl IntoIterator<Item = Value>) -> Value {
    Value::List(Arc::new(List { elem: GoType::Interface, items: items.into_iter().collect() }))
}

/// Helm 4's `MetadataAsMap`: Chart.yaml's struct as a map keyed by Go field names; slices are
/// `[]interface {}` (of maps for struct elements), `Annotations` a `map[string]string`.
pub fn metadata_as_map(m: &Metadata) -> BTreeMap<Str, Value> {
    let strs = |v: &[String]| any_list(v.iter().map(|s| Value::string(s.as_str())));
    let maintainers = any_list(m.maintainers.iter().map(|mt| {
        Value::map(str_map(vec![
            ("Name", Value::string(mt.name.as_str())),
            ("Email", Value::string(mt.email.as_str())),
            ("URL", Value::string(mt.url.as_str())),
        ]))
    }));
    let deps = any_list(m.dependencies.iter().map(|d| {
        Value::map(str_map(vec![
            ("Name", Value::string(d.name.as_str())),
            ("Version", Value::string(d.version.as_str())),
            ("Repository", Value::string(d.repository.as_str())),
            ("Condition", Value::string(d.condition.as_str())),
            ("Tags", strs(&d.tags)),
            ("Enabled", Value::Bool(d.enabled)),
            ("ImportValues", any_list(d.import_values.iter().cloned())),
            ("Alias", Value::string(d.alias.as_str())),
        ]))
    }));
    let annotations = Value::Map(Arc::new(Map::new(
        GoType::String,
        m.annotations.iter().map(|(k, v)| (Str::from(k.as_str()), Value::string(v.as_str()))).collect(),
    )));
    str_map(vec![
        ("Name", Value::string(m.name.as_str())),
        ("Home", Value::string(m.home.as_str())),
        ("Sources", strs(&m.sources)),
        ("Version", Value::string(m.version.as_str())),
        ("Description", Value::string(m.description.as_str())),
        ("Keywords", strs(&m.keywords)),
        ("Maintainers", maintainers),
        ("Icon", Value::string(m.icon.as_str())),
        ("APIVersion", Value::string(m.api_version.as_str())),
        ("Condition", Value::string(m.condition.as_str())),
        ("Tags", Value::string(m.tags.as_str())),
        ("AppVersion", Value::string(m.app_version.as_str())),
        ("Deprecated", Value::Bool(m.deprecated)),
        ("Annotations", annotations),
        ("KubeVersion", Value::string(m.kube_version.as_str())),
        ("Dependencies", deps),
        ("Type", Value::string(m.chart_type.as_str())),
    ])
}

/// Helm's `ToRenderValues` without the coalescing: the top-level map with `Chart`,
/// `Capabilities`, `Release` and `Values` (already coalesced by the caller).
pub fn to_render_values(chart: &Chart, values: Value, release: &ReleaseOptions, caps: &Capabilities) -> Value {
    let rel = Value::map(str_map(vec![
        ("Name", Value::string(release.name.as_str())),
        ("Namespace", Value::string(release.namespace.as_str())),
        ("IsUpgrade", Value::Bool(release.is_upgrade)),
        ("IsInstall", Value::Bool(release.is_install)),
        ("Revision", Value::int(release.revision)),
        ("Service", Value::string("Helm")),
    ]));
    Value::map(str_map(vec![
        ("Chart", Value::map(metadata_as_map(&chart.metadata))),
        ("Capabilities", caps.value()),
        ("Release", rel),
        ("Values", super::objects::as_values(&values)),
    ]))
}

struct Renderable<'c> {
    /// The template's text, borrowed from the chart unless it needed UTF-8 repair.
    text: std::borrow::Cow<'c, str>,
    /// The chart scope's map (shared by all templates of one chart, as in Helm).
    vals: Arc<Map>,
    base_path: String,
}

fn lookup(m: &Value, key: &str) -> Value {
    match m {
        Value::Map(m) => m.get(key).unwrap_or(Value::Nil),
        _ => Value::Nil,
    }
}

/// Go: `recAllTpls`.
fn rec_all_tpls<'c>(c: &'c Chart, full_path: &str, is_root: bool, templates: &mut BTreeMap<String, Renderable<'c>>, parent: &Value) -> Value {
    let mut meta = metadata_as_map(&c.metadata);
    meta.insert("IsRoot".into(), Value::Bool(is_root));
    let subcharts = Arc::new(Map::new(GoType::Interface, BTreeMap::new()));
    let values = if is_root {
        lookup(parent, "Values")
    } else {
        // `values.Table("Values." + name)`: the parent's sub-map, or an empty map.
        // Table returns the parent's own sub-map, typed common.Values: it is shared, so the
        // parent's `.Values.<name>` becomes the same (named) map.
        let parent_values = lookup(parent, "Values");
        match lookup(&parent_values, c.name()) {
            v @ Value::Map(_) => {
                let named = super::objects::as_values(&v);
                if let Value::Map(pm) = &parent_values {
                    pm.write().insert(Str::from(c.name()), named.clone());
                }
                named
            }
            _ => super::objects::as_values(&Value::empty_map()),
        }
    };
    let next = Arc::new(Map::new(
        GoType::Interface,
        str_map(vec![
            ("Chart", Value::map(meta)),
            ("Files", Files::new(c.files.iter().map(|f| (f.name.as_str(), f.data.clone()))).value()),
            ("Release", lookup(parent, "Release")),
            ("Capabilities", lookup(parent, "Capabilities")),
            ("Values", values),
            ("Subcharts", Value::Map(subcharts.clone())),
        ]),
    ));
    let next_v = Value::Map(next.clone());
    for child in &c.dependencies {
        let child_path = format!("{full_path}/charts/{}", child.name());
        let sub = rec_all_tpls(child, &child_path, false, templates, &next_v);
        subcharts.write().insert(Str::from(child.name()), sub);
    }
    for t in &c.templates {
        if c.metadata.chart_type.eq_ignore_ascii_case("library") && !go_path_base(&t.name).starts_with('_') {
            continue;
        }
        templates.insert(
            go_path_join(full_path, &t.name),
            Renderable {
                text: crate::model::text_of(&t.data),
                vals: next.clone(),
                base_path: go_path_join(full_path, "templates"),
            },
        );
    }
    next_v
}

/// Go's `path.Join` for two relative parts.
pub fn go_path_join(a: &str, b: &str) -> String {
    let joined = if a.is_empty() { b.to_string() } else if b.is_empty() { a.to_string() } else { format!("{a}/{b}") };
    go_path_clean(&joined)
}

/// Go's `path.Clean` (the engine's, checked against Go by the path cases).
pub fn go_path_clean(p: &str) -> String {
    rudder_engine::funcs::paths::clean(p)
}

/// Helm's parse (and execution) order: more `/` first, then reverse lexicographic order.
pub fn sort_templates<'a>(names: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut keys: Vec<String> = names.into_iter().cloned().collect();
    keys.sort_by(|a, b| {
        let (ca, cb) = (a.matches('/').count(), b.matches('/').count());
        cb.cmp(&ca).then_with(|| b.cmp(a))
    });
    keys
}

impl Engine {
    /// The function table: Helm's, with `getHostByName` returning "" unless DNS is enabled and
    /// `lookup` returning an empty map (no cluster), then [`Engine::extra_funcs`] over it.
    pub fn func_map(&self) -> FuncMap {
        let mut m = funcs::helm();
        if !self.enable_dns {
            m.insert(
                "getHostByName",
                Func::pure(Signature::new(vec![GoType::String], GoType::String), |_| Ok(Value::string(""))),
            );
        }
        if self.lint_mode {
            // Helm's lint mode: a missing `required` value or a `fail` is logged (slog, stderr)
            // and renders as "".
            let slog = |level: &str, msg: &str, message: &str| {
                eprintln!(
                    "level={level} msg={} message={}",
                    crate::manifest::sorter::slog_value(msg),
                    crate::manifest::sorter::slog_value(message)
                )
            };
            m.insert(
                "required",
                Func::pure(Signature::new(vec![GoType::String, GoType::Interface], GoType::Interface).with_error(), move |a| {
                    let warn = a[0].as_str().unwrap_or("");
                    match &a[1] {
                        Value::Nil | Value::Missing => {
                            slog("WARN", "missing required value", warn);
                            Ok(Value::string(""))
                        }
                        Value::String(s) if s.is_empty() => {
                            slog("WARN", "missing required values", warn);
                            Ok(Value::string(""))
                        }
                        v => Ok(v.clone()),
                    }
                }),
            );
            m.insert(
                "fail",
                Func::pure(Signature::new(vec![GoType::String], GoType::String).with_error(), move |a| {
                    slog("INFO", "funcMap fail", a[0].as_str().unwrap_or(""));
                    Ok(Value::string(""))
                }),
            );
        }
        if !m.contains("lookup") {
            m.insert(
                "lookup",
                Func::pure(
                    Signature::new(vec![GoType::String; 4], GoType::any_map()).with_error(),
                    |_| Ok(Value::empty_map()),
                ),
            );
        }
        if let Some(extra) = &self.extra_funcs {
            m.extend(extra.clone());
        }
        m
    }

    /// Renders every template of `chart` and its subcharts with the top-level render values
    /// (see [`to_render_values`]). Returns template name → output; partials are not executed
    /// and so not in the result.
    pub fn render(&self, chart: &Chart, top: &Value) -> Result<BTreeMap<String, String>, RenderError> {
        let mut tpls = BTreeMap::new();
        rec_all_tpls(chart, chart.name(), true, &mut tpls, top);
        let mut set = TemplateSet::new(self.func_map()).with_name("gotpl");
        set.set_missing_key(if self.strict { MissingKey::Error } else { MissingKey::Zero });
        let keys = sort_templates(tpls.keys());
        let texts: Vec<(&str, &str)> = keys.iter().map(|name| (name.as_str(), &*tpls[name].text)).collect();
        let searching = prefetch_keys(&texts);
        if let Err((i, e)) = set.parse_all(&texts) {
            return Err(RenderError(cleanup_parse_error(&keys[i], &e.message)));
        }
        let names: Vec<&String> = keys.iter().filter(|name| !go_path_base(name).starts_with('_')).collect();
        // Lint prints warnings as templates run, and a cluster-backed `lookup` talks to the
        // apiserver: both keep Helm's one-at-a-time order.
        // Nor, on two cores, while primes are searched for in the background (`gate`): that
        // search keeps the second core busy, and templates run beside it only compete with it
        // (cilium renders about 10% slower that way); once it is over, the rest run side by side.
        let threads = if self.lint_mode || self.extra_funcs.is_some() { 1 } else { exec_threads() };
        let gate = searching && rudder_engine::par::threads(3) < 3;
        let outputs = execute_in_order(&set, &names, &tpls, threads, gate)?;
        let rendered: BTreeMap<String, String> = names.into_iter().cloned().zip(outputs).collect();
        if self.exits_after {
            std::mem::forget(set);
            std::mem::forget(tpls);
        }
        Ok(rendered)
    }
}

/// At most this many threads execute a chart's templates.
const EXEC_THREADS: usize = 8;

/// Threads that execute templates: the machine's (at most [`EXEC_THREADS`]), or
/// `RUDDER_RENDER_THREADS` (1: one template at a time, as Helm; for comparing and debugging).
fn exec_threads() -> usize {
    match std::env::var("RUDDER_RENDER_THREADS").ok().and_then(|v| v.parse::<usize>().ok()) {
        Some(n) => n.clamp(1, EXEC_THREADS),
        None => rudder_engine::par::threads(EXEC_THREADS),
    }
}
/// After this many conflicts (templates that change what later ones see) the rest of a chart
/// runs one template at a time: each conflict costs a new round.
const MAX_CONFLICTS: usize = 16;

/// `.Template` for template `name`.
fn template_object(name: &str, r: &Renderable<'_>) -> Value {
    Value::map(str_map(vec![("Name", Value::string(name)), ("BasePath", Value::string(r.base_path.as_str()))]))
}

/// Executes template `name` as Helm does: `.Template` set on the chart's shared map, which is
/// the data. Returns its output with `<no value>` removed.
fn execute_one(set: &TemplateSet, name: &str, r: &Renderable<'_>) -> Result<String, RenderError> {
    r.vals.write().insert("Template".into(), template_object(name, r));
    finish(name, set.execute(name, &Value::Map(r.vals.clone())))
}

fn finish(name: &str, result: Result<String, rudder_engine::Error>) -> Result<String, RenderError> {
    match result {
        Ok(out) if out.contains("<no value>") => Ok(out.replace("<no value>", "")),
        Ok(out) => Ok(out),
        Err(e) => Err(RenderError(reformat_exec_error(name, &e.message))),
    }
}

/// Executes templates `names` (in Helm's order) and returns their outputs, or the first error
/// in that order: the same as executing them one after another, which is what Helm does.
///
/// With more than one thread, templates run in speculative rounds (see
/// [`rudder_engine::speculate`]): each on its own copy of its chart's top-level map (with its
/// `.Template`), all reading the values as the round found them. A template that would write to
/// a map from before the round (`set .Values …`, cilium's `set . "commonCA" …`) is stopped
/// before the write; the results before it stand, it is run alone for real, and a new round
/// starts after it. (One trace of the copies remains: during a round a template reading another
/// chart's `.Template` through `.Subcharts` sees the one from before the round. Helm sets
/// `.Template` on the chart's shared map, so it would see the last one executed.)
///
/// With `gate`, templates run one at a time while primes are searched for in the background,
/// and in rounds once that search is over.
fn execute_in_order(
    set: &TemplateSet,
    names: &[&String],
    tpls: &BTreeMap<String, Renderable<'_>>,
    threads: usize,
    gate: bool,
) -> Result<Vec<String>, RenderError> {
    use rudder_engine::speculate::{Outcome, Round};

    let n = names.len();
    let mut outputs = Vec::with_capacity(n);
    let mut conflicts = 0;
    while outputs.len() < n {
        let start = outputs.len();
        if threads >= 2 && n - start >= 2 && conflicts < MAX_CONFLICTS && gate && rudder_engine::funcs::crypto::searching_primes() {
            outputs.push(execute_one(set, names[start], &tpls[names[start]])?);
            continue;
        }
        if threads < 2 || n - start < 2 || conflicts >= MAX_CONFLICTS {
            for name in &names[start..] {
                outputs.push(execute_one(set, name, &tpls[*name])?);
            }
            break;
        }
        let round = Round::begin();
        let run = |i: usize| {
            let name = names[i].as_str();
            let r = &tpls[name];
            let top = r.vals.copy_keeping_type();
            top.write().insert("Template".into(), template_object(name, r));
            let data = Value::Map(Arc::new(top.into_shared()));
            round.run(|| set.execute(name, &data))
        };
        // After a conflict or an error nothing later is needed this round.
        let (slots, panicked) = rudder_engine::par::map_until(start..n, threads, &run, &|o| !matches!(o, Outcome::Done(Ok(_), _)));
        if panicked {
            // A bug in the executor: from the first template without a result on, templates
            // run one at a time, where the panic (if it repeats) surfaces on this thread.
            conflicts = MAX_CONFLICTS;
        }
        for (slot, name) in slots.into_iter().zip(&names[start..]) {
            match slot {
                Some(Outcome::Done(result, done)) => {
                    done.keep();
                    outputs.push(finish(name, result)?)
                }
                Some(Outcome::Conflict) => {
                    conflicts += 1;
                    outputs.push(execute_one(set, name, &tpls[*name])?);
                    break;
                }
                // Not run: after a conflict or an error earlier in this round.
                None => break,
            }
        }
    }
    Ok(outputs)
}

/// Templates that call `genCA`, `genSignedCert` or `genSelfSignedCert` make RSA-2048 keys,
/// whose prime search dominates their render: it is started in the background now, for as
/// many keys as there are such calls (at most two; a call site in a branch not taken costs a
/// little background work, not render time), so that it overlaps parsing and execution.
/// Returns whether a search was started.
fn prefetch_keys(texts: &[(&str, &str)]) -> bool {
    // One SIMD substring search for their common prefix over the chart's text (megabytes for
    // the big charts), instead of one search per name.
    let finder = memchr::memmem::Finder::new("gen");
    let sites: usize = texts
        .iter()
        .map(|(_, t)| {
            let b = t.as_bytes();
            finder
                .find_iter(b)
                .filter(|&at| {
                    let rest = &b[at + 3..];
                    rest.starts_with(b"CA") || rest.starts_with(b"SignedCert") || rest.starts_with(b"SelfSignedCert")
                })
                .count()
        })
        .sum();
    if sites > 0 {
        rudder_engine::funcs::crypto::prefetch_rsa_2048(sites.min(2));
    }
    sites > 0
}
