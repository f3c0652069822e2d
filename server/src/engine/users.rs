//! CRM user sync (README "CRM user sync"): the UserAssociation request page by page as the
//! template's pagination says (`core::pagination` decides each step), every user read with
//! its id. Nothing is stored here: the caller applies the users only when every page was
//! read, so a sync that fails halfway changes nothing.

use std::collections::BTreeMap;

use app::lang::gjson;
use url::Url;

use super::core::pagination::{after_page, link_header_next, Pagination, Stop};
use super::core::request::GlobalHeaders;
use super::core::Variables;
use super::runner::{Runner, StepError};

/// The outputs a user is built from.
pub const USER_ID_OUTPUT: &str = "UserUniqueId";

/// One CRM user as the template reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrmUser {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

/// Every user the CRM listed, by id (a user listed twice counts once, the later wins).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedUsers {
    pub users: BTreeMap<String, CrmUser>,
    pub pages: usize,
    pub stop: Stop,
}

/// How far a sync has come, for the page's progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncProgress {
    pub pages: usize,
    pub users: usize,
}

impl Runner<'_> {
    /// Reads every page of UserAssociation; `progress` hears after each page.
    pub async fn fetch_users(
        &self,
        variables: &Variables,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<FetchedUsers, StepError> {
        let fail = |step: &str, message: String| StepError::Template {
            step: step.to_owned(),
            message,
        };
        let scenario = self.view.scenario("UserAssociation").ok_or_else(|| {
            fail(
                "UserAssociation",
                "the template has no UserAssociation scenario".into(),
            )
        })?;
        let request = scenario
            .request("UserAssociation")
            .or_else(|| scenario.requests.first())
            .ok_or_else(|| fail("UserAssociation", "the scenario has no request".into()))?;
        let step = format!("UserAssociation/{}", request.name);
        let pagination = Pagination::read(scenario).map_err(|message| fail(&step, message))?;
        let base = self
            .render_url("UserAssociation", request, variables)
            .map_err(|message| fail(&step, message))?
            .ok_or_else(|| fail(&step, "its URL renders empty".into()))?;
        let mut current = pagination.page_url(&base, 0);
        let mut visited = Vec::new();
        let mut users = BTreeMap::new();
        for n in 0.. {
            let received = self
                .send_to(
                    "UserAssociation",
                    request,
                    variables,
                    GlobalHeaders::Apply,
                    Some(&current),
                )
                .await?
                .ok_or_else(|| fail(&step, "its URL renders empty".into()))?;
            let results = self.read("UserAssociation", request, &received, variables)?;
            let on_page = results.len();
            for (i, result) in results.into_iter().enumerate() {
                let text = |name: &str| result.get(name).cloned().unwrap_or_default();
                let id = text(USER_ID_OUTPUT);
                if id.trim().is_empty() {
                    let message = format!(
                        "user {} of page {} has no {USER_ID_OUTPUT} (the path of that output finds nothing for it)",
                        i + 1,
                        n + 1
                    );
                    let error = fail(&step, message);
                    self.trace_failure(&error);
                    return Err(error);
                }
                users.insert(
                    id.clone(),
                    CrmUser {
                        id,
                        first_name: text("FirstName"),
                        last_name: text("LastName"),
                        email: text("Email"),
                    },
                );
            }
            progress(SyncProgress {
                pages: n + 1,
                users: users.len(),
            });
            visited.push(current.clone());
            // Link mode: the path into the answer first, then the `Link` header.
            let next_link = match &pagination {
                Pagination::Link { path } => Some(path.as_str())
                    .filter(|path| !path.is_empty())
                    .map(|path| gjson::get(&received.body, path).string().into_owned())
                    .filter(|link| !link.trim().is_empty())
                    .or_else(|| {
                        received
                            .link
                            .as_deref()
                            .and_then(link_header_next)
                            .map(str::to_owned)
                    }),
                _ => None,
            };
            match after_page(
                &pagination,
                &base,
                &current,
                n,
                on_page,
                next_link.as_deref(),
                &visited,
            )
            .map_err(|message| fail(&step, message))?
            {
                Ok(next) => current = next,
                Err(stop) => {
                    return Ok(FetchedUsers {
                        users,
                        pages: n + 1,
                        stop,
                    })
                }
            }
        }
        unreachable!("the loop above returns")
    }

    /// The request's URL as rendered (without a token: a URL carries none), `None` when
    /// it renders empty.
    fn render_url(
        &self,
        scenario: &str,
        request: &app::template::model::RequestView,
        variables: &Variables,
    ) -> Result<Option<Url>, String> {
        let token = self.credentials.fixed_access_token.as_deref().or(Some(""));
        self.context(variables, token)
            .render(scenario, request, GlobalHeaders::Apply)
            .map(|rendered| rendered.map(|r| r.url))
            .map_err(|e| e.to_string())
    }
}
