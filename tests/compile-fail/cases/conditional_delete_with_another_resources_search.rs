// A conditional delete of Patients whose criteria are an Observation search.
async fn delete(service: fhirstorm::client::Service<fhirstorm::R4>) {
    let _ = service.r::<fhirstorm::r4::Patient>().delete_where(fhirstorm::r4::Observation::search().code("x")).await;
}
fn main() {
    drop(delete);
}
