//! The system's clients, as the broker sees them: producers and the outbox relay that publish,
//! and the consumers that fetch, process into the ledger and commit offsets (with their
//! stalls, the zombie case), one file per family for a consumer's side of its broker and
//! `family_side.rs` to dispatch to them. The clients call the brokers; the brokers never call
//! the clients (they send events, and the event loop hands over what must reach a client at
//! once: `simulation/handoffs.rs`).

pub(crate) mod consumer;
mod family_side;
mod group_member;
pub(crate) mod producer;
pub(crate) mod producer_session;
mod rabbitmq;
mod sqs;
pub(crate) mod zombie;

use crate::brokers::Brokers;
use crate::clients::producer::Relay;
use crate::clients::producer_session::{ProducerSession, Sent};
use crate::engine::BACKOFF_STEPS;
use crate::engine::timers::TimerList;
use crate::scenario::Scenario;

/// What the clients keep besides each consumer's state record (which lives in the world, see
/// `engine::consumer_state`): the outbox relays, the producers' sessions and their publish
/// timers. Their behaviour is `impl Clients` blocks in this folder, each handed the brokers
/// it calls and the world it acts in.
#[derive(Clone)]
pub(crate) struct Clients {
    pub(crate) relays: Vec<Relay>,
    /// Each producer's (or relay's) session: producer ID, epoch, per-partition sequence
    /// numbers and in-flight window (see `producer_session`).
    pub(crate) sessions: Vec<ProducerSession>,
    /// Publish ack timeouts, `(msg, attempt)`, one list per backoff step (`backoff_step`):
    /// within a step the delay is constant, so each list falls due in the order it was armed.
    pub(crate) publish_timers: [TimerList<(u32, u16)>; BACKOFF_STEPS],
    /// Records a transactional producer commits at one ack, kept between acks.
    pub(crate) commit_scratch: Vec<Sent>,
}

impl Clients {
    /// The clients at the start of a run: each producer gets its producer ID from the
    /// brokers' producer state, in producer order.
    pub(crate) fn new(s: &Scenario, brokers: &mut Brokers) -> Clients {
        let producers = s.producers.max(1) as usize;
        let partitions = brokers.logs.len();
        Clients {
            relays: (0..producers).map(|_| Relay::default()).collect(),
            sessions: (0..producers)
                .map(|_| {
                    ProducerSession::new(brokers.producer_states.new_producer_id(), partitions)
                })
                .collect(),
            publish_timers: Default::default(),
            commit_scratch: Vec::new(),
        }
    }
}
