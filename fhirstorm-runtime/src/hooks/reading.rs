//! Reading: what the models' `FromJson` and `ReadMembers` implementations call. A model's struct
//! is read in place (into its `Option`, its slot in a `Vec`, its `Box`), never built on the
//! stack and moved: each move of a large struct is a copy.

use crate::json::contract::{ChoiceJson, ReadItems, ReadMembers};
use crate::json::{Error, ErrorKind, FromJson, Members, Parser};
use crate::primitive::{Primitive, PrimitiveExt};

/// A single element. `null` counts as absent.
pub fn read<T: FromJson>(p: &mut Parser<'_>, slot: &mut Option<T>) -> Result<(), Error> {
    if !p.null()? {
        *slot = Some(T::from_json(p)?);
    }
    Ok(())
}

/// Into an existing value (a choice variant).
#[inline]
pub fn read_in<T: FromJson>(p: &mut Parser<'_>, slot: &mut T) -> Result<(), Error> {
    *slot = T::from_json(p)?;
    Ok(())
}

/// A model's struct (a resource, datatype or backbone element): read member by member into a
/// value that is already where it will stay, rather than built on the stack and moved (a
/// `StructureDefinition` is 1.5 KB; each move is a copy).
pub trait Struct: Default + for<'a> ReadMembers<'a> {}
impl<T: Default + for<'a> ReadMembers<'a>> Struct for T {}

/// A [`Struct`]'s `FromJson::from_json`: one generic body rather than one per struct, each with
/// its own inlined copy of the struct's `Default` (which the in-place readers below call anyway).
pub fn read_new<T: Struct>(p: &mut Parser<'_>) -> Result<T, Error> {
    let mut r = T::default();
    p.members(&mut r)?;
    Ok(r)
}

/// A struct-typed element ([`read`] for a [`Struct`]), read in its slot. A member that comes twice
/// replaces the first (as with every element, the last one read counts); one that fails to read
/// leaves the element absent.
pub fn read_struct<T: Struct>(p: &mut Parser<'_>, slot: &mut Option<T>) -> Result<(), Error> {
    if p.null()? {
        return Ok(());
    }
    let read = p.members(slot.insert(T::default()));
    if read.is_err() {
        *slot = None;
    }
    read
}

/// A resource read straight into its box, not built on the stack and moved there. Not inlined,
/// so that a caller matching on many types (the `AnyResource` readers) keeps only the active type
/// on the stack, in unoptimized builds too.
#[inline(never)]
pub fn boxed<T: Struct>(p: &mut Parser<'_>) -> Result<Box<T>, Error> {
    let mut b = Box::<T>::default();
    p.members(&mut *b)?;
    Ok(b)
}

// Macros, not generic functions: a helper generic over the element type would be one more
// function for rustc to compile per type (over 400 in a version); these expand in place.

/// Gives a vector grown by `room_for_one` its spare room back, unless it is one of the smallest
/// (room for four, at most three spare), where that would cost a call to the allocator for little.
macro_rules! give_back_spare_room {
    ($slot:expr) => {
        if $slot.capacity() > 4 {
            $slot.shrink_to_fit();
        }
    };
}

/// Ends an array read into `$slot` from index `$before` on: on an error nothing of it stays.
macro_rules! end_array {
    ($slot:expr, $before:expr, $read:expr) => {{
        if let Err(e) = $read {
            $slot.truncate($before);
            return Err(e);
        }
        give_back_spare_room!($slot);
        Ok(())
    }};
}

/// A repeating element. Not inlined: a version's readers call it for the same element type from
/// many structs (`Vec<Extension>` from nearly all), each copy costing the optimizer again.
///
/// Grown by `room_for_one` (below), a vector may hold up to four times its items; at its end it
/// gives the spare room back (`give_back_spare_room`), as [`read_structs`], [`prims`] and
/// [`prim_exts`] do.
#[inline(never)]
pub fn read_vec<T: FromJson>(p: &mut Parser<'_>, slot: &mut Vec<T>) -> Result<(), Error> {
    let before = slot.len();
    let read = p.items(&mut VecItems(slot));
    end_array!(slot, before, read)
}

/// A repeating struct-typed element ([`read_vec`] for a [`Struct`]): each item read in its place
/// in the vector.
#[inline(never)]
pub fn read_structs<T: Struct>(p: &mut Parser<'_>, slot: &mut Vec<T>) -> Result<(), Error> {
    let before = slot.len();
    let read = p.items(&mut StructItems(slot));
    end_array!(slot, before, read)
}

/// Room for one more item. Most arrays in FHIR hold one item: room for exactly one first, so
/// that such an array costs one allocation and nothing to shrink. Then four times the room
/// (not twice, as `Vec::push` would): a long array of large items (a snapshot's
/// `ElementDefinition`s, a Bundle's entries) is copied a third as much while it grows.
#[inline(always)]
fn room_for_one<T>(v: &mut Vec<T>) {
    if v.len() == v.capacity() {
        v.reserve_exact(if v.capacity() == 0 { 1 } else { 3 * v.capacity() });
    }
}

/// [`read_vec`]'s items: a trait object rather than a closure, which would bring its
/// `FnOnce`/`FnMut` shims along for every element type.
struct VecItems<'v, T>(&'v mut Vec<T>);

impl<'a, T: FromJson> ReadItems<'a> for VecItems<'_, T> {
    fn read_item(&mut self, p: &mut Parser<'a>, _index: usize) -> Result<(), Error> {
        room_for_one(self.0);
        self.0.push(T::from_json(p)?);
        Ok(())
    }
}

/// [`read_structs`]'s items.
struct StructItems<'v, T>(&'v mut Vec<T>);

impl<'a, T: Struct> ReadItems<'a> for StructItems<'_, T> {
    fn read_item(&mut self, p: &mut Parser<'a>, _index: usize) -> Result<(), Error> {
        room_for_one(self.0);
        // With room known, `push` has no path that grows the vector, and the default value is
        // written straight into its place rather than built on the stack and copied there.
        let len = self.0.len();
        if len < self.0.capacity() {
            self.0.push(T::default());
        }
        // The new item, read in place (on an error, `read_structs` drops it). Were there no room
        // (`reserve_exact` makes it or panics), nothing is pushed and the item is left unread:
        // the array then fails as a syntax error, and no earlier item is read into.
        match self.0.get_mut(len) {
            Some(item) => p.members(item),
            None => Ok(()),
        }
    }
}

/// A primitive's value (`birthDate`).
pub fn prim<T: FromJson, E: FromJson>(p: &mut Parser<'_>, slot: &mut Option<Primitive<T, E>>) -> Result<(), Error> {
    if !p.null()? {
        let v = T::from_json(p)?;
        // Not `get_or_insert_with`: a copy of it (and its closure) per primitive type.
        match slot {
            Some(slot) => slot.value = Some(v),
            None => *slot = Some(Primitive { value: Some(v), ext: None }),
        }
    }
    Ok(())
}

/// A primitive's id and extensions (`_birthDate`).
#[inline(never)]
pub fn prim_ext<T, E: FromJson>(p: &mut Parser<'_>, slot: &mut Option<Primitive<T, E>>) -> Result<(), Error> {
    if let Some(e) = ext_box(p)? {
        match slot {
            Some(slot) => slot.ext = Some(e),
            None => *slot = Some(Primitive { value: None, ext: Some(e) }),
        }
    }
    Ok(())
}

/// A primitive's `_element` member, boxed; `None` for `null`. The part of [`prim_ext`] that
/// does not depend on the primitive's type, compiled once per version rather than per type.
#[inline(never)]
fn ext_box<E: FromJson>(p: &mut Parser<'_>) -> Result<Option<Box<PrimitiveExt<E>>>, Error> {
    Ok(if p.null()? { None } else { Some(Box::new(PrimitiveExt::from_json(p)?)) })
}

/// A choice variant's primitive value.
#[inline]
pub fn prim_in<T: FromJson, E>(p: &mut Parser<'_>, slot: &mut Primitive<T, E>) -> Result<(), Error> {
    slot.value = Some(T::from_json(p)?);
    Ok(())
}

/// A choice variant's primitive id and extensions.
#[inline]
pub fn prim_ext_in<T, E: FromJson>(p: &mut Parser<'_>, slot: &mut Primitive<T, E>) -> Result<(), Error> {
    slot.ext = Some(Box::new(PrimitiveExt::from_json(p)?));
    Ok(())
}

/// A repeating primitive's values, `null` where an item has only extensions.
#[inline(never)]
pub fn prims<T: FromJson, E: FromJson>(p: &mut Parser<'_>, slot: &mut Vec<Primitive<T, E>>) -> Result<(), Error> {
    let before = slot.len();
    p.array(|p, i| {
        if slot.len() <= i {
            room_for_one(slot);
            slot.push(Primitive::default());
        }
        if !p.null()? {
            slot[i].value = Some(T::from_json(p)?);
        }
        Ok(())
    })
    .inspect_err(|_| {
        // Nothing half-read stays behind (lenient reading keeps the whole member instead).
        slot.truncate(before);
        slot.iter_mut().for_each(|s| s.value = None);
    })?;
    give_back_spare_room!(slot);
    Ok(())
}

/// A repeating primitive's ids and extensions (`_given`), `null` where an item has none.
#[inline(never)]
pub fn prim_exts<T, E: FromJson>(p: &mut Parser<'_>, slot: &mut Vec<Primitive<T, E>>) -> Result<(), Error> {
    let before = slot.len();
    p.array(|p, i| {
        if slot.len() <= i {
            room_for_one(slot);
            slot.push(Primitive::default());
        }
        if !p.null()? {
            slot[i].ext = Some(Box::new(PrimitiveExt::from_json(p)?));
        }
        Ok(())
    })
    .inspect_err(|_| {
        slot.truncate(before);
        slot.iter_mut().for_each(|s| s.ext = None);
    })?;
    give_back_spare_room!(slot);
    Ok(())
}

/// The `resourceType` member of a resource that must be `expected`.
pub fn resource_type(p: &mut Parser<'_>, expected: &str) -> Result<(), Error> {
    let found = p.str()?;
    if found != expected {
        return Err(p.error(ErrorKind::ResourceType, format!("expected resourceType {expected:?}, found {found:?}")));
    }
    Ok(())
}

/// A member the definitions do not know: kept. (DSTU2's `fhir_comments`, its JSON form of XML
/// comments, is kept the same way but not counted as unknown: it is part of that format.)
///
/// In lenient mode the parser also calls a struct's reader here to keep a member that did not
/// fit the model: then it is stored under its real key and counted as a deviation.
pub fn unknown(p: &mut Parser<'_>, members: &mut Members, key: &str) -> Result<(), Error> {
    p.keep_member(members, key, key != "fhir_comments")
}

/// A struct's choice element as [`choices`] sees it: its field, whatever the enum.
pub trait ChoiceSlot {
    /// Reads the variant named by `suffix` ([`ChoiceJson::read_variant`]).
    fn read_variant(&mut self, p: &mut Parser<'_>, ext: bool, suffix: &str) -> Option<Result<(), Error>>;
}

impl<C: ChoiceJson> ChoiceSlot for Option<C> {
    fn read_variant(&mut self, p: &mut Parser<'_>, ext: bool, suffix: &str) -> Option<Result<(), Error>> {
        C::read_variant(self, p, ext, suffix)
    }
}

/// [`choices`] for a struct with one choice element (most of them): no trait object, and the
/// enum's reader compiled into this function's copy for that enum.
pub fn choice<C: ChoiceJson>(
    p: &mut Parser<'_>,
    members: &mut Members,
    key: &str,
    base: &str,
    slot: &mut Option<C>,
) -> Result<(), Error> {
    let (ext, bare) = split_ext(key);
    if let Some(suffix) = bare.strip_prefix(base) {
        if let Some(read) = C::read_variant(slot, p, ext, suffix) {
            return read;
        }
    }
    not_a_variant(p, members, key, names_variant(bare, base).then_some(base))
}

/// A member of a struct with choice elements that is none of its other elements: the variant of
/// the choice element (given as base name and field) whose name it starts with; a key that names
/// a choice element with a type it does not allow (`valueFoo`, `_valueFoo`) is an error; any
/// other key is kept ([`unknown`]). One function for every struct, so that the variants' readers
/// are compiled once per enum (`ChoiceJson::read_variant`), not once per element.
pub fn choices(
    p: &mut Parser<'_>,
    members: &mut Members,
    key: &str,
    fields: &mut [(&str, &mut dyn ChoiceSlot)],
) -> Result<(), Error> {
    let (ext, bare) = split_ext(key);
    for (base, slot) in fields.iter_mut() {
        if let Some(suffix) = bare.strip_prefix(*base) {
            if let Some(read) = slot.read_variant(p, ext, suffix) {
                return read;
            }
        }
    }
    let named = fields.iter().map(|(base, _)| *base).find(|base| names_variant(bare, base));
    not_a_variant(p, members, key, named)
}

/// A member's key as a choice variant's: whether it is the `_` (id and extensions) member, and
/// the key without the `_`.
fn split_ext(key: &str) -> (bool, &str) {
    match key.strip_prefix('_') {
        Some(bare) => (true, bare),
        None => (false, key),
    }
}

/// Whether a key without its `_` names a variant of the choice element `base`: the base name
/// followed by a capital (`valueFoo`).
fn names_variant(bare: &str, base: &str) -> bool {
    bare.strip_prefix(base).is_some_and(|suffix| suffix.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// A key that no choice variant read: an error when it names a type of the choice element
/// `named` (`valueFoo`, `_valueFoo`), else a member kept as unknown.
#[inline(never)]
fn not_a_variant(p: &mut Parser<'_>, members: &mut Members, key: &str, named: Option<&str>) -> Result<(), Error> {
    match named {
        Some(base) => {
            let suffix = &key.trim_start_matches('_')[base.len()..];
            Err(p.error(
                ErrorKind::Choice,
                format!("{key}: {suffix} is not an allowed type for the choice element {base}[x]"),
            ))
        }
        None => unknown(p, members, key),
    }
}

/// The error for a second type given for one choice element.
pub fn choice_conflict() -> Error {
    Error::custom(ErrorKind::Choice, "more than one type given for a choice element")
}

/// The names of the members `p` has read so far that the definitions do not know (kept in the
/// structs' `unknown`): what the conformance tests count on the official examples.
pub fn unknown_members<'p>(p: &'p Parser<'_>) -> &'p [String] {
    p.unknown_members()
}
