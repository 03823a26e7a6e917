//! Amazon SQS, standard and FIFO: consumers poll (`ReceiveMessage`), a received message is
//! invisible for the visibility timeout, and deleting it (`DeleteMessage`) is the only
//! acknowledgement. A message not deleted in time becomes visible again and its receive count
//! goes up; past `maxReceiveCount` it moves to the dead-letter queue. A FIFO queue adds
//! message groups delivered in order and send-side deduplication within five minutes.
//!
//! What SQS does is taken from the AWS SQS Developer Guide and API reference (see
//! /work/shared/brokers.md, "Amazon SQS"): the state lives in `queue` and `fifo`, pure and
//! tested on their own; `receive` is the broker's side of the run's events.

mod fifo;
mod queue;
mod receive;

pub(crate) use queue::SqsQueue;
