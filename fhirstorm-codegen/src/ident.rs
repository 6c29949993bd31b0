//! Naming: FHIR names to Rust identifiers.

/// Rust keywords that cannot be used as plain identifiers.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn", "else",
    "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod",
    "move", "mut", "override", "priv", "pub", "ref", "return", "static", "struct", "super", "trait", "true", "try",
    "type", "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Identifiers that cannot even be raw (`r#self` is invalid).
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Splits a name into words at case changes and non-alphanumeric characters.
fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let boundary = if let Some(&prev) = cur.chars().last().as_ref() {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            (c.is_ascii_uppercase() && (prev.is_ascii_lowercase() || prev.is_ascii_digit()))
                || (c.is_ascii_uppercase() && prev.is_ascii_uppercase() && next_lower)
        } else {
            false
        };
        if boundary {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `birthDate` → `birth_date`, `type` → `r#type`; `unnamed` for a name with no letters or digits.
pub fn snake(name: &str) -> String {
    let s = words(name).iter().map(|w| w.to_ascii_lowercase()).collect::<Vec<_>>().join("_");
    if s.is_empty() {
        return "unnamed".to_string();
    }
    escape_keyword(s)
}

/// Escapes a keyword: `type` → `r#type`; `self` → `self_`.
pub fn escape_keyword(s: String) -> String {
    if NOT_RAW.contains(&s.as_str()) {
        format!("{s}_")
    } else if KEYWORDS.contains(&s.as_str()) {
        format!("r#{s}")
    } else {
        s
    }
}

/// `contact` → `Contact`, `entered-in-error` → `EnteredInError`, `dateTime` → `DateTime`;
/// `Unnamed` for a name with no letters or digits.
pub fn upper_camel(name: &str) -> String {
    let mut s = String::new();
    for w in words(name) {
        let mut cs = w.chars();
        if let Some(f) = cs.next() {
            s.push(f.to_ascii_uppercase());
            // Keep the rest as written when it is mixed case (`dateTime`), else lower it (`ABC` → `Abc`).
            let rest: String = cs.collect();
            if rest.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
                s.push_str(&rest.to_ascii_lowercase());
            } else {
                s.push_str(&rest);
            }
        }
    }
    if s.is_empty() {
        "Unnamed".to_string()
    } else {
        s
    }
}

/// Keeps the original capitalisation of a type name while making it a valid identifier:
/// `CodeableConcept` stays, `dateTime` → `DateTime`; `Unnamed` for a name with no letters or
/// digits.
pub fn type_name(name: &str) -> String {
    let mut s = String::new();
    for w in words(name) {
        let mut cs = w.chars();
        if let Some(f) = cs.next() {
            s.push(f.to_ascii_uppercase());
            s.extend(cs);
        }
    }
    if s.is_empty() {
        "Unnamed".to_string()
    } else {
        s
    }
}

/// A variant name for a code: `entered-in-error` → `EnteredInError`, `<=` → `LessOrEqual`,
/// `1.0.2` → `V1_0_2`, `text/plain` → `TextPlain`.
pub fn code_variant(code: &str) -> String {
    let symbolic = match code {
        "<" => Some("LessThan"),
        "<=" => Some("LessOrEqual"),
        ">" => Some("GreaterThan"),
        ">=" => Some("GreaterOrEqual"),
        "=" => Some("Equal"),
        "!=" => Some("NotEqual"),
        "*" => Some("Any"),
        "+" => Some("Plus"),
        "-" => Some("Minus"),
        "/" => Some("Slash"),
        "" => Some("Empty"),
        _ => None,
    };
    if let Some(s) = symbolic {
        return s.to_string();
    }
    if code.starts_with(|c: char| c.is_ascii_digit()) {
        // `1.0.2` → `V1_0_2`, `4.3.0-cibuild` → `V4_3_0Cibuild`: digit runs joined by `_`,
        // letter runs as camel-case words (an `_` before a lower-case letter is not camel case).
        let mut out = String::from("V");
        let mut last_digits = false;
        let mut chars = code.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_digit() {
                if last_digits {
                    out.push('_');
                }
                while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    out.push(d);
                    chars.next();
                }
                last_digits = true;
            } else if c.is_ascii_alphabetic() {
                out.push(c.to_ascii_uppercase());
                chars.next();
                while let Some(&l) = chars.peek().filter(|l| l.is_ascii_alphabetic()) {
                    out.push(l);
                    chars.next();
                }
                last_digits = false;
            } else {
                chars.next();
            }
        }
        return out;
    }
    let s = upper_camel(code);
    if s.is_empty() {
        let hex: String = code.bytes().map(|b| format!("{b:02X}")).collect();
        return format!("X{hex}");
    }
    // `self` (an IANA link relation, bound in R5's `Bundle.link.relation`) cannot be `Self`.
    if NOT_RAW.contains(&s.as_str()) {
        return format!("{s}_");
    }
    s
}

/// The conventional marker name of a FHIR version: `1.0.2` → `Dstu2`, `3.0.1` → `Stu3`,
/// `4.0.1` → `R4`, `4.3.0` → `R4B`, `5.0.0` → `R5`.
pub fn marker_for(fhir_version: &str) -> String {
    let mut parts = fhir_version.split('.');
    match (parts.next(), parts.next()) {
        (Some("1"), Some("0")) => "Dstu2".into(),
        (Some("3"), Some("0")) => "Stu3".into(),
        (Some("4"), Some("0")) => "R4".into(),
        (Some("4"), Some("3")) => "R4B".into(),
        (Some(major), _) if major.parse::<u32>().is_ok_and(|m| m >= 5) => format!("R{major}"),
        _ => format!("Fhir{}", fhir_version.replace('.', "_")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_names() {
        assert_eq!(snake("birthDate"), "birth_date");
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("modifierExtension"), "modifier_extension");
        assert_eq!(snake("_lastUpdated"), "last_updated");
        assert_eq!(snake("address-postalcode"), "address_postalcode");
        assert_eq!(snake("valueSetURI"), "value_set_uri");
        assert_eq!(snake("self"), "self_");
    }

    #[test]
    fn camel_names() {
        assert_eq!(upper_camel("contact"), "Contact");
        assert_eq!(upper_camel("entered-in-error"), "EnteredInError");
        assert_eq!(type_name("dateTime"), "DateTime");
        assert_eq!(type_name("CodeableConcept"), "CodeableConcept");
        assert_eq!(code_variant("<="), "LessOrEqual");
        assert_eq!(code_variant("1.0.2"), "V1_0_2");
        assert_eq!(code_variant("4.3.0-cibuild"), "V4_3_0Cibuild");
        assert_eq!(code_variant("self"), "Self_");
        assert_eq!(code_variant("4.3.0-snapshot1"), "V4_3_0Snapshot1");
        assert_eq!(code_variant("0.01"), "V0_01");
        assert_eq!(code_variant("text/plain"), "TextPlain");
        assert_eq!(code_variant("SNOMED"), "Snomed");
    }
}
