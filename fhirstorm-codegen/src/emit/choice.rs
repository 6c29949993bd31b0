//! Choice elements (`value[x]`): one enum per distinct list of types, its reader and writer, and
//! the member a struct with choice elements hands to them.
//!
//! Elements whose types are the same list (every open-type element — `Extension.value[x]`,
//! `ElementDefinition.fixed[x]`, `Parameters.parameter.value[x]` … — and many pairs such as
//! `CodeableConcept | Reference`) share one enum: each element keeps its own name for it, as a
//! type alias, and the variants' readers are compiled once. The enum is named after the element
//! with the shortest path, so `Extension.value[x]` names the open type.

use super::{list, lit, md, Code, Emitter};
use crate::ir::*;

/// For each choice, the index of the choice whose enum it uses: itself, or the one with the
/// same variants (types, in order, and reference targets) and the shortest path.
pub(super) fn canonical(model: &Model) -> Vec<usize> {
    let choices = &model.choices;
    (0..choices.len())
        .map(|i| {
            (0..choices.len())
                .filter(|&j| choices[j].variants == choices[i].variants)
                .min_by_key(|&j| (choices[j].path.len(), j))
                .unwrap_or(i)
        })
        .collect()
}

impl Emitter<'_> {
    /// The enum of choice `i`, or its alias when it shares another's.
    pub(super) fn choice(&self, c: &mut Code, i: usize) {
        let ch = &self.model.choices[i];
        let name = &ch.name;
        let canon = self.canon[i];
        if canon != i {
            let target = &self.model.choices[canon].name;
            c.doc(&format!(
                "{}\n\nThe choice element `{}[x]`: the same types as [`{target}`], whose enum it is.",
                md(&ch.doc),
                ch.path
            ));
            c.line(format!("pub type {name} = {target};"));
            return;
        }
        let users: Vec<&Choice> =
            (0..self.canon.len()).filter(|&j| self.canon[j] == i && j != i).map(|j| &self.model.choices[j]).collect();
        let mut doc = format!("{}\n\nThe choice element `{}[x]`.", md(&ch.doc), ch.path);
        if !users.is_empty() {
            let names = list(users.iter().map(|u| format!("`{}[x]` ([`{}`])", u.path, u.name)));
            doc.push_str(&format!(" Also the type of {names}: elements with the same types."));
        }
        c.doc(&doc);
        c.line("#[derive(Clone, Debug, PartialEq)]");
        c.open(format!("pub enum {name}"));
        for v in &ch.variants {
            let t = self.ty(&v.ty, false);
            let t = match v.ty {
                Ty::Struct(_) | Ty::Resource => format!("Box<{t}>"),
                _ => t,
            };
            let mut text = match users.is_empty() {
                true => format!("`{}{}`", ch.json, v.suffix),
                false => format!("`{}` (`{}{}`)", v.code, ch.json, v.suffix),
            };
            if !v.targets.is_empty() {
                text.push_str(&format!(": references {}", v.targets.join(", ")));
            }
            c.doc(&text);
            c.line(format!("{}({t}),", v.suffix));
        }
        c.close("");
        c.open(format!("impl {name}"));
        c.doc("The FHIR type of the value (`Quantity`, `dateTime`).");
        c.match_fn(
            "pub fn type_code(&self) -> &'static str",
            "self",
            ch.variants.iter().map(|v| format!("Self::{}(_) => {},", v.suffix, lit(&v.code))),
        );
        c.close("");
        c.open(format!("impl hooks::ChoiceJson for {name}"));
        let arms = ch.variants.iter().map(|v| match v.ty {
            Ty::Prim(..) => format!("Self::{0}(v) => w.choice_prim(base, {1}, v),", v.suffix, lit(&v.suffix)),
            _ => format!("Self::{0}(v) => w.choice(base, {1}, v),", v.suffix, lit(&v.suffix)),
        });
        c.match_fn("fn write_field(&self, w: &mut json::Writer, base: &str)", "self", arms);
        self.read_variant(c, ch);
        c.close("");
    }

    /// `ChoiceJson::read_variant`: a `match` on the suffix for the value members and one for the
    /// primitive types' `_` members.
    fn read_variant(&self, c: &mut Code, ch: &Choice) {
        c.open_bare("fn read_variant(");
        c.line("slot: &mut Option<Self>,");
        c.line("p: &mut json::Parser<'_>,");
        c.line("ext: bool,");
        c.line("suffix: &str,");
        c.close_bare_open(") -> Option<Result<(), json::Error>>");
        let arm = |v: &Variant, read: &str| {
            format!("{} => crate::__choice!(p, *slot, Self::{}, hooks::{read}),", lit(&v.suffix), v.suffix)
        };
        let prims: Vec<&Variant> = ch.variants.iter().filter(|v| matches!(v.ty, Ty::Prim(..))).collect();
        let values = |c: &mut Code, head: &str, tail: &str| {
            c.open(head);
            for v in &ch.variants {
                c.line(arm(v, if matches!(v.ty, Ty::Prim(..)) { "prim_in" } else { "read_in" }));
            }
            c.line("_ => return None,");
            c.close(tail);
        };
        if prims.is_empty() {
            c.open("if ext");
            c.line("return None;");
            c.close("");
            values(c, "Some(match suffix", ")");
        } else {
            c.open("Some(if ext");
            c.open("match suffix");
            for v in &prims {
                c.line(arm(v, "prim_ext_in"));
            }
            c.line("_ => return None,");
            c.close("");
            c.reopen("else");
            values(c, "match suffix", "");
            c.close(")");
        }
        c.close("");
    }

    /// The last arm of a struct's reader when it has choice elements: every other member goes to
    /// `hooks::choice` with the struct's choice field, or `hooks::choices` with its choice fields,
    /// longest base name first (so that a base that begins another does not take its members).
    pub(super) fn choices_arm(&self, c: &mut Code, st: &Struct) -> bool {
        let mut fields: Vec<(&str, &str)> = st
            .fields
            .iter()
            .filter_map(|f| match f.ty {
                Ty::Choice(i) => Some((self.model.choices[i].json.as_str(), f.rust.as_str())),
                _ => None,
            })
            .collect();
        if fields.is_empty() {
            return false;
        }
        if let [(json, rust)] = fields[..] {
            c.line(format!("_ => hooks::choice(p, &mut self.unknown, key, {}, &mut self.{rust}),", lit(json)));
            return true;
        }
        fields.sort_by_key(|(json, _)| std::cmp::Reverse(json.len()));
        let slots = list(fields.iter().map(|(json, rust)| format!("({}, &mut self.{rust})", lit(json))));
        c.line(format!("_ => hooks::choices(p, &mut self.unknown, key, &mut [{slots}]),"));
        true
    }
}
