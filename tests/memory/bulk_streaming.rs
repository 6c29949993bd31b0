//! The memory bulk data takes to stream (a counting allocator): NDJSON lines padded with a
//! large unknown member, read line by line and in parallel, and a 200 MB file downloaded from a
//! fake server.

use crate::bulk_export::{export, manifest, ndjson};
use crate::counting::peak_growth;
use crate::support::Runner;
use fhirstorm::client::bulk::NdjsonStream;
use fhirstorm::r4::{Observation, Patient};

pub async fn run(t: &mut Runner) {
    t.case(
        "lines padded with a large unknown member: memory in proportion to a line, streamed or in parallel",
        || async {
            // Eight lines of 2 MB, each a Patient with an unknown member `padding`: [0,0,...]. As a
            // tree of values that member cost ~30 times its text; kept as text, a small multiple.
            let pad = format!("[{}0]", "0,".repeat(1 << 20));
            let line = |i: usize| format!(r#"{{"resourceType":"Patient","id":"p{i}","padding":{pad}}}"#);
            let body = (0..8).map(line).collect::<Vec<_>>().join("\n").into_bytes();
            let per_line = body.len() / 8;
            let mut stream = NdjsonStream::<Patient>::from_reader(std::io::Cursor::new(body.clone()), "p.ndjson");
            let (n, peak) = peak_growth(async {
                let mut n = 0usize;
                while let Some(p) = stream.next().await {
                    let p = p.map_err(|e| e.to_string())?;
                    ensure!(p.unknown.keys().eq(["padding"]), "{:?}", p.unknown.keys().collect::<Vec<_>>());
                    n += 1;
                }
                Ok::<_, String>(n)
            })
            .await;
            ensure!(n? == 8, "not every line read");
            println!(
                "  streamed: 8 lines of {:.1} MB, peak heap growth {:.1} MB",
                per_line as f64 / 1e6,
                peak as f64 / 1e6
            );
            ensure!(peak < 8 * per_line, "{peak} bytes at peak for lines of {per_line}");
            let stream = NdjsonStream::<Patient>::from_reader(std::io::Cursor::new(body), "p.ndjson");
            let (summary, peak) =
                peak_growth(stream.for_each_parallel(2, |p| assert!(p.unknown.keys().eq(["padding"])))).await;
            ensure!(summary.map_err(|e| e.to_string())?.resources == 8, "not every line read");
            println!("  in parallel: peak heap growth {:.1} MB", peak as f64 / 1e6);
            ensure!(peak < 24 * per_line, "{peak} bytes at peak for lines of {per_line}");
            Ok(())
        },
    )
    .await;

    t.case("a 200 MB file streams in bounded memory", || async {
        // ~520 bytes a line, 400,000 lines: the body is built before measuring.
        let line = format!(
            "{}\n",
            r#"{"resourceType":"Observation","id":"o","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}],"text":"Heart rate"},"subject":{"reference":"Patient/example"},"effectiveDateTime":"2026-11-29T10:00:00Z","valueQuantity":{"value":72,"unit":"beats/minute","system":"http://unitsofmeasure.org","code":"/min"},"note":[{"text":"resting, seated, after five minutes; the cuff fitted; no arrhythmia was noticed during the measurement"}]}"#
        );
        let lines = 200_000_000 / line.len();
        let (_f, job, m) = export(|base| {
            vec![manifest(&[("Observation", &format!("{base}/files/o.ndjson"))]), ndjson(&line.repeat(lines))]
        })
        .await;
        let m = m.map_err(|e| e.to_string())?;
        let (n, peak) = peak_growth(async {
            let mut stream = job.download::<Observation>(&m, &m.output[0]).await.map_err(|e| e.to_string())?;
            let mut n = 0usize;
            while let Some(o) = stream.next().await {
                o.map_err(|e| e.to_string())?;
                n += 1;
            }
            Ok::<_, String>(n)
        })
        .await;
        let n = n?;
        ensure!(n == lines, "{n} of {lines}");
        println!("  {:.0} MB in {n} lines: peak heap growth {:.2} MB", (n * line.len()) as f64 / 1e6, peak as f64 / 1e6);
        ensure!(peak < 64 << 20, "{peak} bytes at peak");
        Ok(())
    })
    .await;
}
