//! Text exports of a run, for people who take the numbers elsewhere: a message's trace as a
//! Mermaid sequence diagram, the run's history (every event of every message) as JSON lines,
//! the metrics' time series as CSV, and a sweep's results as CSV.
//!
//! All are pure functions of their input, so the CLI, the JS API and the page produce the same
//! bytes. Every event keeps its own identity (message, attempt, copy) in every export, so two
//! deliveries of one message are never folded into one line.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};

use crate::observe::trace::{Actor, TraceEvent, TraceKind};
use crate::report::SeriesReport;
use crate::report::stats::Estimate;
use crate::report::sweep::SweepResult;
use crate::scenario::Scenario;
use crate::scenario::knobs::{ScenarioError, format_number};
use crate::{Simulation, Status};

/// Microseconds as milliseconds without trailing zeros (`10500` → `10.5`), by integer
/// arithmetic so every platform prints the same.
fn ms_text(us: u64) -> String {
    let (ms, frac) = (us / 1000, us % 1000);
    if frac == 0 {
        return ms.to_string();
    }
    let digits = format!("{frac:03}");
    format!("{ms}.{}", digits.trim_end_matches('0'))
}

/// Which attempt and copy an event belongs to, as people read it: `attempt 2 · copy 4`. The
/// attempt is the publish attempt on the producer's side and the delivery number on the
/// consumer's; the copy tells log entries and network duplicates apart. Events that belong to
/// no attempt in particular (the payment request, the final ack to the producer) have none.
pub fn attempt_and_copy(e: &TraceEvent) -> String {
    match (e.attempt, e.copy) {
        (0, 0) => String::new(),
        (0, copy) => format!("copy {copy}"),
        (attempt, copy) => format!("attempt {attempt} · copy {copy}"),
    }
}

/// Who an event is about: `message 6 · attempt 2 · copy 4`, or `message 6` alone.
pub fn identity(message: u32, e: &TraceEvent) -> String {
    match attempt_and_copy(e) {
        a if a.is_empty() => format!("message {message}"),
        a => format!("message {message} · {a}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Mermaid

fn participant(actor: Actor) -> &'static str {
    match actor {
        Actor::Producer => "P",
        Actor::Broker => "B",
        Actor::Consumer => "C",
        Actor::Ledger => "L",
        Actor::External => "X",
    }
}

/// Events that are something lost on its way; drawn as an arrow ending in a cross.
fn is_lost_in_transit(kind: TraceKind) -> bool {
    use TraceKind::*;
    matches!(
        kind,
        PublishLost | DeliveryLost | AckLost | PublishAckLost | CommitLost
    )
}

/// Text safe inside a Mermaid message or note: `#` would start a comment and `;` end the
/// statement, so both become Mermaid's entity codes, as do the angle brackets HTML would eat.
fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '<' => out.push_str("#60;"),
            '>' => out.push_str("#62;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A message's trace as a Mermaid sequence diagram: the four lanes as participants, an arrow
/// for each event that crosses lanes (a cross at its end if it was lost on the way), a note
/// for each event inside a lane. Each line starts with the simulated time and carries the
/// event's identity, so a redelivery and a network duplicate are separate, labelled arrows.
pub fn mermaid_sequence(message: u32, trace: &[TraceEvent]) -> String {
    let mut out = String::from("sequenceDiagram\n");
    out.push_str(&format!(
        "    %% Message {message}, from dsim. Attempt: the publish attempt or the delivery \
         number. Copy: which log entry and network copy.\n"
    ));
    // The external provider is a participant only in traces that call it.
    let external = trace
        .iter()
        .any(|e| e.actor == Actor::External || e.to == Some(Actor::External));
    for (actor, name) in [
        (Actor::Producer, "Producer"),
        (Actor::Broker, "Broker"),
        (Actor::Consumer, "Consumer"),
        (Actor::Ledger, "Ledger"),
        (Actor::External, "External API"),
    ] {
        if actor == Actor::External && !external {
            continue;
        }
        out.push_str(&format!(
            "    participant {} as {name}\n",
            participant(actor)
        ));
    }
    out.push_str(&format!("    Note over P,L: message {message}\n"));
    for e in trace {
        let text = mermaid_text(&format!(
            "{} ms {} ({}): {}",
            ms_text(e.at_us),
            e.kind.key().replace('-', " "),
            identity(message, e),
            e.note
        ));
        let from = participant(e.actor);
        match e.to {
            Some(to) if to != e.actor => {
                let arrow = if is_lost_in_transit(e.kind) {
                    "-x"
                } else {
                    "->>"
                };
                out.push_str(&format!("    {from}{arrow}{}: {text}\n", participant(to)));
            }
            _ => out.push_str(&format!("    Note over {from}: {text}\n")),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// History as JSON lines

/// The most messages whose history one export may hold: the history of a run keeps every
/// event of every message in memory (about 10 events and 1.5 KB of JSON per message).
pub const HISTORY_MAX_MESSAGES: u32 = 20_000;

/// One event of the run's history: a trace event with the message it belongs to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct HistoryEvent {
    pub message: u32,
    /// Simulated time, microseconds.
    pub at_us: u64,
    pub kind: TraceKind,
    pub actor: Actor,
    pub to: Option<Actor>,
    pub node: Option<u32>,
    /// The publish attempt or the delivery number, from 1; 0 where no attempt applies.
    pub attempt: u32,
    /// Which log entry and network copy.
    pub copy: u32,
    pub note: String,
}

/// Every event of every message of the run, in time order (events at the same microsecond in
/// message order, and within a message in the order they happened). The run is replayed with
/// every message traced, which is exact because runs are deterministic.
pub fn run_history(scenario: &Scenario) -> Result<Vec<HistoryEvent>, ScenarioError> {
    scenario.validate()?;
    if scenario.messages > HISTORY_MAX_MESSAGES {
        return Err(ScenarioError {
            key: "messages".into(),
            message: format!(
                "the history export holds at most {HISTORY_MAX_MESSAGES} messages (got {}); \
                 export the metrics instead, or trace single messages",
                scenario.messages
            ),
        });
    }
    let all: Vec<u32> = (0..scenario.messages).collect();
    let mut sim = Simulation::with_traces(scenario, &all);
    sim.run_to_end();
    debug_assert_ne!(sim.status(), Status::Running);
    // Each message's trace is already in time order (recorded as the run went), so the
    // history is a merge of the traces: a heap of each trace's next event, keyed by (time,
    // message). Cheaper than sorting every event, and no sort code in the page's wasm.
    // `all` is every message from 0, so a message's number is also its trace's index here.
    let traces: Vec<&[TraceEvent]> = all
        .iter()
        .map(|&m| sim.trace_of(m).unwrap_or_default())
        .collect();
    let mut next: BinaryHeap<Reverse<(u64, u32, u32)>> = traces
        .iter()
        .zip(all.iter().copied())
        .filter_map(|(trace, m)| trace.first().map(|e| Reverse((e.at_us, m, 0))))
        .collect();
    let mut events = Vec::with_capacity(traces.iter().map(|t| t.len()).sum());
    while let Some(Reverse((_, message, i))) = next.pop() {
        let trace = traces[message as usize];
        let e = &trace[i as usize];
        events.push(HistoryEvent {
            message,
            at_us: e.at_us,
            kind: e.kind,
            actor: e.actor,
            to: e.to,
            node: e.node,
            attempt: e.attempt,
            copy: e.copy,
            note: e.note.clone(),
        });
        if let Some(after) = trace.get(i as usize + 1) {
            next.push(Reverse((after.at_us, message, i + 1)));
        }
    }
    Ok(events)
}

/// One JSON object per line, each ending in a newline.
pub fn to_json_lines<T: Serialize>(items: &[T]) -> String {
    let mut out = String::new();
    for item in items {
        // Serialising these plain structs cannot fail.
        out.push_str(&serde_json::to_string(item).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// The run's history as JSON lines (`run_history`).
pub fn history_json_lines(scenario: &Scenario) -> Result<String, ScenarioError> {
    run_history(scenario).map(|events| to_json_lines(&events))
}

// ---------------------------------------------------------------------------------------------
// CSV

/// A float as CSV: Rust's shortest representation that reads back to the same bits.
fn csv_number(v: f64) -> String {
    format!("{v}")
}

/// The metrics' time series, one row per bucket of simulated time. Latency cells are empty
/// in buckets where no message was applied for the first time. The broker's backlog at each
/// bucket's end follows, one column per line (`backlog_partition_0`, ..., or
/// `backlog_ready`, `backlog_unacked`, or `backlog_visible`, `backlog_in_flight`).
pub fn series_csv(series: &SeriesReport) -> String {
    let mut out = String::from(
        "t_ms,throughput_per_s,applied,duplicates_cumulative,lost_cumulative,latency_p50_ms,latency_p99_ms",
    );
    for name in &series.backlog_lines {
        out.push_str(",backlog_");
        out.push_str(&name.replace(' ', "_"));
    }
    out.push('\n');
    let optional = |v: Option<f64>| v.map(csv_number).unwrap_or_default();
    for i in 0..series.t_ms.len() {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}",
            csv_number(series.t_ms[i]),
            csv_number(series.throughput_per_s[i]),
            series.applied[i],
            series.duplicates_cumulative[i],
            series.lost_cumulative[i],
            optional(series.latency_p50_ms[i]),
            optional(series.latency_p99_ms[i]),
        ));
        for line in &series.backlog {
            out.push(',');
            out.push_str(&line.get(i).copied().unwrap_or(0).to_string());
        }
        out.push('\n');
    }
    out
}

/// A sweep's results in long form: one row per point and mode, each metric as its mean and
/// 95 % interval, then theory's expectation (empty where there is none).
pub fn sweep_csv(result: &SweepResult) -> String {
    let mut out = String::from("knob,value,mode,runs,stalled_runs");
    for metric in [
        "duplicates_per_message",
        "lost_per_message",
        "latency_p99_ms",
        "throughput_per_s",
    ] {
        out.push_str(&format!(",{metric},{metric}_low,{metric}_high"));
    }
    out.push_str(",expected_duplicates_per_message,expected_lost_per_message\n");
    let estimate = |e: &Estimate| {
        format!(
            "{},{},{}",
            csv_number(e.mean),
            csv_number(e.low),
            csv_number(e.high)
        )
    };
    for point in &result.points {
        for m in &point.modes {
            let (dup, lost) = match m.expected {
                Some(e) => (
                    csv_number(e.duplicates_per_message),
                    csv_number(e.lost_per_message),
                ),
                None => (String::new(), String::new()),
            };
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{}\n",
                result.knob,
                format_number(point.value),
                m.mode.key(),
                m.runs,
                m.stalled_runs,
                estimate(&m.duplicates_per_message),
                estimate(&m.lost_per_message),
                estimate(&m.latency_p99_ms),
                estimate(&m.throughput_per_s),
                dup,
                lost,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(
        kind: TraceKind,
        actor: Actor,
        to: Option<Actor>,
        attempt: u32,
        copy: u32,
    ) -> TraceEvent {
        TraceEvent {
            at_us: 10_500,
            kind,
            actor,
            to,
            node: None,
            attempt,
            copy,
            note: "a; b #1 <x>".into(),
        }
    }

    #[test]
    fn times_print_without_trailing_zeros() {
        assert_eq!(ms_text(0), "0");
        assert_eq!(ms_text(10_500), "10.5");
        assert_eq!(ms_text(1_001), "1.001");
        assert_eq!(ms_text(42_000), "42");
    }

    #[test]
    fn identities_name_the_attempt_and_copy_where_there_is_one() {
        let e = |attempt, copy| event(TraceKind::Received, Actor::Consumer, None, attempt, copy);
        assert_eq!(identity(6, &e(0, 0)), "message 6");
        assert_eq!(identity(6, &e(2, 0)), "message 6 · attempt 2 · copy 0");
        assert_eq!(identity(6, &e(1, 4)), "message 6 · attempt 1 · copy 4");
        assert_eq!(identity(6, &e(0, 1)), "message 6 · copy 1");
    }

    #[test]
    fn mermaid_escapes_what_would_break_the_diagram() {
        let lost = event(
            TraceKind::AckLost,
            Actor::Consumer,
            Some(Actor::Broker),
            1,
            0,
        );
        let text = mermaid_sequence(3, &[lost]);
        let last = text.lines().last().unwrap();
        assert_eq!(
            last,
            "    C-xB: 10.5 ms ack lost (message 3 · attempt 1 · copy 0): a#59; b #35;1 #60;x#62;"
        );
    }
}
