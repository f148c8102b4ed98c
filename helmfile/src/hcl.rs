//! HCL environment values files (`environments.<env>.values: [x.hcl]`) as helmfile v1.8.0 reads
//! them (pkg/hcllang): every `.hcl` file of an environment is collected, and after the YAML files
//! the whole set is rendered at once and merged over them.
//!
//! - A file holds `values { name = expr }` blocks and at most one `locals { }` block.
//!   `local.<name>` sees the locals of the expression's own file only; `hv.<name>` sees the values
//!   of all files.
//! - Evaluation order is a dependency graph (variantdev/dag), so references may point forward and
//!   across files; helmfile's cycle and undefined-reference errors come from it.
//! - A value defined in several blocks or files is evaluated once per definition, in file order,
//!   and deep-merged: objects merge per key, a `null` keeps the earlier value, anything else
//!   replaces it.
//! - The result goes through cty's JSON encoding into Go values, so every number is a float64.
//!
//! Parsing and expression evaluation come from the `hcl-rs` crate; spans from `hcl-edit` give
//! helmfile's `file:line,col-col: Summary; Detail` texts for the errors found before evaluation.

use std::collections::{BTreeMap, HashMap};

use hcl::edit::expr as ex;
use hcl::edit::structure as st;
use hcl::edit::template as tp;
use hcl::edit::Span;
use hcl::eval::{Context, Evaluate};
use rudder_engine::Value;

mod funcs;

/// One `name = expr` of a `values` or `locals` block.
struct Def {
    name: String,
    file: usize,
    expr: hcl::Expression,
    edit: ex::Expression,
    line: usize,
}

/// A source file: its name as helmfile shows it and its text (for line/column numbers).
struct Source {
    name: String,
    text: String,
}

impl Source {
    /// hcl's `file:line,col-col` (or `file:l1,c1-l2,c2`) for a byte range.
    fn range(&self, r: std::ops::Range<usize>) -> String {
        let (l1, c1) = self.pos(r.start);
        let (l2, c2) = self.pos(r.end);
        if l1 == l2 {
            format!("{}:{l1},{c1}-{c2}", self.name)
        } else {
            format!("{}:{l1},{c1}-{l2},{c2}", self.name)
        }
    }

    fn pos(&self, off: usize) -> (usize, usize) {
        let before = &self.text[..off.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        (line, col)
    }
}

/// Renders the HCL files `files` (path to read, name to show) to one values map.
pub fn render(files: &[(std::path::PathBuf, String)]) -> Result<Value, String> {
    let mut sources = Vec::new();
    // values definitions by name, in definition order; names in first-definition order.
    let mut defs: HashMap<String, Vec<Def>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut locals: Vec<Option<Vec<Def>>> = Vec::new();
    for (i, (path, shown)) in files.iter().enumerate() {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "<nil>: {}; could not read file",
                rudder_engine::funcs::helmfile::errno_text(&e)
            )
        })?;
        let src = Source {
            name: shown.clone(),
            text,
        };
        let body = hcl::edit::parser::parse_body(&src.text).map_err(|e| syntax_error(&src, &e))?;
        let (vals, local) = read_file(&src, i, &body)?;
        for d in vals {
            if !defs.contains_key(&d.name) {
                order.push(d.name.clone());
            }
            defs.entry(d.name.clone()).or_default().push(d);
        }
        locals.push(local);
        sources.push(src);
    }

    // Locals of each file, each file its own graph.
    let mut local_objs: Vec<Option<hcl::Value>> = Vec::new();
    for file_locals in &locals {
        let Some(file_locals) = file_locals else {
            local_objs.push(None);
            continue;
        };
        let names: Vec<String> = file_locals.iter().map(|d| d.name.clone()).collect();
        let mut deps = Vec::new();
        for d in file_locals {
            deps.push(dependencies(&sources[d.file], &d.edit, true)?);
        }
        let plan = plan(&names, &deps)?;
        let mut done = hcl::Map::new();
        for idx in plan {
            let d = &file_locals[idx];
            let mut ctx = context();
            ctx.declare_var("local", hcl::Value::Object(done.clone()));
            let v = eval(&sources, d, &ctx, false)?;
            done.insert(d.name.clone(), v);
        }
        local_objs.push(if done.is_empty() {
            None
        } else {
            Some(hcl::Value::Object(done))
        });
    }

    // Values: one graph over all files; a name's dependencies are those of all its definitions.
    let mut deps = Vec::new();
    for name in &order {
        let mut all: Vec<String> = Vec::new();
        for d in &defs[name] {
            for dep in dependencies(&sources[d.file], &d.edit, false)? {
                if !all.contains(&dep) {
                    all.push(dep);
                }
            }
        }
        deps.push(all);
    }
    let plan = plan(&order, &deps)?;
    let mut hv = hcl::Map::new();
    for idx in plan {
        let name = &order[idx];
        let list = &defs[name];
        let mut merged: Option<hcl::Value> = None;
        for d in list {
            let mut ctx = context();
            ctx.declare_var("hv", hcl::Value::Object(hv.clone()));
            ctx.declare_var(
                "local",
                local_objs[d.file].clone().unwrap_or(hcl::Value::Null),
            );
            let v = eval(&sources, d, &ctx, list.len() > 1)?;
            merged = Some(match merged {
                None => v,
                Some(a) => merge(a, v),
            });
        }
        hv.insert(name.clone(), merged.unwrap_or(hcl::Value::Null));
    }
    Ok(to_go(&hcl::Value::Object(hv)))
}

/// A parse error in hclsyntax's words where the kind is recognised (hcl-edit's own message
/// otherwise), at the offending character.
fn syntax_error(src: &Source, e: &hcl::edit::parser::Error) -> String {
    let off = e.location().offset().min(src.text.len());
    let ch = src.text[off..].chars().next().map_or(0, char::len_utf8);
    let at = src.range(off..off + ch);
    let msg = e.message();
    if msg.contains("found redefined attribute") {
        // The key at `off` was set before in the same block.
        let key: String = src.text[off..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        let prev = src.text[..off]
            .match_indices(key.as_str())
            .filter(|(i, _)| {
                let before = src.text[..*i].chars().next_back();
                let after = src.text[i + key.len()..].trim_start_matches([' ', '\t']);
                before.is_none_or(|c| c.is_whitespace() || c == '{')
                    && (after.starts_with('=') || after.starts_with(':'))
            })
            .last()
            .map(|(i, _)| src.range(i..i + key.len()));
        if let Some(prev) = prev {
            return format!(
                "{}: Attribute redefined; The argument \"{key}\" was already set at {prev}. Each argument may be set only once.",
                src.range(off..off + key.len())
            );
        }
    }
    // An unterminated quoted string: hcl-edit fails at the attribute, hclsyntax at the newline.
    let line_start = src.text[..off].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src.text[off..]
        .find('\n')
        .map_or(src.text.len(), |i| off + i);
    if let Some(q) = src.text[line_start..line_end].find('"') {
        if let Some(nl) = newline_in_quoted(&src.text, line_start + q) {
            return format!(
                "{}: Invalid multi-line string; Quoted strings may not be split over multiple lines. To produce a multi-line string, either use the \\n escape to represent a newline character or use the \"heredoc\" multi-line template syntax.",
                src.range(nl..nl + 1)
            );
        }
    }
    if msg.starts_with("invalid expression") {
        return format!("{at}: Invalid expression; Expected the start of an expression, but found an invalid expression token.");
    }
    if msg == "expected `]`" {
        return format!("{at}: Missing item separator; Expected a comma to mark the beginning of the next item.");
    }
    format!("{at}: Invalid HCL syntax; {msg}")
}

/// The offset of the first newline inside a quoted string of `e` (hcl-edit accepts them;
/// hclsyntax does not).
fn quoted_newline(src: &Source, e: &ex::Expression) -> Option<usize> {
    let mut found: Option<usize> = None;
    visit(e, &mut |x| {
        if let ex::Expression::String(_) | ex::Expression::StringTemplate(_) = x {
            if let Some(at) = x
                .span()
                .and_then(|sp| newline_in_quoted(&src.text, sp.start))
            {
                if found.is_none_or(|f| at < f) {
                    found = Some(at);
                }
            }
        }
    });
    found
}

/// Scans the quoted string opening at `start`: the offset of a newline outside `${ }`/`%{ }`
/// before the closing quote.
fn newline_in_quoted(text: &str, start: usize) -> Option<usize> {
    let b = text.as_bytes();
    if b.get(start) != Some(&b'"') {
        return None;
    }
    let (mut i, mut depth) = (start + 1, 0usize);
    while i < b.len() {
        match b[i] {
            b'\\' if depth == 0 => i += 1,
            b'"' if depth == 0 => return None,
            b'\n' if depth == 0 => return Some(i),
            b'$' | b'%' if depth == 0 && b.get(i + 1) == Some(&b'{') => {
                if i > start + 1 && b[i - 1] == b[i] {
                    // `$${` / `%%{` are escapes
                } else {
                    depth = 1;
                    i += 1;
                }
            }
            b'{' if depth > 0 => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The `values` definitions and the `locals` block (if any) of one parsed file, checked against
/// helmfile's schema (only `values` and `locals` blocks, no labels, one `locals`).
fn read_file(
    src: &Source,
    file: usize,
    body: &st::Body,
) -> Result<(Vec<Def>, Option<Vec<Def>>), String> {
    let mut vals = Vec::new();
    let mut local: Option<Vec<Def>> = None;
    let mut first_block: Option<std::ops::Range<usize>> = None;
    let mut n_locals = 0;
    for s in body.iter() {
        match s {
            st::Structure::Attribute(a) => {
                return Err(format!(
                    "{}: Unsupported argument; An argument named \"{}\" is not expected here.",
                    src.range(a.key.span().unwrap_or(0..0)),
                    a.key.as_str()
                ));
            }
            st::Structure::Block(b) => {
                let ty = b.ident.as_str();
                let ty_range = b.ident.span().unwrap_or(0..0);
                if ty != "values" && ty != "locals" {
                    return Err(format!(
                        "{}: Unsupported block type; Blocks of type \"{ty}\" are not expected here.",
                        src.range(ty_range)
                    ));
                }
                if let Some(l) = b.labels.first() {
                    return Err(format!(
                        "{}: Extraneous label for {ty}; No labels are expected for {ty} blocks.",
                        src.range(l.span().unwrap_or(0..0))
                    ));
                }
                first_block.get_or_insert(ty_range);
                if ty == "locals" {
                    n_locals += 1;
                }
            }
        }
    }
    if n_locals > 1 {
        return Err(format!(
            "{}: A file can only support exactly 1 `locals` block; ",
            src.range(first_block.unwrap_or(0..0))
        ));
    }
    for s in body.iter() {
        let st::Structure::Block(b) = s else { continue };
        let mut seen: HashMap<String, std::ops::Range<usize>> = HashMap::new();
        let mut attrs = Vec::new();
        for inner in b.body.iter() {
            match inner {
                st::Structure::Block(nb) => {
                    return Err(format!(
                        "{}: Unexpected \"{}\" block; Blocks are not allowed here.",
                        src.range(nb.ident.span().unwrap_or(0..0)),
                        nb.ident.as_str()
                    ));
                }
                st::Structure::Attribute(a) => {
                    let name = a.key.as_str().to_string();
                    let r = a.key.span().unwrap_or(0..0);
                    if let Some(prev) = seen.get(&name) {
                        return Err(format!(
                            "{}: Attribute redefined; The argument \"{name}\" was already set at {}. Each argument may be set only once.",
                            src.range(r),
                            src.range(prev.clone())
                        ));
                    }
                    seen.insert(name.clone(), r.clone());
                    if let Some(nl) = quoted_newline(src, &a.value) {
                        return Err(format!(
                            "{}: Invalid multi-line string; Quoted strings may not be split over multiple lines. To produce a multi-line string, either use the \\n escape to represent a newline character or use the \"heredoc\" multi-line template syntax.",
                            src.range(nl..nl + 1)
                        ));
                    }
                    attrs.push(Def {
                        name,
                        file,
                        expr: conditionals(a.value.clone().into()),
                        edit: a.value.clone(),
                        line: src.pos(r.start).0,
                    });
                }
            }
        }
        if b.ident.as_str() == "locals" {
            local = Some(attrs);
        } else {
            vals.extend(attrs);
        }
    }
    Ok((vals, local))
}

/// helmfile's `parseSingleAttrRef` over hcl's `Expr.Variables()`: the names an expression
/// refers to. In `values`, `local.*` is precomputed and not a dependency; any other root's
/// first attribute (`hv.x`, but also `foo.x`) is. In `locals`, every root's first attribute is.
fn dependencies(src: &Source, e: &ex::Expression, in_locals: bool) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    walk(src, e, &mut Vec::new(), in_locals, &mut out)?;
    Ok(out)
}

fn add(out: &mut Vec<String>, name: &str) {
    if !out.iter().any(|n| n == name) {
        out.push(name.to_string());
    }
}

fn root_ref(
    src: &Source,
    root: &ex::Expression,
    ops: &[hcl::edit::Decorated<ex::TraversalOperator>],
    scope: &[String],
    in_locals: bool,
    out: &mut Vec<String>,
) -> Result<bool, String> {
    let ex::Expression::Variable(v) = root else {
        return Ok(false);
    };
    let name = v.as_str();
    if scope.iter().any(|s| s == name) {
        return Ok(true);
    }
    if name == "local" && !in_locals {
        return Ok(true);
    }
    let root_range = v.span().unwrap_or(0..0);
    match ops.first().map(|o| o.value()) {
        Some(ex::TraversalOperator::GetAttr(a)) => {
            add(out, a.as_str());
            Ok(true)
        }
        Some(ex::TraversalOperator::LegacyIndex(_)) => Err(format!(
            "{}: Invalid reference; The \"{name}\" object does not support this operation.",
            src.range(ops[0].span().unwrap_or(0..0))
        )),
        Some(ex::TraversalOperator::Index(ix)) if is_literal(ix) => Err(format!(
            "{}: Invalid reference; The \"{name}\" object does not support this operation.",
            src.range(ops[0].span().unwrap_or(0..0))
        )),
        _ => Err(format!(
            "{}: Invalid reference; The \"{name}\" object cannot be accessed directly. Instead, access it from one of its root.",
            src.range(root_range)
        )),
    }
}

fn is_literal(e: &ex::Expression) -> bool {
    matches!(
        e,
        ex::Expression::Number(_) | ex::Expression::String(_) | ex::Expression::Bool(_)
    )
}

fn walk(
    src: &Source,
    e: &ex::Expression,
    scope: &mut Vec<String>,
    in_locals: bool,
    out: &mut Vec<String>,
) -> Result<(), String> {
    use ex::Expression as E;
    match e {
        E::Null(_) | E::Bool(_) | E::Number(_) | E::String(_) => {}
        E::Array(a) => {
            for x in a.iter() {
                walk(src, x, scope, in_locals, out)?;
            }
        }
        E::Object(o) => {
            for (k, v) in o.iter() {
                if let ex::ObjectKey::Expression(k) = k {
                    // A bare name as key is a literal; a traversal key is a reference.
                    if !matches!(k, E::Variable(_)) {
                        walk(src, k, scope, in_locals, out)?;
                    }
                }
                walk(src, v.expr(), scope, in_locals, out)?;
            }
        }
        E::StringTemplate(t) => walk_template(src, t, scope, in_locals, out)?,
        E::HeredocTemplate(h) => walk_template(src, &h.template, scope, in_locals, out)?,
        E::Parenthesis(p) => walk(src, p.inner(), scope, in_locals, out)?,
        E::Variable(_) => {
            root_ref(src, e, &[], scope, in_locals, out)?;
        }
        E::Conditional(c) => {
            walk(src, &c.cond_expr, scope, in_locals, out)?;
            walk(src, &c.true_expr, scope, in_locals, out)?;
            walk(src, &c.false_expr, scope, in_locals, out)?;
        }
        E::FuncCall(f) => {
            for a in f.args.iter() {
                walk(src, a, scope, in_locals, out)?;
            }
        }
        E::Traversal(t) => {
            if !root_ref(src, &t.expr, &t.operators, scope, in_locals, out)? {
                walk(src, &t.expr, scope, in_locals, out)?;
            }
            for op in &t.operators {
                if let ex::TraversalOperator::Index(ix) = op.value() {
                    walk(src, ix, scope, in_locals, out)?;
                }
            }
        }
        E::UnaryOp(u) => walk(src, &u.expr, scope, in_locals, out)?,
        E::BinaryOp(b) => {
            walk(src, &b.lhs_expr, scope, in_locals, out)?;
            walk(src, &b.rhs_expr, scope, in_locals, out)?;
        }
        E::ForExpr(f) => {
            walk(src, &f.intro.collection_expr, scope, in_locals, out)?;
            let n = scope.len();
            if let Some(k) = &f.intro.key_var {
                scope.push(k.as_str().to_string());
            }
            scope.push(f.intro.value_var.as_str().to_string());
            if let Some(k) = &f.key_expr {
                walk(src, k, scope, in_locals, out)?;
            }
            walk(src, &f.value_expr, scope, in_locals, out)?;
            if let Some(c) = &f.cond {
                walk(src, &c.expr, scope, in_locals, out)?;
            }
            scope.truncate(n);
        }
    }
    Ok(())
}

fn walk_template(
    src: &Source,
    t: &tp::Template,
    scope: &mut Vec<String>,
    in_locals: bool,
    out: &mut Vec<String>,
) -> Result<(), String> {
    for el in t.iter() {
        match el {
            tp::Element::Literal(_) => {}
            tp::Element::Interpolation(i) => walk(src, &i.expr, scope, in_locals, out)?,
            tp::Element::Directive(d) => match &**d {
                tp::Directive::If(i) => {
                    walk(src, &i.if_expr.cond_expr, scope, in_locals, out)?;
                    walk_template(src, &i.if_expr.template, scope, in_locals, out)?;
                    if let Some(e) = &i.else_expr {
                        walk_template(src, &e.template, scope, in_locals, out)?;
                    }
                }
                tp::Directive::For(f) => {
                    let fe = &f.for_expr;
                    walk(src, &fe.collection_expr, scope, in_locals, out)?;
                    let n = scope.len();
                    if let Some(k) = &fe.key_var {
                        scope.push(k.as_str().to_string());
                    }
                    scope.push(fe.value_var.as_str().to_string());
                    walk_template(src, &fe.template, scope, in_locals, out)?;
                    scope.truncate(n);
                }
            },
        }
    }
    Ok(())
}

/// variantdev/dag's plan of `names` (each depending on `deps[i]`): indices in evaluation
/// order, or helmfile's error for an undefined name or a cycle.
fn plan(names: &[String], deps: &[Vec<String>]) -> Result<Vec<usize>, String> {
    let index: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    // outputs: dependency -> dependents (as in the dag's edges).
    let mut outputs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut inputs: Vec<usize> = vec![0; names.len()];
    for (i, ds) in deps.iter().enumerate() {
        for d in ds {
            let o = outputs.entry(d.clone()).or_default();
            if !o.contains(&names[i]) {
                o.push(names[i].clone());
                inputs[i] += 1;
            }
        }
    }
    for (dep, dependents) in &outputs {
        if !index.contains_key(dep.as_str()) {
            let quoted: Vec<String> = dependents.iter().map(|d| format!("{d:?}")).collect();
            return Err(format!(
                "variables {} depend(s) on undefined vars {dep:?}",
                quoted.join(", ")
            ));
        }
    }
    let mut order = Vec::new();
    let mut current: Vec<usize> = (0..names.len()).filter(|&i| inputs[i] == 0).collect();
    while !current.is_empty() {
        let mut next = Vec::new();
        for n in current {
            order.push(n);
            for m in outputs
                .get_mut(&names[n])
                .map(std::mem::take)
                .unwrap_or_default()
            {
                let mi = index[m.as_str()];
                inputs[mi] -= 1;
                if inputs[mi] == 0 {
                    next.push(mi);
                }
            }
        }
        current = next;
    }
    if order.len() < names.len() {
        let mut invalid: Vec<&String> = (0..names.len())
            .filter(|&i| inputs[i] > 0)
            .map(|i| &names[i])
            .collect();
        invalid.sort();
        let Some(mut cur) = invalid
            .iter()
            .find(|n| outputs.get(n.as_str()).is_some_and(|o| !o.is_empty()))
            .map(|n| n.to_string())
        else {
            return Err("error while building the DAG variable graph : cycle detected".into());
        };
        let mut path: Vec<String> = Vec::new();
        while !path.contains(&cur) {
            path.push(cur.clone());
            // Go ranges over the dependents map: a node without dependents stays current.
            if let Some(next) = outputs.get(&cur).and_then(|o| o.first()) {
                cur = next.clone();
            }
        }
        path.push(cur);
        return Err(format!(
            "error while building the DAG variable graph : cycle detected: {}",
            path.join(" -> ")
        ));
    }
    Ok(order)
}

fn context() -> Context<'static> {
    let mut ctx = Context::new();
    funcs::declare(&mut ctx);
    ctx
}

/// Evaluates one definition; errors as helmfile words them (`at file:line` when the name has
/// several definitions).
fn eval(sources: &[Source], d: &Def, ctx: &Context, multi: bool) -> Result<hcl::Value, String> {
    let src = &sources[d.file];
    let res = try_can(d.expr.clone(), ctx).and_then(|e| e.evaluate(ctx));
    let cause = match res {
        Ok(v) => return Ok(v),
        Err(err) => describe(src, &d.edit, Some(&err)),
    };
    if multi {
        Err(format!(
            "error when trying to evaluate variable {} at {}:{} : {cause}",
            d.name, src.name, d.line
        ))
    } else {
        Err(format!(
            "error when trying to evaluate variable {} : {cause}",
            d.name
        ))
    }
}

/// hcl's diagnostic for an evaluation error, with the source range where one can be found.
fn describe(src: &Source, e: &ex::Expression, err: Option<&hcl::eval::Error>) -> String {
    use hcl::eval::ErrorKind as K;
    let Some(err) = err else {
        return "evaluation failed".into();
    };
    match err.kind() {
        K::UndefinedFunc(f) => {
            let name = f.name.as_str();
            let r = find_call(e, name)
                .and_then(|c| c.name.name.span())
                .map(|sp| src.range(sp))
                .unwrap_or_else(|| src.name.clone());
            format!("{r}: Call to unknown function; There is no function named \"{name}\".")
        }
        K::NoSuchKey(k) => {
            let r = find_attr(e, k)
                .map(|sp| src.range(sp))
                .unwrap_or_else(|| src.name.clone());
            format!(
                "{r}: Unsupported attribute; This object does not have an attribute named \"{k}\"."
            )
        }
        K::Unexpected(hcl::Value::Null, _) if find_local(e).is_some() => {
            let r = find_local(e)
                .map(|sp| src.range(sp))
                .unwrap_or_else(|| src.name.clone());
            format!("{r}: Attempt to get attribute from null value; This value is null, so it does not have any attributes.")
        }
        K::Index(i) => {
            let r = find_index(e, *i)
                .map(|sp| src.range(sp))
                .unwrap_or_else(|| src.name.clone());
            format!("{r}: Invalid index; The given key does not identify an element in this collection value.")
        }
        K::FuncCall(f, _) if f.name.as_str() == funcs::LHS || f.name.as_str() == funcs::RHS => {
            let left = f.name.as_str() == funcs::LHS;
            let r = find_operand(e, left)
                .map(|sp| src.range(sp))
                .unwrap_or_else(|| src.name.clone());
            let side = if left { "left" } else { "right" };
            format!(
                "{r}: Invalid operand; Unsuitable value for {side} operand: a number is required."
            )
        }
        K::Unexpected(v, "an object") if !v.is_array() && !v.is_object() && !v.is_null() => {
            let ty = match v {
                hcl::Value::Number(_) => "number",
                hcl::Value::Bool(_) => "bool",
                _ => "string",
            };
            let r = find_deep_attr(e)
                .map(|sp| src.range(sp))
                .unwrap_or_else(|| src.name.clone());
            format!("{r}: Unsupported attribute; Can't access attributes on a primitive-typed value ({ty}).")
        }
        K::FuncCall(f, msg) if f.name.as_str() == funcs::COND => {
            let mut cond = None;
            visit(e, &mut |x| {
                if let ex::Expression::Conditional(c) = x {
                    if cond.is_none() {
                        cond = c.cond_expr.span();
                    }
                }
            });
            let r = cond
                .map(|sp| src.range(sp))
                .unwrap_or_else(|| src.name.clone());
            let summary = if msg.contains("null") {
                "Null condition"
            } else {
                "Incorrect condition type"
            };
            format!("{r}: {summary}; {msg}")
        }
        K::FuncCall(f, msg) => {
            let name = f.name.as_str();
            let call = find_call(e, name);
            // hcl-rs: "expected N positional arguments, got M".
            let counts: Vec<usize> = msg
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse().ok())
                .collect();
            if let (Some(c), true, [want, got]) =
                (call, msg.starts_with("expected "), counts.as_slice())
            {
                if got > want {
                    let r = c
                        .args
                        .iter()
                        .nth(*want)
                        .and_then(|a| a.span())
                        .map(|sp| {
                            // A quoted argument starts at its first character (hclsyntax's
                            // StartRange of a template).
                            if src.text[sp.clone()].starts_with('"') && sp.len() > 2 {
                                src.range(sp.start + 1..sp.end - 1)
                            } else {
                                src.range(sp)
                            }
                        })
                        .unwrap_or_else(|| src.name.clone());
                    return format!("{r}: Too many function arguments; Function \"{name}\" expects only {want} argument(s).");
                }
            }
            // The call's name and opening parenthesis.
            let r = call
                .and_then(|c| c.span())
                .map(|sp| {
                    let open = src.text[sp.clone()]
                        .find('(')
                        .map_or(sp.end, |o| sp.start + o + 1);
                    src.range(sp.start..open)
                })
                .unwrap_or_else(|| src.name.clone());
            format!("{r}: Error in function call; Call to function \"{name}\" failed: {msg}.")
        }
        other => format!("{}: {other}", src.name),
    }
}

/// Visits every sub-expression of `e` (including those inside templates).
fn visit<'a>(e: &'a ex::Expression, f: &mut dyn FnMut(&'a ex::Expression)) {
    use ex::Expression as E;
    f(e);
    match e {
        E::Array(a) => a.iter().for_each(|x| visit(x, f)),
        E::Object(o) => {
            for (k, v) in o.iter() {
                if let ex::ObjectKey::Expression(k) = k {
                    visit(k, f);
                }
                visit(v.expr(), f);
            }
        }
        E::StringTemplate(t) => visit_template(t, f),
        E::HeredocTemplate(h) => visit_template(&h.template, f),
        E::Parenthesis(p) => visit(p.inner(), f),
        E::Conditional(c) => {
            visit(&c.cond_expr, f);
            visit(&c.true_expr, f);
            visit(&c.false_expr, f);
        }
        E::FuncCall(c) => c.args.iter().for_each(|x| visit(x, f)),
        E::Traversal(t) => {
            visit(&t.expr, f);
            for op in &t.operators {
                if let ex::TraversalOperator::Index(ix) = op.value() {
                    visit(ix, f);
                }
            }
        }
        E::UnaryOp(u) => visit(&u.expr, f),
        E::BinaryOp(b) => {
            visit(&b.lhs_expr, f);
            visit(&b.rhs_expr, f);
        }
        E::ForExpr(x) => {
            visit(&x.intro.collection_expr, f);
            if let Some(k) = &x.key_expr {
                visit(k, f);
            }
            visit(&x.value_expr, f);
            if let Some(c) = &x.cond {
                visit(&c.expr, f);
            }
        }
        _ => {}
    }
}

fn visit_template<'a>(t: &'a tp::Template, f: &mut dyn FnMut(&'a ex::Expression)) {
    for el in t.iter() {
        match el {
            tp::Element::Literal(_) => {}
            tp::Element::Interpolation(i) => visit(&i.expr, f),
            tp::Element::Directive(d) => match &**d {
                tp::Directive::If(i) => {
                    visit(&i.if_expr.cond_expr, f);
                    visit_template(&i.if_expr.template, f);
                    if let Some(e) = &i.else_expr {
                        visit_template(&e.template, f);
                    }
                }
                tp::Directive::For(x) => {
                    visit(&x.for_expr.collection_expr, f);
                    visit_template(&x.for_expr.template, f);
                }
            },
        }
    }
}

fn find_call<'a>(e: &'a ex::Expression, name: &str) -> Option<&'a ex::FuncCall> {
    let mut found = None;
    visit(e, &mut |x| {
        if let ex::Expression::FuncCall(c) = x {
            if found.is_none() && c.name.name.as_str() == name {
                found = Some(&**c);
            }
        }
    });
    found
}

fn find_attr(e: &ex::Expression, key: &str) -> Option<std::ops::Range<usize>> {
    let mut found = None;
    visit(e, &mut |x| {
        if let ex::Expression::Traversal(t) = x {
            for op in t.operators.iter() {
                if let ex::TraversalOperator::GetAttr(a) = op.value() {
                    if found.is_none() && a.as_str() == key {
                        found = op.span();
                    }
                }
            }
        }
    });
    found
}

/// The index operator `[i]` (a literal `i` preferred) of a traversal in `e`.
fn find_index(e: &ex::Expression, i: usize) -> Option<std::ops::Range<usize>> {
    let (mut exact, mut any) = (None, None);
    visit(e, &mut |x| {
        if let ex::Expression::Traversal(t) = x {
            for op in &t.operators {
                if let ex::TraversalOperator::Index(ix) = op.value() {
                    if any.is_none() {
                        any = op.span();
                    }
                    if let ex::Expression::Number(n) = ix {
                        if exact.is_none() && n.value().as_u64() == Some(i as u64) {
                            exact = op.span();
                        }
                    }
                }
            }
        }
    });
    exact.or(any)
}

/// The left or right operand of the first arithmetic/comparison operation in `e` whose operand
/// is not a number literal.
fn find_operand(e: &ex::Expression, left: bool) -> Option<std::ops::Range<usize>> {
    use hcl::edit::expr::BinaryOperator as B;
    let mut found = None;
    visit(e, &mut |x| {
        if let ex::Expression::BinaryOp(b) = x {
            let arith = matches!(
                b.operator.value(),
                B::Plus
                    | B::Minus
                    | B::Mul
                    | B::Div
                    | B::Mod
                    | B::Less
                    | B::LessEq
                    | B::Greater
                    | B::GreaterEq
            );
            let side = if left { &b.lhs_expr } else { &b.rhs_expr };
            if arith && found.is_none() && !matches!(side, ex::Expression::Number(_)) {
                found = side.span();
            }
        }
    });
    found
}

/// The second attribute step of the first `root.a.b` traversal in `e`.
fn find_deep_attr(e: &ex::Expression) -> Option<std::ops::Range<usize>> {
    let mut found = None;
    visit(e, &mut |x| {
        if let ex::Expression::Traversal(t) = x {
            if found.is_none()
                && matches!(t.expr, ex::Expression::Variable(_))
                && t.operators.len() > 1
            {
                found = t.operators[1].span();
            }
        }
    });
    found
}

fn find_local(e: &ex::Expression) -> Option<std::ops::Range<usize>> {
    let mut found = None;
    visit(e, &mut |x| {
        if let ex::Expression::Traversal(t) = x {
            if let ex::Expression::Variable(v) = &t.expr {
                if found.is_none() && v.as_str() == "local" {
                    found = t.operators.first().and_then(|o| o.span());
                }
            }
        }
    });
    found
}

/// `try(...)` and `can(...)` evaluate their arguments lazily (hcl's tryfunc): each call whose
/// arguments need no iteration variable is decided here, before the expression is evaluated,
/// and replaced by its result. Calls inside `for` bodies are left to the eager fallbacks in
/// [`funcs`], which agree whenever the first argument succeeds.
fn try_can(e: hcl::Expression, ctx: &Context) -> Result<hcl::Expression, hcl::eval::Error> {
    use hcl::Expression as E;
    let mut rec = |e: E| try_can(e, ctx);
    Ok(match e {
        E::Array(a) => E::Array(a.into_iter().map(&mut rec).collect::<Result<_, _>>()?),
        E::Object(o) => E::Object(
            o.into_iter()
                .map(|(k, v)| Ok((k, try_can(v, ctx)?)))
                .collect::<Result<_, hcl::eval::Error>>()?,
        ),
        E::Parenthesis(p) => E::Parenthesis(Box::new(rec(*p)?)),
        E::FuncCall(mut f) => {
            f.args = std::mem::take(&mut f.args)
                .into_iter()
                .map(&mut rec)
                .collect::<Result<_, _>>()?;
            let name = f.name.name.as_str();
            if f.name.namespace.is_empty() && (name == "try" || name == "can") {
                let loop_var = |err: &hcl::eval::Error| matches!(err.kind(), hcl::eval::ErrorKind::UndefinedVar(v) if v.as_str() != "hv" && v.as_str() != "local");
                let mut first_err = None;
                for a in &f.args {
                    match a.evaluate(ctx) {
                        Ok(v) if name == "try" => return Ok(E::from(v)),
                        Ok(_) => return Ok(E::Bool(true)),
                        Err(err) if loop_var(&err) => return Ok(E::FuncCall(f)),
                        Err(err) => {
                            if name == "can" {
                                return Ok(E::Bool(false));
                            }
                            first_err.get_or_insert(err);
                        }
                    }
                }
                if let Some(err) = first_err {
                    return Err(err);
                }
            }
            E::FuncCall(f)
        }
        E::ForExpr(f) if has_try(&E::ForExpr(f.clone())) => E::from(for_with_try(&f, ctx)?),
        E::Traversal(mut t) => {
            t.expr = rec(std::mem::replace(&mut t.expr, E::Null))?;
            E::Traversal(t)
        }
        E::Operation(mut o) => {
            match &mut *o {
                hcl::expr::Operation::Unary(u) => {
                    u.expr = rec(std::mem::replace(&mut u.expr, E::Null))?
                }
                hcl::expr::Operation::Binary(b) => {
                    b.lhs_expr = rec(std::mem::replace(&mut b.lhs_expr, E::Null))?;
                    b.rhs_expr = rec(std::mem::replace(&mut b.rhs_expr, E::Null))?;
                }
            }
            E::Operation(o)
        }
        other => other,
    })
}

/// Whether `e` calls try or can anywhere (read off hcl-rs's debug form of function names; a
/// false positive only costs evaluating the `for` here).
fn has_try(e: &hcl::Expression) -> bool {
    let dbg = format!("{e:?}");
    dbg.contains("name: Identifier(try)") || dbg.contains("name: Identifier(can)")
}

/// A `for` expression whose body calls try/can, evaluated here so that each iteration's
/// calls are decided lazily with the iteration variables bound.
fn for_with_try(f: &hcl::expr::ForExpr, ctx: &Context) -> Result<hcl::Value, hcl::eval::Error> {
    let coll = try_can(f.collection_expr.clone(), ctx)?.evaluate(ctx)?;
    let items: Vec<(hcl::Value, hcl::Value)> = match coll {
        hcl::Value::Array(a) => a
            .into_iter()
            .enumerate()
            .map(|(i, v)| (hcl::Value::from(i as u64), v))
            .collect(),
        hcl::Value::Object(o) => o
            .into_iter()
            .map(|(k, v)| (hcl::Value::String(k), v))
            .collect(),
        // Not iterable: hcl-rs's own evaluation reports it.
        _ => return hcl::Expression::ForExpr(Box::new(f.clone())).evaluate(ctx),
    };
    let mut list = Vec::new();
    let mut obj: hcl::Map<String, hcl::Value> = hcl::Map::new();
    for (k, v) in items {
        let mut c = ctx.clone();
        if let Some(kv) = &f.key_var {
            c.declare_var(kv.clone(), k);
        }
        c.declare_var(f.value_var.clone(), v);
        let eval = |e: &hcl::Expression| try_can(e.clone(), &c).and_then(|e| e.evaluate(&c));
        if let Some(cond) = &f.cond_expr {
            if eval(cond)? != hcl::Value::Bool(true) {
                continue;
            }
        }
        let val = eval(&f.value_expr)?;
        match &f.key_expr {
            None => list.push(val),
            Some(ke) => {
                let key = match eval(ke)? {
                    hcl::Value::String(s) => s,
                    other => other.to_string(),
                };
                if f.grouping {
                    match obj.entry(key).or_insert_with(|| hcl::Value::Array(vec![])) {
                        hcl::Value::Array(a) => a.push(val),
                        _ => {}
                    }
                } else {
                    obj.insert(key, val);
                }
            }
        }
    }
    Ok(if f.key_expr.is_some() {
        hcl::Value::Object(obj)
    } else {
        hcl::Value::Array(list)
    })
}

/// Rewrites `c ? a : b` to a call of [`funcs::COND`], which evaluates both results and unifies
/// their types as cty does (`true ? 1 : "a"` is the string `"1"`).
fn conditionals(e: hcl::Expression) -> hcl::Expression {
    use hcl::Expression as E;
    match e {
        E::Array(a) => E::Array(a.into_iter().map(conditionals).collect()),
        E::Object(o) => E::Object(o.into_iter().map(|(k, v)| (k, conditionals(v))).collect()),
        E::Parenthesis(p) => E::Parenthesis(Box::new(conditionals(*p))),
        E::Conditional(c) => {
            let c = *c;
            E::FuncCall(Box::new(
                hcl::expr::FuncCall::builder(funcs::COND)
                    .arg(conditionals(c.cond_expr))
                    .arg(conditionals(c.true_expr))
                    .arg(conditionals(c.false_expr))
                    .build(),
            ))
        }
        E::FuncCall(mut f) => {
            f.args = std::mem::take(&mut f.args)
                .into_iter()
                .map(conditionals)
                .collect();
            E::FuncCall(f)
        }
        E::Traversal(mut t) => {
            t.expr = conditionals(std::mem::replace(&mut t.expr, E::Null));
            for op in &mut t.operators {
                if let hcl::expr::TraversalOperator::Index(ix) = op {
                    *ix = conditionals(std::mem::replace(ix, E::Null));
                }
            }
            E::Traversal(t)
        }
        E::Operation(mut o) => {
            match &mut *o {
                hcl::expr::Operation::Unary(u) => {
                    u.expr = conditionals(std::mem::replace(&mut u.expr, E::Null))
                }
                hcl::expr::Operation::Binary(b) => {
                    b.lhs_expr = conditionals(std::mem::replace(&mut b.lhs_expr, E::Null));
                    b.rhs_expr = conditionals(std::mem::replace(&mut b.rhs_expr, E::Null));
                    // cty converts arithmetic and comparison operands to numbers ("2" + 1).
                    use hcl::expr::BinaryOperator as B;
                    if matches!(
                        b.operator,
                        B::Plus
                            | B::Minus
                            | B::Mul
                            | B::Div
                            | B::Mod
                            | B::Less
                            | B::LessEq
                            | B::Greater
                            | B::GreaterEq
                    ) {
                        let wrap = |name: &str, e: E| {
                            E::FuncCall(Box::new(hcl::expr::FuncCall::builder(name).arg(e).build()))
                        };
                        b.lhs_expr = wrap(funcs::LHS, std::mem::replace(&mut b.lhs_expr, E::Null));
                        b.rhs_expr = wrap(funcs::RHS, std::mem::replace(&mut b.rhs_expr, E::Null));
                        // cty computes with 512-bit floats: 0.1 + 0.2 is 0.3.
                        let exact = match b.operator {
                            B::Plus => Some(funcs::ADD),
                            B::Minus => Some(funcs::SUB),
                            B::Mul => Some(funcs::MUL),
                            B::Div => Some(funcs::DIV),
                            _ => None,
                        };
                        if let Some(name) = exact {
                            let l = std::mem::replace(&mut b.lhs_expr, E::Null);
                            let r = std::mem::replace(&mut b.rhs_expr, E::Null);
                            return E::FuncCall(Box::new(
                                hcl::expr::FuncCall::builder(name).arg(l).arg(r).build(),
                            ));
                        }
                    }
                }
            }
            E::Operation(o)
        }
        E::TemplateExpr(t) => match &*t {
            // Interpolations get the same rewrites; the template is printed back as source
            // (only where no escape sequence could change meaning on the way).
            hcl::expr::TemplateExpr::QuotedString(raw) if !raw.contains('\\') => {
                match hcl::Template::from_expr(&t) {
                    Ok(mut tpl) => {
                        template_conditionals(&mut tpl);
                        E::TemplateExpr(Box::new(hcl::expr::TemplateExpr::QuotedString(
                            tpl.to_string(),
                        )))
                    }
                    Err(_) => E::TemplateExpr(t),
                }
            }
            _ => E::TemplateExpr(t),
        },
        E::ForExpr(mut f) => {
            f.collection_expr = conditionals(std::mem::replace(&mut f.collection_expr, E::Null));
            f.key_expr = f.key_expr.take().map(conditionals);
            f.value_expr = conditionals(std::mem::replace(&mut f.value_expr, E::Null));
            f.cond_expr = f.cond_expr.take().map(conditionals);
            E::ForExpr(f)
        }
        other => other,
    }
}

fn template_conditionals(t: &mut hcl::Template) {
    use hcl::template::{Directive, Element};
    for el in t.elements_mut() {
        match el {
            Element::Literal(_) => {}
            Element::Interpolation(i) => {
                i.expr = conditionals(std::mem::replace(&mut i.expr, hcl::Expression::Null))
            }
            Element::Directive(d) => match &mut **d {
                Directive::If(i) => {
                    i.cond_expr =
                        conditionals(std::mem::replace(&mut i.cond_expr, hcl::Expression::Null));
                    template_conditionals(&mut i.true_template);
                    if let Some(f) = &mut i.false_template {
                        template_conditionals(f);
                    }
                }
                Directive::For(f) => {
                    f.collection_expr = conditionals(std::mem::replace(
                        &mut f.collection_expr,
                        hcl::Expression::Null,
                    ));
                    template_conditionals(&mut f.template);
                }
            },
        }
    }
}

/// helmfile's ctyMergeValues: objects merge per key, `null` keeps the base, else `b` wins.
fn merge(a: hcl::Value, b: hcl::Value) -> hcl::Value {
    match (a, b) {
        (a, hcl::Value::Null) => a,
        (hcl::Value::Object(mut a), hcl::Value::Object(b)) => {
            for (k, bv) in b {
                let v = match a.shift_remove(&k) {
                    Some(av) => merge(av, bv),
                    None => bv,
                };
                a.insert(k, v);
            }
            hcl::Value::Object(a)
        }
        (_, b) => b,
    }
}

/// cty -> JSON -> Go `map[string]any`: numbers become float64, objects Go maps.
fn to_go(v: &hcl::Value) -> Value {
    match v {
        hcl::Value::Null => Value::Nil,
        hcl::Value::Bool(b) => Value::Bool(*b),
        hcl::Value::Number(n) => Value::float(n.as_f64().unwrap_or(0.0)),
        hcl::Value::String(s) => Value::string(s.as_str()),
        hcl::Value::Array(a) => Value::list(a.iter().map(to_go).collect()),
        hcl::Value::Object(o) => Value::map(
            o.iter()
                .map(|(k, v)| (rudder_engine::Str::from(k.as_str()), to_go(v)))
                .collect(),
        ),
    }
}
