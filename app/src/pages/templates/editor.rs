//! The template editor: the vendor's sections in the vendor's order, the
//! shared validator marking fields as you type, and an XML view for what the
//! form does not show. The XML is the source of truth: the form is applied to
//! it, so hand-written elements survive form edits.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::templates::load_template_text;
use crate::components::frame::Frame;
use crate::components::loaded::failed;
use crate::components::page_data::page_data;
use crate::components::toast::use_toasts;
use crate::template::editor::{canonical_text, field_for, logo_data_url, new_form};
use crate::template::form::{
    ContactTypeForm, ContactsForm, CreateContactTypeForm, CustomFieldForm, FollowUpForm,
    OutputForm, TemplateForm, UserAssociationForm,
};
use crate::template::model::Provider;
use crate::template::threecx::ReportLine;
use crate::template::validate::{validate_document, validate_text, Finding, Report, Severity};
use crate::template::xml::{parse, XmlDocument};
use crate::viewer::Viewer;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Form,
    Xml,
}

/// Messages per form field id, errors first.
type FieldMessages = BTreeMap<String, Vec<(Severity, String)>>;

#[derive(Clone, Copy)]
struct Editing {
    form: RwSignal<TemplateForm>,
    messages: Memo<FieldMessages>,
}

#[component]
pub fn TemplateEditorPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let params = use_params_map();
    let provider = params.with_untracked(|p| p.get("provider").and_then(|p| Provider::parse(&p)));
    let key = params.with_untracked(|p| p.get("key"));
    let body = match (provider, viewer.is_admin()) {
        (None, _) => view! { <p class="notice" role="alert">"There are CRM and Helpdesk templates only."</p> }.into_any(),
        (Some(_), false) => view! { <p class="notice">"Only administrators can edit templates."</p> }.into_any(),
        (Some(provider), true) => match key {
            None => view! { <Editor provider key=None xml=None /> }.into_any(),
            Some(key) => {
                let for_load = key.clone();
                let text = page_data(
                    move || for_load.clone(),
                    move |key| load_template_text(provider.as_str().to_string(), key),
                );
                view! {
                    <Suspense fallback=|| view! { <p>"Loading the template…"</p> }>
                        {move || {
                            let key = key.clone();
                            Suspend::new(async move {
                                match text.await {
                                    Ok(xml) => view! { <Editor provider key=Some(key) xml=Some(xml) /> }.into_any(),
                                    Err(error) => failed(error),
                                }
                            })
                        }}
                    </Suspense>
                }
                .into_any()
            }
        },
    };
    view! { <Frame>{body}</Frame> }
}

fn messages_by_field(report: &Report, form: &TemplateForm) -> FieldMessages {
    let mut map = FieldMessages::new();
    for finding in &report.findings {
        if let Some(field) = field_for(form, &finding.location) {
            map.entry(field)
                .or_default()
                .push((finding.severity, finding.message.clone()));
        }
    }
    for list in map.values_mut() {
        list.sort_by_key(|(s, _)| *s != Severity::Error);
    }
    map
}

#[component]
fn Editor(provider: Provider, key: Option<String>, xml: Option<String>) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let editing_key = StoredValue::new(key.clone());
    let base = xml.as_deref().and_then(|text| parse(text).ok());
    let initial = match &base {
        Some(document) => TemplateForm::read(document),
        None => new_form(provider, String::new()),
    };
    let base_document = RwSignal::new(base.unwrap_or_else(|| initial.to_new_document()));
    let form = RwSignal::new(initial);
    let mode = RwSignal::new(Mode::Form);
    let xml_text = RwSignal::new(String::new());
    let server_findings = RwSignal::new(Vec::<Finding>::new());
    let saving = RwSignal::new(false);

    #[cfg(feature = "hydrate")]
    if key.is_none() {
        // A new template gets a Key the author can change.
        Effect::new(move |_| {
            form.update(|f| {
                if f.key.is_empty() {
                    f.key = super::browser::random_key();
                }
            })
        });
    }

    let current_document = move || form.with(|f| base_document.with(|b| f.apply(b)));
    let report = Memo::new(move |_| match mode.get() {
        Mode::Form => validate_document(&current_document()),
        Mode::Xml => xml_text.with(|t| validate_text(t).1),
    });
    let messages = Memo::new(move |_| {
        let mut shown = report.get();
        shown.findings.extend(server_findings.get());
        form.with(|f| messages_by_field(&shown, f))
    });
    provide_context(Editing { form, messages });

    let show_xml = move |_| {
        xml_text.set(canonical_text(&current_document()));
        server_findings.set(Vec::new());
        mode.set(Mode::Xml);
    };
    let show_form = move |_| {
        let text = xml_text.get_untracked();
        match parse(&text) {
            Ok(document) => {
                form.set(TemplateForm::read(&document));
                base_document.set(document);
                mode.set(Mode::Form);
            }
            Err(error) => toasts.error(format!(
                "The XML does not parse: {error}. Fix it before switching to the form."
            )),
        }
    };

    let navigate = leptos_router::hooks::use_navigate();
    let save = move |_| {
        let current = report.get_untracked();
        let first_error = current
            .findings
            .iter()
            .find(|f| f.severity == Severity::Error)
            .cloned();
        if let Some(first) = first_error {
            let field = form.with_untracked(|f| field_for(f, &first.location));
            toasts.error(format!(
                "Not saved: {} error(s). {}",
                current.errors().count(),
                first.describe_for_editor()
            ));
            #[cfg(feature = "hydrate")]
            match (mode.get_untracked(), field) {
                (Mode::Form, Some(field)) => super::browser::focus(&field_id(&field)),
                (Mode::Xml, _) => super::browser::focus("template-xml"),
                _ => super::browser::focus("editor-errors"),
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = field;
            return;
        }
        let text = match mode.get_untracked() {
            Mode::Form => canonical_text(&current_document()),
            Mode::Xml => xml_text.get_untracked(),
        };
        #[cfg(feature = "hydrate")]
        {
            saving.set(true);
            let token = csrf_token.get_value();
            let key = editing_key.get_value();
            let navigate = navigate.clone();
            leptos::task::spawn_local(async move {
                let outcome =
                    super::browser::save_xml(provider.as_str(), key.as_deref(), &token, &text)
                        .await;
                saving.set(false);
                match outcome {
                    Ok(saved_key) => {
                        server_findings.set(Vec::new());
                        if let Ok(document) = parse(&text) {
                            base_document.set(document);
                        }
                        toasts.success("Template saved.".to_string());
                        if key.is_none() {
                            navigate(
                                &format!("/templates/{}/{saved_key}/edit", provider.as_str()),
                                Default::default(),
                            );
                        }
                    }
                    Err(refused) => {
                        toasts.error(format!("Not saved: {}", refused.message));
                        server_findings.set(refused.findings);
                    }
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (text, saving, csrf_token, editing_key, &navigate);
    };

    let title = if key.is_some() {
        "Edit template"
    } else {
        "New template"
    };
    let list_href = format!("/templates/{}", provider.as_str());
    let is_helpdesk = provider == Provider::Helpdesk;
    let error_list = move || {
        let mut all = report.get();
        all.findings.extend(server_findings.get());
        all.findings
    };

    view! {
        <Title text=title />
        <div class="page-head">
            <h1>{title} " · " {move || form.with(|f| if f.name.is_empty() { "untitled".to_string() } else { f.name.clone() })}</h1>
        </div>
        <div class="toolbar editor-toolbar" role="toolbar" aria-label="Editor">
            <div class="segmented" role="group" aria-label="View">
                <button class="button" aria-pressed=move || (mode.get() == Mode::Form).to_string() on:click=show_form>"Form"</button>
                <button class="button" aria-pressed=move || (mode.get() == Mode::Xml).to_string() on:click=show_xml>"XML"</button>
            </div>
            <a class="button" href=list_href>"Back to the list"</a>
            <button class="button button-primary" on:click=save disabled=move || saving.get()>"Save"</button>
        </div>
        <FindingList findings=Signal::derive(error_list) />
        {(key.is_none() && provider == Provider::Crm).then(|| view! { <ThreeCxImport base_document form mode /> })}
        <Show
            when=move || mode.get() == Mode::Form
            fallback=move || view! { <XmlView text=xml_text /> }
        >
            <GeneralSection base_document provider />
            <UserAssociationSection />
            <AuthenticationSection />
            <HeadersSection />
            <FollowUpSection />
            <ContactsSection />
            <CreateContactSection />
            <CallJournalSection />
            {is_helpdesk.then(|| view! { <TicketSection /> })}
        </Show>
    }
}

impl Finding {
    fn describe_for_editor(&self) -> String {
        let place = self.location.describe();
        if place.is_empty() {
            self.message.clone()
        } else {
            format!("{} ({place})", self.message)
        }
    }
}

#[component]
fn FindingList(findings: Signal<Vec<Finding>>) -> impl IntoView {
    view! {
        <Show when=move || findings.with(|f| !f.is_empty())>
            <section class="card findings" id="editor-errors" tabindex="-1" aria-label="Problems">
                <h2>"Problems"</h2>
                <ul>
                    {move || findings.get().into_iter().map(|f| {
                        let class = if f.severity == Severity::Error { "finding finding-error" } else { "finding finding-warning" };
                        let label = if f.severity == Severity::Error { "Error" } else { "Warning" };
                        let position = match (f.location.line, f.location.column) {
                            (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
                            _ => String::new(),
                        };
                        let help = f.help.clone();
                        view! { <li class=class><strong>{label}</strong>": " {f.describe_for_editor()} {position} " " <a href=help target="_blank" rel="noopener">"Why?"</a></li> }
                    }).collect_view()}
                </ul>
            </section>
        </Show>
    }
}

#[component]
fn XmlView(text: RwSignal<String>) -> impl IntoView {
    let lines = move || text.with(|t| t.lines().count().max(1));
    view! {
        <section class="card xml-view">
            <label for="template-xml">"Template XML"</label>
            <p class="help">"For extended configurations the form does not show. Checked on save with line and column."</p>
            <div class="code-editor">
                <pre class="line-numbers" aria-hidden="true">{move || (1..=lines()).map(|n| n.to_string()).collect::<Vec<_>>().join("\n")}</pre>
                <textarea
                    id="template-xml"
                    spellcheck="false"
                    wrap="off"
                    rows=move || (lines() + 1).to_string()
                    prop:value=text
                    on:input=move |e| text.set(event_target_value(&e))
                ></textarea>
            </div>
        </section>
    }
}

/// A form field's element id.
fn field_id(field: &str) -> String {
    format!("f-{}", field.replace('.', "-"))
}

type Getter = std::sync::Arc<dyn Fn(&TemplateForm) -> Option<String> + Send + Sync>;
type Setter = std::sync::Arc<dyn Fn(&mut TemplateForm, String) + Send + Sync>;

/// A text input (or text area) bound to one string of the form, with its
/// label, help, the vendor's example as placeholder, and its messages.
#[component]
fn Text(
    #[prop(into)] field: String,
    label: &'static str,
    #[prop(optional)] help: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] multiline: bool,
    #[prop(optional)] monospace: bool,
    get: Getter,
    set: Setter,
) -> impl IntoView {
    let editing = expect_context::<Editing>();
    let id = field_id(&field);
    let help_id = format!("{id}-help");
    let messages_for = field.clone();
    let messages = Signal::derive(move || {
        editing
            .messages
            .with(|m| m.get(&messages_for).cloned().unwrap_or_default())
    });
    let has_error = move || messages.with(|m| m.iter().any(|(s, _)| *s == Severity::Error));
    let invalid = move || has_error().to_string();
    let value = move || editing.form.with(|f| get(f).unwrap_or_default());
    let on_input = move |e: leptos::ev::Event| {
        let v = event_target_value(&e);
        editing.form.update(|f| set(f, v));
    };
    let class = if monospace { "input mono" } else { "input" };
    let control = if multiline {
        view! { <textarea id=id.clone() class=class rows="4" placeholder=placeholder aria-describedby=help_id.clone() aria-invalid=invalid prop:value=value on:input=on_input></textarea> }.into_any()
    } else {
        view! { <input id=id.clone() class=class type="text" placeholder=placeholder aria-describedby=help_id.clone() aria-invalid=invalid prop:value=value on:input=on_input /> }.into_any()
    };
    view! {
        <div class="field" class:field-invalid=has_error>
            <label for=id>{label}</label>
            {control}
            <div id=help_id>
                {(!help.is_empty()).then(|| view! { <p class="help">{help}</p> })}
                {move || messages.get().into_iter().map(|(severity, message)| {
                    let class = if severity == Severity::Error { "field-message field-error" } else { "field-message field-warning" };
                    view! { <p class=class>{message}</p> }
                }).collect_view()}
            </div>
        </div>
    }
}

/// A select bound to one string of the form.
#[component]
fn Choice(
    #[prop(into)] field: String,
    label: &'static str,
    options: &'static [(&'static str, &'static str)],
    #[prop(optional)] help: &'static str,
    /// The label of an empty value, for settings whose absence means a default.
    #[prop(optional)]
    empty_means: &'static str,
    get: Getter,
    set: Setter,
) -> impl IntoView {
    let editing = expect_context::<Editing>();
    let id = field_id(&field);
    let value = move || editing.form.with(|f| get(f).unwrap_or_default());
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id class="input" prop:value=value on:change=move |e| {
                let v = event_target_value(&e);
                editing.form.update(|f| set(f, v));
            }>
                {(!empty_means.is_empty()).then(|| view! { <option value="">{empty_means}</option> })}
                {options.iter().map(|(value, text)| view! { <option value=*value>{*text}</option> }).collect_view()}
            </select>
            {(!help.is_empty()).then(|| view! { <p class="help">{help}</p> })}
        </div>
    }
}

type BoolGetter = std::sync::Arc<dyn Fn(&TemplateForm) -> bool + Send + Sync>;
type BoolSetter = std::sync::Arc<dyn Fn(&mut TemplateForm, bool) + Send + Sync>;

/// An on/off switch bound to one flag of the form.
#[component]
fn Switch(
    #[prop(into)] field: String,
    label: &'static str,
    #[prop(optional)] disabled: bool,
    get: BoolGetter,
    set: BoolSetter,
) -> impl IntoView {
    let editing = expect_context::<Editing>();
    let id = field_id(&field);
    let checked = move || editing.form.with(|f| get(f));
    view! {
        <div class="field field-switch">
            <input id=id.clone() type="checkbox" role="switch" disabled=disabled prop:checked=checked on:change=move |e| {
                let on = event_target_checked(&e);
                editing.form.update(|f| set(f, on));
            } />
            <label for=id>{label}</label>
        </div>
    }
}

macro_rules! text_of {
    ($($path:tt)+) => {
        (
            std::sync::Arc::new(|f: &TemplateForm| Some(f.$($path)+.clone())) as Getter,
            std::sync::Arc::new(|f: &mut TemplateForm, v: String| f.$($path)+ = v) as Setter,
        )
    };
}

macro_rules! flag_of {
    ($($path:tt)+) => {
        (
            std::sync::Arc::new(|f: &TemplateForm| f.$($path)+) as BoolGetter,
            std::sync::Arc::new(|f: &mut TemplateForm, v: bool| f.$($path)+ = v) as BoolSetter,
        )
    };
}

/// A switch over a `"1"`/`"0"` value of the form (a setting's default).
macro_rules! default_of {
    ($($path:tt)+) => {
        (
            std::sync::Arc::new(|f: &TemplateForm| f.$($path)+ == "1") as BoolGetter,
            std::sync::Arc::new(|f: &mut TemplateForm, v: bool| {
                f.$($path)+ = if v { "1" } else { "0" }.to_string()
            }) as BoolSetter,
        )
    };
}

/// Accessors for one string of one row of a list in the form.
fn row_text<T: 'static>(
    list: fn(&TemplateForm) -> &Vec<T>,
    list_mut: fn(&mut TemplateForm) -> &mut Vec<T>,
    index: usize,
    field: fn(&T) -> &String,
    field_mut: fn(&mut T) -> &mut String,
) -> (Getter, Setter) {
    (
        std::sync::Arc::new(move |f: &TemplateForm| {
            list(f).get(index).map(|row| field(row).clone())
        }),
        std::sync::Arc::new(move |f: &mut TemplateForm, v: String| {
            if let Some(row) = list_mut(f).get_mut(index) {
                *field_mut(row) = v;
            }
        }),
    )
}

#[component]
fn Section(
    title: &'static str,
    #[prop(optional)] id: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <details class="card section-card" open id=id>
            <summary><h2>{title}</h2></summary>
            <div class="section-body">{children()}</div>
        </details>
    }
}

/// How many rows a list of the form has. A memo, so typing in a row does not
/// rebuild the rows (and lose the focus): only adding or removing one does.
fn count_of<T: 'static>(editing: Editing, list: fn(&TemplateForm) -> &Vec<T>) -> Memo<usize> {
    Memo::new(move |_| editing.form.with(|f| list(f).len()))
}

/// One setting of the form that decides which fields a section shows.
fn choice_of(editing: Editing, get: fn(&TemplateForm) -> &String) -> Memo<String> {
    Memo::new(move |_| editing.form.with(|f| get(f).clone()))
}

/// `app::template::model::FOLLOW_UP_TRIGGERS` with their labels.
const TRIGGERS: &[(&str, &str)] = &[
    ("GetGlobalInfo", "GetGlobalInfo succeeded"),
    ("CreateNewContact", "CreateNewContact succeeded"),
    ("CallJournal", "CallJournal succeeded"),
    ("CreateNewTicket", "CreateNewTicket succeeded"),
    ("TokenRefresh", "the token was refreshed"),
];
const METHODS: &[(&str, &str)] = &[
    ("GET", "GET"),
    ("POST", "POST"),
    ("PUT", "PUT"),
    ("PATCH", "PATCH"),
    ("DELETE", "DELETE"),
];
const CONTENT_TYPES: &[(&str, &str)] = &[
    (
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded",
    ),
    ("application/json", "application/json"),
];

#[component]
fn GeneralSection(base_document: RwSignal<XmlDocument>, provider: Provider) -> impl IntoView {
    let (name_get, name_set) = text_of!(name);
    let (key_get, key_set) = text_of!(key);
    let (max_get, max_set) = text_of!(max_concurrent_request);
    let (remark_get, remark_set) = text_of!(remark);
    let (version_get, version_set) = text_of!(version);
    let preview = move || base_document.with(logo_data_url);
    let _ = provider;
    view! {
        <Section title="General">
            <div class="field">
                <span class="label">"Logo"</span>
                <LogoPicker base_document />
                {move || preview().map(|src| view! { <img class="logo-preview" src=src alt="Logo preview" /> })}
                <p class="help">"PNG or JPG, at most 500 KB. Drop it here or browse."</p>
            </div>
            <Text field="name" label="Name" placeholder="Zoho CRM" help="Shown in the template list and to users who connect it." get=name_get set=name_set />
            <Text field="key" label="Key" placeholder="zoho_crm" help="Letters, digits, _ and -; part of the OAuth redirect URI. It cannot change once saved." get=key_get set=key_set />
            <Text field="version" label="Version" placeholder="1.0.0" get=version_get set=version_set />
            <Text field="max_concurrent_request" label="Max Concurrent Requests" placeholder="5" help="How many requests the engine sends to the CRM at once (1–100)." get=max_get set=max_set />
            <Text field="remark" label="Remark" placeholder="Syncs contacts and writes call journals" multiline=true get=remark_get set=remark_set />
        </Section>
    }
}

/// Drag-and-drop or browse for a logo; it goes into the XML as `<LogoImage>`.
#[component]
fn LogoPicker(base_document: RwSignal<XmlDocument>) -> impl IntoView {
    let toasts = use_toasts();
    let accept = move |file: Option<PickedFile>| {
        #[cfg(feature = "hydrate")]
        if let Some(file) = file {
            leptos::task::spawn_local(async move {
                match super::browser::file_bytes(&file).await {
                    Ok(bytes) => match crate::template::logo::check_logo(&bytes)
                        .map_err(|error| error.to_string())
                        .and_then(|media_type| Ok((media_type, super::browser::base64(&bytes)?)))
                    {
                        Ok((media_type, base64)) => base_document
                            .update(|d| crate::template::editor::set_logo(d, media_type, base64)),
                        Err(error) => toasts.error(format!("{}: {error}", file.name())),
                    },
                    Err(error) => toasts.error(error),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (file, toasts, base_document);
    };
    view! {
        <div
            class="drop-zone"
            on:dragover=move |e| e.prevent_default()
            on:drop=move |e: leptos::ev::DragEvent| {
                e.prevent_default();
                #[cfg(feature = "hydrate")]
                accept(e.data_transfer().and_then(|d| d.files()).and_then(|l| l.get(0)));
                #[cfg(not(feature = "hydrate"))]
                accept(None);
            }
        >
            <FileButton label="Browse…" id="f-logo" accept="image/png,image/jpeg" picked=accept />
            " or drop an image here"
        </div>
    }
}

/// Import of a 3CX CRM template: the file is converted on the server and the result
/// replaces the form, with the conversion's report beside it (nothing is stored until Save).
#[component]
fn ThreeCxImport(
    base_document: RwSignal<XmlDocument>,
    form: RwSignal<TemplateForm>,
    mode: RwSignal<Mode>,
) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let report = RwSignal::new(None::<(String, Vec<ReportLine>)>);
    let accept = move |file: Option<PickedFile>| {
        #[cfg(feature = "hydrate")]
        if let Some(file) = file {
            leptos::task::spawn_local(async move {
                let text = match super::browser::file_bytes(&file).await {
                    Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Err(error) => return toasts.error(error),
                };
                match crate::api::templates::import_3cx_template(csrf_token.get_value(), text).await
                {
                    Ok(conversion) => match parse(&conversion.template) {
                        Ok(document) => {
                            form.set(TemplateForm::read(&document));
                            base_document.set(document);
                            mode.set(Mode::Form);
                            report.set(Some((file.name(), conversion.report)));
                            toasts.success(format!(
                                "{} converted: check the report, then Save.",
                                file.name()
                            ));
                        }
                        Err(error) => {
                            toasts.error(format!("The conversion did not parse: {error}"))
                        }
                    },
                    Err(error) => toasts.error(format!("{}: {error}", file.name())),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (file, toasts, csrf_token, base_document, form, mode);
    };
    view! {
        <details class="card import-3cx" open=move || report.with(|r| r.is_some())>
            <summary>"Import a 3CX CRM template"</summary>
            <p class="help">"A 3CX server-side CRM template (root "<code>"<Crm>"</code>") is converted into this format: the contact lookup, contact creation, call journaling, no, basic and API-key authentication. The report says what was converted, approximated or has no equivalent, with the 3CX file's line."</p>
            <FileButton label="Choose a 3CX file…" id="f-import-3cx" accept=".xml,application/xml,text/xml" picked=accept />
            {move || report.get().map(|(file, lines)| view! {
                <table class="import-report" aria-label="Conversion report">
                    <caption>{format!("Conversion of {file}")}</caption>
                    <thead><tr><th scope="col">"Line"</th><th scope="col">"Outcome"</th><th scope="col">"3CX element"</th><th scope="col">"What happened"</th></tr></thead>
                    <tbody>
                        {lines.into_iter().map(|line| view! {
                            <tr class=format!("outcome-{:?}", line.outcome).to_lowercase()>
                                <td>{line.line}</td>
                                <td>{line.outcome.label()}</td>
                                <td><code>{line.element}</code></td>
                                <td>{line.message}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </details>
    }
}

/// A button that picks one file and hands it to `picked` (in the browser; the server renders
/// the button only).
#[component]
fn FileButton<F>(
    label: &'static str,
    id: &'static str,
    accept: &'static str,
    picked: F,
) -> impl IntoView
where
    F: Fn(Option<PickedFile>) + 'static,
{
    view! {
        <label class="button button-small">
            {label}
            <input class="visually-hidden" id=id type="file" accept=accept on:change=move |e| {
                #[cfg(feature = "hydrate")]
                {
                    let input = event_target::<web_sys::HtmlInputElement>(&e);
                    picked(input.files().and_then(|l| l.get(0)));
                }
                #[cfg(not(feature = "hydrate"))]
                { let _ = e; picked(None); }
            } />
        </label>
    }
}

#[cfg(feature = "hydrate")]
type PickedFile = web_sys::File;
#[cfg(not(feature = "hydrate"))]
type PickedFile = ();

#[component]
fn UserAssociationSection() -> impl IntoView {
    let editing = expect_context::<Editing>();
    let (on_get, on_set) = flag_of!(user_association.enabled);
    let enabled = move || editing.form.with(|f| f.user_association.enabled);
    let pagination = choice_of(editing, |f| &f.user_association.pagination);
    let (url_get, url_set) = text_of!(user_association.url);
    let (method_get, method_set) = text_of!(user_association.method);
    let (pag_get, pag_set) = text_of!(user_association.pagination);
    let outputs = ["User ID", "First Name", "Last Name", "Email"];
    let examples = [
        "users.#.id",
        "users.#.First_Name",
        "users.#.Last_Name",
        "users.#.Email",
    ];
    view! {
        <Section title="User Association">
            <Switch field="user_association.enabled" label="Associate CRM users with extensions" get=on_get set=on_set />
            <Show when=enabled>
                <Choice field="user_association.method" label="Method" options=METHODS get=method_get.clone() set=method_set.clone() />
                <Text field="user_association.url" label="Get User URL" placeholder="https://www.api.example.com/v1/users?type=ActiveUsers" help="The CRM API request that returns its users; a template." monospace=true get=url_get.clone() set=url_set.clone() />
                <Choice field="user_association.pagination" label="Pagination" options=&[("disabled", "Disabled"), ("page_number", "Page number"), ("offset", "Offset"), ("link", "Next-page link")] get=pag_get.clone() set=pag_set.clone() />
                {move || match pagination.get().as_str() {
                    "page_number" => {
                        let (a, b) = text_of!(user_association.page_param);
                        let (c, d) = text_of!(user_association.page_start);
                        let (e, f) = text_of!(user_association.page_size_param);
                        let (g, h) = text_of!(user_association.page_size);
                        view! {
                            <Text field="user_association.page_param" label="Page parameter" placeholder="page" get=a set=b />
                            <Text field="user_association.page_start" label="First page" placeholder="1" get=c set=d />
                            <Text field="user_association.page_size_param" label="Page size parameter" placeholder="per_page" get=e set=f />
                            <Text field="user_association.page_size" label="Page size" placeholder="200" get=g set=h />
                        }.into_any()
                    }
                    "offset" => {
                        let (a, b) = text_of!(user_association.offset_param);
                        let (c, d) = text_of!(user_association.offset_start);
                        let (e, f) = text_of!(user_association.limit_param);
                        let (g, h) = text_of!(user_association.limit);
                        view! {
                            <Text field="user_association.offset_param" label="Offset parameter" placeholder="offset" get=a set=b />
                            <Text field="user_association.offset_start" label="First offset" placeholder="0" get=c set=d />
                            <Text field="user_association.limit_param" label="Limit parameter" placeholder="limit" get=e set=f />
                            <Text field="user_association.limit" label="Limit" placeholder="100" get=g set=h />
                        }.into_any()
                    }
                    "link" => {
                        let (a, b) = text_of!(user_association.next_link_path);
                        view! { <Text field="user_association.next_link_path" label="Next-page link path" placeholder="links.next" help="GJSON path of the next page's URL in the response." monospace=true get=a set=b /> }.into_any()
                    }
                    _ => ().into_any(),
                }}
                <h3>"User field mapping"</h3>
                {(0..4).map(|i| {
                    let get: Getter = std::sync::Arc::new(move |f: &TemplateForm| Some(f.user_association.output_paths[i].clone()));
                    let set: Setter = std::sync::Arc::new(move |f: &mut TemplateForm, v: String| f.user_association.output_paths[i] = v);
                    view! { <Text field=UserAssociationForm::output_field_id(i) label=outputs[i] placeholder=examples[i] monospace=true get set /> }
                }).collect_view()}
            </Show>
        </Section>
    }
}

#[component]
fn AuthenticationSection() -> impl IntoView {
    let editing = expect_context::<Editing>();
    let method = choice_of(editing, |f| &f.auth.method);
    let (m_get, m_set) = text_of!(auth.method);
    let custom_count = count_of(editing, |f| &f.auth.custom_fields);
    let limit = move || match method.get().as_str() {
        "bearer" => Some(10),
        "oauth2" => None,
        _ => Some(5),
    };
    view! {
        <Section title="Authentication">
            <Choice field="auth.method" label="Authentication method" options=&[("none", "None"), ("basic", "Basic"), ("oauth2", "OAuth2"), ("bearer", "Bearer token")] get=m_get set=m_set />
            <h3>"Custom fields"</h3>
            <p class="help">"Fields the integrating user fills in, available to templates as variables. "
                {move || limit().map(|l| format!("At most {l} for this method.")).unwrap_or_default()}</p>
            <table class="table form-table" aria-label="Custom fields">
                <thead><tr><th>"Type"</th><th>"Name"</th><th>"Title"</th><th>"Options or default"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>
                    {move || (0..custom_count.get()).map(|i| {
                        let (tg, ts) = row_text(|f| &f.auth.custom_fields, |f| &mut f.auth.custom_fields, i, |r| &r.editor, |r| &mut r.editor);
                        let (ng, ns) = row_text(|f| &f.auth.custom_fields, |f| &mut f.auth.custom_fields, i, |r| &r.name, |r| &mut r.name);
                        let (lg, ls) = row_text(|f| &f.auth.custom_fields, |f| &mut f.auth.custom_fields, i, |r| &r.title, |r| &mut r.title);
                        let (vg, vs) = row_text(|f| &f.auth.custom_fields, |f| &mut f.auth.custom_fields, i, |r| &r.value, |r| &mut r.value);
                        view! {
                            <tr>
                                <td><Choice field=format!("auth.custom_fields.{i}.editor") label="Type" options=&[("string", "Text"), ("password", "Password"), ("list", "List")] get=tg set=ts /></td>
                                <td><Text field=format!("auth.custom_fields.{i}.name") label="Name" placeholder="domain" get=ng set=ns /></td>
                                <td><Text field=format!("auth.custom_fields.{i}.title") label="Title" placeholder="CRM domain" get=lg set=ls /></td>
                                <td><Text field=format!("auth.custom_fields.{i}.value") label="Options or default" placeholder="option1,option2" get=vg set=vs /></td>
                                <td><button class="button button-small button-danger" aria-label=format!("Remove custom field {}", i + 1) on:click=move |_| editing.form.update(|f| { if i < f.auth.custom_fields.len() { f.auth.custom_fields.remove(i); } })>"Remove"</button></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <button class="button button-small" disabled=move || { limit().is_some_and(|l| custom_count.get() >= l) }
                on:click=move |_| editing.form.update(|f| f.auth.custom_fields.push(CustomFieldForm { editor: "string".into(), ..Default::default() }))>
                "Add custom field"
            </button>
            {move || match method.get().as_str() {
                "basic" => {
                    let (a, b) = text_of!(auth.credential_type);
                    let (c, d) = text_of!(auth.credential);
                    view! {
                        <Choice field="auth.credential_type" label="Credential type" options=&[("username_password", "User name and password"), ("api_key", "API key")] get=a set=b />
                        <Text field="auth.credential" label="Base64 Encoded Credential" placeholder="{{.username}}:{{.password}} or {{.api_key}}" help="Encoded as Base64 into the Authorization header; a template over the custom fields." monospace=true get=c set=d />
                    }.into_any()
                }
                "oauth2" => {
                    let (a, b) = text_of!(auth.auth_endpoint);
                    let (c, d) = text_of!(auth.token_endpoint);
                    let (e, f) = text_of!(auth.token_content_type);
                    let (g, h) = text_of!(auth.scope);
                    let (i, j) = text_of!(auth.additional_query);
                    view! {
                        <Text field="auth.auth_endpoint" label="Authorization endpoint" placeholder="https://www.api.example.com/auth/v2/authorize?client_id={{.client_id}}" monospace=true get=a set=b />
                        <Text field="auth.token_endpoint" label="Token endpoint" placeholder="https://www.api.example.com/oauth/v2/token?client_id={{.client_id}}&client_secret={{.client_secret}}" monospace=true get=c set=d />
                        <Choice field="auth.token_content_type" label="Token content type" options=CONTENT_TYPES empty_means="Default: application/x-www-form-urlencoded" get=e set=f />
                        <Text field="auth.scope" label="Scope" placeholder="ZohoCRM.modules.ALL,ZohoCRM.users.READ" help="Comma-separated, sent as given." get=g set=h />
                        <Text field="auth.additional_query" label="Additional query string" placeholder="client_id={{.client_id}}&redirect_uri={{.redirect_uri}}" monospace=true get=i set=j />
                        <RefreshSettings />
                    }.into_any()
                }
                "bearer" => {
                    let (c, d) = text_of!(auth.token_endpoint);
                    let (e, f) = text_of!(auth.token_content_type);
                    view! {
                        <Text field="auth.token_endpoint" label="Token endpoint" placeholder="https://www.api.example.com/oauth/v2/token?client_id={{.client_id}}&client_secret={{.client_secret}}&grant_type=client_credentials" monospace=true get=c set=d />
                        <Choice field="auth.token_content_type" label="Token content type" options=CONTENT_TYPES empty_means="Default: application/x-www-form-urlencoded" get=e set=f />
                        <RefreshSettings />
                    }.into_any()
                }
                _ => ().into_any(),
            }}
        </Section>
    }
}

#[component]
fn RefreshSettings() -> impl IntoView {
    let (a, b) = text_of!(auth.refresh_method);
    let (c, d) = text_of!(auth.refresh_endpoint);
    let (e, f) = text_of!(auth.refresh_content_type);
    let (g, h) = text_of!(auth.refresh_time);
    let (i, j) = text_of!(auth.refresh_body);
    view! {
        <h3>"Token refresh"</h3>
        <Choice field="auth.refresh_method" label="Refresh method" options=&[("POST", "POST"), ("GET", "GET"), ("PUT", "PUT")] empty_means="Default: POST" get=a set=b />
        <Text field="auth.refresh_endpoint" label="Refresh endpoint" placeholder="empty: the token endpoint with grant_type=refresh_token" monospace=true get=c set=d />
        <Choice field="auth.refresh_content_type" label="Refresh content type" options=CONTENT_TYPES empty_means="Default: as the token request" get=e set=f />
        <Text field="auth.refresh_time" label="Refresh every (minutes)" placeholder="25" help="Empty means 25; 0 turns automatic refresh off." get=g set=h />
        <Text field="auth.refresh_body" label="Refresh body" placeholder="grant_type=refresh_token&refresh_token={{.RefreshToken}}" multiline=true monospace=true get=i set=j />
    }
}

#[component]
fn HeadersSection() -> impl IntoView {
    let editing = expect_context::<Editing>();
    let count = count_of(editing, |f| &f.headers);
    view! {
        <Section title="Headers">
            <p class="help">"Sent on every request of the REST scenarios (at most 20)."</p>
            <table class="table form-table" aria-label="Headers">
                <thead><tr><th>"Name"</th><th>"Value"</th><th>"Description"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>
                    {move || (0..count.get()).map(|i| {
                        let (ng, ns) = row_text(|f| &f.headers, |f| &mut f.headers, i, |r| &r.name, |r| &mut r.name);
                        let (vg, vs) = row_text(|f| &f.headers, |f| &mut f.headers, i, |r| &r.value, |r| &mut r.value);
                        let (dg, ds) = row_text(|f| &f.headers, |f| &mut f.headers, i, |r| &r.description, |r| &mut r.description);
                        view! {
                            <tr>
                                <td><Text field=format!("headers.{i}.name") label="Name" placeholder="X-Client-Id" get=ng set=ns /></td>
                                <td><Text field=format!("headers.{i}.value") label="Value" placeholder="{{.client_id}}" monospace=true get=vg set=vs /></td>
                                <td><Text field=format!("headers.{i}.description") label="Description" get=dg set=ds /></td>
                                <td><button class="button button-small button-danger" aria-label=format!("Remove header {}", i + 1) on:click=move |_| editing.form.update(|f| { if i < f.headers.len() { f.headers.remove(i); } })>"Remove"</button></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <button class="button button-small" disabled=move || { count.get() >= 20 } on:click=move |_| editing.form.update(|f| f.headers.push(crate::template::form::HeaderForm::default()))>"Add header"</button>
        </Section>
    }
}

#[component]
fn FollowUpSection() -> impl IntoView {
    let editing = expect_context::<Editing>();
    let count = count_of(editing, |f| &f.follow_ups);
    view! {
        <Section title="Follow-up Requests">
            <p class="help">"Requests that run after a scenario succeeds; their outputs become global variables (at most 10)."</p>
            {move || (0..count.get()).map(|i| {
                let (ng, ns) = row_text(|f| &f.follow_ups, |f| &mut f.follow_ups, i, |r| &r.name, |r| &mut r.name);
                let (tg, ts) = row_text(|f| &f.follow_ups, |f| &mut f.follow_ups, i, |r| &r.trigger, |r| &mut r.trigger);
                let (mg, ms) = row_text(|f| &f.follow_ups, |f| &mut f.follow_ups, i, |r| &r.method, |r| &mut r.method);
                let (ug, us) = row_text(|f| &f.follow_ups, |f| &mut f.follow_ups, i, |r| &r.url, |r| &mut r.url);
                let (hg, hs) = row_text(|f| &f.follow_ups, |f| &mut f.follow_ups, i, |r| &r.headers_json, |r| &mut r.headers_json);
                let (bg, bs) = row_text(|f| &f.follow_ups, |f| &mut f.follow_ups, i, |r| &r.body, |r| &mut r.body);
                let paths: Getter = std::sync::Arc::new(move |f: &TemplateForm| f.follow_ups.get(i).map(|r| r.outputs.iter().map(|o| o.path.clone()).collect::<Vec<_>>().join("\n")));
                let set_paths: Setter = std::sync::Arc::new(move |f: &mut TemplateForm, v: String| if let Some(r) = f.follow_ups.get_mut(i) { set_outputs(r, Some(v), None) });
                let names: Getter = std::sync::Arc::new(move |f: &TemplateForm| f.follow_ups.get(i).map(|r| r.outputs.iter().map(|o| o.name.clone()).collect::<Vec<_>>().join("\n")));
                let set_names: Setter = std::sync::Arc::new(move |f: &mut TemplateForm, v: String| if let Some(r) = f.follow_ups.get_mut(i) { set_outputs(r, None, Some(v)) });
                view! {
                    <fieldset class="row-card">
                        <legend>{format!("Follow-up request {}", i + 1)}</legend>
                        <Text field=format!("follow_ups.{i}.name") label="Name" placeholder="GetOrgId" get=ng set=ns />
                        <Choice field=format!("follow_ups.{i}.trigger") label="Trigger" options=TRIGGERS empty_means="(choose what starts it)" help="The scenario (or TokenRefresh) whose success starts it." get=tg set=ts />
                        <Choice field=format!("follow_ups.{i}.method") label="Method" options=METHODS get=mg set=ms />
                        <Text field=format!("follow_ups.{i}.url") label="URL" placeholder="https://api.example.com/rest-services/login" monospace=true get=ug set=us />
                        <Text field=format!("follow_ups.{i}.headers_json") label="Headers (JSON)" placeholder="{\"Authorization\": \"Bearer {{.AccessToken}}\"}" monospace=true get=hg set=hs />
                        <Text field=format!("follow_ups.{i}.body") label="Body" multiline=true monospace=true get=bg set=bs />
                        <Text field=format!("follow_ups.{i}.paths") label="Response paths (one per line)" placeholder="$.data.access_token" multiline=true monospace=true get=paths set=set_paths />
                        <Text field=format!("follow_ups.{i}.names") label="Target variables (one per line)" placeholder="token" multiline=true get=names set=set_names />
                        <button class="button button-small button-danger" on:click=move |_| editing.form.update(|f| { if i < f.follow_ups.len() { f.follow_ups.remove(i); } })>{format!("Remove follow-up request {}", i + 1)}</button>
                    </fieldset>
                }
            }).collect_view()}
            <button class="button button-small" disabled=move || { count.get() >= 10 } on:click=move |_| editing.form.update(|f| {
                let n = f.follow_ups.len() + 1;
                f.follow_ups.push(FollowUpForm { name: format!("FollowUp{n}"), method: "GET".into(), ..Default::default() });
            })>"Add follow-up request"</button>
        </Section>
    }
}

/// Response paths and target variables are edited as two parallel lists.
fn set_outputs(request: &mut FollowUpForm, paths: Option<String>, names: Option<String>) {
    let current_paths: Vec<String> = request.outputs.iter().map(|o| o.path.clone()).collect();
    let current_names: Vec<String> = request.outputs.iter().map(|o| o.name.clone()).collect();
    let paths: Vec<String> =
        paths.map_or(current_paths, |p| p.lines().map(str::to_string).collect());
    let names: Vec<String> =
        names.map_or(current_names, |n| n.lines().map(str::to_string).collect());
    let rows = paths.len().max(names.len());
    request.outputs = (0..rows)
        .map(|i| OutputForm {
            path: paths.get(i).cloned().unwrap_or_default(),
            name: names.get(i).cloned().unwrap_or_default(),
        })
        .collect();
}

#[component]
fn ContactsSection() -> impl IntoView {
    let editing = expect_context::<Editing>();
    let types = count_of(editing, |f| &f.contacts.types);
    let fields = count_of(editing, |f| &f.contacts.fields);
    let popup = choice_of(editing, |f| &f.contacts.popup_mode);
    let (pm_get, pm_set) = text_of!(contacts.popup_mode);
    view! {
        <Section title="Synchronize Contacts Automatically">
            <h3>"Contact types"</h3>
            {move || (0..types.get()).map(|i| {
                let (ng, ns) = row_text(|f| &f.contacts.types, |f| &mut f.contacts.types, i, |r| &r.name, |r| &mut r.name);
                let (mg, ms) = row_text(|f| &f.contacts.types, |f| &mut f.contacts.types, i, |r| &r.method, |r| &mut r.method);
                let (ug, us) = row_text(|f| &f.contacts.types, |f| &mut f.contacts.types, i, |r| &r.url, |r| &mut r.url);
                view! {
                    <fieldset class="row-card">
                        <legend>{format!("Contact type {}", i + 1)}</legend>
                        <Text field=format!("contacts.types.{i}.name") label="Contact type" placeholder="Contacts" get=ng set=ns />
                        <Choice field=format!("contacts.types.{i}.method") label="Method" options=METHODS get=mg set=ms />
                        <Text field=format!("contacts.types.{i}.url") label="Match query URL" help="Finds the contact by {{.Phone}}; a template." placeholder="https://www.api.example.com/crm/v1/Contacts/search?criteria=((Phone:equals:{{.Phone}})or(Mobile:equals:{{.Phone}}))" monospace=true get=ug set=us />
                        <button class="button button-small button-danger" on:click=move |_| editing.form.update(|f| { if i < f.contacts.types.len() { f.contacts.types.remove(i); } })>{format!("Remove contact type {}", i + 1)}</button>
                    </fieldset>
                }
            }).collect_view()}
            <button class="button button-small" on:click=move |_| editing.form.update(|f| f.contacts.types.push(ContactTypeForm { name: String::new(), method: "GET".into(), url: String::new() }))>"Add contact type"</button>
            <Choice field="contacts.popup_mode" label="Contact popup URL" options=&[("specify_url_format", "Specify the URL format"), ("retrieve_from_contact", "Retrieve from the contact")] get=pm_get set=pm_set />
            {move || if popup.get() == "retrieve_from_contact" {
                let (a, b) = text_of!(contacts.popup_field_path);
                view! { <Text field="contacts.popup_field_path" label="Popup URL path" help="GJSON path of the contact's URL in the search response." placeholder="data.#.contactUrl" monospace=true get=a set=b /> }.into_any()
            } else {
                let (a, b) = text_of!(contacts.popup_url_format);
                view! { <Text field="contacts.popup_url_format" label="Popup URL format" placeholder="{{.crm_url}}/crm/{{.CustomValue}}/tab/{{Capitalize .ContactSyncType}}/{{.ContactId}}" monospace=true get=a set=b /> }.into_any()
            }}
            <h3 id="f-contacts-fields" tabindex="-1">"Contact field mapping"</h3>
            <p class="help">"Contact ID and First Name are always on; enable at least one phone number."</p>
            {move || editing.messages.with(|m| m.get("contacts.fields").cloned()).map(|list| list.into_iter().map(|(_, message)| view! { <p class="field-message field-error">{message}</p> }).collect_view())}
            <table class="table form-table" aria-label="Contact field mapping">
                <thead><tr><th>"Field"</th><th>"Enabled"</th><th>"Response path"</th></tr></thead>
                <tbody>
                    {move || (0..fields.get()).map(|i| {
                        let name = editing.form.with(|f| f.contacts.fields.get(i).map(|x| x.field.clone()).unwrap_or_default());
                        let always = matches!(name.as_str(), "ContactsId" | "FirstName");
                        let enabled_get: BoolGetter = std::sync::Arc::new(move |f: &TemplateForm| f.contacts.fields.get(i).is_some_and(|x| x.enabled));
                        let enabled_set: BoolSetter = std::sync::Arc::new(move |f: &mut TemplateForm, v: bool| if let Some(x) = f.contacts.fields.get_mut(i) { x.enabled = v; f.contacts.mapping_edited = true; });
                        let (pg, ps) = row_text(|f| &f.contacts.fields, |f| &mut f.contacts.fields, i, |r| &r.path, |r| &mut r.path);
                        let ps: Setter = std::sync::Arc::new(move |f: &mut TemplateForm, v: String| { ps(f, v); f.contacts.mapping_edited = true; });
                        view! {
                            <tr>
                                <td>{name.clone()}</td>
                                <td><Switch field=ContactsForm::enabled_field_id(i) label="On" disabled=always get=enabled_get set=enabled_set /></td>
                                <td><Text field=ContactsForm::path_field_id(i) label="Path" placeholder="data.#.id" monospace=true get=pg set=ps /></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </Section>
    }
}

#[component]
fn CreateContactSection() -> impl IntoView {
    let editing = expect_context::<Editing>();
    let (on_get, on_set) = flag_of!(create_contact.enabled);
    let enabled = move || editing.form.with(|f| f.create_contact.enabled);
    let count = count_of(editing, |f| &f.create_contact.types);
    view! {
        <Section title="Create New Contact">
            <Switch field="create_contact.enabled" label="Create contacts for unknown numbers" get=on_get set=on_set />
            <Show when=enabled>
                {move || (0..count.get()).map(|i| {
                    let (ng, ns) = row_text(|f| &f.create_contact.types, |f| &mut f.create_contact.types, i, |r| &r.name, |r| &mut r.name);
                    let (ug, us) = row_text(|f| &f.create_contact.types, |f| &mut f.create_contact.types, i, |r| &r.url, |r| &mut r.url);
                    let (bg, bs) = row_text(|f| &f.create_contact.types, |f| &mut f.create_contact.types, i, |r| &r.body, |r| &mut r.body);
                    view! {
                        <fieldset class="row-card">
                            <legend>{format!("New contact type {}", i + 1)}</legend>
                            <Text field=format!("create_contact.types.{i}.name") label="Contact type" placeholder="Contacts" get=ng set=ns />
                            <Text field=format!("create_contact.types.{i}.url") label="URL" placeholder="https://www.api.example.com/crm/v1/Contacts" monospace=true get=ug set=us />
                            <Text field=format!("create_contact.types.{i}.body") label="Body" placeholder="{\"data\":[{\"Last_Name\":\"{{.LastName}}\",\"First_Name\":\"{{.FirstName}}\",\"Phone\":\"{{.BusinessNumber}}\"}]}" multiline=true monospace=true get=bg set=bs />
                            <button class="button button-small button-danger" on:click=move |_| editing.form.update(|f| { if i < f.create_contact.types.len() { f.create_contact.types.remove(i); } })>{format!("Remove new contact type {}", i + 1)}</button>
                        </fieldset>
                    }
                }).collect_view()}
                <button class="button button-small" on:click=move |_| editing.form.update(|f| f.create_contact.types.push(CreateContactTypeForm::default()))>"Add new contact type"</button>
            </Show>
        </Section>
    }
}

#[component]
fn CallJournalSection() -> impl IntoView {
    let editing = expect_context::<Editing>();
    let (on_get, on_set) = flag_of!(call_journal.enabled);
    let enabled = move || editing.form.with(|f| f.call_journal.enabled);
    let (mg, ms) = text_of!(call_journal.method);
    let (ug, us) = text_of!(call_journal.url);
    let (bg, bs) = text_of!(call_journal.body);
    let (sg, ss) = text_of!(call_journal.subject.value);
    let (seg, ses) = flag_of!(call_journal.subject.editable);
    let (dg, ds) = text_of!(call_journal.description.value);
    let (deg, des) = flag_of!(call_journal.description.editable);
    let (pg, ps) = flag_of!(call_journal.play_call_recording.editable);
    let (pdg, pds) = default_of!(call_journal.play_call_recording.value);
    let (xg, xs) = flag_of!(call_journal.disable_missed_call_records.editable);
    let (xdg, xds) = default_of!(call_journal.disable_missed_call_records.value);
    let (ng, ns) = flag_of!(call_journal.need_sync_contact);
    view! {
        <Section title="Call Journal">
            <Switch field="call_journal.enabled" label="Write call journals" get=on_get set=on_set />
            <Show when=enabled>
                <Choice field="call_journal.method" label="Method" options=METHODS get=mg.clone() set=ms.clone() />
                <Text field="call_journal.url" label="URL" help="Creates a call log in the CRM." placeholder="https://www.api.example.com/crm/v2/Calls" monospace=true get=ug.clone() set=us.clone() />
                <Text field="call_journal.body" label="Body" placeholder="{\"data\":[{\"Subject\":\"{{JsonEscape .Subject}}\",\"Call_Type\":\"{{.Communication_Type}}\",\"Call_Start_Time\":\"{{TimeFormat .Time \"yyyy-MM-ddTHH:mm:ssz\" \"1\"}}\"}]}" multiline=true monospace=true get=bg.clone() set=bs.clone() />
                <h3>"Optional settings"</h3>
                <Text field="call_journal.subject" label="Subject" placeholder="{{.Call_Log_Status}} with {{.CallerName}}" get=sg.clone() set=ss.clone() />
                <Switch field="call_journal.subject_editable" label="Users may change the subject" get=seg.clone() set=ses.clone() />
                <Text field="call_journal.description" label="Description" placeholder="Call: {{.Time}} {{.Call_Log_Status}} from {{.Call_From}} to {{.Call_To}} {{.Talk_Duration}}" get=dg.clone() set=ds.clone() />
                <Switch field="call_journal.description_editable" label="Users may change the description" get=deg.clone() set=des.clone() />
                <Switch field="call_journal.play_call_recording_default" label="Send the call recording (RecordPath) by default" get=pdg.clone() set=pds.clone() />
                <Switch field="call_journal.play_call_recording" label="Users may change whether the recording is sent" get=pg.clone() set=ps.clone() />
                <Switch field="call_journal.disable_missed_call_records_default" label="No journal for missed calls by default" get=xdg.clone() set=xds.clone() />
                <Switch field="call_journal.disable_missed_call_records" label="Users may change whether missed calls are journaled" get=xg.clone() set=xs.clone() />
                <Switch field="call_journal.need_sync_contact" label="Look up the contact before writing the journal" get=ng.clone() set=ns.clone() />
            </Show>
        </Section>
    }
}

#[component]
fn TicketSection() -> impl IntoView {
    let editing = expect_context::<Editing>();
    let (on_get, on_set) = flag_of!(ticket.enabled);
    let enabled = move || editing.form.with(|f| f.ticket.enabled);
    let (mg, ms) = text_of!(ticket.method);
    let (ug, us) = text_of!(ticket.url);
    let (bg, bs) = text_of!(ticket.body);
    let (sg, ss) = text_of!(ticket.subject.value);
    let (seg, ses) = flag_of!(ticket.subject.editable);
    let (dg, ds) = text_of!(ticket.description.value);
    let (deg, des) = flag_of!(ticket.description.editable);
    view! {
        <Section title="Create New Ticket">
            <Switch field="ticket.enabled" label="Create tickets for calls" get=on_get set=on_set />
            <Show when=enabled>
                <Choice field="ticket.method" label="Method" options=METHODS get=mg.clone() set=ms.clone() />
                <Text field="ticket.url" label="URL" placeholder="https://{{.domain}}.zendesk.com/api/v2/tickets" monospace=true get=ug.clone() set=us.clone() />
                <Text field="ticket.body" label="Body" placeholder="{\"ticket\":{\"subject\":\"{{JsonEscape .Subject}}\",\"comment\":{\"body\":\"{{JsonEscape .Description}}\"}}}" multiline=true monospace=true get=bg.clone() set=bs.clone() />
                <Text field="ticket.subject" label="Subject" placeholder="{{.Call_Log_Status}} from {{.CallerNumber}}" get=sg.clone() set=ss.clone() />
                <Switch field="ticket.subject_editable" label="Users may change the subject" get=seg.clone() set=ses.clone() />
                <Text field="ticket.description" label="Description" placeholder="{{.Call_From}} called {{.Call_To}}" get=dg.clone() set=ds.clone() />
                <Switch field="ticket.description_editable" label="Users may change the description" get=deg.clone() set=des.clone() />
            </Show>
        </Section>
    }
}
