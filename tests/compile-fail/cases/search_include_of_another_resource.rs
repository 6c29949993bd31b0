// An `_include` of another resource.
fn main() {
    let _ = fhirstorm::r4::Observation::search().include(fhirstorm::r4::Patient::INCLUDE_GENERAL_PRACTITIONER);
}
