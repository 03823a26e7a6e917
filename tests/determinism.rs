//! Determinism: a digest of reports over a spread of scenarios, pinned in a snapshot. Any
//! change to what the engine computes (event order, fault decisions, rounding) changes the
//! digest; a pure refactor or speed-up must leave it alone. The native-vs-wasm check lives
//! with the JS API's tests, which compare the wasm report with goldens from this core.

use dsim_core::{Scenario, Simulation, compare};

use crate::support::{assert_snapshot, scenario};

/// FNV-1a over the report JSON: tiny, stable, and enough to notice any change.
fn digest(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn reports_are_pinned_across_modes_and_fault_mixes() {
    let queries = [
        "messages=3000",
        "messages=3000&publish-loss=0.1&publish-ack-loss=0.1&delivery-loss=0.1&ack-loss=0.1&duplicate=0.1",
        "messages=3000&crash-before-process=0.003&crash-after-process=0.003&delay=0.05",
        "messages=3000&broker-crash=0.001&acks=leader&producer-crash=0.01",
        "messages=3000&dedup-window-ms=20&publish-ack-loss=0.2&jitter-ms=3",
    ];
    let mut lines = String::new();
    for q in queries {
        for r in compare(&scenario(q)).unwrap() {
            let json = serde_json::to_string(&r).unwrap();
            lines.push_str(&format!(
                "{:016x}  {:<20} {q}\n",
                digest(&json),
                r.mode.key()
            ));
        }
    }
    assert_snapshot("determinism_digests", &lines);
}

#[test]
fn stepping_in_any_increments_gives_the_same_report_as_one_run() {
    let s = scenario("messages=2000&ack-loss=0.1&crash-after-process=0.005");
    let mut whole = Simulation::new(&s);
    whole.run_to_end();
    for chunk in [1, 7, 1000] {
        let mut stepped = Simulation::new(&s);
        while !stepped.is_finished() {
            stepped.step(chunk);
        }
        assert_eq!(stepped.report(), whole.report(), "chunks of {chunk} events");
    }
    let mut by_time = Simulation::new(&s);
    let mut t = 0;
    while !by_time.is_finished() {
        t += 3_700;
        by_time.advance_to(t);
        if by_time.snapshot().in_flight == 0 && by_time.progress() >= 1.0 {
            by_time.step(u64::MAX);
        }
    }
    assert_eq!(
        by_time.report(),
        whole.report(),
        "advancing by simulated time"
    );
}

#[test]
fn a_run_never_reads_the_clock_or_global_randomness() {
    // Two runs far apart in wall time, and in different threads, are identical.
    let s = Scenario {
        messages: 1500,
        duplicate: 0.2,
        ..Scenario::default()
    };
    let a = std::thread::spawn({
        let s = s.clone();
        move || serde_json::to_string(&dsim_core::simulate(&s).unwrap()).unwrap()
    })
    .join()
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let b = serde_json::to_string(&dsim_core::simulate(&s).unwrap()).unwrap();
    assert_eq!(a, b);
}
