// A composite's components of the wrong kinds (code-value-quantity is token $ quantity).
use fhirstorm::search::*;
fn main() {
    let _ = fhirstorm::r4::Observation::search().code_value_quantity((DateValue::ge("2020"), TokenValue::from("x")));
}
