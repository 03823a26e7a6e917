//! The downstream side-effect store: a payments ledger, and the consumer's dedup store.
//!
//! Each message is a payment to one customer account, so a duplicate is a visible double
//! charge and a loss a missing payment.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use crate::time::Micros;

/// Balances per account: what the producers meant to charge and what was applied.
#[derive(Clone)]
pub struct Ledger {
    pub expected_cents: u64,
    pub actual_cents: u64,
    pub overcharged_cents: u64,
    pub missing_cents: u64,
    /// Extra charges per account (applications beyond the first).
    double_charges: Vec<u32>,
    /// Payments that never arrived, per account.
    missing: Vec<u32>,
}

impl Ledger {
    pub fn new(accounts: u32) -> Ledger {
        Ledger {
            expected_cents: 0,
            actual_cents: 0,
            overcharged_cents: 0,
            missing_cents: 0,
            double_charges: vec![0; accounts as usize],
            missing: vec![0; accounts as usize],
        }
    }

    pub fn expect(&mut self, amount_cents: u64) {
        self.expected_cents += amount_cents;
    }

    /// Applies a payment; `first` says whether this message was applied before.
    pub fn apply(&mut self, account: u32, amount_cents: u64, first: bool) {
        self.actual_cents += amount_cents;
        if !first {
            self.overcharged_cents += amount_cents;
            self.double_charges[account as usize] += 1;
        }
    }

    pub fn record_missing(&mut self, account: u32, amount_cents: u64) {
        self.missing_cents += amount_cents;
        self.missing[account as usize] += 1;
    }

    pub fn accounts_double_charged(&self) -> u32 {
        self.double_charges.iter().filter(|&&n| n > 0).count() as u32
    }

    pub fn accounts_missing_payments(&self) -> u32 {
        self.missing.iter().filter(|&&n| n > 0).count() as u32
    }
}

/// The idempotent consumer's record of processed message IDs, each kept for a retention
/// window. Only looked up, never iterated, so a hash map keeps runs deterministic.
#[derive(Clone)]
pub struct DedupStore {
    window: Micros,
    expiry: FxHashMap<u32, Micros>,
    order: VecDeque<(Micros, u32)>,
    pub peak: usize,
    pub lookups: u64,
    pub hits: u64,
}

impl DedupStore {
    /// IDs held now.
    pub fn len(&self) -> usize {
        self.expiry.len()
    }

    pub fn new(window: Micros) -> DedupStore {
        DedupStore {
            window,
            expiry: FxHashMap::default(),
            order: VecDeque::new(),
            peak: 0,
            lookups: 0,
            hits: 0,
        }
    }

    fn expire(&mut self, now: Micros) {
        while let Some(&(at, id)) = self.order.front() {
            if at > now {
                break;
            }
            self.order.pop_front();
            // A later insert of the same ID has its own, later expiry: keep that one.
            if self.expiry.get(&id) == Some(&at) {
                self.expiry.remove(&id);
            }
        }
    }

    pub fn contains(&mut self, id: u32, now: Micros) -> bool {
        self.expire(now);
        self.lookups += 1;
        let hit = self.expiry.get(&id).is_some_and(|&at| at > now);
        self.hits += hit as u64;
        hit
    }

    pub fn insert(&mut self, id: u32, now: Micros) {
        self.expire(now);
        let at = now + self.window;
        self.expiry.insert(id, at);
        self.order.push_back((at, id));
        self.peak = self.peak.max(self.expiry.len());
    }
}
