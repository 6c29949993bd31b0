//! Reading helpers the generated `FromJson` impls call, one per element shape.

use super::{Error, ErrorKind, FromJson, Members, Parser};
use crate::primitive::{Primitive, PrimitiveExt};

/// A single element. `null` counts as absent.
#[inline]
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

/// A value read straight into a box. Not inlined, so that a caller matching on many types (the
/// `AnyResource` readers) keeps only the active type on the stack, in unoptimized builds too.
#[inline(never)]
pub fn boxed<T: FromJson>(p: &mut Parser<'_>) -> Result<Box<T>, Error> {
    T::from_json(p).map(Box::new)
}

/// A repeating element.
#[inline]
pub fn read_vec<T: FromJson>(p: &mut Parser<'_>, slot: &mut Vec<T>) -> Result<(), Error> {
    let before = slot.len();
    p.array(|p, _| {
        slot.push(T::from_json(p)?);
        Ok(())
    })
    .inspect_err(|_| slot.truncate(before))
}

/// A primitive's value (`birthDate`).
#[inline]
pub fn prim<T: FromJson, E: FromJson>(p: &mut Parser<'_>, slot: &mut Option<Primitive<T, E>>) -> Result<(), Error> {
    if !p.null()? {
        let v = T::from_json(p)?;
        slot.get_or_insert_with(Primitive::default).value = Some(v);
    }
    Ok(())
}

/// A primitive's id and extensions (`_birthDate`).
#[inline]
pub fn prim_ext<T, E: FromJson>(p: &mut Parser<'_>, slot: &mut Option<Primitive<T, E>>) -> Result<(), Error> {
    if !p.null()? {
        let e = PrimitiveExt::from_json(p)?;
        slot.get_or_insert_with(Primitive::default).ext = Some(Box::new(e));
    }
    Ok(())
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
pub fn prims<T: FromJson, E: FromJson>(p: &mut Parser<'_>, slot: &mut Vec<Primitive<T, E>>) -> Result<(), Error> {
    let before = slot.len();
    p.array(|p, i| {
        if slot.len() <= i {
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
    })
}

/// A repeating primitive's ids and extensions (`_given`), `null` where an item has none.
pub fn prim_exts<T, E: FromJson>(p: &mut Parser<'_>, slot: &mut Vec<Primitive<T, E>>) -> Result<(), Error> {
    let before = slot.len();
    p.array(|p, i| {
        if slot.len() <= i {
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
    })
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
    let v = p.value()?;
    if let Some((real, deviation)) = p.take_deviant() {
        members.push(real, v);
        p.push_deviation(deviation);
        return Ok(());
    }
    if key != "fhir_comments" {
        p.note_unknown(key);
    }
    members.push(key, v);
    Ok(())
}

/// A member the definitions do not know, in a struct with choice elements: a key that names a
/// choice element with a type it does not allow (`valueFoo`, `_valueFoo`) is an error; any other
/// is kept.
pub fn unknown_or_choice(p: &mut Parser<'_>, members: &mut Members, key: &str, choices: &[&str]) -> Result<(), Error> {
    let bare = key.strip_prefix('_').unwrap_or(key);
    for base in choices {
        if let Some(suffix) = bare.strip_prefix(base) {
            if suffix.starts_with(|c: char| c.is_ascii_uppercase()) {
                return Err(p.error(
                    ErrorKind::Choice,
                    format!("{key}: {suffix} is not an allowed type for the choice element {base}[x]"),
                ));
            }
        }
    }
    unknown(p, members, key)
}

/// The error for a second type given for one choice element.
pub fn choice_conflict() -> Error {
    Error::custom(ErrorKind::Choice, "more than one type given for a choice element")
}

impl<E: FromJson> FromJson for PrimitiveExt<E> {
    fn from_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        let mut r = PrimitiveExt::default();
        p.object(|p, key| {
            match key {
                "id" => read(p, &mut r.id)?,
                "extension" => read_vec(p, &mut r.extension)?,
                _ => unknown(p, &mut r.unknown, key)?,
            }
            Ok(())
        })?;
        Ok(r)
    }
}
