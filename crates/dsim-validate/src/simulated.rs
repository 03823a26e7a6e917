//! The simulator's side of a case: run the scenario with every message traced, read the
//! numbers off the trace, and derive from it the plan the real run follows (where each
//! scripted crash struck, which publisher confirms the fault plan dropped).

use dsim_core::{CrashPoint, Mode, QueueType, Scenario, ScriptedFault, Simulation, TraceKind};

use crate::observed::Observed;

/// Where one consumer session ends in a crash, counted the way a real consumer can count:
/// deliveries it handled (applied, or skipped by the idempotent consumer) in that session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crash {
    pub handled: u32,
    pub point: CrashPoint,
}

/// What the real run must do to face the same faults as the simulated one.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub messages: u32,
    /// `basic.qos` prefetch count.
    pub prefetch: u16,
    /// `basic.consume` with `no-ack` (at-most-once).
    pub auto_ack: bool,
    /// The consumer records each payment's ID with the payment and skips an ID it has.
    pub idempotent: bool,
    /// `x-queue-type: quorum`, with this `x-delivery-limit` (0: none).
    pub quorum: bool,
    pub delivery_limit: u32,
    /// Consumer 0's sessions, in order: each but the last ends in its crash.
    pub crashes: Vec<Crash>,
    /// Publishes whose confirm the client drops, as (message, attempt from 1).
    pub dropped_confirms: Vec<(u32, u32)>,
    /// Drop each confirm with this probability instead, from the client's own generator:
    /// the statistical check of the same mechanism.
    pub confirm_drop_rate: f64,
}

/// Runs the scenario traced and returns its numbers and the plan for the real run.
pub fn run(s: &Scenario) -> Result<(Observed, Plan), String> {
    s.validate().map_err(|e| e.to_string())?;
    let all: Vec<u32> = (0..s.messages).collect();
    let mut sim = Simulation::with_traces(s, &all);
    sim.run_to_end();
    let report = sim.report();
    if report.in_flight > 0 {
        return Err(format!(
            "the simulated run ended with {} messages in flight",
            report.in_flight
        ));
    }

    let mut pushes = Vec::new();
    let mut handled = Vec::new();
    let mut crashes_at = Vec::new();
    let mut dead = Vec::new();
    let mut dropped_confirms = Vec::new();
    let mut dedup_skips = 0u64;
    for msg in 0..s.messages {
        for e in sim.trace_of(msg).unwrap_or(&[]) {
            match e.kind {
                TraceKind::Delivered => pushes.push((e.at_us, msg, false)),
                TraceKind::Replayed => pushes.push((e.at_us, msg, true)),
                TraceKind::Processed => handled.push(e.at_us),
                TraceKind::DedupSkipped => {
                    handled.push(e.at_us);
                    dedup_skips += 1;
                }
                TraceKind::Crash if e.node == Some(0) => crashes_at.push(e.at_us),
                TraceKind::DeadLettered => dead.push((e.at_us, msg)),
                TraceKind::PublishAckLost => dropped_confirms.push((msg, e.attempt)),
                _ => {}
            }
        }
    }
    // Ties in time keep queue order, which is message order: one producer.
    pushes.sort_unstable();
    handled.sort_unstable();
    crashes_at.sort_unstable();
    dead.sort_unstable();
    dropped_confirms.sort_unstable();

    let points: Vec<CrashPoint> = {
        let mut script: Vec<&ScriptedFault> = s.script.iter().collect();
        script.sort_by(|a, b| a.from_ms().total_cmp(&b.from_ms()));
        script
            .iter()
            .filter_map(|f| match f {
                ScriptedFault::CrashConsumer {
                    consumer: 0, point, ..
                } => Some(*point),
                _ => None,
            })
            .collect()
    };
    if points.len() != crashes_at.len() {
        return Err(format!(
            "the script names {} crashes of consumer 0 and {} struck",
            points.len(),
            crashes_at.len()
        ));
    }
    let mut crashes = Vec::new();
    let mut since = None;
    for (&at, &point) in crashes_at.iter().zip(&points) {
        // A crash after processing strikes at the moment processing ends: that record
        // counts in the session it ends.
        let n = handled
            .iter()
            .filter(|&&t| since.is_none_or(|s| t > s) && t <= at)
            .count();
        crashes.push(Crash {
            handled: n as u32,
            point,
        });
        since = Some(at);
    }

    let queue = report.queue.as_ref().ok_or("not a RabbitMQ scenario")?;
    // Every push counts, one that reaches a connection already closed too: the broker
    // sent it (and requeues it), as the real run counts what its broker sent before the close.
    let delivered = pushes.len() as u64;
    let redelivered = pushes.iter().filter(|p| p.2).count() as u64;
    if redelivered != queue.redelivered {
        return Err(format!(
            "the trace shows {redelivered} redeliveries and the report {}",
            queue.redelivered
        ));
    }
    let observed = Observed {
        delivered,
        redelivered,
        duplicates: report.duplicates,
        lost: report.lost - report.dead_lettered,
        dead_lettered: report.dead_lettered,
        dedup_skips,
        republished: report.cost.log_appends - report.produced,
        redelivery_order: pushes.iter().filter(|p| p.2).map(|p| p.1).collect(),
        dead_letter_ids: dead.iter().map(|d| d.1).collect(),
    };
    let plan = Plan {
        messages: s.messages,
        prefetch: u16::try_from(s.prefetch).map_err(|_| "prefetch above 65535")?,
        auto_ack: s.mode == Mode::AtMostOnce,
        idempotent: s.mode == Mode::IdempotentConsumer,
        quorum: s.queue_type == QueueType::Quorum,
        delivery_limit: s.delivery_limit,
        crashes,
        dropped_confirms,
        confirm_drop_rate: 0.0,
    };
    Ok((observed, plan))
}

impl Plan {
    /// The faults of the plan in words, for the table.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (i, c) in self.crashes.iter().enumerate() {
            let nth = ordinal(c.handled + u32::from(c.point == CrashPoint::BeforeProcessing));
            let connection = if i == 0 { "its" } else { "its new" };
            let when = match c.point {
                CrashPoint::AfterProcessing => format!(
                    "after processing the {nth} delivery of {connection} connection, before its basic.ack"
                ),
                _ => format!(
                    "on taking the {nth} delivery of {connection} connection, before processing it"
                ),
            };
            let who = if i == 0 {
                "consumer 0"
            } else {
                "back 100 ms later, it"
            };
            parts.push(format!("{who} crashes {when}"));
        }
        if self.confirm_drop_rate > 0.0 {
            parts.push(format!(
                "the client drops each publisher confirm with probability {}",
                self.confirm_drop_rate
            ));
        } else if !self.dropped_confirms.is_empty() {
            let list: Vec<String> = self
                .dropped_confirms
                .iter()
                .map(|(m, a)| match a {
                    1 => m.to_string(),
                    a => format!("{m} (attempt {a})"),
                })
                .collect();
            parts.push(format!(
                "the client drops the publisher confirms of messages {}",
                list.join(", ")
            ));
        }
        if parts.is_empty() {
            "no faults".into()
        } else {
            parts.join("; ")
        }
    }
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}
