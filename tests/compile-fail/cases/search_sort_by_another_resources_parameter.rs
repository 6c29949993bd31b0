// A `_sort` by another resource's parameter.
fn main() {
    let _ = fhirstorm::r4::Patient::search().sort(fhirstorm::r4::Observation::SORT_CODE);
}
