//! The REST API under `/api/v1/`, one module per resource. Each has one `ApiError` type with
//! stable codes and its route table in its module doc.

pub mod templates;
