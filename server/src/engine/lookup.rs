//! A contact lookup against one connected integration (docs/scenarios.md,
//! "SyncContactAuto"): each contact type's request in order with `Phone`,
//! through the token keeper; the first type with a result wins; its first result is
//! completed by its Next Common request and given its popup URL (`core::contacts` decides
//! each step).
//!
//! A lookup is not retried: a person is waiting for the popup (docs/template-format.md "Requests").

use std::borrow::Cow;
use std::collections::BTreeMap;

use app::template::model::OutputView;

use super::core::contacts::{
    contact_types, fill_empty, next_request, popup_url, result_variables, uri_path, FoundContact,
    PHONE_VARIABLE,
};
use super::core::request::GlobalHeaders;
use super::core::Variables;
use super::runner::{Runner, StepError};

/// The output the ContactFieldForUri path is read into, beside the request's own.
const CONTACT_URI_OUTPUT: &str = "__contact_uri";

/// What a lookup found: the first contact of the first type with a result, and how many
/// results that type had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    pub contact: FoundContact,
    pub matches: usize,
}

impl Lookup {
    /// The contact variables later requests of the call render with (docs/variables.md
    /// "Contact variables"): the contact's fields, `ContactSyncType` and `ContactId`.
    pub fn variables(&self) -> Variables {
        result_variables(
            &Variables::new(),
            &self.contact.contact_type,
            &self.contact.fields,
        )
    }
}

impl Runner<'_> {
    /// Looks `phone` up in the contact types `selected` (all when empty), as received.
    pub async fn lookup(
        &self,
        variables: &Variables,
        phone: &str,
        selected: &[String],
    ) -> Result<Option<Lookup>, StepError> {
        let Some(scenario) = self.view.scenario("SyncContactAuto") else {
            return Ok(None);
        };
        let mut variables = variables.clone();
        variables.insert(PHONE_VARIABLE.into(), phone.to_owned());
        let uri = uri_path(scenario);
        for request in contact_types(self.view, selected) {
            // The ContactFieldForUri path is read beside the request's own outputs.
            let reading = match uri {
                Some(path) => {
                    let mut reading = request.clone();
                    reading.outputs.push(OutputView {
                        name: CONTACT_URI_OUTPUT.into(),
                        path: path.to_owned(),
                        kind: String::new(),
                    });
                    Cow::Owned(reading)
                }
                None => Cow::Borrowed(request),
            };
            let received = match self
                .send("SyncContactAuto", request, &variables, GlobalHeaders::Apply)
                .await
            {
                Ok(Some(received)) => received,
                // A search that found nothing, for some CRMs.
                Ok(None) | Err(StepError::Answer { status: 404, .. }) => continue,
                Err(error) => return Err(error),
            };
            let results = self.read("SyncContactAuto", &reading, &received, &variables)?;
            let found: Vec<_> = results
                .into_iter()
                .filter(|r| {
                    r.iter()
                        .any(|(k, v)| k != CONTACT_URI_OUTPUT && !v.is_empty())
                })
                .collect();
            let Some(mut first) = found.first().cloned() else {
                continue;
            };
            let next = next_request(self.view, request).map_err(|message| {
                let error = StepError::Template {
                    step: format!("SyncContactAuto/{}", request.name),
                    message,
                };
                self.trace_failure(&error);
                error
            })?;
            if let Some(next) = next {
                let own = result_variables(&variables, &request.name, &first);
                if let Some(received) = self
                    .send("Common", next, &own, GlobalHeaders::Apply)
                    .await?
                {
                    let more = self.read("Common", next, &received, &own)?;
                    if let Some(more) = more.first() {
                        fill_empty(&mut first, more);
                    }
                }
            }
            let from_contact = first.remove(CONTACT_URI_OUTPUT);
            let own = result_variables(&variables, &request.name, &first);
            let popup =
                popup_url(self.renderer, scenario, &own, from_contact.as_deref()).map_err(|e| {
                    StepError::Template {
                        step: "the popup URL".into(),
                        message: e.to_string(),
                    }
                })?;
            let fields: BTreeMap<String, String> =
                first.into_iter().filter(|(_, v)| !v.is_empty()).collect();
            return Ok(Some(Lookup {
                contact: FoundContact {
                    contact_type: request.name.clone(),
                    fields,
                    popup_url: popup,
                },
                matches: found.len(),
            }));
        }
        Ok(None)
    }
}
