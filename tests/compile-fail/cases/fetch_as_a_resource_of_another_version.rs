// Reading a STU3 Patient from an R4 service.
async fn fetch(service: fhirstorm::client::Service<fhirstorm::R4>) {
    let _ = service.r::<fhirstorm::stu3::Patient>().fetch("p1").await;
}
fn main() {
    drop(fetch);
}
