//! The line under a list paged on the server: which rows are shown of how many, with
//! Previous and Next moving `offset` by a page.

use leptos::prelude::*;

#[component]
pub fn Pager(
    /// The first row shown, from 0.
    offset: u64,
    /// Rows on this page.
    shown: usize,
    /// Rows in all.
    total: u64,
    page_rows: u64,
    /// Set to the new first row when a button is pressed.
    set_offset: RwSignal<u64>,
) -> impl IntoView {
    let last = offset + shown as u64;
    view! {
        <div class="toolbar">
            <span class="help" data-testid="pager">{format!("{}–{last} of {total}", offset + 1)}</span>
            {(offset > 0).then(|| view! {
                <button class="button" type="button" on:click=move |_| set_offset.set(offset.saturating_sub(page_rows))>"Previous"</button>
            })}
            {(last < total).then(|| view! {
                <button class="button" type="button" on:click=move |_| set_offset.set(offset + page_rows)>"Next"</button>
            })}
        </div>
    }
}
