//! The engine honours what the template and the Features page say, against a loopback CRM
//! (`wiremock`) that checks what Patchbay sends: a follow-up's Headers (JSON), GetGlobalInfo's
//! follow-ups at Save and Check connection with the stored globals merged, a token answer's
//! other values (`TokenResponse_instance_url`), a 404 "no contact" at Save and the
//! Features' test number, `<Field>Enable` switches, number formats, the contact cache with
//! Always Query, the rule for several matches, and the call's variables in a lookup.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

on_both_databases!(
    save_runs_global_info_with_its_follow_ups_and_keeps_the_token_answers_values,
    a_crm_that_answers_404_for_no_contact_connects_and_checks_the_features_test_number,
    lookups_honour_switches_number_formats_the_cache_and_the_rule_for_several_matches,
);

const KEY: &str = "fidelity_crm";
const ADA: &str = "+4930123456";

/// A CRM behind a client-credentials token endpoint that answers `instance_url`: its data
/// API lives there, wants the session a follow-up opens, and answers 404 for an unknown
/// number.
async fn crm() -> MockServer {
    let crm = MockServer::start().await;
    let instance = format!("{}/instance", crm.uri());
    let ok = |body: Value| ResponseTemplate::new(200).set_body_json(body);
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ok(json!({
            "access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600,
            "instance_url": instance, "id_token": "never-kept"
        })))
        .mount(&crm)
        .await;
    Mock::given(method("GET"))
        .and(path("/instance/org"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(ok(json!({"id": "org-9"})))
        .mount(&crm)
        .await;
    Mock::given(method("POST"))
        .and(path("/instance/session"))
        .and(header("x-org", "org-9"))
        .respond_with(ok(json!({"session": "s-77"})))
        .mount(&crm)
        .await;
    let record = |id: &str, first: &str| {
        json!({"id": id, "first": first, "last": "Lovelace", "email": "ada@example.test",
               "phone": ADA, "kind": "Contacts"})
    };
    Mock::given(method("GET"))
        .and(path("/instance/contacts"))
        .and(query_param("phone", ADA))
        .respond_with(ok(json!({"records": [record("c-1", "Ada")]})))
        .with_priority(1)
        .mount(&crm)
        .await;
    Mock::given(method("GET"))
        .and(path("/instance/contacts"))
        .and(query_param("phone", "+4930999"))
        .respond_with(ok(
            json!({"records": [record("c-2", "Ada"), record("c-3", "Augusta")]}),
        ))
        .with_priority(1)
        .mount(&crm)
        .await;
    Mock::given(method("GET"))
        .and(path("/instance/contacts"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "no such contact"})))
        .with_priority(5)
        .mount(&crm)
        .await;
    crm
}

async fn connected(db: Db, crm: &MockServer, text: String) -> (TestServer, Admin) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let (status, body) = admin.upload("crm", &[("f.xml", text)], &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, answer) = admin
        .browser
        .call(
            "save_integration",
            json!({"csrf_token": admin.csrf, "provider": "crm", "key": KEY,
                   "input": {"values": [["client_id", "id-1"], ["client_secret", "secret-1"]]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer} {:?}", sent(crm, "").await);
    (server, admin)
}

async fn save_features(admin: &Admin, features: Value) {
    let (status, body) = admin
        .browser
        .call(
            "save_features",
            json!({"csrf_token": admin.csrf, "provider": "crm", "key": KEY, "features": features}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn action(admin: &Admin, action: &str) -> reqwest::Response {
    admin.crm_action(action, KEY).await
}

/// The requests the CRM received on paths ending in `suffix`.
async fn sent(crm: &MockServer, suffix: &str) -> Vec<Request> {
    crm.received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path().ends_with(suffix))
        .collect()
}

async fn save_runs_global_info_with_its_follow_ups_and_keeps_the_token_answers_values(db: Db) {
    let crm = crm().await;
    let (server, admin) =
        connected(db, &crm, Fixture::load("fidelity-crm.xml").at(&crm.uri())).await;
    // GetGlobalInfo read the org at the instance the token answer named, and its follow-up
    // sent the org in its Headers (JSON): the mock answers only with that header.
    let sessions = sent(&crm, "/instance/session").await;
    assert_eq!(sessions.len(), 1, "the follow-up ran at Save");
    assert_eq!(sessions[0].headers["x-org"], "org-9");
    let stored = |pattern: &'static str| {
        let server = &server;
        async move {
            server
                .scalar(&format!(
                    "SELECT COUNT(*) FROM integrations WHERE global_variables LIKE '%{pattern}%'"
                ))
                .await
        }
    };
    assert_eq!(stored(r#""SessionId":"s-77""#).await, 1);
    assert_eq!(stored(r#""TokenResponse_instance_url":"http"#).await, 1);
    assert_eq!(stored("never-kept").await, 0, "an id_token is a secret");

    // Check connection merges what it reads into what is stored.
    server
        .execute(r#"UPDATE integrations SET global_variables = REPLACE(global_variables, '{', '{"Kept":"yes",')"#)
        .await;
    let response = action(&admin, "check_integration").await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap()
    );
    assert_eq!(
        sent(&crm, "/instance/session").await.len(),
        2,
        "Check runs the follow-ups too"
    );
    assert_eq!(stored(r#""Kept":"yes""#).await, 1, "not wiped by Check");
    assert_eq!(stored(r#""SessionId":"s-77""#).await, 1);

    // A lookup sends the session the follow-up opened.
    let token = admin.create_token("pbx", "lookup").await;
    let (status, answer) = lookup(&server, &token, "phone=%2B4930123456").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let searches = sent(&crm, "/instance/contacts").await;
    assert_eq!(searches.last().unwrap().headers["x-session"], "s-77");
}

async fn a_crm_that_answers_404_for_no_contact_connects_and_checks_the_features_test_number(
    db: Db,
) {
    let crm = crm().await;
    let text = Fixture::load("fidelity-crm.xml")
        .without_scenario("GetGlobalInfo")
        .without_scenario("FollowUp")
        .at(&crm.uri());
    // Save looks the sample number up; the CRM's 404 means "no such contact", which proves
    // the credentials as a match would.
    let (_server, admin) = connected(db, &crm, text).await;
    let searches = sent(&crm, "/instance/contacts").await;
    assert_eq!(searches.len(), 1);
    assert!(searches[0].url.query().unwrap().contains("phone=5550100"));

    save_features(&admin, json!({"contacts": {"test_number": ADA}})).await;
    let response = action(&admin, "check_integration").await;
    assert_eq!(response.status(), StatusCode::OK);
    let searches = sent(&crm, "/instance/contacts").await;
    assert_eq!(searches.len(), 2);
    let query: Vec<(String, String)> = searches[1].url.query_pairs().into_owned().collect();
    assert!(
        query.contains(&("phone".to_owned(), ADA.to_owned())),
        "Check connection looks up the Features' test number: {query:?}"
    );
}

async fn lookups_honour_switches_number_formats_the_cache_and_the_rule_for_several_matches(db: Db) {
    let crm = crm().await;
    let (server, admin) =
        connected(db, &crm, Fixture::load("fidelity-crm.xml").at(&crm.uri())).await;
    let token = admin.create_token("pbx", "lookup").await;
    // Numbers are tried as received, then in E.164 read in Germany.
    save_features(
        &admin,
        json!({"contacts": {"number_formats": ["as_received", "e164"], "default_country": "de"}}),
    )
    .await;
    let searches = || async { sent(&crm, "/instance/contacts").await.len() };
    let before = searches().await;
    let (status, answer) = lookup(&server, &token, "phone=030%20123456").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        searches().await,
        before + 2,
        "as received (404), then E.164"
    );
    let last = sent(&crm, "/instance/contacts").await.pop().unwrap();
    let query: Vec<(String, String)> = last.url.query_pairs().into_owned().collect();
    assert!(
        query.contains(&("caller".to_owned(), "030 123456".to_owned())),
        "a lookup's CallerNumber is the number asked: {query:?}"
    );
    assert_eq!(answer["number"], ADA);
    assert_eq!(answer["matches"], 1);
    // Email is switched off; CustomValue only builds the popup URL.
    assert_eq!(
        answer["contact"],
        json!({"ContactsId": "c-1", "FirstName": "Ada", "LastName": "Lovelace", "BusinessNumber": ADA})
    );
    assert_eq!(answer["popup_url"], format!("{}/Contacts/c-1", crm.uri()));
    assert_eq!(answer["cached_at"], Value::Null);

    // Always Query off (the default): the cache answers, the CRM is not asked.
    let before = searches().await;
    let (status, cached) = lookup(&server, &token, "phone=%2B49%2030%20123456").await;
    assert_eq!(status, StatusCode::OK, "{cached}");
    assert_eq!(searches().await, before, "served from the cache");
    assert!(cached["cached_at"].is_i64());
    assert_eq!(cached["contact"], answer["contact"]);
    // An entry older than the Features' age is read again.
    server
        .execute("UPDATE cached_contacts SET read_at = read_at - 7200")
        .await;
    lookup(&server, &token, "phone=%2B4930123456").await;
    assert_eq!(searches().await, before + 1, "a stale entry asks the CRM");
    // Always Query on: the CRM every time.
    save_features(
        &admin,
        json!({"contacts": {"always_query": true, "number_formats": ["e164"], "default_country": "DE"}}),
    )
    .await;
    lookup(&server, &token, "phone=%2B4930123456").await;
    lookup(&server, &token, "phone=%2B4930123456").await;
    assert_eq!(searches().await, before + 3);

    // Several matches: refused, or listed for the agent.
    save_features(&admin, json!({"contacts": {"several_matches": "refuse"}})).await;
    let (status, refused) = lookup(&server, &token, "phone=%2B4930999").await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["error"]["code"], "contact.ambiguous");
    save_features(&admin, json!({"contacts": {"several_matches": "all"}})).await;
    let (status, listed) = lookup(&server, &token, "phone=%2B4930999").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["matches"], 2);
    let names: Vec<&str> = listed["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["contact"]["FirstName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ada", "Augusta"]);
    let activity = server
        .scalar("SELECT COUNT(*) FROM activity WHERE detail = '2 matches, 2 listed'")
        .await;
    assert_eq!(activity, 1, "Activity says how many matched");

    // The phonebook on the integration page: searchable by name or number.
    let (status, page) = admin
        .browser
        .get_json(&format!(
            "/api/list_cached_contacts?provider=crm&key={KEY}&search=lovel"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["total"], 1);
    assert_eq!(page["contacts"][0]["name"], "Ada Lovelace");
    assert_eq!(page["contacts"][0]["number"], "+4930123456");
    let (status, page) = server
        .browser()
        .get_json(&format!("/api/list_cached_contacts?provider=crm&key={KEY}"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{page}");
    // Limits are named and checked: nothing is stored.
    let (status, refused) = admin
        .browser
        .call(
            "save_features",
            json!({"csrf_token": admin.csrf, "provider": "crm", "key": KEY,
                   "features": {"contacts": {"default_country": "Germany"}}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["Invalid"]["field"], "Default country");

    // A `user` may clear the phonebook (as they may Disconnect), never without the page's
    // CSRF token: a link on another site cannot.
    let user = admin.new_user(&server, "mallory@example.com").await;
    let cached = server.scalar("SELECT COUNT(*) FROM cached_contacts").await;
    assert!(cached > 0);
    let forged = user
        .browser
        .post_form(
            "/api/clear_contact_cache",
            &[("csrf_token", "forged"), ("provider", "crm"), ("key", KEY)],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        server.scalar("SELECT COUNT(*) FROM cached_contacts").await,
        cached
    );
    let cleared = user
        .browser
        .post_form(
            "/api/clear_contact_cache",
            &[
                ("csrf_token", user.csrf.as_str()),
                ("provider", "crm"),
                ("key", KEY),
            ],
        )
        .await;
    assert_eq!(cleared.status(), StatusCode::OK);
    assert_eq!(cleared.text().await.unwrap(), cached.to_string());
    assert_eq!(
        server.scalar("SELECT COUNT(*) FROM cached_contacts").await,
        0
    );

    // Disconnect empties the cache too.
    lookup(&server, &token, "phone=%2B4930123456").await;
    assert_eq!(
        server.scalar("SELECT COUNT(*) FROM cached_contacts").await,
        1
    );
    assert_eq!(
        action(&admin, "disconnect_integration").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        server.scalar("SELECT COUNT(*) FROM cached_contacts").await,
        0
    );
}
