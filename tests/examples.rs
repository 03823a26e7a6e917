//! Every counter of something gone wrong names one message it counts (the page links each to
//! that message's timeline): the example's own trace must show what the counter counts.

use dsim_core::{Scenario, TraceKind, presets::preset, simulate, trace_message};

fn preset_scenario(key: &str, extra: &str) -> Scenario {
    let query = format!("{}{extra}", preset(key).unwrap().query);
    let (s, errors) = Scenario::from_query(&query, &[]);
    assert!(errors.is_empty(), "{errors:?}");
    s
}

fn kinds(s: &Scenario, msg: u32) -> Vec<TraceKind> {
    trace_message(s, msg).iter().map(|e| e.kind).collect()
}

fn count(kinds: &[TraceKind], kind: TraceKind) -> usize {
    kinds.iter().filter(|k| **k == kind).count()
}

#[test]
fn the_example_duplicate_was_applied_twice_and_the_example_loss_never() {
    let s = preset_scenario("consumer-crash-after-processing", "");
    let r = simulate(&s).unwrap();
    assert!(r.duplicates > 0);
    let m = r.example_duplicate.unwrap();
    assert!(count(&kinds(&s, m), TraceKind::Processed) >= 2, "{m}");

    let s = preset_scenario("ack-before-processing", "");
    let r = simulate(&s).unwrap();
    assert!(r.lost > 0);
    let m = r.example_loss.unwrap();
    assert_eq!(count(&kinds(&s, m), TraceKind::Processed), 0, "{m}");
}

#[test]
fn the_example_replay_was_read_again_on_every_broker() {
    for key in [
        "kafka-auto-commit-replay",
        "rabbitmq-requeue-on-close",
        "sqs-visibility-timeout-too-short",
    ] {
        let s = preset_scenario(key, "");
        let r = simulate(&s).unwrap();
        assert!(r.replayed > 0, "{key}");
        let m = r.example_replayed.unwrap();
        let k = kinds(&s, m);
        assert!(
            count(&k, TraceKind::Replayed) + count(&k, TraceKind::Requeued) > 0
                || count(&k, TraceKind::Delivered) + count(&k, TraceKind::Received) >= 2,
            "{key}: message {m}: {k:?}"
        );
    }
    // Nothing replayed, no example (and the report's JSON leaves the field out).
    let clean = simulate(&Scenario::from_query("messages=200", &[]).0).unwrap();
    assert_eq!((clean.replayed, clean.example_replayed), (0, None));
    assert!(
        !serde_json::to_string(&clean)
            .unwrap()
            .contains("example_replayed")
    );
}

#[test]
fn the_example_double_charge_was_charged_twice_by_the_card_provider() {
    let s = preset_scenario("exactly-once-trap", "");
    let r = simulate(&s).unwrap();
    let x = r.external.as_ref().unwrap();
    assert!(x.double_charges > 0);
    let m = x.example_double_charge.unwrap();
    assert!(count(&kinds(&s, m), TraceKind::ExternalCharge) >= 2, "{m}");
    // With the idempotency key the provider charges once: nothing to point at.
    let keyed = simulate(&preset_scenario("exactly-once-trap", "&idempotency-key=on")).unwrap();
    assert_eq!(keyed.external.unwrap().example_double_charge, None);
}

#[test]
fn the_example_fenced_message_was_refused_by_fencing() {
    let s = preset_scenario("zombie-consumer", "&fencing=on");
    let r = simulate(&s).unwrap();
    assert!(r.zombies.as_ref().unwrap().fenced_commits > 0);
    let m = r.example_fenced.unwrap();
    let k = kinds(&s, m);
    assert!(
        count(&k, TraceKind::Fenced) + count(&k, TraceKind::ProducerFenced) > 0,
        "{m}: {k:?}"
    );
}
