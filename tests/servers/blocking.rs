//! `fhirstorm::blocking` against the same real servers as tests/servers/rest.rs and tests/servers/smart.rs
//! (sekmet-fhir, and npm `oidc-provider` as the SMART authorization server): a subset of their
//! cases, through blocking calls from plain threads, and from inside an async runtime.

use crate::support;

use fhirstorm::auth::{
    ClientAuth, ClientId, ClientSecret, RedirectUrl, Scopes, Session, SmartConfiguration, TokenResponse,
};
use fhirstorm::blocking::{Connection, SmartClient};
use fhirstorm::client::{self, ErrorKind};
use fhirstorm::prelude::*;
use fhirstorm::r4::{self, HumanName, Patient};
use fhirstorm::R4;
use serde_json::json;
use support::{browse_to_redirect, FhirServer, Runner, SmartServer};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const TOKEN_KEY: &str = "fhirstorm-test-shared-access-token-key-0123456789";
const ADMIN: &str = "fhirstorm-admin-token-for-seeding";
const SECRET: &str = "s3cret-of-the-backend-client";

fn conn(base: &str) -> Result<Connection<R4>, String> {
    let inner = client::Connection::<R4>::builder(base).allow_insecure_loopback(true).build().map_err(e)?;
    Connection::from_async(inner).map_err(e)
}

fn e(err: client::Error) -> String {
    err.to_string()
}

fn patient(family: &str) -> Patient {
    Patient {
        name: vec![HumanName { family: Some(family.into()), given: vec!["Blocking".into()], ..Default::default() }],
        birth_date: Some(r4::Primitive::new("1974-12-25".parse().expect("date"))),
        ..Default::default()
    }
}

fn fixed_session(token: &str) -> Session {
    let response = json!({"access_token": token, "token_type": "Bearer"}).to_string();
    Session::fixed(TokenResponse::from_slice(response.as_bytes()).expect("a token response"))
}

pub fn run(t: &mut Runner) {
    rest_cases(t);
    smart_cases(t);
}

fn rest_cases(t: &mut Runner) {
    let server = FhirServer::start();
    let base = server.base.as_str();

    t.case_blocking("metadata, and an STU3 connection to this R4 server refused", || {
        let c = conn(base)?;
        let caps = c.metadata().map_err(e)?;
        ensure!(caps.fhir_version == "4.0.1", "fhirVersion {}", caps.fhir_version);
        ensure!(std::ptr::eq(caps, c.metadata().map_err(e)?), "cached");
        ensure!(c.service().map_err(e)?.resources().contains(&"Patient"), "Patient advertised");
        let stu3 =
            client::Connection::<fhirstorm::Stu3>::builder(base).allow_insecure_loopback(true).build().map_err(e)?;
        let err = Connection::from_async(stu3).map_err(e)?.service().expect_err("an R4 server is not STU3");
        ensure!(err.kind() == ErrorKind::VersionMismatch, "{err}");
        Ok(())
    });

    t.case_blocking("create, fetch, update, vread, history, delete; not found is typed", || {
        let service = conn(base)?.service().map_err(e)?;
        let patients = service.r::<Patient>();
        let created = patients.create(&patient("Blocking")).map_err(e)?;
        let id = created.id.clone().ok_or("an id")?;
        let mut read = patients.fetch(&id).map_err(e)?;
        ensure!(read.name[0].family.value().map(String::as_str) == Some("Blocking"), "family: {:?}", read.name);
        read.name[0].family = Some("Changed".into());
        let updated = patients.update(&read).map_err(e)?;
        let version = created.meta.as_ref().and_then(|m| m.version_id.value().cloned()).ok_or("a versionId")?;
        let first = patients.vread(&id, &version).map_err(e)?;
        ensure!(first.name[0].family.value().map(String::as_str) == Some("Blocking"), "vread gives the first version");
        ensure!(updated.name[0].family.value().map(String::as_str) == Some("Changed"), "updated");
        let history = patients.history(&id).map_err(e)?;
        ensure!(history.entry.len() == 2, "two versions: {}", history.entry.len());
        patients.delete(&id).map_err(e)?;
        let err = patients.fetch(&id).expect_err("deleted");
        ensure!(err.is_gone() || err.is_not_found(), "{err}");
        let err = patients.fetch("no-such-patient").expect_err("absent");
        ensure!(err.is_not_found() && err.outcome().is_some(), "{err}");
        Ok(())
    });

    t.case_blocking("typed search, pages and matches as iterators", || {
        let service = conn(base)?.service().map_err(e)?;
        let patients = service.r::<Patient>();
        let mut tx = service.transaction();
        for _ in 0..25 {
            tx = tx.create(&patient("Paged"));
        }
        let sent = service.send(tx).map_err(e)?;
        ensure!(sent.entries.iter().all(|entry| entry.is_success()), "all created");
        let query = || Patient::search().family("Paged").count(10);
        let first = patients.search(query()).map_err(e)?;
        ensure!(first.matches().len() == 10 && first.has_next(), "a first page of 10");
        let second = patients.next_page(&first).map_err(e)?.ok_or("a second page")?;
        ensure!(second.matches().len() == 10, "a second page of 10");
        let pages: Vec<_> = patients.search_pages(query()).collect::<Result<_, _>>().map_err(e)?;
        ensure!(pages.iter().map(|p| p.matches().len()).collect::<Vec<_>>() == [10, 10, 5], "pages of 10, 10, 5");
        let all: Vec<Patient> = patients.search_all(query()).collect::<Result<_, _>>().map_err(e)?;
        ensure!(all.len() == 25, "25 matches: {}", all.len());
        let mut ids: Vec<_> = all.iter().filter_map(|p| p.id.clone()).collect();
        ids.sort();
        ids.dedup();
        ensure!(ids.len() == 25, "distinct");
        // Stops at the first error: a search the server refuses.
        let mut failing = patients.search_all([("_count", "not-a-number")]);
        ensure!(matches!(failing.next(), Some(Err(_))), "the error");
        ensure!(failing.next().is_none(), "then the end");
        ensure!(service.count("Patient", [("family", "Paged")]).map_err(e)? == Some(25), "count");
        Ok(())
    });

    t.case_blocking("a type named at run time: read, search as an iterator, typos refused", || {
        let service = conn(base)?.service().map_err(e)?;
        ensure!(service.r_named("Patinet").is_err(), "Patinet accepted");
        let patients = service.r_named("Patient").map_err(e)?;
        let params = vec![("family".to_string(), "Paged".to_string()), ("_count".to_string(), "10".to_string())];
        let all: Vec<_> = patients.search_all(params.clone()).collect::<Result<_, _>>().map_err(e)?;
        ensure!(all.len() == 25 && all.iter().all(|r| r.resource_type() == "Patient"), "{} matches", all.len());
        let pages = patients.search_pages(params).count();
        ensure!(pages == 3, "{pages} pages");
        let id = all[0].id().ok_or("an id")?;
        let read = patients.fetch(id).map_err(e)?;
        ensure!(read.id() == Some(id), "{read:?}");
        Ok(())
    });

    t.case_blocking("from many threads at once, sharing one connection", || {
        let service = conn(base)?.service().map_err(e)?;
        let id = service.r::<Patient>().create(&patient("Threads")).map_err(e)?.id.ok_or("an id")?;
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let service = service.clone();
                    let id = id.clone();
                    s.spawn(move || (0..5).try_for_each(|_| service.r::<Patient>().fetch(&id).map(drop)))
                })
                .collect();
            handles.into_iter().try_for_each(|h| h.join().map_err(|_| "a thread panicked".to_string())?.map_err(e))
        })
    });

    t.case_blocking(
        "inside an async runtime: works (blocking its thread), and dropping it there does not panic",
        || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let c = conn(base)?;
                let service = c.service().map_err(e)?;
                let created = service.r::<Patient>().create(&patient("Nested")).map_err(e)?;
                ensure!(created.id.is_some(), "created from inside a runtime");
                drop((service, c));
                Ok(())
            })
        },
    );
}

fn smart_cases(t: &mut Runner) {
    let sekmet_clients =
        format!("    - client_id: backend-secret\n      client_secret: {SECRET}\n      scopes: \"system/*.read\"\n");
    let fhir = FhirServer::start_smart(TOKEN_KEY, ADMIN, &sekmet_clients);
    let base = fhir.base.as_str();
    let admin = match conn(base).map(|c| c.with_session(fixed_session(ADMIN))) {
        Ok(c) => c,
        Err(err) => return t.case_blocking("connection", || Err(err)),
    };
    let seeded = admin.service().and_then(|s| s.r::<Patient>().create(&patient("Smart")));
    let patient_id = match seeded {
        Ok(p) => p.id.unwrap_or_default(),
        Err(err) => return t.case_blocking("seed a patient", || Err(e(err))),
    };
    let smart = SmartServer::start(json!({
        "fhirBase": base, "accessTokenKey": TOKEN_KEY, "patient": patient_id, "fhirUser": "Practitioner/dr-1",
        "clients": [{
            "client_id": "public", "token_endpoint_auth_method": "none", "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
        }],
    }));

    t.case_blocking("standalone launch (public client, PKCE), id_token verified, refresh, authorized read", || {
        let c = conn(base)?;
        let well_known = format!("{}/.well-known/smart-configuration", smart.issuer);
        let config = c.block_on(SmartConfiguration::from_url(c.as_async(), &well_known)).map_err(e)?;
        let client = SmartClient::new(&c, config, ClientAuth::Public(ClientId::new("public")))
            .redirect_url(RedirectUrl::new(REDIRECT).map_err(|e| e.to_string())?);
        let scopes: Scopes =
            "openid fhirUser launch/patient offline_access patient/*.read".parse().map_err(|e| format!("{e}"))?;
        let (url, state, verifier) =
            client.authorization_request(scopes).map_err(e)?.url().map_err(|e| e.to_string())?;
        // The user's browser: the test's own runtime, not fhirstorm's.
        let user = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        let back = user.block_on(browse_to_redirect(url.as_str(), REDIRECT))?;
        let token = client.exchange_redirect(&back, &state, &verifier).map_err(e)?;
        ensure!(token.patient_id() == Some(patient_id.as_str()), "patient in context: {:?}", token.patient_id());
        let claims = client.verify_id_token(&token).map_err(e)?;
        ensure!(claims.fhir_user().is_some_and(|u| u.id == "dr-1"), "fhirUser");
        let refresh = token.refresh_token.clone().ok_or("a refresh token")?;
        let refreshed = client.refresh(&refresh, None).map_err(e)?;
        ensure!(refreshed.access_token.secret() != token.access_token.secret(), "a new access token");
        let read = c.with_session(client.session(refreshed)).service().map_err(e)?.r::<Patient>().fetch(&patient_id);
        ensure!(read.map_err(e)?.id.as_deref() == Some(patient_id.as_str()), "the patient read with the token");
        let err = c.service().map_err(e)?.r::<Patient>().fetch(&patient_id).expect_err("no token, no read");
        ensure!(err.status() == Some(401), "{err}");
        Ok(())
    });

    t.case_blocking(
        "backend services (client_credentials) at sekmet's token endpoint, and a wrong secret refused",
        || {
            let c = conn(base)?;
            let auth = ClientAuth::SecretBasic(ClientId::new("backend-secret"), ClientSecret::new(SECRET));
            let client = SmartClient::discover(&c, auth).map_err(e)?;
            let session = client.backend_session("system/*.read".parse().map_err(|e| format!("{e}"))?).map_err(e)?;
            let read = c.with_session(session).service().map_err(e)?.r::<Patient>().fetch(&patient_id).map_err(e)?;
            ensure!(read.id.as_deref() == Some(patient_id.as_str()), "read with a backend token");
            let wrong = ClientAuth::SecretBasic(ClientId::new("backend-secret"), ClientSecret::new("nope"));
            let err = SmartClient::discover(&c, wrong)
                .map_err(e)?
                .client_credentials(&"system/*.read".parse().map_err(|e| format!("{e}"))?)
                .expect_err("a wrong secret");
            ensure!(err.auth().and_then(|f| f.oauth_error()) == Some("invalid_client"), "{err}");
            Ok(())
        },
    );
}
