//! Activity (README "Activity"): the call queue (`queue`), then the recent scenario runs of
//! every integration, newest first, filterable by integration, scenario, outcome and the
//! layer a failure came from (fault). The
//! record is bounded on the server (a row count and an age per integration).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::activity::{ActivityFilter, Fault, Outcome};
use crate::api::integrations::list_activity;
use crate::components::frame::Frame;
use crate::components::loaded::Loaded;
use crate::components::page_data::page_data;
use crate::console::CONSOLE_SCENARIOS;

#[component]
pub fn ActivityPage() -> impl IntoView {
    let filter = RwSignal::new(ActivityFilter::default());
    let rows = page_data(
        move || filter.get(),
        |f| list_activity(f.integration, f.scenario, f.outcome, f.fault, f.before),
    );
    let set = move |apply: fn(&mut ActivityFilter, String)| {
        move |e: leptos::ev::Event| {
            let value = event_target_value(&e);
            filter.update(|f| {
                apply(f, value);
                f.before = None;
            })
        }
    };
    view! {
        <Frame>
            <Title text="Activity" />
            <h1>"Activity"</h1>
            <super::queue::QueueSection />
            <h2>"Runs"</h2>
            <Loaded resource=rows loading="Loading activity…" then=move |page| {
                    let older = page.rows.last().map(|r| r.id).filter(|_| page.more);
                    view! {
                        <p class="help">{format!("Kept: the last {} runs of each integration, at most {} days.", page.keep_rows, page.keep_days)}</p>
                        <div class="filters">
                            <label for="filter-integration">"Integration"</label>
                            <select id="filter-integration" prop:value=move || filter.get().integration on:change=set(|f, v| f.integration = v)>
                                <option value="">"All"</option>
                                {page.integrations.iter().map(|(handle, name)| view! { <option value=handle.clone()>{name.clone()}</option> }).collect_view()}
                            </select>
                            <label for="filter-scenario">"Scenario"</label>
                            <select id="filter-scenario" prop:value=move || filter.get().scenario on:change=set(|f, v| f.scenario = v)>
                                <option value="">"All"</option>
                                {CONSOLE_SCENARIOS.iter().map(|s| view! { <option value=*s>{*s}</option> }).collect_view()}
                            </select>
                            <label for="filter-outcome">"Outcome"</label>
                            <select id="filter-outcome" prop:value=move || filter.get().outcome on:change=set(|f, v| f.outcome = v)>
                                <option value="">"All"</option>
                                {Outcome::ALL.iter().map(|o| view! { <option value=o.as_str()>{o.as_str()}</option> }).collect_view()}
                            </select>
                            <label for="filter-fault">"Fault"</label>
                            <select id="filter-fault" prop:value=move || filter.get().fault on:change=set(|f, v| f.fault = v)>
                                <option value="">"Any"</option>
                                {Fault::ALL.iter().map(|f| view! { <option value=f.as_str()>{f.label()}</option> }).collect_view()}
                            </select>
                        </div>
                        {if page.rows.is_empty() {
                            view! { <p class="empty">"Nothing ran yet."</p> }.into_any()
                        } else {
                            view! {
                                <table class="table" data-testid="activity">
                                    <thead><tr><th>"Time"</th><th>"Integration"</th><th>"Scenario"</th><th>"From"</th><th>"Outcome"</th><th>"Fault"</th><th>"Status"</th><th>"Requests"</th><th>"Duration"</th><th>"Found / error"</th></tr></thead>
                                    <tbody>
                                        {page.rows.into_iter().map(|row| view! {
                                            <tr>
                                                <td>{crate::pages::templates::format_time_ms(row.at)}</td>
                                                <td>{row.integration}</td>
                                                <td>{row.scenario}</td>
                                                <td>{row.origin}</td>
                                                <td><span class=format!("outcome outcome-{}", row.outcome.as_str())>{row.outcome.as_str()}</span></td>
                                                <td>{row.fault.map(Fault::label).unwrap_or_default()}</td>
                                                <td>{row.status.map(|s| s.to_string()).unwrap_or_default()}</td>
                                                <td>{row.requests}</td>
                                                <td>{format!("{} ms", row.duration_ms)}</td>
                                                <td class="error-cell">{row.error.or(row.detail).unwrap_or_default()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                        {older.map(|id| view! {
                            <button class="button" type="button" on:click=move |_| filter.update(|f| f.before = Some(id))>"Older"</button>
                        })}
                    }.into_any()
                }
            />
        </Frame>
    }
}
