//! The lexer, after Go 1.19's `text/template/parse/lex.go`: same tokens, same
//! trimming rules, same error texts.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ItemKind {
    Error,
    Bool,
    Char,
    CharConstant,
    Comment,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords.
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl ItemKind {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            ItemKind::Block
                | ItemKind::Break
                | ItemKind::Continue
                | ItemKind::Dot
                | ItemKind::Define
                | ItemKind::Else
                | ItemKind::End
                | ItemKind::If
                | ItemKind::Nil
                | ItemKind::Range
                | ItemKind::Template
                | ItemKind::With
        )
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub kind: ItemKind,
    pub pos: usize,
    pub val: String,
    pub line: usize,
}

impl std::fmt::Display for Item {
    /// Go's `item.String()`, used in parse errors.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            ItemKind::Eof => write!(f, "EOF"),
            ItemKind::Error => write!(f, "{}", self.val),
            k if k.is_keyword() => write!(f, "<{}>", self.val),
            // Go measures bytes but `%.10q` keeps ten characters.
            _ if self.val.len() > 10 => {
                let head: String = self.val.chars().take(10).collect();
                write!(f, "{}...", super::fmt::quote(head.as_bytes()))
            }
            _ => write!(f, "{}", super::fmt::quote(self.val.as_bytes())),
        }
    }
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";
const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";
/// `"- "` or `" -"` beside a delimiter.
const TRIM_LEN: usize = 2;

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn has_left_trim(s: &str) -> bool {
    let mut c = s.chars();
    c.next() == Some('-') && c.next().is_some_and(is_space)
}

fn has_right_trim(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(is_space) && c.next() == Some('-')
}

fn left_trim_len(s: &str) -> usize {
    s.len() - s.trim_start_matches(is_space).len()
}

fn right_trim_len(s: &str) -> usize {
    s.len() - s.trim_end_matches(is_space).len()
}

pub(crate) struct Lexer<'s> {
    input: &'s str,
    start: usize,
    pos: usize,
    paren_depth: i32,
    items: Vec<Item>,
    /// A position and its line, where [`Lexer::line_at`] last counted to.
    line_mark: std::cell::Cell<(usize, usize)>,
}

enum State {
    Text,
    LeftDelim,
    Comment,
    RightDelim,
    InsideAction,
    Done,
}

/// Lexes the whole input. The list ends with an `Eof` or an `Error` item.
pub(crate) fn lex(input: &str) -> Vec<Item> {
    let mut l = Lexer {
        input,
        start: 0,
        pos: 0,
        paren_depth: 0,
        items: Vec::new(),
        line_mark: std::cell::Cell::new((0, 1)),
    };
    let mut state = State::Text;
    loop {
        state = match state {
            State::Text => l.text(),
            State::LeftDelim => l.left_delim(),
            State::Comment => l.comment(),
            State::RightDelim => l.right_delim(),
            State::InsideAction => l.inside_action(),
            State::Done => break,
        };
    }
    l.items
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        self.input.get(self.pos..).unwrap_or("")
    }

    /// The 1-based line of `pos`. Items are emitted in order, so counting goes on from the
    /// last answer: counting from the start each time made lexing quadratic.
    fn line_at(&self, pos: usize) -> usize {
        let pos = pos.min(self.input.len());
        let (mut counted_to, mut line) = self.line_mark.get();
        if pos < counted_to {
            (counted_to, line) = (0, 1);
        }
        line += self.input.as_bytes()[counted_to..pos]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line_mark.set((pos, line));
        line
    }

    fn next(&mut self) -> Option<char> {
        let c = self.rest().chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn backup(&mut self, c: Option<char>) {
        if let Some(c) = c {
            self.pos -= c.len_utf8();
        }
    }

    fn emit(&mut self, kind: ItemKind) {
        let val = self
            .input
            .get(self.start..self.pos)
            .unwrap_or("")
            .to_owned();
        let line = self.line_at(self.start);
        self.items.push(Item {
            kind,
            pos: self.start,
            val,
            line,
        });
        self.start = self.pos;
    }

    fn ignore(&mut self) {
        self.start = self.pos;
    }

    fn error(&mut self, message: String) -> State {
        let line = self.line_at(self.start);
        self.items.push(Item {
            kind: ItemKind::Error,
            pos: self.start,
            val: message,
            line,
        });
        State::Done
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        if has_right_trim(rest) && rest.get(TRIM_LEN..).is_some_and(|r| r.starts_with(RIGHT)) {
            return (true, true);
        }
        (rest.starts_with(RIGHT), false)
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            // The whole right delimiter, as Go checks it: a lone `}` is a bad character.
            Some(_) => self.rest().starts_with(RIGHT),
        }
    }

    fn text(&mut self) -> State {
        if let Some(x) = self.rest().find(LEFT) {
            let delim_at = self.pos + x;
            let mut trim = 0;
            if has_left_trim(self.input.get(delim_at + LEFT.len()..).unwrap_or("")) {
                trim = right_trim_len(self.input.get(self.start..delim_at).unwrap_or(""));
            }
            self.pos = delim_at - trim;
            if self.pos > self.start {
                self.emit(ItemKind::Text);
            }
            self.pos += trim;
            self.ignore();
            return State::LeftDelim;
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.emit(ItemKind::Text);
        }
        self.emit(ItemKind::Eof);
        State::Done
    }

    fn left_delim(&mut self) -> State {
        self.pos += LEFT.len();
        let trim = has_left_trim(self.rest());
        let after_marker = if trim { TRIM_LEN } else { 0 };
        if self
            .input
            .get(self.pos + after_marker..)
            .is_some_and(|r| r.starts_with(LEFT_COMMENT))
        {
            self.pos += after_marker;
            self.ignore();
            return State::Comment;
        }
        self.emit(ItemKind::LeftDelim);
        self.pos += after_marker;
        self.ignore();
        self.paren_depth = 0;
        State::InsideAction
    }

    fn comment(&mut self) -> State {
        self.pos += LEFT_COMMENT.len();
        let Some(x) = self.rest().find(RIGHT_COMMENT) else {
            return self.error("unclosed comment".into());
        };
        self.pos += x + RIGHT_COMMENT.len();
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return self.error("comment ends before closing delimiter".into());
        }
        self.emit(ItemKind::Comment);
        if trim {
            self.pos += TRIM_LEN;
        }
        self.pos += RIGHT.len();
        if trim {
            self.pos += left_trim_len(self.rest());
        }
        self.ignore();
        State::Text
    }

    fn right_delim(&mut self) -> State {
        let trim = has_right_trim(self.rest());
        if trim {
            self.pos += TRIM_LEN;
            self.ignore();
        }
        self.pos += RIGHT.len();
        self.emit(ItemKind::RightDelim);
        if trim {
            self.pos += left_trim_len(self.rest());
            self.ignore();
        }
        State::Text
    }

    fn inside_action(&mut self) -> State {
        loop {
            let (delim, _) = self.at_right_delim();
            if delim {
                if self.paren_depth == 0 {
                    return State::RightDelim;
                }
                return self.error("unclosed left paren".into());
            }
            let c = self.next();
            match c {
                None => return self.error("unclosed action".into()),
                Some(c) if is_space(c) => {
                    self.backup(Some(c));
                    if let Some(state) = self.space() {
                        return state;
                    }
                }
                Some('=') => self.emit(ItemKind::Assign),
                Some(':') => {
                    if self.next() != Some('=') {
                        return self.error("expected :=".into());
                    }
                    self.emit(ItemKind::Declare);
                }
                Some('|') => self.emit(ItemKind::Pipe),
                Some('"') => {
                    if let Some(state) =
                        self.quoted('"', ItemKind::String, "unterminated quoted string")
                    {
                        return state;
                    }
                }
                Some('`') => {
                    if let Some(state) = self.raw_quote() {
                        return state;
                    }
                }
                Some('$') => {
                    if let Some(state) = self.variable() {
                        return state;
                    }
                }
                Some('\'') => {
                    let unterminated = "unterminated character constant";
                    if let Some(state) = self.quoted('\'', ItemKind::CharConstant, unterminated) {
                        return state;
                    }
                }
                Some('.') if self.peek().is_some_and(|n| !n.is_ascii_digit()) => {
                    if let Some(state) = self.field_or_variable(ItemKind::Field) {
                        return state;
                    }
                }
                Some(c @ ('.' | '+' | '-' | '0'..='9')) => {
                    self.backup(Some(c));
                    if let Some(state) = self.number() {
                        return state;
                    }
                }
                Some(c) if is_alphanumeric(c) => {
                    self.backup(Some(c));
                    if let Some(state) = self.identifier() {
                        return state;
                    }
                }
                Some('(') => {
                    self.emit(ItemKind::LeftParen);
                    self.paren_depth += 1;
                }
                Some(')') => {
                    self.emit(ItemKind::RightParen);
                    self.paren_depth -= 1;
                    if self.paren_depth < 0 {
                        return self.error("unexpected right paren U+0029 ')'".into());
                    }
                }
                Some(c) if c.is_ascii() && !c.is_ascii_control() => self.emit(ItemKind::Char),
                Some(c) => {
                    return self.error(format!(
                        "unrecognized character in action: {}",
                        unicode_name(c)
                    ))
                }
            }
        }
    }

    /// Returns a state only when lexing must leave the action loop.
    fn space(&mut self) -> Option<State> {
        let mut spaces = 0;
        while self.peek().is_some_and(is_space) {
            self.next();
            spaces += 1;
        }
        let before = self.pos - 1;
        let from_last_space = self.input.get(before..).unwrap_or("");
        if has_right_trim(from_last_space)
            && self
                .input
                .get(before + TRIM_LEN..)
                .is_some_and(|r| r.starts_with(RIGHT))
        {
            self.pos -= 1;
            if spaces == 1 {
                return Some(State::RightDelim);
            }
        }
        self.emit(ItemKind::Space);
        None
    }

    fn identifier(&mut self) -> Option<State> {
        loop {
            let c = self.next();
            if c.is_some_and(is_alphanumeric) {
                continue;
            }
            self.backup(c);
            let word = self
                .input
                .get(self.start..self.pos)
                .unwrap_or("")
                .to_owned();
            if !self.at_terminator() {
                return Some(
                    self.error(format!("bad character {}", unicode_name_opt(self.peek()))),
                );
            }
            let kind = match word.as_str() {
                "block" => ItemKind::Block,
                "break" => ItemKind::Break,
                "continue" => ItemKind::Continue,
                "define" => ItemKind::Define,
                "else" => ItemKind::Else,
                "end" => ItemKind::End,
                "if" => ItemKind::If,
                "range" => ItemKind::Range,
                "nil" => ItemKind::Nil,
                "template" => ItemKind::Template,
                "with" => ItemKind::With,
                "." => ItemKind::Dot,
                w if w.starts_with('.') => ItemKind::Field,
                "true" | "false" => ItemKind::Bool,
                _ => ItemKind::Identifier,
            };
            self.emit(kind);
            return None;
        }
    }

    fn variable(&mut self) -> Option<State> {
        if self.at_terminator() {
            self.emit(ItemKind::Variable);
            return None;
        }
        self.field_or_variable(ItemKind::Variable)
    }

    fn field_or_variable(&mut self, kind: ItemKind) -> Option<State> {
        if self.at_terminator() {
            self.emit(if kind == ItemKind::Variable {
                ItemKind::Variable
            } else {
                ItemKind::Dot
            });
            return None;
        }
        let mut c;
        loop {
            c = self.next();
            if !c.is_some_and(is_alphanumeric) {
                self.backup(c);
                break;
            }
        }
        if !self.at_terminator() {
            return Some(self.error(format!("bad character {}", unicode_name_opt(c))));
        }
        self.emit(kind);
        None
    }

    /// A `'…'` or `"…"` literal whose opening quote was read: backslash
    /// escapes, no line breaks.
    fn quoted(&mut self, close: char, kind: ItemKind, unterminated: &str) -> Option<State> {
        loop {
            match self.next() {
                Some('\\') => {
                    if matches!(self.next(), None | Some('\n')) {
                        return Some(self.error(unterminated.into()));
                    }
                }
                None | Some('\n') => return Some(self.error(unterminated.into())),
                Some(c) if c == close => break,
                Some(_) => {}
            }
        }
        self.emit(kind);
        None
    }

    fn number(&mut self) -> Option<State> {
        if !self.scan_number() {
            let text = self
                .input
                .get(self.start..self.pos)
                .unwrap_or("")
                .to_owned();
            return Some(self.error(format!(
                "bad number syntax: {}",
                super::fmt::quote(text.as_bytes())
            )));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            if !self.scan_number() || !self.input.get(..self.pos).is_some_and(|s| s.ends_with('i'))
            {
                let text = self
                    .input
                    .get(self.start..self.pos)
                    .unwrap_or("")
                    .to_owned();
                return Some(self.error(format!(
                    "bad number syntax: {}",
                    super::fmt::quote(text.as_bytes())
                )));
            }
            self.emit(ItemKind::Complex);
        } else {
            self.emit(ItemKind::Number);
        }
        None
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alphanumeric) {
            self.next();
            return false;
        }
        true
    }

    fn raw_quote(&mut self) -> Option<State> {
        loop {
            match self.next() {
                None => return Some(self.error("unterminated raw quoted string".into())),
                Some('`') => break,
                Some(_) => {}
            }
        }
        self.emit(ItemKind::RawString);
        None
    }
}

/// Go's `%#U`: `U+0041 'A'`.
fn unicode_name(c: char) -> String {
    format!("U+{:04X} '{c}'", c as u32)
}

fn unicode_name_opt(c: Option<char>) -> String {
    match c {
        Some(c) => unicode_name(c),
        None => "U+FFFFFFFF".into(),
    }
}
