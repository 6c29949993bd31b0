//! The shared conformance test (`tests/official_examples/conformance.rs`), built with serde_json's
//! `arbitrary_precision` on; it adds a round trip through `serde_json` for each version.

#[path = "../official_examples/conformance.rs"]
mod conformance;

fn main() {
    if let Err(e) = conformance::run() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
