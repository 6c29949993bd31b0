// Turns on the serde_json round trip in the shared conformance test.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(via_serde)");
    println!("cargo::rustc-cfg=via_serde");
}
