//! Strict JSON validation (RFC 8259), as gjson's `Valid`.
//!
//! Iterative rather than recursive, so a hostile document nested a million
//! levels deep costs memory in a vector instead of overflowing the stack.

/// Whether `json` is one valid JSON value, with optional surrounding whitespace.
pub fn valid(json: &str) -> bool {
    Validator {
        b: json.as_bytes(),
        i: 0,
    }
    .run()
}

struct Validator<'a> {
    b: &'a [u8],
    i: usize,
}

#[derive(Clone, Copy)]
enum Container {
    Object,
    Array,
}

impl Validator<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn run(&mut self) -> bool {
        let mut stack: Vec<Container> = Vec::new();
        self.ws();
        // Each turn reads one value, then climbs out of finished containers.
        'value: loop {
            self.ws();
            match self.peek() {
                Some(b'{') => {
                    self.i += 1;
                    self.ws();
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                    } else {
                        if !self.key() {
                            return false;
                        }
                        stack.push(Container::Object);
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    self.ws();
                    if self.peek() == Some(b']') {
                        self.i += 1;
                    } else {
                        stack.push(Container::Array);
                        continue 'value;
                    }
                }
                Some(b'"') => {
                    if !self.string() {
                        return false;
                    }
                }
                Some(b'-' | b'0'..=b'9') => {
                    if !self.number() {
                        return false;
                    }
                }
                Some(b't') => {
                    if !self.word(b"true") {
                        return false;
                    }
                }
                Some(b'f') => {
                    if !self.word(b"false") {
                        return false;
                    }
                }
                Some(b'n') => {
                    if !self.word(b"null") {
                        return false;
                    }
                }
                _ => return false,
            }
            // After a value: close containers or move to the next member.
            loop {
                self.ws();
                let Some(top) = stack.last().copied() else {
                    return self.i == self.b.len();
                };
                match (top, self.peek()) {
                    (_, Some(b',')) => {
                        self.i += 1;
                        if matches!(top, Container::Object) {
                            self.ws();
                            if !self.key() {
                                return false;
                            }
                        }
                        continue 'value;
                    }
                    (Container::Object, Some(b'}')) | (Container::Array, Some(b']')) => {
                        self.i += 1;
                        stack.pop();
                    }
                    _ => return false,
                }
            }
        }
    }

    /// A member key and its colon.
    fn key(&mut self) -> bool {
        if self.peek() != Some(b'"') || !self.string() {
            return false;
        }
        self.ws();
        if self.peek() != Some(b':') {
            return false;
        }
        self.i += 1;
        true
    }

    fn word(&mut self, word: &[u8]) -> bool {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    fn string(&mut self) -> bool {
        self.i += 1;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'"' => return true,
                c if c < b' ' => return false,
                b'\\' => match self.peek() {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                    Some(b'u') => {
                        let hex = self.b.get(self.i + 1..self.i + 5);
                        if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                            return false;
                        }
                        self.i += 5;
                    }
                    _ => return false,
                },
                _ => {}
            }
        }
        false
    }

    fn digits(&mut self) -> bool {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i > start
    }

    fn number(&mut self) -> bool {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return false,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !self.digits() {
                return false;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !self.digits() {
                return false;
            }
        }
        true
    }
}
