use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::frame::Frame;
use crate::viewer::Viewer;

#[component]
pub fn HomePage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let (email, role) = viewer
        .user
        .as_ref()
        .map(|u| (u.email.clone(), u.role.as_str()))
        .unwrap_or_default();
    let admin_hint = viewer.is_admin().then(|| {
        view! {
            <section class="card">
                <h2>"Accounts"</h2>
                <p>
                    "Create accounts for the people who connect integrations, disable them when they leave, and reset forgotten passwords."
                </p>
                <a class="button button-primary" href="/accounts">
                    "Manage accounts"
                </a>
            </section>
        }
    });
    view! {
        <Title text="Overview" />
        <Frame>
            <h1>"Overview"</h1>
            <p class="lead">
                "Signed in as " <strong>{email}</strong> " (" {role} ")."
            </p>
            {admin_hint}
        </Frame>
    }
}
