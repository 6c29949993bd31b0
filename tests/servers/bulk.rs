//! Bulk Data Access against a real server: sekmet-fhir (PyPI), with SMART Backend Services at
//! its own token endpoint. A population of 40 patients with their observations, conditions
//! and encounters is exported at system, patient and group level; every resource arrives
//! exactly once, typed; `_type`, `_typeFilter` and `_since` change what arrives; a cancelled
//! export is gone; a resumed export fetches only the files not fetched before.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};

use fhirstorm::auth::{ClientAuth, ClientId, ClientSecret, SmartClient, SmartConfiguration};
use fhirstorm::client::bulk::{ExportJob, ExportStatus, JobState, Manifest};
use fhirstorm::client::{Connection, ErrorKind, Service};
use fhirstorm::r4::{AnyResource, Condition, Encounter, Observation, Patient};
use fhirstorm::R4;
use support::{FhirServer, Runner};

const TOKEN_KEY: &str = "fhirstorm-test-shared-access-token-key-0123456789";
const ADMIN: &str = "fhirstorm-admin-token-for-bulk-seeding";
const SECRET: &str = "s3cret-of-the-bulk-client";
const PATIENTS: usize = 40;
const IN_GROUP: usize = 10;

/// (type, id) of every resource seeded, by patient.
struct Seeded {
    patients: Vec<String>,
    /// The resources of each patient's compartment, the patient included.
    compartments: BTreeMap<String, BTreeSet<(String, String)>>,
    group: String,
    final_observations: usize,
}

impl Seeded {
    fn all_compartments(&self) -> BTreeSet<(String, String)> {
        self.compartments.values().flatten().cloned().collect()
    }
}

async fn admin(fhir: &FhirServer) -> Service<R4> {
    support::fixed_token_service(&fhir.base, ADMIN).await
}

async fn create(service: &Service<R4>, json: &str) -> (String, String) {
    let any: AnyResource = fhirstorm::json::from_str(json).expect("seed JSON");
    let ty = any.resource_type().to_string();
    let id = match any {
        AnyResource::Patient(p) => service.r::<Patient>().create(&p).await.map(|r| r.id),
        AnyResource::Observation(o) => service.r::<Observation>().create(&o).await.map(|r| r.id),
        AnyResource::Condition(c) => service.r::<Condition>().create(&c).await.map(|r| r.id),
        AnyResource::Encounter(e) => service.r::<Encounter>().create(&e).await.map(|r| r.id),
        AnyResource::Group(g) => service.r::<fhirstorm::r4::Group>().create(&g).await.map(|r| r.id),
        other => panic!("not seeded: {other:?}"),
    }
    .expect("seeded")
    .expect("an id");
    (ty, id)
}

async fn seed(service: &Service<R4>) -> Seeded {
    let mut seeded =
        Seeded { patients: Vec::new(), compartments: BTreeMap::new(), group: String::new(), final_observations: 0 };
    for i in 0..PATIENTS {
        let (_, pid) =
            create(service, &format!(r#"{{"resourceType":"Patient","name":[{{"family":"Bulk{i}"}}]}}"#)).await;
        let subject = format!(r#""subject":{{"reference":"Patient/{pid}"}}"#);
        let mut mine = BTreeSet::from([("Patient".to_string(), pid.clone())]);
        for k in 0..3 {
            let status = if k == 0 { "final" } else { "preliminary" };
            seeded.final_observations += usize::from(k == 0);
            let obs = format!(
                r#"{{"resourceType":"Observation","status":"{status}","code":{{"coding":[{{"system":"http://loinc.org","code":"8867-4"}}]}},{subject},"valueQuantity":{{"value":{}}}}}"#,
                60 + k
            );
            mine.insert(create(service, &obs).await);
        }
        let condition = format!(r#"{{"resourceType":"Condition","code":{{"text":"diabetes"}},{subject}}}"#);
        mine.insert(create(service, &condition).await);
        let encounter = format!(
            r#"{{"resourceType":"Encounter","status":"finished","class":{{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"}},{subject}}}"#
        );
        mine.insert(create(service, &encounter).await);
        seeded.compartments.insert(pid.clone(), mine);
        seeded.patients.push(pid);
    }
    let members: Vec<String> =
        seeded.patients[..IN_GROUP].iter().map(|p| format!(r#"{{"entity":{{"reference":"Patient/{p}"}}}}"#)).collect();
    let group = format!(r#"{{"resourceType":"Group","type":"person","actual":true,"member":[{}]}}"#, members.join(","));
    seeded.group = create(service, &group).await.1;
    seeded
}

/// Downloads every pending file of the manifest as `AnyResource`s: (type, id) of each, in
/// arrival order, and the files' URLs.
async fn fetch_all(
    job: &mut ExportJob<R4>,
    manifest: &Manifest,
) -> Result<(Vec<(String, String)>, Vec<String>), String> {
    let mut got = Vec::new();
    let mut files = Vec::new();
    for file in job.pending(manifest).into_iter().cloned().collect::<Vec<_>>() {
        let mut stream = job.download_any(manifest, &file).await.map_err(|e| e.to_string())?;
        let mut n = 0;
        while let Some(r) = stream.next().await {
            let r = r.map_err(|e| e.to_string())?;
            if r.resource_type() != file.resource_type {
                return Err(format!("a {} in the {} file", r.resource_type(), file.resource_type));
            }
            got.push((r.resource_type().to_string(), r.id().unwrap_or_default().to_string()));
            n += 1;
        }
        if file.count.is_some_and(|c| c != n) {
            return Err(format!("{}: {n} resources, the manifest says {:?}", file.url, file.count));
        }
        job.mark_fetched(&file);
        files.push(file.url.clone());
    }
    Ok((got, files))
}

/// Exactly once each: no duplicates, and the set asked for.
fn exactly(got: &[(String, String)], want: &BTreeSet<(String, String)>) -> Result<(), String> {
    let set: BTreeSet<(String, String)> = got.iter().cloned().collect();
    if set.len() != got.len() {
        return Err(format!("{} duplicates", got.len() - set.len()));
    }
    if &set != want {
        let missing: Vec<_> = want.difference(&set).take(5).collect();
        let extra: Vec<_> = set.difference(want).take(5).collect();
        return Err(format!("{} arrived, {} wanted; missing {missing:?}, extra {extra:?}", set.len(), want.len()));
    }
    Ok(())
}

pub async fn run(t: &mut Runner) {
    // (sekmet takes the DELETE of a status URL, a cancel, for a delete: the client may write)
    let clients = format!(
        "    - client_id: bulk-client\n      client_secret: {SECRET}\n      scopes: \"system/*.read system/*.write\"\n"
    );
    let fhir = FhirServer::start_smart(TOKEN_KEY, ADMIN, &clients);
    let admin_service = admin(&fhir).await;
    let seeded = seed(&admin_service).await;

    // The exporting client: Backend Services (client_credentials) at sekmet's token endpoint.
    let conn = Connection::<R4>::builder(fhir.base.clone()).allow_insecure_loopback(true).build().unwrap();
    let config = SmartConfiguration::discover(&conn).await.expect("SMART configuration");
    let client = SmartClient::new(
        &conn,
        config,
        ClientAuth::SecretBasic(ClientId::new("bulk-client"), ClientSecret::new(SECRET)),
    );
    let session =
        client.backend_session("system/*.read system/*.write".parse().unwrap()).await.expect("backend session");
    let service = conn.with_session(session).service().await.expect("service");
    let (s, seeded, admin) = (&service, &seeded, &admin_service);

    t.case("system export: every resource exactly once, typed, with the access token", || async move {
        let mut job = s.export().start().await.map_err(|e| e.to_string())?;
        let mut progress = Vec::new();
        let manifest = job.wait_with(|p| progress.push(p.map(String::from))).await.map_err(|e| e.to_string())?;
        if !manifest.requires_access_token {
            return Err("sekmet with SMART requires the token for its files".into());
        }
        let (got, _) = fetch_all(&mut job, &manifest).await?;
        let mut want = seeded.all_compartments();
        want.insert(("Group".into(), seeded.group.clone()));
        exactly(&got, &want)?;
        // The same file, typed.
        let file = manifest.output.iter().find(|f| f.resource_type == "Observation").ok_or("no Observation file")?;
        let mut observations = job.download::<Observation>(&manifest, file).await.map_err(|e| e.to_string())?;
        let mut n = 0;
        while let Some(o) = observations.next().await {
            o.map_err(|e| e.to_string())?.code.ok_or("an observation without its code")?;
            n += 1;
        }
        if n != PATIENTS * 3 || observations.bytes_read() == 0 {
            return Err(format!("{n} observations, {} bytes", observations.bytes_read()));
        }
        // A file of another type is refused before anything is sent.
        let e = job.download::<Patient>(&manifest, file).await.err().ok_or("Observation file read as Patient")?;
        if e.kind() != ErrorKind::Config {
            return Err(e.to_string());
        }
        println!("  {} files, {} resources; progress seen: {progress:?}", manifest.output.len(), got.len());
        job.cancel().await.map_err(|e| e.to_string())
    })
    .await;

    t.case("patient-level export: every patient's compartment", || async move {
        let mut job = s.export_patients().start().await.map_err(|e| e.to_string())?;
        let manifest = job.wait().await.map_err(|e| e.to_string())?;
        let (got, _) = fetch_all(&mut job, &manifest).await?;
        // The group is in its members' compartments (Group.member).
        let mut want = seeded.all_compartments();
        want.insert(("Group".into(), seeded.group.clone()));
        exactly(&got, &want)?;
        job.cancel().await.map_err(|e| e.to_string())
    })
    .await;

    t.case("group export: only the members' compartments", || async move {
        let mut job = s.export_group(&seeded.group).start().await.map_err(|e| e.to_string())?;
        let manifest = job.wait().await.map_err(|e| e.to_string())?;
        let (got, _) = fetch_all(&mut job, &manifest).await?;
        let mut want: BTreeSet<_> =
            seeded.patients[..IN_GROUP].iter().flat_map(|p| seeded.compartments[p].iter().cloned()).collect();
        want.insert(("Group".into(), seeded.group.clone()));
        exactly(&got, &want)?;
        job.cancel().await.map_err(|e| e.to_string())
    })
    .await;

    t.case("_type and _typeFilter (GET and POST): only what they ask for", || async move {
        for post in [false, true] {
            let mut job = s
                .export()
                .resource_type::<Patient>()
                .resource_type::<Observation>()
                .type_filter(Observation::search().status("final"))
                .post(post)
                .start()
                .await
                .map_err(|e| e.to_string())?;
            let manifest = job.wait().await.map_err(|e| e.to_string())?;
            let (got, _) = fetch_all(&mut job, &manifest).await?;
            let count = |ty: &str| got.iter().filter(|(t, _)| t == ty).count();
            let types: BTreeSet<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
            if types != BTreeSet::from(["Observation", "Patient"])
                || count("Patient") != PATIENTS
                || count("Observation") != seeded.final_observations
            {
                return Err(format!(
                    "post {post}: {types:?}, {} patients, {} observations",
                    count("Patient"),
                    count("Observation")
                ));
            }
            job.cancel().await.map_err(|e| e.to_string())?;
        }
        Ok(())
    })
    .await;

    t.case("_since the last export's transaction time: only what changed since", || async move {
        let mut first = s.export().resource_type::<Patient>().start().await.map_err(|e| e.to_string())?;
        let manifest = first.wait().await.map_err(|e| e.to_string())?;
        let since: fhirstorm::Instant = manifest.transaction_time.parse().map_err(|e| format!("{e:?}"))?;
        first.cancel().await.map_err(|e| e.to_string())?;
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let mut changed = BTreeSet::new();
        for pid in &seeded.patients[..2] {
            let mut p = admin.r::<Patient>().fetch(pid).await.map_err(|e| e.to_string())?;
            p.active = Some(true.into());
            admin.r::<Patient>().update(&p).await.map_err(|e| e.to_string())?;
            changed.insert(("Patient".to_string(), pid.clone()));
        }
        let mut job = s.export().resource_type::<Patient>().since(&since).start().await.map_err(|e| e.to_string())?;
        let manifest = job.wait().await.map_err(|e| e.to_string())?;
        let (got, _) = fetch_all(&mut job, &manifest).await?;
        exactly(&got, &changed)?;
        job.cancel().await.map_err(|e| e.to_string())
    })
    .await;

    t.case("cancel: the status URL is gone", || async move {
        let job = s.export().start().await.map_err(|e| e.to_string())?;
        let state = job.state().clone();
        job.cancel().await.map_err(|e| e.to_string())?;
        let mut again = ExportJob::resume(s.clone(), state);
        match again.status().await {
            Err(e) if e.status() == Some(404) => Ok(()),
            other => Err(format!("after cancel: {other:?}")),
        }
    })
    .await;

    t.case("resume: a restarted process fetches only the files not fetched before", || async move {
        let mut job = s.export().start().await.map_err(|e| e.to_string())?;
        let manifest = job.wait().await.map_err(|e| e.to_string())?;
        // Fetch one file, save the state, "restart".
        let first = manifest.output.first().ok_or("no file")?.clone();
        let mut stream = job.download_any(&manifest, &first).await.map_err(|e| e.to_string())?;
        let mut got = Vec::new();
        while let Some(r) = stream.next().await {
            let r = r.map_err(|e| e.to_string())?;
            got.push((r.resource_type().to_string(), r.id().unwrap_or_default().to_string()));
        }
        job.mark_fetched(&first);
        let saved = job.state().to_json();
        drop(job);
        let state = JobState::from_json(&saved).map_err(|e| e.to_string())?;
        if state.transaction_time.as_deref() != Some(manifest.transaction_time.as_str()) {
            return Err(format!("state lost the transaction time: {saved}"));
        }
        let mut resumed = ExportJob::resume(s.clone(), state);
        let manifest = match resumed.status().await.map_err(|e| e.to_string())? {
            ExportStatus::Complete(m) => m,
            other => return Err(format!("{other:?}")),
        };
        let (rest, files) = fetch_all(&mut resumed, &manifest).await?;
        if files.contains(&first.url) || files.len() + 1 != manifest.output.len() {
            return Err(format!("fetched again: {files:?}"));
        }
        got.extend(rest);
        let mut want = seeded.all_compartments();
        want.insert(("Group".into(), seeded.group.clone()));
        // (patients updated by the _since case are still the same resources)
        exactly(&got, &want)?;
        resumed.cancel().await.map_err(|e| e.to_string())
    })
    .await;

    t.case("errors: an unknown group, a parameter the server does not support with handling=strict", || async move {
        let e = s.export_group("no-such-group").start().await.err().ok_or("an export of no group")?;
        if e.status() != Some(404) || e.outcome().is_none() {
            return Err(format!("unknown group: {e}"));
        }
        let e = s.export().elements(&["id"]).strict(true).start().await.err().ok_or("strict accepted _elements")?;
        if e.status() != Some(400) {
            return Err(format!("strict: {e}"));
        }
        // Lenient: the server ignores it and says so in an error file.
        let mut job =
            s.export().resource_type::<Patient>().elements(&["id"]).start().await.map_err(|e| e.to_string())?;
        let manifest = job.wait().await.map_err(|e| e.to_string())?;
        if manifest.error.is_empty() {
            return Err("no error file for the ignored parameter".into());
        }
        job.cancel().await.map_err(|e| e.to_string())
    })
    .await;

    drop(fhir);
}
