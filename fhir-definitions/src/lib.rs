//! The official FHIR definitions that fhirstorm's models are generated from: one
//! `definitions.json` per version (a `Bundle` of StructureDefinitions, SearchParameters, and the
//! ValueSets and CodeSystems of required bindings, trimmed to what generation reads; see
//! `SOURCES.md` for each file's origin and checksum). A build dependency of each
//! `fhirstorm-<version>` crate, whose build script hands [`dir`] to fhirstorm-codegen; the files
//! ship in this crate's package, so a build from crates.io reads them the same way.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::PathBuf;

/// The versions held here, by folder name.
pub const VERSIONS: [&str; 5] = ["dstu2", "stu3", "r4", "r4b", "r5"];

/// The folder of one version's definitions (`r4` → `…/fhir-definitions/r4`), or `None` for a
/// name not in [`VERSIONS`].
pub fn dir(version: &str) -> Option<PathBuf> {
    VERSIONS.contains(&version).then(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(version))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_version_has_its_definitions() {
        for v in super::VERSIONS {
            let file = super::dir(v).unwrap().join("definitions.json");
            assert!(file.is_file(), "{} is missing", file.display());
        }
        assert_eq!(super::dir("r6"), None);
    }
}
