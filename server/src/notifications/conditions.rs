//! What deserves a notification, decided without I/O.

use app::activity::DriftFlag;
use app::integrations::Status;
use app::phone_system::LinkState;

/// A condition is notified again after this long, if it still holds.
pub const REPEAT_AFTER_MS: i64 = 3_600_000;
/// Failed jobs of one integration that are "piling up".
pub const FAILED_JOBS_ALERT: u64 = 10;
/// A token that expires within this long, with no refresh token, is about to expire.
pub const EXPIRY_WARNING_SECS: i64 = 24 * 3_600;

/// What an integration's notification conditions are read from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntegrationFacts {
    pub name: String,
    pub status: Status,
    /// Unix seconds.
    pub token_expires_at: Option<i64>,
    pub has_refresh_token: bool,
    pub drift: Vec<DriftFlag>,
    pub failed_jobs: u64,
}

/// A condition that holds: its key (one notification per key and hour) and what to say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    pub condition: String,
    pub message: String,
}

/// The integration's conditions that hold at `now` (Unix seconds).
pub fn integration_alerts(facts: &IntegrationFacts, now: i64) -> Vec<Alert> {
    let mut alerts = Vec::new();
    let name = &facts.name;
    if facts.status == Status::TokenInvalid {
        alerts.push(Alert {
            condition: "token_refused".into(),
            message: format!("{name}: the CRM refused the token and it cannot be refreshed. Reconnect the integration."),
        });
    } else if let Some(expires) = facts
        .token_expires_at
        .filter(|_| !facts.has_refresh_token && facts.status == Status::Connected)
    {
        if expires - now <= EXPIRY_WARNING_SECS {
            let hours = ((expires - now).max(0) + 1_799) / 3_600;
            alerts.push(Alert {
                condition: "token_expiring".into(),
                message: format!("{name}: the token expires in about {hours} h and there is no refresh token. Reconnect the integration before then."),
            });
        }
    }
    for flag in &facts.drift {
        alerts.push(Alert {
            condition: format!("drift:{}:{}", flag.step, flag.output),
            message: format!("{name}: {}", flag.message()),
        });
    }
    if facts.failed_jobs >= FAILED_JOBS_ALERT {
        alerts.push(Alert {
            condition: "failed_jobs".into(),
            message: format!(
                "{name}: {} queued call steps failed and wait in Activity › Queue (retry or discard them).",
                facts.failed_jobs
            ),
        });
    }
    alerts
}

/// The phone system's condition: refused or unreachable.
pub fn phone_system_alert(state: LinkState, detail: &str) -> Option<Alert> {
    matches!(state, LinkState::Refused | LinkState::Unreachable).then(|| Alert {
        condition: "phone_system".into(),
        message: format!(
            "The phone system is {}{}.",
            state.label().to_lowercase(),
            if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            }
        ),
    })
}

/// Whether a condition last notified at `last_ms` is due again at `now_ms`.
pub fn due(last_ms: Option<i64>, now_ms: i64) -> bool {
    last_ms.is_none_or(|last| now_ms - last >= REPEAT_AFTER_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn each_condition_is_said_once_with_what_to_do() {
        let mut facts = IntegrationFacts {
            name: "Acme".into(),
            status: Status::Connected,
            ..IntegrationFacts::default()
        };
        assert!(integration_alerts(&facts, NOW).is_empty());
        facts.token_expires_at = Some(NOW + 3 * 3_600);
        let alerts = integration_alerts(&facts, NOW);
        assert_eq!(alerts[0].condition, "token_expiring");
        assert!(alerts[0].message.contains("about 3 h"), "{alerts:?}");
        // A refresh token renews it: nothing to say.
        facts.has_refresh_token = true;
        assert!(integration_alerts(&facts, NOW).is_empty());
        facts.status = Status::TokenInvalid;
        facts.failed_jobs = FAILED_JOBS_ALERT;
        facts.drift = vec![DriftFlag {
            step: "SyncContactAuto/Contacts".into(),
            output: "FirstName".into(),
            streak: 20,
            share_before: 98,
        }];
        let keys: Vec<_> = integration_alerts(&facts, NOW)
            .into_iter()
            .map(|a| a.condition)
            .collect();
        assert_eq!(
            keys,
            [
                "token_refused",
                "drift:SyncContactAuto/Contacts:FirstName",
                "failed_jobs"
            ]
        );
    }

    #[test]
    fn the_phone_system_and_the_hourly_repeat() {
        assert!(phone_system_alert(LinkState::Connected, "").is_none());
        let alert = phone_system_alert(LinkState::Refused, "errcode 10004").unwrap();
        assert_eq!(alert.message, "The phone system is refused: errcode 10004.");
        assert!(due(None, NOW));
        assert!(!due(Some(NOW - REPEAT_AFTER_MS + 1), NOW));
        assert!(due(Some(NOW - REPEAT_AFTER_MS), NOW));
    }
}
