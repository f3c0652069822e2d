//! Slows down password guessing: after a few failures, an account or an address must wait
//! before the next attempt, and the wait doubles with every further failure.
//!
//! Counters live in memory: they reset on restart, and each instance counts its own
//! attempts. That bounds guessing to a few attempts per minute per instance.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failures allowed before waiting starts.
    pub free_failures: u32,
    /// Wait after the first failure beyond the free ones; doubles after each further one.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A counter with no failure for this long starts over.
    pub forget_after: Duration,
}

impl ThrottlePolicy {
    pub const PER_ACCOUNT: ThrottlePolicy = ThrottlePolicy {
        free_failures: 5,
        base_delay: Duration::from_secs(30),
        max_delay: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(60 * 60),
    };
    /// An office behind one NAT address shares this counter, so it allows more.
    pub const PER_ADDRESS: ThrottlePolicy = ThrottlePolicy {
        free_failures: 20,
        base_delay: Duration::from_secs(30),
        max_delay: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(60 * 60),
    };

    fn delay_after(&self, failures: u32) -> Duration {
        if failures < self.free_failures {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free_failures).min(16);
        self.base_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay)
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Subject {
    Account(String),
    Address(IpAddr),
}

/// Beyond this many tracked subjects, forgotten ones are swept out.
const SWEEP_THRESHOLD: usize = 10_000;

pub struct LoginThrottle {
    per_account: ThrottlePolicy,
    per_address: ThrottlePolicy,
    failures: Mutex<HashMap<Subject, Failures>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(ThrottlePolicy::PER_ACCOUNT, ThrottlePolicy::PER_ADDRESS)
    }
}

impl LoginThrottle {
    pub fn new(per_account: ThrottlePolicy, per_address: ThrottlePolicy) -> Self {
        Self {
            per_account,
            per_address,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn policy(&self, subject: &Subject) -> &ThrottlePolicy {
        match subject {
            Subject::Account(_) => &self.per_account,
            Subject::Address(_) => &self.per_address,
        }
    }

    fn subjects(email: &str, address: IpAddr) -> [Subject; 2] {
        [
            Subject::Account(email.to_string()),
            Subject::Address(address),
        ]
    }

    /// Takes an attempt: `Err(wait)` when it must not be checked yet, otherwise it is
    /// counted as a failure *before* the password is verified, in the same lock as the
    /// check, so parallel attempts cannot all pass a check that none of them has yet
    /// counted against. [`LoginThrottle::settle_success`] gives a good one back.
    pub fn reserve(&self, email: &str, address: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(wait) = self.wait(&failures, email, address, now) {
            return Err(wait);
        }
        self.count_failure(&mut failures, email, address, now);
        Ok(())
    }

    /// How long an attempt must still wait, if it must.
    fn wait(
        &self,
        failures: &HashMap<Subject, Failures>,
        email: &str,
        address: IpAddr,
        now: Instant,
    ) -> Option<Duration> {
        Self::subjects(email, address)
            .iter()
            .filter_map(|subject| {
                let entry = failures.get(subject)?;
                let policy = self.policy(subject);
                let since = now.saturating_duration_since(entry.last);
                if since >= policy.forget_after {
                    return None;
                }
                policy.delay_after(entry.count).checked_sub(since)
            })
            .filter(|wait| !wait.is_zero())
            .max()
    }

    fn count_failure(
        &self,
        failures: &mut HashMap<Subject, Failures>,
        email: &str,
        address: IpAddr,
        now: Instant,
    ) {
        if failures.len() > SWEEP_THRESHOLD {
            failures.retain(|subject, entry| {
                now.saturating_duration_since(entry.last) < self.policy(subject).forget_after
            });
        }
        for subject in Self::subjects(email, address) {
            let forget_after = self.policy(&subject).forget_after;
            let entry = failures.entry(subject).or_insert(Failures {
                count: 0,
                last: now,
            });
            if now.saturating_duration_since(entry.last) >= forget_after {
                entry.count = 0;
            }
            entry.count = entry.count.saturating_add(1);
            entry.last = now;
        }
    }

    /// A successful sign-in clears the account's counter and gives the address back the
    /// attempt it reserved, no more: one good password must not reset guessing against
    /// other accounts from the same place.
    pub fn settle_success(&self, email: &str, address: IpAddr) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&Subject::Account(email.to_string()));
        if let Some(entry) = failures.get_mut(&Subject::Address(address)) {
            entry.count = entry.count.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const AWAY: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7));

    fn fail(throttle: &LoginThrottle, email: &str, address: IpAddr, times: u32, now: Instant) {
        let mut failures = throttle.failures.lock().unwrap();
        for _ in 0..times {
            throttle.count_failure(&mut failures, email, address, now);
        }
    }

    impl LoginThrottle {
        /// Whether an attempt may go ahead now, without taking it.
        fn check(&self, email: &str, address: IpAddr, now: Instant) -> Result<(), Duration> {
            let failures = self.failures.lock().unwrap();
            self.wait(&failures, email, address, now)
                .map_or(Ok(()), Err)
        }
    }

    #[test]
    fn five_failures_are_free_then_the_account_waits() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        fail(&throttle, "ada@example.com", HOME, 4, start);
        assert!(throttle.check("ada@example.com", HOME, start).is_ok());
        fail(&throttle, "ada@example.com", HOME, 1, start);
        let wait = throttle.check("ada@example.com", HOME, start).unwrap_err();
        assert_eq!(wait, Duration::from_secs(30));
        // Another address is throttled too: the account is the subject.
        assert!(throttle.check("ada@example.com", AWAY, start).is_err());
        // Another account from the same address is not (yet).
        assert!(throttle.check("bob@example.com", HOME, start).is_ok());
        // After the wait, the next attempt may proceed.
        assert!(throttle
            .check("ada@example.com", HOME, start + Duration::from_secs(30))
            .is_ok());
    }

    #[test]
    fn the_wait_doubles_and_is_capped() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        fail(&throttle, "ada@example.com", HOME, 7, now);
        assert_eq!(
            throttle.check("ada@example.com", HOME, now).unwrap_err(),
            Duration::from_secs(120)
        );
        fail(&throttle, "ada@example.com", HOME, 30, now);
        assert_eq!(
            throttle.check("ada@example.com", HOME, now).unwrap_err(),
            Duration::from_secs(15 * 60)
        );
    }

    #[test]
    fn an_address_guessing_many_accounts_is_throttled() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for n in 0..20 {
            fail(&throttle, &format!("user{n}@example.com"), HOME, 1, now);
        }
        assert!(throttle.check("fresh@example.com", HOME, now).is_err());
        assert!(throttle.check("fresh@example.com", AWAY, now).is_ok());
    }

    #[test]
    fn success_clears_the_account_and_old_failures_are_forgotten() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        fail(&throttle, "ada@example.com", HOME, 5, now);
        throttle.settle_success("ada@example.com", HOME);
        assert!(throttle.check("ada@example.com", HOME, now).is_ok());

        fail(&throttle, "bob@example.com", HOME, 5, now);
        let later = now + Duration::from_secs(2 * 60 * 60);
        assert!(throttle.check("bob@example.com", HOME, later).is_ok());
        fail(&throttle, "bob@example.com", HOME, 1, later);
        assert!(throttle.check("bob@example.com", HOME, later).is_ok());
    }

    #[test]
    fn parallel_attempts_get_no_more_verdicts_than_the_free_failures() {
        let throttle = std::sync::Arc::new(LoginThrottle::default());
        let now = Instant::now();
        let admitted: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..60)
                .map(|_| {
                    let throttle = throttle.clone();
                    scope.spawn(move || throttle.reserve("ada@example.com", HOME, now).is_ok())
                })
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().unwrap()))
                .sum()
        });
        assert_eq!(admitted, ThrottlePolicy::PER_ACCOUNT.free_failures as usize);
    }

    #[test]
    fn a_success_gives_the_address_back_only_its_own_attempt() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        fail(&throttle, "other@example.com", HOME, 19, now);
        throttle.reserve("ada@example.com", HOME, now).unwrap();
        throttle.settle_success("ada@example.com", HOME);
        assert!(throttle.check("fresh@example.com", HOME, now).is_ok());
        fail(&throttle, "other@example.com", HOME, 1, now);
        assert!(throttle.check("fresh@example.com", HOME, now).is_err());
    }
}
