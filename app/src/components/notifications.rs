//! Notifications sent, as a list (README "Notifications"): the Overview shows the
//! deployment's, an integration's page its own.

use leptos::prelude::*;

use crate::notifications::NotificationRow;
use crate::pages::templates::format_time;

#[component]
pub fn NotificationList(rows: Vec<NotificationRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="help">"None sent."</p> }.into_any();
    }
    view! {
        <ul class="plain notifications" data-testid="notifications">
            {rows.into_iter().map(|row| view! {
                <li>
                    <span class="help">{format_time(row.at.div_euclid(1000))} " "</span>
                    {row.integration.map(|name| view! { <strong>{name}</strong> " " })}
                    {row.message}
                    <span class="help">" \u{2014} " {row.delivery}</span>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}
