//! Phone system events counted in memory as they arrive and added to the stored counts
//! every few seconds (by the link task), so counting costs an event no database write.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Distinct event types counted per day; any further type is counted as `other`, so a
/// sender inventing types cannot grow the table.
pub const MAX_COUNTED_TYPES: usize = 50;

/// The last event: when (unix seconds), its type and the channel it came by.
pub type LastEvent = (i64, String, String);

#[derive(Default)]
struct Counted {
    counts: BTreeMap<(String, String), i64>,
    last: Option<LastEvent>,
}

#[derive(Default)]
pub struct EventTally {
    inner: Mutex<Counted>,
}

/// The UTC day of `unix` seconds, as the counts are keyed (`2026-12-03`).
pub fn day_of(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

impl EventTally {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counted> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn record(&self, event_type: &str, channel: &str, now: i64) {
        let day = day_of(now);
        let mut counted = self.lock();
        let types_today = counted.counts.keys().filter(|(d, _)| *d == day).count();
        let known = counted
            .counts
            .contains_key(&(day.clone(), event_type.to_owned()));
        let key = if known || types_today < MAX_COUNTED_TYPES {
            event_type.to_owned()
        } else {
            "other".to_owned()
        };
        *counted.counts.entry((day, key)).or_insert(0) += 1;
        counted.last = Some((now, event_type.to_owned(), channel.to_owned()));
    }

    /// What was counted since the last take, emptied.
    pub fn take(&self) -> (Option<LastEvent>, Vec<(String, String, i64)>) {
        let mut counted = self.lock();
        let last = counted.last.take();
        let counts = std::mem::take(&mut counted.counts)
            .into_iter()
            .map(|((day, event_type), count)| (day, event_type, count))
            .collect();
        (last, counts)
    }

    /// Puts back what could not be stored.
    pub fn restore(&self, last: Option<LastEvent>, counts: Vec<(String, String, i64)>) {
        let mut counted = self.lock();
        if counted.last.is_none() {
            counted.last = last;
        }
        for (day, event_type, count) in counts {
            *counted.counts.entry((day, event_type)).or_insert(0) += count;
        }
    }

    /// Not yet stored: the last event and `day`'s counts per type.
    pub fn pending(&self, day: &str) -> (Option<LastEvent>, Vec<(String, i64)>) {
        let counted = self.lock();
        let counts = counted
            .counts
            .iter()
            .filter(|((d, _), _)| d == day)
            .map(|((_, event_type), count)| (event_type.clone(), *count))
            .collect();
        (counted.last.clone(), counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_bounded_and_taken_once() {
        let tally = EventTally::default();
        let now = 1_764_720_000; // 2025-12-03
        tally.record("30011", "websocket", now);
        tally.record("30011", "webhook", now + 1);
        for n in 0..(MAX_COUNTED_TYPES + 10) {
            tally.record(&format!("type{n}"), "webhook", now + 2);
        }
        let day = day_of(now);
        assert_eq!(day, "2025-12-03");
        let (last, counts) = tally.pending(&day);
        assert_eq!(last.unwrap().1, format!("type{}", MAX_COUNTED_TYPES + 9));
        assert_eq!(
            counts.len(),
            MAX_COUNTED_TYPES + 1,
            "the types past the bound are `other`"
        );
        assert!(counts.contains(&("30011".to_owned(), 2)));
        assert!(counts.contains(&("other".to_owned(), 11)));
        let (_, taken) = tally.take();
        assert_eq!(
            taken.iter().map(|c| c.2).sum::<i64>(),
            (MAX_COUNTED_TYPES + 12) as i64
        );
        assert!(tally.take().1.is_empty());
        tally.restore(None, taken);
        assert_eq!(tally.pending(&day).1.len(), MAX_COUNTED_TYPES + 1);
    }
}
