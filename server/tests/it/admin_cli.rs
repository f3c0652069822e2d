//! `patchbay admin list` and `patchbay admin reset-password EMAIL` beside a running server
//! (README "When the last administrator's password is lost"): the link the command prints
//! sets a new password once, within its hour, ends the account's sessions, and is replaced
//! by the next one; a short password changes nothing and keeps the link; the old password
//! stops working; an unknown address is an error; the page needs no WebAssembly.

use std::process::Output;

use crate::common::process::{instance_env, patchbay, said, serve};
use crate::common::*;
use reqwest::StatusCode;

const NEW_PASSWORD: &str = "new-pass-Kestrel-3141";

on_both_databases!(an_administrator_who_lost_the_password_gets_back_in_with_a_one_time_link,);

/// The link's path (`/reset-password?token=…`) in what the command printed.
fn link_in(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout);
    let at = text.find("/reset-password?token=").expect("a reset link");
    text[at..].split_whitespace().next().unwrap().to_owned()
}

async fn an_administrator_who_lost_the_password_gets_back_in_with_a_one_time_link(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(db, dir.path()).await;
    let env = instance_env(dir.path(), &database_url, 9, &[]);
    let server = serve(&env, &dir.path().join("serve.log")).await;
    let signed_in = Browser::new(&server.base);
    signed_in.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let listed = patchbay(&["admin", "list"], &env).await;
    assert!(listed.status.success(), "{}", said(&listed));
    let line = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .find(|line| line.starts_with(ADMIN_EMAIL))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("{}", said(&listed)));
    assert!(line.contains("admin") && line.contains("active"), "{line}");

    let unknown = patchbay(&["admin", "reset-password", "nobody@example.com"], &env).await;
    assert!(!unknown.status.success());
    assert!(said(&unknown).contains("no account"), "{}", said(&unknown));

    let first = patchbay(&["admin", "reset-password", ADMIN_EMAIL], &env).await;
    assert!(first.status.success(), "{}", said(&first));
    let replaced = link_in(&first);
    let second = patchbay(&["admin", "reset-password", ADMIN_EMAIL], &env).await;
    let link = link_in(&second);
    // With the public URL this configuration has (none set: the default bind's).
    assert!(
        String::from_utf8_lossy(&second.stdout).contains(&format!("http://127.0.0.1:3000{link}")),
        "the link is printed with the public URL: {}",
        said(&second)
    );
    let token = link.strip_prefix("/reset-password?token=").unwrap();

    let visitor = Browser::new(&server.base);
    let (status, page) = visitor.get_text(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Choose a new password"), "{page}");
    assert!(!page.contains(".wasm"), "a plain page: no WebAssembly");
    let csrf = visitor.csrf_token(&link).await;
    let post = |token: String, password: &'static str| {
        let (visitor, csrf) = (&visitor, csrf.clone());
        async move {
            visitor
                .post_form(
                    "/reset-password",
                    &[
                        ("csrf_token", &csrf),
                        ("token", &token),
                        ("password", password),
                    ],
                )
                .await
        }
    };

    let old_link = replaced.strip_prefix("/reset-password?token=").unwrap();
    let refused = post(old_link.to_owned(), NEW_PASSWORD).await;
    assert_eq!(
        location(&refused),
        "/reset-password?error=token",
        "a replaced link"
    );
    let short = post(token.to_owned(), "short").await;
    assert!(
        location(&short).ends_with("error=password"),
        "{}",
        location(&short)
    );
    let without_csrf = visitor
        .post_form(
            "/reset-password",
            &[("token", token), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_ne!(location(&without_csrf), "/login?msg=password_set");

    let set = post(token.to_owned(), NEW_PASSWORD).await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&set), "/login?msg=password_set");
    let again = post(token.to_owned(), "another-pass-Heron-2718").await;
    assert_eq!(
        location(&again),
        "/reset-password?error=token",
        "the link works once"
    );

    // The old password no longer works, the new one does, and the old session ended.
    let response = Browser::new(&server.base)
        .login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    assert_eq!(location(&response), "/login?msg=invalid");
    Browser::new(&server.base)
        .login_ok(ADMIN_EMAIL, NEW_PASSWORD)
        .await;
    let home = signed_in.get("/").await;
    assert_eq!(
        home.status(),
        StatusCode::SEE_OTHER,
        "the old session ended"
    );
    assert!(location(&home).starts_with("/login"), "{}", location(&home));
}
