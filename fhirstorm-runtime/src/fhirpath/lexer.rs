//! FHIRPath's tokens, each with where it starts and ends in the text. Comments (`//` to the end
//! of the line, `/* … */`) and whitespace separate tokens and are dropped.

use super::error::{Error, ErrorKind};

/// A token's kind and, where it has one, its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A name: plain (`name`, `as`, `and`: keywords are told apart by the parser) or delimited
    /// (`` `given name` ``, its escapes resolved).
    Ident { name: String, delimited: bool },
    /// A string literal, its escapes resolved.
    Str(String),
    /// A number as written (`12`, `3.50`).
    Number(String),
    /// A long integer (`12L`), its digits.
    Long(String),
    /// `@2014-01-25`, `@2014-01-25T14:30`, `@T14:30` as written, without the `@`.
    DateTime(String),
    /// `%name` or `%'name'`.
    Env(String),
    /// `$this`, `$index`, `$total`: the name after `$`.
    Dollar(String),
    /// Punctuation and operators: `.`, `(`, `<=`, `!~`, ...
    Sym(&'static str),
    /// The end of the text.
    End,
}

/// A token and its byte range.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// The symbols, longest first so that `<=` wins over `<`.
const SYMBOLS: &[&str] =
    &["<=", ">=", "!=", "!~", ".", "[", "]", "(", ")", "{", "}", ",", "+", "-", "*", "/", "&", "|", "<", ">", "=", "~"];

/// The tokens of `text`, ending with [`Tok::End`].
pub(crate) fn tokens(text: &str) -> Result<Vec<Token>, Error> {
    let mut lexer = Lexer { text, at: 0 };
    let mut out = Vec::new();
    loop {
        let token = lexer.next()?;
        let end = token.tok == Tok::End;
        out.push(token);
        if end {
            return Ok(out);
        }
    }
}

struct Lexer<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn error(&self, at: usize, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Syntax, self.text, at, message)
    }

    /// Skips whitespace and comments.
    fn skip(&mut self) -> Result<(), Error> {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start();
            self.at += rest.len() - trimmed.len();
            if trimmed.starts_with("//") {
                self.at += trimmed.find('\n').unwrap_or(trimmed.len());
            } else if let Some(body) = trimmed.strip_prefix("/*") {
                let Some(end) = body.find("*/") else {
                    return Err(self.error(self.at, "a comment `/*` that is never closed"));
                };
                self.at += end + 4;
            } else {
                return Ok(());
            }
        }
    }

    fn next(&mut self) -> Result<Token, Error> {
        self.skip()?;
        let start = self.at;
        let rest = self.rest();
        let Some(c) = rest.chars().next() else {
            return Ok(Token { tok: Tok::End, start, end: start });
        };
        let tok = match c {
            '\'' => Tok::Str(self.quoted('\'')?),
            '`' => Tok::Ident { name: self.quoted('`')?, delimited: true },
            '0'..='9' => self.number(),
            '@' => self.date_time()?,
            '%' => {
                self.at += 1;
                match self.rest().chars().next() {
                    Some('\'') => Tok::Env(self.quoted('\'')?),
                    Some('`') => Tok::Env(self.quoted('`')?),
                    _ => match self.word() {
                        Some(name) => Tok::Env(name),
                        None => return Err(self.error(start, "`%` must be followed by a name")),
                    },
                }
            }
            '$' => {
                self.at += 1;
                match self.word() {
                    Some(name) => Tok::Dollar(name),
                    None => {
                        return Err(self.error(start, "`$` must be followed by a name (`$this`, `$index`, `$total`)"))
                    }
                }
            }
            c if c == '_' || c.is_ascii_alphabetic() => {
                let name = self.word().unwrap_or_default();
                Tok::Ident { name, delimited: false }
            }
            _ => match SYMBOLS.iter().find(|s| rest.starts_with(**s)) {
                Some(sym) => {
                    self.at += sym.len();
                    Tok::Sym(sym)
                }
                None => return Err(self.error(start, format!("unexpected character {c:?}"))),
            },
        };
        Ok(Token { tok, start, end: self.at })
    }

    /// An identifier's characters: letters, digits and `_`, not starting with a digit.
    fn word(&mut self) -> Option<String> {
        let rest = self.rest();
        if !rest.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic()) {
            return None;
        }
        let len = rest.find(|c: char| c != '_' && !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
        self.at += len;
        Some(rest[..len].to_string())
    }

    /// A string or delimited identifier: from the opening `quote` to the closing one, with the
    /// escapes `\'`, `` \` ``, `\"`, `\\`, `\/`, `\f`, `\n`, `\r`, `\t` and `\uXXXX`.
    fn quoted(&mut self, quote: char) -> Result<String, Error> {
        let start = self.at;
        self.at += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.rest().chars().next() else {
                return Err(self.error(start, format!("a {} that is never closed", what(quote))));
            };
            self.at += c.len_utf8();
            match c {
                _ if c == quote => return Ok(out),
                '\\' => {
                    let escape_at = self.at - 1;
                    let Some(e) = self.rest().chars().next() else {
                        return Err(self.error(start, format!("a {} that is never closed", what(quote))));
                    };
                    self.at += e.len_utf8();
                    out.push(match e {
                        '\'' | '`' | '"' | '\\' | '/' => e,
                        'f' => '\u{0C}',
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        'u' => {
                            let hex = self.rest().get(..4).filter(|h| h.chars().all(|c| c.is_ascii_hexdigit()));
                            let code = hex.and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32);
                            let Some(code) = code else {
                                return Err(self.error(escape_at, "`\\u` must be followed by four hex digits"));
                            };
                            self.at += 4;
                            code
                        }
                        other => return Err(self.error(escape_at, format!("unknown escape `\\{other}`"))),
                    });
                }
                _ => out.push(c),
            }
        }
    }

    /// `12`, `3.50`, `12L`: digits, a fraction only when a digit follows the point (so that
    /// `1.toString()` is an invocation on `1`).
    fn number(&mut self) -> Tok {
        let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let start = self.at;
        self.at += digits(self.rest());
        let rest = self.rest();
        if rest.starts_with('.') && rest[1..].starts_with(|c: char| c.is_ascii_digit()) {
            self.at += 1 + digits(&rest[1..]);
        } else if rest.starts_with('L') && !rest[1..].starts_with(|c: char| c == '_' || c.is_ascii_alphanumeric()) {
            self.at += 1;
            return Tok::Long(self.text[start..self.at - 1].to_string());
        }
        Tok::Number(self.text[start..self.at].to_string())
    }

    /// A date, date-time or time literal after `@`: its text as written, checked for shape
    /// (the values themselves are checked when the literal is read).
    fn date_time(&mut self) -> Result<Tok, Error> {
        let start = self.at;
        self.at += 1;
        let body = self.rest();
        let len = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '.' | '+')))
            .unwrap_or(body.len());
        // The literal ends where its shape ends: `@2014-01-01 - 1 'day'` leaves ` - 1 'day'`.
        let text = &body[..len];
        let shaped = date_time_len(text);
        if shaped == 0 {
            return Err(self.error(start, "`@` must be followed by a date (`@2014-01-25`) or a time (`@T14:30`)"));
        }
        self.at += shaped;
        Ok(Tok::DateTime(text[..shaped].to_string()))
    }
}

fn what(quote: char) -> &'static str {
    if quote == '`' {
        "delimited identifier"
    } else {
        "string"
    }
}

/// How much of `text` (after `@`) is a date, date-time or time literal: `YYYY(-MM(-DD)?)?`
/// optionally followed by `T` and a time with an optional zone, or `T` and a time. 0: none.
fn date_time_len(text: &str) -> usize {
    let b = text.as_bytes();
    let digits = |at: usize, n: usize| b.len() >= at + n && b[at..at + n].iter().all(u8::is_ascii_digit);
    let time = |at: usize| -> usize {
        // hh(:mm(:ss(.fff)?)?)?
        if !digits(at, 2) {
            return at;
        }
        let mut end = at + 2;
        for _ in 0..2 {
            if b.get(end) == Some(&b':') && digits(end + 1, 2) {
                end += 3;
            } else {
                return end;
            }
        }
        if b.get(end) == Some(&b'.') && digits(end + 1, 1) {
            end += 1;
            while b.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
        }
        end
    };
    let zone = |at: usize| -> usize {
        match b.get(at) {
            Some(b'Z') => at + 1,
            Some(b'+' | b'-') if digits(at + 1, 2) && b.get(at + 3) == Some(&b':') && digits(at + 4, 2) => at + 6,
            _ => at,
        }
    };
    if b.first() == Some(&b'T') {
        let end = time(1);
        return if end == 1 { 0 } else { end };
    }
    if !digits(0, 4) {
        return 0;
    }
    let mut end = 4;
    for _ in 0..2 {
        if b.get(end) == Some(&b'-') && digits(end + 1, 2) {
            end += 3;
        } else {
            break;
        }
    }
    if b.get(end) == Some(&b'T') {
        let t = time(end + 1);
        end = if t == end + 1 { end + 1 } else { zone(t) };
    }
    end
}

#[cfg(test)]
mod tests {
    use super::{tokens, Tok};

    fn toks(text: &str) -> Vec<Tok> {
        tokens(text).expect("tokens").into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn names_literals_and_symbols() {
        let id = |s: &str| Tok::Ident { name: s.into(), delimited: false };
        assert_eq!(
            toks("Patient.name.where(given != 'Jim\\'s')[0] <= 3.50 // comment"),
            [
                id("Patient"),
                Tok::Sym("."),
                id("name"),
                Tok::Sym("."),
                id("where"),
                Tok::Sym("("),
                id("given"),
                Tok::Sym("!="),
                Tok::Str("Jim's".into()),
                Tok::Sym(")"),
                Tok::Sym("["),
                Tok::Number("0".into()),
                Tok::Sym("]"),
                Tok::Sym("<="),
                Tok::Number("3.50".into()),
                Tok::End
            ]
        );
        assert_eq!(toks("1.toString()")[..2], [Tok::Number("1".into()), Tok::Sym(".")]);
        assert_eq!(
            toks("`given name` /* a\nb */ 12L %`vs-x` $this")[1..],
            [Tok::Long("12".into()), Tok::Env("vs-x".into()), Tok::Dollar("this".into()), Tok::End]
        );
    }

    #[test]
    fn dates_and_times_end_where_their_shape_ends() {
        let dt = |s: &str| Tok::DateTime(s.into());
        assert_eq!(toks("@2014-01-25T14:30:14.559+01:00")[0], dt("2014-01-25T14:30:14.559+01:00"));
        assert_eq!(toks("@2015T")[0], dt("2015T"));
        assert_eq!(toks("@T14")[0], dt("T14"));
        assert_eq!(toks("@2014-01-01 - 1 'day'")[..2], [dt("2014-01-01"), Tok::Sym("-")]);
        assert_eq!(toks("@2014-01-01T10:00Z.day()")[..2], [dt("2014-01-01T10:00Z"), Tok::Sym(".")]);
    }

    #[test]
    fn errors_say_where() {
        let e = tokens("name = 'open").expect_err("an unclosed string");
        assert_eq!((e.position().line, e.position().column), (1, 8), "{e}");
        let e = tokens("a\n  # b").expect_err("an unknown character");
        assert_eq!((e.position().line, e.position().column), (2, 3), "{e}");
        assert!(tokens("'\\q'").is_err() && tokens("@x").is_err() && tokens("/* never").is_err());
    }
}
