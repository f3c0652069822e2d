//! What every page request reads (its session, its account), remembered for
//! [`RECENT_READ_TTL`]: a page and the calls it makes right after share one read. A write
//! through the same repository forgets what it changed at once; another server sharing
//! the database (PostgreSQL) sees the change within the TTL (SECURITY.md "Sessions").

use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;

/// How long a read is reused.
pub const RECENT_READ_TTL: Duration = Duration::from_secs(1);
/// How many reads are kept; beyond, the least used go first.
pub const RECENT_READ_CAPACITY: usize = 10_000;

pub struct RecentReads<K, V> {
    reads: Cache<K, (Instant, V)>,
    /// Moved on by every write: a read that began before a write must not keep its
    /// (possibly older) answer once the write has forgotten or replaced it.
    writes: AtomicU64,
}

impl<K: Eq + Hash + Clone, V: Clone> Default for RecentReads<K, V> {
    fn default() -> Self {
        RecentReads {
            reads: Cache::new(RECENT_READ_CAPACITY),
            writes: AtomicU64::new(0),
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

    /// The recent read of `key`, else `read`'s answer, kept unless a write came meanwhile.
    pub async fn get_or_read<E>(
        &self,
        key: K,
        read: impl Future<Output = Result<V, E>>,
    ) -> Result<V, E> {
        if let Some(value) = self.get(&key) {
            return Ok(value);
        }
        let writes_before = self.writes.load(Ordering::SeqCst);
        let value = read.await?;
        if self.writes.load(Ordering::SeqCst) == writes_before {
            self.reads
                .insert(key.clone(), (Instant::now(), value.clone()));
            // A write between the check and the insert: it may have forgotten the key
            // before this insert; forget it again (a miss is always safe).
            if self.writes.load(Ordering::SeqCst) != writes_before {
                self.reads.remove(&key);
            }
        }
        Ok(value)
    }

    /// What a write just stored for `key`.
    pub fn remember(&self, key: K, value: V) {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.reads.insert(key, (Instant::now(), value));
    }

    pub fn forget(&self, key: &K) {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.reads.remove(key);
    }

    pub fn forget_all(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
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

    #[tokio::test]
    async fn a_read_overtaken_by_a_write_is_not_kept() {
        let reads = RecentReads::<i32, &str>::default();
        let answer = reads
            .get_or_read(1, async {
                // The session is signed out while its old row is being read.
                reads.forget(&1);
                Ok::<_, ()>("before the write")
            })
            .await;
        assert_eq!(answer, Ok("before the write"));
        assert_eq!(reads.get(&1), None, "the older answer is not kept");
        let answer = reads.get_or_read(1, async { Ok::<_, ()>("now") }).await;
        assert_eq!(answer, Ok("now"));
        assert_eq!(reads.get(&1), Some("now"));
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
