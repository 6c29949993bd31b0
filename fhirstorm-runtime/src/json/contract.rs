//! The traits only generated code implements: the contract's part that [`Parser`] and
//! [`Writer`] drive. Public only through `hooks`, which re-exports them.

use super::{Error, Parser, Writer};

/// An object read member by member: what each model's generated reader implements, and
/// `Parser::members` drives.
pub trait ReadMembers<'a> {
    /// Reads the member `key` while the parser stands at its value, which it must consume.
    fn read_member(&mut self, p: &mut Parser<'a>, key: &str) -> Result<(), Error>;
}

/// An array read item by item, driven by `Parser::items`.
pub trait ReadItems<'a> {
    /// Reads item `index` while the parser stands at it, which it must consume.
    fn read_item(&mut self, p: &mut Parser<'a>, index: usize) -> Result<(), Error>;
}

/// A choice element's enum: reads and writes itself under the element's base name followed by
/// the type's suffix (`value` + `Quantity`). One enum may serve several elements with the same
/// types (every open-type `[x]` element), so the base name is an argument.
pub trait ChoiceJson: Sized {
    /// Writes the member `{base}{Suffix}` (and its `_{base}{Suffix}` extension member, for a
    /// primitive).
    fn write_field(&self, w: &mut Writer, base: &str);
    /// Reads the member whose key is the element's base name followed by `suffix` (or, when
    /// `ext`, the `_` member of a primitive type) into `slot`; `None`, having read nothing, when
    /// no variant has that suffix. A failed read leaves `slot` as it was.
    fn read_variant(slot: &mut Option<Self>, p: &mut Parser<'_>, ext: bool, suffix: &str) -> Option<Result<(), Error>>;
}
