// `_total` is not in STU3.
fn main() {
    let _ = fhirstorm::stu3::Patient::search().total(fhirstorm::search::Total::Accurate);
}
