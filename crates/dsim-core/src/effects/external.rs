//! The exactly-once trap: a side effect outside the broker's transaction.
//!
//! With `external-effect` on, each payment also charges the customer's card through an
//! external payment provider before the consumer records it. The provider is a store of its
//! own, with its own record of charges: nothing the broker does (transactions, fencing,
//! read-committed) can take a charge back. So when a consumer crashes after the call and
//! before its commit, or its transaction aborts, the record is read again and the card is
//! charged again, even in exactly-once mode, whose promise covers the broker's ledger only.
//! An idempotency key (the message ID) on the call lets the provider answer a repeated call
//! with the first charge's result instead of charging again.
//!
//! This is the provider's side, plain state; the consumer's call, with its trace rows, is
//! `call_external` in `clients/consumer.rs`.

use crate::effects::lookup_map::LookupMap;

/// What the provider did with one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charge {
    /// The card was charged; `first` unless this payment had been charged before.
    Charged { first: bool },
    /// The idempotency key was known: the first charge's result, no new charge.
    Deduplicated,
}

/// The provider's record of charges, and what a reconciliation against the payments would
/// find. Charges are remembered per message only while the message is in flight: once it is
/// resolved nothing can call for it again, so memory grows with messages in flight (a real
/// provider keeps idempotency keys for a day or so, which is longer than any run).
#[derive(Clone)]
pub struct ExternalProvider {
    keyed: bool,
    /// Charges per message in flight. Looked up, never iterated (`LookupMap` cannot be).
    charges: LookupMap<u32, u16>,
    pub calls: u64,
    pub charged: u64,
    pub double_charges: u64,
    pub deduplicated_by_key: u64,
    pub charged_cents: u64,
    pub overcharged_cents: u64,
    /// The first payment charged a second time.
    pub first_double_charge: Option<u32>,
    /// Extra charges per account.
    double_charged: Vec<u32>,
}

impl ExternalProvider {
    pub fn new(accounts: u32, keyed: bool) -> ExternalProvider {
        ExternalProvider {
            keyed,
            charges: LookupMap::default(),
            calls: 0,
            charged: 0,
            double_charges: 0,
            first_double_charge: None,
            deduplicated_by_key: 0,
            charged_cents: 0,
            overcharged_cents: 0,
            double_charged: vec![0; accounts as usize],
        }
    }

    /// One call for message `msg`'s payment.
    pub fn call(&mut self, msg: u32, account: u32, amount_cents: u64) -> Charge {
        self.calls += 1;
        let before = self.charges.get_or_insert(msg, 0);
        if self.keyed && *before > 0 {
            self.deduplicated_by_key += 1;
            return Charge::Deduplicated;
        }
        *before = before.saturating_add(1);
        let first = *before == 1;
        self.charged += 1;
        self.charged_cents += amount_cents;
        if !first {
            self.double_charges += 1;
            self.first_double_charge.get_or_insert(msg);
            self.overcharged_cents += amount_cents;
            self.double_charged[account as usize] += 1;
        }
        Charge::Charged { first }
    }

    /// The message is resolved: no call can come for it any more.
    pub fn forget(&mut self, msg: u32) {
        self.charges.remove(&msg);
    }

    pub fn accounts_double_charged(&self) -> u32 {
        self.double_charged.iter().filter(|&&n| n > 0).count() as u32
    }
}
