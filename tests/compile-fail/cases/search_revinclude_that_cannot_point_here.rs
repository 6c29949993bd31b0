// A `_revinclude` whose reference cannot point at the resource searched: a MedicationRequest's
// `patient` never refers to an Organization.
fn main() {
    let _ = fhirstorm::r4::Organization::search().revinclude(fhirstorm::r4::MedicationRequest::REVINCLUDE_PATIENT);
}
