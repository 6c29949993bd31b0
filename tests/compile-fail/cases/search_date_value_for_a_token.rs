// A date value for a token parameter.
fn main() {
    let _ = fhirstorm::r4::Observation::search().code(fhirstorm::search::DateValue::ge("2020"));
}
