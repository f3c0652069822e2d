//! What every page request reads (its session, its account), remembered for
//! [`RECENT_READ_TTL`]: a page and the calls it makes right after share one read. A write
//! through the same repository forgets what it changed at once; another server sharing
//! the database (PostgreSQL) sees the change within the TTL (SECURITY.md "Sessions").

use std::hash::Hash;
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;

/// How long a read is reused.
pub const RECENT_READ_TTL: Duration = Duration::from_secs(1);
/// How many reads are kept; beyond, the least used go first.
pub const RECENT_READ_CAPACITY: usize = 10_000;

pub struct RecentReads<K, V> {
    reads: Cache<K, (Instant, V)>,
}

impl<K: Eq + Hash + Clone, V: Clone> Default for RecentReads<K, V> {
    fn default() -> Self {
        RecentReads {
            reads: Cache::new(RECENT_READ_CAPACITY),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> RecentReads<K, V> {
    /// What was read for `key` less than the TTL ago.
    pub fn get(&self, key: &K) -> Option<V> {
        self.reads
            .get(key)
            .filter(|(at, _)| at.elapsed() < RECENT_READ_TTL)
            .map(|(_, value)| value)
    }

    pub fn remember(&self, key: K, value: V) {
        self.reads.insert(key, (Instant::now(), value));
    }

    pub fn forget(&self, key: &K) {
        self.reads.remove(key);
    }

    pub fn forget_all(&self) {
        self.reads.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_is_reused_until_forgotten() {
        let reads = RecentReads::<i32, &str>::default();
        assert_eq!(reads.get(&1), None);
        reads.remember(1, "ada");
        assert_eq!(reads.get(&1), Some("ada"));
        reads.forget(&1);
        assert_eq!(reads.get(&1), None);
        reads.remember(2, "grace");
        reads.forget_all();
        assert_eq!(reads.get(&2), None);
    }

    #[test]
    fn a_read_older_than_the_ttl_is_not_reused() {
        let reads = RecentReads::<i32, &str>::default();
        reads.reads.insert(
            1,
            (
                Instant::now().checked_sub(RECENT_READ_TTL).unwrap(),
                "stale",
            ),
        );
        assert_eq!(reads.get(&1), None);
    }
}
