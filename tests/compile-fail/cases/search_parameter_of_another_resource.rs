// A parameter of another resource: Patient has no `code`.
fn main() {
    let _ = fhirstorm::r4::Patient::search().code("x");
}
