//! The parsed expression: a tree of nodes, each with the byte range of its text.

use std::fmt;

/// A node and where its text is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// The depth of the tree below and including this node (a leaf is 1).
    pub(crate) depth: u16,
}

/// What a node is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// `{}`
    Empty,
    Boolean(bool),
    String(String),
    /// An integer or decimal literal as written (`12`, `3.50`).
    Number(String),
    /// A long integer literal (`12L`), its digits.
    Long(String),
    /// A date, date-time or time literal as written, without the `@`.
    DateTime(String),
    /// A number with a unit: a UCUM code (`4.5 'mg'`) or a calendar duration (`3 days`).
    Quantity {
        value: String,
        unit: String,
        calendar: bool,
    },
    /// `%name`
    Env(String),
    /// `$this`
    This,
    /// `$index`
    Index,
    /// `$total`
    Total,
    /// `name`, or `target.name`: the children of that name.
    Member {
        target: Option<Box<Expr>>,
        name: String,
    },
    /// `name(args)`, or `target.name(args)`.
    Call {
        target: Option<Box<Expr>>,
        name: String,
        args: Vec<Expr>,
    },
    /// `target[index]`
    Indexer(Box<Expr>, Box<Expr>),
    /// `-x`, `+x`
    Negate(Box<Expr>),
    Plus(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `x is Type`, `x as Type`.
    Type {
        op: TypeOp,
        target: Box<Expr>,
        ty: TypeName,
    },
}

impl Kind {
    /// The node's children.
    pub(crate) fn children(&self) -> impl Iterator<Item = &Expr> {
        let (one, two, many): (Option<&Expr>, Option<&Expr>, &[Expr]) = match self {
            Kind::Member { target, .. } => (target.as_deref(), None, &[]),
            Kind::Call { target, args, .. } => (target.as_deref(), None, args),
            Kind::Indexer(a, b) | Kind::Binary(_, a, b) => (Some(a), Some(b), &[]),
            Kind::Negate(a) | Kind::Plus(a) => (Some(a), None, &[]),
            Kind::Type { target, .. } => (Some(target), None, &[]),
            _ => (None, None, &[]),
        };
        one.into_iter().chain(two).chain(many)
    }
}

/// A type's name: `Patient`, `FHIR.Patient`, `System.String`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeName {
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
}

/// `is` or `as`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeOp {
    Is,
    As,
}

/// The binary operators, in FHIRPath's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Mul,
    Div,
    IntDiv,
    Mod,
    Add,
    Sub,
    Concat,
    Union,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Equiv,
    Ne,
    NotEquiv,
    In,
    Contains,
    And,
    Or,
    Xor,
    Implies,
}

impl BinOp {
    /// The operator for a token's text, with its binding power (higher binds tighter).
    pub(crate) fn of(text: &str) -> Option<(BinOp, u8)> {
        Some(match text {
            "*" => (BinOp::Mul, 10),
            "/" => (BinOp::Div, 10),
            "div" => (BinOp::IntDiv, 10),
            "mod" => (BinOp::Mod, 10),
            "+" => (BinOp::Add, 9),
            "-" => (BinOp::Sub, 9),
            "&" => (BinOp::Concat, 9),
            "|" => (BinOp::Union, 7),
            "<" => (BinOp::Lt, 6),
            "<=" => (BinOp::Le, 6),
            ">" => (BinOp::Gt, 6),
            ">=" => (BinOp::Ge, 6),
            "=" => (BinOp::Eq, 5),
            "~" => (BinOp::Equiv, 5),
            "!=" => (BinOp::Ne, 5),
            "!~" => (BinOp::NotEquiv, 5),
            "in" => (BinOp::In, 4),
            "contains" => (BinOp::Contains, 4),
            "and" => (BinOp::And, 3),
            "or" => (BinOp::Or, 2),
            "xor" => (BinOp::Xor, 2),
            "implies" => (BinOp::Implies, 1),
            _ => return None,
        })
    }

    /// The operator as written.
    pub(crate) fn text(self) -> &'static str {
        match self {
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::IntDiv => "div",
            BinOp::Mod => "mod",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Concat => "&",
            BinOp::Union => "|",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Eq => "=",
            BinOp::Equiv => "~",
            BinOp::Ne => "!=",
            BinOp::NotEquiv => "!~",
            BinOp::In => "in",
            BinOp::Contains => "contains",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Xor => "xor",
            BinOp::Implies => "implies",
        }
    }
}

/// A name as FHIRPath writes it: plain when it can be (`given`), else delimited (`` `given name` ``).
struct Name<'a>(&'a str);

impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = self.0.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic())
            && self.0.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
            && !matches!(self.0, "and" | "or" | "xor" | "implies" | "div" | "mod" | "true" | "false");
        if plain {
            f.write_str(self.0)
        } else {
            quoted(f, self.0, '`')
        }
    }
}

/// `text` between `quote`s, with FHIRPath's escapes.
fn quoted(f: &mut fmt::Formatter<'_>, text: &str, quote: char) -> fmt::Result {
    use fmt::Write as _;
    f.write_char(quote)?;
    for c in text.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{0C}' => f.write_str("\\f")?,
            _ if c == quote => write!(f, "\\{c}")?,
            _ if c.is_control() => write!(f, "\\u{:04x}", c as u32)?,
            _ => f.write_char(c)?,
        }
    }
    f.write_char(quote)
}

impl fmt::Display for TypeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(ns) = &self.namespace {
            write!(f, "{}.", Name(ns))?;
        }
        write!(f, "{}", Name(&self.name))
    }
}

/// The expression written back as FHIRPath, every operation in parentheses: what the parser
/// understood, and text that parses to the same tree.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on = |f: &mut fmt::Formatter<'_>, target: &Option<Box<Expr>>| match target {
            Some(t) => write!(f, "{t}."),
            None => Ok(()),
        };
        match &self.kind {
            Kind::Empty => f.write_str("{}"),
            Kind::Boolean(b) => write!(f, "{b}"),
            Kind::String(s) => quoted(f, s, '\''),
            Kind::Number(n) => f.write_str(n),
            Kind::Long(n) => write!(f, "{n}L"),
            Kind::DateTime(d) => write!(f, "@{d}"),
            Kind::Quantity { value, unit, calendar: true } => write!(f, "{value} {unit}"),
            Kind::Quantity { value, unit, calendar: false } => {
                write!(f, "{value} ")?;
                quoted(f, unit, '\'')
            }
            Kind::Env(name) => write!(f, "%{}", Name(name)),
            Kind::This => f.write_str("$this"),
            Kind::Index => f.write_str("$index"),
            Kind::Total => f.write_str("$total"),
            Kind::Member { target, name } => {
                on(f, target)?;
                write!(f, "{}", Name(name))
            }
            Kind::Call { target, name, args } => {
                on(f, target)?;
                write!(f, "{}(", Name(name))?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
            Kind::Indexer(target, index) => write!(f, "{target}[{index}]"),
            Kind::Negate(e) => write!(f, "(-{e})"),
            Kind::Plus(e) => write!(f, "(+{e})"),
            Kind::Binary(op, l, r) => write!(f, "({l} {} {r})", op.text()),
            Kind::Type { op: TypeOp::Is, target, ty } => write!(f, "({target} is {ty})"),
            Kind::Type { op: TypeOp::As, target, ty } => write!(f, "({target} as {ty})"),
        }
    }
}
