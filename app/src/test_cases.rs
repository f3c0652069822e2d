//! An integration's test cases (README "Test cases"): a console input and what must hold,
//! checked against a run's report. Pure and shared: the page, the server, the REST API and
//! `patchbay integration test` judge a run alike.

use serde::{Deserialize, Serialize};

use crate::console::{ConsoleInput, RunReport};
use crate::lang::gjson;

/// How many test cases an integration keeps.
pub const MAX_TEST_CASES: usize = 50;
/// How many expectations one case holds.
pub const MAX_EXPECTATIONS: usize = 20;
/// A case's name, and each expected text, at most this many characters.
pub const MAX_CASE_NAME_CHARS: usize = 100;
pub const MAX_EXPECTED_CHARS: usize = 1_000;
/// How many of a found contact's fields, or of a request body's fields, a case saved from a
/// console run expects.
const SAVED_FIELDS: usize = 8;

/// Whether a scenario writes to the CRM: its cases run dry (rendered, nothing sent), so
/// running them, before Apply too, never creates a record.
pub fn writes(scenario: &str) -> bool {
    matches!(
        scenario,
        "CreateNewContact" | "CallJournal" | "CreateNewTicket" | "FollowUp"
    )
}

/// One thing a run must show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Expectation {
    /// The run ends without an error.
    Succeeds,
    /// The run ends with an error.
    Fails,
    /// A lookup finds a contact.
    ContactFound,
    /// A lookup finds nobody.
    NotFound,
    /// An output (a found contact's field, or a variable the run produced) reads `value`.
    Output { name: String, value: String },
    /// The found contact's popup URL.
    PopupUrl { value: String },
    /// A request sent (or, dry, rendered) carries `value`: at the GJSON `path` of its JSON
    /// body, or anywhere in its URL or body when `path` is empty.
    Sent { path: String, value: String },
    /// The last answer's HTTP status.
    Status { code: u16 },
}

impl Expectation {
    /// How the page and the report say it.
    pub fn describe(&self) -> String {
        match self {
            Expectation::Succeeds => "succeeds".into(),
            Expectation::Fails => "fails".into(),
            Expectation::ContactFound => "finds a contact".into(),
            Expectation::NotFound => "finds nobody".into(),
            Expectation::Output { name, value } => format!("{name} is \u{201c}{value}\u{201d}"),
            Expectation::PopupUrl { value } => format!("popup URL is \u{201c}{value}\u{201d}"),
            Expectation::Sent { path, value } if path.is_empty() => {
                format!("a request carries \u{201c}{value}\u{201d}")
            }
            Expectation::Sent { path, value } => {
                format!("a request body's {path} is \u{201c}{value}\u{201d}")
            }
            Expectation::Status { code } => format!("the CRM answers HTTP {code}"),
        }
    }

    /// Whether a dry run (nothing sent) can tell.
    fn checkable_dry(&self) -> bool {
        matches!(
            self,
            Expectation::Sent { .. } | Expectation::Succeeds | Expectation::Fails
        )
    }

    fn texts(&self) -> Vec<&str> {
        match self {
            Expectation::Output { name, value } | Expectation::Sent { path: name, value } => {
                vec![name, value]
            }
            Expectation::PopupUrl { value } => vec![value],
            _ => Vec::new(),
        }
    }
}

/// A case to save.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct NewTestCase {
    pub name: String,
    pub input: ConsoleInput,
    pub expect: Vec<Expectation>,
}

impl NewTestCase {
    /// What is wrong with it, naming the field; `None` when it may be saved.
    pub fn problem(&self) -> Option<(String, String)> {
        let name = self.name.trim();
        if name.is_empty() {
            return Some(("Name".into(), "give the case a name".into()));
        }
        if name.chars().count() > MAX_CASE_NAME_CHARS {
            return Some((
                "Name".into(),
                format!("at most {MAX_CASE_NAME_CHARS} characters"),
            ));
        }
        if !crate::console::CONSOLE_SCENARIOS.contains(&self.input.scenario.as_str()) {
            return Some((
                "Scenario".into(),
                format!(
                    "{:?} is not a scenario the console runs",
                    self.input.scenario
                ),
            ));
        }
        if self.expect.is_empty() {
            return Some((
                "Expectations".into(),
                "say at least one thing the run must show".into(),
            ));
        }
        if self.expect.len() > MAX_EXPECTATIONS {
            return Some(("Expectations".into(), format!("at most {MAX_EXPECTATIONS}")));
        }
        for (n, expectation) in self.expect.iter().enumerate() {
            if expectation
                .texts()
                .iter()
                .any(|t| t.chars().count() > MAX_EXPECTED_CHARS)
            {
                return Some((
                    format!("Expectation {}", n + 1),
                    format!("at most {MAX_EXPECTED_CHARS} characters"),
                ));
            }
            if let Expectation::Output { name, .. } = expectation {
                if name.trim().is_empty() {
                    return Some((format!("Expectation {}", n + 1), "name the output".into()));
                }
            }
        }
        None
    }

    /// A case from a console run: its input, and what the run showed as what must hold.
    pub fn from_run(name: String, input: &ConsoleInput, report: &RunReport) -> Self {
        Self {
            name,
            input: ConsoleInput {
                dry_run: false,
                ..input.clone()
            },
            expect: expectations_from(report),
        }
    }
}

/// What a run showed, as expectations (the console's "Save as test case").
pub fn expectations_from(report: &RunReport) -> Vec<Expectation> {
    let mut expect = vec![if report.error.is_some() {
        Expectation::Fails
    } else {
        Expectation::Succeeds
    }];
    if report.error.is_some() {
        return expect;
    }
    let lookup = matches!(
        report.scenario.as_str(),
        "SyncContactAuto" | "SearchContact"
    );
    match &report.contact {
        Some(contact) => {
            expect.push(Expectation::ContactFound);
            // Ids and names first: what an author checks.
            let mut fields: Vec<_> = contact.fields.iter().collect();
            fields.sort_by_key(|(name, _)| !(name.ends_with("Id") || name.contains("Name")));
            expect.extend(fields.into_iter().take(SAVED_FIELDS).map(|(name, value)| {
                Expectation::Output {
                    name: name.clone(),
                    value: value.clone(),
                }
            }));
            if let Some(url) = &contact.popup_url {
                expect.push(Expectation::PopupUrl { value: url.clone() });
            }
        }
        None if lookup && !report.dry_run => expect.push(Expectation::NotFound),
        None => {}
    }
    if writes(&report.scenario) {
        // The fields of the first request's JSON body, as rendered.
        if let Some(body) = report.steps.first().and_then(|s| s.request.body.as_deref()) {
            let top = gjson::parse(body);
            let mut saved = 0;
            top.for_each(|key, value| {
                if matches!(value.kind(), gjson::Kind::String | gjson::Kind::Number) {
                    expect.push(Expectation::Sent {
                        path: key.string().replace('.', "\\."),
                        value: value.string().into_owned(),
                    });
                    saved += 1;
                }
                saved < SAVED_FIELDS
            });
        }
    }
    if !report.dry_run {
        if let Some(status) = report
            .steps
            .last()
            .and_then(|s| s.response.as_ref())
            .map(|r| r.status)
        {
            expect.push(Expectation::Status { code: status });
        }
    }
    expect
}

/// One expectation's verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Check {
    pub expectation: Expectation,
    /// `None`: a dry run cannot tell (nothing was answered).
    pub passed: Option<bool>,
    /// What the run showed instead, when it did not hold.
    pub got: String,
}

/// Judges `report` against `expect`.
pub fn check(expect: &[Expectation], report: &RunReport) -> Vec<Check> {
    expect
        .iter()
        .map(|expectation| {
            if report.dry_run && !expectation.checkable_dry() {
                return Check {
                    expectation: expectation.clone(),
                    passed: None,
                    got: "not checked: the case writes, so it runs dry".into(),
                };
            }
            let got = shown(expectation, report);
            let passed = match (expectation, &got) {
                (Expectation::Succeeds, _) => report.error.is_none(),
                (Expectation::Fails, _) => report.error.is_some(),
                (Expectation::ContactFound, _) => report.contact.is_some(),
                (Expectation::NotFound, _) => report.error.is_none() && report.contact.is_none(),
                (Expectation::Output { value, .. }, got)
                | (Expectation::PopupUrl { value }, got) => got.as_deref() == Some(value),
                (Expectation::Sent { value, .. }, got) => got.as_deref() == Some(value),
                (Expectation::Status { code }, got) => got.as_deref() == Some(&code.to_string()),
            };
            Check {
                expectation: expectation.clone(),
                passed: Some(passed),
                got: if passed {
                    String::new()
                } else {
                    got.unwrap_or_else(|| nothing_shown(expectation, report))
                },
            }
        })
        .collect()
}

/// What the run shows for the expectation's subject, when it shows something.
fn shown(expectation: &Expectation, report: &RunReport) -> Option<String> {
    match expectation {
        Expectation::Output { name, .. } => report
            .contact
            .as_ref()
            .and_then(|c| c.fields.get(name))
            .or_else(|| report.outputs.get(name))
            .cloned(),
        Expectation::PopupUrl { .. } => report.contact.as_ref().and_then(|c| c.popup_url.clone()),
        Expectation::Sent { path, value } => {
            let requests = report.steps.iter().map(|s| &s.request);
            if path.is_empty() {
                let carried = requests.clone().any(|r| {
                    r.url.contains(value.as_str())
                        || r.body
                            .as_deref()
                            .is_some_and(|b| b.contains(value.as_str()))
                });
                return carried.then(|| value.clone());
            }
            let read: Vec<String> = requests
                .filter_map(|r| r.body.as_deref())
                .map(|body| gjson::get(body, path))
                .filter(|v| v.exists())
                .map(|v| v.string().into_owned())
                .collect();
            read.iter().find(|v| *v == value).or(read.first()).cloned()
        }
        Expectation::Status { .. } => report
            .steps
            .last()
            .and_then(|s| s.response.as_ref())
            .map(|r| r.status.to_string()),
        Expectation::Succeeds | Expectation::Fails => None,
        Expectation::ContactFound | Expectation::NotFound => None,
    }
}

/// What the report says when the subject was not there.
fn nothing_shown(expectation: &Expectation, report: &RunReport) -> String {
    match (expectation, &report.error, &report.contact) {
        (_, Some(error), _) => format!("the run failed: {error}"),
        (Expectation::Fails, None, _) => "the run succeeded".into(),
        (Expectation::NotFound, None, Some(contact)) => {
            format!("found a {}", contact.contact_type)
        }
        (Expectation::Output { name, .. }, None, _) => format!("{name} read nothing"),
        (Expectation::Sent { path, .. }, None, _) if !path.is_empty() => {
            format!("no request body has {path}")
        }
        (Expectation::Sent { .. }, None, _) => "no request carries it".into(),
        (Expectation::Status { .. }, None, _) => "no answer".into(),
        (_, None, None) => "found nobody".into(),
        (_, None, Some(_)) => "nothing".into(),
    }
}

/// A saved case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TestCase {
    pub id: i32,
    pub name: String,
    pub input: ConsoleInput,
    pub expect: Vec<Expectation>,
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The last run's result.
    pub last: Option<CaseResult>,
}

/// One case run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CaseResult {
    pub case_id: i32,
    pub name: String,
    pub scenario: String,
    /// Run dry (the scenario writes).
    pub dry_run: bool,
    pub passed: bool,
    pub checks: Vec<Check>,
    /// The revision of the template it ran.
    pub revision: i32,
    /// Unix seconds.
    pub at: i64,
}

impl CaseResult {
    /// A case passes when nothing that was checked failed.
    pub fn judge(checks: &[Check]) -> bool {
        checks.iter().all(|c| c.passed != Some(false))
    }
}

/// Every case of an integration run against one revision.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TestRun {
    pub revision: i32,
    pub results: Vec<CaseResult>,
}

impl TestRun {
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| !r.passed).count()
    }

    pub fn passed(&self) -> bool {
        self.failed() == 0
    }

    /// The report `patchbay integration test` prints, and Apply's refusal names.
    pub fn report(&self) -> String {
        let mut text = String::new();
        for result in &self.results {
            let verdict = if result.passed { "pass" } else { "FAIL" };
            let dry = if result.dry_run { " (dry run)" } else { "" };
            text.push_str(&format!(
                "{verdict}  {} [{}]{dry}\n",
                result.name, result.scenario
            ));
            for check in result.checks.iter().filter(|c| c.passed == Some(false)) {
                text.push_str(&format!(
                    "      expected: {}\n      got:      {}\n",
                    check.expectation.describe(),
                    check.got
                ));
            }
        }
        text.push_str(&format!(
            "{} of {} passed against revision {}\n",
            self.results.len() - self.failed(),
            self.results.len(),
            self.revision
        ));
        text
    }
}

/// What Apply did: moved the integration to `applied`, or stopped because test cases
/// failed against the new revision (`tests` says which).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApplyResult {
    pub applied: Option<i32>,
    pub tests: Option<TestRun>,
    /// Applied although cases failed (an administrator said so; recorded in Activity).
    pub overridden: bool,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::console::{FoundContact, ShownRequest, ShownResponse, TraceStep};

    fn step(body: Option<&str>, status: Option<u16>) -> TraceStep {
        TraceStep {
            step: "CallJournal/Request".into(),
            request: ShownRequest {
                method: "POST".into(),
                url: "https://crm.example.com/calls?x=1".into(),
                headers: Vec::new(),
                body: body.map(str::to_owned),
                folded: false,
            },
            response: status.map(|status| ShownResponse {
                status,
                content_type: None,
                body: String::new(),
                folded: false,
            }),
            outputs: BTreeMap::new(),
            elapsed_ms: 1,
            error: None,
        }
    }

    fn found(id: &str) -> RunReport {
        RunReport {
            scenario: "SyncContactAuto".into(),
            steps: vec![step(None, Some(200))],
            contact: Some(FoundContact {
                contact_type: "Contact".into(),
                fields: BTreeMap::from([
                    ("ContactId".into(), id.into()),
                    ("ContactName".into(), "Ann".into()),
                ]),
                popup_url: Some(format!("https://crm.example.com/c/{id}")),
            }),
            ..RunReport::default()
        }
    }

    #[test]
    fn a_lookup_saved_as_a_case_passes_on_the_same_answer_and_fails_on_another() {
        let expect = expectations_from(&found("7"));
        assert!(expect.contains(&Expectation::Output {
            name: "ContactId".into(),
            value: "7".into()
        }));
        assert!(expect.contains(&Expectation::Status { code: 200 }));
        assert!(CaseResult::judge(&check(&expect, &found("7"))));
        let checks = check(&expect, &found("8"));
        assert!(!CaseResult::judge(&checks));
        let failed: Vec<_> = checks.iter().filter(|c| c.passed == Some(false)).collect();
        assert_eq!(failed.len(), 2, "{failed:?}");
        assert_eq!(failed[0].got, "8");
    }

    #[test]
    fn nobody_found_is_a_case_too() {
        let nobody = RunReport {
            scenario: "SyncContactAuto".into(),
            steps: vec![step(None, Some(200))],
            ..RunReport::default()
        };
        let expect = expectations_from(&nobody);
        assert!(expect.contains(&Expectation::NotFound));
        let checks = check(&expect, &found("1"));
        let not_found = checks
            .iter()
            .find(|c| c.expectation == Expectation::NotFound)
            .unwrap();
        assert_eq!(not_found.passed, Some(false));
        assert_eq!(not_found.got, "found a Contact");
    }

    #[test]
    fn a_writing_case_checks_what_it_rendered_and_leaves_answers_unchecked() {
        let journal = RunReport {
            scenario: "CallJournal".into(),
            dry_run: true,
            steps: vec![step(
                Some(r#"{"subject":"Call with Ann","duration":42,"a.b":"x"}"#),
                None,
            )],
            ..RunReport::default()
        };
        let mut expect = expectations_from(&journal);
        assert!(expect.contains(&Expectation::Sent {
            path: "subject".into(),
            value: "Call with Ann".into()
        }));
        assert!(expect.contains(&Expectation::Sent {
            path: "a\\.b".into(),
            value: "x".into()
        }));
        expect.push(Expectation::Status { code: 201 });
        let checks = check(&expect, &journal);
        assert!(CaseResult::judge(&checks));
        assert_eq!(checks.last().unwrap().passed, None);
        let renamed = RunReport {
            steps: vec![step(
                Some(r#"{"title":"Call with Ann","duration":42}"#),
                None,
            )],
            ..journal
        };
        let checks = check(&expect, &renamed);
        let subject = checks
            .iter()
            .find(|c| matches!(&c.expectation, Expectation::Sent { path, .. } if path == "subject"))
            .unwrap();
        assert_eq!(subject.passed, Some(false));
        assert_eq!(subject.got, "no request body has subject");
    }

    #[test]
    fn an_unnamed_or_oversized_case_is_refused_naming_the_field() {
        let mut case = NewTestCase {
            name: " ".into(),
            input: ConsoleInput {
                scenario: "SyncContactAuto".into(),
                ..ConsoleInput::default()
            },
            expect: vec![Expectation::Succeeds],
        };
        assert_eq!(case.problem().unwrap().0, "Name");
        case.name = "Known number".into();
        assert_eq!(case.problem(), None);
        case.expect.push(Expectation::PopupUrl {
            value: "x".repeat(MAX_EXPECTED_CHARS + 1),
        });
        assert_eq!(case.problem().unwrap().0, "Expectation 2");
        case.expect = vec![Expectation::Succeeds; MAX_EXPECTATIONS + 1];
        assert_eq!(case.problem().unwrap().0, "Expectations");
        case.expect = vec![Expectation::Succeeds];
        case.input.scenario = "DropTables".into();
        assert_eq!(case.problem().unwrap().0, "Scenario");
    }
}
