//! Bulk export against a hostile or broken server (the hand-written fake of `tests/support/`,
//! for what no real server does on demand): a status that never completes, a failed export, a
//! failed poll, a connection cut mid-file, a file that is not NDJSON, a truncated last line, a
//! file larger than allowed, a line longer than allowed, a manifest naming another host. Each
//! is a typed error or a bounded retry. (The memory a file takes to stream: `tests/memory`.)

use crate::fake;
use crate::support;

use std::time::Duration;

use crate::bulk_export::{export, fast, kickoff, manifest, ndjson, service, TOKEN};
use fake::{start_with, Reply};
use fhirstorm::client::bulk::{NdjsonStream, PollPolicy};
use fhirstorm::client::ErrorKind;
use fhirstorm::r4::{AnyResource, Observation, Patient};
use fhirstorm::R4;
use support::Runner;

fn patient_line(i: usize) -> String {
    format!(r#"{{"resourceType":"Patient","id":"p{i}","name":[{{"family":"Line{i}"}}]}}"#)
}

/// Reads `stream` to its first error: how many resources came before it, and the error.
async fn until_error<T: fhirstorm::json::FromJson>(
    stream: &mut NdjsonStream<T>,
) -> Result<(usize, fhirstorm::client::Error), String> {
    let mut n = 0;
    loop {
        match stream.next().await {
            Some(Ok(_)) => n += 1,
            Some(Err(e)) => return Ok((n, e)),
            None => return Err(format!("the file ended cleanly after {n} resources")),
        }
    }
}

async fn run(t: &mut Runner) {
    t.case("a status that never completes: the deadline ends the wait, typed Timeout", || async {
        let f = start_with(|base| {
            vec![
                fake::export_metadata(),
                kickoff(base),
                Reply::json(202, "").header("retry-after", "1").header("x-progress", "10%"),
            ]
        })
        .await;
        let s = service(&f).await;
        let policy = PollPolicy { deadline: Some(Duration::from_millis(300)), ..fast() };
        let mut job = s.export().start().await.map_err(|e| e.to_string())?.with_policy(policy);
        let mut seen = Vec::new();
        let e = job.wait_with(|p| seen.push(p.map(String::from))).await.err().ok_or("an endless export completed")?;
        ensure!(e.kind() == ErrorKind::Timeout, "{e}");
        ensure!(seen.iter().all(|p| p.as_deref() == Some("10%")) && !seen.is_empty(), "{seen:?}");
        Ok(())
    })
    .await;

    t.case("a failed export (500 with an OperationOutcome) is an error at once; a bare 500 is retried", || async {
        let outcome = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception","diagnostics":"disk full"}]}"#;
        let (f, _, m) = export(|_| vec![Reply::json(500, outcome), manifest(&[])]).await;
        let e = m.err().ok_or("a failed export completed")?;
        ensure!(e.status() == Some(500) && e.outcome().is_some(), "{e}");
        ensure!(f.seen.lock().unwrap().len() == 3, "retried a failed export");
        let (f, _, m) = export(|_| vec![Reply::new(500, "text/html", "<h1>oops</h1>"), Reply::json(202, ""), manifest(&[])]).await;
        m.map_err(|e| format!("a transient 500 was not retried: {e}"))?;
        ensure!(f.seen.lock().unwrap().len() == 5, "polls: {}", f.seen.lock().unwrap().len());
        Ok(())
    })
    .await;

    t.case("a connection cut mid-file: what arrived, then a typed transport error", || async {
        let body: String = (0..50).map(|i| patient_line(i) + "\n").collect();
        let (_f, job, m) = export(|base| {
            let mut cut = ndjson(&body);
            cut.cut_after = Some(body.len() / 2);
            vec![manifest(&[("Patient", &format!("{base}/files/p.ndjson"))]), cut]
        })
        .await;
        let m = m.map_err(|e| e.to_string())?;
        let mut stream = job.download::<Patient>(&m, &m.output[0]).await.map_err(|e| e.to_string())?;
        let (n, e) = until_error(&mut stream).await?;
        ensure!(n > 0 && n < 50, "{n} resources before the cut");
        ensure!(e.kind() == ErrorKind::Transport, "{e}");
        ensure!(stream.next().await.is_none(), "the stream goes on after an error");
        Ok(())
    })
    .await;

    t.case("a download cut short resumes with Range where the server takes it; each resource once", || async {
        let body: String = (0..50).map(|i| patient_line(i) + "\n").collect();
        let half = body.len() / 2 + 7; // mid-line
        let (f, job, m) = export(|base| {
            let mut cut = ndjson(&body).header("accept-ranges", "bytes");
            cut.cut_after = Some(half);
            let rest = Reply::new(206, "application/fhir+ndjson", &body[half..])
                .header("content-range", &format!("bytes {half}-{}/{}", body.len() - 1, body.len()));
            vec![manifest(&[("Patient", &format!("{base}/files/p.ndjson"))]), cut, rest]
        })
        .await;
        let m = m.map_err(|e| e.to_string())?;
        let mut stream = job.download::<Patient>(&m, &m.output[0]).await.map_err(|e| e.to_string())?;
        let mut ids = Vec::new();
        while let Some(p) = stream.next().await {
            ids.push(p.map_err(|e| e.to_string())?.id.unwrap_or_default());
        }
        ensure!(ids == (0..50).map(|i| format!("p{i}")).collect::<Vec<_>>(), "{} resources: {ids:?}", ids.len());
        let range = {
            let seen = f.seen.lock().unwrap();
            seen.last().and_then(|s| s.headers.iter().find(|(k, _)| k == "range").map(|(_, v)| v.clone()))
        };
        ensure!(range == Some(format!("bytes={half}-")), "{range:?}");
        ensure!(stream.bytes_read() == body.len() as u64, "{} bytes", stream.bytes_read());
        Ok(())
    })
    .await;

    t.case("a cut download whose server ignores Range: the transport error, said so", || async {
        let body: String = (0..50).map(|i| patient_line(i) + "\n").collect();
        let (_f, job, m) = export(|base| {
            let mut cut = ndjson(&body).header("accept-ranges", "bytes");
            cut.cut_after = Some(100);
            vec![manifest(&[("Patient", &format!("{base}/files/p.ndjson"))]), cut, ndjson(&body)]
        })
        .await;
        let m = m.map_err(|e| e.to_string())?;
        let mut stream = job.download::<Patient>(&m, &m.output[0]).await.map_err(|e| e.to_string())?;
        let (_, e) = until_error(&mut stream).await?;
        ensure!(e.kind() == ErrorKind::Transport && e.to_string().contains("resuming from byte 100 failed"), "{e}");
        Ok(())
    })
    .await;

    t.case("a paged manifest: next_manifest follows its next link", || async {
        let (f, mut job, m) = export(|base| {
            let first = format!(
                r#"{{"transactionTime":"2026-11-29T10:00:00Z","request":"x","requiresAccessToken":true,"output":[{{"type":"Patient","url":"{base}/files/1.ndjson"}}],"error":[],"link":[{{"relation":"next","url":"{base}/status/1/page/2"}}]}}"#
            );
            vec![Reply::json(200, &first), manifest(&[("Observation", &format!("{base}/files/2.ndjson"))])]
        })
        .await;
        let m = m.map_err(|e| e.to_string())?;
        let second = job.next_manifest(&m).await.map_err(|e| e.to_string())?.ok_or("no second page")?;
        ensure!(second.output[0].resource_type == "Observation", "{second:?}");
        ensure!(job.next_manifest(&second).await.map_err(|e| e.to_string())?.is_none(), "a third page");
        let last = f.seen.lock().unwrap().last().map(|s| s.path.clone()).unwrap_or_default();
        ensure!(last.ends_with("/status/1/page/2"), "not followed: {last}");
        Ok(())
    })
    .await;

    t.case("a manifest whose next link leads back to itself or to a page read: an error, not a loop", || async {
        let page = |base: &str, next: &str| {
            Reply::json(
                200,
                &format!(
                    r#"{{"transactionTime":"2026-11-29T10:00:00Z","request":"x","output":[],"error":[],"link":[{{"relation":"next","url":"{base}{next}"}}]}}"#
                ),
            )
        };
        let (_f, mut job, m) = export(|base| vec![page(base, "/status/1")]).await;
        let m = m.map_err(|e| e.to_string())?;
        let e = job.next_manifest(&m).await.err().ok_or("the status URL followed again")?;
        ensure!(e.kind() == ErrorKind::Protocol && e.to_string().contains("leads back"), "{e}");
        // Two pages naming each other.
        let (_f, mut job, m) =
            export(|base| vec![page(base, "/page/2"), page(base, "/page/3"), page(base, "/page/2")]).await;
        let mut m = m.map_err(|e| e.to_string())?;
        let mut pages = 0;
        let e = loop {
            match job.next_manifest(&m).await {
                Ok(Some(next)) if pages < 5 => (m, pages) = (next, pages + 1),
                Ok(other) => return Err(format!("after {pages} pages: {other:?}")),
                Err(e) => break e,
            }
        };
        ensure!(pages == 2 && e.to_string().contains("leads back"), "after {pages} pages: {e}");
        Ok(())
    })
    .await;

    t.case("file names only from the version's resource types, never from the manifest's text", || async {
        let file = |ty: &str| fhirstorm::client::bulk::OutputFile {
            resource_type: ty.into(),
            url: "https://x/f".into(),
            count: None,
            extension: None,
        };
        ensure!(file("Observation").file_name::<R4>(3).map_err(|e| e.to_string())? == "Observation.3.ndjson", "name");
        for hostile in
            ["../../.bashrc", "/etc/passwd", "Patient/../../x", "Patient\\..\\x", "patient", "", "Patient\u{1b}[2J"]
        {
            let e = file(hostile).file_name::<R4>(1).err().ok_or(format!("{hostile:?} accepted"))?;
            ensure!(e.kind() == ErrorKind::Protocol && !e.to_string().contains('\u{1b}'), "{hostile:?}: {e}");
        }
        Ok(())
    })
    .await;

    t.case("a file that is not NDJSON: file, line and path; or every line skipped and kept", || async {
        let (_f, job, m) = export(|base| {
            vec![
                manifest(&[("Patient", &format!("{base}/files/p.ndjson"))]),
                ndjson("<html>\n<body>gateway</body>\n"),
                ndjson(&format!(
                    "{}\n{{\"resourceType\":\"Patient\",\"birthDate\":7}}\n{}\n",
                    patient_line(1),
                    patient_line(3)
                )),
            ]
        })
        .await;
        let m = m.map_err(|e| e.to_string())?;
        let file = &m.output[0];
        let mut stream = job.download::<Patient>(&m, file).await.map_err(|e| e.to_string())?;
        let e = stream.next().await.ok_or("nothing")?.err().ok_or("HTML read as a Patient")?;
        ensure!(e.kind() == ErrorKind::Parse, "{e}");
        ensure!(e.to_string().contains("/files/p.ndjson: line 1"), "{e}");
        // A bad line in the middle, skipped: the path of the bad member is named.
        let mut stream = job.download::<Patient>(&m, file).await.map_err(|e| e.to_string())?.skip_bad_lines(true);
        let mut ids = Vec::new();
        while let Some(p) = stream.next().await {
            ids.push(p.map_err(|e| e.to_string())?.id.unwrap_or_default());
        }
        ensure!(ids == ["p1", "p3"], "{ids:?}");
        let skipped = stream.skipped();
        ensure!(skipped.len() == 1 && skipped[0].line == 2, "{skipped:?}");
        ensure!(skipped[0].error.to_string().contains("birthDate"), "{}", skipped[0].error);
        Ok(())
    })
    .await;

    t.case("a truncated last line: the whole lines, then a parse error naming the last", || async {
        let body = format!("{}\n{}", patient_line(1), &patient_line(2)[..20]);
        let (_f, job, m) =
            export(|base| vec![manifest(&[("Patient", &format!("{base}/files/p.ndjson"))]), ndjson(&body)]).await;
        let m = m.map_err(|e| e.to_string())?;
        let mut stream = job.download_any(&m, &m.output[0]).await.map_err(|e| e.to_string())?;
        ensure!(matches!(stream.next().await, Some(Ok(AnyResource::Patient(_)))), "the first line");
        let e = stream.next().await.ok_or("the cut line vanished")?.err().ok_or("a cut line read")?;
        ensure!(e.kind() == ErrorKind::Parse && e.to_string().contains("line 2"), "{e}");
        Ok(())
    })
    .await;

    t.case("a file larger than allowed (an endless one), a line longer than allowed: TooLarge", || async {
        let line = patient_line(0) + "\n";
        let (_f, job, m) = export(|base| {
            let mut endless = ndjson(&line.repeat(1000));
            endless.endless = true;
            let mut no_newline = ndjson(&"x".repeat(4096));
            no_newline.endless = true;
            vec![
                manifest(&[
                    ("Patient", &format!("{base}/files/a.ndjson")),
                    ("Patient", &format!("{base}/files/b.ndjson")),
                ]),
                endless,
                no_newline,
            ]
        })
        .await;
        let m = m.map_err(|e| e.to_string())?;
        let policy = PollPolicy { max_file_bytes: Some(2 << 20), max_line_bytes: 1 << 20, ..fast() };
        let job = job.with_policy(policy);
        let mut stream = job.download::<Patient>(&m, &m.output[0]).await.map_err(|e| e.to_string())?;
        let (n, e) = until_error(&mut stream).await?;
        ensure!(e.kind() == ErrorKind::TooLarge && n > 1000, "{e} after {n}");
        let mut stream = job.download::<Patient>(&m, &m.output[1]).await.map_err(|e| e.to_string())?;
        let e = stream.next().await.ok_or("nothing")?.err().ok_or("an endless line read")?;
        ensure!(e.kind() == ErrorKind::TooLarge && e.to_string().contains("line 1"), "{e}");
        Ok(())
    })
    .await;

    t.case("a file on another host gets no token; one under the base does", || async {
        let other = start_with(|_| vec![ndjson(&(patient_line(9) + "\n"))]).await;
        // Another host: `localhost` is not the base's `127.0.0.1`.
        let elsewhere = other.base.replace("127.0.0.1", "localhost") + "/files/p.ndjson";
        let (f, job, m) = export(|base| {
            vec![
                manifest(&[("Patient", &format!("{base}/files/p.ndjson")), ("Patient", &elsewhere)]),
                ndjson(&(patient_line(1) + "\n")),
            ]
        })
        .await;
        let m = m.map_err(|e| e.to_string())?;
        for file in &m.output {
            let mut s = job.download::<Patient>(&m, file).await.map_err(|e| e.to_string())?;
            s.next().await.ok_or("empty")?.map_err(|e| e.to_string())?;
        }
        let auth = |seen: &[fake::Seen]| {
            seen.last().and_then(|s| s.headers.iter().find(|(k, _)| k == "authorization").map(|(_, v)| v.clone()))
        };
        ensure!(auth(&f.seen.lock().unwrap()) == Some(format!("Bearer {TOKEN}")), "the base's file without the token");
        ensure!(auth(&other.seen.lock().unwrap()).is_none(), "the token went to another host");
        Ok(())
    })
    .await;

    t.case("a manifest that does not require the token: not sent, even under the base", || async {
        let (f, job, m) = export(|base| {
            let manifest = format!(
                r#"{{"transactionTime":"2026-11-29T10:00:00Z","request":"x","requiresAccessToken":false,"output":[{{"type":"Patient","url":"{base}/files/p.ndjson"}}],"error":[]}}"#
            );
            vec![Reply::json(200, &manifest), ndjson(&(patient_line(1) + "\n"))]
        })
        .await;
        let m = m.map_err(|e| e.to_string())?;
        let mut s = job.download::<Patient>(&m, &m.output[0]).await.map_err(|e| e.to_string())?;
        s.next().await.ok_or("empty")?.map_err(|e| e.to_string())?;
        let seen = f.seen.lock().unwrap();
        let file = seen.last().ok_or("nothing seen")?;
        ensure!(file.path.ends_with("/files/p.ndjson"), "{}", file.path);
        ensure!(!file.headers.iter().any(|(k, _)| k == "authorization"), "the token went with the file");
        ensure!(seen[seen.len() - 2].headers.iter().any(|(k, _)| k == "authorization"), "the status poll had no token");
        Ok(())
    })
    .await;

    t.case("kick-off: every parameter in the query, typed, with Prefer", || async {
        let f = start_with(|base| vec![fake::export_metadata(), kickoff(base)]).await;
        let s = service(&f).await;
        let since: fhirstorm::Instant = "2026-11-01T00:00:00Z".parse().map_err(|e| format!("{e:?}"))?;
        s.export_patients()
            .resource_type::<Patient>()
            .resource_type::<Observation>()
            .since(&since)
            .type_filter(Observation::search().status("final"))
            .elements(&["id", "Observation.code"])
            .output_format("application/fhir+ndjson")
            .include_associated_data("LatestProvenanceResources")
            .organize_output_by::<Patient>()
            .strict(true)
            .start()
            .await
            .map_err(|e| e.to_string())?;
        let seen = f.seen.lock().unwrap();
        let kick = seen.last().ok_or("no kick-off")?;
        let want = "/fhir/Patient/$export?_type=Patient%2CObservation&_since=2026-11-01T00%3A00%3A00Z\
                    &_typeFilter=Observation%3Fstatus%3Dfinal&_elements=id%2CObservation.code\
                    &_outputFormat=application%2Ffhir%2Bndjson&includeAssociatedData=LatestProvenanceResources\
                    &organizeOutputBy=Patient";
        ensure!(kick.method == "GET" && kick.path == want, "{} {}", kick.method, kick.path);
        let prefer = kick.headers.iter().find(|(k, _)| k == "prefer").map(|(_, v)| v.as_str());
        ensure!(prefer == Some("respond-async, handling=strict"), "{prefer:?}");
        Ok(())
    })
    .await;

    t.case("no $export advertised: refused before any request", || async {
        let f = start_with(|_| vec![Reply::json(200, &fake::metadata("4.0.1", &["Patient"]))]).await;
        let s = service(&f).await;
        let e = s.export_patients().start().await.err().ok_or("an export the server does not offer")?;
        ensure!(e.kind() == ErrorKind::Unsupported, "{e}");
        ensure!(f.seen.lock().unwrap().len() == 1, "a request was sent");
        Ok(())
    })
    .await;

    t.case("parallel parsing: every resource once, each batch in order; a bad line ends it or is skipped", || async {
        use std::sync::{Arc, Mutex};
        let mut lines: Vec<String> = (0..40_000).map(patient_line).collect();
        let reader = |lines: &[String]| std::io::Cursor::new(lines.join("\n").into_bytes());
        let run = |lines: Vec<String>, skip: bool| async move {
            let seen = Arc::new(Mutex::new(Vec::new()));
            let log = seen.clone();
            let summary = NdjsonStream::<Patient>::from_reader(reader(&lines), "p.ndjson")
                .skip_bad_lines(skip)
                .for_each_parallel(4, move |p| {
                    let id = p.id.unwrap_or_default();
                    log.lock().unwrap().push((std::thread::current().id(), id[1..].parse::<usize>().unwrap()));
                })
                .await;
            let seen = std::mem::take(&mut *seen.lock().unwrap());
            (summary, seen)
        };
        let (summary, seen) = run(lines.clone(), false).await;
        let summary = summary.map_err(|e| e.to_string())?;
        let mut ids: Vec<usize> = seen.iter().map(|(_, i)| *i).collect();
        ensure!(summary.resources == 40_000 && ids.len() == 40_000, "{summary:?}");
        // Each thread's resources come in increasing order (batches are consecutive lines).
        for thread in seen.iter().map(|(t, _)| *t).collect::<std::collections::HashSet<_>>() {
            let mine: Vec<usize> = seen.iter().filter(|(t, _)| *t == thread).map(|(_, i)| *i).collect();
            let runs = mine.windows(2).filter(|w| w[1] != w[0] + 1).count();
            ensure!(mine.windows(2).all(|w| w[0] != w[1]) && runs < mine.len() / 100 + 10, "{runs} jumps");
        }
        ids.sort();
        ensure!(ids == (0..40_000).collect::<Vec<_>>(), "missing or twice");
        lines[30_000] = "{\"resourceType\":\"Patient\",\"active\":\"yes\"}".to_string();
        let (summary, _) = run(lines.clone(), false).await;
        let e = summary.err().ok_or("a bad line went through")?.to_string();
        ensure!(e.contains("p.ndjson: line 30001") && e.contains("active"), "{e}");
        let (summary, seen) = run(lines, true).await;
        let summary = summary.map_err(|e| e.to_string())?;
        ensure!(summary.resources == 39_999 && seen.len() == 39_999, "{}", summary.resources);
        ensure!(summary.skipped.len() == 1 && summary.skipped[0].line == 30_001, "{:?}", summary.skipped);
        Ok(())
    })
    .await;
}

/// The cases above, one after another in one runtime (each starts its own fake).
#[tokio::test]
async fn bulk_export_against_a_hostile_or_broken_server() {
    let mut t = Runner::unfiltered();
    run(&mut t).await;
    t.assert_passed();
}
