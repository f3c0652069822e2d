//! The labels `/metrics` counts a request under: the route as the router declares it (never
//! the raw path, which a client chooses) and the method. Counted by
//! [`super::security_headers::security_headers`], the middleware every answer already passes
//! through once it is routed: a second per-route middleware only for this made the first
//! page of a new server on PostgreSQL stall now and then in the test suite (its body stopped
//! until the idle timeout), which one middleware never did.

use axum::extract::{MatchedPath, Request};
use axum::http::Method;

/// The route and method of `request`, as labels.
pub fn labels(request: &Request) -> (String, &'static str) {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|matched| matched.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    // A client may send any method name: the known ones are labels, the rest one.
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    (route, method)
}
