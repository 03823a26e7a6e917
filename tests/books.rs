//! Independent books: each message's outcome rebuilt from the run's event history (the same
//! run replayed with every message traced, `export::run_history`), with no use of the
//! report's counters, and compared with them and with the ledger's balances.
//!
//! The history says a payment was created by its `created` (or `outbox committed`) event and
//! reached the ledger once per `processed` event (the consumer's
//! arrow to the ledger, with the amount and the account in its note); a producer's `gave up`
//! or a broker's `dead lettered` says why a message that never reached it was lost. A report
//! that double-counts, forgets a loss or credits the wrong account disagrees with these
//! books, where `assert_conserved`'s sums would still balance.

use std::collections::BTreeMap;

use dsim_core::export::{HISTORY_MAX_MESSAGES, run_history};
use dsim_core::{Report, Scenario, TraceKind};

/// What the history says happened to the run's messages.
#[derive(Debug, Default, PartialEq)]
pub struct Books {
    pub produced: u64,
    /// Payments applied at least once.
    pub unique: u64,
    /// Applications beyond the first.
    pub duplicates: u64,
    /// Messages created and never applied: lost, or still in flight when the run ended.
    pub unapplied: u64,
    pub gave_up: u64,
    pub dead_lettered: u64,
    /// Cents the ledger was charged, repeats included, and the repeats alone.
    pub charged_cents: u64,
    pub overcharged_cents: u64,
    /// Cents of each payment's first application.
    pub first_charges_cents: u64,
    pub accounts_double_charged: u32,
}

/// The books of `s`'s run, from its history; `None` when the run is too long to hold one.
pub fn rebuild(s: &Scenario) -> Option<Books> {
    if s.messages > HISTORY_MAX_MESSAGES {
        return None;
    }
    let history = run_history(s).expect("a valid scenario has a history");
    #[derive(Default)]
    struct Message {
        created: bool,
        applied: u64,
        /// The producer gave up on it (`gave up`): it reported the payment failed.
        gave_up: bool,
        /// The broker dead-lettered a copy (`dead lettered`). A copy can reach the broker and
        /// be dead-lettered after its producer gave up on it, or the other way round; either
        /// way the message sits in the dead-letter queue, where it can still be found, so an
        /// unapplied message with a dead-lettered copy counts as dead-lettered, whatever
        /// came last (the report's definition, `Simulation::resolve`).
        dead_lettered: bool,
    }
    let mut messages: BTreeMap<u32, Message> = BTreeMap::new();
    let mut books = Books::default();
    let mut doubled: BTreeMap<u32, ()> = BTreeMap::new();
    for e in &history {
        let m = messages.entry(e.message).or_default();
        match e.kind {
            // The payment's creation: its database write, or in the outbox mode the
            // transaction that wrote it with its outbox row.
            TraceKind::Created | TraceKind::OutboxCommitted => m.created = true,
            TraceKind::GaveUp => m.gave_up = true,
            TraceKind::DeadLettered => m.dead_lettered = true,
            TraceKind::Processed => {
                let (cents, account) = charge(&e.note);
                m.applied += 1;
                books.charged_cents += cents;
                if m.applied == 1 {
                    books.first_charges_cents += cents;
                } else {
                    books.overcharged_cents += cents;
                    doubled.insert(account, ());
                }
            }
            _ => {}
        }
    }
    for m in messages.values() {
        books.produced += u64::from(m.created);
        if m.applied > 0 {
            books.unique += 1;
            books.duplicates += m.applied - 1;
        } else if m.created {
            books.unapplied += 1;
            books.dead_lettered += u64::from(m.dead_lettered);
            books.gave_up += u64::from(m.gave_up && !m.dead_lettered);
        }
    }
    books.accounts_double_charged = doubled.len() as u32;
    Some(books)
}

/// `$92.80 charged to account 36` (or `… AGAIN: a double charge`): the cents and the account.
fn charge(note: &str) -> (u64, u32) {
    let parse = || -> Option<(u64, u32)> {
        let dollars = note.strip_prefix('$')?;
        let (amount, rest) = dollars.split_once(' ')?;
        let (whole, cents) = amount.split_once('.')?;
        let cents = whole.parse::<u64>().ok()? * 100 + cents.parse::<u64>().ok()?;
        let account = rest.strip_prefix("charged to account ")?;
        let account = account.split(' ').next()?.parse().ok()?;
        Some((cents, account))
    };
    parse().unwrap_or_else(|| panic!("a processed event's note names no charge: {note:?}"))
}

/// The report's counters and ledger against the books: the first disagreement, named.
pub fn check(r: &Report, b: &Books) -> Result<(), String> {
    let mut wrong = Vec::new();
    let mut same = |what: &str, report: u64, books: u64| {
        if report != books {
            wrong.push(format!("{what}: report {report}, history {books}"));
        }
    };
    same("produced", r.produced, b.produced);
    same("unique processed", r.unique_processed, b.unique);
    same("duplicates", r.duplicates, b.duplicates);
    same("side effects", r.side_effects, b.unique + b.duplicates);
    same("lost + in flight", r.lost + r.in_flight, b.unapplied);
    if r.in_flight == 0 {
        // Every unapplied message is lost, and the history says how.
        same("gave up", r.gave_up, b.gave_up);
        same("dead-lettered", r.dead_lettered, b.dead_lettered);
        same(
            "lost silently",
            r.lost_silently,
            b.unapplied - b.gave_up - b.dead_lettered,
        );
    }
    let l = &r.ledger;
    same("ledger charged", l.actual_cents, b.charged_cents);
    same(
        "ledger overcharged",
        l.overcharged_cents,
        b.overcharged_cents,
    );
    if r.in_flight == 0 {
        // What was meant and never arrived is what the lost payments carried; a payment
        // still in flight is neither arrived nor missing.
        same(
            "ledger expected - missing",
            l.expected_cents - l.missing_cents,
            b.first_charges_cents,
        );
    }
    same(
        "accounts double-charged",
        u64::from(l.accounts_double_charged),
        u64::from(b.accounts_double_charged),
    );
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("; "))
    }
}

/// Whether the mode kept its promise, judged on the books: what `Report::guarantee` must say.
pub fn promise_held(s: &Scenario, b: &Books, in_flight: u64) -> bool {
    let p = s.mode.promise();
    let lost = b.unapplied - in_flight;
    (!p.no_loss || lost == 0) && (!p.no_duplicates || b.duplicates == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::scenario;

    #[test]
    fn the_books_of_the_textbook_cases_agree_with_their_reports() {
        for q in [
            "mode=at-least-once&crash-after-process=0.002&messages=3000",
            "mode=at-most-once&crash-before-process=0.002&publish-loss=0.02&messages=3000",
            "mode=exactly-once&isolation=read-uncommitted&crash-after-process=0.002&messages=2000",
            "mode=at-least-once&producer-crash=0.01&messages=2000",
            "mode=at-least-once&publish-loss=1&max-retries=2&messages=100",
            "broker=rabbitmq&mode=at-least-once&queue-type=quorum&delivery-limit=1&crash-after-process=0.01&messages=1000",
            "broker=sqs&mode=at-least-once&max-receives=2&crash-before-process=0.02&messages=1000",
        ] {
            let s = scenario(q);
            let r = dsim_core::simulate(&s).unwrap();
            let b = rebuild(&s).unwrap();
            check(&r, &b).unwrap_or_else(|e| panic!("{q}: {e}"));
            assert_eq!(r.guarantee.held, promise_held(&s, &b, r.in_flight), "{q}");
        }
    }

    #[test]
    fn a_report_that_miscounts_disagrees_with_the_books() {
        let s = scenario("mode=at-least-once&crash-after-process=0.002&messages=2000");
        let r = dsim_core::simulate(&s).unwrap();
        let b = rebuild(&s).unwrap();
        assert!(r.duplicates > 0);
        // One application counted twice: every sum assert_conserved checks still balances.
        let mut wrong = r.clone();
        wrong.duplicates += 1;
        wrong.side_effects += 1;
        crate::support::assert_conserved(&wrong);
        assert!(
            check(&wrong, &b)
                .unwrap_err()
                .starts_with("duplicates: report")
        );
        // A silent loss booked as a give-up: the loss breakdown still sums to lost.
        let s = scenario("mode=at-most-once&publish-loss=0.05&messages=1000");
        let r = dsim_core::simulate(&s).unwrap();
        let b = rebuild(&s).unwrap();
        assert!(r.lost_silently > 0);
        let mut wrong = r.clone();
        wrong.lost_silently -= 1;
        wrong.gave_up += 1;
        crate::support::assert_conserved(&wrong);
        assert!(
            check(&wrong, &b)
                .unwrap_err()
                .starts_with("gave up: report")
        );
        let mut wrong = r.clone();
        wrong.ledger.overcharged_cents += 1;
        assert!(
            check(&wrong, &b)
                .unwrap_err()
                .contains("ledger overcharged")
        );
        assert_eq!(
            charge("$92.80 charged to account 36 AGAIN: a double charge"),
            (9280, 36)
        );
    }
}
