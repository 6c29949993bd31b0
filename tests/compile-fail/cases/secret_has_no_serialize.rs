// A secret has no `Serialize`: no serializer writes it by accident (`.for_storage()` does, on purpose).
fn log_as_json<T: serde::Serialize>(_: &T) {}
fn main() {
    log_as_json(&fhirstorm::auth::AccessToken::new("a-token"));
}
