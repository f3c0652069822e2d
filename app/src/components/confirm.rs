//! The confirmation dialog every destructive action goes through.

use leptos::prelude::*;

/// What the dialog asks. `None` keeps it closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfirmRequest {
    pub title: String,
    pub message: String,
    pub confirm_label: String,
}

#[component]
pub fn ConfirmDialog(
    request: RwSignal<Option<ConfirmRequest>>,
    #[prop(into)] on_confirm: Callback<()>,
) -> impl IntoView {
    let close = move || request.set(None);
    view! {
        <Show when=move || request.with(Option::is_some)>
            <div class="dialog-backdrop">
                <div
                    class="dialog"
                    role="alertdialog"
                    aria-modal="true"
                    aria-labelledby="confirm-title"
                    aria-describedby="confirm-message"
                    on:keydown=move |event| {
                        if event.key() == "Escape" {
                            close();
                        }
                    }
                >
                    <h2 id="confirm-title">
                        {move || request.with(|r| r.as_ref().map(|r| r.title.clone()))}
                    </h2>
                    <p id="confirm-message">
                        {move || request.with(|r| r.as_ref().map(|r| r.message.clone()))}
                    </p>
                    <div class="dialog-actions">
                        <button class="button" autofocus on:click=move |_| close()>
                            "Cancel"
                        </button>
                        <button
                            class="button button-danger"
                            on:click=move |_| {
                                close();
                                on_confirm.run(());
                            }
                        >
                            {move || {
                                request.with(|r| r.as_ref().map(|r| r.confirm_label.clone()))
                            }}
                        </button>
                    </div>
                </div>
            </div>
        </Show>
    }
}
