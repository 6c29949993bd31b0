//! A version's element table as generated code carries it: one string, decoded into
//! [`Definitions`] the first time validation needs it.
//!
//! A table of struct literals (7,389 elements in R4) cost rustc about 40 MB more at its peak
//! than one string literal, in every build of the version; decoding the string takes a fraction
//! of a millisecond, once per process.
//!
//! The format, one record per line, fields separated by tabs (fhirstorm-codegen refuses names
//! and codes that hold either):
//!
//! - `T name resource` starts a type (`resource` is `0` or `1`), `E name min many type` is an
//!   element of the type before it;
//! - `V url code…` a value set of codes, `C url system code system code…` one of codings;
//! - `X index` the index of `Extension` among the types, `J 0|1` whether objects may carry
//!   `fhir_comments`.
//!
//! An element's type: `a` a string with no `_element`, `aId` one of the `id` format; `pCode` a
//! primitive, `pCode/3` one bound to value set 3; `c12` the complex type 12, `k12/4` a coding
//! type bound to coded value set 4; `r` any resource; `xString=pString;Quantity=c40` a choice.

use std::sync::OnceLock;

use super::definitions::{CodedValueSetDef, Definitions, ElementDef, ElementType, TypeDef, ValueSetDef};
use super::formats::PrimitiveType;

/// A version's [`Definitions`], kept as the generated text until first used (generated code
/// only: `DEFINITIONS` in each version's module). Dereferences to the decoded table.
pub struct LazyDefinitions {
    text: &'static str,
    table: OnceLock<Definitions>,
}

impl LazyDefinitions {
    /// The table written as `text` (the format in this module's documentation).
    pub const fn new(text: &'static str) -> LazyDefinitions {
        LazyDefinitions { text, table: OnceLock::new() }
    }

    /// The decoded table.
    pub fn get(&self) -> &Definitions {
        self.table.get_or_init(|| decode(self.text))
    }
}

impl std::ops::Deref for LazyDefinitions {
    type Target = Definitions;

    fn deref(&self) -> &Definitions {
        self.get()
    }
}

impl std::fmt::Debug for LazyDefinitions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyDefinitions").field("decoded", &self.table.get().is_some()).finish_non_exhaustive()
    }
}

/// Decodes the generated table. The text is fhirstorm-codegen's output compiled into the crate,
/// not input: a record it cannot read is a bug in the generator, reported as such.
fn decode(text: &'static str) -> Definitions {
    let mut types: Vec<TypeDef> = Vec::new();
    let mut elements: Vec<ElementDef> = Vec::new();
    let mut value_sets = Vec::new();
    let mut coded_value_sets = Vec::new();
    let (mut extension, mut json_comments) = (0, false);
    fn finish_type(types: &mut [TypeDef], elements: &mut Vec<ElementDef>) {
        if let Some(last) = types.last_mut() {
            last.elements = Box::leak(std::mem::take(elements).into_boxed_slice());
        }
    }
    for line in text.lines() {
        let mut fields = line.split('\t');
        let record = fields.next().unwrap_or("");
        let mut next = || fields.next().unwrap_or_else(|| corrupt(line));
        match record {
            "T" => {
                finish_type(&mut types, &mut elements);
                let (name, resource) = (next(), next() == "1");
                types.push(TypeDef { name, resource, elements: &[] });
            }
            "E" => {
                let (name, min, many, ty) = (next(), next(), next(), next());
                let min = min.parse().unwrap_or_else(|_| corrupt(line));
                elements.push(ElementDef { name, min, many: many == "1", ty: element_type(ty, line) });
            }
            "V" => {
                let url = next();
                let codes: Vec<&'static str> = fields.collect();
                value_sets.push(ValueSetDef { url, codes: Box::leak(codes.into_boxed_slice()) });
            }
            "C" => {
                let url = next();
                let rest: Vec<&'static str> = fields.collect();
                let codes: Vec<(&'static str, &'static str)> = rest.chunks(2).map(|p| (p[0], p[p.len() - 1])).collect();
                coded_value_sets.push(CodedValueSetDef { url, codes: Box::leak(codes.into_boxed_slice()) });
            }
            "X" => extension = next().parse().unwrap_or_else(|_| corrupt(line)),
            "J" => json_comments = next() == "1",
            "" => {}
            _ => corrupt(line),
        }
    }
    finish_type(&mut types, &mut elements);
    Definitions {
        types: Box::leak(types.into_boxed_slice()),
        value_sets: Box::leak(value_sets.into_boxed_slice()),
        coded_value_sets: Box::leak(coded_value_sets.into_boxed_slice()),
        extension,
        json_comments,
    }
}

fn element_type(code: &'static str, line: &str) -> ElementType {
    let index = |s: &str| s.parse::<u16>().unwrap_or_else(|_| corrupt(line));
    let (kind, rest) = code.split_at(code.len().min(1));
    match kind {
        "a" if rest.is_empty() => ElementType::Attribute(None),
        "a" => ElementType::Attribute(Some(primitive(rest, line))),
        "p" => match rest.split_once('/') {
            Some((p, set)) => ElementType::Primitive(primitive(p, line), Some(index(set))),
            None => ElementType::Primitive(primitive(rest, line), None),
        },
        "c" => ElementType::Complex(index(rest)),
        "k" => {
            let (ty, set) = rest.split_once('/').unwrap_or_else(|| corrupt(line));
            ElementType::Coded(index(ty), index(set))
        }
        "r" => ElementType::Resource,
        "x" => {
            let variants: Vec<(&'static str, ElementType)> = rest
                .split(';')
                .map(|v| {
                    let (suffix, ty) = v.split_once('=').unwrap_or_else(|| corrupt(line));
                    (suffix, element_type(ty, line))
                })
                .collect();
            ElementType::Choice(Box::leak(variants.into_boxed_slice()))
        }
        _ => corrupt(line),
    }
}

fn primitive(name: &str, line: &str) -> PrimitiveType {
    PrimitiveType::ALL.iter().copied().find(|p| p.name() == name).unwrap_or_else(|| corrupt(line))
}

#[cold]
fn corrupt(line: &str) -> ! {
    panic!("fhirstorm: the generated definitions table has a record this runtime cannot read: {line:?} (regenerate the models with the fhirstorm-codegen of this fhirstorm)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_record_and_type() {
        let text = "T\tCoding\t0\nE\tcode\t0\t0\tpCode\nT\tPatient\t1\nE\tid\t0\t0\taId\nE\tgender\t0\t0\tpCode/0\n\
                    E\tcontact\t0\t1\tc0\nE\tdeceased\t0\t0\txBoolean=pBoolean;DateTime=pDateTime\n\
                    E\tcontained\t0\t1\tr\nE\tmaritalStatus\t0\t0\tk0/0\nE\tdiv\t1\t0\ta\n\
                    V\thttp://x/vs\tmale\tfemale\nC\thttp://x/cvs\thttp://s\ta\thttp://s\tb\nX\t0\nJ\t1\n";
        let d = decode(Box::leak(text.to_string().into_boxed_str()));
        assert_eq!(d.types.len(), 2);
        assert_eq!(d.types[0].elements.len(), 1);
        let p = &d.types[1];
        assert!(p.resource && p.name == "Patient" && p.elements.len() == 7);
        assert!(matches!(p.elements[0].ty, ElementType::Attribute(Some(PrimitiveType::Id))));
        assert!(matches!(p.elements[1].ty, ElementType::Primitive(PrimitiveType::Code, Some(0))));
        assert!(matches!(p.elements[2].ty, ElementType::Complex(0)) && p.elements[2].many);
        match p.elements[3].ty {
            ElementType::Choice(v) => {
                assert_eq!(v.iter().map(|(s, _)| *s).collect::<Vec<_>>(), ["Boolean", "DateTime"])
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(p.elements[4].ty, ElementType::Resource));
        assert!(matches!(p.elements[5].ty, ElementType::Coded(0, 0)));
        assert!(matches!(p.elements[6].ty, ElementType::Attribute(None)) && p.elements[6].min == 1);
        assert_eq!(d.value_sets[0].codes, ["male", "female"]);
        assert_eq!(d.coded_value_sets[0].codes, [("http://s", "a"), ("http://s", "b")]);
        assert!(d.json_comments && d.extension == 0);
    }

    #[test]
    fn a_record_it_cannot_read_names_the_generator() {
        let e = std::panic::catch_unwind(|| decode("T\tX\t0\nE\tx\t0\t0\tq\n")).unwrap_err();
        let msg = e.downcast_ref::<String>().unwrap();
        assert!(msg.contains("regenerate") && msg.contains("E\\tx"), "{msg}");
    }
}
