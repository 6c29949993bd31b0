//! `fhirstorm-codegen` turns the official FHIR definitions of a release (StructureDefinitions,
//! ValueSets, CodeSystems, SearchParameters) into typed Rust models for the `fhirstorm` crate.
//!
//! It reads the DSTU2 format (`constrainedType`, `base` as a URL, `nameReference`) and the
//! STU3+ format (`baseDefinition`, `derivation`, `kind`, `contentReference`) into one
//! version-neutral model and emits rustfmt-style code from it. Its public face is [`Config`],
//! [`trim_definitions`] (the compact, pre-digested definitions the build reads) and the
//! `fhirstorm-codegen` command line; the walk through the definitions is internal.
//!
//! From a build script:
//!
//! ```no_run
//! fhirstorm_codegen::Config::new()
//!     .definitions("fhir-definitions/r4")
//!     .out_file(std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("r4.rs"))
//!     .generate()
//!     .unwrap();
//! ```

//!
//! ## Packages are outside input
//!
//! An implementation-guide package ([`Profiles`]) is read as hostile input. Its text reaches the
//! generated source only as escaped string literals or as doc text that stays text: nothing in
//! it can end a comment or form a Markdown code block (which rustdoc would run as a doctest),
//! HTML or a link. Identifiers are made of ASCII letters, digits and underscores, with a
//! fallback (`Unnamed`, `_0`) for a name that has none. Reading is bounded: a file generation
//! reads holds at most [`MAX_FILE_BYTES`], the whole package at most [`MAX_PACKAGE_BYTES`]
//! decompressed (so a tar header claiming a huge file, or a gzip bomb, is an error naming the
//! package), and a value set expands to at most [`MAX_EXPANSION`] codes (value sets that include
//! each other are expanded once each). Every failure is an [`Error`] naming the package.

#![warn(missing_docs)]

mod defs;
mod doc_text;
mod emit;
mod error;
mod ident;
#[cfg(feature = "profiles")]
mod ig;
mod ir;
#[cfg(feature = "profiles")]
mod package;
mod trim;
mod xsd;

pub use error::Error;
pub use ident::marker_for;
#[cfg(feature = "profiles")]
pub use ig::Profiles;
#[cfg(feature = "profiles")]
pub use ig::MAX_EXPANSION;
#[cfg(feature = "profiles")]
pub use package::{Package, MAX_FILE_BYTES, MAX_PACKAGE_BYTES};

use std::path::{Path, PathBuf};

/// Configures one generation run: where the definitions are and where the Rust goes.
#[derive(Debug, Clone, Default)]
pub struct Config {
    definitions: Option<PathBuf>,
    out_file: Option<PathBuf>,
    marker: Option<String>,
    runtime: Option<String>,
    no_client: bool,
}

impl Config {
    /// A configuration with nothing set.
    pub fn new() -> Config {
        Config::default()
    }

    /// The folder of definitions (`*.json` resources or Bundles) to read.
    pub fn definitions(&mut self, dir: impl AsRef<Path>) -> &mut Config {
        self.definitions = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The Rust file to write.
    pub fn out_file(&mut self, file: impl AsRef<Path>) -> &mut Config {
        self.out_file = Some(file.as_ref().to_path_buf());
        self
    }

    /// The name of the version marker type (default: from the FHIR version, e.g. `R4`).
    pub fn marker(&mut self, name: impl Into<String>) -> &mut Config {
        self.marker = Some(name.into());
        self
    }

    /// Where the generated code finds the fhirstorm runtime (`json`, `Primitive`, `search`,
    /// `client`, ...): `::fhirstorm` by default, for models compiled in a crate that depends on
    /// `fhirstorm` (fhirstorm's own `models/` crates use `::fhirstorm_runtime`).
    pub fn runtime_path(&mut self, path: impl Into<String>) -> &mut Config {
        self.runtime = Some(path.into());
        self
    }

    /// Whether to emit what fhirstorm's REST client needs of the version (default: yes): the
    /// `fhirstorm::client::ClientVersion` impl of the marker (media type, Bundle shape) and
    /// `Reference::resolve`, so that `Connection::<Marker>` works with the generated models. It
    /// compiles only when fhirstorm has its `client` feature; turn it off for definitions that
    /// lack what it reads (a release whose Bundle has no `link`, say).
    pub fn client(&mut self, on: bool) -> &mut Config {
        self.no_client = !on;
        self
    }

    /// Reads the definitions and returns the generated source.
    pub fn render(&self) -> Result<String, Error> {
        let dir = self.definitions.as_ref().ok_or_else(|| Error::new("no definitions folder set"))?;
        let defs = defs::Definitions::read_dir(dir)?;
        let model = defs::build_model(&defs)?;
        if model.structs.is_empty() {
            return Err(Error::new(format!("no StructureDefinitions found in {}", dir.display())));
        }
        let marker = self.marker.clone().unwrap_or_else(|| marker_for(&model.fhir_version));
        emit::render(
            &model,
            &emit::Target {
                marker: &marker,
                runtime: self.runtime.as_deref().unwrap_or("::fhirstorm"),
                client: !self.no_client,
            },
        )
    }

    /// Generates and writes the output file (only when its content changes, so that cargo does
    /// not rebuild needlessly).
    pub fn generate(&self) -> Result<(), Error> {
        let out = self.out_file.as_ref().ok_or_else(|| Error::new("no output file set"))?;
        crate::emit::write_if_changed(out, &self.render()?)
    }
}

/// Reads an official definitions package (`paths`: its folders or files; `xsd`: the release's
/// XML schema folder, for DSTU2's primitive patterns) and returns the compact Bundle of what
/// generation needs, as `fhir-definitions/*/` hold it (the CLI's `trim`).
pub fn trim_definitions(paths: &[PathBuf], xsd: Option<&Path>) -> Result<String, Error> {
    trim::trim(paths, xsd)
}
