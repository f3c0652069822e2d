//! A contact lookup against one connected integration (docs/scenarios.md,
//! "SyncContactAuto"): for each number format the Features choose, each contact type's
//! request in order with `Phone`, through the token keeper; the rule for several matches
//! decides which contacts come back; each is completed by its Next Common request and
//! given its popup URL (`core::contacts` and `core::numbers` decide each step).
//!
//! A lookup is not retried: a person is waiting for the popup (docs/template-format.md "Requests").

use std::collections::BTreeMap;

use app::integrations::{ContactFeatures, MatchRule};
use app::template::model::{OutputView, RequestView, ScenarioView};

use super::core::contacts::{
    contact_types, enabled_outputs, fill_empty, found_nothing, next_request, popup_url,
    result_variables, shown_fields, uri_path, FoundContact, MAX_LISTED_MATCHES, PHONE_VARIABLE,
};
use super::core::numbers::Number;
use super::core::request::GlobalHeaders;
use super::core::Variables;
use super::runner::{Runner, StepError};

/// The output the ContactFieldForUri path is read into, beside the request's own.
const CONTACT_URI_OUTPUT: &str = "__contact_uri";

/// What to look up and how (the Features' "Synchronize Contacts Automatically").
#[derive(Clone, Debug)]
pub struct LookupPlan<'a> {
    /// The contact types to search (all when empty), in the template's order.
    pub contact_types: &'a [String],
    pub rule: MatchRule,
    /// The number in each format to try, in order.
    pub attempts: Vec<String>,
    /// `PhoneReceived`, `PhoneE164`, … for every request.
    pub number_variables: Variables,
    /// The key the contact cache files the number under.
    pub cache_key: String,
}

impl<'a> LookupPlan<'a> {
    pub fn new(features: &'a ContactFeatures, phone: &str) -> LookupPlan<'a> {
        let number = Number::read(phone, features);
        LookupPlan {
            contact_types: &features.contact_types,
            rule: features.several_matches,
            attempts: number.attempts(&features.number_formats),
            number_variables: number.variables(),
            cache_key: number.cache_key(),
        }
    }
}

/// What a lookup found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    /// The contact the call goes on with; `None` when several matched and the rule
    /// refuses to choose.
    pub contact: Option<FoundContact>,
    /// Every match for the agent to pick (`MatchRule::All`, at most
    /// [`MAX_LISTED_MATCHES`]); otherwise the contact alone.
    pub candidates: Vec<FoundContact>,
    /// How many contacts matched (for `First`, in the type that answered).
    pub matches: usize,
    /// The number as it was written when it matched.
    pub number: String,
    /// Taken from the contact cache: when the CRM was read (unix seconds).
    pub cached_at: Option<i64>,
}

impl Lookup {
    /// The contact variables later requests of the call render with (docs/variables.md
    /// "Contact variables"): the contact's fields, `ContactSyncType` and `ContactId`;
    /// none when no contact was chosen.
    pub fn variables(&self) -> Variables {
        self.contact
            .as_ref()
            .map(|contact| {
                result_variables(&Variables::new(), &contact.contact_type, &contact.fields)
            })
            .unwrap_or_default()
    }
}

/// A result of one contact type's request, before it is completed.
struct Match<'v> {
    request: &'v RequestView,
    result: BTreeMap<String, String>,
}

impl Runner<'_> {
    /// Looks the plan's numbers up in turn; the first format with a match answers.
    pub async fn lookup(
        &self,
        variables: &Variables,
        plan: &LookupPlan<'_>,
    ) -> Result<Option<Lookup>, StepError> {
        let Some(scenario) = self.view.scenario("SyncContactAuto") else {
            return Ok(None);
        };
        for number in &plan.attempts {
            let mut variables = variables.clone();
            variables.extend(plan.number_variables.clone());
            variables.insert(PHONE_VARIABLE.into(), number.clone());
            let (found, matches) = self.matches(scenario, &variables, plan).await?;
            if found.is_empty() {
                continue;
            }
            let chosen: &[Match] = match plan.rule {
                MatchRule::First => &found[..1],
                MatchRule::Refuse if matches > 1 => &[],
                MatchRule::Refuse => &found[..1],
                MatchRule::All => &found[..found.len().min(MAX_LISTED_MATCHES)],
            };
            let mut candidates = Vec::with_capacity(chosen.len());
            for found in chosen {
                candidates.push(self.complete(scenario, &variables, found).await?);
            }
            self.note(match (plan.rule, matches) {
                (_, 1) => "1 match".to_owned(),
                (MatchRule::First, n) => format!("{n} matches, the first taken"),
                (MatchRule::Refuse, n) => format!("{n} matches, none taken (several match)"),
                (MatchRule::All, n) => format!("{n} matches, {} listed", candidates.len()),
            });
            return Ok(Some(Lookup {
                contact: candidates.first().cloned(),
                candidates,
                matches,
                number: number.clone(),
                cached_at: None,
            }));
        }
        self.note("no match".to_owned());
        Ok(None)
    }

    /// The contact types' results for one number, in order; with `MatchRule::First` only
    /// the first type that has any is asked. Answers the results kept (at most
    /// [`MAX_LISTED_MATCHES`]) and how many there were.
    async fn matches<'v>(
        &'v self,
        scenario: &ScenarioView,
        variables: &Variables,
        plan: &LookupPlan<'_>,
    ) -> Result<(Vec<Match<'v>>, usize), StepError> {
        let uri = uri_path(scenario);
        let mut found = Vec::new();
        let mut count = 0;
        for request in contact_types(self.view, plan.contact_types) {
            let mut reading = enabled_outputs(scenario, request);
            // The ContactFieldForUri path is read beside the request's own outputs.
            if let Some(path) = uri {
                reading.outputs.push(OutputView {
                    name: CONTACT_URI_OUTPUT.into(),
                    path: path.to_owned(),
                    kind: String::new(),
                });
            }
            let received = match self
                .send("SyncContactAuto", request, variables, GlobalHeaders::Apply)
                .await
            {
                Ok(Some(received)) if !found_nothing(&received) => received,
                // A search that found nothing, for some CRMs (404, or Zoho's 204).
                Ok(_) | Err(StepError::Answer { status: 404, .. }) => continue,
                Err(error) => return Err(error),
            };
            let results = self.read("SyncContactAuto", &reading, &received, variables)?;
            let results: Vec<_> = results
                .into_iter()
                .filter(|r| {
                    r.iter()
                        .any(|(k, v)| k != CONTACT_URI_OUTPUT && !v.is_empty())
                })
                .collect();
            count += results.len();
            let room = MAX_LISTED_MATCHES.saturating_sub(found.len());
            found.extend(
                results
                    .into_iter()
                    .take(room)
                    .map(|result| Match { request, result }),
            );
            if plan.rule == MatchRule::First && count > 0 {
                break;
            }
        }
        Ok((found, count))
    }

    /// A match completed by its Next Common request, with its popup URL.
    async fn complete(
        &self,
        scenario: &ScenarioView,
        variables: &Variables,
        found: &Match<'_>,
    ) -> Result<FoundContact, StepError> {
        let request = found.request;
        let mut result = found.result.clone();
        let next = next_request(self.view, request).map_err(|message| {
            let error = StepError::Template {
                step: format!("SyncContactAuto/{}", request.name),
                message,
            };
            self.trace_failure(&error);
            error
        })?;
        if let Some(next) = next {
            let own = result_variables(variables, &request.name, &result);
            if let Some(received) = self
                .send("Common", next, &own, GlobalHeaders::Apply)
                .await?
            {
                let more = self.read("Common", next, &received, &own)?;
                if let Some(more) = more.first() {
                    fill_empty(&mut result, more);
                }
            }
        }
        let from_contact = result.remove(CONTACT_URI_OUTPUT);
        let own = result_variables(variables, &request.name, &result);
        let popup =
            popup_url(self.renderer, scenario, &own, from_contact.as_deref()).map_err(|e| {
                StepError::Template {
                    step: "the popup URL".into(),
                    message: e.to_string(),
                }
            })?;
        Ok(FoundContact {
            contact_type: request.name.clone(),
            fields: shown_fields(result),
            popup_url: popup,
        })
    }
}
