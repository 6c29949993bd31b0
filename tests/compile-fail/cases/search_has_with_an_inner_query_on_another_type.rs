// A `_has` whose inner query is on another type than the one holding the reference.
fn main() {
    let _ = fhirstorm::r4::Patient::search()
        .has(fhirstorm::r4::Observation::REVINCLUDE_SUBJECT, fhirstorm::r4::Condition::search().code("x"));
}
