//! The functions an expression may call, with how many arguments each takes: FHIRPath's own
//! (normative 2.0, and the 2.1 additions FHIR uses), FHIR's additions, and the terminology
//! service's (`%terminologies.expand(…)`). A call of another name, or with another number of
//! arguments, is refused when the expression is compiled.

/// A function's name and the fewest and most arguments it takes.
const FUNCTIONS: &[(&str, u8, u8)] = &[
    // Existence
    ("empty", 0, 0),
    ("exists", 0, 1),
    ("all", 1, 1),
    ("allTrue", 0, 0),
    ("anyTrue", 0, 0),
    ("allFalse", 0, 0),
    ("anyFalse", 0, 0),
    ("subsetOf", 1, 1),
    ("supersetOf", 1, 1),
    ("count", 0, 0),
    ("distinct", 0, 0),
    ("isDistinct", 0, 0),
    // Filtering and projection
    ("where", 1, 1),
    ("select", 1, 1),
    ("repeat", 1, 1),
    ("repeatAll", 1, 1),
    ("ofType", 1, 1),
    // Subsetting
    ("single", 0, 0),
    ("first", 0, 0),
    ("last", 0, 0),
    ("tail", 0, 0),
    ("skip", 1, 1),
    ("take", 1, 1),
    ("intersect", 1, 1),
    ("exclude", 1, 1),
    // Combining
    ("union", 1, 1),
    ("combine", 1, 1),
    // Conversion
    ("iif", 2, 3),
    ("toBoolean", 0, 0),
    ("convertsToBoolean", 0, 0),
    ("toInteger", 0, 0),
    ("convertsToInteger", 0, 0),
    ("toLong", 0, 0),
    ("convertsToLong", 0, 0),
    ("toDate", 0, 0),
    ("convertsToDate", 0, 0),
    ("toDateTime", 0, 0),
    ("convertsToDateTime", 0, 0),
    ("toDecimal", 0, 0),
    ("convertsToDecimal", 0, 0),
    ("toQuantity", 0, 1),
    ("convertsToQuantity", 0, 1),
    ("toString", 0, 0),
    ("convertsToString", 0, 0),
    ("toTime", 0, 0),
    ("convertsToTime", 0, 0),
    // Strings
    ("indexOf", 1, 1),
    ("lastIndexOf", 1, 1),
    ("substring", 1, 2),
    ("startsWith", 1, 1),
    ("endsWith", 1, 1),
    ("contains", 1, 1),
    ("upper", 0, 0),
    ("lower", 0, 0),
    ("replace", 2, 2),
    ("matches", 1, 2),
    ("matchesFull", 1, 2),
    ("replaceMatches", 2, 3),
    ("length", 0, 0),
    ("toChars", 0, 0),
    ("split", 1, 1),
    ("join", 0, 1),
    ("trim", 0, 0),
    ("encode", 1, 1),
    ("decode", 1, 1),
    ("escape", 1, 1),
    ("unescape", 1, 1),
    // Math
    ("abs", 0, 0),
    ("ceiling", 0, 0),
    ("exp", 0, 0),
    ("floor", 0, 0),
    ("ln", 0, 0),
    ("log", 1, 1),
    ("power", 1, 1),
    ("round", 0, 1),
    ("sqrt", 0, 0),
    ("truncate", 0, 0),
    // Tree navigation
    ("children", 0, 0),
    ("descendants", 0, 0),
    // Utility
    ("trace", 1, 2),
    ("now", 0, 0),
    ("timeOfDay", 0, 0),
    ("today", 0, 0),
    ("defineVariable", 1, 2),
    ("lowBoundary", 0, 1),
    ("highBoundary", 0, 1),
    ("precision", 0, 0),
    ("comparable", 1, 1),
    ("sort", 0, 255),
    ("coalesce", 1, 255),
    // Date and time components
    ("yearOf", 0, 0),
    ("monthOf", 0, 0),
    ("dayOf", 0, 0),
    ("hourOf", 0, 0),
    ("minuteOf", 0, 0),
    ("secondOf", 0, 0),
    ("millisecondOf", 0, 0),
    ("timezoneOffsetOf", 0, 0),
    ("dateOf", 0, 0),
    ("timeOf", 0, 0),
    ("duration", 2, 2),
    ("difference", 2, 2),
    // Aggregates
    ("aggregate", 1, 2),
    ("sum", 0, 0),
    ("min", 0, 0),
    ("max", 0, 0),
    ("avg", 0, 0),
    // Types
    ("is", 1, 1),
    ("as", 1, 1),
    ("type", 0, 0),
    // Boolean
    ("not", 0, 0),
    // FHIR's additions
    ("extension", 1, 1),
    // `extension(url).exists()`: not in the specification's list, but R4's own definitions use
    // it (QuestionnaireResponse's `subject` search parameter), as engines that read them accept.
    ("hasExtension", 1, 1),
    ("hasValue", 0, 0),
    ("getValue", 0, 0),
    ("resolve", 0, 0),
    ("elementDefinition", 0, 0),
    ("slice", 2, 2),
    ("checkModifiers", 1, 1),
    ("conformsTo", 1, 1),
    ("memberOf", 1, 1),
    ("subsumes", 1, 3),
    ("subsumedBy", 1, 1),
    ("htmlChecks", 0, 0),
    ("htmlchecks", 0, 0),
    // CDA documents (the C-CDA logical model)
    ("hasTemplateIdOf", 1, 1),
    // The terminology service (`%terminologies`)
    ("expand", 1, 2),
    ("lookup", 1, 2),
    ("validateVS", 2, 3),
    ("validateCS", 2, 3),
    ("translate", 2, 3),
];

/// The fewest and most arguments the function `name` takes, if FHIRPath has it.
pub(crate) fn arity(name: &str) -> Option<(usize, usize)> {
    FUNCTIONS.iter().find(|(n, ..)| *n == name).map(|&(_, min, max)| (min as usize, max as usize))
}

/// The functions whose argument is a type's name (`ofType(Patient)`), not an expression.
pub(crate) fn takes_a_type(name: &str) -> bool {
    matches!(name, "is" | "as" | "ofType")
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_name_once() {
        let mut names: Vec<&str> = super::FUNCTIONS.iter().map(|f| f.0).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a function listed twice");
    }
}
