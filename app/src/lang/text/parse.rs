//! The parse tree and parser, after Go 1.19's `text/template/parse`:
//! the same grammar, the same checks at parse time (unknown functions,
//! undefined variables, `break` outside `range`) and the same error texts.

use std::collections::HashMap;

use super::lex::{lex, Item, ItemKind};

/// How deeply parentheses, `if`/`range`/`with`/`block` bodies and `else if` chains may
/// nest. The parser and everything that walks the tree recurse once per level, so a
/// template must not choose the depth (a stack overflow ends the whole server). Go caps
/// its own parse depth for the same reason; real templates nest a handful of levels.
pub const MAX_PARSE_DEPTH: usize = 100;

/// A parse error, worded and positioned as Go words it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("template: {name}:{line}: {message}")]
pub struct ParseError {
    pub name: String,
    pub line: usize,
    pub message: String,
    /// Byte offset of the token the parser stopped at.
    pub offset: usize,
}

#[derive(Clone, Debug)]
pub(crate) enum Node {
    Text(Vec<u8>),
    Action {
        pipe: Pipe,
    },
    If(Box<Branch>),
    Range(Box<Branch>),
    With(Box<Branch>),
    Break,
    Continue,
    Template {
        pos: usize,
        name: String,
        pipe: Option<Pipe>,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct Branch {
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

#[derive(Clone, Debug)]
pub(crate) struct Pipe {
    pub pos: usize,
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

#[derive(Clone, Debug)]
pub(crate) struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

#[derive(Clone, Debug)]
pub(crate) enum Number {
    Int(i64),
    Float(f64),
    /// An integer constant that fits no `int` (Go reports it when evaluated).
    TooBig,
}

#[derive(Clone, Debug)]
pub(crate) enum Arg {
    Field {
        pos: usize,
        idents: Vec<String>,
    },
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<String>,
    },
    Identifier {
        pos: usize,
        name: String,
    },
    Pipe(Box<Pipe>),
    Variable {
        pos: usize,
        idents: Vec<String>,
    },
    Bool {
        pos: usize,
        value: bool,
    },
    Dot {
        pos: usize,
    },
    Nil {
        pos: usize,
    },
    Number {
        pos: usize,
        text: String,
        value: Number,
    },
    String {
        pos: usize,
        quoted: String,
        text: Vec<u8>,
    },
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Identifier { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Bool { pos, .. }
            | Arg::Dot { pos }
            | Arg::Nil { pos }
            | Arg::Number { pos, .. }
            | Arg::String { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

// Go's `Node.String()` forms, used as the context of execution errors.

impl std::fmt::Display for Arg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Arg::Field { idents, .. } => idents.iter().try_for_each(|i| write!(f, ".{i}")),
            Arg::Chain { node, fields, .. } => {
                if let Arg::Pipe(p) = node.as_ref() {
                    write!(f, "({p})")?;
                } else {
                    write!(f, "{node}")?;
                }
                fields.iter().try_for_each(|i| write!(f, ".{i}"))
            }
            Arg::Identifier { name, .. } => write!(f, "{name}"),
            Arg::Pipe(p) => write!(f, "{p}"),
            Arg::Variable { idents, .. } => write!(f, "{}", idents.join(".")),
            Arg::Bool { value, .. } => write!(f, "{value}"),
            Arg::Dot { .. } => write!(f, "."),
            Arg::Nil { .. } => write!(f, "nil"),
            Arg::Number { text, .. } => write!(f, "{text}"),
            Arg::String { quoted, .. } => write!(f, "{quoted}"),
        }
    }
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                write!(f, " ")?;
            }
            if let Arg::Pipe(p) = arg {
                write!(f, "({p})")?;
            } else {
                write!(f, "{arg}")?;
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for Pipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.decl.is_empty() {
            write!(f, "{} := ", self.decl.join(", "))?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                write!(f, " | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// Writes `{{template "name" pipe}}` as Go does.
pub(crate) fn template_node_string(name: &str, pipe: Option<&Pipe>) -> String {
    let mut s = format!("{{{{template {}", super::fmt::quote(name.as_bytes()));
    if let Some(p) = pipe {
        s.push_str(&format!(" {p}"));
    }
    s.push_str("}}");
    s
}

/// The parsed template: its body and the templates it defines.
#[derive(Clone, Debug)]
pub(crate) struct Tree {
    pub root: Vec<Node>,
    pub defines: HashMap<String, Vec<Node>>,
}

/// What `itemList` stopped at.
enum Stop {
    End,
    Else,
}

pub(crate) struct Parser<'f> {
    name: String,
    items: Vec<Item>,
    next: usize,
    /// The furthest item read so far: Go reports errors on its line.
    furthest: usize,
    vars: Vec<String>,
    range_depth: usize,
    /// Current nesting (parentheses and control bodies), bounded by [`MAX_PARSE_DEPTH`].
    depth: usize,
    action_line: usize,
    is_function: &'f dyn Fn(&str) -> bool,
    defines: HashMap<String, Vec<Node>>,
}

type Result<T> = std::result::Result<T, ParseError>;

pub(crate) fn parse(name: &str, text: &str, is_function: &dyn Fn(&str) -> bool) -> Result<Tree> {
    let mut p = Parser {
        name: name.to_owned(),
        items: lex(text),
        next: 0,
        furthest: 0,
        vars: vec!["$".into()],
        range_depth: 0,
        depth: 0,
        action_line: 0,
        is_function,
        defines: HashMap::new(),
    };
    let root = p.parse_top()?;
    Ok(Tree {
        root,
        defines: p.defines,
    })
}

impl Parser<'_> {
    fn item(&mut self, index: usize) -> Item {
        let last = self.items.len().saturating_sub(1);
        let index = index.min(last);
        self.furthest = self.furthest.max(index);
        self.items.get(index).cloned().unwrap_or(Item {
            kind: ItemKind::Eof,
            pos: 0,
            val: String::new(),
            line: 1,
        })
    }

    fn next_item(&mut self) -> Item {
        let item = self.item(self.next);
        if self.next < self.items.len() {
            self.next += 1;
        }
        item
    }

    fn backup(&mut self) {
        self.next = self.next.saturating_sub(1);
    }

    fn peek(&mut self) -> Item {
        self.item(self.next)
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let item = self.next_item();
            if item.kind != ItemKind::Space {
                return item;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let item = self.next_non_space();
        self.backup();
        item
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        let at = self.items.get(self.furthest);
        ParseError {
            name: self.name.clone(),
            line: at.map_or(1, |i| i.line),
            message: message.into(),
            offset: at.map_or(0, |i| i.pos),
        }
    }

    fn unexpected(&self, token: &Item, context: &str) -> ParseError {
        if token.kind == ItemKind::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != token.line {
                extra = format!(" in action started at {}:{}", self.name, self.action_line);
                if token.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_owned();
                }
            }
            return self.error(format!("{token}{extra}"));
        }
        self.error(format!("unexpected {token} in {context}"))
    }

    fn expect(&mut self, kind: ItemKind, context: &str) -> Result<Item> {
        let token = self.next_non_space();
        if token.kind != kind {
            return Err(self.unexpected(&token, context));
        }
        Ok(token)
    }

    fn parse_top(&mut self) -> Result<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().kind != ItemKind::Eof {
            if self.peek().kind == ItemKind::LeftDelim {
                let mark = self.next;
                self.next_item();
                if self.next_non_space().kind == ItemKind::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.next = mark;
            }
            match self.text_or_action()? {
                Ok(node) => root.extend(node),
                Err(Stop::End) => return Err(self.error("unexpected {{end}}")),
                Err(Stop::Else) => return Err(self.error("unexpected {{else}}")),
            }
        }
        Ok(root)
    }

    /// A sub-template (`define`, `block`) is parsed with its own variables.
    fn in_sub_tree<T>(&mut self, body: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let depth = std::mem::replace(&mut self.range_depth, 0);
        let result = body(self);
        self.vars = vars;
        self.range_depth = depth;
        result
    }

    fn add_define(&mut self, name: String, body: Vec<Node>) -> Result<()> {
        let empty = body
            .iter()
            .all(|n| matches!(n, Node::Text(t) if t.iter().all(u8::is_ascii_whitespace)));
        match self.defines.get(&name) {
            Some(existing) if !empty && !existing.is_empty() => Err(self.error(format!(
                "template: multiple definition of template {}",
                super::fmt::quote(name.as_bytes())
            ))),
            Some(_) if empty => Ok(()),
            _ => {
                self.defines.insert(name, body);
                Ok(())
            }
        }
    }

    fn parse_definition(&mut self) -> Result<()> {
        let context = "define clause";
        let token = self.next_non_space();
        if token.kind != ItemKind::String && token.kind != ItemKind::RawString {
            return Err(self.unexpected(&token, context));
        }
        let name = self.unquote_name(&token.val)?;
        self.expect(ItemKind::RightDelim, context)?;
        let (body, stop) = self.in_sub_tree(|p| p.item_list())?;
        if let Stop::Else = stop {
            return Err(self.error(format!("unexpected {{{{else}}}} in {context}")));
        }
        self.add_define(name, body)
    }

    fn unquote_name(&self, quoted: &str) -> Result<String> {
        let bytes = unquote(quoted).ok_or_else(|| self.error("invalid syntax"))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn item_list(&mut self) -> Result<(Vec<Node>, Stop)> {
        let mut list = Vec::new();
        while self.peek_non_space().kind != ItemKind::Eof {
            match self.text_or_action()? {
                Ok(node) => list.extend(node),
                Err(stop) => return Ok((list, stop)),
            }
        }
        Err(self.error("unexpected EOF"))
    }

    /// A node, or the `end`/`else` that closes the enclosing list. Comments
    /// yield no node.
    fn text_or_action(&mut self) -> Result<std::result::Result<Option<Node>, Stop>> {
        let token = self.next_non_space();
        match token.kind {
            ItemKind::Text => Ok(Ok(Some(Node::Text(token.val.into_bytes())))),
            ItemKind::LeftDelim => {
                let saved = self.action_line;
                self.action_line = token.line;
                let result = self.action();
                self.action_line = saved;
                result
            }
            ItemKind::Comment => Ok(Ok(None)),
            _ => Err(self.unexpected(&token, "input")),
        }
    }

    fn action(&mut self) -> Result<std::result::Result<Option<Node>, Stop>> {
        let token = self.next_non_space();
        let node = match token.kind {
            ItemKind::Block => self.block_control()?,
            ItemKind::Break | ItemKind::Continue => {
                let word = if token.kind == ItemKind::Break {
                    "break"
                } else {
                    "continue"
                };
                let next = self.next_non_space();
                if next.kind != ItemKind::RightDelim {
                    return Err(self.unexpected(&next, &format!("{{{{{word}}}}}")));
                }
                if self.range_depth == 0 {
                    return Err(self.error(format!("{{{{{word}}}}} outside {{{{range}}}}")));
                }
                if token.kind == ItemKind::Break {
                    Node::Break
                } else {
                    Node::Continue
                }
            }
            ItemKind::Else => {
                let peek = self.peek_non_space();
                if peek.kind == ItemKind::If {
                    return Ok(Err(Stop::Else));
                }
                self.expect(ItemKind::RightDelim, "else")?;
                return Ok(Err(Stop::Else));
            }
            ItemKind::End => {
                self.expect(ItemKind::RightDelim, "end")?;
                return Ok(Err(Stop::End));
            }
            ItemKind::If => Node::If(Box::new(self.control("if")?)),
            ItemKind::Range => Node::Range(Box::new(self.control("range")?)),
            ItemKind::With => Node::With(Box::new(self.control("with")?)),
            ItemKind::Template => self.template_control()?,
            _ => {
                self.backup();
                let pipe = self.pipeline("command", ItemKind::RightDelim)?;
                Node::Action { pipe }
            }
        };
        Ok(Ok(Some(node)))
    }

    /// Runs `body` one nesting level deeper, refusing to go past [`MAX_PARSE_DEPTH`].
    fn nested<T>(&mut self, body: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.depth >= MAX_PARSE_DEPTH {
            return Err(self.error(format!(
                "max expression depth exceeded (templates may nest at most {MAX_PARSE_DEPTH} levels)"
            )));
        }
        self.depth += 1;
        let result = body(self);
        self.depth -= 1;
        result
    }

    fn control(&mut self, context: &str) -> Result<Branch> {
        let vars = self.vars.len();
        let result = self.nested(|p| p.control_inner(context));
        self.vars.truncate(vars);
        result
    }

    fn control_inner(&mut self, context: &str) -> Result<Branch> {
        let pipe = self.pipeline(context, ItemKind::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let listed = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, stop) = listed?;
        let mut else_list = None;
        if let Stop::Else = stop {
            if context == "if" && self.peek().kind == ItemKind::If {
                self.next_item();
                else_list = Some(vec![Node::If(Box::new(self.control("if")?))]);
            } else {
                let (list, stop) = self.item_list()?;
                if let Stop::Else = stop {
                    return Err(self.error("expected end; found {{else}}"));
                }
                else_list = Some(list);
            }
        }
        Ok(Branch {
            pipe,
            list,
            else_list,
        })
    }

    fn template_name(&mut self, context: &str) -> Result<(Item, String)> {
        let token = self.next_non_space();
        match token.kind {
            ItemKind::String | ItemKind::RawString => {
                let name = self.unquote_name(&token.val)?;
                Ok((token, name))
            }
            _ => Err(self.unexpected(&token, context)),
        }
    }

    fn template_control(&mut self) -> Result<Node> {
        let context = "template clause";
        let (token, name) = self.template_name(context)?;
        let mut pipe = None;
        if self.next_non_space().kind != ItemKind::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(context, ItemKind::RightDelim)?);
        }
        Ok(Node::Template {
            pos: token.pos,
            name,
            pipe,
        })
    }

    fn block_control(&mut self) -> Result<Node> {
        let context = "block clause";
        let (token, name) = self.template_name(context)?;
        let pipe = self.pipeline(context, ItemKind::RightDelim)?;
        let (body, stop) = self.nested(|p| p.in_sub_tree(|p| p.item_list()))?;
        if let Stop::Else = stop {
            return Err(self.error(format!("unexpected {{{{else}}}} in {context}")));
        }
        self.add_define(name.clone(), body)?;
        Ok(Node::Template {
            pos: token.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn pipeline(&mut self, context: &str, end: ItemKind) -> Result<Pipe> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: start.pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        'decls: loop {
            let v = self.peek_non_space();
            if v.kind != ItemKind::Variable {
                break;
            }
            let mark = self.next;
            self.next_non_space();
            let after_variable = self.peek();
            let next = self.peek_non_space();
            match next.kind {
                ItemKind::Assign | ItemKind::Declare => {
                    pipe.is_assign = next.kind == ItemKind::Assign;
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                }
                ItemKind::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            ItemKind::Variable | ItemKind::RightDelim | ItemKind::RightParen => {
                                continue 'decls
                            }
                            _ => return Err(self.error("range can only initialize variables")),
                        }
                    }
                    return Err(self.error(format!("too many declarations in {context}")));
                }
                _ => {
                    let _ = after_variable;
                    self.next = mark;
                }
            }
            break;
        }
        loop {
            let token = self.next_non_space();
            match token.kind {
                k if k == end => {
                    if pipe.cmds.is_empty() {
                        return Err(self.error(format!("missing value for {context}")));
                    }
                    for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
                        if matches!(
                            c.args.first(),
                            Some(
                                Arg::Bool { .. }
                                    | Arg::Dot { .. }
                                    | Arg::Nil { .. }
                                    | Arg::Number { .. }
                                    | Arg::String { .. }
                            )
                        ) {
                            return Err(self.error(format!(
                                "non executable command in pipeline stage {}",
                                i + 1
                            )));
                        }
                    }
                    return Ok(pipe);
                }
                ItemKind::Bool
                | ItemKind::CharConstant
                | ItemKind::Complex
                | ItemKind::Dot
                | ItemKind::Field
                | ItemKind::Identifier
                | ItemKind::Number
                | ItemKind::Nil
                | ItemKind::RawString
                | ItemKind::String
                | ItemKind::Variable
                | ItemKind::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(&token, context)),
            }
        }
    }

    fn command(&mut self) -> Result<Command> {
        let mut cmd = Command {
            pos: self.peek_non_space().pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(operand) = self.operand()? {
                cmd.args.push(operand);
            }
            let token = self.next_item();
            match token.kind {
                ItemKind::Space => continue,
                ItemKind::RightDelim | ItemKind::RightParen => self.backup(),
                ItemKind::Pipe => {}
                _ => return Err(self.unexpected(&token, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.error("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> Result<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != ItemKind::Field {
            return Ok(Some(node));
        }
        let chain_pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().kind == ItemKind::Field {
            let field = self.next_item();
            fields.push(field.val.trim_start_matches('.').to_owned());
        }
        Ok(Some(match node {
            Arg::Field { mut idents, .. } => {
                idents.extend(fields);
                Arg::Field {
                    pos: chain_pos,
                    idents,
                }
            }
            Arg::Variable { mut idents, .. } => {
                idents.extend(fields);
                Arg::Variable {
                    pos: chain_pos,
                    idents,
                }
            }
            Arg::Bool { .. }
            | Arg::String { .. }
            | Arg::Number { .. }
            | Arg::Nil { .. }
            | Arg::Dot { .. } => {
                return Err(self.error(format!(
                    "unexpected . after term {}",
                    super::fmt::quote(node.to_string().as_bytes())
                )));
            }
            other => Arg::Chain {
                pos: chain_pos,
                node: Box::new(other),
                fields,
            },
        }))
    }

    fn term(&mut self) -> Result<Option<Arg>> {
        let token = self.next_non_space();
        let pos = token.pos;
        Ok(Some(match token.kind {
            ItemKind::Identifier => {
                if !(self.is_function)(&token.val) {
                    return Err(self.error(format!(
                        "function {} not defined",
                        super::fmt::quote(token.val.as_bytes())
                    )));
                }
                Arg::Identifier {
                    pos,
                    name: token.val,
                }
            }
            ItemKind::Dot => Arg::Dot { pos },
            ItemKind::Nil => Arg::Nil { pos },
            ItemKind::Variable => {
                let idents: Vec<String> = token.val.split('.').map(str::to_owned).collect();
                if !self.vars.iter().any(|v| *v == idents[0]) {
                    return Err(self.error(format!(
                        "undefined variable {}",
                        super::fmt::quote(idents[0].as_bytes())
                    )));
                }
                Arg::Variable { pos, idents }
            }
            ItemKind::Field => Arg::Field {
                pos,
                idents: token
                    .val
                    .trim_start_matches('.')
                    .split('.')
                    .map(str::to_owned)
                    .collect(),
            },
            ItemKind::Bool => Arg::Bool {
                pos,
                value: token.val == "true",
            },
            ItemKind::CharConstant | ItemKind::Complex | ItemKind::Number => {
                let value = number(&token.val, token.kind).map_err(|m| self.error(m))?;
                Arg::Number {
                    pos,
                    text: token.val,
                    value,
                }
            }
            ItemKind::LeftParen => {
                Arg::Pipe(Box::new(self.nested(|p| {
                    p.pipeline("parenthesized pipeline", ItemKind::RightParen)
                })?))
            }
            ItemKind::String | ItemKind::RawString => {
                let text = unquote(&token.val).ok_or_else(|| self.error("invalid syntax"))?;
                Arg::String {
                    pos,
                    quoted: token.val,
                    text,
                }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

/// Go's `parse.newNumber`, for the kinds of constant Patchbay evaluates.
fn number(text: &str, kind: ItemKind) -> std::result::Result<Number, String> {
    if kind == ItemKind::CharConstant {
        let inner =
            unquote_char(text).ok_or_else(|| format!("malformed character constant: {text}"))?;
        return Ok(Number::Int(i64::from(inner)));
    }
    if kind == ItemKind::Complex || text.ends_with('i') {
        return Err(format!("complex constants are not supported: {text}"));
    }
    if let Some(i) = parse_int(text) {
        return Ok(match i64::try_from(i) {
            Ok(i) => Number::Int(i),
            Err(_) => Number::TooBig,
        });
    }
    let f = parse_float(text).ok_or_else(|| {
        format!(
            "illegal number syntax: {}",
            super::fmt::quote(text.as_bytes())
        )
    })?;
    if !text.contains(['.', 'e', 'E', 'p', 'P']) {
        return Err(format!(
            "integer overflow: {}",
            super::fmt::quote(text.as_bytes())
        ));
    }
    Ok(Number::Float(f))
}

/// Go's `strconv.ParseInt(text, 0, 64)`/`ParseUint`, widened.
fn parse_int(text: &str) -> Option<i128> {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_owned(), true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_owned(), true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_owned(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_owned(), true)
    } else {
        (10, lower.clone(), false)
    };
    if digits.contains('_') && !valid_underscores(&lower, prefixed) {
        return None;
    }
    let digits = digits.replace('_', "");
    if digits.is_empty() {
        return None;
    }
    let v = u64::from_str_radix(&digits, radix).ok()?;
    let v = i128::from(v);
    Some(if neg { -v } else { v })
}

fn valid_underscores(s: &str, prefixed: bool) -> bool {
    // Go allows `_` only between digits or after a base prefix.
    let b = s.as_bytes();
    let mut prev_underscore_ok = prefixed;
    for (i, &c) in b.iter().enumerate() {
        if c == b'_' {
            if !prev_underscore_ok && i > 0 && !b[i - 1].is_ascii_alphanumeric() {
                return false;
            }
            if i + 1 == b.len() || b[i + 1] == b'_' {
                return false;
            }
        }
        prev_underscore_ok = true;
    }
    b.first() != Some(&b'_')
}

fn parse_float(text: &str) -> Option<f64> {
    let cleaned = text.replace('_', "");
    let lower = cleaned.to_ascii_lowercase();
    if lower.contains("0x") || lower.contains("inf") || lower.contains("nan") {
        return None;
    }
    // Go's ParseFloat reports a value beyond float64's range as an error.
    cleaned.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Go's `strconv.Unquote` for the three literal forms; `None` for bad syntax.
pub(crate) fn unquote(quoted: &str) -> Option<Vec<u8>> {
    let b = quoted.as_bytes();
    if b.len() < 2 {
        return None;
    }
    let (first, last) = (b[0], b[b.len() - 1]);
    if first != last {
        return None;
    }
    let inner = &quoted[1..quoted.len() - 1];
    match first {
        b'`' => {
            if inner.contains('`') {
                return None;
            }
            Some(inner.bytes().filter(|&c| c != b'\r').collect())
        }
        b'"' => {
            let mut out = Vec::with_capacity(inner.len());
            let mut rest = inner;
            while !rest.is_empty() {
                let (bytes, tail) = unquote_one(rest, b'"')?;
                out.extend_from_slice(&bytes);
                rest = tail;
            }
            Some(out)
        }
        _ => None,
    }
}

/// The value of a character constant `'x'`.
fn unquote_char(quoted: &str) -> Option<u32> {
    let inner = quoted.strip_prefix('\'')?;
    let (bytes, tail) = unquote_one(inner, b'\'')?;
    if tail != "'" {
        return None;
    }
    let s = std::str::from_utf8(&bytes).ok();
    match s.and_then(|s| s.chars().next()) {
        Some(c) if bytes.len() == c.len_utf8() => Some(c as u32),
        _ => bytes.first().map(|&b| u32::from(b)),
    }
}

/// One character or escape of a quoted literal (Go's `strconv.UnquoteChar`).
fn unquote_one(s: &str, quote: u8) -> Option<(Vec<u8>, &str)> {
    let c = s.chars().next()?;
    if c as u32 == u32::from(quote) && (quote == b'\'' || quote == b'"') {
        return None;
    }
    if c != '\\' {
        if c == '\n' {
            return None;
        }
        return Some((c.to_string().into_bytes(), &s[c.len_utf8()..]));
    }
    let rest = &s[1..];
    let e = rest.chars().next()?;
    let after = &rest[e.len_utf8()..];
    let simple = match e {
        'a' => Some(7u8),
        'b' => Some(8),
        'f' => Some(12),
        'n' => Some(b'\n'),
        'r' => Some(b'\r'),
        't' => Some(b'\t'),
        'v' => Some(11),
        '\\' => Some(b'\\'),
        '\'' if quote == b'\'' => Some(b'\''),
        '"' if quote == b'"' => Some(b'"'),
        _ => None,
    };
    if let Some(v) = simple {
        return Some((vec![v], after));
    }
    let hex = |n: usize| -> Option<(u32, &str)> {
        let digits = after.get(..n)?;
        let v = u32::from_str_radix(digits, 16).ok()?;
        digits
            .bytes()
            .all(|d| d.is_ascii_hexdigit())
            .then_some((v, &after[n..]))
    };
    match e {
        'x' => {
            let (v, tail) = hex(2)?;
            Some((vec![v as u8], tail))
        }
        'u' | 'U' => {
            let (v, tail) = hex(if e == 'u' { 4 } else { 8 })?;
            let ch = char::from_u32(v)?;
            Some((ch.to_string().into_bytes(), tail))
        }
        '0'..='7' => {
            let digits = rest.get(..3)?;
            let v = u32::from_str_radix(digits, 8).ok()?;
            if v > 255 || !digits.bytes().all(|d| (b'0'..=b'7').contains(&d)) {
                return None;
            }
            Some((vec![v as u8], &rest[3..]))
        }
        _ => None,
    }
}

/// Calls `seen` with every data key the template reads directly: `.Name`
/// where dot is still the data (outside `with` and `range` bodies), and
/// `$.Name` anywhere.
pub(crate) fn visit_data_fields(tree: &Tree, seen: &mut dyn FnMut(&str)) {
    fn pipe(p: &Pipe, top: bool, seen: &mut dyn FnMut(&str)) {
        for c in &p.cmds {
            for a in &c.args {
                arg(a, top, seen);
            }
        }
    }
    fn arg(a: &Arg, top: bool, seen: &mut dyn FnMut(&str)) {
        match a {
            Arg::Field { idents, .. } if top => seen(&idents[0]),
            Arg::Variable { idents, .. } if idents[0] == "$" && idents.len() > 1 => {
                seen(&idents[1])
            }
            Arg::Chain { node, .. } => arg(node, top, seen),
            Arg::Pipe(p) => pipe(p, top, seen),
            _ => {}
        }
    }
    fn list(nodes: &[Node], top: bool, seen: &mut dyn FnMut(&str)) {
        for n in nodes {
            match n {
                Node::Action { pipe: p } => pipe(p, top, seen),
                Node::If(b) => {
                    pipe(&b.pipe, top, seen);
                    list(&b.list, top, seen);
                    if let Some(e) = &b.else_list {
                        list(e, top, seen);
                    }
                }
                Node::With(b) | Node::Range(b) => {
                    pipe(&b.pipe, top, seen);
                    list(&b.list, false, seen);
                    if let Some(e) = &b.else_list {
                        list(e, top, seen);
                    }
                }
                Node::Template { pipe: Some(p), .. } => pipe(p, top, seen),
                _ => {}
            }
        }
    }
    list(&tree.root, true, seen);
    for body in tree.defines.values() {
        list(body, false, seen);
    }
}
