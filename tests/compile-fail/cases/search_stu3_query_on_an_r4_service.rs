// A STU3 query sent to an R4 service.
async fn search(service: fhirstorm::client::Service<fhirstorm::R4>) {
    let q = fhirstorm::stu3::Patient::search().family("x");
    let _ = service.r::<fhirstorm::r4::Patient>().search(q).await;
}
fn main() {
    drop(search);
}
