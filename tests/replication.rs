//! Kafka's replication as a learner meets it (issue 24, item 5): `acks=all` waits for the
//! current in-sync replicas only, so when a follower falls behind (`replica-lag`) and the
//! leader is left alone in the in-sync set, `min.insync.replicas=1` lets it acknowledge what
//! only it has; an unclean leader election then loses those records. `min.insync.replicas=2`
//! refuses the writes instead (the producers retry), and with unclean election off the
//! partition waits for the old leader. The counts are exact: these runs are deterministic,
//! and each is also counted a second way, from the traces of every message.

use std::collections::BTreeSet;

use dsim_core::presets::preset;
use dsim_core::{Mode, Report, Scenario, Simulation, TraceEvent, TraceKind};

use crate::support::{assert_conserved, assert_snapshot, replay, run, scenario, trace_text};

/// Two replicas; the follower falls behind before 2 s and is still behind when the leader
/// crashes at 2 s (seed 42). 6,000 messages at 2,000/s: the run is three seconds long.
const LAGGING_FOLLOWER: &str =
    "messages=6000&replication-factor=2&replica-lag=0.0002&script=2s:crash-broker";
const CRASH_US: u64 = 2_000_000;

/// The run, with every message traced, and each message's trace.
fn traced_run(s: &Scenario) -> (Report, Vec<Vec<TraceEvent>>) {
    let all: Vec<u32> = (0..s.messages).collect();
    let mut sim = Simulation::with_traces(s, &all);
    sim.run_to_end();
    let traces = all
        .iter()
        .map(|&m| {
            sim.trace_of(m)
                .map(<[TraceEvent]>::to_vec)
                .unwrap_or_default()
        })
        .collect();
    let r = sim.report();
    assert_conserved(&r);
    (r, traces)
}

/// When the follower fell out of the in-sync replicas: the trace row on the append it
/// missed first, before the crash. There must be exactly one.
fn lag_started_us(traces: &[Vec<TraceEvent>]) -> u64 {
    let rows: Vec<u64> = traces
        .iter()
        .flatten()
        .filter(|e| e.kind == TraceKind::IsrShrunk && e.at_us < CRASH_US)
        .map(|e| e.at_us)
        .collect();
    assert_eq!(rows.len(), 1, "one lag before the crash: {rows:?}");
    rows[0]
}

fn has(trace: &[TraceEvent], kind: TraceKind) -> bool {
    trace.iter().any(|e| e.kind == kind)
}

fn processed(trace: &[TraceEvent]) -> usize {
    trace
        .iter()
        .filter(|e| e.kind == TraceKind::Processed)
        .count()
}

#[test]
fn acks_all_with_min_insync_1_and_unclean_election_loses_the_acked_records_appended_while_the_follower_lagged()
 {
    let s = scenario(&format!("{LAGGING_FOLLOWER}&unclean-election=on"));
    let (r, traces) = traced_run(&s);
    let lag = lag_started_us(&traces);
    assert!(
        lag < CRASH_US && CRASH_US < lag + 1_000_000,
        "the follower lags at the crash: from {lag} us"
    );
    // Counted from the timeline: appended while the follower lagged and before the crash,
    // acknowledged to the producer, and not yet received by any consumer when the leader
    // died (a record still on its way to a consumer is gone from the new leader's log, and
    // the consumer drops it on arrival).
    let expected: BTreeSet<u32> = traces
        .iter()
        .enumerate()
        .filter(|(_, t)| {
            t.iter()
                .any(|e| e.kind == TraceKind::Stored && (lag..CRASH_US).contains(&e.at_us))
                && has(t, TraceKind::PublishAck)
                && !t
                    .iter()
                    .any(|e| e.kind == TraceKind::Received && e.at_us < CRASH_US)
        })
        .map(|(m, _)| m as u32)
        .collect();
    let lost: BTreeSet<u32> = traces
        .iter()
        .enumerate()
        .filter(|(_, t)| processed(t) == 0)
        .map(|(m, _)| m as u32)
        .collect();
    assert_eq!(lost, expected, "{}", replay(&s));
    assert_eq!(r.lost, 16, "{}", replay(&s));
    assert_eq!(r.lost_silently, 16);
    assert_eq!(lost.len(), 16);
    for &m in &lost {
        let t = &traces[m as usize];
        assert!(has(t, TraceKind::UncleanTruncated), "message {m}");
    }
    let repl = r
        .replication
        .as_ref()
        .expect("replication settings in play");
    assert_eq!(repl.unclean_elections, 1);
    // Every record appended since the lag and still in the log: the lost ones, and those a
    // consumer had received but whose offset the group had not yet committed past, or a
    // producer was still waiting for.
    assert_eq!(repl.unclean_truncated, 23);
    assert_eq!(repl.not_enough_replicas, 0);
    // The checker calls it the broker's doing and names Kafka's settings.
    assert!(!r.guarantee.held);
    let ce = dsim_core::simulate(&s)
        .unwrap()
        .guarantee
        .counterexample
        .unwrap();
    assert_eq!(ce.problem, "loss");
    for words in [
        "min.insync.replicas=1",
        "unclean.leader.election.enable=true",
        "acknowledged",
    ] {
        assert!(ce.explanation.contains(words), "{}", ce.explanation);
    }
}

#[test]
fn min_insync_2_refuses_writes_while_the_follower_lags_and_loses_nothing() {
    // Without an idempotent producer, so that a retry after NotEnoughReplicasAfterAppend is
    // a second record (with one, the partition drops it, unless an unclean election took
    // the first record's sequence with it).
    let s = scenario(&format!(
        "{LAGGING_FOLLOWER}&unclean-election=on&min-insync-replicas=2&producer-idempotence=off"
    ));
    let (r, traces) = traced_run(&s);
    let lag = lag_started_us(&traces);
    assert_eq!(r.lost, 0, "{}", replay(&s));
    assert!(r.guarantee.held);
    let repl = r.replication.as_ref().unwrap();
    // Refusals counted from the traces: one row per refused publish.
    let refusals = |prefix: &str| {
        traces
            .iter()
            .flatten()
            .filter(|e| e.kind == TraceKind::NotEnoughReplicas && e.note.starts_with(prefix))
            .count() as u64
    };
    assert_eq!(refusals("NotEnoughReplicas:"), repl.not_enough_replicas);
    assert_eq!(
        refusals("NotEnoughReplicasAfterAppend:"),
        repl.not_enough_replicas_after_append
    );
    assert_eq!(repl.not_enough_replicas, 170, "{}", replay(&s));
    assert_eq!(repl.not_enough_replicas_after_append, 12);
    // Only while the in-sync set was short: from the lag until the old leader was back.
    assert!(
        traces
            .iter()
            .flatten()
            .filter(|e| e.kind == TraceKind::NotEnoughReplicas)
            .all(|e| e.at_us >= lag),
    );
    // The unclean election still happened, but the new leader lacked nothing acknowledged.
    assert_eq!(repl.unclean_elections, 1);
    assert_eq!(repl.unclean_truncated, 0);
    // A record appended just as the follower fell behind was refused its ack after the
    // append: the producer retried it, and without an idempotent producer the log holds it
    // twice. At-least-once applies both; exactly-once drops the retry.
    assert_eq!(r.duplicates, repl.not_enough_replicas_after_append);
    let eos = run(&s.with_mode(Mode::ExactlyOnce));
    assert_eq!(
        (eos.duplicates, eos.lost),
        (0, 0),
        "{}",
        replay(&eos.scenario)
    );
}

#[test]
fn with_unclean_election_off_the_partition_waits_for_the_old_leader_and_loses_nothing() {
    let s = scenario(LAGGING_FOLLOWER);
    let r = run(&s);
    assert_eq!(r.lost, 0, "{}", replay(&s));
    assert!(r.guarantee.held);
    // Nor is anything applied twice: offset commits that reach the coordinator while it
    // fails over are sent again, and nobody reads a partition again while its reader lives.
    assert_eq!(r.duplicates, 0, "{}", replay(&s));
    let repl = r.replication.as_ref().expect("replica lag is on");
    assert_eq!(repl.unclean_elections, 0);
    assert_eq!(repl.unclean_truncated, 0);
    // The same run with min-insync 2 as well: refused writes, still nothing lost.
    let strict = run(&scenario(&format!(
        "{LAGGING_FOLLOWER}&min-insync-replicas=2"
    )));
    assert_eq!(strict.lost, 0, "{}", replay(&strict.scenario));
    assert!(strict.replication.unwrap().not_enough_replicas > 0);
}

#[test]
fn a_clean_election_keeps_every_record_the_in_sync_follower_has() {
    // Three replicas: one follower lags, the other stays in sync and is elected; unclean
    // election on changes nothing, because a clean candidate exists.
    let s = scenario(&format!(
        "{}&unclean-election=on",
        LAGGING_FOLLOWER.replace("replication-factor=2", "replication-factor=3")
    ));
    let r = run(&s);
    let repl = r.replication.as_ref().unwrap();
    assert!(repl.isr_shrinks >= 1);
    assert_eq!(repl.unclean_elections, 0, "{}", replay(&s));
    assert_eq!(r.lost, 0, "{}", replay(&s));
}

#[test]
fn the_lag_fault_strikes_the_appends_the_fault_plan_says() {
    // Counted from the plan alone: the first attempts whose append the plan marks for a lag,
    // while the follower is in sync. With one follower, a lag that strikes while it is
    // already out changes nothing, so count the strikes that find it in sync.
    use dsim_core::faults::FaultPlan;
    let s = scenario("messages=4000&replication-factor=2&replica-lag=0.002&replica-lag-ms=100");
    let plan = FaultPlan::new(&s);
    let (r, traces) = traced_run(&s);
    let shrinks: Vec<(u32, u64)> = traces
        .iter()
        .enumerate()
        .flat_map(|(m, t)| {
            t.iter()
                .filter(|e| e.kind == TraceKind::IsrShrunk)
                .map(move |e| (m as u32, e.at_us))
        })
        .collect();
    assert_eq!(
        shrinks.len() as u64,
        r.replication.as_ref().unwrap().isr_shrinks
    );
    // Every shrink is on an append the plan marked (no retries here: no faults but the lag).
    assert_eq!(r.retries, 0);
    for &(m, _) in &shrinks {
        assert!(plan.replica_lags(m, 1, 0), "message {m}");
    }
    // And every marked append found the follower in sync exactly when no lag was running.
    let mut out_until = 0;
    let mut expected = 0;
    for (m, t) in traces.iter().enumerate() {
        let Some(stored) = t.iter().find(|e| e.kind == TraceKind::Stored) else {
            continue;
        };
        if plan.replica_lags(m as u32, 1, 0) && stored.at_us >= out_until {
            expected += 1;
            out_until = stored.at_us + 100_000;
        }
    }
    assert_eq!(shrinks.len(), expected);
    assert_eq!(expected, 3, "{}", replay(&s));
    // A lag alone loses nothing and refuses nothing at min-insync 1.
    assert_eq!((r.lost, r.duplicates), (0, 0));
}

#[test]
fn the_preset_loses_acknowledged_records_as_its_text_says() {
    let p = preset("min-insync-1-loses-acked").expect("the preset");
    let s = p.scenario().unwrap();
    let r = run(&s);
    let repl = r.replication.as_ref().unwrap();
    // Its text promises lost acknowledged records, an unclean election at 2 s, and that
    // min-insync-replicas=2 or unclean election off loses nothing.
    assert!(p.explanation.contains("At 2 s the leader crashes"));
    assert_eq!(r.scripted_faults[0].from_ms, Some(2000.0));
    assert!(r.lost_silently > 0 && !r.guarantee.held, "{}", replay(&s));
    // The story of one lost record, as a readable snapshot.
    let ce = r
        .guarantee
        .counterexample
        .as_ref()
        .expect("a counterexample");
    assert_snapshot(
        "min_insync_1_loses_acked",
        &format!("{}\n\n{}", ce.explanation, trace_text(&ce.trace)),
    );
    assert_eq!(repl.unclean_elections, 1);
    assert!(repl.isr_shrinks >= 1);
    assert!(p.explanation.contains("Try min-insync-replicas=2"));
    let fixed = run(&Scenario {
        min_insync_replicas: 2,
        ..s.clone()
    });
    assert_eq!(fixed.lost, 0, "{}", replay(&fixed.scenario));
    assert!(fixed.replication.as_ref().unwrap().not_enough_replicas > 0);
    assert!(p.explanation.contains("switch unclean-election off"));
    let waited = run(&Scenario {
        unclean_election: false,
        ..s
    });
    assert_eq!(waited.lost, 0, "{}", replay(&waited.scenario));
}

#[test]
fn defaults_leave_replication_out_of_the_report() {
    let r = run(&scenario("messages=2000&script=1s:crash-broker"));
    assert!(r.replication.is_none());
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("replication\""), "{json}");
    assert!(!json.contains("minInsync") && !json.contains("uncleanElection"));
}

// ----- Bad input -----

#[test]
fn min_insync_above_the_replication_factor_is_refused_through_every_door() {
    let line = "min-insync-replicas: must be at most replication-factor, 2 (got 3)";
    // URL, in either order: refused, one line naming both settings; the rest stands.
    for q in [
        "replication-factor=2&min-insync-replicas=3&ack-loss=0.1",
        "min-insync-replicas=3&ack-loss=0.1&replication-factor=2",
    ] {
        let (s, errors) = Scenario::from_query(q, &[]);
        assert_eq!(errors.len(), 1, "{q}: {errors:?}");
        assert_eq!(errors[0].to_string(), line);
        assert_eq!(s.replication_factor, 2);
        assert_eq!(s.ack_loss, 0.1);
        assert_eq!(s.min_insync_replicas, 1, "falls back to its default");
        assert!(s.validate().is_ok());
    }
    // A valid pair in an order that passes through an invalid one is accepted.
    let (s, errors) = Scenario::from_query("min-insync-replicas=4&replication-factor=5", &[]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!((s.min_insync_replicas, s.replication_factor), (4, 5));
    // JSON: refused whole, naming the setting, like any bad key.
    let e = Scenario::from_json(r#"{"minInsyncReplicas": 3, "replicationFactor": 2}"#).unwrap_err();
    assert_eq!(e.to_string(), line);
    assert!(Scenario::from_json(r#"{"minInsyncReplicas": 3, "replicationFactor": 3}"#).is_ok());
    // One setting at a time (a slider, a flag): refused either way round, scenario unchanged.
    let mut s = scenario("replication-factor=2");
    let before = s.clone();
    let e = s.set("min-insync-replicas", "3").unwrap_err();
    assert_eq!(e.to_string(), line);
    assert_eq!(s, before);
    let mut s = scenario("min-insync-replicas=2");
    let e = s.set("replication-factor", "1").unwrap_err();
    assert_eq!(
        e.to_string(),
        "replication-factor: must be at least min-insync-replicas, 2 (got 1)"
    );
    assert_eq!(s.replication_factor, 3);
    // Anything built by hand is caught before a run.
    let s = Scenario {
        min_insync_replicas: 4,
        ..Scenario::default()
    };
    assert_eq!(
        dsim_core::simulate(&s).unwrap_err().to_string(),
        "min-insync-replicas: must be at most replication-factor, 3 (got 4)"
    );
    // And the knob's own range.
    let (_, errors) = Scenario::from_query("min-insync-replicas=0", &[]);
    assert_eq!(
        errors[0].to_string(),
        "min-insync-replicas: must be between 1 and 5 (got 0)"
    );
}

#[test]
fn the_new_settings_round_trip_through_url_and_json() {
    let s = scenario(
        "replication-factor=4&min-insync-replicas=3&replica-lag=0.01&replica-lag-ms=250&unclean-election=on",
    );
    let (back, errors) = Scenario::from_query(&s.to_query(), &[]);
    assert!(errors.is_empty());
    assert_eq!(back, s);
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(Scenario::from_json(&json).unwrap(), s);
    for key in [
        "replicaLag",
        "replicaLagMs",
        "minInsyncReplicas",
        "uncleanElection",
    ] {
        assert!(json.contains(key), "{json}");
    }
}
