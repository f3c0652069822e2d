//! How a page reads its data: one JSON decoder per type in the browser bundle.
//!
//! A page's data reaches the browser two ways: inside the server-rendered page (a resource's
//! value, read once when the page hydrates) and as a server function's result (every reload
//! after that). Both are JSON, but Leptos' default resource codec decodes a `&str` while server
//! functions decode bytes, and serde_json compiles a separate decoder for every type and every
//! kind of reader: each type's decoder went into the bundle twice (about 110 KB of
//! WebAssembly on the integration pages). [`PageCodec`] reads the resource's value as bytes
//! too, so both ways share one decoder.

use codee::{Decoder, Encoder};
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A resource's value as JSON, decoded with the reader server functions use.
pub struct PageCodec;

impl<T: Serialize> Encoder<T> for PageCodec {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for PageCodec {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(encoded: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(encoded.as_bytes())
    }
}

/// Data a page loads: rendered with the page on the server, then reloaded whenever `source`
/// changes.
pub type PageData<T> = Resource<T, PageCodec>;

/// [`Resource::new`] with [`PageCodec`].
#[track_caller]
pub fn page_data<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> PageData<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}
