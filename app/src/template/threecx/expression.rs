//! 3CX expressions (`[Variable]`, `[IIf(condition,then,else)]`, `[UrlEncode(text)]`, with
//! conditions written `A==B`, `A!=B`, `||`, `&&`) read into a small tree, and written back
//! as Go `text/template` strings for the vendor's format.
//!
//! What a variable becomes depends on where it is used (the number looked up, the number of
//! a call, a custom field…): the caller passes a [`Bindings`] that answers for each name.

use crate::lang::functions::json_escape;

/// How deeply `[IIf(…)]` may nest in one expression. The text comes from an uploaded file,
/// so it must not choose the recursion depth; real templates nest 3 levels.
pub const MAX_EXPRESSION_DEPTH: usize = 16;

/// A piece of a 3CX expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Variable(String),
    Call { name: String, args: Vec<Vec<Piece>> },
}

/// Reads `text` into pieces. A `[` that does not start a name followed by `]` or `(` is
/// literal text (JSON arrays in a body, for instance).
pub fn parse(text: &str) -> Vec<Piece> {
    let chars: Vec<char> = text.chars().collect();
    let mut at = 0;
    parse_until(&chars, &mut at, &[], 0)
}

fn parse_until(chars: &[char], at: &mut usize, stops: &[char], depth: usize) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut nesting = 0usize;
    while *at < chars.len() {
        let c = chars[*at];
        if nesting == 0 && stops.contains(&c) {
            break;
        }
        if c == '[' && depth < MAX_EXPRESSION_DEPTH {
            let mut probe = *at + 1;
            if let Some(piece) = parse_bracket(chars, &mut probe, depth + 1) {
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(piece);
                *at = probe;
                continue;
            }
        }
        // Parentheses in literal text (a condition's "(x)") must not end an argument early.
        match c {
            '(' => nesting += 1,
            ')' if nesting > 0 => nesting -= 1,
            _ => {}
        }
        text.push(c);
        *at += 1;
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    pieces
}

/// After a `[`: a name, then `]` (a variable) or `(args)]` (a method); `None` when the text
/// is not an expression.
fn parse_bracket(chars: &[char], at: &mut usize, depth: usize) -> Option<Piece> {
    let start = *at;
    while *at < chars.len()
        && (chars[*at].is_alphanumeric() || chars[*at] == '_' || chars[*at] == '.')
    {
        *at += 1;
    }
    let name: String = chars[start..*at].iter().collect();
    if name.is_empty() {
        return None;
    }
    match chars.get(*at) {
        Some(']') => {
            *at += 1;
            Some(Piece::Variable(name))
        }
        Some('(') => {
            *at += 1;
            let mut args = Vec::new();
            loop {
                args.push(parse_until(chars, at, &[',', ')'], depth));
                match chars.get(*at) {
                    Some(',') => *at += 1,
                    Some(')') => {
                        *at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
            if chars.get(*at) != Some(&']') {
                return None;
            }
            *at += 1;
            Some(Piece::Call { name, args })
        }
        _ => None,
    }
}

/// What a variable stands for in the vendor's format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    /// A Go pipeline: `.Phone`, `TimeFormat .StartTimeUnix "yyyy" "1"`.
    Pipeline(String),
    /// Fixed text.
    Literal(String),
    /// One of two bindings, by a Go condition.
    Choice {
        condition: String,
        then: Box<Binding>,
        otherwise: Box<Binding>,
    },
}

impl Binding {
    pub fn field(name: &str) -> Binding {
        Binding::Pipeline(format!(".{name}"))
    }

    pub fn choice(condition: impl Into<String>, then: Binding, otherwise: Binding) -> Binding {
        Binding::Choice {
            condition: condition.into(),
            then: Box::new(then),
            otherwise: Box::new(otherwise),
        }
    }
}

/// Answers what each 3CX variable is, and collects what could not be carried over.
pub trait Bindings {
    fn bind(&mut self, name: &str) -> Binding;
    /// Something in the expression has no equivalent (a method, an operand).
    fn unsupported(&mut self, what: String);
}

/// Where the text goes, which decides how inserted values are escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// As it is (subjects, descriptions, header values, a base URL).
    Plain,
    /// Inside a JSON string literal.
    JsonString,
    /// A URL's query value or a form body's value.
    Query,
}

/// Writes the pieces as a Go template string.
pub fn render(pieces: &[Piece], context: Context, bindings: &mut dyn Bindings) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(&literal(text, context)),
            Piece::Variable(name) => {
                let binding = bindings.bind(name);
                out.push_str(&render_binding(&binding, context));
            }
            Piece::Call { name, args } => out.push_str(&render_call(name, args, context, bindings)),
        }
    }
    out
}

fn render_call(
    name: &str,
    args: &[Vec<Piece>],
    context: Context,
    bindings: &mut dyn Bindings,
) -> String {
    match (name.to_ascii_lowercase().as_str(), args) {
        ("iif", [condition, then, otherwise]) => {
            let condition = condition_of(condition, bindings);
            let then = render(then, context, bindings);
            let otherwise = render(otherwise, context, bindings);
            match condition {
                _ if then == otherwise => then,
                Condition::True => then,
                Condition::False => otherwise,
                Condition::Go(go) if otherwise.is_empty() => {
                    format!("{{{{if {go}}}}}{then}{{{{end}}}}")
                }
                Condition::Go(go) => {
                    format!("{{{{if {go}}}}}{then}{{{{else}}}}{otherwise}{{{{end}}}}")
                }
            }
        }
        // In a query the value is encoded anyway; elsewhere 3CX's encoding is Go's urlquery.
        ("urlencode", [text]) => match context {
            Context::Query => render(text, context, bindings),
            _ => match single_pipeline(text, bindings) {
                Some(pipeline) => wrap("urlquery", &pipeline, context),
                None => render(text, context, bindings),
            },
        },
        _ => {
            bindings.unsupported(format!(
                "the method {name}({} argument(s)) has no equivalent; its first argument is used as it is",
                args.len()
            ));
            args.first()
                .map(|first| render(first, context, bindings))
                .unwrap_or_default()
        }
    }
}

/// The pipeline of an argument that is exactly one variable bound to a pipeline.
fn single_pipeline(pieces: &[Piece], bindings: &mut dyn Bindings) -> Option<String> {
    match pieces {
        [Piece::Variable(name)] => match bindings.bind(name) {
            Binding::Pipeline(pipeline) => Some(pipeline),
            _ => None,
        },
        _ => None,
    }
}

fn wrap(function: &str, pipeline: &str, context: Context) -> String {
    let inner = format!("{function} {}", argument(pipeline));
    render_binding(&Binding::Pipeline(inner), context)
}

/// A pipeline as one argument of a function call.
fn argument(pipeline: &str) -> String {
    if pipeline.contains(' ') {
        format!("({pipeline})")
    } else {
        pipeline.to_string()
    }
}

pub fn render_binding(binding: &Binding, context: Context) -> String {
    match binding {
        Binding::Literal(text) => literal(text, context),
        Binding::Pipeline(pipeline) => match context {
            Context::Plain => format!("{{{{{pipeline}}}}}"),
            Context::JsonString => format!("{{{{JsonEscape {}}}}}", argument(pipeline)),
            Context::Query => format!("{{{{urlquery {}}}}}", argument(pipeline)),
        },
        Binding::Choice {
            condition,
            then,
            otherwise,
        } => format!(
            "{{{{if {condition}}}}}{}{{{{else}}}}{}{{{{end}}}}",
            render_binding(then, context),
            render_binding(otherwise, context)
        ),
    }
}

fn literal(text: &str, context: Context) -> String {
    let text = match context {
        Context::JsonString => json_escape(text.as_bytes()),
        Context::Query
            if !text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c)) =>
        {
            return format!("{{{{urlquery {}}}}}", go_string(text));
        }
        _ => text.to_string(),
    };
    // Go template actions start with "{{": such text is written as a string constant.
    text.replace("{{", "{{\"{{\"}}")
}

/// A Go string constant. JSON's escapes are all Go escapes too (`\uXXXX` included), so the
/// project's JSON escaper writes it.
pub fn go_string(text: &str) -> String {
    format!("\"{}\"", json_escape(text.as_bytes()))
}

/// A condition, folded where its value is known when converting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    True,
    False,
    Go(String),
}

impl Condition {
    fn not(self) -> Condition {
        match self {
            Condition::True => Condition::False,
            Condition::False => Condition::True,
            Condition::Go(go) => Condition::Go(format!("not ({go})")),
        }
    }

    fn and(self, other: Condition) -> Condition {
        match (self, other) {
            (Condition::False, _) | (_, Condition::False) => Condition::False,
            (Condition::True, other) | (other, Condition::True) => other,
            (Condition::Go(a), Condition::Go(b)) => Condition::Go(format!("and ({a}) ({b})")),
        }
    }

    fn or(self, other: Condition) -> Condition {
        match (self, other) {
            (Condition::True, _) | (_, Condition::True) => Condition::True,
            (Condition::False, other) | (other, Condition::False) => other,
            (Condition::Go(a), Condition::Go(b)) => Condition::Go(format!("or ({a}) ({b})")),
        }
    }
}

/// `A==B`, `A!=B`, joined by `||` and `&&` (`&&` binds tighter), as a Go condition.
pub fn condition_of(pieces: &[Piece], bindings: &mut dyn Bindings) -> Condition {
    split_top(pieces, "||")
        .into_iter()
        .map(|any| {
            split_top(&any, "&&")
                .into_iter()
                .map(|all| comparison(&all, bindings))
                .fold(Condition::True, Condition::and)
        })
        .fold(Condition::False, Condition::or)
}

/// Splits pieces at each `separator` found in their literal text.
fn split_top(pieces: &[Piece], separator: &str) -> Vec<Vec<Piece>> {
    let mut parts = vec![Vec::new()];
    for piece in pieces {
        match piece {
            Piece::Text(text) => {
                let mut chunks = text.split(separator).peekable();
                while let Some(chunk) = chunks.next() {
                    if !chunk.is_empty() {
                        parts
                            .last_mut()
                            .expect("never empty")
                            .push(Piece::Text(chunk.to_string()));
                    }
                    if chunks.peek().is_some() {
                        parts.push(Vec::new());
                    }
                }
            }
            other => parts.last_mut().expect("never empty").push(other.clone()),
        }
    }
    parts
}

fn comparison(pieces: &[Piece], bindings: &mut dyn Bindings) -> Condition {
    for (operator, equal) in [("!=", false), ("==", true)] {
        let sides = split_top(pieces, operator);
        if let [left, right] = sides.as_slice() {
            let left = operand(left, bindings);
            let right = operand(right, bindings);
            let same = equals(&left, &right);
            return if equal { same } else { same.not() };
        }
    }
    // A lone value is true when it is "True" (3CX's Boolean parameters).
    let value = operand(pieces, bindings);
    equals(&value, &Operand::Value(Binding::Literal("True".into())))
}

enum Operand {
    Value(Binding),
    Unsupported,
}

fn operand(pieces: &[Piece], bindings: &mut dyn Bindings) -> Operand {
    let trimmed: Vec<Piece> = pieces
        .iter()
        .filter_map(|piece| match piece {
            Piece::Text(text) if text.trim().is_empty() => None,
            Piece::Text(text) => Some(Piece::Text(text.trim().to_string())),
            other => Some(other.clone()),
        })
        .collect();
    match trimmed.as_slice() {
        [] => Operand::Value(Binding::Literal(String::new())),
        [Piece::Text(text)] => Operand::Value(Binding::Literal(unquote(text).to_string())),
        [Piece::Variable(name)] => Operand::Value(bindings.bind(name)),
        [Piece::Call { name, args }] if name.eq_ignore_ascii_case("iif") && args.len() == 3 => {
            let condition = condition_of(&args[0], bindings);
            match (
                operand(&args[1], bindings),
                operand(&args[2], bindings),
                condition,
            ) {
                (Operand::Value(then), _, Condition::True) => Operand::Value(then),
                (_, Operand::Value(otherwise), Condition::False) => Operand::Value(otherwise),
                (Operand::Value(then), Operand::Value(otherwise), Condition::Go(go)) => {
                    Operand::Value(Binding::choice(go, then, otherwise))
                }
                _ => Operand::Unsupported,
            }
        }
        _ => {
            bindings.unsupported(
                "a comparison operand that is neither one value nor one IIf has no equivalent; the comparison counts as false"
                    .into(),
            );
            Operand::Unsupported
        }
    }
}

fn unquote(text: &str) -> &str {
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
}

/// Whether two operands are equal, folded where both are known.
fn equals(left: &Operand, right: &Operand) -> Condition {
    let (Operand::Value(left), Operand::Value(right)) = (left, right) else {
        return Condition::False;
    };
    match (left, right) {
        (Binding::Literal(a), Binding::Literal(b)) => {
            if a == b {
                Condition::True
            } else {
                Condition::False
            }
        }
        (
            Binding::Choice {
                condition,
                then,
                otherwise,
            },
            other,
        )
        | (
            other,
            Binding::Choice {
                condition,
                then,
                otherwise,
            },
        ) => {
            let when = Condition::Go(condition.clone());
            let then = equals(
                &Operand::Value((**then).clone()),
                &Operand::Value(other.clone()),
            );
            let otherwise = equals(
                &Operand::Value((**otherwise).clone()),
                &Operand::Value(other.clone()),
            );
            when.clone().and(then).or(when.not().and(otherwise))
        }
        (Binding::Pipeline(a), Binding::Literal(b))
        | (Binding::Literal(b), Binding::Pipeline(a)) => {
            Condition::Go(format!("eq {} {}", argument(a), go_string(b)))
        }
        (Binding::Pipeline(a), Binding::Pipeline(b)) => {
            Condition::Go(format!("eq {} {}", argument(a), argument(b)))
        }
    }
}

/// The variable names an expression reads.
pub fn variables(pieces: &[Piece], out: &mut Vec<String>) {
    for piece in pieces {
        match piece {
            Piece::Variable(name) => {
                if !out.contains(name) {
                    out.push(name.clone());
                }
            }
            Piece::Call { args, .. } => args.iter().for_each(|arg| variables(arg, out)),
            Piece::Text(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Vec<String>);

    impl Bindings for Fixed {
        fn bind(&mut self, name: &str) -> Binding {
            match name {
                "Number" => Binding::field("Phone"),
                "CallType" => Binding::choice(
                    "eq .Call_Status \"Missed\"",
                    Binding::Literal("Missed".into()),
                    Binding::field("Communication_Type"),
                ),
                "Fixed" => Binding::Literal("True".into()),
                other => Binding::field(other),
            }
        }

        fn unsupported(&mut self, what: String) {
            self.0.push(what);
        }
    }

    fn go(text: &str, context: Context) -> (String, Vec<String>) {
        let mut bindings = Fixed(Vec::new());
        let out = render(&parse(text), context, &mut bindings);
        (out, bindings.0)
    }

    #[test]
    fn variables_and_text_become_actions_escaped_for_where_they_go() {
        assert_eq!(go("Call [Number]", Context::Plain).0, "Call {{.Phone}}");
        assert_eq!(
            go("say \"[Number]\"", Context::JsonString).0,
            "say \\\"{{JsonEscape .Phone}}\\\""
        );
        assert_eq!(
            go("+[Number]", Context::Query).0,
            "{{urlquery \"+\"}}{{urlquery .Phone}}"
        );
        assert_eq!(go("{{x}} [1,2]", Context::Plain).0, "{{\"{{\"}}x}} [1,2]");
    }

    #[test]
    fn go_string_constants_read_back_as_the_text() {
        for text in ["plain", "say \"hi\"\\", "tab\tnew\nline\u{1}\u{2028}"] {
            let template = format!("{{{{{}}}}}", go_string(text));
            let parsed = crate::lang::parse_go_template(&template).expect("parses");
            let out = parsed.execute(&Default::default()).expect("runs");
            assert_eq!(out, text);
        }
    }

    #[test]
    fn iif_becomes_if_and_known_comparisons_fold() {
        assert_eq!(
            go("[IIf([Number]==\"\",none,[Number])]", Context::Plain).0,
            "{{if eq .Phone \"\"}}none{{else}}{{.Phone}}{{end}}"
        );
        assert_eq!(go("[IIf([Fixed]==True,yes,no)]", Context::Plain).0, "yes");
        assert_eq!(
            go("[IIf([Fixed]!=True||[Number]==1,yes,no)]", Context::Plain).0,
            "{{if eq .Phone \"1\"}}yes{{else}}no{{end}}"
        );
        assert_eq!(
            go("[IIf([CallType]==Missed,m,o)]", Context::Plain).0,
            "{{if or (eq .Call_Status \"Missed\") (and (not (eq .Call_Status \"Missed\")) (eq .Communication_Type \"Missed\"))}}m{{else}}o{{end}}"
        );
    }

    #[test]
    fn unknown_methods_are_reported_and_keep_their_first_argument() {
        let (out, unsupported) = go("[ToUpper([Number])]", Context::Plain);
        assert_eq!(out, "{{.Phone}}");
        assert_eq!(unsupported.len(), 1);
        assert!(unsupported[0].contains("ToUpper"), "{unsupported:?}");
        assert_eq!(
            go("[UrlEncode([Number])]", Context::Plain).0,
            "{{urlquery .Phone}}"
        );
    }

    #[test]
    fn brackets_that_are_not_expressions_stay_text_and_depth_is_bounded() {
        assert_eq!(
            parse("[ ] [a b] [x("),
            vec![Piece::Text("[ ] [a b] [x(".into())]
        );
        fn depth(pieces: &[Piece]) -> usize {
            pieces
                .iter()
                .map(|p| match p {
                    Piece::Call { args, .. } => {
                        1 + args.iter().map(|a| depth(a)).max().unwrap_or(0)
                    }
                    _ => 0,
                })
                .max()
                .unwrap_or(0)
        }
        let deep = "[Trim(".repeat(100) + "x" + &")]".repeat(100);
        let pieces = parse(&deep);
        assert_eq!(
            depth(&pieces),
            MAX_EXPRESSION_DEPTH,
            "deeper brackets stay text"
        );
        let shallow = "[Trim(".repeat(3) + "x" + &")]".repeat(3);
        assert_eq!(depth(&parse(&shallow)), 3);
    }
}
