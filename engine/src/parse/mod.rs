//! The parser (Go: text/template/parse/parse.go): the same grammar, the same checks (functions
//! and variables must be defined at parse time), the same error texts with the line of the token
//! at fault, and `define`/`block` trees collected into the set being parsed.

pub mod node;

type HashMap<K, V> = rustc_hash::FxHashMap<K, V>;
use std::sync::Arc;

use crate::lex::{self, Item, ItemType};
use node::{Arg, Branch, Command, ListNode, Node, Number, Pipe};

/// Go's `maxStackDepth` for nested parentheses.
const MAX_STACK_DEPTH: usize = 10000;

/// A parsed template (Go: `parse.Tree`).
#[derive(Clone, Debug)]
pub struct Tree {
    pub name: String,
    /// The name of the top-level template whose text held this one (errors name it).
    pub parse_name: String,
    pub root: ListNode,
    pub text: Arc<str>,
}

impl Tree {
    /// Go: `ErrorContext`: `NAME:LINE:COL` for a node offset.
    pub fn location(&self, pos: usize) -> String {
        let pos = pos.min(self.text.len());
        let before = &self.text[..pos];
        let line = 1 + before.matches('\n').count();
        let col = match before.rfind('\n') {
            Some(i) => pos - (i + 1),
            None => pos,
        };
        format!("{}:{}:{}", self.parse_name, line, col)
    }
}

/// A parse failure with Go's full text (`template: NAME:LINE: ...`).
#[derive(Clone, Debug)]
pub struct ParseError(pub String);

type Result<T> = std::result::Result<T, ParseError>;

/// Parses `text` as template `name`, adding it and its `define`s to `set` with Go's
/// redefinition rule. `resolve` says what a function name denotes (`None`: not defined).
pub fn parse(
    name: &str,
    text: &str,
    left: &str,
    right: &str,
    resolve: &dyn Fn(&str) -> Option<node::Callee>,
    set: &mut HashMap<String, Arc<Tree>>,
) -> Result<Arc<Tree>> {
    Ok(parse_alone(name, text, left, right, resolve)?.install(set))
}

/// The trees of one template text, parsed but not yet in a set: parsing needs nothing from
/// the set, so many texts can be parsed at once and then installed in their order.
#[derive(Debug)]
pub struct Parsed {
    name: String,
    text: Arc<str>,
    /// The `define`s and the top-level tree, after Go's own-set redefinition check.
    trees: Vec<Tree>,
}

/// Parses `text` as template `name` on its own (Go: `parse.Parse` into a fresh tree set).
pub fn parse_alone(
    name: &str,
    text: &str,
    left: &str,
    right: &str,
    resolve: &dyn Fn(&str) -> Option<node::Callee>,
) -> Result<Parsed> {
    thread_local! {
        /// This thread's token buffer, lent to each parse.
        static TOKENS: std::cell::Cell<Vec<Item>> = const { std::cell::Cell::new(Vec::new()) };
    }
    let lexed = lex::lex_into(
        text,
        left,
        right,
        lex::Options { break_ok: resolve("break").is_none(), continue_ok: resolve("continue").is_none() },
        TOKENS.take(),
    );
    let mut p = Parser {
        input: text,
        items: lexed.items,
        lex_error: lexed.error,
        idx: 0,
        parse_name: name.to_string(),
        text: Arc::from(text),
        vars: vec!["$".into()],
        resolve,
        range_depth: 0,
        action_line: 0,
        stack_depth: 0,
        furthest: std::cell::Cell::new(0),
        defs: Vec::new(),
        names: Default::default(),
        chains: Default::default(),
        strings: Default::default(),
        node_stack: Vec::new(),
        cmd_stack: Vec::new(),
        arg_stack: Vec::new(),
    };
    let parsed = parse_parsed(&mut p, name);
    // A buffer that grew huge (a giant text) is not kept.
    if p.items.capacity() <= 1 << 22 {
        TOKENS.set(std::mem::take(&mut p.items));
    }
    parsed
}

/// The rest of [`parse_alone`], once the text is lexed.
fn parse_parsed(p: &mut Parser<'_>, name: &str) -> Result<Parsed> {
    let root = p.parse_top()?;
    let top = Tree { name: name.to_string(), parse_name: name.to_string(), root, text: p.text.clone() };
    // Go: parse.Parse fills a fresh tree set, where a second non-empty definition of one name
    // is an error.
    let mut local: Vec<Tree> = Vec::new();
    for t in std::mem::take(&mut p.defs).into_iter().chain(std::iter::once(top)) {
        match local.iter().position(|x| x.name == t.name) {
            Some(i) if !node::is_empty_tree(&local[i].root) => {
                if !node::is_empty_tree(&t.root) {
                    let line = p.items.get(p.furthest.get()).map_or(1, |i| i.line());
                    return Err(ParseError(format!(
                        "template: {}:{}: template: multiple definition of template {}",
                        name,
                        line,
                        crate::print::quote(&t.name)
                    )));
                }
            }
            Some(i) => local[i] = t,
            None => local.push(t),
        }
    }
    Ok(Parsed { name: name.to_string(), text: p.text.clone(), trees: local })
}

impl Parsed {
    /// Adds the trees to `set` (Go: `Template.AddParseTree`): a tree replaces an existing one
    /// of the same name unless it is empty. Returns the tree parsed for the template itself,
    /// whether or not it joined the set: Go's `t.New(name).Parse(text)` executes its own tree
    /// even when the set keeps an older one.
    pub fn install(self, set: &mut HashMap<String, Arc<Tree>>) -> Arc<Tree> {
        let mut own: Option<Arc<Tree>> = None;
        for t in self.trees {
            let is_top = t.name == self.name;
            let keep_old = set.contains_key(&t.name) && node::is_empty_tree(&t.root);
            let t = Arc::new(t);
            if is_top {
                own = Some(t.clone());
            }
            if !keep_old {
                set.insert(t.name.clone(), t);
            }
        }
        own.unwrap_or_else(|| {
            Arc::new(Tree { name: self.name.clone(), parse_name: self.name, root: Default::default(), text: self.text })
        })
    }
}

struct Parser<'a> {
    input: &'a str,
    items: Vec<Item>,
    /// The message of the error token ending `items`, if one does.
    lex_error: String,
    idx: usize,
    parse_name: String,
    text: Arc<str>,
    vars: Vec<String>,
    resolve: &'a dyn Fn(&str) -> Option<node::Callee>,
    range_depth: usize,
    action_line: usize,
    stack_depth: usize,
    /// Index of the furthest token lexed so far: Go's errors name the line of `t.token[0]`,
    /// the latest token the lexer produced, peeked or not.
    furthest: std::cell::Cell<usize>,
    defs: Vec<Tree>,
    /// One copy of each distinct name, field chain (by its token text, `.a.b` or `$x.a`) and
    /// string literal (by its quoted text) of this parse.
    names: HashMap<&'a str, node::Name>,
    chains: HashMap<&'a str, Arc<[node::Name]>>,
    strings: HashMap<&'a str, Arc<str>>,
    /// Nodes, commands and operands of the lists, pipelines and commands being parsed, each
    /// level's above its parent's: a finished level moves its own into a vector of exactly
    /// their number (pushing into each vector directly leaves most with spare room for four
    /// or more, which made up a third of a chart's trees).
    node_stack: Vec<Node>,
    cmd_stack: Vec<Command>,
    arg_stack: Vec<Arg>,
}

impl<'a> Parser<'a> {
    fn name(&mut self, s: &'a str) -> node::Name {
        self.names.entry(s).or_insert_with(|| Arc::from(s)).clone()
    }

    /// The names of a field chain token split at its dots (`$x.a.b` → `$x`, `a`, `b`;
    /// `.a.b` → `a`, `b`), shared with every other occurrence of the same token.
    fn chain(&mut self, token: &'a str) -> Arc<[node::Name]> {
        if let Some(c) = self.chains.get(token) {
            return c.clone();
        }
        let body = token.strip_prefix('.').unwrap_or(token);
        let c: Arc<[node::Name]> = body.split('.').map(|n| self.name(n)).collect();
        self.chains.insert(token, c.clone());
        c
    }

    /// A token's text: the error message for an error token, else [`Parser::src`].
    fn val(&self, t: &Item) -> &str {
        if t.typ == ItemType::Error {
            &self.lex_error
        } else {
            t.text(self.input)
        }
    }

    /// A token's text as a slice of the source (for tokens other than errors, whose text
    /// is a message).
    fn src(&self, t: &Item) -> &'a str {
        t.text(self.input)
    }

    /// The source span of a token.
    fn span(&self, t: &Item) -> node::Span {
        node::Span::new(&self.text, t.pos(), t.pos() + t.len as usize)
    }

    fn next(&mut self) -> Item {
        let item = self.items.get(self.idx).cloned().unwrap_or_else(|| {
            self.items.last().copied().unwrap_or(Item { typ: ItemType::Eof, pos: 0, len: 0, line: 1 })
        });
        self.touch(self.idx);
        if self.idx < self.items.len() {
            self.idx += 1;
        }
        item
    }

    fn backup(&mut self) {
        self.idx -= 1;
    }

    fn peek(&self) -> &Item {
        let i = self.idx.min(self.items.len() - 1);
        self.touch(i);
        &self.items[i]
    }

    fn touch(&self, i: usize) {
        let i = i.min(self.items.len().saturating_sub(1));
        if i > self.furthest.get() {
            self.furthest.set(i);
        }
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let t = self.next();
            if t.typ != ItemType::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn errorf(&self, msg: impl std::fmt::Display) -> ParseError {
        let line = self.items.get(self.furthest.get()).map_or(1, |i| i.line());
        ParseError(format!("template: {}:{}: {}", self.parse_name, line, msg))
    }

    fn unexpected(&self, token: &Item, context: &str) -> ParseError {
        if token.typ == ItemType::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != token.line() {
                extra = format!(" in action started at {}:{}", self.parse_name, self.action_line);
                if self.val(token).ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format!("{}{extra}", self.val(token)));
        }
        self.errorf(format!("unexpected {} in {context}", lex::describe(token.typ, self.val(token))))
    }

    fn expect(&mut self, typ: ItemType, context: &str) -> Result<Item> {
        let t = self.next_non_space();
        if t.typ != typ {
            return Err(self.unexpected(&t, context));
        }
        Ok(t)
    }

    fn parse_top(&mut self) -> Result<ListNode> {
        let mut root = ListNode { pos: self.peek().pos(), nodes: Vec::new() };
        let start = self.node_stack.len();
        while self.peek().typ != ItemType::Eof {
            if self.peek().typ == ItemType::LeftDelim {
                let save = self.idx;
                self.next();
                if self.next_non_space().typ == ItemType::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.idx = save;
            }
            let n = self.text_or_action()?;
            match n {
                Node::End { .. } | Node::Else { .. } => return Err(self.errorf(format!("unexpected {n}"))),
                n => self.node_stack.push(n),
            }
        }
        root.nodes = self.node_stack.drain(start..).collect();
        Ok(root)
    }

    fn parse_definition(&mut self) -> Result<()> {
        let context = "define clause";
        let name_tok = self.next_non_space();
        if name_tok.typ != ItemType::String && name_tok.typ != ItemType::RawString {
            return Err(self.unexpected(&name_tok, context));
        }
        let name = unquote(self.src(&name_tok)).map_err(|e| self.errorf(e))?;
        self.expect(ItemType::RightDelim, context)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (root, end) = self.item_list()?;
        self.vars = saved_vars;
        if !matches!(end, Node::End { .. }) {
            return Err(self.errorf(format!("unexpected {end} in {context}")));
        }
        self.defs.push(Tree { name, parse_name: self.parse_name.clone(), root, text: self.text.clone() });
        Ok(())
    }

    fn item_list(&mut self) -> Result<(ListNode, Node)> {
        let mut list = ListNode { pos: self.peek_non_space().pos(), nodes: Vec::new() };
        let start = self.node_stack.len();
        while self.peek_non_space().typ != ItemType::Eof {
            let n = self.text_or_action()?;
            match n {
                Node::End { .. } | Node::Else { .. } => {
                    list.nodes = self.node_stack.drain(start..).collect();
                    return Ok((list, n));
                }
                n => self.node_stack.push(n),
            }
        }
        Err(self.errorf("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> Result<Node> {
        let token = self.next_non_space();
        match token.typ {
            ItemType::Text => Ok(Node::Text { pos: token.pos(), text: self.span(&token) }),
            ItemType::LeftDelim => {
                self.action_line = token.line();
                let r = self.action();
                self.action_line = 0;
                r
            }
            _ => Err(self.unexpected(&token, "input")),
        }
    }

    fn action(&mut self) -> Result<Node> {
        let token = self.next_non_space();
        match token.typ {
            ItemType::Block => return self.block_control(),
            ItemType::Break | ItemType::Continue => {
                let is_break = token.typ == ItemType::Break;
                let what = if is_break { "{{break}}" } else { "{{continue}}" };
                let t = self.next_non_space();
                if t.typ != ItemType::RightDelim {
                    return Err(self.unexpected(&t, what));
                }
                if self.range_depth == 0 {
                    return Err(self.errorf(format!("{what} outside {{{{range}}}}")));
                }
                return Ok(if is_break {
                    Node::Break { pos: token.pos(), line: token.line() }
                } else {
                    Node::Continue { pos: token.pos(), line: token.line() }
                });
            }
            ItemType::Else => return self.else_control(),
            ItemType::End => {
                let t = self.expect(ItemType::RightDelim, "end")?;
                return Ok(Node::End { pos: t.pos() });
            }
            ItemType::If => return self.branch_control("if"),
            ItemType::Range => return self.branch_control("range"),
            ItemType::With => return self.branch_control("with"),
            ItemType::Template => return self.template_control(),
            _ => {}
        }
        self.backup();
        let token = self.peek().clone();
        let pipe = self.pipeline("command", ItemType::RightDelim)?;
        Ok(Node::Action { pos: token.pos(), line: token.line(), pipe: Box::new(pipe) })
    }

    fn pipeline(&mut self, context: &str, end: ItemType) -> Result<Pipe> {
        let token = self.peek_non_space();
        let mut pipe = Pipe { pos: token.pos(), line: token.line(), is_assign: false, decl: Vec::new(), cmds: Vec::new() };
        'decls: loop {
            let v = self.peek_non_space();
            if v.typ != ItemType::Variable {
                break;
            }
            let save = self.idx;
            self.next_non_space();
            let token_after = self.peek().clone();
            let next = self.peek_non_space();
            if next.typ == ItemType::Assign || next.typ == ItemType::Declare {
                pipe.is_assign = next.typ == ItemType::Assign;
                self.next_non_space();
                pipe.decl.push(self.src(&v).to_string());
                self.vars.push(self.src(&v).to_string());
                break;
            } else if next.typ == ItemType::Char && self.src(&next) == "," {
                self.next_non_space();
                pipe.decl.push(self.src(&v).to_string());
                self.vars.push(self.src(&v).to_string());
                if context == "range" && pipe.decl.len() < 2 {
                    match self.peek_non_space().typ {
                        ItemType::Variable | ItemType::RightDelim | ItemType::RightParen => continue 'decls,
                        _ => return Err(self.errorf("range can only initialize variables")),
                    }
                }
                return Err(self.errorf(format!("too many declarations in {context}")));
            } else {
                let _ = token_after;
                self.idx = save;
                break;
            }
        }
        let start = self.cmd_stack.len();
        loop {
            let token = self.next_non_space();
            if token.typ == end {
                pipe.cmds = self.cmd_stack.drain(start..).collect();
                self.check_pipeline(&pipe, context)?;
                return Ok(pipe);
            }
            match token.typ {
                ItemType::Bool
                | ItemType::CharConstant
                | ItemType::Complex
                | ItemType::Dot
                | ItemType::Field
                | ItemType::Identifier
                | ItemType::Number
                | ItemType::Nil
                | ItemType::RawString
                | ItemType::String
                | ItemType::Variable
                | ItemType::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    self.cmd_stack.push(cmd);
                }
                _ => return Err(self.unexpected(&token, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> Result<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args.first(),
                Some(Arg::Bool { .. } | Arg::Dot { .. } | Arg::Nil { .. } | Arg::Number { .. } | Arg::String { .. })
            ) {
                return Err(self.errorf(format!("non executable command in pipeline stage {}", i + 1)));
            }
        }
        Ok(())
    }

    fn branch_control(&mut self, context: &str) -> Result<Node> {
        let nvars = self.vars.len();
        let r = self.parse_control(context);
        self.vars.truncate(nvars);
        let b = r?;
        Ok(match context {
            "if" => Node::If(Box::new(b)),
            "range" => Node::Range(Box::new(b)),
            _ => Node::With(Box::new(b)),
        })
    }

    fn parse_control(&mut self, context: &str) -> Result<Branch> {
        let pipe = self.pipeline(context, ItemType::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let r = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, next) = r?;
        let mut else_list = None;
        if let Node::Else { pos, .. } = next {
            if context == "if" && self.peek().typ == ItemType::If {
                self.next();
                let inner = self.branch_control("if")?;
                else_list = Some(ListNode { pos, nodes: vec![inner] });
            } else if context == "with" && self.peek().typ == ItemType::With {
                self.next();
                let inner = self.branch_control("with")?;
                else_list = Some(ListNode { pos, nodes: vec![inner] });
            } else {
                let (l, next) = self.item_list()?;
                if !matches!(next, Node::End { .. }) {
                    return Err(self.errorf(format!("expected end; found {next}")));
                }
                else_list = Some(l);
            }
        }
        Ok(Branch { pos: pipe.pos, line: pipe.line, pipe, list, else_list })
    }

    fn else_control(&mut self) -> Result<Node> {
        let peek = self.peek_non_space();
        if peek.typ == ItemType::If || peek.typ == ItemType::With {
            return Ok(Node::Else { pos: peek.pos(), line: peek.line() });
        }
        let t = self.expect(ItemType::RightDelim, "else")?;
        Ok(Node::Else { pos: t.pos(), line: t.line() })
    }

    fn template_name(&mut self, token: &Item, context: &str) -> Result<String> {
        match token.typ {
            ItemType::String | ItemType::RawString => unquote(self.src(token)).map_err(|e| self.errorf(e)),
            _ => Err(self.unexpected(token, context)),
        }
    }

    fn block_control(&mut self) -> Result<Node> {
        let context = "block clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, context)?;
        let pipe = self.pipeline(context, ItemType::RightDelim)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let saved_depth = std::mem::replace(&mut self.range_depth, 0);
        let r = self.item_list();
        self.vars = saved_vars;
        self.range_depth = saved_depth;
        let (root, end) = r?;
        if !matches!(end, Node::End { .. }) {
            return Err(self.errorf(format!("unexpected {end} in {context}")));
        }
        self.defs.push(Tree { name: name.clone(), parse_name: self.parse_name.clone(), root, text: self.text.clone() });
        Ok(Node::Template { pos: token.pos(), line: token.line(), name, pipe: Some(Box::new(pipe)) })
    }

    fn template_control(&mut self) -> Result<Node> {
        let context = "template clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, context)?;
        let mut pipe = None;
        if self.next_non_space().typ != ItemType::RightDelim {
            self.backup();
            pipe = Some(Box::new(self.pipeline(context, ItemType::RightDelim)?));
        }
        Ok(Node::Template { pos: token.pos(), line: token.line(), name, pipe })
    }

    fn command(&mut self) -> Result<Command> {
        let mut cmd = Command { pos: self.peek_non_space().pos(), args: Vec::new() };
        let start = self.arg_stack.len();
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                self.arg_stack.push(op);
            }
            let token = self.next();
            match token.typ {
                ItemType::Space => continue,
                ItemType::RightDelim | ItemType::RightParen => self.backup(),
                ItemType::Pipe => {}
                _ => return Err(self.unexpected(&token, "operand")),
            }
            break;
        }
        cmd.args = self.arg_stack.drain(start..).collect();
        if cmd.args.is_empty() {
            return Err(self.errorf("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> Result<Option<Arg>> {
        let Some(node) = self.term()? else { return Ok(None) };
        if self.peek().typ != ItemType::Field {
            return Ok(Some(node));
        }
        let pos = self.peek().pos();
        let mut fields: Vec<node::Name> = Vec::new();
        while self.peek().typ == ItemType::Field {
            let t = self.next();
            let f = self.src(&t);
            fields.push(self.name(&f[1..]));
        }
        let joined = |ident: &[node::Name], fields: Vec<node::Name>| -> Arc<[node::Name]> {
            ident.iter().cloned().chain(fields).collect()
        };
        Ok(Some(match node {
            Arg::Field { ident, .. } => Arg::Field { pos, ident: joined(&ident, fields) },
            Arg::Variable { ident, .. } => Arg::Variable { pos, ident: joined(&ident, fields) },
            Arg::Bool { .. } | Arg::String { .. } | Arg::Number { .. } | Arg::Nil { .. } | Arg::Dot { .. } => {
                return Err(self.errorf(format!("unexpected . after term {}", crate::print::quote(&node.to_string()))));
            }
            other => Arg::Chain { pos, node: Box::new(other), field: fields.into() },
        }))
    }

    fn term(&mut self) -> Result<Option<Arg>> {
        let token = self.next_non_space();
        Ok(Some(match token.typ {
            ItemType::Identifier => {
                let Some(callee) = (self.resolve)(self.src(&token)) else {
                    return Err(self.errorf(format!("function {} not defined", crate::print::quote(self.src(&token)))));
                };
                let v = self.src(&token);
                Arg::Identifier { pos: token.pos(), name: self.name(v), callee }
            }
            ItemType::Dot => Arg::Dot { pos: token.pos() },
            ItemType::Nil => Arg::Nil { pos: token.pos() },
            ItemType::Variable => {
                let v = self.src(&token);
                let ident = self.chain(v);
                if !self.vars.iter().any(|v| **v == *ident[0]) {
                    return Err(self.errorf(format!("undefined variable {}", crate::print::quote(&ident[0]))));
                }
                Arg::Variable { pos: token.pos(), ident }
            }
            ItemType::Field => {
                let v = self.src(&token);
                Arg::Field { pos: token.pos(), ident: self.chain(v) }
            }
            ItemType::Bool => Arg::Bool { pos: token.pos(), val: self.src(&token) == "true" },
            ItemType::CharConstant | ItemType::Complex | ItemType::Number => {
                let num = parse_number(self.src(&token), token.typ).map_err(|e| self.errorf(e))?;
                Arg::Number { pos: token.pos(), num: Box::new(num) }
            }
            ItemType::LeftParen => {
                if self.stack_depth >= MAX_STACK_DEPTH {
                    return Err(self.errorf("max expression depth exceeded"));
                }
                self.stack_depth += 1;
                let r = self.pipeline("parenthesized pipeline", ItemType::RightParen);
                self.stack_depth -= 1;
                Arg::Pipe { pos: token.pos(), pipe: Box::new(r?) }
            }
            ItemType::String | ItemType::RawString => {
                let quoted = self.span(&token);
                let v = self.src(&token);
                let text = match self.strings.get(v) {
                    Some(t) => t.clone(),
                    None => {
                        let t: Arc<str> = Arc::from(unquote(v).map_err(|e| self.errorf(e))?.as_str());
                        self.strings.insert(v, t.clone());
                        t
                    }
                };
                Arg::String { pos: token.pos(), quoted, text }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

/// Go's `strconv.Unquote` for the three literal forms the lexer produces.
pub fn unquote(s: &str) -> std::result::Result<String, String> {
    let err = || "invalid syntax".to_string();
    if s.len() < 2 {
        return Err(err());
    }
    let q = s.as_bytes()[0];
    if q != s.as_bytes()[s.len() - 1] {
        return Err(err());
    }
    let body = &s[1..s.len() - 1];
    match q {
        b'`' => {
            if body.contains('`') {
                return Err(err());
            }
            Ok(body.replace('\r', ""))
        }
        b'"' | b'\'' => {
            let mut out = String::new();
            let mut chars = body.chars().peekable();
            while let Some(c) = chars.next() {
                if c == q as char || c == '\n' {
                    return Err(err());
                }
                if c != '\\' {
                    out.push(c);
                    continue;
                }
                let e = chars.next().ok_or_else(err)?;
                match e {
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'v' => out.push('\u{b}'),
                    '\\' => out.push('\\'),
                    '\'' if q == b'\'' => out.push('\''),
                    '"' if q == b'"' => out.push('"'),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String = (0..n).filter_map(|_| chars.next()).collect();
                        if hex.len() != n {
                            return Err(err());
                        }
                        let v = u32::from_str_radix(&hex, 16).map_err(|_| err())?;
                        if e == 'x' {
                            // A byte: in a Go string it may form invalid UTF-8; keep it as a char
                            // when it is ASCII, else as the Latin-1 code point (rare in templates).
                            out.push(char::from_u32(v).ok_or_else(err)?);
                        } else {
                            out.push(char::from_u32(v).ok_or_else(err)?);
                        }
                    }
                    '0'..='7' => {
                        let mut v = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            let d = chars.next().and_then(|c| c.to_digit(8)).ok_or_else(err)?;
                            v = v * 8 + d;
                        }
                        if v > 255 {
                            return Err(err());
                        }
                        out.push(char::from_u32(v).ok_or_else(err)?);
                    }
                    _ => return Err(err()),
                }
            }
            if q == b'\'' && out.chars().count() != 1 {
                return Err(err());
            }
            Ok(out)
        }
        _ => Err(err()),
    }
}

/// Go: `newNumber`: every interpretation of a number literal.
fn parse_number(text: &str, typ: ItemType) -> std::result::Result<Number, String> {
    let mut n = Number {
        text: text.to_string(),
        is_int: false,
        is_uint: false,
        is_float: false,
        is_complex: false,
        int: 0,
        uint: 0,
        float: 0.0,
    };
    if typ == ItemType::CharConstant {
        let s = unquote(text)?;
        let c = s.chars().next().ok_or("invalid syntax")?;
        n.int = c as i64;
        n.is_int = true;
        n.uint = c as u64;
        n.is_uint = true;
        n.float = c as u32 as f64;
        n.is_float = true;
        return Ok(n);
    }
    if typ == ItemType::Complex {
        n.is_complex = true;
        return Ok(n);
    }
    if text.ends_with('i') {
        n.is_complex = true;
        return Ok(n);
    }
    let clean = text.replace('_', "");
    let (neg, body) = match clean.strip_prefix('-') {
        Some(b) => (true, b.to_string()),
        None => (false, clean.strip_prefix('+').unwrap_or(&clean).to_string()),
    };
    let lower = body.to_ascii_lowercase();
    let parse_u = |s: &str| -> Option<u64> {
        if let Some(h) = s.strip_prefix("0x") {
            u64::from_str_radix(h, 16).ok()
        } else if let Some(o) = s.strip_prefix("0o") {
            u64::from_str_radix(o, 8).ok()
        } else if let Some(b) = s.strip_prefix("0b") {
            u64::from_str_radix(b, 2).ok()
        } else if s.len() > 1 && s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit()) {
            u64::from_str_radix(&s[1..], 8).ok()
        } else if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    // Go checks underscores are well placed via strconv; a stray underscore makes it illegal.
    let underscore_ok = !text.contains("__") && !text.ends_with('_');
    if underscore_ok {
        if let Some(u) = parse_u(&lower) {
            if !neg {
                n.is_uint = true;
                n.uint = u;
            }
            if neg && u <= (i64::MAX as u64) + 1 {
                n.is_int = true;
                n.int = (u as i64).wrapping_neg();
            } else if !neg && u <= i64::MAX as u64 {
                n.is_int = true;
                n.int = u as i64;
            }
            if neg && n.is_int && n.int == 0 {
                n.is_uint = true;
                n.uint = 0;
            }
        }
    }
    if n.is_int {
        n.is_float = true;
        n.float = n.int as f64;
    } else if n.is_uint {
        n.is_float = true;
        n.float = n.uint as f64;
    } else if underscore_ok {
        let f = if lower.starts_with("0x") {
            parse_hex_float(&lower[2..])
        } else if lower.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'e' || b == b'+' || b == b'-')
            && !lower.is_empty()
            && lower.bytes().any(|b| b.is_ascii_digit())
        {
            lower.parse::<f64>().ok()
        } else {
            None
        };
        if let Some(f) = f {
            let f = if neg { -f } else { f };
            // Go: a float that looks like an integer is a huge number too large for an int.
            if !text.contains(['.', 'e', 'E', 'p', 'P']) {
                return Err(format!("integer overflow: {}", crate::print::quote(text)));
            }
            if f.is_finite() {
                n.is_float = true;
                n.float = f;
                if !n.is_int && (f as i64) as f64 == f && f.abs() < 9.3e18 {
                    n.is_int = true;
                    n.int = f as i64;
                }
                if !n.is_uint && f >= 0.0 && (f as u64) as f64 == f && f < 1.8e19 {
                    n.is_uint = true;
                    n.uint = f as u64;
                }
            }
        }
    }
    if !n.is_int && !n.is_uint && !n.is_float {
        return Err(format!("illegal number syntax: {}", crate::print::quote(text)));
    }
    Ok(n)
}

fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = match s.find('p') {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => return None,
    };
    let (ip, fp) = mant.split_once('.').unwrap_or((mant, ""));
    let mut v = 0f64;
    for c in ip.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in fp.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}
