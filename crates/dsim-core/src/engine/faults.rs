//! The fault plan: the single place where the simulation asks "what happens to this message on
//! this hop, this time?" (or at this point of its life: before processing, in a stall, ...).
//!
//! Every decision is a pure function of the seed and the decision's coordinates (message,
//! `FaultSite`, attempt, copy), not a draw from one shared sequential stream. So a fault that hits
//! message 42's first delivery in one mode hits it in every mode, and a comparison between
//! modes shows the semantics rather than luck. Probabilities are turned into integer
//! thresholds once, so no outcome depends on platform floating-point functions.
//!
//! Scripted faults (`Scenario::script`) are decided here too, so the engine asks one question
//! per decision: they are keyed by time and by the consumer or link instead of by a draw.
//! A partition window drops whatever is sent over its link while it lasts; a scripted crash
//! "before/after processing" strikes the first record its consumer reaches from its time on,
//! once, so the plan remembers which entries have struck and when (the report lists them).

use rand_core::Rng;
use rand_xoshiro::SplitMix64;
use rand_xoshiro::rand_core::SeedableRng;

use crate::scenario::Scenario;
use crate::scenario::script::{CrashPoint, Link, ScriptPlan};
use crate::time::{Micros, ms_to_us};

/// The places a fault can strike, and the other keyed draws: a network hop (`Publish`,
/// `Delivery`, ...), a point in a client's or the broker's work (`BeforeProcess`, `Stall`,
/// `ProducerWrite`, ...), or no fault at all (`Payment`, the payment's account and amount).
/// Each is one coordinate of a decision's key, so its number must never change: the
/// determinism digests would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FaultSite {
    /// Producer (or outbox relay) to broker.
    Publish = 1,
    /// Broker to producer: the publish ack.
    PublishAck = 2,
    /// Broker to consumer.
    Delivery = 3,
    /// Consumer to group coordinator: an offset commit, or the transaction commit.
    Ack = 4,
    /// The consumer, between receiving and processing.
    BeforeProcess = 5,
    /// The consumer, between processing and acking.
    AfterProcess = 6,
    /// The partition leader, right after an append.
    BrokerAppend = 7,
    /// The producer, between its database write and its publish.
    ProducerWrite = 8,
    /// Not a fault: the payment's account and amount.
    Payment = 9,
    /// Fetch requests and their responses: latency only, never lost.
    Control = 10,
    /// The consumer, between processing and acking: a stall (GC pause) rather than a crash.
    Stall = 11,
    /// A follower of the partition leader, right after an append: it falls out of the
    /// in-sync replicas (Kafka's replica lag).
    ReplicaLag = 12,
    /// The producer (or relay), after sending a record and before its ack: it dies and
    /// restarts (`producer-restart`).
    ProducerRestart = 13,
    /// The outbox relay, after a row's publish was acked and before it marked the row sent
    /// (`relay-crash`).
    RelayCrash = 14,
    /// An SQS standard queue's DeleteMessage, missing a copy on an unavailable server
    /// (`extra-copy`).
    ExtraCopy = 15,
}

/// What the network does with one message on one hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Lost on the way: at random, or by the script's entry `scripted` (a partition).
    Drop { scripted: Option<u16> },
    /// Arrives after `delay`; if `twice` is set, a second copy arrives after `second`.
    Deliver {
        delay: Micros,
        twice: Option<Micros>,
    },
}

/// Integer thresholds for each fault: a draw below the threshold means the fault strikes.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    seed: u64,
    publish_loss: u64,
    publish_ack_loss: u64,
    delivery_loss: u64,
    ack_loss: u64,
    duplicate: u64,
    delay: u64,
    crash_before: u64,
    crash_after: u64,
    broker_crash: u64,
    producer_crash: u64,
    consumer_stall: u64,
    replica_lag: u64,
    producer_restart: u64,
    relay_crash: u64,
    extra_copy: u64,
    latency: Micros,
    jitter: Micros,
    delay_extra: Micros,
    script: ScriptPlan,
}

/// Whether a crash strikes, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strike {
    Spared,
    Random,
    /// The script's entry with this index.
    Scripted(u16),
}

impl Strike {
    pub fn struck(self) -> bool {
        self != Strike::Spared
    }
}

/// Maps a probability to a threshold on a uniform `u64`; `1.0` means always.
fn threshold(p: f64) -> u64 {
    if p >= 1.0 {
        u64::MAX
    } else if p <= 0.0 {
        0
    } else {
        // 2^64 * p is exact in IEEE arithmetic up to rounding that every platform shares.
        (p * 18_446_744_073_709_551_616.0) as u64
    }
}

/// A uniform integer below `n` from a uniform `u64`, by multiply-and-shift rather than `%`:
/// a 64-bit division costs tens of cycles and this runs on every hop.
fn below(draw: u64, n: u64) -> u64 {
    mul_high(draw, n)
}

/// The high 64 bits of a 64 x 64-bit product. wasm has no 128-bit multiply: there a `u128`
/// product is a call to `__multi3` through the shadow stack, so the page's builds use four
/// 32-bit products instead (the same number, exactly).
#[inline(always)]
fn mul_high(a: u64, b: u64) -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        mul_high_by_halves(a, b)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        ((a as u128 * b as u128) >> 64) as u64
    }
}

#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
#[inline(always)]
fn mul_high_by_halves(a: u64, b: u64) -> u64 {
    const LOW: u64 = 0xFFFF_FFFF;
    let (a_lo, a_hi) = (a & LOW, a >> 32);
    let (b_lo, b_hi) = (b & LOW, b >> 32);
    let lo_lo = a_lo * b_lo;
    let hi_lo = a_hi * b_lo;
    let lo_hi = a_lo * b_hi;
    // At most (2^32 - 1)^2 + 2 (2^32 - 1): cannot overflow.
    let middle = (lo_lo >> 32) + (hi_lo & LOW) + lo_hi;
    a_hi * b_hi + (hi_lo >> 32) + (middle >> 32)
}

fn strikes(draw: u64, threshold: u64) -> bool {
    threshold == u64::MAX || draw < threshold
}

impl FaultPlan {
    pub fn new(s: &Scenario) -> FaultPlan {
        FaultPlan {
            seed: s.seed,
            publish_loss: threshold(s.publish_loss),
            publish_ack_loss: threshold(s.publish_ack_loss),
            delivery_loss: threshold(s.delivery_loss),
            ack_loss: threshold(s.ack_loss),
            duplicate: threshold(s.duplicate),
            delay: threshold(s.delay),
            crash_before: threshold(s.crash_before_process),
            crash_after: threshold(s.crash_after_process),
            broker_crash: threshold(s.broker_crash),
            producer_crash: threshold(s.producer_crash),
            consumer_stall: threshold(s.consumer_stall),
            // No follower to lag with a single replica.
            replica_lag: if s.replication_factor > 1 {
                threshold(s.replica_lag)
            } else {
                0
            },
            producer_restart: threshold(s.producer_restart),
            relay_crash: threshold(s.relay_crash),
            extra_copy: threshold(s.extra_copy),
            latency: ms_to_us(s.latency_ms),
            jitter: ms_to_us(s.jitter_ms),
            delay_extra: ms_to_us(s.delay_ms),
            script: ScriptPlan::new(s),
        }
    }

    /// The scripted faults and what each has struck so far.
    pub(crate) fn script(&self) -> &ScriptPlan {
        &self.script
    }

    /// Notes that the script's entry `entry` struck at `now` (the engine calls it for the
    /// entries that fire as events: a plain consumer crash, a broker crash).
    pub(crate) fn record_scripted(&mut self, entry: u16, now: Micros) {
        self.script.record(entry, now);
    }

    /// A random stream owned by one decision. The coordinates are folded into the seed with
    /// distinct odd multipliers, and SplitMix64's output mixing spreads nearby keys apart.
    fn stream(&self, site: FaultSite, msg: u32, attempt: u32, copy: u32) -> SplitMix64 {
        let key = self.seed
            ^ (msg as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (site as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
            ^ (attempt as u64).wrapping_mul(0x1656_67B1_9E37_79F9)
            ^ (copy as u64).wrapping_mul(0x85EB_CA77_C2B2_AE63);
        SplitMix64::seed_from_u64(key)
    }

    fn loss_threshold(&self, site: FaultSite) -> u64 {
        match site {
            FaultSite::Publish => self.publish_loss,
            FaultSite::PublishAck => self.publish_ack_loss,
            FaultSite::Delivery => self.delivery_loss,
            FaultSite::Ack => self.ack_loss,
            _ => 0,
        }
    }

    /// The verdict for a message sent at `now` over `link` (the broker's link with a producer
    /// or a consumer) on a network hop. `attempt` counts the sender's tries (1 for the first);
    /// `copy` tells apart copies that exist at the same attempt (a second log entry, a network
    /// duplicate).
    // Inlined: in wasm, LLVM kept it a call on the hot path (docs/performance-notes.md, wasm inlining).
    #[inline(always)]
    pub fn network(
        &mut self,
        site: FaultSite,
        link: Link,
        now: Micros,
        msg: u32,
        attempt: u32,
        copy: u32,
    ) -> Verdict {
        if !self.script.is_empty()
            && let Some(entry) = self.script.partition(link, now)
        {
            self.script.record(entry, now);
            return Verdict::Drop {
                scripted: Some(entry),
            };
        }
        let mut rng = self.stream(site, msg, attempt, copy);
        // The draws are taken in a fixed order, and only where the scenario enables the fault:
        // the same scenario always consumes the same draws, in every mode.
        let loss = self.loss_threshold(site);
        if loss != 0 && strikes(rng.next_u64(), loss) {
            return Verdict::Drop { scripted: None };
        }
        // Only the hops that carry a message's payload can duplicate it.
        let can_duplicate =
            self.duplicate != 0 && matches!(site, FaultSite::Publish | FaultSite::Delivery);
        let duplicated = can_duplicate && strikes(rng.next_u64(), self.duplicate);
        let extra = if self.delay != 0 && strikes(rng.next_u64(), self.delay) {
            self.delay_extra
        } else {
            0
        };
        let delay = self.jittered(&mut rng) + extra;
        let twice = duplicated.then(|| self.jittered(&mut rng) + extra);
        Verdict::Deliver { delay, twice }
    }

    /// Latency with jitter, for messages the model never loses (fetches, commit responses)
    /// sent at `now` over `link`: a scripted partition holds them until it heals, as TCP
    /// would keep retrying them.
    // Inlined: in wasm, LLVM kept it a call on the hot path (docs/performance-notes.md, wasm inlining).
    #[inline]
    pub fn latency(&self, link: Link, now: Micros, msg: u32, attempt: u32, copy: u32) -> Micros {
        let held = if self.script.is_empty() {
            0
        } else {
            self.script.heals_at(link, now).map_or(0, |t| t - now)
        };
        held + self.jittered(&mut self.stream(FaultSite::Control, msg, attempt, copy))
    }

    /// The longest a hop takes without the `delay` fault: latency plus jitter.
    pub fn on_time_bound(&self) -> Micros {
        self.latency + self.jitter
    }

    fn jittered(&self, rng: &mut SplitMix64) -> Micros {
        if self.jitter == 0 {
            return self.latency;
        }
        let span = 2 * self.jitter + 1;
        (self.latency + below(rng.next_u64(), span)).saturating_sub(self.jitter)
    }

    /// Whether a consumer or broker crash strikes at this point of this message's life, at `now`;
    /// `consumer` is the consumer at work for the consumer's sites (ignored elsewhere).
    // Inlined: in wasm, LLVM kept it a call on the hot path (docs/performance-notes.md, wasm inlining).
    #[inline]
    pub fn crash(
        &mut self,
        site: FaultSite,
        consumer: u16,
        now: Micros,
        msg: u32,
        attempt: u32,
        copy: u32,
    ) -> Strike {
        let point = match site {
            FaultSite::BeforeProcess => Some(CrashPoint::BeforeProcessing),
            FaultSite::AfterProcess => Some(CrashPoint::AfterProcessing),
            _ => None,
        };
        if let Some(point) = point
            && !self.script.is_empty()
            && let Some(entry) = self.script.armed_crash(consumer, point, now)
        {
            self.script.record(entry, now);
            return Strike::Scripted(entry);
        }
        if self.random_crash(site, msg, attempt, copy) {
            Strike::Random
        } else {
            Strike::Spared
        }
    }

    /// Whether a random node fault (a crash, a consumer's stall, a follower's lag) strikes
    /// here.
    pub(crate) fn random_crash(&self, site: FaultSite, msg: u32, attempt: u32, copy: u32) -> bool {
        let threshold = match site {
            FaultSite::BeforeProcess => self.crash_before,
            FaultSite::AfterProcess => self.crash_after,
            FaultSite::BrokerAppend => self.broker_crash,
            FaultSite::ProducerWrite => self.producer_crash,
            FaultSite::Stall => self.consumer_stall,
            FaultSite::ReplicaLag => self.replica_lag,
            FaultSite::ProducerRestart => self.producer_restart,
            FaultSite::RelayCrash => self.relay_crash,
            FaultSite::ExtraCopy => self.extra_copy,
            _ => 0,
        };
        threshold != 0 && strikes(self.stream(site, msg, attempt, copy).next_u64(), threshold)
    }

    /// Whether a follower falls out of the in-sync replicas right after this append (the
    /// fault `replica-lag`). Nothing is drawn while the fault is off.
    // Inlined: asked on every append.
    #[inline(always)]
    pub fn replica_lags(&self, msg: u32, attempt: u32, copy: u32) -> bool {
        self.replica_lag != 0
            && strikes(
                self.stream(FaultSite::ReplicaLag, msg, attempt, copy)
                    .next_u64(),
                self.replica_lag,
            )
    }

    /// The payment a message carries: (account, amount in cents from $1 to $500).
    pub fn payment(&self, msg: u32, accounts: u32) -> (u32, u64) {
        let mut rng = self.stream(FaultSite::Payment, msg, 0, 0);
        let account = below(rng.next_u64(), accounts as u64) as u32;
        let amount_cents = 100 + below(rng.next_u64(), 49_901);
        (account, amount_cents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wasm path must draw exactly the numbers the native one does, or the same seed
    /// would give different runs in the page and on the command line.
    #[test]
    fn the_wasm_product_is_the_exact_high_word() {
        let edges = [0, 1, 2, 0xFFFF_FFFF, 0x1_0000_0000, u64::MAX - 1, u64::MAX];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut values: Vec<u64> = edges.to_vec();
        for _ in 0..2_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(x);
        }
        for &a in &values {
            // Ranges below 2^32, as every range drawn is (accounts, amounts, jitter), and wider.
            let small = values.iter().step_by(41).map(|v| v >> 32);
            for b in values
                .iter()
                .step_by(37)
                .chain(&edges)
                .copied()
                .chain(small)
            {
                let want = ((a as u128 * b as u128) >> 64) as u64;
                assert_eq!(mul_high_by_halves(a, b), want, "{a} x {b}");
            }
        }
    }
}
