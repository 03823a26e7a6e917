//! What a run records as it goes, written by every role on the world and read by `report`:
//! the counters, the latency histogram, the time series and busy time (`metrics`), and the
//! traced messages' events (`trace`), and the one wording of counts and money their notes
//! and every door use (`money`). Plain data: it depends on nothing but `time`.

pub(crate) mod metrics;
pub mod money;
pub mod trace;
