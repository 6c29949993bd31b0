// A reference to a target type the parameter does not allow: a Medication is no subject.
fn main() {
    let _ = fhirstorm::r4::Observation::search().subject(fhirstorm::r4::Medication::reference("m"));
}
