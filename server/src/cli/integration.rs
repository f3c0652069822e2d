//! `patchbay integration test PROVIDER/KEY` (README "Test cases"): runs an integration's
//! saved test cases against its CRM from the command line, for CI: the report on standard
//! output, exit status 1 when a case fails.

use app::template::model::Provider;
use app::test_cases::TestRun;

use crate::config::Config;
use crate::integrations::test_cases::Revision;

/// Who the Activity record and the logs name for a run from the command line.
const CLI_ACTOR: &str = "patchbay integration test";

#[derive(Debug, thiserror::Error)]
pub enum IntegrationCliError {
    #[error("name the integration as PROVIDER/KEY (crm/… or helpdesk/…), not {0:?}")]
    Name(String),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Start(#[from] crate::StartError),
    #[error(transparent)]
    Integration(#[from] crate::integrations::service::IntegrationError),
    #[error("the integration has no test cases yet; save one from the test console")]
    NoCases,
}

/// `crm/abc` → (CRM, `abc`).
pub fn parse_name(text: &str) -> Result<(Provider, String), IntegrationCliError> {
    let (provider, key) = text
        .split_once('/')
        .ok_or_else(|| IntegrationCliError::Name(text.to_owned()))?;
    let provider =
        Provider::parse(provider).ok_or_else(|| IntegrationCliError::Name(text.to_owned()))?;
    if key.is_empty() {
        return Err(IntegrationCliError::Name(text.to_owned()));
    }
    Ok((provider, key.to_owned()))
}

/// Runs the cases of `name` against the revision it runs, or the template's newest.
pub async fn test(name: &str, newest: bool) -> Result<TestRun, IntegrationCliError> {
    let (provider, key) = parse_name(name)?;
    let config = Config::from_env()?;
    let prepared = crate::prepare(config).await?;
    let service = prepared.state.integrations_service();
    if service.test_cases(provider, &key).await?.is_empty() {
        return Err(IntegrationCliError::NoCases);
    }
    let revision = if newest {
        Revision::Newest
    } else {
        Revision::Running
    };
    Ok(service
        .run_test_cases(CLI_ACTOR, provider, &key, revision)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_integration_is_named_provider_slash_key() {
        assert_eq!(
            parse_name("crm/abc").unwrap(),
            (Provider::Crm, "abc".to_owned())
        );
        for wrong in ["abc", "pbx/abc", "crm/"] {
            assert!(matches!(
                parse_name(wrong),
                Err(IntegrationCliError::Name(_))
            ));
        }
    }
}
