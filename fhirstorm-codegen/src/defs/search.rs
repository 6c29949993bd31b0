//! Search parameters: each SearchParameter's code, kind, bases, targets and components (or,
//! for DSTU2, whose packages carry none, the parameters every resource has).

use super::{one_or_many, s, Builder};
use crate::ir::*;

impl Builder<'_> {
    pub(super) fn search_params(&mut self) {
        if self.defs.search_params.is_empty() {
            // No SearchParameter resources (DSTU2 in every registry package): only the two
            // parameters the specification's search page defines for every resource.
            for (code, kind, doc) in [
                ("_id", "token", "The logical id of the resource (common to all resources)"),
                ("_lastUpdated", "date", "When the resource version last changed (common to all resources)"),
            ] {
                self.model.search_params.push(SearchParam {
                    base: vec!["Resource".into()],
                    code: code.into(),
                    kind: kind.into(),
                    doc: doc.into(),
                    expression: String::new(),
                    targets: Vec::new(),
                    components: Vec::new(),
                });
            }
        }
        // Composite components name their parameters by canonical URL.
        let mut kinds: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        for sp in &self.defs.search_params {
            let kind = s(sp, "type").to_string();
            let url = s(sp, "url");
            if !url.is_empty() {
                kinds.insert(url.to_string(), kind.clone());
            }
            let id = s(sp, "id");
            if !id.is_empty() {
                kinds.insert(format!("http://hl7.org/fhir/SearchParameter/{id}"), kind);
            }
        }
        for sp in &self.defs.search_params {
            let base: Vec<String> = sp
                .get("base")
                .map(one_or_many)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            let targets: Vec<String> = sp
                .get("target")
                .map(one_or_many)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            let mut components: Vec<String> = Vec::new();
            for c in sp.get("component").map(one_or_many).into_iter().flatten() {
                // `definition` is a canonical URL (R4) or a Reference to one (STU3).
                let def = c.get("definition");
                let url = def
                    .and_then(|d| d.as_str())
                    .or_else(|| def.and_then(|d| d.get("reference")).and_then(|r| r.as_str()));
                match url.and_then(|u| kinds.get(u)) {
                    Some(k) => components.push(k.clone()),
                    None => {
                        components.clear();
                        break;
                    }
                }
            }
            self.model.search_params.push(SearchParam {
                base,
                components,
                code: s(sp, "code").to_string(),
                kind: s(sp, "type").to_string(),
                doc: s(sp, "description").to_string(),
                expression: s(sp, "expression").to_string(),
                targets,
            });
        }
    }
}
