//! FHIRPath's grammar: tokens to a tree, by precedence climbing. From tightest to loosest:
//! `.` and `[]`; unary `+` and `-`; `*` `/` `div` `mod`; `+` `-` `&`; `is` `as`; `|`;
//! `<` `<=` `>` `>=`; `=` `~` `!=` `!~`; `in` `contains`; `and`; `or` `xor`; `implies`. Calls are
//! checked against the function table here, so that an unknown function or a wrong number of
//! arguments is an error when the expression is compiled, not when it first runs.

use super::ast::{BinOp, Expr, Kind, TypeName, TypeOp};
use super::error::{Error, ErrorKind};
use super::functions;
use super::lexer::{self, Tok, Token};

/// How tightly `is` and `as` bind, and unary `+`/`-` (see [`BinOp::of`] for the others).
const TYPE_BP: u8 = 8;
const UNARY_BP: u8 = 11;

/// How deep the tree of an expression may be (a union of 80 paths is 80 deep): deeper than any
/// expression of the FHIR definitions, and shallow enough that walking it cannot exhaust a
/// thread's stack.
const MAX_DEPTH: u16 = 500;

/// How deeply parentheses, arguments and signs may nest (each is a recursion of the parser).
const MAX_NESTING: u16 = 100;

/// The words that are operators or literals, never a name unless delimited (`` `div` ``).
const RESERVED: &[&str] = &["and", "or", "xor", "implies", "div", "mod", "true", "false"];

/// The calendar units a quantity literal may name without quotes (`3 days`).
const CALENDAR: &[&str] = &[
    "year",
    "years",
    "month",
    "months",
    "week",
    "weeks",
    "day",
    "days",
    "hour",
    "hours",
    "minute",
    "minutes",
    "second",
    "seconds",
    "millisecond",
    "milliseconds",
];

/// The tree of `text`, or the first error in it.
pub(crate) fn parse(text: &str) -> Result<Expr, Error> {
    let mut p = Parser { text, tokens: lexer::tokens(text)?, at: 0, nesting: 0 };
    let expr = p.expression(0)?;
    match p.peek().tok {
        Tok::End => Ok(expr),
        _ => Err(p.unexpected("an operator or the end of the expression")),
    }
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    at: usize,
    /// How deep the parser's recursion is (not always a node each: `((1))`).
    nesting: u16,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.tokens[(self.at + ahead).min(self.tokens.len() - 1)].tok
    }

    fn advance(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::End {
            self.at += 1;
        }
        t
    }

    fn error(&self, kind: ErrorKind, at: usize, message: impl Into<String>) -> Error {
        Error::new(kind, self.text, at, message)
    }

    /// A syntax error at the next token: what was expected, and what was found.
    fn unexpected(&self, expected: &str) -> Error {
        let t = self.peek();
        let found = match &t.tok {
            Tok::End => "the end of the expression".to_string(),
            _ => format!("`{}`", &self.text[t.start..t.end]),
        };
        self.error(ErrorKind::Syntax, t.start, format!("expected {expected}, found {found}"))
    }

    /// A node over children already parsed, unless the tree would grow deeper than
    /// [`MAX_DEPTH`] (every walk of the tree recurses: a hostile expression must not overflow the
    /// stack).
    fn node(&self, kind: Kind, start: usize, end: usize) -> Result<Expr, Error> {
        let depth = 1 + kind.children().map(|c| c.depth).max().unwrap_or(0);
        if depth > MAX_DEPTH {
            return Err(self.error(ErrorKind::Syntax, start, format!("nested more than {MAX_DEPTH} deep")));
        }
        Ok(Expr { kind, start, end, depth })
    }

    fn expect(&mut self, sym: &'static str) -> Result<Token, Error> {
        if self.peek().tok == Tok::Sym(sym) {
            Ok(self.advance())
        } else {
            Err(self.unexpected(&format!("`{sym}`")))
        }
    }

    /// An expression whose operators all bind tighter than `min_bp`. Every recursion of the
    /// parser passes here, so here it is bounded.
    fn expression(&mut self, min_bp: u8) -> Result<Expr, Error> {
        if self.nesting >= MAX_NESTING {
            let at = self.peek().start;
            return Err(self.error(ErrorKind::Syntax, at, format!("nested more than {MAX_NESTING} deep")));
        }
        self.nesting += 1;
        let expr = self.operators(min_bp);
        self.nesting -= 1;
        expr
    }

    /// The operators of an expression, by precedence climbing.
    fn operators(&mut self, min_bp: u8) -> Result<Expr, Error> {
        let mut left = self.unary()?;
        loop {
            let op = match &self.peek().tok {
                Tok::Sym(s) => *s,
                Tok::Ident { name, delimited: false } => name.as_str(),
                _ => break,
            };
            if op == "is" || op == "as" {
                if TYPE_BP <= min_bp {
                    break;
                }
                let op = if op == "is" { TypeOp::Is } else { TypeOp::As };
                self.advance();
                let ty = self.type_name()?;
                let (start, end) = (left.start, self.tokens[self.at - 1].end);
                left = self.node(Kind::Type { op, target: Box::new(left), ty }, start, end)?;
                continue;
            }
            let Some((op, bp)) = BinOp::of(op) else { break };
            if bp <= min_bp {
                break;
            }
            self.advance();
            let right = self.expression(bp)?;
            let (start, end) = (left.start, right.end);
            left = self.node(Kind::Binary(op, Box::new(left), Box::new(right)), start, end)?;
        }
        Ok(left)
    }

    /// `-x`, `+x`, or a term with its invocations and indexers.
    fn unary(&mut self) -> Result<Expr, Error> {
        let t = self.peek().clone();
        let negate = match t.tok {
            Tok::Sym("-") => true,
            Tok::Sym("+") => false,
            _ => return self.postfix(),
        };
        self.advance();
        let operand = self.expression(UNARY_BP - 1)?;
        let end = operand.end;
        let kind = if negate { Kind::Negate(Box::new(operand)) } else { Kind::Plus(Box::new(operand)) };
        self.node(kind, t.start, end)
    }

    /// A term followed by `.invocation`s and `[index]`es.
    fn postfix(&mut self) -> Result<Expr, Error> {
        let mut expr = self.term()?;
        loop {
            match self.peek().tok {
                Tok::Sym(".") => {
                    self.advance();
                    expr = self.invocation(Some(expr))?;
                }
                Tok::Sym("[") => {
                    self.advance();
                    let index = self.expression(0)?;
                    let close = self.expect("]")?;
                    let start = expr.start;
                    expr = self.node(Kind::Indexer(Box::new(expr), Box::new(index)), start, close.end)?;
                }
                _ => return Ok(expr),
            }
        }
    }

    fn term(&mut self) -> Result<Expr, Error> {
        let t = self.peek().clone();
        let simple = |kind| Ok(Expr { kind, start: t.start, end: t.end, depth: 1 });
        match &t.tok {
            Tok::Sym("(") => {
                self.advance();
                let mut inner = self.expression(0)?;
                let close = self.expect(")")?;
                (inner.start, inner.end) = (t.start, close.end);
                Ok(inner)
            }
            Tok::Sym("{") => {
                self.advance();
                let close = self.expect("}")?;
                Ok(Expr { kind: Kind::Empty, start: t.start, end: close.end, depth: 1 })
            }
            Tok::Str(s) => {
                self.advance();
                simple(Kind::String(s.clone()))
            }
            Tok::Number(n) => {
                self.advance();
                self.quantity(n.clone(), t.start, t.end)
            }
            Tok::Long(n) => {
                self.advance();
                simple(Kind::Long(n.clone()))
            }
            Tok::DateTime(d) => {
                self.advance();
                simple(Kind::DateTime(d.clone()))
            }
            Tok::Env(name) => {
                self.advance();
                simple(Kind::Env(name.clone()))
            }
            Tok::Dollar(name) => {
                self.advance();
                match name.as_str() {
                    "this" => simple(Kind::This),
                    "index" => simple(Kind::Index),
                    "total" => simple(Kind::Total),
                    _ => Err(self.error(
                        ErrorKind::Syntax,
                        t.start,
                        format!("unknown `${name}`: `$this`, `$index` or `$total`"),
                    )),
                }
            }
            Tok::Ident { name, delimited: false } if name == "true" || name == "false" => {
                self.advance();
                simple(Kind::Boolean(name == "true"))
            }
            Tok::Ident { name, delimited: false } if RESERVED.contains(&name.as_str()) => {
                Err(self.unexpected("an expression"))
            }
            Tok::Ident { .. } => self.invocation(None),
            _ => Err(self.unexpected("an expression")),
        }
    }

    /// A number, and its unit if one follows: a quoted UCUM code or a calendar word.
    fn quantity(&mut self, value: String, start: usize, end: usize) -> Result<Expr, Error> {
        let (unit, calendar) = match self.peek().tok.clone() {
            Tok::Str(unit) => (unit, false),
            Tok::Ident { name, delimited: false } if CALENDAR.contains(&name.as_str()) => (name, true),
            _ => return Ok(Expr { kind: Kind::Number(value), start, end, depth: 1 }),
        };
        let unit_token = self.advance();
        Ok(Expr { kind: Kind::Quantity { value, unit, calendar }, start, end: unit_token.end, depth: 1 })
    }

    /// `name` or `name(args)`, on `target` (or on the focus).
    fn invocation(&mut self, target: Option<Expr>) -> Result<Expr, Error> {
        let t = self.peek().clone();
        let Tok::Ident { name, delimited } = &t.tok else {
            return Err(self.unexpected("a name or a function"));
        };
        // After a `.` any name is a member's or a function's (`text.div`, the narrative).
        if target.is_none() && !delimited && RESERVED.contains(&name.as_str()) {
            return Err(self.unexpected("a name or a function"));
        }
        self.advance();
        let start = target.as_ref().map_or(t.start, |e| e.start);
        let target = target.map(Box::new);
        if self.peek().tok != Tok::Sym("(") {
            return self.node(Kind::Member { target, name: name.clone() }, start, t.end);
        }
        self.advance();
        let mut args = Vec::new();
        if self.peek().tok != Tok::Sym(")") {
            loop {
                args.push(self.expression(0)?);
                if self.peek().tok == Tok::Sym(",") {
                    self.advance();
                } else {
                    break;
                }
            }
        }
        let close = self.expect(")")?;
        self.check_call(name, &args, t.start)?;
        self.node(Kind::Call { target, name: name.clone(), args }, start, close.end)
    }

    /// A call of a known function with as many arguments as it takes, a type's name where it
    /// takes one.
    fn check_call(&self, name: &str, args: &[Expr], at: usize) -> Result<(), Error> {
        let Some((min, max)) = functions::arity(name) else {
            return Err(self.error(ErrorKind::Semantic, at, format!("unknown function `{name}`")));
        };
        if args.len() < min || args.len() > max {
            let takes = match (min, max) {
                (a, b) if a == b => format!("{a}"),
                (a, 255) => format!("at least {a}"),
                (a, b) => format!("{a} to {b}"),
            };
            let s = if max == 1 && min == 1 { "" } else { "s" };
            return Err(self.error(
                ErrorKind::Semantic,
                at,
                format!("`{name}` takes {takes} argument{s}, not {}", args.len()),
            ));
        }
        if functions::takes_a_type(name) {
            if let Some(arg) = args.first() {
                type_name_of(arg).ok_or_else(|| {
                    self.error(
                        ErrorKind::Semantic,
                        arg.start,
                        format!("`{name}` takes a type's name (`Patient`, `System.String`)"),
                    )
                })?;
            }
        }
        Ok(())
    }

    /// A type's name after `is` or `as`: `Name`, or `FHIR.Name` / `System.Name`.
    fn type_name(&mut self) -> Result<TypeName, Error> {
        let Tok::Ident { name, .. } = self.peek().tok.clone() else {
            return Err(self.unexpected("a type's name"));
        };
        self.advance();
        let qualified = matches!(name.as_str(), "FHIR" | "System") && self.peek().tok == Tok::Sym(".");
        if qualified {
            if let Tok::Ident { name: inner, .. } = self.peek_at(1).clone() {
                self.advance();
                self.advance();
                return Ok(TypeName { namespace: Some(name), name: inner });
            }
        }
        Ok(TypeName { namespace: None, name })
    }
}

/// The type an argument names (`Patient`, `FHIR.Patient`), if it is a name and nothing else.
pub(crate) fn type_name_of(arg: &Expr) -> Option<TypeName> {
    match &arg.kind {
        Kind::Member { target: None, name } => Some(TypeName { namespace: None, name: name.clone() }),
        Kind::Member { target: Some(t), name } => match &t.kind {
            Kind::Member { target: None, name: ns } => {
                Some(TypeName { namespace: Some(ns.clone()), name: name.clone() })
            }
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::fhirpath::error::ErrorKind;

    /// The tree written back; which must parse to the same tree.
    fn shown(text: &str) -> String {
        let shown = parse(text).unwrap_or_else(|e| panic!("{text}: {e}")).to_string();
        let again = parse(&shown).unwrap_or_else(|e| panic!("{shown} (from {text}): {e}")).to_string();
        assert_eq!(again, shown, "written back from {text}");
        shown
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(shown("1 + 2 * 3 - 4"), "((1 + (2 * 3)) - 4)");
        assert_eq!(shown("a or b and c implies d"), "((a or (b and c)) implies d)");
        assert_eq!(shown("1 > 2 is Boolean"), "(1 > (2 is Boolean))");
        assert_eq!(shown("-Patient.name.given.count() + 1"), "((-Patient.name.given.count()) + 1)");
        assert_eq!(shown("a | b = c | d"), "((a | b) = (c | d))");
        assert_eq!(shown("name.given[0] in ('Jim' | 'Peter')"), "(name.given[0] in ('Jim' | 'Peter'))");
        assert_eq!(shown("(Observation.value as Quantity).unit"), "(Observation.value as Quantity).unit");
        assert_eq!(shown("true is System.Boolean"), "(true is System.Boolean)");
    }

    #[test]
    fn literals() {
        assert_eq!(shown("4.5 'mg' + 3 days"), "(4.5 'mg' + 3 days)");
        assert_eq!(
            shown("@2014-01-25T14:30 > @T10:00 and {} .empty()"),
            "((@2014-01-25T14:30 > @T10:00) and {}.empty())"
        );
        assert_eq!(shown("%`vs-administrative-gender`.contains($this)"), "%`vs-administrative-gender`.contains($this)");
        assert_eq!(shown("`div`.is(FHIR.Patient)"), "`div`.is(FHIR.Patient)");
        assert_eq!(shown("'it\\'s\\u0001\\n'"), "'it\\'s\\u0001\\n'", "escapes written back");
    }

    #[test]
    fn errors_name_the_position_and_the_reason() {
        let err = |text: &str| parse(text).expect_err(text);
        let e = err("Patient.name.foo()");
        assert_eq!((e.kind(), e.position().column), (ErrorKind::Semantic, 14), "{e}");
        assert!(e.to_string().contains("unknown function `foo`"), "{e}");
        let e = err("name.substring(1, 2, 3)");
        assert_eq!(e.kind(), ErrorKind::Semantic, "{e}");
        assert!(e.message().contains("takes 1 to 2 arguments, not 3"), "{e}");
        let e = err("name.given.ofType(1)");
        assert_eq!(e.kind(), ErrorKind::Semantic, "{e}");
        let e = err("1 + ");
        assert_eq!((e.kind(), e.position().column), (ErrorKind::Syntax, 5), "{e}");
        let e = err("name.(given)");
        assert_eq!(e.kind(), ErrorKind::Syntax, "{e}");
        let e = err("a b");
        assert!(e.message().contains("found `b`"), "{e}");
        let e = err("name and");
        assert_eq!(e.kind(), ErrorKind::Syntax, "{e}");
        // Hostile depth: an error, not a stack overflow, however it nests.
        for deep in [
            format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)),
            format!("{}1", "-".repeat(100_000)),
            vec!["1"; 100_000].join(" + "),
            format!("a{}", ".b".repeat(100_000)),
            format!("a{}", "[0]".repeat(100_000)),
            format!("{}1{}", "f(".repeat(100_000), ")".repeat(100_000)),
        ] {
            let e = err(&deep);
            assert!(e.message().contains("nested more than"), "{e}");
        }
        assert!(parse(&format!("{}1{}", "(".repeat(90), ")".repeat(90))).is_ok());
        assert_eq!(shown("text.div.empty()"), "text.`div`.empty()", "a member named as an operator");
    }
}
