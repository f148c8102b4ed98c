//! The executor (Go: text/template/exec.go): walks a parse tree over Go-typed values with Go's
//! semantics — interface-wrapped map and slice elements, pipelines that unwrap them (a nil
//! element becomes "no value"), argument conversion by each function's declared signature, and
//! Go's error texts with the template location and the text of the node at fault.

mod builtins;
mod compare;

use std::sync::Arc;

use crate::funcs::{CallContext, Func, FuncError};
use crate::parse::node::{Arg, Branch, Callee, Command, ListNode, Node, Pipe};
use crate::parse::Tree;
use crate::template::{Error, MissingKey, TemplateSet};
use crate::value::{FloatKind, GoType, IntKind, Member, UintKind, Value};

/// Go's `maxExecDepth`: nested `{{template}}` calls allowed.
pub const MAX_EXEC_DEPTH: usize = 100_000;

/// Control flow out of a walk (Go panics with `walkBreak`/`walkContinue`).
enum Flow {
    Normal,
    Break,
    Continue,
}

/// A node the error location refers to (Go: `s.at(node)`).
#[derive(Clone, Copy)]
enum At<'t> {
    None,
    Node(&'t Node),
    Branch(&'t Branch),
    Pipe(&'t Pipe),
    Arg(&'t Arg),
    Cmd(&'t Command),
}

impl At<'_> {
    fn pos_and_text(&self) -> Option<(usize, String)> {
        match self {
            At::None => None,
            At::Node(n) => Some((n.pos(), n.to_string())),
            At::Branch(b) => Some((b.pos, b.pipe.to_string())),
            At::Pipe(p) => Some((p.pos, p.to_string())),
            At::Arg(a) => Some((a.pos(), a.to_string())),
            At::Cmd(c) => Some((c.pos, c.to_string())),
        }
    }
}

/// An execution failure on its way up: its final text, or a bare message that the nearest
/// frame knowing the current node turns into Go's full text.
type Fail = Error;
type Result<T> = std::result::Result<T, Fail>;

/// Shared by all states of one top-level execution (Helm's include counters live here).
#[derive(Default)]
pub struct ExecShared {
    /// Helm's per-name `include` nesting counts. A chart defines a handful of names, so a list
    /// scanned by name beats hashing (and allocates only when a name is first included).
    pub include_counts: Vec<(String, usize)>,
    /// Argument vectors of finished calls, kept for the next ones (a call allocates none).
    arg_pool: Vec<Vec<Value>>,
    /// Output buffers of finished `include`s, kept (with their capacity) for the next ones.
    out_pool: Vec<String>,
}

/// A value with the static type Go's reflect sees: `wrapped` means `interface {}` (a map or
/// slice element of an `interface {}` container, or a function's `interface {}` result).
#[derive(Clone, Debug)]
struct Wv {
    v: Value,
    wrapped: bool,
}

impl Wv {
    fn plain(v: Value) -> Wv {
        Wv { v, wrapped: false }
    }

    /// Go's unwrap at the end of each pipeline command: a nil interface becomes invalid.
    fn unwrap(self) -> Value {
        match self.v {
            Value::Nil => Value::Missing,
            v => v,
        }
    }

    fn type_name(&self) -> String {
        if self.wrapped {
            "interface {}".into()
        } else {
            match &self.v {
                Value::Missing => "<nil>".into(),
                v => v.go_type().to_string(),
            }
        }
    }
}

pub struct State<'t, 'o> {
    set: &'t TemplateSet,
    tree: &'t Tree,
    out: &'o mut String,
    vars: Vec<(&'t str, Value)>,
    depth: usize,
    at: At<'t>,
    shared: &'o mut ExecShared,
}

/// Executes `tree` (a member of `set`) on `data`, appending to `out`.
pub fn execute(set: &TemplateSet, tree: &Tree, data: &Value, out: &mut String, shared: &mut ExecShared) -> std::result::Result<(), Error> {
    // Go: reflect.ValueOf(nil) is the invalid value, so nil data is "no value" inside.
    let data = match data {
        Value::Nil => &Value::Missing,
        d => d,
    };
    let mut st = State { set, tree, out, vars: vec![("$", data.clone())], depth: 0, at: At::None, shared };
    // Deep template recursion must not overflow the native stack: grow it on the heap.
    stacker::maybe_grow(256 * 1024, 8 * 1024 * 1024, || st.walk_list(&Wv::plain(data.clone()), &tree.root)).map(|_| ())
}

impl<'t, 'o> State<'t, 'o> {
    /// Go: `state.errorf`.
    fn errorf(&self, msg: impl std::fmt::Display) -> Fail {
        let name = &self.tree.name;
        let message = match self.at.pos_and_text() {
            None => format!("template: {name}: {msg}"),
            Some((pos, text)) => format!(
                "template: {}: executing {} at <{}>: {}",
                self.tree.location(pos),
                crate::print::quote(name),
                text,
                msg
            ),
        };
        Error { message }
    }

    fn walk_list(&mut self, dot: &Wv, list: &'t ListNode) -> Result<Flow> {
        for n in &list.nodes {
            match self.walk(dot, n)? {
                Flow::Normal => {}
                f => return Ok(f),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Wv, node: &'t Node) -> Result<Flow> {
        self.at = At::Node(node);
        match node {
            Node::Text { text, .. } => {
                self.out.push_str(text);
            }
            Node::Action { pipe, .. } => {
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at = At::Node(node);
                    self.print_value(&v);
                }
            }
            Node::Break { .. } => return Ok(Flow::Break),
            Node::Continue { .. } => return Ok(Flow::Continue),
            Node::If(b) => return self.walk_if_or_with(false, dot, b),
            Node::With(b) => return self.walk_if_or_with(true, dot, b),
            Node::Range(b) => return self.walk_range(dot, b),
            Node::Template { name, pipe, .. } => {
                let Some(tree) = self.set.tree(name) else {
                    return Err(self.errorf(format!("template {} not defined", crate::print::quote(name))));
                };
                if self.depth == MAX_EXEC_DEPTH {
                    return Err(self.errorf(format!("exceeded maximum template depth ({MAX_EXEC_DEPTH})")));
                }
                let new_dot = match pipe {
                    Some(p) => self.eval_pipeline(dot, p)?,
                    None => Value::Missing,
                };
                let mut st = State {
                    set: self.set,
                    tree,
                    out: &mut *self.out,
                    vars: vec![("$", new_dot.clone())],
                    depth: self.depth + 1,
                    at: At::None,
                    shared: &mut *self.shared,
                };
                stacker::maybe_grow(256 * 1024, 8 * 1024 * 1024, || st.walk_list(&Wv::plain(new_dot), &tree.root))?;
            }
            Node::Comment { .. } | Node::End { .. } | Node::Else { .. } => {}
        }
        Ok(Flow::Normal)
    }

    fn print_value(&mut self, v: &Value) {
        match v {
            Value::Missing => self.out.push_str("<no value>"),
            Value::String(s) => self.out.push_str(s),
            v => crate::print::write_v(self.out, v),
        }
    }

    fn walk_if_or_with(&mut self, with: bool, dot: &Wv, b: &'t Branch) -> Result<Flow> {
        let mark = self.vars.len();
        let r = (|| {
            let val = self.eval_pipeline(dot, &b.pipe)?;
            let truth = is_true(&val);
            if truth {
                if with {
                    self.walk_list(&Wv::plain(val), &b.list)
                } else {
                    self.walk_list(dot, &b.list)
                }
            } else if let Some(e) = &b.else_list {
                self.walk_list(dot, e)
            } else {
                Ok(Flow::Normal)
            }
        })();
        self.vars.truncate(mark);
        r
    }

    fn walk_range(&mut self, dot: &Wv, b: &'t Branch) -> Result<Flow> {
        self.at = At::Branch(b);
        let outer_mark = self.vars.len();
        let r = self.walk_range_inner(dot, b);
        self.vars.truncate(outer_mark);
        r
    }

    fn walk_range_inner(&mut self, dot: &Wv, b: &'t Branch) -> Result<Flow> {
        let val = underlying(self.eval_pipeline(dot, &b.pipe)?);
        let mark = self.vars.len();
        let decl = &b.pipe.decl;
        let one = |st: &mut Self, index: Value, elem: Wv| -> Result<bool> {
            if !decl.is_empty() {
                if b.pipe.is_assign {
                    let v = if decl.len() > 1 { index.clone() } else { elem.v.clone() };
                    st.set_var(&decl[0], v)?;
                } else {
                    st.set_top_var(1, elem.v.clone());
                }
            }
            if decl.len() > 1 {
                if b.pipe.is_assign {
                    st.set_var(&decl[1], elem.v.clone())?;
                } else {
                    st.set_top_var(2, index);
                }
            }
            let r = st.walk_list(&elem, &b.list);
            st.vars.truncate(mark);
            match r? {
                Flow::Break => Ok(false),
                _ => Ok(true),
            }
        };
        match &val {
            Value::List(l) => {
                if !l.items.is_empty() {
                    let wrapped = l.elem == GoType::Interface;
                    for (i, item) in l.items.iter().enumerate() {
                        if !one(self, Value::int(i as i64), Wv { v: item.clone(), wrapped })? {
                            break;
                        }
                    }
                    return Ok(Flow::Normal);
                }
            }
            Value::Bytes(bytes) => {
                if !bytes.is_empty() {
                    for (i, x) in bytes.iter().enumerate() {
                        if !one(self, Value::int(i as i64), Wv::plain(Value::Uint(*x as u64, UintKind::Uint8)))? {
                            break;
                        }
                    }
                    return Ok(Flow::Normal);
                }
            }
            Value::Map(m) => {
                let entries: Vec<(crate::value::Str, Value)> =
                    m.read().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                if !entries.is_empty() {
                    let wrapped = m.elem == GoType::Interface;
                    for (k, v) in entries {
                        if !one(self, Value::String(k), Wv { v, wrapped })? {
                            break;
                        }
                    }
                    return Ok(Flow::Normal);
                }
            }
            Value::Missing => {}
            Value::Int(n, kind) => {
                if decl.len() > 1 {
                    return Err(self.errorf(format!("can't use {} to iterate over more than one variable", crate::print::format_v(&val))));
                }
                if *n > 0 {
                    for i in 0..*n {
                        let v = Value::Int(i, *kind);
                        if !one(self, v.clone(), Wv::plain(v))? {
                            break;
                        }
                    }
                    return Ok(Flow::Normal);
                }
            }
            Value::Uint(n, kind) => {
                if decl.len() > 1 {
                    return Err(self.errorf(format!("can't use {} to iterate over more than one variable", crate::print::format_v(&val))));
                }
                if *n > 0 {
                    for i in 0..*n {
                        let v = Value::Uint(i, *kind);
                        if !one(self, v.clone(), Wv::plain(v))? {
                            break;
                        }
                    }
                    return Ok(Flow::Normal);
                }
            }
            other => {
                return Err(self.errorf(format!("range can't iterate over {}", crate::print::format_v(other))));
            }
        }
        if let Some(e) = &b.else_list {
            return self.walk_list(dot, e);
        }
        Ok(Flow::Normal)
    }

    fn var_value(&self, name: &str) -> Result<Value> {
        for (n, v) in self.vars.iter().rev() {
            if *n == name {
                return Ok(v.clone());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn set_var(&mut self, name: &str, v: Value) -> Result<()> {
        for (n, val) in self.vars.iter_mut().rev() {
            if *n == name {
                *val = v;
                return Ok(());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn set_top_var(&mut self, n: usize, v: Value) {
        let len = self.vars.len();
        if len >= n {
            self.vars[len - n].1 = v;
        }
    }

    /// Go: `evalPipeline`: commands in order, each given the previous result as its final
    /// argument; declarations bind the result.
    fn eval_pipeline(&mut self, dot: &Wv, pipe: &'t Pipe) -> Result<Value> {
        self.at = At::Pipe(pipe);
        // Go's `missingVal`: the first command gets no piped value; every later one gets the
        // previous result, even when that is nil or "no value".
        let mut piped: Option<Value> = None;
        for cmd in &pipe.cmds {
            piped = Some(self.eval_command(dot, cmd, piped)?.unwrap());
        }
        let value = piped.unwrap_or(Value::Missing);
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone())?;
            } else {
                self.vars.push((name.as_str(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &[Arg], final_: &Option<Value>) -> Result<()> {
        if args.len() > 1 || final_.is_some() {
            return Err(self.errorf(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Wv, cmd: &'t Command, final_: Option<Value>) -> Result<Wv> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { ident, .. } => {
                self.at = At::Arg(first);
                return self.eval_field_chain(dot, dot, first, ident, &cmd.args, final_);
            }
            Arg::Chain { node, field, .. } => {
                self.at = At::Arg(first);
                if matches!(node.as_ref(), Arg::Nil { .. }) {
                    return Err(self.errorf(format!("indirection through explicit nil in {first}")));
                }
                let pipe = self.eval_arg(dot, None, node)?;
                return self.eval_field_chain(dot, &Wv::plain(pipe), first, field, &cmd.args, final_);
            }
            Arg::Identifier { name, callee, .. } => return self.eval_function(dot, name, callee, At::Cmd(cmd), &cmd.args, final_),
            Arg::Pipe { pipe, .. } => {
                self.not_a_function(&cmd.args, &final_)?;
                return Ok(Wv::plain(self.eval_pipeline(dot, pipe)?));
            }
            Arg::Variable { ident, .. } => {
                self.at = At::Arg(first);
                let value = self.var_value(&ident[0])?;
                if ident.len() == 1 {
                    self.not_a_function(&cmd.args, &final_)?;
                    return Ok(Wv::plain(value));
                }
                return self.eval_field_chain(dot, &Wv::plain(value), first, &ident[1..], &cmd.args, final_);
            }
            _ => {}
        }
        self.at = At::Arg(first);
        self.not_a_function(&cmd.args, &final_)?;
        Ok(match first {
            Arg::Bool { val, .. } => Wv::plain(Value::Bool(*val)),
            Arg::Dot { .. } => dot.clone(),
            Arg::Nil { .. } => return Err(self.errorf("nil is not a command")),
            Arg::Number { num, .. } => Wv::plain(self.ideal_constant(num)?),
            Arg::String { text, .. } => Wv::plain(Value::String(text.clone())),
            _ => return Err(self.errorf(format!("can't evaluate command {first}"))),
        })
    }

    /// Go: `idealConstant`: an untyped number constant as `int` or `float64`.
    fn ideal_constant(&self, n: &crate::parse::node::Number) -> Result<Value> {
        let t = &n.text;
        if n.is_complex {
            return Err(self.errorf(format!("complex constants are not supported: {t}")));
        }
        let is_hex_int = (t.starts_with("0x") || t.starts_with("0X")) && !t.contains(['p', 'P']);
        let is_rune = t.starts_with('\'');
        if n.is_float && !is_hex_int && !is_rune && t.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::float(n.float));
        }
        if n.is_int {
            return Ok(Value::int(n.int));
        }
        if n.is_uint {
            return Err(self.errorf(format!("{t} overflows int")));
        }
        Ok(Value::Missing)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Wv,
        receiver: &Wv,
        node: &'t Arg,
        ident: &'t [crate::parse::node::Name],
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> Result<Wv> {
        // Like Go, no `s.at` here: errors point at the last node evaluated (for `(pipe).x`, the
        // pipeline's last operand).
        let n = ident.len();
        // Steps through keys present in plain maps are walked under the maps' read locks, and
        // only the value reached is cloned; `eval_field` takes over where that stops (a missing
        // key, a method, an object, arguments), so every other case keeps its one code path.
        let has_args = args.len() > 1 || final_.is_some();
        let mut reached = None;
        let done = map_steps(&receiver.v, &ident[..if has_args { n - 1 } else { n }], &mut reached);
        let mut receiver = match reached {
            Some(r) => r,
            None => receiver.clone(),
        };
        if done == n {
            return Ok(receiver);
        }
        for name in &ident[done..n - 1] {
            receiver = self.eval_field(dot, name, node, &[], None, receiver)?;
        }
        self.eval_field(dot, &ident[n - 1], node, args, final_, receiver)
    }

    /// Go: `evalField`.
    fn eval_field(&mut self, dot: &Wv, name: &str, node: &'t Arg, args: &'t [Arg], final_: Option<Value>, receiver: Wv) -> Result<Wv> {
        let has_args = args.len() > 1 || final_.is_some();
        match &receiver.v {
            Value::Missing => {
                if self.set.missing_key() == MissingKey::Error {
                    return Err(self.errorf(format!("nil data; no entry for key {}", crate::print::quote(name))));
                }
                Ok(Wv::plain(Value::Missing))
            }
            Value::Nil => Err(self.errorf(format!("nil pointer evaluating {}.{}", receiver.type_name(), name))),
            Value::Object(o) => {
                if o.is_nil() {
                    return Err(self.errorf(format!("nil pointer evaluating {}.{}", o.go_type(), name)));
                }
                match o.member(name) {
                    Some(Member::Method(f)) => self.eval_call(dot, &f, false, At::Arg(node), name, args, final_),
                    Some(Member::Field(v)) => {
                        if has_args {
                            return Err(self.errorf(format!("{name} has arguments but cannot be invoked as function")));
                        }
                        Ok(Wv::plain(v))
                    }
                    None => Err(self.errorf(format!("can't evaluate field {name} in type {}", receiver.type_name()))),
                }
            }
            Value::Map(m) => {
                // Go's evalField looks up a method of a named map type before its keys.
                if let Some(member) = m.named.as_ref().and_then(|t| (t.method)(m, name)) {
                    return match member {
                        Member::Method(f) => self.eval_call(dot, &f, false, At::Arg(node), name, args, final_),
                        Member::Field(v) => {
                            if has_args {
                                return Err(self.errorf(format!("{name} has arguments but cannot be invoked as function")));
                            }
                            Ok(Wv::plain(v))
                        }
                    };
                }
                if has_args {
                    return Err(self.errorf(format!("{name} is not a method but has arguments")));
                }
                let wrapped = m.elem == GoType::Interface;
                match m.get(name) {
                    Some(v) => Ok(Wv { v, wrapped }),
                    None => match self.set.missing_key() {
                        MissingKey::Default => Ok(Wv::plain(Value::Missing)),
                        MissingKey::Zero => Ok(Wv { v: zero_value(&m.elem), wrapped }),
                        MissingKey::Error => Err(self.errorf(format!("map has no entry for key {}", crate::print::quote(name)))),
                    },
                }
            }
            _ => Err(self.errorf(format!("can't evaluate field {name} in type {}", receiver.type_name()))),
        }
    }

    fn eval_function(&mut self, dot: &Wv, name: &str, callee: &'t Callee, node: At<'t>, args: &'t [Arg], final_: Option<Value>) -> Result<Wv> {
        self.at = match node {
            At::Cmd(c) => At::Arg(&c.args[0]),
            n => n,
        };
        match callee {
            Callee::Builtin(b) => self.eval_builtin(dot, b.0, node, name, args, final_),
            Callee::Func(f) => self.eval_call(dot, f, true, node, name, args, final_),
        }
    }

    /// Go: `evalCall` for a function with a declared signature.
    fn eval_call(&mut self, dot: &Wv, f: &Func, _named: bool, node: At<'t>, name: &str, args: &'t [Arg], final_: Option<Value>) -> Result<Wv> {
        let args = if args.is_empty() { args } else { &args[1..] };
        let sig = &f.sig;
        let num_in_decl = sig.params.len();
        let mut num_in = args.len();
        if final_.is_some() {
            num_in += 1;
        }
        let num_fixed = if sig.variadic { num_in_decl - 1 } else { args.len() };
        if sig.variadic {
            if num_in < num_fixed {
                return Err(self.errorf(format!("wrong number of args for {name}: want at least {} got {}", num_in_decl - 1, args.len())));
            }
        } else if num_in != num_in_decl {
            return Err(self.errorf(format!("wrong number of args for {name}: want {num_in_decl} got {num_in}")));
        }
        let mut argv = self.shared.arg_pool.pop().unwrap_or_default();
        let r = self.eval_call_args(dot, f, node, name, args, final_, num_in, num_fixed, &mut argv);
        argv.clear();
        self.shared.arg_pool.push(argv);
        r
    }

    /// The rest of `eval_call`: evaluates the arguments into `argv` (empty) and calls `f`.
    #[allow(clippy::too_many_arguments)]
    fn eval_call_args(
        &mut self,
        dot: &Wv,
        f: &Func,
        node: At<'t>,
        name: &str,
        args: &'t [Arg],
        final_: Option<Value>,
        num_in: usize,
        num_fixed: usize,
        argv: &mut Vec<Value>,
    ) -> Result<Wv> {
        let sig = &f.sig;
        let num_in_decl = sig.params.len();
        let mut i = 0;
        while i < num_fixed && i < args.len() {
            argv.push(self.eval_arg(dot, Some(&sig.params[i]), &args[i])?);
            i += 1;
        }
        if sig.variadic {
            let t = &sig.params[num_in_decl - 1];
            while i < args.len() {
                argv.push(self.eval_arg(dot, Some(t), &args[i])?);
                i += 1;
            }
        }
        if let Some(fv) = final_ {
            let t = if sig.variadic && num_in - 1 >= num_fixed {
                &sig.params[num_in_decl - 1]
            } else {
                &sig.params[(num_in - 1).min(num_in_decl.saturating_sub(1))]
            };
            argv.push(self.validate_type(Wv::plain(fv), Some(t))?);
        }
        let mut ctx = Ctx { st: self };
        match (f.imp)(&mut ctx, argv) {
            Ok(v) => Ok(Wv { wrapped: sig.result == GoType::Interface, v }),
            Err(FuncError(msg)) => {
                self.at = node;
                Err(self.errorf(format!("error calling {name}: {msg}")))
            }
        }
    }

    /// Go: `evalArg`: an argument converted to the parameter type `typ` (`None`: any).
    fn eval_arg(&mut self, dot: &Wv, typ: Option<&GoType>, n: &'t Arg) -> Result<Value> {
        self.at = At::Arg(n);
        let wv = match n {
            Arg::Dot { .. } => dot.clone(),
            Arg::Nil { .. } => {
                return match typ {
                    None | Some(GoType::Interface) => Ok(Value::Nil),
                    Some(t) if can_be_nil(t) => Ok(Value::Nil),
                    Some(t) => Err(self.errorf(format!("cannot assign nil to {t}"))),
                };
            }
            Arg::Field { ident, .. } => self.eval_field_chain(dot, dot, n, ident, std::slice::from_ref(n), None)?,
            Arg::Variable { ident, .. } => {
                let value = self.var_value(&ident[0])?;
                if ident.len() == 1 {
                    Wv::plain(value)
                } else {
                    self.eval_field_chain(dot, &Wv::plain(value), n, &ident[1..], &[], None)?
                }
            }
            Arg::Pipe { pipe, .. } => Wv::plain(self.eval_pipeline(dot, pipe)?),
            Arg::Identifier { name, callee, .. } => self.eval_function(dot, name, callee, At::Arg(n), &[], None)?,
            Arg::Chain { node, field, .. } => {
                if matches!(node.as_ref(), Arg::Nil { .. }) {
                    return Err(self.errorf(format!("indirection through explicit nil in {n}")));
                }
                let pipe = self.eval_arg(dot, None, node)?;
                self.eval_field_chain(dot, &Wv::plain(pipe), n, field, &[], None)?
            }
            Arg::Bool { val, .. } => {
                return match typ {
                    None | Some(GoType::Interface) | Some(GoType::Bool) => Ok(Value::Bool(*val)),
                    Some(GoType::Named(_)) if false => Ok(Value::Bool(*val)),
                    Some(t) => Err(self.errorf(self.expected_for(t, n))),
                };
            }
            Arg::String { text, .. } => {
                return match typ {
                    None | Some(GoType::Interface) | Some(GoType::String) => Ok(Value::String(text.clone())),
                    Some(t) => Err(self.errorf(self.expected_for(t, n))),
                };
            }
            Arg::Number { num, .. } => {
                return match typ {
                    None | Some(GoType::Interface) => self.ideal_constant(num),
                    Some(GoType::Int(k)) if num.is_int => Ok(Value::Int(truncate_int(num.int, *k), *k)),
                    Some(GoType::Uint(k)) if num.is_uint => Ok(Value::Uint(num.uint, *k)),
                    Some(GoType::Float(k)) if num.is_float => Ok(Value::Float(num.float, *k)),
                    Some(t) => Err(self.errorf(self.expected_for(t, n))),
                };
            }
        };
        self.validate_type(wv, typ)
    }

    fn expected_for(&self, t: &GoType, n: &Arg) -> String {
        match t {
            GoType::Bool => format!("expected bool; found {n}"),
            GoType::String => format!("expected string; found {n}"),
            GoType::Int(_) => format!("expected integer; found {n}"),
            GoType::Uint(_) => format!("expected unsigned integer; found {n}"),
            GoType::Float(_) => format!("expected float; found {n}"),
            t => format!("can't handle {n} for arg of type {t}"),
        }
    }

    /// Go: `validateType`.
    fn validate_type(&self, wv: Wv, typ: Option<&GoType>) -> Result<Value> {
        let Some(typ) = typ else {
            // Go: an untyped nil stays `reflect.ValueOf(nil)`, the invalid value; builtins (whose
            // parameters are `reflect.Value`) see "no value" and a nil interface apart.
            return Ok(wv.v);
        };
        match (&wv.v, typ) {
            (Value::Missing, t) => {
                if can_be_nil(t) {
                    return Ok(Value::Nil);
                }
                Err(self.errorf(format!("invalid value; expected {t}")))
            }
            (_, GoType::Interface) => Ok(wv.v),
            (Value::Nil, t) => {
                if wv.wrapped || matches!(t, GoType::Interface) {
                    Err(self.errorf(format!("wrong type for value; expected {t}; got interface {{}}")))
                } else {
                    Ok(Value::Nil)
                }
            }
            (v, t) if has_type(v, t) => Ok(wv.v),
            (v, t) => {
                let vt = v.go_type();
                // Go's assignability: a named map type passes for its unnamed underlying type.
                let underlying_fits = matches!(v, Value::Map(m) if m.named.is_some()
                    && *t == GoType::map_of(GoType::String, m.elem.clone()));
                if &vt == t || underlying_fits {
                    Ok(wv.v)
                } else {
                    Err(self.errorf(format!("wrong type for value; expected {t}; got {vt}")))
                }
            }
        }
    }
}

fn truncate_int(i: i64, k: IntKind) -> i64 {
    match k {
        IntKind::Int8 => i as i8 as i64,
        IntKind::Int16 => i as i16 as i64,
        IntKind::Int32 => i as i32 as i64,
        _ => i,
    }
}

/// Follows `names` from `v` through keys present in plain (unnamed) maps, as far as it can,
/// holding each map's read lock while it looks deeper; stores a clone of the last value reached
/// (with Go's interface wrapping of map elements) in `reached` and returns the number of steps.
fn map_steps(v: &Value, names: &[crate::parse::node::Name], reached: &mut Option<Wv>) -> usize {
    let (Value::Map(m), Some(name)) = (v, names.first()) else { return 0 };
    if m.named.is_some() {
        return 0;
    }
    let entries = m.read();
    let Some(next) = entries.get(&**name) else { return 0 };
    let deeper = map_steps(next, &names[1..], reached);
    if deeper == 0 {
        *reached = Some(Wv { v: next.clone(), wrapped: m.elem == GoType::Interface });
    }
    deeper + 1
}

/// Whether `v`'s Go type is `t`, decided for the common cases without building `v`'s type
/// (`false` means: compare the full types).
fn has_type(v: &Value, t: &GoType) -> bool {
    match (v, t) {
        (Value::String(_), GoType::String) | (Value::Bool(_), GoType::Bool) => true,
        (Value::Int(_, a), GoType::Int(b)) => a == b,
        (Value::Float(_, a), GoType::Float(b)) => a == b,
        (Value::List(l), GoType::Slice(e)) => l.elem == **e,
        (Value::Map(m), GoType::Map(k, e)) => m.named.is_none() && **k == GoType::String && m.elem == **e,
        _ => false,
    }
}

/// Go's `canBeNil` for a parameter type.
fn can_be_nil(t: &GoType) -> bool {
    matches!(t, GoType::Interface | GoType::Slice(_) | GoType::Map(_, _) | GoType::Error)
        || matches!(t, GoType::Named(n) if n.starts_with('*'))
}

/// The zero value of a map's element type (Go: `reflect.Zero`).
pub fn zero_value(t: &GoType) -> Value {
    match t {
        GoType::Bool => Value::Bool(false),
        GoType::Int(k) => Value::Int(0, *k),
        GoType::Uint(k) => Value::Uint(0, *k),
        GoType::Float(k) => Value::Float(0.0, *k),
        GoType::String => Value::string(""),
        _ => Value::Nil,
    }
}

/// Go: `isTrue` on an unwrapped value.
pub fn is_true(v: &Value) -> bool {
    match v {
        Value::Missing | Value::Nil => false,
        Value::Bool(b) => *b,
        Value::Int(i, _) => *i != 0,
        Value::Uint(u, _) => *u != 0,
        Value::Float(f, _) => *f != 0.0,
        Value::String(s) => !s.is_empty(),
        Value::Bytes(b) => !b.is_empty(),
        Value::List(l) => !l.items.is_empty(),
        Value::Map(m) => !m.is_empty(),
        Value::Object(o) => !o.is_nil(),
    }
}

/// A named map or slice type (an `Object` with an underlying value, such as Helm's `.Files`)
/// as `range`, `index` and `len` see it: its map or slice.
pub(crate) fn underlying(v: Value) -> Value {
    match &v {
        Value::Object(o) => o.underlying().unwrap_or(v),
        _ => v,
    }
}

/// The executor's side of `CallContext`.
struct Ctx<'a, 't, 'o> {
    st: &'a mut State<'t, 'o>,
}

impl CallContext for Ctx<'_, '_, '_> {
    fn execute_template(&mut self, name: &str, data: &Value) -> std::result::Result<String, FuncError> {
        let set = self.st.set;
        let Some(tree) = set.tree(name) else {
            return Err(FuncError(format!(
                "template: no template {} associated with template {}",
                crate::print::quote(name),
                crate::print::quote(set.name())
            )));
        };
        let mut out = String::new();
        execute(set, tree, data, &mut out, self.st.shared).map_err(|e| FuncError(e.message))?;
        Ok(out)
    }

    fn execute_template_value(&mut self, name: &str, data: &Value) -> std::result::Result<Value, FuncError> {
        let set = self.st.set;
        let Some(tree) = set.tree(name) else {
            return self.execute_template(name, data).map(Value::string);
        };
        let mut out = self.st.shared.out_pool.pop().unwrap_or_default();
        let r = execute(set, tree, data, &mut out, self.st.shared);
        let v = r.map(|_| Value::string(out.as_str())).map_err(|e| FuncError(e.message));
        out.clear();
        self.st.shared.out_pool.push(out);
        v
    }

    fn execute_text(&mut self, text: &str, data: &Value) -> std::result::Result<String, FuncError> {
        let mut clone = self.st.set.clone();
        let mk = if self.st.set.missing_key() == MissingKey::Error { MissingKey::Error } else { MissingKey::Zero };
        clone.set_missing_key(mk);
        let name = clone.name().to_string();
        let tree = clone
            .parse_own(&name, text)
            .map_err(|e| FuncError(format!("cannot parse template {}: {}", crate::print::quote(text), e.message)))?;
        let mut out = String::new();
        execute(&clone, &tree, data, &mut out, self.st.shared).map_err(|e| {
            FuncError(format!("error during tpl function execution for {}: {}", crate::print::quote(text), e.message))
        })?;
        Ok(out.replace("<no value>", ""))
    }

    fn template_name(&self) -> &str {
        self.st.set.name()
    }

    fn include_count(&mut self, name: &str) -> &mut usize {
        // The name is copied only the first time it is included.
        let counts = &mut self.st.shared.include_counts;
        let i = match counts.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                counts.push((name.to_string(), 0));
                counts.len() - 1
            }
        };
        &mut counts[i].1
    }
}

pub(crate) use builtins::Builtin;

/// A built-in function as a parse tree holds it (opaque outside the executor).
#[derive(Clone, Copy, Debug)]
pub struct BuiltinRef(pub(crate) Builtin);

#[allow(dead_code)]
fn _unused(_: FloatKind, _: Arc<()>) {}
