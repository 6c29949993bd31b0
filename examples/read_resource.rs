//! Reads a FHIR R4 resource (or a Bundle) from a JSON file, prints what it is, and checks that
//! writing it back loses nothing.
//!
//! ```text
//! cargo run --example read_resource -- path/to/resource.json
//! ```

use fhirstorm::json::{self, Value};
use fhirstorm::prelude::*;
use fhirstorm::r4::{AnyResource, Patient};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!(
            "usage: read_resource FILE.json\n\nReads an R4 resource, prints a summary and checks the round trip."
        );
        std::process::exit(2);
    };
    let bytes = std::fs::read(&path)?;
    let resource = AnyResource::from_slice(&bytes)?;
    println!("{} {}", resource.resource_type(), resource.id().unwrap_or("(no id)"));
    match resource.clone().downcast::<Patient>() {
        Ok(p) => {
            for name in &p.name {
                let given: Vec<&str> = name.given.iter().filter_map(|g| g.value().map(String::as_str)).collect();
                println!("  name: {} {}", given.join(" "), name.family.value().map_or("", String::as_str));
            }
            if let Some(d) = p.birth_date.value() {
                println!("  born: {d} (precision {:?})", d.precision());
            }
            if let Some(g) = p.gender.value() {
                println!("  gender: {g}");
            }
        }
        Err(AnyResource::Bundle(b)) => {
            println!("  {} entries", b.entry.len());
            for e in b.entry.iter().take(10) {
                if let Some(r) = &e.resource {
                    println!("  - {} {}", r.resource_type(), r.id().unwrap_or(""));
                }
            }
        }
        Err(_) => {}
    }
    let back = resource.to_vec();
    match json::from_slice::<Value>(&bytes)?.first_difference(&json::from_slice::<Value>(&back)?) {
        None => println!("round trip: nothing lost"),
        Some(d) => println!("round trip: differs at {d}"),
    }
    Ok(())
}
