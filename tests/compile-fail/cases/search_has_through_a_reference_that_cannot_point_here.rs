// A `_has` through a reference that cannot point at the resource searched.
fn main() {
    let _ = fhirstorm::r4::Organization::search()
        .has(fhirstorm::r4::Observation::REVINCLUDE_SUBJECT, fhirstorm::r4::Observation::search().code("x"));
}
