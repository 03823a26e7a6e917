//! The downstream side-effect store: a payments ledger, and the consumer's dedup store.
//!
//! Each message is a payment to one customer account, so a duplicate is a visible double
//! charge and a loss a missing payment.

use std::collections::VecDeque;

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
    /// Per account and producer, one more than the latest-produced message first applied so
    /// far (0 for none): a producer's message IDs are produced in order, so one applied below
    /// it is out of order. Per producer because Kafka orders one producer's records in a
    /// partition; two producers' records of one account have no order to keep.
    latest_applied: Vec<u32>,
    producers: u32,
}

impl Ledger {
    pub fn new(accounts: u32, producers: u32) -> Ledger {
        Ledger {
            expected_cents: 0,
            actual_cents: 0,
            overcharged_cents: 0,
            missing_cents: 0,
            double_charges: vec![0; accounts as usize],
            missing: vec![0; accounts as usize],
            latest_applied: vec![0; accounts as usize * producers.max(1) as usize],
            producers: producers.max(1),
        }
    }

    /// Notes the first application of `msg`, sent by `producer`, to `account`; returns
    /// whether it comes after a later-produced payment of the same account and producer (a
    /// reordering). One number per account and producer, so it costs nothing per message and
    /// never grows with the run.
    pub fn applied_out_of_order(&mut self, account: u32, producer: u16, msg: u32) -> bool {
        let i = account as usize * self.producers as usize + producer as usize;
        let latest = &mut self.latest_applied[i];
        let next = msg.saturating_add(1);
        if next < *latest {
            return true;
        }
        *latest = next;
        false
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
/// window.
///
/// IDs are message numbers, issued in order and processed roughly in order, so the IDs held
/// at any moment form a dense band: they live in a sliding array indexed by `id - first`
/// rather than a hash map, whose look-ups each touched a cold cache line once the store held
/// a few hundred thousand IDs (it halved the idempotent modes' speed).
#[derive(Clone)]
pub struct DedupStore {
    window: Micros,
    /// Per ID from `first` on, its expiry time plus one; 0 for an ID not held.
    slots: VecDeque<Micros>,
    first: u32,
    held: usize,
    /// Every insert in time order (expiry times only grow), to expire IDs without a scan.
    order: VecDeque<(Micros, u32)>,
    /// IDs older than `first` when they were inserted (a message applied long after younger
    /// ones: a publish retried for seconds), with their expiry plus one. Kept aside so the
    /// slot array does not grow back to cover every ID between them and the newest: memory
    /// stays with the IDs held, not with their span.
    late: std::collections::BTreeMap<u32, Micros>,
    pub peak: usize,
    pub lookups: u64,
    pub hits: u64,
}

impl DedupStore {
    /// IDs held now.
    pub fn len(&self) -> usize {
        self.held
    }

    pub fn new(window: Micros) -> DedupStore {
        DedupStore {
            window,
            slots: VecDeque::new(),
            first: 0,
            held: 0,
            order: VecDeque::new(),
            late: std::collections::BTreeMap::new(),
            peak: 0,
            lookups: 0,
            hits: 0,
        }
    }

    fn slot(&self, id: u32) -> Option<usize> {
        let i = id.checked_sub(self.first)? as usize;
        (i < self.slots.len()).then_some(i)
    }

    /// The expiry of a held ID.
    fn expiry(&self, id: u32) -> Option<Micros> {
        let stored = match (self.late_entry(id), self.slot(id)) {
            (Some(stored), _) => stored,
            (None, Some(i)) => self.slots[i],
            (None, None) => 0,
        };
        (stored != 0).then(|| stored - 1)
    }

    /// An ID kept aside (see `late`); the check is free while there are none, as almost always.
    fn late_entry(&self, id: u32) -> Option<Micros> {
        if self.late.is_empty() {
            None
        } else {
            self.late.get(&id).copied()
        }
    }

    fn expire(&mut self, now: Micros) {
        while let Some(&(at, id)) = self.order.front() {
            if at > now {
                break;
            }
            self.order.pop_front();
            // A later insert of the same ID has its own, later expiry: keep that one.
            if let Some(stored) = self.late_entry(id) {
                if stored == at + 1 {
                    self.late.remove(&id);
                    self.held -= 1;
                }
            } else if let Some(i) = self.slot(id)
                && self.slots[i] == at + 1
            {
                self.slots[i] = 0;
                self.held -= 1;
            }
        }
        while self.slots.front() == Some(&0) {
            self.slots.pop_front();
            self.first += 1;
        }
    }

    pub fn contains(&mut self, id: u32, now: Micros) -> bool {
        self.expire(now);
        self.lookups += 1;
        let hit = self.expiry(id).is_some_and(|at| at > now);
        self.hits += hit as u64;
        hit
    }

    pub fn insert(&mut self, id: u32, now: Micros) {
        self.expire(now);
        let at = now + self.window;
        if self.slots.is_empty() {
            self.first = id;
        }
        if self.late_entry(id).is_some() || id < self.first {
            if self.late.insert(id, at + 1).is_none() {
                self.held += 1;
            }
            self.order.push_back((at, id));
            self.peak = self.peak.max(self.held);
            return;
        }
        let i = (id - self.first) as usize;
        if i >= self.slots.len() {
            self.slots.resize(i + 1, 0);
        }
        if self.slots[i] == 0 {
            self.held += 1;
        }
        self.slots[i] = at + 1;
        self.order.push_back((at, id));
        self.peak = self.peak.max(self.held);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    /// The store as a plain map from ID to expiry: what the sliding array must agree with.
    struct Model {
        window: Micros,
        expiry: BTreeMap<u32, Micros>,
        peak: usize,
    }

    impl Model {
        fn live(&mut self, now: Micros) {
            self.expiry.retain(|_, at| *at > now);
        }
    }

    proptest! {
        /// Inserts and look-ups of IDs in any order (late retries far below the newest ID,
        /// jumps far above it), with time moving on, answer exactly as a map of expiries does,
        /// and hold the same number of IDs.
        #[test]
        fn answers_as_a_map_of_expiries(
            window in 0u64..50,
            ops in proptest::collection::vec((any::<bool>(), 0u32..200, 0u64..8), 1..300),
        ) {
            let mut store = DedupStore::new(window);
            let mut model = Model { window, expiry: BTreeMap::new(), peak: 0 };
            let mut now = 0;
            for (insert, id, step) in ops {
                now += step;
                // Expiry is lazy: each operation first drops what has expired by now.
                model.live(now);
                if insert {
                    store.insert(id, now);
                    model.expiry.insert(id, now + model.window);
                    model.peak = model.peak.max(model.expiry.len());
                } else {
                    let want = model.expiry.get(&id).is_some_and(|&at| at > now);
                    prop_assert_eq!(store.contains(id, now), want, "id {} at {}", id, now);
                }
                prop_assert_eq!(store.len(), model.expiry.len());
            }
            prop_assert_eq!(store.peak, model.peak);
        }
    }
}
