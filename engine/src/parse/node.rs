//! The parse tree (Go: text/template/parse/node.go). Nodes keep their byte offset; line and
//! column are computed only for error messages. `Display` reproduces Go's `String()` forms,
//! which appear in execution errors (`at <.x.y>`).

use std::fmt;
use std::sync::Arc;

/// A list of nodes (Go: `ListNode`).
#[derive(Clone, Debug, Default)]
pub struct ListNode {
    pub pos: usize,
    pub nodes: Vec<Node>,
}

/// A piece of a template's source: the text between actions and the quoted form of string
/// literals point into the parsed text instead of each holding a copy (a big chart has tens
/// of thousands of them; one allocation each made up a large part of its trees' memory).
#[derive(Clone)]
pub struct Span {
    src: Arc<str>,
    start: usize,
    end: usize,
}

impl Span {
    /// `src[start..end]`; the range must lie on character boundaries of `src`.
    pub fn new(src: &Arc<str>, start: usize, end: usize) -> Span {
        debug_assert!(src.is_char_boundary(start) && src.is_char_boundary(end) && start <= end);
        Span { src: src.clone(), start, end }
    }
}

impl std::ops::Deref for Span {
    type Target = str;
    fn deref(&self) -> &str {
        &self.src[self.start..self.end]
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Names in a tree (functions, fields, variables) are shared: a parse keeps one copy of each
/// distinct name and one of each distinct field chain (`.Values.image.tag` is written many
/// times in one template).
pub type Name = Arc<str>;

#[derive(Clone, Debug)]
pub enum Node {
    Text { pos: usize, text: Span },
    // Pipelines are boxed so that a node (most are text) stays small: trees are a chart's
    // largest structure in memory.
    Action { pos: usize, line: usize, pipe: Box<Pipe> },
    If(Box<Branch>),
    Range(Box<Branch>),
    With(Box<Branch>),
    Template { pos: usize, line: usize, name: String, pipe: Option<Box<Pipe>> },
    Break { pos: usize, line: usize },
    Continue { pos: usize, line: usize },
    Comment { pos: usize, text: String },
    /// Markers returned by `itemList` (never stored in a tree).
    End { pos: usize },
    Else { pos: usize, line: usize },
}

#[derive(Clone, Debug)]
pub struct Branch {
    pub pos: usize,
    pub line: usize,
    pub pipe: Pipe,
    pub list: ListNode,
    pub else_list: Option<ListNode>,
}

/// A pipeline with optional declarations (Go: `PipeNode`).
#[derive(Clone, Debug)]
pub struct Pipe {
    pub pos: usize,
    pub line: usize,
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

#[derive(Clone, Debug)]
pub struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// Go's `NumberNode`, with the interpretations Go computed at parse time.
#[derive(Clone, Debug)]
pub struct Number {
    pub text: String,
    pub is_int: bool,
    pub is_uint: bool,
    pub is_float: bool,
    pub is_complex: bool,
    pub int: i64,
    pub uint: u64,
    pub float: f64,
}

/// What a function name denotes, resolved once when the template is parsed (Go checks the
/// name at parse time and looks it up again on every call; resolving it once saves a hash
/// lookup and the reference counting of a table entry per call). A set's function table
/// never changes after creation, so the resolution stays valid for every execution.
#[derive(Clone, Debug)]
pub enum Callee {
    /// One of Go's built-ins not shadowed by the table.
    Builtin(crate::exec::BuiltinRef),
    /// A function of the set's table.
    Func(crate::funcs::Func),
}

/// An operand of a command.
#[derive(Clone, Debug)]
pub enum Arg {
    Identifier { pos: usize, name: Name, callee: Callee },
    Dot { pos: usize },
    Nil { pos: usize },
    /// `$x.a.b` (ident[0] is the variable name).
    Variable { pos: usize, ident: Arc<[Name]> },
    /// `.a.b`
    Field { pos: usize, ident: Arc<[Name]> },
    /// `(pipe).a.b` or `ident.a`.
    Chain { pos: usize, node: Box<Arg>, field: Arc<[Name]> },
    Bool { pos: usize, val: bool },
    Number { pos: usize, num: Box<Number> },
    String { pos: usize, quoted: Span, text: Arc<str> },
    Pipe { pos: usize, pipe: Box<Pipe> },
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Identifier { pos, .. }
            | Arg::Dot { pos }
            | Arg::Nil { pos }
            | Arg::Variable { pos, .. }
            | Arg::Field { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Bool { pos, .. }
            | Arg::Number { pos, .. }
            | Arg::String { pos, .. }
            | Arg::Pipe { pos, .. } => *pos,
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Identifier { name, .. } => f.write_str(name),
            Arg::Dot { .. } => f.write_str("."),
            Arg::Nil { .. } => f.write_str("nil"),
            Arg::Variable { ident, .. } => {
                for (i, name) in ident.iter().enumerate() {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(name)?;
                }
                Ok(())
            }
            Arg::Field { ident, .. } => {
                for i in ident.iter() {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Chain { node, field, .. } => {
                if let Arg::Pipe { pipe, .. } = node.as_ref() {
                    write!(f, "({pipe})")?;
                } else {
                    write!(f, "{node}")?;
                }
                for i in field.iter() {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Bool { val, .. } => write!(f, "{val}"),
            Arg::Number { num, .. } => f.write_str(&num.text),
            Arg::String { quoted, .. } => f.write_str(quoted),
            Arg::Pipe { pipe, .. } => write!(f, "{pipe}"),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            if let Arg::Pipe { pipe, .. } = a {
                write!(f, "({pipe})")?;
            } else {
                write!(f, "{a}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ListNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for n in &self.nodes {
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Text { text, .. } => f.write_str(text),
            Node::Action { pipe, .. } => write!(f, "{{{{{pipe}}}}}"),
            Node::If(b) => write_branch(f, "if", b),
            Node::Range(b) => write_branch(f, "range", b),
            Node::With(b) => write_branch(f, "with", b),
            Node::Template { name, pipe, .. } => {
                write!(f, "{{{{template {}", crate::print::quote(name))?;
                if let Some(p) = pipe {
                    write!(f, " {p}")?;
                }
                f.write_str("}}")
            }
            Node::Break { .. } => f.write_str("{{break}}"),
            Node::Continue { .. } => f.write_str("{{continue}}"),
            Node::Comment { text, .. } => write!(f, "{{{{{text}}}}}"),
            Node::End { .. } => f.write_str("{{end}}"),
            Node::Else { .. } => f.write_str("{{else}}"),
        }
    }
}

fn write_branch(f: &mut fmt::Formatter<'_>, name: &str, b: &Branch) -> fmt::Result {
    write!(f, "{{{{{name} {}}}}}{}", b.pipe, b.list)?;
    if let Some(e) = &b.else_list {
        write!(f, "{{{{else}}}}{e}")?;
    }
    f.write_str("{{end}}")
}

impl Node {
    pub fn pos(&self) -> usize {
        match self {
            Node::Text { pos, .. }
            | Node::Action { pos, .. }
            | Node::Template { pos, .. }
            | Node::Break { pos, .. }
            | Node::Continue { pos, .. }
            | Node::Comment { pos, .. }
            | Node::End { pos }
            | Node::Else { pos, .. } => *pos,
            Node::If(b) | Node::Range(b) | Node::With(b) => b.pos,
        }
    }
}

/// Go: `parse.IsEmptyTree`.
pub fn is_empty_tree(list: &ListNode) -> bool {
    list.nodes.iter().all(|n| match n {
        Node::Text { text, .. } => text.trim_matches(|c: char| c.is_whitespace()).is_empty(),
        Node::Comment { .. } => true,
        _ => false,
    })
}
