//! The controls of the cases in `tests/compile-fail/`: each of these compiles.

use fhirstorm::search::*;
use fhirstorm::{r4, stu3};

fn main() {
    let _ = r4::Observation::search().code("x").code(TokenValue::code("s", "c"));
    let _ = r4::Observation::search().subject(r4::Patient::reference("p"));
    let _ = r4::Patient::search().include(r4::Patient::INCLUDE_GENERAL_PRACTITIONER);
    let _ = r4::Patient::search().sort(r4::Patient::SORT_FAMILY);
    let _ = r4::Patient::search().revinclude(r4::MedicationRequest::REVINCLUDE_PATIENT);
    let _ = r4::Patient::search().has(r4::Observation::REVINCLUDE_SUBJECT, r4::Observation::search().code("x"));
    let _ = r4::Observation::search().code_value_quantity((TokenValue::from("x"), QuantityValue::number(Prefix::Gt, "1")));
    let _ = stu3::Patient::search().include_recurse(stu3::Patient::INCLUDE_GENERAL_PRACTITIONER);
    let _ = searches;
}

async fn searches(r4s: fhirstorm::client::Service<fhirstorm::R4>, s3: fhirstorm::client::Service<fhirstorm::Stu3>) {
    let _ = r4s.r::<r4::Patient>().search(r4::Patient::search().family("x")).await;
    let _ = s3.r::<stu3::Patient>().search(stu3::Patient::search().family("x")).await;
}
