//! The REST client against a real FHIR R4 server (sekmet-fhir) on 127.0.0.1, started here.

use crate::support;

use fhirstorm::client::{Connection, ErrorKind};
use fhirstorm::prelude::*;
use fhirstorm::r4::{self, HumanName, Observation, Patient, Reference};
use fhirstorm::search::TokenValue;
use fhirstorm::R4;
use futures_util::TryStreamExt;
use support::{FhirServer, Runner};

fn conn(server: &FhirServer) -> Connection<R4> {
    Connection::<R4>::builder(&server.base).allow_insecure_loopback(true).build().expect("connection")
}

fn patient(family: &str, given: &str) -> Patient {
    Patient {
        name: vec![HumanName { family: Some(family.into()), given: vec![given.into()], ..Default::default() }],
        birth_date: Some(r4::Primitive::new("1974-12-25".parse().expect("date"))),
        ..Default::default()
    }
}

fn e(err: fhirstorm::client::Error) -> String {
    err.to_string()
}

pub async fn run(t: &mut Runner) {
    let server = FhirServer::start();

    t.case("metadata_is_typed_and_cached", || async {
        let c = conn(&server);
        let caps = c.metadata().await.map_err(e)?;
        ensure!(caps.fhir_version == "4.0.1", "fhirVersion {}", caps.fhir_version);
        ensure!(matches!(caps.statement, r4::AnyResource::CapabilityStatement(_)), "typed statement");
        let again = c.metadata().await.map_err(e)?;
        ensure!(std::ptr::eq(caps, again), "cached");
        let service = c.service().await.map_err(e)?;
        ensure!(service.resources().contains(&"Patient"), "Patient advertised: {:?}", service.resources());
        Ok(())
    })
    .await;

    t.case("version_mismatch_is_reported", || async {
        let c =
            Connection::<fhirstorm::Stu3>::builder(&server.base).allow_insecure_loopback(true).build().map_err(e)?;
        let err = c.service().await.expect_err("an R4 server is not STU3");
        ensure!(err.kind() == ErrorKind::VersionMismatch, "{err}");
        ensure!(err.to_string().contains("4.0.1"), "{err}");
        Ok(())
    })
    .await;

    #[cfg(feature = "r5")]
    t.case("an R5 connection to this R4 server is a version mismatch", || async {
        let c = Connection::<fhirstorm::R5>::builder(&server.base).allow_insecure_loopback(true).build().map_err(e)?;
        let err = c.service().await.expect_err("an R4 server is not R5");
        ensure!(err.kind() == ErrorKind::VersionMismatch, "{err}");
        ensure!(err.to_string().contains("4.0.1"), "{err}");
        Ok(())
    })
    .await;

    t.case("plain_http_needs_an_explicit_loopback_opt_in", || async {
        let err = Connection::<R4>::builder(&server.base).build().expect_err("plain http refused");
        ensure!(err.kind() == ErrorKind::Config, "{err}");
        let err = Connection::<R4>::builder("http://fhir.example.org/r4")
            .allow_insecure_loopback(true)
            .build()
            .expect_err("not loopback");
        ensure!(err.kind() == ErrorKind::Config, "{err}");
        let err = Connection::<R4>::new("not a url").service().await.expect_err("bad url");
        ensure!(err.kind() == ErrorKind::Config, "{err}");
        Ok(())
    })
    .await;

    t.case("create_fetch_update_vread_history_delete", || async {
        let service = conn(&server).service().await.map_err(e)?;
        let patients = service.r::<Patient>();
        let created = patients.create(&patient("Chalmers", "Peter")).await.map_err(e)?;
        let id = created.id().ok_or("server gave no id")?.to_string();
        let fetched = patients.fetch(&id).await.map_err(e)?;
        ensure!(fetched.name[0].family.value().map(String::as_str) == Some("Chalmers"), "{fetched:?}");
        ensure!(fetched.birth_date.value().map(|d| d.as_str()) == Some("1974-12-25"), "birth date kept");

        let mut changed = fetched.clone();
        changed.name[0].given = vec!["Jim".into()];
        let updated = patients.update(&changed).await.map_err(e)?;
        let v2 = updated.meta.as_ref().and_then(|m| m.version_id.value().cloned());
        ensure!(v2.as_deref() == Some("2"), "version 2, got {v2:?}");

        let v1 = patients.vread(&id, "1").await.map_err(e)?;
        ensure!(v1.name[0].given.first().and_then(|g| g.value()) == Some(&"Peter".to_string()), "vread v1");

        let history = patients.history(&id).await.map_err(e)?;
        ensure!(history.entry.len() == 2, "two versions in history, got {}", history.entry.len());

        patients.delete(&id).await.map_err(e)?;
        let err = patients.fetch(&id).await.expect_err("deleted");
        ensure!(err.is_not_found(), "{err}");
        ensure!(err.kind() == ErrorKind::Status, "{err:?}");
        Ok(())
    })
    .await;

    t.case("stale_if_match_is_a_typed_412", || async {
        let service = conn(&server).service().await.map_err(e)?;
        let patients = service.r::<Patient>();
        let created = patients.create(&patient("Stale", "One")).await.map_err(e)?;
        let mut first = created.clone();
        first.active = Some(true.into());
        patients.update(&first).await.map_err(e)?;
        // `created` still says version 1: updating it now must not overwrite version 2.
        let mut stale = created.clone();
        stale.active = Some(false.into());
        let err = patients.update(&stale).await.expect_err("stale version refused");
        ensure!(err.is_precondition_failed(), "{err}");
        ensure!(err.status() == Some(412), "{err:?}");
        Ok(())
    })
    .await;

    t.case("conditional_create_finds_the_existing_resource", || async {
        let service = conn(&server).service().await.map_err(e)?;
        let patients = service.r::<Patient>();
        let mut p = patient("Conditional", "Carl");
        p.identifier = vec![r4::Identifier {
            system: Some("urn:fhirstorm:test".into()),
            value: Some("cond-1".into()),
            ..Default::default()
        }];
        let a = patients
            .create_if_none_exist(&p, Patient::search().identifier(TokenValue::code("urn:fhirstorm:test", "cond-1")))
            .await
            .map_err(e)?;
        let b = patients
            .create_if_none_exist(&p, Patient::search().identifier(TokenValue::code("urn:fhirstorm:test", "cond-1")))
            .await
            .map_err(e)?;
        ensure!(a.id() == b.id(), "same resource: {:?} vs {:?}", a.id(), b.id());
        Ok(())
    })
    .await;

    t.case("search_pages_and_streams_follow_next_links", || async {
        let service = conn(&server).service().await.map_err(e)?;
        let patients = service.r::<Patient>();
        for i in 0..7 {
            patients.create(&patient("Pager", &format!("P{i}"))).await.map_err(e)?;
        }
        let first = patients.search([("family", "Pager"), ("_count", "3")]).await.map_err(e)?;
        ensure!(first.matches().len() == 3, "3 on the first page, got {}", first.matches().len());
        ensure!(first.has_next(), "a next page");
        ensure!(first.ignored_params().is_empty(), "sekmet applied family: {:?}", first.ignored_params());
        let typed =
            patients.search(Patient::search().family("Pager").count(3).raw("x-unknown", "1")).await.map_err(e)?;
        ensure!(typed.matches().len() == 3, "typed builder search");
        ensure!(typed.ignored_params() == ["x-unknown".to_string()], "ignored reported: {:?}", typed.ignored_params());
        let pages: Vec<_> =
            patients.search_pages([("family", "Pager"), ("_count", "3")]).try_collect().await.map_err(e)?;
        ensure!(pages.len() == 3, "3 pages, got {}", pages.len());
        let all: Vec<Patient> =
            patients.search_all([("family", "Pager"), ("_count", "3")]).try_collect().await.map_err(e)?;
        ensure!(all.len() == 7, "7 patients, got {}", all.len());
        let mut ids: Vec<_> = all.iter().filter_map(|p| p.id.clone()).collect();
        ids.sort();
        ids.dedup();
        ensure!(ids.len() == 7, "no duplicates across pages");
        Ok(())
    })
    .await;

    t.case("include_splits_results_by_type", || async {
        let service = conn(&server).service().await.map_err(e)?;
        let p = service.r::<Patient>().create(&patient("Included", "Ida")).await.map_err(e)?;
        let pid = p.id.clone().ok_or("no id")?;
        let obs = Observation {
            status: Some(r4::Primitive::new(r4::codes::ObservationStatus::Final)),
            code: Some(r4::CodeableConcept { text: Some("heart rate".into()), ..Default::default() }),
            subject: Some(Reference { reference: Some(format!("Patient/{pid}").into()), ..Default::default() }),
            value: Some(r4::ObservationValue::Quantity(Box::new(r4::Quantity {
                value: Some(r4::Primitive::new("72.50".parse().map_err(|e: fhirstorm::json::Error| e.to_string())?)),
                unit: Some("beats/min".into()),
                ..Default::default()
            }))),
            ..Default::default()
        };
        let sent = String::from_utf8(fhirstorm::json::to_vec(&obs)).map_err(|e| e.to_string())?;
        ensure!(sent.contains(r#""value":72.50"#), "the decimal is sent exactly as written: {sent}");
        let created = service.r::<Observation>().create(&obs).await.map_err(e)?;
        let value = match &created.value {
            Some(r4::ObservationValue::Quantity(q)) => q.value.value().map(|d| d.to_f64()),
            _ => None,
        };
        // sekmet stores decimals as Python floats, so it answers 72.5: the value, not the text.
        ensure!(value == Some(72.5), "the decimal came back: {value:?}");
        let page = service
            .r::<Observation>()
            .search([("subject", format!("Patient/{pid}").as_str()), ("_include", "Observation:subject")])
            .await
            .map_err(e)?;
        ensure!(page.matches().len() == 1, "one observation");
        let included: Vec<Patient> = page.included_of::<Patient>();
        ensure!(included.len() == 1 && included[0].id == p.id, "the patient included: {page:?}");
        Ok(())
    })
    .await;

    t.case("not_found_carries_the_operation_outcome", || async {
        let service = conn(&server).service().await.map_err(e)?;
        let err = service.r::<Patient>().fetch("does-not-exist").await.expect_err("missing");
        ensure!(err.is_not_found(), "{err}");
        ensure!(err.status() == Some(404), "{err:?}");
        ensure!(err.outcome().is_some_and(|o| !o.issues.is_empty()), "outcome parsed: {err:?}");
        let err = service.r::<Patient>().fetch("../metadata").await.expect_err("not an id");
        ensure!(err.kind() == ErrorKind::Config, "{err}");
        Ok(())
    })
    .await;

    t.case("unadvertised_interactions_fail_before_any_request", || async {
        let service = conn(&server).service().await.map_err(e)?;
        let advertised = service.resources();
        ensure!(!advertised.contains(&"EffectEvidenceSynthesis"), "this check needs a type sekmet does not advertise");
        let err = service.r::<r4::EffectEvidenceSynthesis>().fetch("x").await.expect_err("unadvertised");
        ensure!(err.is_unsupported(), "{err}");
        ensure!(err.status().is_none(), "refused before any request: {err:?}");
        // With the opt-out, the request is sent and the server's own answer comes back.
        let lenient = Connection::<R4>::builder(&server.base)
            .allow_insecure_loopback(true)
            .trust_capabilities(false)
            .build()
            .map_err(e)?
            .service()
            .await
            .map_err(e)?;
        let err = lenient.r::<r4::EffectEvidenceSynthesis>().fetch("x").await.expect_err("not served");
        ensure!(err.status().is_some(), "the server answered: {err:?}");
        Ok(())
    })
    .await;

    t.case("transaction_entries_are_typed_and_reference_each_other", || async {
        let service = conn(&server).service().await.map_err(e)?;
        let mut tx = service.transaction();
        let patient_url = tx.new_full_url();
        let obs = Observation {
            status: Some(r4::Primitive::new(r4::codes::ObservationStatus::Preliminary)),
            code: Some(r4::CodeableConcept { text: Some("weight".into()), ..Default::default() }),
            subject: Some(Reference { reference: Some(patient_url.as_str().into()), ..Default::default() }),
            ..Default::default()
        };
        let resp =
            tx.create_as(&patient("Transact", "Tess"), Some(patient_url)).create(&obs).send().await.map_err(e)?;
        ensure!(resp.entries.len() == 2, "two entries");
        ensure!(resp.entries.iter().all(|x| x.is_success() && x.status == 201), "201s: {:?}", resp.entries);
        let pid = resp.entries[0].id().ok_or("patient id from location")?.to_string();
        let oid = resp.entries[1].id().ok_or("observation id from location")?.to_string();
        let stored = service.r::<Observation>().fetch(&oid).await.map_err(e)?;
        let subject = stored.subject.as_ref().and_then(|s| s.reference.value().cloned());
        ensure!(subject == Some(format!("Patient/{pid}")), "urn:uuid reference rewritten: {subject:?}");
        Ok(())
    })
    .await;

    t.case("batch_entries_fail_on_their_own", || async {
        let service = conn(&server).service().await.map_err(e)?;
        let resp = service
            .batch()
            .create(&patient("Batch", "Bob"))
            .read::<Patient>("no-such-patient")
            .send()
            .await
            .map_err(e)?;
        ensure!(resp.entries[0].is_success(), "create succeeded: {:?}", resp.entries[0]);
        ensure!(resp.entries[1].status == 404, "read failed alone: {:?}", resp.entries[1]);
        Ok(())
    })
    .await;

    t.case("conditional_update_and_delete", || async {
        let service = conn(&server).service().await.map_err(e)?;
        let patients = service.r::<Patient>();
        let mut p = patient("CondUpd", "Una");
        p.identifier = vec![r4::Identifier {
            system: Some("urn:fhirstorm:test".into()),
            value: Some("upd-1".into()),
            ..Default::default()
        }];
        let created = patients
            .update_where(Patient::search().identifier(TokenValue::code("urn:fhirstorm:test", "upd-1")), &p)
            .await
            .map_err(e)?;
        let id = created.id.clone().ok_or("id")?;
        p.active = Some(true.into());
        let updated = patients
            .update_where(Patient::search().identifier(TokenValue::code("urn:fhirstorm:test", "upd-1")), &p)
            .await
            .map_err(e)?;
        ensure!(updated.id.as_deref() == Some(id.as_str()), "same resource updated");
        patients.delete_where([("identifier", "urn:fhirstorm:test|upd-1")]).await.map_err(e)?;
        ensure!(patients.fetch(&id).await.is_err_and(|x| x.is_not_found()), "deleted");
        Ok(())
    })
    .await;

    t.case("type_and_system_history", || async {
        let service = conn(&server).service().await.map_err(e)?;
        let h = service.r::<Patient>().history_type().await.map_err(e)?;
        ensure!(!h.entry.is_empty(), "type history has entries");
        let h = service.history().await.map_err(e)?;
        ensure!(!h.entry.is_empty(), "system history has entries");
        Ok(())
    })
    .await;

    t.case("everything_and_operations", || async {
        let service = conn(&server).service().await.map_err(e)?;
        let p = service.r::<Patient>().create(&patient("Everything", "Eve")).await.map_err(e)?;
        let id = p.id.clone().ok_or("id")?;
        let b = service.r::<Patient>().everything(&id).await.map_err(e)?;
        ensure!(
            b.entry.iter().any(|x| x.resource.as_ref().and_then(|r| r.id()) == Some(id.as_str())),
            "the patient is in $everything"
        );
        let err = service.r::<Patient>().operation(Some(&id), "no-such-op", None).await.expect_err("unknown operation");
        ensure!(err.status().is_some_and(|s| s >= 400), "{err}");
        let err = service.operation("bad name!", None).await.expect_err("invalid name");
        ensure!(err.kind() == ErrorKind::Config, "{err}");
        Ok(())
    })
    .await;

    t.case("long_searches_are_posted_to_search", || async {
        let service = conn(&server).service().await.map_err(e)?;
        let p = service.r::<Patient>().create(&patient("Longsearch", "Lou")).await.map_err(e)?;
        let pid = p.id.clone().ok_or("id")?;
        // 200 made-up ids and the real one: a URL far over the GET limit.
        let mut ids: Vec<String> = (0..200).map(|i| format!("no-such-patient-{i:04}")).collect();
        ids.push(pid.clone());
        let joined = ids.join(",");
        ensure!(joined.len() > 2000, "a long query");
        let found = service.r::<Patient>().search([("_id", joined.as_str())]).await.map_err(e)?;
        ensure!(found.matches().len() == 1 && found.matches()[0].id == p.id, "found by POST _search: {found:?}");
        Ok(())
    })
    .await;

    t.case("references_resolve_relative_absolute_contained_and_in_bundles", || async {
        let service = conn(&server).service().await.map_err(e)?;
        let p = service.r::<Patient>().create(&patient("Resolve", "Rita")).await.map_err(e)?;
        let pid = p.id.clone().ok_or("id")?;
        let got: Patient = service.resolve_as(&format!("Patient/{pid}"), None).await.map_err(e)?;
        ensure!(got.id == p.id, "relative");
        let absolute = format!("{}/Patient/{pid}", server.base);
        let got: Patient = service.resolve_as(&absolute, None).await.map_err(e)?;
        ensure!(got.id == p.id, "absolute on this server");
        let got: Patient = service.resolve_as(&format!("Patient/{pid}/_history/1"), None).await.map_err(e)?;
        ensure!(got.id == p.id, "versioned");
        let err = service.resolve("https://elsewhere.example/fhir/Patient/1", None).await.expect_err("foreign");
        ensure!(err.kind() == ErrorKind::Protocol, "{err}");

        let holder: r4::AnyResource = fhirstorm::json::from_slice::<r4::AnyResource>(
            br##"{"resourceType":"Observation","status":"final","code":{"text":"x"},
                 "contained":[{"resourceType":"Patient","id":"inner","birthDate":"2001"}],
                 "subject":{"reference":"#inner"}}"##,
        )
        .map_err(|x| x.to_string())?;
        let inner: Patient = service.resolve_as("#inner", Some(&holder)).await.map_err(e)?;
        ensure!(inner.birth_date.value().map(|d| d.as_str()) == Some("2001"), "contained");
        // The same through the Reference itself.
        let subject = match &holder {
            r4::AnyResource::Observation(o) => o.subject.clone().ok_or("subject")?,
            _ => return Err("an Observation".into()),
        };
        let inner: Patient = subject.resolve_as(&service, Some(&holder)).await.map_err(e)?;
        ensure!(inner.id.as_deref() == Some("inner"), "Reference::resolve_as");
        let r = Reference { reference: Some(format!("Patient/{pid}").into()), ..Default::default() };
        ensure!(r.resolve(&service, None).await.map_err(e)?.id() == Some(pid.as_str()), "Reference::resolve");

        let bundle: r4::AnyResource = fhirstorm::json::from_slice::<r4::AnyResource>(
            br#"{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:9d3f0a1c-2222-4c1e-8000-000000000001","resource":{"resourceType":"Patient","id":"b1"}}]}"#,
        )
        .map_err(|x| x.to_string())?;
        let inb: Patient =
            service.resolve_as("urn:uuid:9d3f0a1c-2222-4c1e-8000-000000000001", Some(&bundle)).await.map_err(e)?;
        ensure!(inb.id.as_deref() == Some("b1"), "by fullUrl");
        Ok(())
    })
    .await;

    t.case("json_patch", || async {
        let service = conn(&server).service().await.map_err(e)?;
        let advertised =
            service.capabilities().resources.get("Patient").is_some_and(|c| c.interactions.contains("patch"));
        let p = service.r::<Patient>().create(&patient("Patchy", "Pat")).await.map_err(e)?;
        let pid = p.id.clone().ok_or("id")?;
        let ops = fhirstorm::json::Value::parse(r#"[{"op":"replace","path":"/birthDate","value":"1980-01-02"}]"#)
            .map_err(|x| x.to_string())?;
        match service.r::<Patient>().patch(&pid, &ops).await {
            Ok(patched) => {
                ensure!(patched.birth_date.value().map(|d| d.as_str()) == Some("1980-01-02"), "patched: {patched:?}")
            }
            Err(err) => ensure!(!advertised && err.is_unsupported(), "{err}"),
        }
        Ok(())
    })
    .await;

    t.case("resources_named_at_run_time", || async {
        let service = conn(&server).service().await.map_err(e)?;
        let bad = service.r_named("Patinet").err().ok_or("Patinet accepted")?;
        ensure!(bad.kind() == ErrorKind::Config && bad.to_string().contains("Patinet"), "{bad}");
        let patients = service.r_named("Patient").map_err(e)?;
        let new = patient("Named", "Nora").into_any();
        let created = patients.create(&new).await.map_err(e)?;
        let id = created.id().ok_or("id")?.to_string();
        let read = patients.fetch(&id).await.map_err(e)?;
        let typed = Patient::from_any(read).map_err(|_| "not a Patient")?;
        ensure!(typed.name[0].family.value().map(String::as_str) == Some("Named"), "{typed:?}");
        let mut changed = typed.clone();
        changed.name[0].family = Some("Renamed".into());
        let updated = patients.update(&changed.clone().into_any()).await.map_err(e)?;
        let v2 = Patient::from_any(updated).map_err(|_| "not a Patient")?;
        ensure!(v2.meta.as_ref().and_then(|m| m.version_id.value().map(String::as_str)) == Some("2"), "{v2:?}");
        // The stale version is refused (If-Match from meta.versionId), as the typed update is.
        let stale = patients.update(&changed.into_any()).await.err().ok_or("stale update accepted")?;
        ensure!(stale.is_precondition_failed(), "{stale}");
        // What is not of the type named is refused before any request.
        let wrong = patients.create(&Observation::default().into_any()).await.err().ok_or("accepted")?;
        ensure!(wrong.kind() == ErrorKind::Config, "{wrong}");
        let page = patients.search([("family", "Renamed"), ("_count", "1")]).await.map_err(e)?;
        ensure!(page.matches().iter().any(|p| p.id() == Some(id.as_str())), "{page:?}");
        let all: Vec<_> = patients
            .search_all(vec![("_count".into(), "2".into()), ("birthdate".into(), "1974-12-25".into())])
            .try_collect()
            .await
            .map_err(e)?;
        ensure!(all.len() > 2 && all.iter().all(|r| r.resource_type() == "Patient"), "{} found", all.len());
        patients.delete(&id).await.map_err(e)?;
        let gone = patients.fetch(&id).await.err().ok_or("still there")?;
        ensure!(gone.status().is_some_and(|s| s == 404 || s == 410), "{gone}");
        Ok(())
    })
    .await;

    drop(server);
}
