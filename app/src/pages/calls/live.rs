//! The Calls page's browser side: the live stream (an `EventSource` on
//! `/api/v1/calls/stream`, which reconnects by itself with the last event id), desktop
//! notifications while the page is in the background, and opening a CRM record in a new
//! tab. Hydrate only.

use send_wrapper::SendWrapper;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{
    EventSource, MessageEvent, Notification, NotificationOptions, NotificationPermission,
};

use crate::agents::CallUpdate;

/// What the stream tells the page.
pub enum Heard {
    /// The stream is open (again).
    Open,
    /// The connection dropped; the browser reconnects by itself.
    Lost,
    Update(Box<CallUpdate>),
    /// Too much was missed: the page reloads its list and opens a new stream.
    Reset,
}

/// An open stream, closed when dropped (with the page).
pub struct LiveStream {
    source: EventSource,
    _listeners: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

impl Drop for LiveStream {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// Opens the stream after update `after`; `heard` gets each thing it tells.
pub fn connect(after: i64, heard: impl Fn(Heard) + 'static) -> Option<SendWrapper<LiveStream>> {
    let source = EventSource::new(&format!("/api/v1/calls/stream?after={after}")).ok()?;
    let heard = std::rc::Rc::new(heard);
    let mut listeners = Vec::new();
    let mut listen = |name: &str, handle: Box<dyn Fn(web_sys::Event)>| {
        let closure = Closure::<dyn FnMut(web_sys::Event)>::new(handle);
        let _ = source.add_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
        listeners.push(closure);
    };
    let on = heard.clone();
    listen("ready", Box::new(move |_| on(Heard::Open)));
    let on = heard.clone();
    listen("error", Box::new(move |_| on(Heard::Lost)));
    let on = heard.clone();
    let closing = source.clone();
    listen(
        "reset",
        Box::new(move |_| {
            closing.close();
            on(Heard::Reset)
        }),
    );
    let on = heard;
    listen(
        "call",
        Box::new(move |event| {
            let data = event
                .dyn_ref::<MessageEvent>()
                .and_then(|m| m.data().as_string());
            if let Some(update) = data.and_then(|d| serde_json::from_str::<CallUpdate>(&d).ok()) {
                on(Heard::Update(Box::new(update)));
            }
        }),
    );
    Some(SendWrapper::new(LiveStream {
        source,
        _listeners: listeners,
    }))
}

/// Whether the page is in the background (another tab, minimised).
pub fn in_background() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Hidden)
}

/// Whether notifications may still be asked for (the browser has not been asked yet).
pub fn notifications_undecided() -> bool {
    Notification::permission() == NotificationPermission::Default
}

/// Asks the browser once whether the page may notify.
pub fn ask_for_notifications() {
    let _ = Notification::request_permission();
}

/// A desktop notification, when the browser allows them.
pub fn notify(title: &str, body: &str) {
    if Notification::permission() != NotificationPermission::Granted {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(body);
    options.set_tag("patchbay-call");
    let _ = Notification::new_with_options(title, &options);
}

/// Opens `url` in a new tab; false when the browser blocked it.
pub fn open_in_new_tab(url: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.open_with_url_and_target(url, "_blank").ok())
        .flatten()
        .is_some()
}
