//! The template language: what evaluates every URL, header, body and path in
//! a template. Two small languages the vendor took from Go, kept
//! behaviour-for-behaviour compatible with the Go originals:
//!
//! - [`gjson`]: GJSON paths that read values out of a CRM's JSON responses;
//! - [`text`]: Go `text/template` for strings, with Patchbay's functions.
//!
//! Pure code with no I/O: the server runs it and the browser validates
//! templates with it.

pub mod functions;
pub mod gjson;
pub mod text;
