//! Integration templates on the server: text in, storable template out (`intake`, pure), and
//! the work the REST API and the pages share (`service`).

pub mod gallery;
pub mod history;
pub mod intake;
pub mod service;
