//! Readable tables for the terminal.

use dsim_core::money::dollars;
use dsim_core::{Report, Status};

pub fn run(r: &Report) -> String {
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("{k:<24} {v}\n"));
    line("mode", r.mode.key().to_string());
    line("broker", r.scenario.broker.key().to_string());
    line("seed", r.seed.to_string());
    line("status", r.status_detail());
    line("produced", r.produced.to_string());
    line("side effects", r.side_effects.to_string());
    line("unique processed", r.unique_processed.to_string());
    line("duplicates", r.duplicates.to_string());
    line(
        "lost",
        format!(
            "{} (silently {}, gave up {}, dead-lettered {})",
            r.lost, r.lost_silently, r.gave_up, r.dead_lettered
        ),
    );
    if r.in_flight > 0 {
        line("still in flight", r.in_flight.to_string());
    }
    line("retries", r.retries.to_string());
    line("commit retries", r.commit_retries.to_string());
    line("replayed", r.replayed.to_string());
    if r.reordered > 0 {
        line("reordered", r.reordered.to_string());
    }
    let c = &r.cost;
    if c.producer_restarts + c.relay_crashes > 0 {
        line(
            "producer restarts",
            format!(
                "{} (relay crashes {}, writes fenced {}, records aborted {})",
                c.producer_restarts, c.relay_crashes, c.producer_fenced, c.records_aborted
            ),
        );
    }
    line(
        "network messages",
        format!(
            "{} ({:.2} per message)",
            r.network_messages, r.cost.network_messages_per_message
        ),
    );
    line("events simulated", r.events.to_string());
    line("simulated duration", format!("{:.1} ms", r.duration_ms));
    line("throughput", format!("{:.0} msg/s", r.throughput_per_s));
    line(
        "capacity",
        match r.capacity_per_s {
            Some(c) => {
                format!("{c:.0} msg/s (the most the consumers sustain, from their busy time)")
            }
            None => "not measured (no record took consumer time)".into(),
        },
    );
    let l = &r.latency_ms;
    line(
        "latency (ms)",
        format!(
            "p50 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2}",
            l.p50, l.p95, l.p99, l.max
        ),
    );
    let g = &r.ledger;
    line(
        "ledger",
        format!(
            "expected {}  actual {}",
            dollars(g.expected_cents),
            dollars(g.actual_cents)
        ),
    );
    if g.accounts_double_charged > 0 {
        line(
            "double charged",
            format!(
                "{} customers, {} too much",
                g.accounts_double_charged,
                dollars(g.overcharged_cents)
            ),
        );
    }
    if g.accounts_missing_payments > 0 {
        line(
            "missing payments",
            format!(
                "{} customers, {} never arrived",
                g.accounts_missing_payments,
                dollars(g.missing_cents)
            ),
        );
    }
    let c = &r.cost;
    if c.transactions + c.aborted_transactions > 0 {
        line(
            "transactions",
            format!(
                "{} committed, {} aborted, {} fenced",
                c.transactions, c.aborted_transactions, c.fenced_commits
            ),
        );
    }
    if c.dedup_lookups > 0 {
        line(
            "dedup store",
            format!(
                "{} look-ups, {} skips, peak {} IDs",
                c.dedup_lookups, c.dedup_skips, c.dedup_store_peak
            ),
        );
    }
    if let Some(z) = &r.zombies {
        line(
            "consumer stalls",
            format!(
                "{} ({} past the session timeout; fencing {}: {} zombie commits fenced, {} accepted)",
                z.stalls,
                z.expelled,
                if z.fencing { "on" } else { "off" },
                z.fenced_commits,
                z.stale_commits_accepted
            ),
        );
    }
    if let Some(x) = &r.replication {
        line(
            "in-sync replicas",
            format!(
                "{} of {} at the end; {} fell behind, {} refused (NotEnoughReplicas, min.insync.replicas={}), {} acks withheld after append; unclean elections {} ({}), {} records truncated",
                x.in_sync_replicas,
                x.replication_factor,
                x.isr_shrinks,
                x.not_enough_replicas,
                x.min_insync_replicas,
                x.not_enough_replicas_after_append,
                x.unclean_elections,
                if x.unclean_election { "on" } else { "off" },
                x.unclean_truncated
            ),
        );
    }
    // Kafka's consumer lag per partition (the queue families' depth is in their own lines).
    if r.queue.is_none()
        && r.sqs.is_none()
        && let Some((line_no, peak, at)) = r.series.peak_backlog()
    {
        let end: u64 = r.series.final_backlog().iter().sum();
        line(
            "consumer lag",
            format!(
                "peak {} records in {} (log end offset minus committed offset, sampled at {:.0} ms); {} in all partitions at the end",
                peak,
                r.series
                    .backlog_lines
                    .get(line_no)
                    .map_or("?", String::as_str),
                at,
                end
            ),
        );
    }
    if let Some(q) = &r.queue {
        let prefetch = match (q.auto_ack, q.prefetch) {
            (true, _) => "auto-ack (prefetch does not apply)".to_string(),
            (false, 0) => "manual ack, prefetch unlimited".to_string(),
            (false, p) => format!("manual ack, prefetch {p}"),
        };
        line(
            "rabbitmq queue",
            format!(
                "{prefetch}; peak {} ready, {} unacknowledged; {} redelivered; {} connections lost",
                q.peak_ready, q.peak_unacked, q.redelivered, q.connections_lost
            ),
        );
    }
    if let Some(q) = &r.sqs {
        let redrive = match q.max_receives {
            0 => "no redrive policy".to_string(),
            n => format!("maxReceiveCount {n}"),
        };
        let own = if q.fifo {
            format!("; {} sends dropped by deduplication", q.dedup_dropped)
        } else {
            format!("; {} extra copies", q.extra_copies)
        };
        line(
            if q.fifo {
                "sqs fifo queue"
            } else {
                "sqs queue"
            },
            format!(
                "visibility timeout {} ms, {redrive}; peak {} visible, {} in flight; {} received, {} visibility timeouts passed, {} redriven to the DLQ{own}",
                q.visibility_timeout_ms,
                q.peak_visible,
                q.peak_in_flight,
                q.receives,
                q.visibility_timeouts_expired,
                q.redriven_to_dlq
            ),
        );
    }
    let verdict = if r.guarantee.held { "HELD" } else { "BROKEN" };
    line(
        "guarantee",
        format!("{} — {}", r.guarantee.promise, verdict),
    );
    if let Some(x) = &r.external {
        line(
            "external charges",
            format!(
                "{} calls, {} charges, {} double charges ({} too much), {} deduplicated by key",
                x.calls,
                x.charges,
                x.double_charges,
                dollars(x.overcharged_cents),
                x.deduplicated_by_key
            ),
        );
        out.push_str(&format!("{:<24} {}\n", "", x.note));
    }
    if let Some(ce) = &r.guarantee.counterexample {
        out.push_str(&format!("\ncounterexample: {}\n", ce.explanation));
        for e in &ce.trace {
            out.push_str(&format!(
                "  {:>10.3} ms  {:<22} {:<20} {}\n",
                e.at_us as f64 / 1000.0,
                format!("{:?}", e.kind),
                dsim_core::export::attempt_and_copy(e),
                e.note
            ));
        }
    }
    out
}

/// The status as the JSON report spells it, for the compare table's narrow column.
fn status_key(status: Status) -> &'static str {
    match status {
        Status::Running => "running",
        Status::Drained => "drained",
        Status::GaveUp => "gave-up",
        Status::Stalled => "stalled",
    }
}

pub fn compare(reports: &[Report]) -> String {
    let mut out = format!(
        "{:<20} {:<8} {:>7} {:>7} {:>9} {:>9} {:>10} {:>10} {:>9} {:>8}  {}\n",
        "mode",
        "status",
        "lost",
        "dupes",
        "p50 ms",
        "p99 ms",
        "msg/s",
        "capacity",
        "net/msg",
        "retries",
        "guarantee"
    );
    for r in reports {
        out.push_str(&format!(
            "{:<20} {:<8} {:>7} {:>7} {:>9.2} {:>9.2} {:>10.0} {:>10} {:>9.2} {:>8}  {}\n",
            r.mode.key(),
            status_key(r.status),
            r.lost,
            r.duplicates,
            r.latency_ms.p50,
            r.latency_ms.p99,
            r.throughput_per_s,
            r.capacity_per_s
                .map_or("-".to_string(), |c| format!("{c:.0}")),
            r.cost.network_messages_per_message,
            // Everything sent or read again: producers' and consumers' resends, and replays.
            r.retries + r.commit_retries + r.replayed,
            if r.guarantee.held {
                format!("held ({})", r.guarantee.promise)
            } else {
                format!("BROKEN ({})", r.guarantee.promise)
            }
        ));
    }
    if reports.iter().any(|r| r.external.is_some()) {
        out.push_str("\nexternal card charges (outside every mode's promise):\n");
        for r in reports {
            if let Some(x) = &r.external {
                out.push_str(&format!(
                    "{:<20} {:>7} double charges  {:>7} deduplicated by key\n",
                    r.mode.key(),
                    x.double_charges,
                    x.deduplicated_by_key
                ));
            }
        }
    }
    out
}

/// The real-world systems table: one line per broker and mode; a refused cell says why.
pub fn matrix(cells: &[dsim_core::matrix::MatrixCell]) -> String {
    let mut out = format!(
        "{:<9} {:<20} {:<8} {:>7} {:>7} {:>9} {:>10} {:>10}  {}\n",
        "broker", "mode", "status", "lost", "dupes", "p99 ms", "msg/s", "capacity", "guarantee"
    );
    for c in cells {
        let head = format!("{:<9} {:<20}", c.broker.key(), c.mode.key());
        match (&c.outcome, &c.refused) {
            (Some(o), _) => out.push_str(&format!(
                "{head} {:<8} {:>7} {:>7} {:>9.2} {:>10.0} {:>10}  {}\n",
                status_key(o.status),
                o.lost,
                o.duplicates,
                o.p99_ms,
                o.throughput_per_s,
                o.capacity_per_s
                    .map_or("-".to_string(), |c| format!("{c:.0}")),
                if o.held {
                    format!("held ({})", o.promise)
                } else {
                    format!("BROKEN ({})", o.promise)
                }
            )),
            (None, Some(why)) => out.push_str(&format!("{head} refused: {why}\n")),
            (None, None) => {}
        }
    }
    out
}
