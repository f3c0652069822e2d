//! The page frame: left navigation, the signed-in account and sign-out.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::viewer::{Viewer, CSRF_FIELD};

struct NavLink {
    href: &'static str,
    label: &'static str,
    admin_only: bool,
    /// Agents see only these.
    for_agents: bool,
}

/// Only sections that exist are listed; later features add their entries here.
const NAV_LINKS: &[NavLink] = &[
    NavLink {
        href: "/",
        label: "Overview",
        admin_only: false,
        for_agents: false,
    },
    NavLink {
        href: "/calls",
        label: "Calls",
        admin_only: false,
        for_agents: true,
    },
    NavLink {
        href: "/templates/crm",
        label: "CRM templates",
        admin_only: true,
        for_agents: false,
    },
    NavLink {
        href: "/templates/helpdesk",
        label: "Helpdesk templates",
        admin_only: true,
        for_agents: false,
    },
    NavLink {
        href: "/integrations/crm",
        label: "CRM integrations",
        admin_only: false,
        for_agents: false,
    },
    NavLink {
        href: "/integrations/helpdesk",
        label: "Helpdesk integrations",
        admin_only: false,
        for_agents: false,
    },
    NavLink {
        href: "/phone-system",
        label: "Phone system",
        admin_only: true,
        for_agents: false,
    },
    NavLink {
        href: "/extensions",
        label: "Extensions",
        admin_only: false,
        for_agents: false,
    },
    NavLink {
        href: "/activity",
        label: "Activity",
        admin_only: false,
        for_agents: false,
    },
    NavLink {
        href: "/accounts",
        label: "Accounts",
        admin_only: true,
        for_agents: false,
    },
];

#[component]
pub fn Frame(children: Children) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let location = use_location();
    let is_admin = viewer.is_admin();
    let is_agent = viewer.user.as_ref().is_some_and(|u| u.is_agent());
    let email = viewer
        .user
        .as_ref()
        .map(|u| u.email.clone())
        .unwrap_or_default();
    let links = NAV_LINKS
        .iter()
        .filter(|link| {
            if is_agent {
                link.for_agents
            } else {
                is_admin || !link.admin_only
            }
        })
        .map(|link| {
            let href = link.href;
            let current = move || (location.pathname.get() == href).then_some("page");
            view! {
                <li>
                    <a href=href aria-current=current>
                        {link.label}
                    </a>
                </li>
            }
        })
        .collect_view();

    view! {
        <div class="frame">
            <nav class="sidebar" aria-label="Main">
                <a class="brand" href="/">
                    "Patchbay"
                </a>
                <ul>{links}</ul>
            </nav>
            <div class="main">
                <header class="topbar">
                    <span class="who" data-testid="signed-in-as">
                        {email}
                    </span>
                    <form method="post" action="/logout">
                        <input type="hidden" name=CSRF_FIELD value=viewer.csrf_token.clone() />
                        <button class="button button-quiet" type="submit">
                            "Sign out"
                        </button>
                    </form>
                </header>
                <main class="content">{children()}</main>
            </div>
        </div>
    }
}
