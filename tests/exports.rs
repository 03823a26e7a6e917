//! Exports as a story: a message's life as a Mermaid diagram someone can paste into their
//! docs, the run's history as JSON lines a script can read back, the metrics as CSV a
//! spreadsheet can open. In every one, each delivery of a message keeps its own identity, so
//! a double charge shows as two charges, never one.

use std::collections::BTreeSet;

use dsim_core::export::{
    HISTORY_MAX_MESSAGES, HistoryEvent, history_json_lines, mermaid_sequence, run_history,
    series_csv, sweep_csv,
};
use dsim_core::presets::preset;
use dsim_core::{Mode, SweepSpec, TraceKind, sweep, trace_message};

use crate::support::{assert_snapshot, replay, run, scenario};

/// The textbook double charge: the broker's ack to the producer is lost, the producer retries,
/// a second record is stored, and a dedup store that forgets at once lets it through.
fn double_charge_query() -> String {
    format!(
        "{}&dedup-window-ms=0",
        preset("double-charge").expect("preset").query
    )
}

#[test]
fn a_double_charge_as_a_mermaid_diagram() {
    let s = scenario(&double_charge_query()).with_mode(Mode::IdempotentConsumer);
    let ce = run(&s).guarantee.counterexample.expect("a counterexample");
    let diagram = mermaid_sequence(ce.message, &trace_message(&s, ce.message));
    assert_snapshot("mermaid_double_charge", &diagram);

    // The two charges are two arrows to the ledger, each naming the copy that made it.
    let charges: Vec<&str> = diagram
        .lines()
        .filter(|l| l.trim_start().starts_with("C->>L:"))
        .collect();
    assert_eq!(charges.len(), 2, "{diagram}");
    assert_ne!(charges[0].split(':').nth(1), charges[1].split(':').nth(1));
    assert!(charges[1].contains("copy 4"), "{}", charges[1]);
}

#[test]
fn the_history_is_every_trace_in_time_order_and_reads_back() {
    let s = scenario(
        "messages=300&ack-loss=0.2&duplicate=0.1&delivery-loss=0.05&seed=3&producer-idempotence=off",
    );
    let history = run_history(&s).unwrap();
    let text = history_json_lines(&s).unwrap();
    assert_eq!(text.lines().count(), history.len());
    let read: Vec<HistoryEvent> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one event"))
        .collect();
    assert_eq!(read, history, "JSON lines round-trip");
    assert!(
        history
            .windows(2)
            .all(|w| (w[0].at_us, w[0].message) <= (w[1].at_us, w[1].message)),
        "time order, and message order within a microsecond"
    );

    // Exactly each message's trace, in the trace's own order.
    for m in [0, 17, 299] {
        let mine: Vec<_> = history.iter().filter(|e| e.message == m).collect();
        let trace = trace_message(&s, m);
        assert_eq!(mine.len(), trace.len(), "message {m}");
        for (h, t) in mine.iter().zip(&trace) {
            assert_eq!(
                (h.at_us, h.kind, h.attempt, h.copy),
                (t.at_us, t.kind, t.attempt, t.copy)
            );
        }
    }

    // Every charge in the history is one side effect of the report, and no two charges of a
    // message share an identity: duplicates are never merged.
    let report = run(&s);
    let charges: Vec<_> = history
        .iter()
        .filter(|e| e.kind == TraceKind::Processed)
        .collect();
    assert_eq!(charges.len() as u64, report.side_effects, "{}", replay(&s));
    let identities: BTreeSet<(u32, u32, u32)> = charges
        .iter()
        .map(|e| (e.message, e.attempt, e.copy))
        .collect();
    assert_eq!(
        identities.len(),
        charges.len(),
        "two charges with one identity"
    );
    assert!(
        report.duplicates > 0,
        "the story needs duplicates: {}",
        replay(&s)
    );
}

#[test]
fn the_history_of_a_long_run_is_refused_by_name() {
    let s = scenario(&format!("messages={}", HISTORY_MAX_MESSAGES + 1));
    let e = run_history(&s).unwrap_err();
    assert_eq!(e.key, "messages");
    assert!(e.message.contains("at most 20000 messages"), "{e}");
}

#[test]
fn the_metrics_csv_reads_back_to_the_same_series() {
    let s = scenario("messages=2000&ack-loss=0.1&publish-loss=0.05&mode=at-most-once");
    let series = run(&s).series;
    let csv = series_csv(&series);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "t_ms,throughput_per_s,applied,duplicates_cumulative,lost_cumulative,latency_p50_ms,latency_p99_ms,\
             backlog_partition_0,backlog_partition_1,backlog_partition_2,backlog_partition_3,\
             backlog_partition_4,backlog_partition_5,backlog_partition_6,backlog_partition_7"
        )
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), series.t_ms.len());
    let number = |cell: &str| cell.parse::<f64>().expect("a number");
    let optional = |cell: &str| (!cell.is_empty()).then(|| number(cell));
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), 7 + 8);
        assert_eq!(number(row[0]), series.t_ms[i]);
        assert_eq!(number(row[1]), series.throughput_per_s[i]);
        assert_eq!(number(row[2]) as u64, series.applied[i]);
        assert_eq!(number(row[3]) as u64, series.duplicates_cumulative[i]);
        assert_eq!(number(row[4]) as u64, series.lost_cumulative[i]);
        assert_eq!(optional(row[5]), series.latency_p50_ms[i]);
        assert_eq!(optional(row[6]), series.latency_p99_ms[i]);
        for (p, lag) in series.backlog.iter().enumerate() {
            assert_eq!(
                number(row[7 + p]) as u64,
                lag[i],
                "partition {p}'s lag in row {i}"
            );
        }
    }
    assert!(series.backlog.iter().flatten().any(|&lag| lag > 0));
    assert!(series.lost_cumulative.last().copied().unwrap_or(0) > 0);
}

#[test]
fn a_sweep_as_csv_has_one_row_per_point_and_mode() {
    // Without idempotence, so that lost publish acks make duplicates (theory's column).
    let base = scenario("messages=200&producer-idempotence=off");
    let spec = SweepSpec {
        knob: "publishAckLoss".into(),
        from: 0.0,
        to: 0.2,
        steps: 3,
        seeds: 2,
    };
    let result = sweep(&base, &spec).unwrap();
    let csv = sweep_csv(&result);
    let lines: Vec<&str> = csv.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(
        &header[..5],
        ["knob", "value", "mode", "runs", "stalled_runs"]
    );
    assert_eq!(header.len(), 5 + 4 * 3 + 2);
    assert_eq!(lines.len(), 1 + 3 * 5);
    assert!(
        lines[1].starts_with("publish-ack-loss,0,at-most-once,2,0,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[15].starts_with("publish-ack-loss,0.2,outbox,2,0,"),
        "{}",
        lines[15]
    );
    for line in &lines[1..] {
        assert_eq!(line.split(',').count(), header.len(), "{line}");
    }
    // At-least-once at 0.1: theory's q + q² + … (eight retries) in the expectation column.
    let alo: Vec<&str> = lines[7].split(',').collect();
    assert_eq!(alo[2], "at-least-once");
    let expected: f64 = alo[header.len() - 2].parse().unwrap();
    assert!((expected - 0.1 / 0.9).abs() < 1e-8, "{expected}");
}

/// One copy number per record, whatever the event: the second record of a retried publish is
/// copy 4 where it is stored, replicated, delivered and charged alike (it once read copy 1
/// where it was stored), so a reader can follow one copy through a timeline. Checked on the
/// double charge and on unclean elections, where truncations name records too.
#[test]
fn every_event_names_a_record_by_the_same_copy_number() {
    let at_the_broker = [
        TraceKind::Stored,
        TraceKind::Replicated,
        TraceKind::Truncated,
        TraceKind::UncleanTruncated,
    ];
    let downstream = [TraceKind::Delivered, TraceKind::Processed];
    for query in [
        double_charge_query(),
        "producer-idempotence=off&publish-ack-loss=0.05&acks=leader&broker-crash=0.005\
         &replica-lag=0.1&unclean-election=on&messages=3000"
            .to_string(),
    ] {
        let s = scenario(&query).with_mode(Mode::AtLeastOnce);
        let report = run(&s);
        let message = report
            .example_duplicate
            .expect("a duplicated message to follow");
        let trace = trace_message(&s, message);
        let records = |kinds: &[TraceKind]| -> BTreeSet<u32> {
            trace
                .iter()
                .filter(|e| kinds.contains(&e.kind))
                .map(|e| e.copy / 4)
                .collect()
        };
        let stored = records(&at_the_broker[..1]);
        let delivered = records(&downstream);
        assert!(stored.len() >= 2, "{query}: stored {stored:?}");
        assert!(
            delivered.is_subset(&stored),
            "{query}: delivered records {delivered:?}, stored {stored:?}"
        );
        for e in trace.iter().filter(|e| at_the_broker.contains(&e.kind)) {
            assert!(
                stored.contains(&(e.copy / 4)),
                "{query}: a {:?} names copy {}, a record never stored ({stored:?})",
                e.kind,
                e.copy
            );
        }
    }
}
