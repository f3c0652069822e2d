//! Extensions (README "Extensions"): the directory of PBX extensions, a page at a time,
//! searched and sorted on the server so it stays fast with thousands; add, edit and delete
//! (administrators); a CSV import previewed row by row before it is applied; the export and
//! an example file; and extension groups. Everyone signed in may read it.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::directory::{
    list_extension_groups, list_extensions, DeleteExtension, DeleteExtensionGroup, SaveExtension,
    SaveExtensionGroup,
};
use crate::components::confirm::{ConfirmDialog, ConfirmRequest};
use crate::components::frame::Frame;
use crate::components::loaded::{failed, Loaded};
use crate::components::page_data::page_data;
use crate::components::pager::Pager;
use crate::components::toast::{use_toasts, Toasts};
use crate::error::PortalError;
use crate::extensions::{
    Extension, ExtensionGroup, ExtensionSort, ExtensionSource, ImportRow,
    EXTENSIONS_PAGE_ROWS as PAGE_ROWS,
};
use crate::viewer::Viewer;

/// The example file the page offers: the header and two rows, quotes where a name holds a
/// comma.
pub const EXAMPLE_CSV: &str = "number,first_name,last_name,email\n1001,Ann,Lee,ann.lee@example.com\n1002,\"Bo, Jr.\",Chan,bo.chan@example.com\n";

/// Rows of an import preview shown at most; the counts cover the whole file.
const PREVIEW_ROWS_SHOWN: usize = 200;

/// Shows a toast when a server action finishes, and bumps `reloads` on success.
fn on_done<T: Clone + Send + Sync + 'static>(
    outcome: impl Get<Value = Option<Result<T, PortalError>>> + Send + Sync + 'static,
    toasts: Toasts,
    reloads: RwSignal<u32>,
    success: &'static str,
) {
    Effect::new(move |_| match outcome.get() {
        Some(Ok(_)) => {
            reloads.update(|n| *n += 1);
            toasts.success(success);
        }
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
}

#[component]
pub fn ExtensionsPage() -> impl IntoView {
    let reloads = RwSignal::new(0u32);
    view! {
        <Title text="Extensions" />
        <Frame>
            <h1>"Extensions"</h1>
            <p class="lead">"The PBX extensions and who uses them. User Association pairs them with CRM users, automatically by e-mail or by hand."</p>
            <Directory reloads=reloads />
            <Groups reloads=reloads />
        </Frame>
    }
}

/// The extension being added (`original` None) or edited.
#[derive(Clone, Debug, Default, PartialEq)]
struct Editing {
    original: Option<String>,
    fields: Extension,
}

/// Where an import stands (the browser reads and sends the file).
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Import {
    #[default]
    Idle,
    Reading,
    /// The preview: every row fine; waiting for the confirmation.
    Preview {
        file: String,
        new: usize,
        changed: usize,
        unchanged: usize,
        rows: Vec<ImportRow>,
    },
    /// Rows are refused; nothing can be imported until the file is fixed.
    Refused {
        message: String,
        rows: Vec<ImportRow>,
    },
    Failed(String),
}

#[component]
fn Directory(reloads: RwSignal<u32>) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let is_admin = viewer.is_admin();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let search = RwSignal::new(String::new());
    let sort = RwSignal::new(ExtensionSort::Number);
    let descending = RwSignal::new(false);
    let offset = RwSignal::new(0u64);
    let editing = RwSignal::new(None::<Editing>);
    let import = RwSignal::new(Import::Idle);
    let confirm = RwSignal::new(None::<ConfirmRequest>);
    let pending_delete = StoredValue::new(None::<String>);

    let save = ServerAction::<SaveExtension>::new();
    let delete = ServerAction::<DeleteExtension>::new();
    on_done(save.value(), toasts, reloads, "Extension saved.");
    on_done(delete.value(), toasts, reloads, "Extension deleted.");
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) {
            editing.set(None);
        }
    });

    let page = page_data(
        move || {
            (
                search.get(),
                sort.get(),
                descending.get(),
                offset.get(),
                reloads.get(),
            )
        },
        |(search, sort, descending, offset, _)| {
            list_extensions(search, sort.as_str().to_string(), descending, offset)
        },
    );

    // A form opens without the last save's error.
    let open = move |edit: Editing| {
        save.value().set(None);
        editing.set(Some(edit));
    };
    let sort_by = move |column: ExtensionSort| {
        if sort.get_untracked() == column {
            descending.update(|d| *d = !*d);
        } else {
            sort.set(column);
            descending.set(false);
        }
        offset.set(0);
    };
    let ask_delete = move |number: String| {
        pending_delete.set_value(Some(number.clone()));
        confirm.set(Some(ConfirmRequest {
            title: format!("Delete extension {number}?"),
            message: format!("Extension {number} leaves the directory, its groups and every user association. This cannot be undone."),
            confirm_label: "Delete".into(),
        }));
    };
    let on_confirm = move |_| {
        if let Some(number) = pending_delete.get_value() {
            delete.dispatch(DeleteExtension {
                csrf_token: csrf_token.get_value(),
                number,
            });
        }
    };

    let header = move |column: ExtensionSort| {
        let aria = move || {
            if sort.get() != column {
                "none"
            } else if descending.get() {
                "descending"
            } else {
                "ascending"
            }
        };
        view! {
            <th aria-sort=aria>
                <button class="button button-quiet" type="button" data-sort=column.as_str() on:click=move |_| sort_by(column)>
                    {column.label()}
                    {move || (sort.get() == column).then(|| if descending.get() { " ▼" } else { " ▲" })}
                </button>
            </th>
        }
    };

    view! {
        <section class="card" aria-labelledby="directory-title">
            <h2 id="directory-title">"Directory"</h2>
            <div class="toolbar">
                <label class="visually-hidden" for="extensions-search">"Search extensions"</label>
                <input id="extensions-search" type="search" placeholder="Search number, name or e-mail"
                    prop:value=move || search.get()
                    on:input=move |e| { search.set(event_target_value(&e)); offset.set(0); } />
                {is_admin.then(|| view! {
                    <button class="button button-primary" type="button" on:click=move |_| open(Editing::default())>"Add extension"</button>
                    <ImportButton import=import csrf_token=csrf_token />
                    <a class="button" href="/api/v1/extensions?format=csv" download="extensions.csv">"Export CSV"</a>
                    <a class="button button-quiet" download="extensions-example.csv"
                        href=format!("data:text/csv;charset=utf-8,{}", percent_encode(EXAMPLE_CSV))>"Example file"</a>
                })}
            </div>
            {move || editing.get().map(|edit| view! { <ExtensionForm edit=edit editing=editing save=save csrf_token=csrf_token /> })}
            <ImportPanel import=import reloads=reloads csrf_token=csrf_token />
            <Loaded resource=page loading="Loading extensions…" then=move |page| {
                    if page.total == 0 {
                        let text = if search.get_untracked().trim().is_empty() {
                            "No extensions yet: add one, or import a CSV file (download the example file to start)."
                        } else {
                            "No extension matches the search."
                        };
                        return view! { <p class="empty-state">{text}</p> }.into_any();
                    }
                    let (offset_now, shown, total) = (page.offset, page.extensions.len(), page.total);
                    view! {
                        <table class="table" data-testid="extensions">
                            <thead><tr>
                                {header(ExtensionSort::Number)}
                                {header(ExtensionSort::FirstName)}
                                {header(ExtensionSort::LastName)}
                                {header(ExtensionSort::Email)}
                                <th>"Source"</th>
                                {is_admin.then(|| view! { <th>"Actions"</th> })}
                            </tr></thead>
                            <tbody>
                                {page.extensions.into_iter().map(|extension| {
                                    let number = extension.number.clone();
                                    let for_edit = extension.clone();
                                    view! {
                                        <tr data-number=extension.number.clone()>
                                            <td>{extension.number.clone()}</td>
                                            <td>{extension.first_name.clone()}</td>
                                            <td>{extension.last_name.clone()}</td>
                                            <td>{extension.email.clone()}</td>
                                            <td data-testid="extension-source">{match extension.source {
                                                ExtensionSource::Pbx => "PBX",
                                                ExtensionSource::Manual => "Manual or CSV",
                                            }}</td>
                                            {is_admin.then(|| view! {
                                                <td><div class="actions">
                                                    <button class="button button-small" type="button" on:click=move |_| open(Editing { original: Some(for_edit.number.clone()), fields: for_edit.clone() })>"Edit"</button>
                                                    <button class="button button-small button-danger" type="button" on:click=move |_| ask_delete(number.clone())>"Delete"</button>
                                                </div></td>
                                            })}
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <Pager offset=offset_now shown=shown total=total page_rows=PAGE_ROWS set_offset=offset />
                    }.into_any()
                }
            />
            <ConfirmDialog request=confirm on_confirm=on_confirm />
        </section>
    }
}

/// `text` for a `data:` URL.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~@".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[component]
fn ExtensionForm(
    edit: Editing,
    editing: RwSignal<Option<Editing>>,
    save: ServerAction<SaveExtension>,
    csrf_token: StoredValue<String>,
) -> impl IntoView {
    let title = match &edit.original {
        Some(number) => format!("Edit extension {number}"),
        None => "Add extension".to_string(),
    };
    let original = StoredValue::new(edit.original.clone());
    let number = RwSignal::new(edit.fields.number.clone());
    let first_name = RwSignal::new(edit.fields.first_name.clone());
    let last_name = RwSignal::new(edit.fields.last_name.clone());
    let email = RwSignal::new(edit.fields.email.clone());
    let error = move || match save.value().get() {
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    };
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        save.dispatch(SaveExtension {
            csrf_token: csrf_token.get_value(),
            original: original.get_value(),
            extension: Extension {
                number: number.get_untracked(),
                first_name: first_name.get_untracked(),
                last_name: last_name.get_untracked(),
                email: email.get_untracked(),
                ..Extension::default()
            },
        });
    };
    let field = move |id: &'static str,
                      label: &'static str,
                      value: RwSignal<String>,
                      kind: &'static str| {
        view! {
            <label for=id>{label}</label>
            <input id=id type=kind prop:value=move || value.get() on:input=move |e| value.set(event_target_value(&e)) />
        }
    };
    view! {
        <form class="card form-grid" data-testid="extension-form" novalidate on:submit=on_submit>
            <h3>{title}</h3>
            {field("extension-number", "Number", number, "text")}
            {field("extension-first-name", "First name", first_name, "text")}
            {field("extension-last-name", "Last name", last_name, "text")}
            {field("extension-email", "E-mail", email, "email")}
            {move || error().map(|message| view! { <p class="notice notice-error" role="alert">{message}</p> })}
            <div class="form-actions">
                <button class="button" type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
                <button class="button button-primary" type="submit" disabled=move || save.pending().get()>"Save"</button>
            </div>
        </form>
    }
}

/// The file input that starts an import: the file is sent for a preview first.
#[component]
fn ImportButton(import: RwSignal<Import>, csrf_token: StoredValue<String>) -> impl IntoView {
    let on_pick = move |event: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let input = event_target::<web_sys::HtmlInputElement>(&event);
            let files = crate::components::browser::picked_files(&input);
            input.set_value("");
            if let Some(file) = files.into_iter().next() {
                import_file::start(import, file, csrf_token.get_value());
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (event, import, csrf_token);
    };
    view! {
        <label class="button" for="extensions-import">"Import CSV…"</label>
        <input id="extensions-import" class="visually-hidden" type="file" accept=".csv,text/csv" on:change=on_pick />
    }
}

/// The browser's side of an import: the picked file is kept (a browser object, so local
/// storage) between its preview and the confirmed import.
#[cfg(feature = "hydrate")]
mod import_file {
    use leptos::prelude::*;
    use web_sys::File;

    use super::Import;
    use crate::components::browser::send;
    use crate::extensions::ImportRow;

    #[derive(serde::Deserialize)]
    struct Report {
        new: usize,
        changed: usize,
        unchanged: usize,
        rows: Vec<ImportRow>,
    }

    #[derive(serde::Deserialize)]
    struct ErrorReply {
        error: ErrorBody,
    }

    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: String,
        #[serde(default)]
        rows: Vec<ImportRow>,
    }

    thread_local! {
        static PICKED: std::cell::RefCell<Option<File>> = const { std::cell::RefCell::new(None) };
    }

    /// Sends the file for a preview and keeps it for the import.
    pub fn start(import: RwSignal<Import>, file: File, csrf_token: String) {
        PICKED.with(|picked| *picked.borrow_mut() = Some(file.clone()));
        import.set(Import::Reading);
        leptos::task::spawn_local(async move {
            import.set(
                post(&csrf_token, &file, true)
                    .await
                    .unwrap_or_else(|state| state),
            );
        });
    }

    /// Imports the previewed file; answers how many rows changed the directory.
    pub async fn apply(csrf_token: &str) -> Result<usize, String> {
        let Some(file) = PICKED.with(|picked| picked.borrow().clone()) else {
            return Err("pick the file again".into());
        };
        match post(csrf_token, &file, false).await {
            Ok(Import::Preview { new, changed, .. }) => {
                PICKED.with(|picked| *picked.borrow_mut() = None);
                Ok(new + changed)
            }
            Ok(Import::Refused { message, .. } | Import::Failed(message))
            | Err(Import::Refused { message, .. } | Import::Failed(message)) => Err(message),
            Ok(_) | Err(_) => Err("the import failed".into()),
        }
    }

    async fn post(csrf_token: &str, file: &File, preview: bool) -> Result<Import, Import> {
        let url = format!(
            "/api/v1/extensions/import{}",
            if preview { "?preview=1" } else { "" }
        );
        let (status, text) = send(&url, "POST", csrf_token, file, Some("text/csv"))
            .await
            .map_err(Import::Failed)?;
        if (200..300).contains(&status) {
            let report: Report = serde_json::from_str(&text)
                .map_err(|e| Import::Failed(format!("unexpected answer: {e}")))?;
            return Ok(Import::Preview {
                file: file.name(),
                new: report.new,
                changed: report.changed,
                unchanged: report.unchanged,
                rows: report.rows,
            });
        }
        match serde_json::from_str::<ErrorReply>(&text) {
            Ok(reply) if !reply.error.rows.is_empty() => Err(Import::Refused {
                message: reply.error.message,
                rows: reply.error.rows,
            }),
            Ok(reply) => Err(Import::Failed(reply.error.message)),
            Err(_) => Err(Import::Failed(format!("the import failed (HTTP {status})"))),
        }
    }
}

#[component]
fn ImportPanel(
    import: RwSignal<Import>,
    reloads: RwSignal<u32>,
    csrf_token: StoredValue<String>,
) -> impl IntoView {
    let toasts = use_toasts();
    let applying = RwSignal::new(false);
    let on_apply = move |_| {
        #[cfg(feature = "hydrate")]
        {
            applying.set(true);
            let token = csrf_token.get_value();
            leptos::task::spawn_local(async move {
                let outcome = import_file::apply(&token).await;
                applying.set(false);
                match outcome {
                    Ok(changed) => {
                        import.set(Import::Idle);
                        reloads.update(|n| *n += 1);
                        toasts.success(format!(
                            "Imported: {changed} extension(s) added or changed."
                        ));
                    }
                    Err(message) => import.set(Import::Failed(message)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (csrf_token, reloads, toasts);
    };
    let rows_table = |rows: Vec<ImportRow>| {
        let total = rows.len();
        let shown: Vec<ImportRow> = rows
            .into_iter()
            .filter(|r| r.outcome != "unchanged")
            .take(PREVIEW_ROWS_SHOWN)
            .collect();
        let more = (shown.len() == PREVIEW_ROWS_SHOWN).then(|| {
            view! { <p class="help">{format!("The first {PREVIEW_ROWS_SHOWN} rows that change something are shown, of {total}.")}</p> }
        });
        view! {
            <table class="table" data-testid="import-rows">
                <thead><tr><th>"Line"</th><th>"Number"</th><th>"Result"</th><th>"Why"</th></tr></thead>
                <tbody>
                    {shown.into_iter().map(|row| view! {
                        <tr data-outcome=row.outcome.clone()>
                            <td>{row.line}</td>
                            <td>{row.number}</td>
                            <td><span class=format!("tag outcome-{}", row.outcome)>{row.outcome.clone()}</span></td>
                            <td>{row.reason.unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {more}
        }
    };
    view! {
        {move || match import.get() {
            Import::Idle => None,
            Import::Reading => Some(view! { <p class="help" role="status">"Reading the file…"</p> }.into_any()),
            Import::Failed(message) => Some(view! {
                <div class="card" data-testid="import-panel">
                    <p class="notice notice-error" role="alert">{message}</p>
                    <button class="button" type="button" on:click=move |_| import.set(Import::Idle)>"Close"</button>
                </div>
            }.into_any()),
            Import::Refused { message, rows } => Some(view! {
                <div class="card" data-testid="import-panel">
                    <h3>"Import refused"</h3>
                    <p class="notice notice-error" role="alert">{format!("{message}. Fix the rows below and pick the file again.")}</p>
                    {rows_table(rows.into_iter().filter(|r| r.outcome == "refused").collect())}
                    <button class="button" type="button" on:click=move |_| import.set(Import::Idle)>"Close"</button>
                </div>
            }.into_any()),
            Import::Preview { file, new, changed, unchanged, rows } => {
                let nothing = new + changed == 0;
                Some(view! {
                    <div class="card" data-testid="import-panel">
                        <h3>{format!("Import {file}?")}</h3>
                        <p role="status" data-testid="import-summary">{format!("{new} new, {changed} changed, {unchanged} unchanged. Nothing is stored until you import.")}</p>
                        {(!nothing).then(|| rows_table(rows))}
                        <div class="form-actions">
                            <button class="button" type="button" on:click=move |_| import.set(Import::Idle)>"Cancel"</button>
                            <button class="button button-primary" type="button" disabled=move || nothing || applying.get() on:click=on_apply>
                                {format!("Import {} extension(s)", new + changed)}
                            </button>
                        </div>
                    </div>
                }.into_any())
            }
        }}
    }
}

/// The group being created (`id` None) or edited; members as typed.
#[derive(Clone, Debug, Default, PartialEq)]
struct GroupEdit {
    id: Option<i32>,
    name: String,
    members: String,
}

#[component]
fn Groups(reloads: RwSignal<u32>) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let is_admin = viewer.is_admin();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let save = ServerAction::<SaveExtensionGroup>::new();
    let delete = ServerAction::<DeleteExtensionGroup>::new();
    on_done(save.value(), toasts, reloads, "Group saved.");
    on_done(delete.value(), toasts, reloads, "Group deleted.");
    let editing = RwSignal::new(None::<GroupEdit>);
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) {
            editing.set(None);
        }
    });
    let open = move |edit: GroupEdit| {
        save.value().set(None);
        editing.set(Some(edit));
    };
    let confirm = RwSignal::new(None::<ConfirmRequest>);
    let pending_delete = StoredValue::new(None::<i32>);
    let groups = page_data(move || reloads.get(), |_| list_extension_groups());
    let ask_delete = move |group: ExtensionGroup| {
        pending_delete.set_value(Some(group.id));
        confirm.set(Some(ConfirmRequest {
            title: format!("Delete group {}?", group.name),
            message:
                "The group goes; its extensions stay in the directory and keep their associations."
                    .into(),
            confirm_label: "Delete".into(),
        }));
    };
    let on_confirm = move |_| {
        if let Some(id) = pending_delete.get_value() {
            delete.dispatch(DeleteExtensionGroup {
                csrf_token: csrf_token.get_value(),
                id,
            });
        }
    };
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if let Some(edit) = editing.get_untracked() {
            save.dispatch(SaveExtensionGroup {
                csrf_token: csrf_token.get_value(),
                id: edit.id,
                name: edit.name,
                members: edit
                    .members
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|m| !m.is_empty())
                    .map(str::to_owned)
                    .collect(),
            });
        }
    };
    let save_error = move || match save.value().get() {
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    };
    view! {
        <section class="card" aria-labelledby="groups-title">
            <h2 id="groups-title">"Extension groups"</h2>
            <p class="help">"Picking a group in User Association associates all its extensions."</p>
            {is_admin.then(|| view! {
                <div class="toolbar">
                    <button class="button" type="button" on:click=move |_| open(GroupEdit::default())>"New group"</button>
                </div>
            })}
            {move || editing.get().is_some().then(|| view! {
                <form class="card form-grid" data-testid="group-form" on:submit=on_submit>
                    <label for="group-name">"Name"</label>
                    <input id="group-name" prop:value=move || editing.get().map(|e| e.name).unwrap_or_default()
                        on:input=move |e| { let value = event_target_value(&e); editing.update(|g| if let Some(g) = g { g.name = value }); } />
                    <label for="group-members">"Members (extension numbers, separated by commas or spaces)"</label>
                    <textarea id="group-members" rows="3" prop:value=move || editing.get().map(|e| e.members).unwrap_or_default()
                        on:input=move |e| { let value = event_target_value(&e); editing.update(|g| if let Some(g) = g { g.members = value }); }></textarea>
                    {move || save_error().map(|message| view! { <p class="notice notice-error" role="alert">{message}</p> })}
                    <div class="form-actions">
                        <button class="button" type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
                        <button class="button button-primary" type="submit">"Save group"</button>
                    </div>
                </form>
            })}
            <Transition fallback=|| view! { <p>"Loading groups…"</p> }>
                {move || Suspend::new(async move {
                    match groups.await {
                        Err(error) => failed(error),
                        Ok(list) if list.is_empty() => view! { <p class="empty-state">"No groups yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="table" data-testid="groups">
                                <thead><tr><th>"Name"</th><th>"Members"</th>{is_admin.then(|| view! { <th>"Actions"</th> })}</tr></thead>
                                <tbody>
                                    {list.into_iter().map(|group| {
                                        let for_edit = group.clone();
                                        let for_delete = group.clone();
                                        view! {
                                            <tr data-group=group.name.clone()>
                                                <td>{group.name.clone()}</td>
                                                <td>{group.members.join(", ")}</td>
                                                {is_admin.then(|| view! {
                                                    <td><div class="actions">
                                                        <button class="button button-small" type="button" on:click=move |_| open(GroupEdit { id: Some(for_edit.id), name: for_edit.name.clone(), members: for_edit.members.join(", ") })>"Edit"</button>
                                                        <button class="button button-small button-danger" type="button" on:click=move |_| ask_delete(for_delete.clone())>"Delete"</button>
                                                    </div></td>
                                                })}
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
            <ConfirmDialog request=confirm on_confirm=on_confirm />
        </section>
    }
}
