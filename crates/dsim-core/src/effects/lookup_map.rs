//! `LookupMap`: a hash map that can only be looked up, never iterated.
//!
//! The core bans `HashMap` and `HashSet` (crates/dsim-core/clippy.toml): the order in which
//! a hash map yields its keys is not part of the model, so nothing may be decided in it. A
//! keyed store that is only looked up is safe and fast, so this wrapper offers exactly that
//! and nothing that walks the keys: no `iter`, no `keys`, no `IntoIterator`.

// The one place the core names a hash map: the wrapper below exposes no iteration.
#![allow(
    clippy::disallowed_types,
    reason = "LookupMap's API has no iteration, so its hash order can decide nothing"
)]

use std::hash::Hash;

use rustc_hash::FxHashMap;

/// A map from keys to values that answers look-ups and nothing else.
#[derive(Clone, Debug)]
pub struct LookupMap<K, V> {
    map: FxHashMap<K, V>,
}

impl<K: Hash + Eq, V> Default for LookupMap<K, V> {
    fn default() -> Self {
        LookupMap {
            map: FxHashMap::default(),
        }
    }
}

impl<K: Hash + Eq, V> LookupMap<K, V> {
    /// The value under `key`, inserted as `default` first if there was none.
    pub fn get_or_insert(&mut self, key: K, default: V) -> &mut V {
        self.map.entry(key).or_insert(default)
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.map.remove(key)
    }
}
