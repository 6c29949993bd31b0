//! Packages crafted to attack the generator: text that would end a comment or open a Markdown
//! code block (which `cargo test` runs as a doctest), HTML, links, line breaks of every kind;
//! archives that claim or hold too much; names that make no identifier. The generated code must
//! parse, have the items of the clean package, and keep the text as text; the rest must be
//! errors naming the package, never a panic or an abort.

mod support {
    pub mod generated;
}

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::generated::{check_docs, shape};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ig_style/package");
const ORIGIN: &str = "http://example.org/fhir/StructureDefinition/origin";

/// Text that tries to run code or write markup in the generated source or its docs.
const ATTACKS: &[&str] = &[
    "x`\n```rust\nfn main() { std::process::exit(66) }\n```\n",
    "~~~\nfn evil() {}\n~~~",
    "para\n\n    indented_code();\n\n\ttabbed_code();",
    "*/ fn evil() {} /*\n//! inner doc\n#![no_std]\n",
    "</code><script>alert(1)</script>",
    "[x](javascript:alert(1)) <javascript:alert(2)>",
    "\n\n[a]: javascript:alert(1)\n\n[a]",
    "cr\r```rust\rfn evil() {}\r```",
    "ls\u{2028}```rust\u{2029}fn evil() {}\u{85}```",
    "nul\0\"\\\u{202E}end",
    "\n- ```rust\n  evil();\n  ```\n> ```\n> evil()",
];

/// A fresh folder under the system's temporary folder.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fhirstorm-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("package")).unwrap();
    dir
}

/// Appends `attack` to the package's prose and to the strings equal to `ORIGIN` (an extension's
/// URL, wherever it is referred to).
fn poison(v: &mut Value, attack: &str) {
    match v {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    Value::String(s)
                        if s == ORIGIN
                            || matches!(
                                key.as_str(),
                                "title" | "description" | "short" | "definition" | "display" | "comment"
                            ) =>
                    {
                        s.push_str(attack);
                    }
                    _ => poison(value, attack),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| poison(i, attack)),
        _ => {}
    }
}

/// The fixture package written to a folder, with `attack` (if any) in its text, name and version.
fn package(name: &str, attack: Option<&str>) -> PathBuf {
    let dir = temp_dir(name);
    for entry in std::fs::read_dir(FIXTURE).unwrap() {
        let path = entry.unwrap().path();
        let mut json: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        if let Some(attack) = attack {
            poison(&mut json, attack);
            if path.ends_with("package.json") {
                for key in ["name", "version"] {
                    let old = json[key].as_str().unwrap().to_string();
                    json[key] = Value::String(format!("{old}{attack}"));
                }
            }
        }
        std::fs::write(dir.join("package").join(path.file_name().unwrap()), json.to_string()).unwrap();
    }
    dir
}

fn render(dir: &Path) -> Result<String, fhirstorm_codegen::Error> {
    fhirstorm_codegen::Profiles::new().package(dir).render()
}

#[test]
fn package_text_stays_text() {
    let clean_dir = package("clean", None);
    let clean = render(&clean_dir).unwrap();
    check_docs(&clean).unwrap();
    let clean_shape = shape(&clean);
    for (i, attack) in ATTACKS.iter().enumerate() {
        let dir = package(&format!("attack{i}"), Some(attack));
        let code = render(&dir).unwrap_or_else(|e| panic!("{attack:?}: {e}"));
        let hostile_shape = shape(&code);
        if hostile_shape != clean_shape {
            let _ = std::fs::write(std::env::temp_dir().join("fhirstorm-hostile-shape.txt"), &hostile_shape);
            let _ = std::fs::write(std::env::temp_dir().join("fhirstorm-clean-shape.txt"), &clean_shape);
        }
        assert!(hostile_shape == clean_shape, "{attack:?}: the generated items differ from the clean package's");
        if let Err(e) = check_docs(&code) {
            panic!("{attack:?}: {e}");
        }
        assert!(code.contains("pub const PACKAGE: &str = \"example.fhir.ig"), "{attack:?}");
        let _ = std::fs::remove_dir_all(dir);
    }
    let _ = std::fs::remove_dir_all(clean_dir);
}

#[test]
fn names_that_make_no_identifier_get_one() {
    let dir = package("no-ident", None);
    let path = dir.join("package/StructureDefinition-origin.json");
    let mut json: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    json["name"] = Value::String("--- ```".into());
    json["id"] = Value::String("***".into());
    std::fs::write(&path, json.to_string()).unwrap();
    let code = render(&dir).unwrap();
    check_docs(&code).unwrap();
    assert!(code.contains("pub enum Unnamed"), "the fallback name");
    let _ = std::fs::remove_dir_all(dir);
}

/// A tar header (ustar) for a regular file of `size` bytes, as raw bytes.
fn tar_header(name: &str, size: u64) -> Vec<u8> {
    let mut header = tar::Header::new_gnu();
    header.set_path(name).unwrap();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    header.as_bytes().to_vec()
}

#[test]
fn a_tar_header_claiming_a_terabyte_is_an_error() {
    let dir = temp_dir("terabyte");
    let tgz = dir.join("huge.tgz");
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&tgz).unwrap(), flate2::Compression::fast());
    gz.write_all(&tar_header("package/StructureDefinition-big.json", 1 << 40)).unwrap();
    gz.write_all(&[b'{'; 4096]).unwrap();
    gz.finish().unwrap();
    let err = fhirstorm_codegen::Package::read(&tgz).unwrap_err().to_string();
    assert!(err.contains("huge.tgz") && err.contains("StructureDefinition-big.json"), "{err}");
    assert!(err.contains("more than"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_gzip_bomb_is_an_error() {
    // 600 MiB of zeros in a file the generator skips, compressed as it is written (a few hundred
    // KiB on disk), never held in memory.
    let dir = temp_dir("bomb");
    let tgz = dir.join("bomb.tgz");
    let size: u64 = 600 << 20;
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&tgz).unwrap(), flate2::Compression::fast());
    gz.write_all(&tar_header("package/other/zeros.bin", size)).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..size >> 20 {
        gz.write_all(&zeros).unwrap();
    }
    gz.finish().unwrap();
    assert!(std::fs::metadata(&tgz).unwrap().len() < 8 << 20);
    let err = fhirstorm_codegen::Package::read(&tgz).unwrap_err().to_string();
    assert!(err.contains("bomb.tgz") && err.contains("decompressed"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_file_over_the_limit_in_a_folder_is_an_error() {
    let dir = package("big-file", None);
    let big = std::fs::File::create(dir.join("package/StructureDefinition-big.json")).unwrap();
    big.set_len(fhirstorm_codegen::MAX_FILE_BYTES + 1).unwrap();
    let err = render(&dir).unwrap_err().to_string();
    assert!(err.contains("StructureDefinition-big.json") && err.contains("more than"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_error_quoting_the_package_is_one_line_naming_the_package() {
    let dir = package("error-text", None);
    let path = dir.join("package/StructureDefinition-origin.json");
    let mut json: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    json["url"] = Value::String("http://x/\n\u{1b}[2Jerror: fake\r".into());
    json.as_object_mut().unwrap().remove("snapshot");
    std::fs::write(&path, json.to_string()).unwrap();
    let err = render(&dir).unwrap_err().to_string();
    assert!(err.contains("fhirstorm-hostile-") && err.contains("has no snapshot"), "{err}");
    assert!(!err.chars().any(char::is_control), "{err:?}");
    let _ = std::fs::remove_dir_all(dir);
}
