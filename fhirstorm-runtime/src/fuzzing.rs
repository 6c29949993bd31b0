//! Entry points of the fuzz targets (`fuzz/`) and of their smoke test (`tests/official_examples/fuzz_smoke.rs`),
//! generic where they need a FHIR version (`fhirstorm::fuzzing` gives them R4). Not part of the
//! API. Each takes arbitrary bytes and must never panic; where the input is
//! accepted, it also checks a property (what fhirstorm writes, it reads back the same).

use std::sync::OnceLock;

use url::Url;

use crate::auth::{ClientAuth, ClientId, RedirectUrl, SmartClient, SmartConfiguration, State, TokenResponse};
use crate::client::{ClientVersion, Connection, SearchSet};
use crate::json::{self, FromJson, ToJson};
use crate::Resource;

/// Reads `data` as any resource of a version; if it is one, writes it, reads that back, and
/// requires the same output (nothing lost or changed by our own round trip).
///
/// Lenient reading too: it reads what strict reading accepts the same way (no deviation, the
/// same output); where strict reading refuses a document that lenient reading accepts, there is
/// a deviation; and what it writes reads back, leniently, to the same output.
pub fn any_resource<A: FromJson + ToJson>(data: &[u8]) {
    let strict = json::from_slice::<A>(data).map(|r| json::to_vec(&r));
    if let Ok(out) = &strict {
        let again: A = match json::from_slice(out) {
            Ok(a) => a,
            Err(e) => panic!("fhirstorm cannot read its own output: {e}\n{}", String::from_utf8_lossy(out)),
        };
        assert!(json::to_vec(&again) == *out, "writing is not stable");
    }
    if let Ok(read) = json::from_slice_lenient::<A>(data) {
        let out = json::to_vec(&read.value);
        match &strict {
            Ok(strict_out) => {
                assert!(read.deviations.is_empty(), "deviations in a document strict reading accepts");
                assert!(out == *strict_out, "lenient and strict reading differ on a valid document");
            }
            Err(_) => assert!(!read.deviations.is_empty(), "strict refuses, lenient accepts with no deviation"),
        }
        let again = match json::from_slice_lenient::<A>(&out) {
            Ok(a) => a,
            Err(e) => panic!("lenient reading cannot read its own output: {e}\n{}", String::from_utf8_lossy(&out)),
        };
        assert!(json::to_vec(&again.value) == out, "lenient writing is not stable");
    }
}

/// A token endpoint's answer: read; if accepted, saved and read back equal.
pub fn token_response(data: &[u8]) {
    if let Ok(t) = TokenResponse::from_slice(data) {
        let saved = t.to_vec();
        let back = TokenResponse::from_slice(&saved).expect("a saved token response reads back");
        assert!(back == t, "a saved token response reads back equal");
    }
}

/// A SMART configuration document.
pub fn smart_configuration(data: &[u8]) {
    let _ = SmartConfiguration::from_slice(data, true);
    let _ = SmartConfiguration::from_slice(data, false);
}

/// The SMART client the redirect target uses: public, redirect `https://app.example/callback`,
/// issuer `https://ehr.example`.
pub fn smart_client<V: ClientVersion>(conn: &Connection<V>) -> SmartClient {
    let config = SmartConfiguration::from_slice(
        br#"{"issuer":"https://ehr.example","authorization_endpoint":"https://ehr.example/auth","token_endpoint":"https://ehr.example/token"}"#,
        false,
    )
    .expect("a valid configuration");
    SmartClient::new(conn, config, ClientAuth::Public(ClientId::new("app")))
        .redirect_url(RedirectUrl::new("https://app.example/callback").expect("a URL"))
}

/// The URL the authorization server sends the user back to.
/// (`client`: [`smart_client`]'s).
pub fn redirect_url(client: &SmartClient, data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let state = State::new("the-state");
    let _ = client.code_from_redirect(&s, &state);
    let _ = client.code_from_redirect(&format!("https://app.example/callback?{s}"), &state);
}

/// A search result page with paging links.
pub fn search_page<V: ClientVersion, R: Resource<Version = V>>(data: &[u8]) {
    static BASE: OnceLock<Url> = OnceLock::new();
    let base = BASE.get_or_init(|| Url::parse("https://ehr.example/fhir/").expect("a URL"));
    if let Ok(page) = SearchSet::<V, R>::from_slice(data, base) {
        let _ = (page.matches().len(), page.included().len(), page.has_next(), page.self_link());
    }
}

/// A bulk export manifest: read; each file's local name, where one is given, is one plain file
/// name made of one of the version's resource types (never a path, never the server's text).
pub fn bulk_manifest<V: crate::FhirVersion>(data: &[u8]) {
    let Ok(value) = json::Value::parse(&String::from_utf8_lossy(data)) else { return };
    let Ok(manifest) = crate::client::bulk::Manifest::from_json(&value) else { return };
    let _ = manifest.next();
    for file in manifest.output.iter().chain(&manifest.error).chain(&manifest.deleted) {
        for n in [0, 1, u64::MAX] {
            let Ok(name) = file.file_name::<V>(n) else { continue };
            let ty = name.strip_suffix(&format!(".{n}.ndjson")).expect("TYPE.N.ndjson");
            assert!(
                V::resource_type(ty) == Some(ty) && ty == file.resource_type,
                "{name:?} for {:?}",
                file.resource_type
            );
            assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.'), "{name:?}");
            let mut parts = std::path::Path::new(&name).components();
            assert!(
                matches!((parts.next(), parts.next()), (Some(std::path::Component::Normal(_)), None)),
                "{name:?} is not one plain file name"
            );
        }
    }
}

/// A `Retry-After` header's value: never a panic (a huge year once overflowed), and a wait
/// that is never negative.
pub fn retry_after(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let _ = crate::transport::retry_after_value(&s, std::time::SystemTime::now());
    let _ = crate::transport::retry_after_value(&s, std::time::UNIX_EPOCH);
}

/// Request URLs built from an id, and URLs a server named (`Location`, a `next` link): an id is
/// either refused or gives exactly the path intended under the base; a URL judged to be under
/// the base is, by plain string prefix, under it (`conn`: on `https://ehr.example/fhir`).
pub fn request_path<V: ClientVersion>(conn: &Connection<V>, data: &[u8]) {
    let base = conn.base_url();
    let text = String::from_utf8_lossy(data);
    if let Ok(id) = crate::client::segment(&text) {
        for (segments, tail) in [
            (vec!["Patient", id], format!("Patient/{id}")),
            (vec!["Patient", id, "_history", "1"], format!("Patient/{id}/_history/1")),
            (vec!["Patient", id, "$everything"], format!("Patient/{id}/$everything")),
        ] {
            match conn.path(&segments) {
                Ok(url) => assert_eq!(url.as_str(), format!("{base}{tail}"), "the path intended, under the base"),
                Err(_) => panic!("an id the check accepts must give a path: {id:?}"),
            }
        }
    }
    if let Ok(url) = base.join(&text) {
        if crate::transport::under_base(base, &url) {
            assert!(url.as_str().starts_with(base.as_str()), "{url} is not under {base}");
        }
    }
}

/// A FHIRPath expression: compiled, or refused with an error positioned inside the text, never a
/// panic or a stack overflow; one compiled is written back as text that compiles to the same
/// tree (unless writing it back nests its parentheses deeper than an expression may).
pub fn fhirpath(data: &[u8]) {
    use crate::fhirpath::Expression;
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Expression::parse(text) {
        Ok(e) => {
            let shown = e.parenthesized();
            match Expression::parse(&shown) {
                Ok(again) => assert_eq!(again.parenthesized(), shown, "written back, the same tree"),
                Err(err) => assert!(err.message().contains("nested more than"), "written back as {shown:?}: {err}"),
            }
        }
        Err(err) => assert!(err.position().offset <= text.len(), "{err}"),
    }
}
