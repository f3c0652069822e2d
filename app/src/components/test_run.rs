//! A test run's results (README "Test cases"): each case passed or failed, and for a
//! failure what was expected and what the run showed. The integration's Test cases section
//! and Apply's stop show it alike.

use leptos::prelude::*;

use crate::test_cases::{Check, TestRun};

#[component]
pub fn TestRunReport(run: TestRun) -> impl IntoView {
    let failed = run.failed();
    let total = run.results.len();
    let summary = if failed == 0 {
        format!(
            "All {total} test cases passed against revision {}.",
            run.revision
        )
    } else {
        format!(
            "{failed} of {total} test cases failed against revision {}.",
            run.revision
        )
    };
    let summary_class = if failed == 0 {
        "notice"
    } else {
        "notice error"
    };
    view! {
        <div class="test-run" data-testid="test-run">
            <p role="status" class=summary_class>{summary}</p>
            <ul class="plain">
                {run
                    .results
                    .into_iter()
                    .map(|result| {
                        let verdict = if result.passed { "Passed" } else { "Failed" };
                        let class = if result.passed { "status status-ok" } else { "status status-error" };
                        let dry = result.dry_run.then_some(" (dry run: it writes)");
                        let failures: Vec<Check> = result
                            .checks
                            .into_iter()
                            .filter(|c| c.passed == Some(false))
                            .collect();
                        view! {
                            <li data-testid="case-result">
                                <span class=class>{verdict}</span>
                                " "
                                <strong>{result.name}</strong>
                                <span class="help">" " {result.scenario} {dry}</span>
                                {(!failures.is_empty())
                                    .then(|| {
                                        view! {
                                            <table class="table compact">
                                                <thead>
                                                    <tr>
                                                        <th scope="col">"Expected"</th>
                                                        <th scope="col">"Got"</th>
                                                    </tr>
                                                </thead>
                                                <tbody>
                                                    {failures
                                                        .into_iter()
                                                        .map(|check| {
                                                            view! {
                                                                <tr>
                                                                    <td>{check.expectation.describe()}</td>
                                                                    <td><code>{check.got}</code></td>
                                                                </tr>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </tbody>
                                            </table>
                                        }
                                    })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
}
