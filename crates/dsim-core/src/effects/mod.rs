//! Where a processed message has its effect: the payments ledger (with the consumer's dedup
//! store) and the external card provider that no broker transaction covers.

pub(crate) mod external;
pub(crate) mod ledger;
pub(crate) mod lookup_map;
