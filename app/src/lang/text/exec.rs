//! Execution, after Go 1.19's `text/template/exec.go` and `funcs.go`: the
//! same evaluation order, the same node recorded for an error's location,
//! and the same messages.

use std::borrow::Cow;

use super::fmt::{decode_rune, is_print, sprint, sprintf, sprintln};
use super::parse::{template_node_string, Arg, Branch, Command, Node, Number, Pipe};
use super::value::{Data, Val};
use super::{ExecError, Func, Template};

/// Guards against templates that call themselves: Go allows 100000 levels,
/// which a thread stack here cannot hold.
pub const MAX_CALL_DEPTH: usize = 100;
/// How deeply bodies (of `if`, `range`, `with` and called templates) may be walked inside
/// one another in all, so a recursive template whose body nests deeply still fits the
/// 2 MiB stack of a server thread.
pub const MAX_NESTING: usize = 300;
/// Guards against output that doubles with every level of a recursive define.
pub const MAX_OUTPUT: usize = 16 << 20;
/// Work one execution may do: every node walked and every command evaluated is a step.
/// Bounds templates whose `{{template}}` calls fan out exponentially; a real template
/// takes a few hundred.
pub const MAX_STEPS: u64 = 1_000_000;
/// Bytes of values one execution may build in all (function results and constants, freed
/// or not), so a value doubled by `printf "%s%s" $a $a` cannot grow past the output cap
/// before it is written.
pub const MAX_ALLOCATED: usize = 64 << 20;

/// The node an error is reported at, as Go's `state.at`.
#[derive(Clone, Copy)]
enum At<'t> {
    Nothing,
    Arg(&'t Arg),
    Command(&'t Command),
    Pipe(&'t Pipe),
    Template {
        pos: usize,
        name: &'t str,
        pipe: Option<&'t Pipe>,
    },
}

/// How a list ended: normally, or by `break`/`continue`.
enum Flow {
    Normal,
    Break,
    Continue,
}

#[derive(Clone, Copy, PartialEq)]
enum Param {
    /// `reflect.Value`: anything, evaluated as it is.
    Reflect,
    /// `any`: anything, nil allowed.
    Any,
    Str,
}

struct Signature {
    fixed: &'static [Param],
    variadic: Option<Param>,
}

const REFLECT_1: &[Param] = &[Param::Reflect];
const REFLECT_2: &[Param] = &[Param::Reflect, Param::Reflect];
const STR_1: &[Param] = &[Param::Str];
const STR_N: [Param; 8] = [Param::Str; 8];

fn builtin_signature(name: &str) -> Option<Signature> {
    let sig = |fixed, variadic| Some(Signature { fixed, variadic });
    match name {
        "and" | "or" | "index" | "slice" | "eq" | "call" => sig(REFLECT_1, Some(Param::Reflect)),
        "not" | "len" => sig(REFLECT_1, None),
        "ne" | "lt" | "le" | "gt" | "ge" => sig(REFLECT_2, None),
        "print" | "println" | "html" | "js" | "urlquery" => sig(&[], Some(Param::Any)),
        "printf" => sig(STR_1, Some(Param::Any)),
        _ => None,
    }
}

pub(crate) fn is_builtin(name: &str) -> bool {
    builtin_signature(name).is_some()
}

type Fallible<T> = Result<T, ExecError>;

pub(crate) struct State<'t, 'd> {
    tmpl: &'t Template,
    /// The name of the template being executed (a define's name inside one).
    running: &'t str,
    at: At<'t>,
    vars: Vec<(&'t str, Val<'d>)>,
    out: Vec<u8>,
    depth: usize,
    nesting: usize,
    steps: u64,
    allocated: usize,
}

pub(crate) fn execute(tmpl: &Template, data: &Data) -> Fallible<Vec<u8>> {
    let mut s = State {
        tmpl,
        running: &tmpl.name,
        at: At::Nothing,
        vars: vec![("$", Val::Map(data))],
        out: Vec::new(),
        depth: 0,
        nesting: 0,
        steps: 0,
        allocated: 0,
    };
    s.walk_list(&Val::Map(data), &tmpl.tree.root)?;
    Ok(s.out)
}

impl<'t, 'd> State<'t, 'd> {
    fn error(&self, message: impl Into<String>) -> ExecError {
        let message = message.into();
        let (pos, context) = match self.at {
            At::Nothing => {
                return ExecError {
                    message: format!("template: {}: {message}", self.running),
                    offset: None,
                };
            }
            At::Arg(a) => (a.pos(), a.to_string()),
            At::Command(c) => (c.pos, c.to_string()),
            At::Pipe(p) => (p.pos, p.to_string()),
            At::Template { pos, name, pipe } => (pos, template_node_string(name, pipe)),
        };
        let text = &self.tmpl.source;
        let before = text.get(..pos).unwrap_or(text);
        let line = 1 + before.matches('\n').count();
        let column = before.rfind('\n').map_or(pos, |nl| pos - nl - 1);
        ExecError {
            message: format!(
                "template: {}:{line}:{column}: executing {} at <{context}>: {message}",
                self.tmpl.name,
                super::fmt::quote(self.running.as_bytes())
            ),
            offset: Some(pos),
        }
    }

    fn walk_list(&mut self, dot: &Val<'d>, list: &'t [Node]) -> Fallible<Flow> {
        if self.nesting >= MAX_NESTING {
            return Err(self.error(format!(
                "exceeded maximum nesting depth ({MAX_NESTING}) of template bodies"
            )));
        }
        self.nesting += 1;
        let flow = self.walk_each(dot, list);
        self.nesting -= 1;
        flow
    }

    fn walk_each(&mut self, dot: &Val<'d>, list: &'t [Node]) -> Fallible<Flow> {
        for node in list {
            match self.walk(dot, node)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn step(&mut self) -> Fallible<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(self.error(format!(
                "execution takes more than {MAX_STEPS} steps; simplify the template"
            )));
        }
        Ok(())
    }

    /// Counts `bytes` more built by this execution against [`MAX_ALLOCATED`].
    fn charge(&mut self, bytes: usize) -> Fallible<()> {
        self.allocated = self.allocated.saturating_add(bytes);
        if self.allocated > MAX_ALLOCATED {
            return Err(self.error(budget_message()));
        }
        Ok(())
    }

    fn walk(&mut self, dot: &Val<'d>, node: &'t Node) -> Fallible<Flow> {
        self.step()?;
        match node {
            Node::Text(text) => self.write(text)?,
            Node::Action { pipe } => {
                let value = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    let mut buf = Vec::new();
                    value.write_plain(&mut buf);
                    self.write(&buf)?;
                }
            }
            Node::If(branch) => return self.walk_if_or_with(dot, branch, false),
            Node::With(branch) => return self.walk_if_or_with(dot, branch, true),
            Node::Range(branch) => return self.walk_range(dot, branch),
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
            Node::Template { pos, name, pipe } => {
                self.walk_template(dot, *pos, name, pipe.as_ref())?
            }
        }
        Ok(Flow::Normal)
    }

    fn write(&mut self, bytes: &[u8]) -> Fallible<()> {
        if self.out.len() + bytes.len() > MAX_OUTPUT {
            return Err(self.error(format!("output exceeds {} MiB", MAX_OUTPUT >> 20)));
        }
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    fn walk_if_or_with(&mut self, dot: &Val<'d>, b: &'t Branch, with: bool) -> Fallible<Flow> {
        let mark = self.vars.len();
        let result = (|| {
            let value = self.eval_pipeline(dot, &b.pipe)?;
            if value.truth() {
                if with {
                    self.walk_list(&value, &b.list)
                } else {
                    self.walk_list(dot, &b.list)
                }
            } else if let Some(else_list) = &b.else_list {
                self.walk_list(dot, else_list)
            } else {
                Ok(Flow::Normal)
            }
        })();
        self.vars.truncate(mark);
        result
    }

    fn walk_range(&mut self, dot: &Val<'d>, b: &'t Branch) -> Fallible<Flow> {
        let mark = self.vars.len();
        let result = self.walk_range_inner(dot, b);
        self.vars.truncate(mark);
        result.map(|_| Flow::Normal)
    }

    fn walk_range_inner(&mut self, dot: &Val<'d>, b: &'t Branch) -> Fallible<()> {
        let value = self.eval_pipeline(dot, &b.pipe)?;
        let items: Vec<(Val<'d>, Val<'d>)> = match value {
            Val::Map(m) => m.iter().map(|(k, v)| (Val::str(k), Val::str(v))).collect(),
            Val::Invalid => Vec::new(),
            other => {
                let mut shown = Vec::new();
                other.write_plain(&mut shown);
                return Err(self.error(format!(
                    "range can't iterate over {}",
                    String::from_utf8_lossy(&shown)
                )));
            }
        };
        if items.is_empty() {
            if let Some(else_list) = &b.else_list {
                self.walk_list(dot, else_list)?;
            }
            return Ok(());
        }
        let mark = self.vars.len();
        for (key, elem) in items {
            // Go's setTopVar: the element in the last variable, the key in the one before.
            let n = self.vars.len();
            if let (false, Some(top)) = (b.pipe.decl.is_empty(), n.checked_sub(1)) {
                self.vars[top].1 = elem.clone();
            }
            if let (true, Some(second)) = (b.pipe.decl.len() > 1, n.checked_sub(2)) {
                self.vars[second].1 = key;
            }
            let flow = self.walk_list(&elem, &b.list);
            self.vars.truncate(mark);
            if let Flow::Break = flow? {
                break;
            }
        }
        Ok(())
    }

    fn walk_template(
        &mut self,
        dot: &Val<'d>,
        pos: usize,
        name: &'t str,
        pipe: Option<&'t Pipe>,
    ) -> Fallible<()> {
        self.at = At::Template { pos, name, pipe };
        let Some(body) = self.tmpl.tree.defines.get(name) else {
            return Err(self.error(format!(
                "template {} not defined",
                super::fmt::quote(name.as_bytes())
            )));
        };
        if self.depth >= MAX_CALL_DEPTH {
            return Err(self.error(format!(
                "exceeded maximum template depth ({MAX_CALL_DEPTH})"
            )));
        }
        let new_dot = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Val::Invalid,
        };
        // No dynamic scoping: the called template sees only `$`.
        let saved_vars = std::mem::replace(&mut self.vars, vec![("$", new_dot.clone())]);
        let saved_running = std::mem::replace(&mut self.running, name);
        self.depth += 1;
        let result = self.walk_list(&new_dot, body);
        self.depth -= 1;
        self.running = saved_running;
        self.vars = saved_vars;
        result.map(|_| ())
    }

    fn eval_pipeline(&mut self, dot: &Val<'d>, pipe: &'t Pipe) -> Fallible<Val<'d>> {
        self.at = At::Pipe(pipe);
        let mut value: Option<Val<'d>> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = value.unwrap_or(Val::Invalid);
        for name in &pipe.decl {
            if pipe.is_assign {
                match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = value.clone(),
                    None => return Err(self.error(format!("undefined variable: {name}"))),
                }
            } else {
                self.vars.push((name, value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &'t [Arg], fin: &Option<Val<'d>>) -> Fallible<()> {
        if args.len() > 1 || fin.is_some() {
            return Err(self.error(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(
        &mut self,
        dot: &Val<'d>,
        cmd: &'t Command,
        fin: Option<Val<'d>>,
    ) -> Fallible<Val<'d>> {
        self.step()?;
        let first = &cmd.args[0];
        match first {
            Arg::Field { idents, .. } => {
                self.at = At::Arg(first);
                return self.eval_field_chain(dot.clone(), idents, &cmd.args, fin);
            }
            Arg::Chain { node, fields, .. } => {
                return self.eval_chain(dot, first, node, fields, &cmd.args, fin)
            }
            Arg::Identifier { name, .. } => {
                return self.eval_function(dot, first, name, At::Command(cmd), &cmd.args[1..], fin);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &fin)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Variable { idents, .. } => {
                return self.eval_variable(first, idents, &cmd.args, fin)
            }
            _ => {}
        }
        self.at = At::Arg(first);
        self.not_a_function(&cmd.args, &fin)?;
        match first {
            Arg::Bool { value, .. } => Ok(Val::Bool(*value)),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { .. } => Err(self.error("nil is not a command")),
            Arg::Number { .. } => self.ideal_constant(first),
            Arg::String { text, .. } => {
                self.charge(text.len())?;
                Ok(Val::Str(Cow::Owned(text.clone())))
            }
            _ => Err(self.error(format!(
                "can't evaluate command {}",
                super::fmt::quote(first.to_string().as_bytes())
            ))),
        }
    }

    fn ideal_constant(&mut self, arg: &'t Arg) -> Fallible<Val<'d>> {
        self.at = At::Arg(arg);
        match arg {
            Arg::Number {
                value: Number::Int(i),
                ..
            } => Ok(Val::Int(*i)),
            Arg::Number {
                value: Number::Float(f),
                ..
            } => Ok(Val::Float(*f)),
            Arg::Number { text, .. } => Err(self.error(format!("{text} overflows int"))),
            _ => Ok(Val::Invalid),
        }
    }

    fn eval_chain(
        &mut self,
        dot: &Val<'d>,
        chain: &'t Arg,
        node: &'t Arg,
        fields: &'t [String],
        args: &'t [Arg],
        fin: Option<Val<'d>>,
    ) -> Fallible<Val<'d>> {
        self.at = At::Arg(chain);
        if let Arg::Nil { .. } = node {
            return Err(self.error(format!("indirection through explicit nil in {chain}")));
        }
        let receiver = self.eval_arg(dot, Param::Reflect, node)?;
        self.eval_field_chain(receiver, fields, args, fin)
    }

    fn eval_variable(
        &mut self,
        node: &'t Arg,
        idents: &'t [String],
        args: &'t [Arg],
        fin: Option<Val<'d>>,
    ) -> Fallible<Val<'d>> {
        self.at = At::Arg(node);
        let name = idents[0].as_str();
        let Some(value) = self
            .vars
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
        else {
            return Err(self.error(format!("undefined variable: {name}")));
        };
        if idents.len() == 1 {
            self.not_a_function(args, &fin)?;
            return Ok(value);
        }
        self.eval_field_chain(value, &idents[1..], args, fin)
    }

    fn eval_field_chain(
        &self,
        mut receiver: Val<'d>,
        idents: &'t [String],
        args: &'t [Arg],
        fin: Option<Val<'d>>,
    ) -> Fallible<Val<'d>> {
        let n = idents.len();
        for ident in &idents[..n - 1] {
            receiver = self.eval_field(ident, &[], &None, receiver)?;
        }
        self.eval_field(&idents[n - 1], args, &fin, receiver)
    }

    fn eval_field(
        &self,
        name: &str,
        args: &[Arg],
        fin: &Option<Val<'d>>,
        receiver: Val<'d>,
    ) -> Fallible<Val<'d>> {
        match receiver {
            Val::Invalid => Ok(Val::Invalid),
            Val::Map(m) => {
                if args.len() > 1 || fin.is_some() {
                    return Err(self.error(format!("{name} is not a method but has arguments")));
                }
                // missingkey=zero: a missing key reads as the empty string.
                Ok(m.get(name).map_or(Val::str(""), |v| Val::str(v)))
            }
            Val::Nil => Err(self.error(format!("nil pointer evaluating interface {{}}.{name}"))),
            other => Err(self.error(format!(
                "can't evaluate field {name} in type {}",
                other.type_name()
            ))),
        }
    }

    /// `args` are the arguments after the function's name; `call_node` is
    /// where a failing call is reported (the command, or the identifier when
    /// the function is itself an argument).
    fn eval_function(
        &mut self,
        dot: &Val<'d>,
        node: &'t Arg,
        name: &'t str,
        call_node: At<'t>,
        args: &'t [Arg],
        fin: Option<Val<'d>>,
    ) -> Fallible<Val<'d>> {
        self.at = At::Arg(node);
        let custom = self.tmpl.functions.get(name);
        let signature = match (custom, builtin_signature(name)) {
            (Some(f), _) => Signature {
                fixed: &STR_N[..f.arity.min(STR_N.len())],
                variadic: None,
            },
            (None, Some(sig)) => sig,
            (None, None) => {
                return Err(self.error(format!(
                    "{} is not a defined function",
                    super::fmt::quote(name.as_bytes())
                )))
            }
        };
        self.eval_call(dot, name, custom, &signature, call_node, args, fin)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_call(
        &mut self,
        dot: &Val<'d>,
        name: &str,
        custom: Option<&Func>,
        sig: &Signature,
        call_node: At<'t>,
        args: &'t [Arg],
        fin: Option<Val<'d>>,
    ) -> Fallible<Val<'d>> {
        let num_in = args.len() + usize::from(fin.is_some());
        let declared = sig.fixed.len() + usize::from(sig.variadic.is_some());
        if sig.variadic.is_some() {
            if num_in < sig.fixed.len() {
                return Err(self.error(format!(
                    "wrong number of args for {name}: want at least {} got {}",
                    sig.fixed.len(),
                    args.len()
                )));
            }
        } else if num_in != declared {
            return Err(self.error(format!(
                "wrong number of args for {name}: want {declared} got {num_in}"
            )));
        }
        let param_at = |i: usize| {
            sig.fixed
                .get(i)
                .copied()
                .or(sig.variadic)
                .unwrap_or(Param::Any)
        };

        if custom.is_none() && (name == "and" || name == "or") {
            let want = name == "or";
            let mut v = Val::Invalid;
            for arg in args {
                v = self.eval_arg(dot, Param::Reflect, arg)?;
                if v.truth() == want {
                    return Ok(v);
                }
            }
            if let Some(f) = fin {
                v = self.validate_type(f, Param::Reflect)?;
            }
            return Ok(v);
        }

        let mut argv = Vec::with_capacity(num_in);
        for (i, arg) in args.iter().enumerate() {
            argv.push(self.eval_arg(dot, param_at(i), arg)?);
        }
        if let Some(f) = fin {
            let checked = self.validate_type(f, param_at(num_in - 1))?;
            argv.push(checked);
        }
        let result = match custom {
            Some(f) => {
                let strings: Vec<&[u8]> = argv
                    .iter()
                    .map(|v| {
                        if let Val::Str(s) = v {
                            s.as_ref()
                        } else {
                            &b""[..]
                        }
                    })
                    .collect();
                (f.call)(&strings).map(Val::owned)
            }
            None => call_builtin(name, &argv, MAX_ALLOCATED - self.allocated),
        };
        let value = result.map_err(|e| {
            self.at = call_node;
            self.error(format!("error calling {name}: {e}"))
        })?;
        if let Val::Str(Cow::Owned(bytes)) = &value {
            self.at = call_node;
            self.charge(bytes.len())?;
        }
        Ok(value)
    }

    fn validate_type(&self, value: Val<'d>, param: Param) -> Fallible<Val<'d>> {
        match (param, &value) {
            (Param::Reflect, Val::Invalid) => {
                Err(self.error("invalid value; expected reflect.Value"))
            }
            (Param::Any, Val::Invalid) => Ok(Val::Nil),
            (Param::Str, Val::Invalid) => Err(self.error("invalid value; expected string")),
            (Param::Str, Val::Str(_)) => Ok(value),
            (Param::Str, other) => Err(self.error(format!(
                "wrong type for value; expected string; got {}",
                other.type_name()
            ))),
            _ => Ok(value),
        }
    }

    fn eval_arg(&mut self, dot: &Val<'d>, param: Param, arg: &'t Arg) -> Fallible<Val<'d>> {
        self.at = At::Arg(arg);
        let value = match arg {
            Arg::Dot { .. } => dot.clone(),
            Arg::Nil { .. } => {
                return match param {
                    Param::Any => Ok(Val::Nil),
                    // Go hands the built-ins a zero reflect.Value for nil.
                    Param::Reflect => Ok(Val::Invalid),
                    Param::Str => Err(self.error("cannot assign nil to string")),
                };
            }
            Arg::Field { idents, .. } => {
                self.eval_field_chain(dot.clone(), idents, std::slice::from_ref(arg), None)?
            }
            Arg::Variable { idents, .. } => self.eval_variable(arg, idents, &[], None)?,
            Arg::Pipe(p) => self.eval_pipeline(dot, p)?,
            Arg::Identifier { name, .. } => {
                self.eval_function(dot, arg, name, At::Arg(arg), &[], None)?
            }
            Arg::Chain { node, fields, .. } => {
                self.eval_chain(dot, arg, node, fields, &[], None)?
            }
            Arg::Bool { value, .. } => {
                return match param {
                    Param::Str => Err(self.error(format!("expected string; found {arg}"))),
                    _ => Ok(Val::Bool(*value)),
                };
            }
            Arg::Number { .. } => {
                return match param {
                    Param::Str => Err(self.error(format!("expected string; found {arg}"))),
                    _ => self.ideal_constant(arg),
                };
            }
            Arg::String { text, .. } => {
                self.charge(text.len())?;
                return Ok(Val::Str(Cow::Owned(text.clone())));
            }
        };
        self.validate_type(value, param)
    }
}

fn budget_message() -> String {
    format!(
        "the values this template builds exceed {} MiB",
        MAX_ALLOCATED >> 20
    )
}

/// `budget`: how many more bytes this execution may build (only `printf` can amplify its
/// input enough to need checking while it runs).
fn call_builtin<'d>(name: &str, argv: &[Val<'d>], budget: usize) -> Result<Val<'d>, String> {
    match name {
        "not" => Ok(Val::Bool(!argv[0].truth())),
        "len" => length(&argv[0]).map(Val::Int),
        "index" => index(&argv[0], &argv[1..]),
        "slice" => slice(&argv[0], &argv[1..]),
        "print" => Ok(Val::owned(sprint(argv))),
        "println" => Ok(Val::owned(sprintln(argv))),
        "printf" => {
            let format = if let Val::Str(s) = &argv[0] {
                s.as_ref()
            } else {
                &b""[..]
            };
            sprintf(format, &argv[1..], budget)
                .map(Val::owned)
                .map_err(|_| budget_message())
        }
        "html" => Ok(Val::owned(html_escape(&eval_args(argv)))),
        "js" => Ok(Val::owned(js_escape(&eval_args(argv)))),
        "urlquery" => Ok(Val::owned(query_escape(&eval_args(argv)).into_bytes())),
        "eq" => eq(&argv[0], &argv[1..]).map(Val::Bool),
        "ne" => eq(&argv[0], &argv[1..]).map(|b| Val::Bool(!b)),
        "lt" => lt(&argv[0], &argv[1]).map(Val::Bool),
        "le" => le(&argv[0], &argv[1]).map(Val::Bool),
        "gt" => le(&argv[0], &argv[1]).map(|b| Val::Bool(!b)),
        "ge" => lt(&argv[0], &argv[1]).map(|b| Val::Bool(!b)),
        "call" => match &argv[0] {
            Val::Invalid | Val::Nil => Err("call of nil".into()),
            other => Err(format!("non-function of type {}", other.type_name())),
        },
        _ => Err(format!("{name} is not a defined function")),
    }
}

/// Go's `evalArgs`: one string argument as it is, otherwise `fmt.Sprint`.
fn eval_args(argv: &[Val<'_>]) -> Vec<u8> {
    if let [Val::Str(s)] = argv {
        return s.to_vec();
    }
    let printable: Vec<Val<'_>> = argv
        .iter()
        .map(|v| {
            if let Val::Nil = v {
                Val::Invalid
            } else {
                v.clone()
            }
        })
        .collect();
    sprint(&printable)
}

fn length(item: &Val<'_>) -> Result<i64, String> {
    match item {
        Val::Str(s) => Ok(s.len() as i64),
        Val::Map(m) => Ok(m.len() as i64),
        Val::Invalid | Val::Nil => Err("reflect: call of reflect.Value.Type on zero Value".into()),
        other => Err(format!("len of type {}", other.type_name())),
    }
}

fn index_arg(index: &Val<'_>, cap: usize) -> Result<usize, String> {
    let x: i64 = match index {
        Val::Int(n) => *n,
        Val::Uint8(n) => i64::from(*n),
        Val::Invalid | Val::Nil => return Err("cannot index slice/array with nil".into()),
        other => {
            return Err(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            ))
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn index<'d>(item: &Val<'d>, indexes: &[Val<'d>]) -> Result<Val<'d>, String> {
    let mut item = item.clone();
    if matches!(item, Val::Invalid | Val::Nil) {
        return Err("index of untyped nil".into());
    }
    for index in indexes {
        item = match item {
            Val::Str(s) => {
                let x = index_arg(index, s.len())?;
                match s.get(x) {
                    Some(&b) => Val::Uint8(b),
                    None => return Err("reflect: string index out of range".into()),
                }
            }
            Val::Map(m) => match index {
                Val::Str(key) => {
                    let key = String::from_utf8_lossy(key);
                    m.get(key.as_ref()).map_or(Val::str(""), |v| Val::str(v))
                }
                Val::Invalid | Val::Nil => {
                    return Err("value is nil; should be of type string".into())
                }
                other => {
                    return Err(format!(
                        "value has type {}; should be string",
                        other.type_name()
                    ))
                }
            },
            other => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(item)
}

fn slice<'d>(item: &Val<'d>, indexes: &[Val<'d>]) -> Result<Val<'d>, String> {
    let s = match item {
        Val::Invalid | Val::Nil => return Err("slice of untyped nil".into()),
        _ if indexes.len() > 3 => return Err(format!("too many slice indexes: {}", indexes.len())),
        Val::Str(s) => s,
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    if indexes.len() == 3 {
        return Err("cannot 3-index slice a string".into());
    }
    let mut idx = [0, s.len()];
    for (i, index) in indexes.iter().enumerate() {
        idx[i] = index_arg(index, s.len())?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    Ok(Val::owned(s[idx[0]..idx[1]].to_vec()))
}

#[derive(PartialEq, Clone, Copy)]
enum BasicKind {
    Bool,
    Int,
    Uint,
    Float,
    Str,
}

fn basic_kind(v: &Val<'_>) -> Result<BasicKind, String> {
    match v {
        Val::Bool(_) => Ok(BasicKind::Bool),
        Val::Int(_) => Ok(BasicKind::Int),
        Val::Uint8(_) => Ok(BasicKind::Uint),
        Val::Float(_) => Ok(BasicKind::Float),
        Val::Str(_) => Ok(BasicKind::Str),
        _ => Err("invalid type for comparison".into()),
    }
}

fn as_int(v: &Val<'_>) -> i64 {
    match v {
        Val::Int(n) => *n,
        Val::Uint8(n) => i64::from(*n),
        _ => 0,
    }
}

fn eq(a: &Val<'_>, others: &[Val<'_>]) -> Result<bool, String> {
    if others.is_empty() {
        return Err("missing argument for comparison".into());
    }
    if let Val::Map(m) = a {
        let mut shown = Vec::new();
        Val::Map(m).write_plain(&mut shown);
        return Err(format!(
            "uncomparable type map[string]string: {}",
            String::from_utf8_lossy(&shown)
        ));
    }
    let k1 = basic_kind(a);
    for b in others {
        let k2 = basic_kind(b);
        let truth = match (k1.clone(), k2.clone()) {
            (Ok(x), Ok(y)) if x == y => match (a, b) {
                (Val::Bool(x), Val::Bool(y)) => x == y,
                (Val::Float(x), Val::Float(y)) => x == y,
                (Val::Str(x), Val::Str(y)) => x == y,
                _ => as_int(a) == as_int(b),
            },
            (Ok(BasicKind::Int), Ok(BasicKind::Uint))
            | (Ok(BasicKind::Uint), Ok(BasicKind::Int)) => as_int(a) == as_int(b),
            (Err(_), Err(_)) => {
                // Two non-basic values: equal only when both are nil.
                matches!(a, Val::Invalid | Val::Nil) && matches!(b, Val::Invalid | Val::Nil)
            }
            _ => {
                if !matches!(a, Val::Invalid) && !matches!(b, Val::Invalid) {
                    return Err("incompatible types for comparison".into());
                }
                false
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(a: &Val<'_>, b: &Val<'_>) -> Result<bool, String> {
    let k1 = basic_kind(a)?;
    let k2 = basic_kind(b)?;
    if k1 != k2 {
        return match (k1, k2) {
            (BasicKind::Int, BasicKind::Uint) | (BasicKind::Uint, BasicKind::Int) => {
                Ok(as_int(a) < as_int(b))
            }
            _ => Err("incompatible types for comparison".into()),
        };
    }
    match (a, b) {
        (Val::Bool(_), _) => Err("invalid type for comparison".into()),
        (Val::Float(x), Val::Float(y)) => Ok(x < y),
        (Val::Str(x), Val::Str(y)) => Ok(x < y),
        _ => Ok(as_int(a) < as_int(b)),
    }
}

fn le(a: &Val<'_>, b: &Val<'_>) -> Result<bool, String> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}

/// Go's `template.HTMLEscapeString`.
fn html_escape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"&#34;"),
            b'\'' => out.extend_from_slice(b"&#39;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            0 => out.extend_from_slice("\u{FFFD}".as_bytes()),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
fn js_escape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c < 0x80 {
            match c {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\'' => out.extend_from_slice(b"\\'"),
                b'"' => out.extend_from_slice(b"\\\""),
                b'<' => out.extend_from_slice(b"\\u003C"),
                b'>' => out.extend_from_slice(b"\\u003E"),
                b'&' => out.extend_from_slice(b"\\u0026"),
                b'=' => out.extend_from_slice(b"\\u003D"),
                c if c < b' ' => out.extend_from_slice(format!("\\u00{c:02X}").as_bytes()),
                c => out.push(c),
            }
            i += 1;
            continue;
        }
        let (ch, size) = decode_rune(&s[i..]);
        if is_print(ch) {
            out.extend_from_slice(&s[i..i + size]);
        } else {
            out.extend_from_slice(format!("\\u{:04X}", ch as u32).as_bytes());
        }
        i += size;
    }
    out
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(s: &[u8]) -> String {
    percent_escape(s, true)
}

/// Go's `url.PathEscape`.
pub(crate) fn path_escape(s: &[u8]) -> String {
    percent_escape(s, false)
}

fn percent_escape(s: &[u8], query: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s {
        let keep = c.is_ascii_alphanumeric()
            || matches!(c, b'-' | b'_' | b'.' | b'~')
            || (!query && matches!(c, b'$' | b'&' | b'+' | b':' | b'=' | b'@'));
        if keep {
            out.push(c as char);
        } else if query && c == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}
