//! The values of each search parameter kind (string, token, date, number, quantity, uri,
//! reference, composite), rendered with their modifier and escaped as FHIR says.

use std::marker::PhantomData;

use super::escape;

/// A value of some search parameter kind: its modifier, and its text.
pub trait SearchValue {
    /// `(modifier, text)`.
    fn render(self) -> (Option<&'static str>, String);
}

/// Comparison prefixes of date, number and quantity parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Prefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
    Ap,
}

impl Prefix {
    fn as_str(self) -> &'static str {
        match self {
            Prefix::Eq => "",
            Prefix::Ne => "ne",
            Prefix::Gt => "gt",
            Prefix::Lt => "lt",
            Prefix::Ge => "ge",
            Prefix::Le => "le",
            Prefix::Sa => "sa",
            Prefix::Eb => "eb",
            Prefix::Ap => "ap",
        }
    }
}

macro_rules! value_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            modifier: Option<&'static str>,
            values: Vec<String>,
        }

        impl SearchValue for $name {
            fn render(self) -> (Option<&'static str>, String) {
                (self.modifier, self.values.join(","))
            }
        }

        impl $name {
            fn one(modifier: Option<&'static str>, text: String) -> Self {
                $name { modifier, values: vec![text] }
            }

            /// `:missing=true|false`: whether the element is absent.
            pub fn missing(missing: bool) -> Self {
                Self::one(Some("missing"), missing.to_string())
            }
        }
    };
}

value_type!(
    /// A `string` parameter's value: starts-with by default; `exact`, `contains`.
    StringValue
);
value_type!(
    /// A `token` parameter's value: `code`, `system|code`, `system|`; `text`, `not`, `above`, `below`, `in`, `not_in`, `of_type`.
    TokenValue
);
value_type!(
    /// A `date` parameter's value with its prefix: `DateValue::ge("2020-01")`.
    DateValue
);
value_type!(
    /// A `number` parameter's value with its prefix.
    NumberValue
);
value_type!(
    /// A `quantity` parameter's value: `[prefix]number|system|code`.
    QuantityValue
);
value_type!(
    /// A `uri` parameter's value; `above`, `below`.
    UriValue
);
value_type!(
    /// A `special` or `composite` parameter's value, as text (escaped).
    TextValue
);

impl<T: AsRef<str>> From<T> for StringValue {
    fn from(s: T) -> Self {
        Self::one(None, escape(s.as_ref()))
    }
}

impl StringValue {
    /// `:exact`.
    pub fn exact(s: &str) -> Self {
        Self::one(Some("exact"), escape(s))
    }
    /// `:contains`.
    pub fn contains(s: &str) -> Self {
        Self::one(Some("contains"), escape(s))
    }
    /// Any of these (OR).
    pub fn any<I: IntoIterator<Item = S>, S: AsRef<str>>(values: I) -> Self {
        StringValue { modifier: None, values: values.into_iter().map(|s| escape(s.as_ref())).collect() }
    }
}

impl<T: AsRef<str>> From<T> for TokenValue {
    /// A code in any system.
    fn from(code: T) -> Self {
        Self::one(None, escape(code.as_ref()))
    }
}

impl TokenValue {
    /// `system|code`.
    pub fn code(system: &str, code: &str) -> Self {
        Self::one(None, format!("{}|{}", escape(system), escape(code)))
    }
    /// `|code`: a code with no system.
    pub fn code_without_system(code: &str) -> Self {
        Self::one(None, format!("|{}", escape(code)))
    }
    /// `system|`: any code of the system.
    pub fn system(system: &str) -> Self {
        Self::one(None, format!("{}|", escape(system)))
    }
    /// `:text`.
    pub fn text(s: &str) -> Self {
        Self::one(Some("text"), escape(s))
    }
    /// `:not` `system|code`.
    pub fn not(system: &str, code: &str) -> Self {
        Self::one(Some("not"), format!("{}|{}", escape(system), escape(code)))
    }
    /// `:above` `system|code` (subsumes).
    pub fn above(system: &str, code: &str) -> Self {
        Self::one(Some("above"), format!("{}|{}", escape(system), escape(code)))
    }
    /// `:below` `system|code` (subsumed by).
    pub fn below(system: &str, code: &str) -> Self {
        Self::one(Some("below"), format!("{}|{}", escape(system), escape(code)))
    }
    /// `:in` a value set.
    pub fn in_value_set(url: &str) -> Self {
        Self::one(Some("in"), escape(url))
    }
    /// `:not-in` a value set.
    pub fn not_in_value_set(url: &str) -> Self {
        Self::one(Some("not-in"), escape(url))
    }
    /// `:of-type` (identifiers): `system|code|value`.
    pub fn of_type(system: &str, code: &str, value: &str) -> Self {
        Self::one(Some("of-type"), format!("{}|{}|{}", escape(system), escape(code), escape(value)))
    }
    /// Any of these (OR), each `code` or `system|code` as built by the constructors above
    /// without a modifier.
    pub fn any<I: IntoIterator<Item = TokenValue>>(values: I) -> Self {
        TokenValue { modifier: None, values: values.into_iter().flat_map(|v| v.values).collect() }
    }
}

macro_rules! prefixed {
    ($t:ident, $arg:ty, $conv:expr) => {
        impl $t {
            /// With an explicit prefix.
            pub fn with(prefix: Prefix, v: $arg) -> Self {
                let conv: fn($arg) -> String = $conv;
                Self::one(None, format!("{}{}", prefix.as_str(), conv(v)))
            }
            /// Equal (no prefix).
            pub fn eq(v: $arg) -> Self {
                Self::with(Prefix::Eq, v)
            }
            /// `ne`
            pub fn ne(v: $arg) -> Self {
                Self::with(Prefix::Ne, v)
            }
            /// `gt`
            pub fn gt(v: $arg) -> Self {
                Self::with(Prefix::Gt, v)
            }
            /// `lt`
            pub fn lt(v: $arg) -> Self {
                Self::with(Prefix::Lt, v)
            }
            /// `ge`
            pub fn ge(v: $arg) -> Self {
                Self::with(Prefix::Ge, v)
            }
            /// `le`
            pub fn le(v: $arg) -> Self {
                Self::with(Prefix::Le, v)
            }
            /// `sa` (starts after)
            pub fn sa(v: $arg) -> Self {
                Self::with(Prefix::Sa, v)
            }
            /// `eb` (ends before)
            pub fn eb(v: $arg) -> Self {
                Self::with(Prefix::Eb, v)
            }
            /// `ap` (approximately)
            pub fn ap(v: $arg) -> Self {
                Self::with(Prefix::Ap, v)
            }
        }
    };
}

prefixed!(DateValue, &str, |s| escape(s));
prefixed!(NumberValue, &str, |s| escape(s));

impl From<&crate::Date> for DateValue {
    fn from(d: &crate::Date) -> Self {
        DateValue::eq(d.as_str())
    }
}
impl From<&crate::DateTime> for DateValue {
    fn from(d: &crate::DateTime) -> Self {
        DateValue::eq(d.as_str())
    }
}
impl From<&str> for DateValue {
    fn from(d: &str) -> Self {
        DateValue::eq(d)
    }
}
impl From<i64> for NumberValue {
    fn from(n: i64) -> Self {
        NumberValue::eq(&n.to_string())
    }
}
impl From<&crate::Decimal> for NumberValue {
    fn from(d: &crate::Decimal) -> Self {
        NumberValue::eq(d.as_str())
    }
}

impl QuantityValue {
    /// `[prefix]number|system|code`.
    pub fn new(prefix: Prefix, number: &str, system: &str, code: &str) -> Self {
        Self::one(None, format!("{}{}|{}|{}", prefix.as_str(), escape(number), escape(system), escape(code)))
    }
    /// `[prefix]number` in any unit.
    pub fn number(prefix: Prefix, number: &str) -> Self {
        Self::one(None, format!("{}{}", prefix.as_str(), escape(number)))
    }
}

impl<T: AsRef<str>> From<T> for UriValue {
    fn from(s: T) -> Self {
        Self::one(None, escape(s.as_ref()))
    }
}

impl UriValue {
    /// `:above`: the URI or any it is a prefix-path of.
    pub fn above(s: &str) -> Self {
        Self::one(Some("above"), escape(s))
    }
    /// `:below`: the URI or any below it.
    pub fn below(s: &str) -> Self {
        Self::one(Some("below"), escape(s))
    }
}

impl<T: AsRef<str>> From<T> for TextValue {
    fn from(s: T) -> Self {
        Self::one(None, escape(s.as_ref()))
    }
}

/// A reference to a resource of type `T`, as a search value: `Patient::reference("123")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref<T> {
    text: String,
    _t: PhantomData<fn() -> T>,
}

impl<T: crate::Resource> Ref<T> {
    /// `Type/id`.
    pub fn to(id: &str) -> Self {
        Ref { text: ref_text(T::TYPE, id), _t: PhantomData }
    }
}

/// `Type/id`, escaped: [`Ref::to`]'s work, compiled once rather than for each resource type.
fn ref_text(type_name: &str, id: &str) -> String {
    format!("{type_name}/{}", escape(id))
}

impl<T> SearchValue for Ref<T> {
    fn render(self) -> (Option<&'static str>, String) {
        (None, self.text)
    }
}

/// A composite parameter's value: its components, in the definition's order, joined by `$`
/// (`code-value-quantity=http://loinc.org|8480-6$gt140`). Generated methods take the tuple.
#[derive(Debug, Clone, PartialEq)]
pub struct Composite<T>(pub T);

macro_rules! composite {
    ($($v:ident),+) => {
        impl<$($v: SearchValue),+> SearchValue for Composite<($($v,)+)> {
            fn render(self) -> (Option<&'static str>, String) {
                #[allow(non_snake_case)]
                let ($($v,)+) = self.0;
                // Components take no modifiers; their text is already escaped.
                let parts: Vec<String> = vec![$($v.render().1),+];
                (None, parts.join("$"))
            }
        }
    };
}
composite!(A, B);
composite!(A, B, C);
composite!(A, B, C, D);
