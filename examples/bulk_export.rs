//! Bulk export — a Backend Services client exports a group of patients (Bulk Data Access 2.0):
//! kick-off, status polling with the server's progress, then each NDJSON file streamed a line
//! at a time, the observations typed, with a progress bar over the resources.
//!
//! ```text
//! scripts/sandbox &                               # the local sandbox (its cohort: 60 patients)
//! cargo run --example bulk_export
//! cargo run --example bulk_export -- --help
//! ```

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeMap;

use common::{Args, Result};
use fhirstorm::auth::{ClientAuth, ClientId, SigningAlgorithm, SmartClient, SmartConfiguration};
use fhirstorm::r4::{Observation, ObservationValue};
use indicatif::{ProgressBar, ProgressStyle};

fn usage() -> String {
    "usage: bulk_export [options]\n\nExports a group with Bulk Data Access, as a Backend Services client.\n\n\
  --fhir-base URL       FHIR R4 base URL                 [default: http://127.0.0.1:8090/fhir]\n\
  --client-id ID        [default: demo-backend]\n\
  --key PATH            its private key (RS384), PKCS#8 PEM [default: .cache/sandbox/keys/rs384.pem]\n\
  --kid KID             the key's id at the server       [default: read from the .kid file beside the key]\n\
  --group ID            the group to export              [default: sandbox-cohort]\n\
  -h, --help            this help"
        .to_string()
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    common::report(run().await)
}

async fn run() -> Result<()> {
    let usage = usage();
    let args = Args::parse(&usage, &["--fhir-base", "--client-id", "--key", "--kid", "--group"], &[]);
    let key = common::backend_key(&args, SigningAlgorithm::Rs384)?;

    let conn = common::connect(&args)?;
    let config = SmartConfiguration::discover(&conn).await?;
    let client = SmartClient::new(
        &conn,
        config,
        ClientAuth::PrivateKeyJwt(ClientId::new(args.get_or("--client-id", "demo-backend")), key),
    );
    let session = client.backend_session("system/*.read".parse()?).await?;
    let service = conn.with_session(session).service().await?;

    let group = args.get_or("--group", "sandbox-cohort");
    let mut job = service.export_group(group).start().await?;
    let waiting = ProgressBar::new_spinner().with_message(format!("exporting Group/{group}"));
    let manifest = job
        .wait_with(|progress| {
            waiting.set_message(format!("exporting Group/{group}: {}", progress.unwrap_or("in progress")));
            waiting.tick();
        })
        .await?;
    waiting.finish_and_clear();
    println!("Export of Group/{group} complete at {}: {} files", manifest.transaction_time, manifest.output.len());

    let total: u64 = manifest.output.iter().filter_map(|f| f.count).sum();
    let bar = ProgressBar::new(total)
        .with_style(ProgressStyle::with_template("{bar:40} {pos}/{len} resources, {msg}").expect("a valid template"));
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let (mut bytes, mut heart_rates) = (0, Vec::new());
    for file in job.pending(&manifest) {
        bar.set_message(file.resource_type.clone());
        if file.resource_type == "Observation" {
            // Typed: the file holds Observations only.
            let mut observations = job.download::<Observation>(&manifest, file).await?;
            while let Some(o) = observations.next().await {
                let o = o?;
                let loinc = o.code.as_ref().map(|c| &c.coding[..]).unwrap_or_default();
                if loinc.iter().any(|c| c.code.as_ref().and_then(|x| x.value.as_deref()) == Some("8867-4")) {
                    if let Some(ObservationValue::Quantity(q)) = &o.value {
                        heart_rates.extend(q.value.as_ref().and_then(|v| v.value.as_ref()).map(|d| d.to_string()));
                    }
                }
                bar.inc(1);
            }
            bytes += observations.bytes_read();
            *counts.entry(file.resource_type.clone()).or_default() += observations.resources_read();
        } else {
            let mut resources = job.download_any(&manifest, file).await?;
            while let Some(r) = resources.next().await {
                r?;
                bar.inc(1);
            }
            bytes += resources.bytes_read();
            *counts.entry(file.resource_type.clone()).or_default() += resources.resources_read();
        }
    }
    bar.finish_and_clear();
    println!("{bytes} bytes of NDJSON read:");
    for (ty, n) in &counts {
        println!("  {ty:<14} {n}");
    }
    println!("{} heart rates, the first {:?}", heart_rates.len(), heart_rates.iter().take(5).collect::<Vec<_>>());
    if counts.values().sum::<u64>() == 0 {
        return Err("the export was empty".into());
    }
    Ok(())
}
