//! The shared crate's integration tests: one binary, one module per area (the template
//! language against the Go reference, its limits and fuzzing, template fixtures, the vendor's
//! examples). Run one area with `cargo test -p app --test it conformance::`.

mod conformance;
mod fuzz_language;
mod language_limits;
mod template_fixtures;
mod template_language;
mod vendor_examples;
