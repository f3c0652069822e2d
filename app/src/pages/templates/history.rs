//! Templates › a template's History (README "Revisions and rollback"): every kept revision
//! with who saved it and when, and any two side by side. Administrators only.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{format_time, provider_label};
use crate::api::templates::{load_revision_diff, load_template_history};
use crate::components::frame::Frame;
use crate::components::loaded::Loaded;
use crate::components::page_data::page_data;
use crate::history::{Change, DiffRow, RevisionDiff, TemplateHistory, MAX_KEPT_REVISIONS};
use crate::template::model::Provider;
use crate::viewer::Viewer;

#[component]
pub fn TemplateHistoryPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let target = crate::pages::provider_and_key();
    view! {
        <Frame>
            {move || match target() {
                Some((provider, key)) if viewer.is_admin() => view! { <History provider key /> }.into_any(),
                _ => view! {
                    <Title text="Template history" />
                    <h1>"Template history"</h1>
                    <p class="notice" role="alert">"Only administrators see a template's revisions."</p>
                }
                .into_any(),
            }}
        </Frame>
    }
}

#[component]
fn History(provider: Provider, key: String) -> impl IntoView {
    let key = StoredValue::new(key);
    let history = page_data(
        || (),
        move |_| load_template_history(provider.as_str().to_string(), key.get_value()),
    );
    let label = provider_label(provider);
    let back = format!("/templates/{}", provider.as_str());
    view! {
        <Title text="Template history" />
        <p class="breadcrumb"><a href=back>{format!("Templates › {label}")}</a></p>
        <Loaded resource=history loading="Loading the revisions…" then=move |history| {
            view! { <Revisions provider key=key.get_value() history /> }
        } />
    }
}

#[component]
fn Revisions(provider: Provider, key: String, history: TemplateHistory) -> impl IntoView {
    let newest = history.revisions.first().map_or(0, |r| r.revision);
    let before = history
        .previous
        .or_else(|| history.revisions.get(1).map(|r| r.revision))
        .unwrap_or(newest);
    let from = RwSignal::new(before);
    let to = RwSignal::new(history.running.filter(|r| *r != before).unwrap_or(newest));
    let key = StoredValue::new(key);
    let diff = page_data(
        move || (from.get(), to.get()),
        move |(from, to)| {
            load_revision_diff(provider.as_str().to_string(), key.get_value(), from, to)
        },
    );
    let numbers: Vec<i32> = history.revisions.iter().map(|r| r.revision).collect();
    let picker = move |id: &'static str, label: &'static str, chosen: RwSignal<i32>| {
        let numbers = numbers.clone();
        view! {
            <label for=id>{label}</label>
            <select id=id prop:value=move || chosen.get().to_string() on:change=move |e| {
                if let Ok(n) = event_target_value(&e).parse() {
                    chosen.set(n);
                }
            }>
                {numbers.into_iter().map(|n| view! { <option value=n.to_string()>{format!("revision {n}")}</option> }).collect_view()}
            </select>
        }
    };
    let running = history.running;
    let previous = history.previous;
    view! {
        <h1>{format!("History of \u{201c}{}\u{201d}", history.name)}</h1>
        <p class="help">{format!("The last {MAX_KEPT_REVISIONS} saved revisions are kept, and the ones the integration runs and ran before.")}</p>
        <table class="table" data-testid="revisions">
            <thead>
                <tr>
                    <th scope="col">"Revision"</th>
                    <th scope="col">"Saved"</th>
                    <th scope="col">"By"</th>
                    <th scope="col">"Integration"</th>
                </tr>
            </thead>
            <tbody>
                {history.revisions.into_iter().map(|r| {
                    let note = if Some(r.revision) == running {
                        "runs it"
                    } else if Some(r.revision) == previous {
                        "ran it before"
                    } else {
                        ""
                    };
                    view! {
                        <tr>
                            <td>{r.revision}</td>
                            <td>{format_time(r.saved_at)}</td>
                            <td>{if r.author.is_empty() { "(before history was kept)".to_string() } else { r.author }}</td>
                            <td>{note}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <section class="card" aria-labelledby="diff-title">
            <h2 id="diff-title">"Differences"</h2>
            <div class="form-inline">
                {picker("diff-from", "From", from)}
                {picker("diff-to", "to", to)}
            </div>
            <Loaded resource=diff loading="Comparing…" then=move |diff| view! { <DiffTable diff /> } />
        </section>
    }
}

#[component]
fn DiffTable(diff: RevisionDiff) -> impl IntoView {
    if diff.rows.is_empty() {
        return view! { <p class="help" role="status">"The two revisions are the same."</p> }
            .into_any();
    }
    let side = |line: Option<(usize, String)>| match line {
        Some((n, text)) => {
            view! { <td class="line-number">{n}</td><td><code>{text}</code></td> }.into_any()
        }
        None => view! { <td class="line-number"></td><td></td> }.into_any(),
    };
    view! {
        <p role="status">{format!("{} line(s) added, {} removed from revision {} to {}.", diff.added, diff.removed, diff.from, diff.to)}</p>
        <table class="table diff" data-testid="diff">
            <thead>
                <tr>
                    <th scope="col" class="line-number">"#"</th>
                    <th scope="col">{format!("Revision {}", diff.from)}</th>
                    <th scope="col" class="line-number">"#"</th>
                    <th scope="col">{format!("Revision {}", diff.to)}</th>
                </tr>
            </thead>
            <tbody>
                {diff.rows.into_iter().map(|DiffRow { change, left, right }| {
                    if change == Change::Folded {
                        return view! { <tr class="diff-folded"><td colspan="4">"\u{22ef}"</td></tr> }.into_any();
                    }
                    let class = match change {
                        Change::Removed => "diff-removed",
                        Change::Added => "diff-added",
                        Change::Changed => "diff-changed",
                        _ => "",
                    };
                    view! { <tr class=class>{side(left)}{side(right)}</tr> }.into_any()
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
