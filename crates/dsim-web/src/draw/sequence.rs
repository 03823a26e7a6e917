//! A message's trace laid out as a sequence diagram: four lanes (producer, broker, consumer,
//! ledger), and a fifth for the external provider when the trace calls it, one row per event, an arrow where the event crosses lanes. Pure layout; the
//! `timeline` component draws it. Every row names its attempt and copy, so two deliveries of
//! the message (a redelivery, a second record, a network duplicate) never read as one.

use dsim_core::export::attempt_and_copy;
use dsim_core::{Actor, TraceEvent, TraceKind};

use crate::format::trim_number;

pub const LANES: [Actor; 4] = [
    Actor::Producer,
    Actor::Broker,
    Actor::Consumer,
    Actor::Ledger,
];
/// The lanes with the external provider's, for traces that call it.
const LANES_WITH_EXTERNAL: [Actor; 5] = [
    Actor::Producer,
    Actor::Broker,
    Actor::Consumer,
    Actor::Ledger,
    Actor::External,
];
pub const WIDTH: f64 = 680.0;
/// Room on the left for the time of each row.
const GUTTER: f64 = 84.0;
pub const HEADER: f64 = 34.0;
pub const ROW: f64 = 44.0;

#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    pub x: f64,
    pub name: &'static str,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// From one lane to another; a lost message stops short with a cross.
    Arrow { from: f64, to: f64, lost: bool },
    /// Something that happened inside one lane.
    Mark { x: f64 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Top of the row.
    pub y: f64,
    pub time: String,
    /// The event kind, as words: "ack lost".
    pub label: String,
    /// Which attempt and copy, as words: "attempt 2 · copy 4"; empty for events that belong
    /// to no attempt (the payment request, the producer's final ack).
    pub identity: String,
    pub attempt: u32,
    pub copy: u32,
    pub note: String,
    /// Colour class: ok, lost, crash, retry, dedup or plain.
    pub class: &'static str,
    pub shape: Shape,
    /// The lanes in words, for the phone's list: "broker → consumer", or "consumer".
    pub who: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagram {
    pub width: f64,
    pub height: f64,
    pub lanes: Vec<Lane>,
    pub rows: Vec<Row>,
}

pub fn lane_name(actor: Actor) -> &'static str {
    match actor {
        Actor::Producer => "producer",
        Actor::Broker => "broker",
        Actor::Consumer => "consumer",
        Actor::Ledger => "ledger",
        Actor::External => "card provider",
    }
}

fn lane_x(lanes: &[Actor], actor: Actor) -> f64 {
    let i = lanes.iter().position(|a| *a == actor).unwrap_or(0);
    let span = (WIDTH - GUTTER) / lanes.len() as f64;
    GUTTER + span * (i as f64 + 0.5)
}

/// The kind's kebab-case name (the core's serialised form) as words.
pub fn kind_label(kind: TraceKind) -> String {
    kind.key().replace('-', " ")
}

fn kind_class(kind: TraceKind) -> &'static str {
    use TraceKind::*;
    match kind {
        PublishLost | DeliveryLost | AckLost | PublishAckLost | CommitLost | GaveUp
        | DeadLettered => "lost",
        ProducerCrash | BrokerCrash | Crash | DroppedByCrash | Truncated | Aborted | Fenced => {
            "crash"
        }
        Stalled | SessionExpired | ProducerDied | RelayCrash | ProducerFenced | RecordAborted
        | UncleanTruncated => "crash",
        AckTimeout | Replayed | PublishDuplicated | DeliveryDuplicated | BrokerUnavailable
        | Woke | ProducerRestarted | SequenceRejected | EpochBumped | NotEnoughReplicas
        | IsrShrunk => "retry",
        DedupSkipped | DuplicateDropped | SkippedByPosition | ExternalDeduplicated => "dedup",
        Processed | Committed | Ack | PublishAck | OutboxCommitted | ExternalCharge => "ok",
        _ => "plain",
    }
}

fn is_loss(kind: TraceKind) -> bool {
    use TraceKind::*;
    matches!(
        kind,
        PublishLost | DeliveryLost | AckLost | PublishAckLost | CommitLost
    )
}

pub fn layout(trace: &[TraceEvent]) -> Diagram {
    let external = trace
        .iter()
        .any(|e| e.actor == Actor::External || e.to == Some(Actor::External));
    let lanes: &[Actor] = if external {
        &LANES_WITH_EXTERNAL
    } else {
        &LANES
    };
    let lane_x = |actor| lane_x(lanes, actor);
    let rows = trace
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let from = lane_x(e.actor);
            let shape = match e.to {
                Some(to) if to != e.actor => {
                    let to = lane_x(to);
                    if is_loss(e.kind) {
                        Shape::Arrow {
                            from,
                            to: from + (to - from) * 0.55,
                            lost: true,
                        }
                    } else {
                        Shape::Arrow {
                            from,
                            to,
                            lost: false,
                        }
                    }
                }
                _ => Shape::Mark { x: from },
            };
            Row {
                y: HEADER + i as f64 * ROW,
                time: format!("{} ms", trim_number(e.at_us as f64 / 1000.0)),
                label: kind_label(e.kind),
                identity: attempt_and_copy(e),
                attempt: e.attempt,
                copy: e.copy,
                note: e.note.clone(),
                class: kind_class(e.kind),
                shape,
                who: match e.to {
                    Some(to) if to != e.actor => {
                        format!("{} → {}", lane_name(e.actor), lane_name(to))
                    }
                    _ => lane_name(e.actor).to_string(),
                },
            }
        })
        .collect();
    Diagram {
        width: WIDTH,
        height: HEADER + trace.len() as f64 * ROW + 8.0,
        lanes: lanes
            .iter()
            .map(|a| Lane {
                x: lane_x(*a),
                name: lane_name(*a),
            })
            .collect(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsim_core::{Scenario, trace_message};

    #[test]
    fn a_double_charge_reads_as_a_diagram() {
        let (s, _) = Scenario::from_query(
            "mode=idempotent-consumer&publish-ack-loss=0.1&dedup-window-ms=30&producer-idempotence=off",
            &[],
        );
        let trace = trace_message(&s, 6);
        let d = layout(&trace);
        assert_eq!(d.rows.len(), trace.len());
        assert_eq!(d.lanes.len(), 4);
        let labels: Vec<&str> = d.rows.iter().map(|r| r.label.as_str()).collect();
        assert!(labels.contains(&"publish ack lost"), "{labels:?}");
        let retry = d
            .rows
            .iter()
            .filter(|r| r.label == "publish")
            .nth(1)
            .expect("the producer retries");
        assert_eq!(retry.identity, "attempt 2 · copy 0");
        let lost = d
            .rows
            .iter()
            .find(|r| r.label == "publish ack lost")
            .unwrap();
        assert_eq!(lost.class, "lost");
        // The broker's lost ack heads for the producer lane and stops short of it.
        match lost.shape {
            Shape::Arrow { from, to, lost } => {
                assert!(lost);
                assert!(to < from && to > d.lanes[0].x);
            }
            _ => panic!("a lost ack is an arrow"),
        }
        assert_eq!(kind_label(TraceKind::DedupSkipped), "dedup skipped");
    }

    #[test]
    fn the_two_charges_of_a_double_charge_are_two_rows_with_their_own_identity() {
        let (s, _) = Scenario::from_query(
            "mode=idempotent-consumer&publish-ack-loss=0.05&ack-loss=0.05&dedup-window-ms=0&producer-idempotence=off",
            &[],
        );
        let d = layout(&trace_message(&s, 21));
        let charges: Vec<&Row> = d.rows.iter().filter(|r| r.label == "processed").collect();
        assert_eq!(charges.len(), 2);
        assert_ne!(charges[0].identity, charges[1].identity);
        assert!(charges.iter().all(|r| !r.identity.is_empty()));
        // Events outside any attempt say so by having no identity, not a made-up one.
        assert_eq!(d.rows[0].label, "created");
        assert_eq!(d.rows[0].identity, "");
    }

    #[test]
    fn an_external_charge_gets_the_card_provider_lane() {
        let (s, _) = Scenario::from_query(
            dsim_core::presets::preset("exactly-once-trap")
                .unwrap()
                .query,
            &[],
        );
        let d = layout(&trace_message(&s, 0));
        assert_eq!(d.lanes.len(), 5);
        assert_eq!(d.lanes[4].name, "card provider");
        let charge = d
            .rows
            .iter()
            .find(|r| r.label == "external charge")
            .expect("the payment calls the provider");
        assert_eq!(
            charge.shape,
            Shape::Arrow {
                from: d.lanes[2].x,
                to: d.lanes[4].x,
                lost: false
            }
        );
        assert_eq!(charge.identity, "attempt 1 · copy 0");
    }
}
