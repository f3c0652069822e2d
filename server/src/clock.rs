//! The wall clock, in the units the rows and rules use: a leaf any module may read, so
//! nothing imports storage just to know the time.

/// Unix seconds now.
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Unix milliseconds now, as Activity and the queue stamp their rows.
pub fn unix_now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}
