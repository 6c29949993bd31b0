//! The version-neutral intermediate representation the emitter walks.

/// Everything generated for one FHIR version.
#[derive(Debug, Default)]
pub struct Model {
    /// The FHIR version the definitions declare, e.g. `4.0.1`.
    pub fhir_version: String,
    /// Complex datatypes, resources and backbone elements, in a stable order.
    pub structs: Vec<Struct>,
    /// Choice (`value[x]`) enums.
    pub choices: Vec<Choice>,
    /// Enums for codes with a required binding.
    pub codes: Vec<CodeEnum>,
    /// The value sets of required bindings on `Coding` and `CodeableConcept` elements that can be
    /// expanded, for validation.
    pub coded_bindings: Vec<CodedBinding>,
    /// Search parameters, per resource type.
    pub search_params: Vec<SearchParam>,
}

/// What a struct stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StructKind {
    /// A complex datatype such as `HumanName`.
    Datatype,
    /// A resource such as `Patient`.
    Resource,
    /// A backbone element such as `PatientContact`.
    Backbone,
}

/// A generated struct.
#[derive(Debug)]
pub struct Struct {
    /// Rust name (`PatientContact`).
    pub name: String,
    /// FHIR path (`Patient.contact`).
    pub path: String,
    /// Kind of definition.
    pub kind: StructKind,
    /// Short description from the definition.
    pub doc: String,
    /// Elements, in definition order.
    pub fields: Vec<Field>,
}

/// One element of a struct.
#[derive(Debug)]
pub struct Field {
    /// JSON member name, without `[x]` for choices (`deceased`).
    pub json: String,
    /// Rust field name (`birth_date`, `r#type`).
    pub rust: String,
    /// Short description.
    pub doc: String,
    /// Minimum cardinality.
    pub min: u32,
    /// Whether the element repeats (max > 1 or `*`).
    pub many: bool,
    /// Element type.
    pub ty: Ty,
    /// Whether the element is a modifier.
    pub modifier: bool,
    /// Whether the element is part of the summary.
    pub summary: bool,
    /// Boxed to break a containment cycle.
    pub boxed: bool,
    /// Reference targets (resource type names), for `Reference` elements.
    pub targets: Vec<String>,
    /// For a `Coding` or `CodeableConcept` element with a required binding that can be expanded:
    /// its index in `Model::coded_bindings`.
    pub binding: Option<usize>,
}

/// Primitive datatypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Prim {
    Boolean,
    Integer,
    Integer64,
    UnsignedInt,
    PositiveInt,
    Decimal,
    String,
    Code,
    Id,
    Markdown,
    Uri,
    Url,
    Canonical,
    Oid,
    Uuid,
    Base64Binary,
    Date,
    DateTime,
    Instant,
    Time,
    Xhtml,
}

impl Prim {
    /// The primitive named by a FHIR type code.
    pub fn from_code(code: &str) -> Option<Prim> {
        Some(match code {
            "boolean" => Prim::Boolean,
            "integer" => Prim::Integer,
            "integer64" => Prim::Integer64,
            "unsignedInt" => Prim::UnsignedInt,
            "positiveInt" => Prim::PositiveInt,
            "decimal" => Prim::Decimal,
            "string" => Prim::String,
            "code" => Prim::Code,
            "id" => Prim::Id,
            "markdown" => Prim::Markdown,
            "uri" => Prim::Uri,
            "url" => Prim::Url,
            "canonical" => Prim::Canonical,
            "oid" => Prim::Oid,
            "uuid" => Prim::Uuid,
            "base64Binary" => Prim::Base64Binary,
            "date" => Prim::Date,
            "dateTime" => Prim::DateTime,
            "instant" => Prim::Instant,
            "time" => Prim::Time,
            "xhtml" => Prim::Xhtml,
            _ => return None,
        })
    }
}

/// The type of an element.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// A primitive with its `_element` extension; the index of a code enum when bound.
    Prim(Prim, Option<usize>),
    /// A plain string with no `_element` (an XML attribute in FHIR's XML: `Element.id`, `Extension.url`).
    Plain,
    /// A struct by Rust name.
    Struct(String),
    /// Any resource (`contained`, `Bundle.entry.resource`).
    Resource,
    /// A choice enum by index.
    Choice(usize),
}

/// A choice element's enum.
#[derive(Debug)]
pub struct Choice {
    /// Rust name (`ObservationValue`).
    pub name: String,
    /// The element's JSON base name (`value`).
    pub json: String,
    /// The element's FHIR path, without `[x]` (`Observation.value`).
    pub path: String,
    /// Short description.
    pub doc: String,
    /// One variant per allowed type.
    pub variants: Vec<Variant>,
}

/// One type of a choice.
#[derive(Debug, PartialEq)]
pub struct Variant {
    /// Rust variant name and JSON key suffix (`Quantity`, `DateTime`).
    pub suffix: String,
    /// The FHIR type code (`Quantity`, `dateTime`).
    pub code: String,
    /// Variant type.
    pub ty: Ty,
    /// Reference targets, for `Reference`.
    pub targets: Vec<String>,
}

/// The codes of a required binding.
#[derive(Debug)]
pub struct CodeEnum {
    /// Rust name (`AdministrativeGender`).
    pub name: String,
    /// ValueSet canonical URL.
    pub url: String,
    /// Short description.
    pub doc: String,
    /// `(code, display)` pairs.
    pub codes: Vec<(String, String)>,
}

/// The codes of a required binding on a `Coding` or `CodeableConcept` element.
#[derive(Debug)]
pub struct CodedBinding {
    /// ValueSet canonical URL.
    pub url: String,
    /// `(system, code)` pairs.
    pub codes: Vec<(String, String)>,
}

/// A search parameter.
#[derive(Debug, Clone)]
pub struct SearchParam {
    /// Resource types it applies to.
    pub base: Vec<String>,
    /// The code used in a query (`birthdate`, `_id`).
    pub code: String,
    /// Parameter kind (`token`, `date`, ...).
    pub kind: String,
    /// Description.
    pub doc: String,
    /// FHIRPath expression, when given.
    pub expression: String,
    /// Allowed reference targets.
    pub targets: Vec<String>,
    /// For a composite parameter: the kinds of its components, in order (empty when a
    /// component's definition is not among the definitions).
    pub components: Vec<String>,
}
