//! Paging over 10,000 resources on a real FHIR server: every resource arrives once, and memory
//! stays bounded by about one page (measured with a counting allocator, and asserted).

use crate::support;

use crate::counting;

use counting::peak_growth;
use fhirstorm::client::Connection;
use fhirstorm::r4::{self, Observation};
use fhirstorm::R4;
use futures_util::StreamExt;
use support::{seed_observations as seed, FhirServer, Runner, CODE, PAGE, TOTAL};

pub async fn run(t: &mut Runner) {
    let server = FhirServer::start();
    let conn = Connection::<R4>::builder(&server.base).allow_insecure_loopback(true).build().expect("connection");
    let service = conn.service().await.expect("service");
    let started = std::time::Instant::now();
    seed(&service).await.expect("seeded");
    println!("seeded {TOTAL} observations in {:.1} s", started.elapsed().as_secs_f64());

    t.case("paging_10000_resources_holds_one_page_at_a_time", || async {
        let obs = service.r::<Observation>();
        let code = format!("urn:fhirstorm|{CODE}");
        let count = PAGE.to_string();
        let params = [("code", code.as_str()), ("_count", count.as_str())];

        // One page alone, as the yardstick.
        let (first, one_page) = peak_growth(obs.search(params)).await;
        let first = first.map_err(|e| e.to_string())?;
        ensure!(first.matches().len() == PAGE, "a full first page");
        drop(first);

        // All pages through the stream, each resource looked at and dropped.
        let (seen, streaming) = peak_growth(async {
            let mut seen = vec![false; TOTAL];
            let mut stream = std::pin::pin!(obs.search_all(params));
            while let Some(item) = stream.next().await {
                let o = item.map_err(|e| e.to_string())?;
                if let Some(r4::ObservationValue::Integer(i)) = &o.value {
                    if let Some(n) = i.value {
                        seen[n as usize] = true;
                    }
                }
            }
            Ok::<_, String>(seen)
        })
        .await;
        let seen = seen?;
        let missing = seen.iter().filter(|s| !**s).count();
        ensure!(missing == 0, "{missing} of {TOTAL} observations never arrived");
        println!(
            "  peak heap growth: one page {:.2} MB, all {} pages streamed {:.2} MB",
            one_page as f64 / 1e6,
            TOTAL / PAGE,
            streaming as f64 / 1e6
        );
        ensure!(
            streaming < one_page * 3,
            "streaming {TOTAL} resources took {streaming} bytes at peak, more than 3 pages ({one_page} each)"
        );
        Ok(())
    })
    .await;
    drop(server);
}
