//! Reads the official DSTU2 XML schemas (`fhir-base.xsd` and one `.xsd` per resource) into
//! DSTU2-format StructureDefinitions and ValueSets, for what no registry package carries as
//! definitions: the DSTU2 datatypes, the resources missing from the packaged profiles (Account,
//! Contract) and the code lists of required bindings.
//!
//! The schemas are read once, by `fhirstorm-codegen trim --xsd DIR`; the result is vendored in
//! the trimmed Bundle (each generated resource says it was derived from the schemas), so builds
//! never parse XML.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::{json, Value};

use crate::ir::Prim;
use crate::Error;

/// An XML element: name, attributes, children, text.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
    text: String,
}

impl Node {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    fn kids<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    fn kid<'a>(&'a self, name: &'a str) -> Option<&'a Node> {
        self.kids(name).next()
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&apos;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// A small XML reader, enough for the FHIR schemas: elements, attributes, text, comments,
/// processing instructions and CDATA.
fn parse_xml(src: &str) -> Result<Node, Error> {
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut rest = src;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("<?") {
            rest = r.split_once("?>").ok_or_else(|| Error::new("xml: unterminated <?"))?.1;
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = r.split_once("-->").ok_or_else(|| Error::new("xml: unterminated comment"))?.1;
        } else if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let (text, after) = r.split_once("]]>").ok_or_else(|| Error::new("xml: unterminated CDATA"))?;
            if let Some(top) = stack.last_mut() {
                top.text.push_str(text);
            }
            rest = after;
        } else if let Some(r) = rest.strip_prefix("<!") {
            rest = r.split_once('>').ok_or_else(|| Error::new("xml: unterminated <!"))?.1;
        } else if let Some(r) = rest.strip_prefix("</") {
            let (_, after) = r.split_once('>').ok_or_else(|| Error::new("xml: unterminated end tag"))?;
            let node = stack.pop().ok_or_else(|| Error::new("xml: unbalanced end tag"))?;
            stack.last_mut().ok_or_else(|| Error::new("xml: unbalanced end tag"))?.children.push(node);
            rest = after;
        } else if let Some(r) = rest.strip_prefix('<') {
            let end = r.find('>').ok_or_else(|| Error::new("xml: unterminated tag"))?;
            let (mut tag, after) = (&r[..end], &r[end + 1..]);
            let self_closing = tag.ends_with('/');
            if self_closing {
                tag = &tag[..tag.len() - 1];
            }
            let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
            let mut node = Node { name: tag[..name_end].to_string(), ..Node::default() };
            let mut a = &tag[name_end..];
            while let Some(eq) = a.find('=') {
                let key = a[..eq].trim().to_string();
                let v = a[eq + 1..].trim_start();
                let q = v.chars().next().ok_or_else(|| Error::new("xml: bad attribute"))?;
                let close = v[1..].find(q).ok_or_else(|| Error::new("xml: unterminated attribute"))?;
                node.attrs.push((key, unescape(&v[1..1 + close])));
                a = &v[close + 2..];
            }
            if self_closing {
                stack.last_mut().ok_or_else(|| Error::new("xml: no parent"))?.children.push(node);
            } else {
                stack.push(node);
            }
            rest = after;
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            if let Some(top) = stack.last_mut() {
                top.text.push_str(&unescape(&rest[..end]));
            }
            rest = &rest[end..];
        }
    }
    let mut root = stack.pop().ok_or_else(|| Error::new("xml: empty"))?;
    if !stack.is_empty() {
        return Err(Error::new("xml: unclosed elements"));
    }
    Ok(root.children.pop().unwrap_or_default())
}

/// The first sentence of a schema's documentation.
fn first_sentence(text: &str) -> String {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match t.find(". ") {
        Some(i) => t[..=i].to_string(),
        None => t,
    }
}

fn documentation(node: &Node) -> String {
    node.kid("xs:annotation")
        .and_then(|a| a.kid("xs:documentation"))
        .map(|d| first_sentence(&d.text))
        .unwrap_or_default()
}

/// The schemas' complex and simple types, by name.
struct Schema {
    complex: HashMap<String, Node>,
    lists: HashMap<String, Vec<(String, String)>>,
}

impl Schema {
    /// The base type of a complex type, if it extends one.
    fn base(&self, name: &str) -> Option<String> {
        let ct = self.complex.get(name)?;
        ct.kid("xs:complexContent")?.kid("xs:extension")?.attr("base").map(String::from)
    }

    /// The `-list` simple type behind a code type (`AdministrativeGender`), if it is one.
    fn code_list(&self, type_name: &str) -> Option<&str> {
        let ct = self.complex.get(type_name)?;
        let ext = ct.kid("xs:complexContent")?.kid("xs:extension")?;
        let value = ext.kids("xs:attribute").find(|a| a.attr("name") == Some("value"))?;
        let t = value.attr("type")?;
        (t.ends_with("-list") && self.lists.contains_key(t)).then_some(t)
    }

    /// The `value` attribute's type, for a primitive-like complex type that is not a FHIR
    /// primitive itself (`SampledDataDataType`).
    fn value_type(&self, type_name: &str) -> Option<&str> {
        if Prim::from_code(type_name).is_some() {
            return None;
        }
        let ct = self.complex.get(type_name)?;
        let ext = ct.kid("xs:complexContent")?.kid("xs:extension")?;
        ext.kids("xs:attribute").find(|a| a.attr("name") == Some("value"))?.attr("type")
    }

    /// The content of a complex type: its own (`extension` or plain) sequence and attributes.
    fn content<'a>(&'a self, name: &str) -> Option<&'a Node> {
        let ct = self.complex.get(name)?;
        let cc = ct.kid("xs:complexContent");
        Some(cc.and_then(|c| c.kid("xs:extension").or_else(|| c.kid("xs:restriction"))).unwrap_or(ct))
    }

    /// The type a complex type restricts (`Money` restricts `Quantity`, listing all its content).
    fn restricts(&self, name: &str) -> Option<&str> {
        self.complex.get(name)?.kid("xs:complexContent")?.kid("xs:restriction")?.attr("base")
    }
}

/// One element of a synthesized StructureDefinition.
struct El {
    path: String,
    short: String,
    min: u64,
    max: String,
    types: Vec<String>,
    xml_attr: bool,
    content_reference: Option<String>,
    binding: Option<String>,
}

struct Synth<'s> {
    schema: &'s Schema,
    value_sets: &'s mut BTreeMap<String, Value>,
    /// Backbone type name → the path it was first expanded at.
    expanded: HashMap<String, String>,
}

pub(crate) const LIST_URL: &str = "urn:fhirstorm:dstu2-xsd:";

impl Synth<'_> {
    fn type_code(&mut self, t: &str) -> (String, Option<String>) {
        if let Some(list) = self.schema.code_list(t) {
            let url = format!("{LIST_URL}{}", list.trim_end_matches("-list"));
            self.value_sets.entry(url.clone()).or_insert_with(|| list_value_set(&url, list, &self.schema.lists[list]));
            return ("code".into(), Some(url));
        }
        // A restricted primitive (`SampledDataDataType`): its `value` attribute's primitive.
        if let Some(value) = self.schema.value_type(t) {
            let prim = value.trim_end_matches("-primitive");
            return (if Prim::from_code(prim).is_some() { prim.to_string() } else { "string".into() }, None);
        }
        match t {
            "ResourceContainer" => ("Resource".into(), None),
            "xhtml:div" => ("xhtml".into(), None),
            other => (other.to_string(), None),
        }
    }

    /// Appends the elements of complex type `ty` at `path`, inherited ones first.
    fn elements(&mut self, ty: &str, path: &str, out: &mut Vec<El>) -> Result<(), Error> {
        if let Some(base) = self.schema.base(ty) {
            self.elements(&base, path, out)?;
        }
        let content = self.schema.content(ty).ok_or_else(|| Error::new(format!("xsd: no type {ty}")))?;
        for attr in content.kids("xs:attribute") {
            let name = attr.attr("name").unwrap_or("");
            if name == "value" {
                continue;
            }
            let t = attr.attr("type").unwrap_or("string").trim_end_matches("-primitive");
            out.push(El {
                path: format!("{path}.{name}"),
                short: documentation(attr),
                min: u64::from(attr.attr("use") == Some("required")),
                max: "1".into(),
                types: vec![t.to_string()],
                xml_attr: true,
                content_reference: None,
                binding: None,
            });
        }
        if let Some(seq) = content.kid("xs:sequence") {
            for item in &seq.children {
                match item.name.as_str() {
                    "xs:element" => self.element(item, path, out)?,
                    "xs:choice" => self.choice(item, path, out)?,
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn element(&mut self, e: &Node, path: &str, out: &mut Vec<El>) -> Result<(), Error> {
        let (name, t) = match (e.attr("name"), e.attr("type"), e.attr("ref")) {
            (Some(n), Some(t), _) => (n.to_string(), t.to_string()),
            (_, _, Some("xhtml:div")) => ("div".to_string(), "xhtml:div".to_string()),
            _ => return Ok(()),
        };
        let min: u64 = e.attr("minOccurs").and_then(|m| m.parse().ok()).unwrap_or(1);
        let max = match e.attr("maxOccurs") {
            Some("unbounded") => "*".to_string(),
            Some(m) => m.to_string(),
            None => "1".to_string(),
        };
        let epath = format!("{path}.{name}");
        let short = documentation(e);
        if t.contains('.') {
            // A backbone element, defined by its own complex type (`Timing.Repeat`).
            if let Some(first) = self.expanded.get(&t) {
                let first = first.clone();
                out.push(El {
                    path: epath,
                    short,
                    min,
                    max,
                    types: vec![],
                    xml_attr: false,
                    content_reference: Some(format!("#{first}")),
                    binding: None,
                });
                return Ok(());
            }
            self.expanded.insert(t.clone(), epath.clone());
            out.push(El {
                path: epath.clone(),
                short,
                min,
                max,
                types: vec!["BackboneElement".into()],
                xml_attr: false,
                content_reference: None,
                binding: None,
            });
            return self.elements(&t, &epath, out);
        }
        let (code, binding) = self.type_code(&t);
        out.push(El {
            path: epath,
            short,
            min,
            max,
            types: vec![code],
            xml_attr: false,
            content_reference: None,
            binding,
        });
        Ok(())
    }

    fn choice(&mut self, c: &Node, path: &str, out: &mut Vec<El>) -> Result<(), Error> {
        let items: Vec<(&str, &str)> =
            c.kids("xs:element").filter_map(|e| Some((e.attr("name")?, e.attr("type")?))).collect();
        let Some(&(first, first_type)) = items.first() else { return Ok(()) };
        // The element's base name: what all names share before their type suffix.
        let upper = |t: &str| {
            let mut cs = t.chars();
            cs.next().map(|f| f.to_ascii_uppercase().to_string() + cs.as_str()).unwrap_or_default()
        };
        let base = if items.len() > 1 {
            let mut n = first.len();
            for (name, _) in &items {
                n = n.min(first.bytes().zip(name.bytes()).take_while(|(a, b)| a == b).count());
            }
            while n > 0 && !first[n..].starts_with(|ch: char| ch.is_ascii_uppercase()) {
                n -= 1;
            }
            first[..n].to_string()
        } else if let Some(b) = first.strip_suffix(&upper(first_type)) {
            b.to_string()
        } else {
            let i = first.find(|ch: char| ch.is_ascii_uppercase()).unwrap_or(first.len());
            first[..i].to_string()
        };
        let mut types = Vec::new();
        for (name, _) in &items {
            let suffix = &name[base.len()..];
            let lower = {
                let mut cs = suffix.chars();
                cs.next().map(|f| f.to_ascii_lowercase().to_string() + cs.as_str()).unwrap_or_default()
            };
            types.push(if Prim::from_code(&lower).is_some() { lower } else { suffix.to_string() });
        }
        out.push(El {
            path: format!("{path}.{base}[x]"),
            short: documentation(c),
            min: c.attr("minOccurs").and_then(|m| m.parse().ok()).unwrap_or(1),
            max: match c.attr("maxOccurs") {
                Some("unbounded") => "*".into(),
                Some(m) => m.into(),
                None => "1".into(),
            },
            types,
            xml_attr: false,
            content_reference: None,
            binding: None,
        });
        Ok(())
    }
}

fn list_value_set(url: &str, list: &str, codes: &[(String, String)]) -> Value {
    let name = list.trim_end_matches("-list");
    json!({
        "resourceType": "ValueSet",
        "url": url,
        "name": name,
        "description": format!("The codes of the official DSTU2 schema's {list} (derived by fhirstorm-codegen)"),
        "codeSystem": {
            "system": url,
            "concept": codes.iter().map(|(c, d)| json!({"code": c, "display": d})).collect::<Vec<_>>()
        }
    })
}

fn to_structure_definition(name: &str, kind: &str, short: &str, els: &[El]) -> Value {
    let mut elements = vec![json!({"path": name, "short": short, "min": 0, "max": "*"})];
    for e in els {
        let mut v = json!({"path": e.path, "short": e.short, "min": e.min, "max": e.max});
        if !e.types.is_empty() {
            v["type"] = Value::Array(e.types.iter().map(|t| json!({"code": t})).collect());
        }
        if e.xml_attr {
            v["representation"] = json!(["xmlAttr"]);
        }
        if let Some(r) = &e.content_reference {
            v["contentReference"] = json!(r);
        }
        if let Some(b) = &e.binding {
            v["binding"] = json!({"strength": "required", "valueSetUri": b});
        }
        elements.push(v);
    }
    json!({
        "resourceType": "StructureDefinition",
        "id": name,
        "url": format!("http://hl7.org/fhir/StructureDefinition/{name}"),
        "name": name,
        "kind": kind,
        "abstract": false,
        "fhirVersion": "1.0.2",
        "publisher": "Derived by fhirstorm-codegen from the official DSTU2 XML schema",
        "snapshot": {"element": elements}
    })
}

/// What the schemas add to a DSTU2 definitions set.
pub struct Derived {
    /// StructureDefinitions for the datatypes and the resources the packaged profiles lack.
    pub structures: Vec<Value>,
    /// ValueSets of the schemas' code lists, keyed by URL.
    pub value_sets: BTreeMap<String, Value>,
    /// For each element path (`Patient.gender`), the URL of its code list's ValueSet.
    pub code_lists_by_path: HashMap<String, String>,
    /// Every code list's ValueSet, by the list's name without `-list` (`AdministrativeGender`).
    pub code_lists_by_name: BTreeMap<String, Value>,
}

/// Reads every `.xsd` in `dir`. `have` names the types that already have StructureDefinitions.
pub fn derive(dir: &Path, have: &[String]) -> Result<Derived, Error> {
    let mut complex = HashMap::new();
    let mut lists = HashMap::new();
    let mut resources = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::new(format!("reading {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xsd"))
        .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("fhir-") && n != "fhir-base.xsd"))
        .filter(|p| !p.file_name().is_some_and(|n| n == "xml.xsd" || n == "xmldsig-core-schema.xsd"))
        .collect();
    files.sort();
    let mut base_types = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).map_err(|e| Error::new(format!("reading {}: {e}", f.display())))?;
        let root = parse_xml(&text).map_err(|e| Error::new(format!("{}: {e}", f.display())))?;
        let is_base = f.file_name().is_some_and(|n| n == "fhir-base.xsd");
        for node in root.children {
            match (node.name.as_str(), node.attr("name").map(String::from)) {
                ("xs:complexType", Some(n)) => {
                    if is_base {
                        base_types.push(n.clone());
                    }
                    complex.insert(n, node);
                }
                ("xs:simpleType", Some(n)) if n.ends_with("-list") => {
                    let codes = node
                        .kid("xs:restriction")
                        .map(|r| {
                            r.kids("xs:enumeration")
                                .filter_map(|e| Some((e.attr("value")?.to_string(), documentation(e))))
                                .collect()
                        })
                        .unwrap_or_default();
                    lists.insert(n, codes);
                }
                ("xs:element", Some(n)) if !is_base => resources.push(n),
                _ => {}
            }
        }
    }
    let schema = Schema { complex, lists };
    let mut value_sets = BTreeMap::new();
    let mut structures = Vec::new();
    let mut code_lists_by_path = HashMap::new();

    // Datatypes: complex types of fhir-base.xsd that extend Element or another datatype (the
    // Quantity profiles Money, SimpleQuantity, Age, ... as structs of their own), except
    // primitives (their only content is the `value` attribute), code types and abstract bases.
    base_types.sort();
    for t in &base_types {
        if have.contains(t)
            || matches!(t.as_str(), "Element" | "BackboneElement" | "Resource" | "DomainResource" | "ResourceContainer")
            || t.contains('.')
            || Prim::from_code(t).is_some()
            || schema.code_list(t).is_some()
            || schema.value_type(t).is_some()
            || !(schema.base(t).as_deref() == Some("Element")
                || schema.restricts(t).is_some_and(|b| base_types.iter().any(|x| x == b)))
        {
            continue;
        }
        let ct = &schema.complex[t];
        let mut synth = Synth { schema: &schema, value_sets: &mut value_sets, expanded: HashMap::new() };
        let mut els = Vec::new();
        synth.elements(t, t, &mut els)?;
        structures.push(to_structure_definition(t, "datatype", &documentation(ct), &els));
    }
    resources.sort();
    for r in &resources {
        let mut synth = Synth { schema: &schema, value_sets: &mut value_sets, expanded: HashMap::new() };
        let mut els = Vec::new();
        synth.elements(r, r, &mut els)?;
        for e in &els {
            if let Some(b) = &e.binding {
                code_lists_by_path.insert(e.path.clone(), b.clone());
            }
        }
        if !have.contains(r) {
            let ct = &schema.complex[r];
            structures.push(to_structure_definition(r, "resource", &documentation(ct), &els));
        }
    }
    let code_lists_by_name = schema
        .lists
        .iter()
        .map(|(list, codes)| {
            let name = list.trim_end_matches("-list").to_string();
            let url = format!("{LIST_URL}{name}");
            (name, list_value_set(&url, list, codes))
        })
        .collect();
    Ok(Derived { structures, value_sets, code_lists_by_path, code_lists_by_name })
}
