//! CRM user sync over real HTTP, on SQLite and PostgreSQL, against a loopback `wiremock` CRM:
//! the three pagination modes (a `Link` header, a next URL in the body), the 100-request
//! limit, an empty last page, and failures halfway (an error page, a user without an id, an
//! answer that is not JSON, a next link that loops) that change nothing.

use std::time::Duration;

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

on_both_databases!(
    page_numbers_run_until_an_empty_page_and_a_second_sync_updates_and_removes,
    offsets_stop_at_the_request_limit_and_remove_nobody,
    links_come_from_the_body_or_the_link_header_and_a_loop_is_refused,
    a_failure_halfway_changes_nothing,
    a_second_sync_joins_the_one_running,
    a_sync_whose_browser_went_away_still_finishes,
);

fn template(crm: &str, pagination: &str, users_path: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Information Provider="crm" Name="Users CRM" Key="users_crm" Version="1.0.0" AuthType="none" MaxConcurrentRequest="2" UserAssociation="1" CallJournal="0" CreateNewContact="0">
  <Scenarios>
    <Scenario Id="AuthMethod" Type="AUTH"><Parameters><Parameter Name="AuthMethod" Value="none"/></Parameters></Scenario>
    <Scenario Id="GetGlobalInfo" Type="REST"><Requests><Request Name="Me" Method="GET" URLFormat="{crm}/me"/></Requests></Scenario>
    <Scenario Id="UserAssociation" Type="REST">
      <Parameters>{pagination}</Parameters>
      <Requests>
        <Request Name="UserAssociation" Method="GET" URLFormat="{crm}/users?active=1">
          <Outputs>
            <Output Name="UserUniqueId" Path="{users_path}.#.id"/>
            <Output Name="FirstName" Path="{users_path}.#.first"/>
            <Output Name="LastName" Path="{users_path}.#.last"/>
            <Output Name="Email" Path="{users_path}.#.email"/>
          </Outputs>
        </Request>
      </Requests>
    </Scenario>
  </Scenarios>
</Information>
"#
    )
}

fn user(id: &str) -> Value {
    json!({"id": id, "first": format!("First {id}"), "last": "Last", "email": format!("{id}@crm.example")})
}

async fn crm() -> MockServer {
    let crm = MockServer::start().await;
    Mock::given(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1})))
        .mount(&crm)
        .await;
    crm
}

async fn connected(db: Db, text: String) -> (TestServer, Admin) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    admin.connect_crm("users.xml", text, "users_crm").await;
    (server, admin)
}

async fn users(admin: &Admin, search: &str) -> Value {
    admin
        .browser
        .get(&format!(
            "/api/list_crm_users?provider=crm&key=users_crm&search={search}"
        ))
        .await
        .json()
        .await
        .unwrap()
}

async fn user_pages(crm: &MockServer) -> usize {
    crm.received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/users")
        .count()
}

async fn page_numbers_run_until_an_empty_page_and_a_second_sync_updates_and_removes(db: Db) {
    let crm = crm().await;
    let page = |n: &str, body: Value| {
        Mock::given(method("GET"))
            .and(path("/users"))
            .and(query_param("active", "1"))
            .and(query_param("_page", n))
            .and(query_param("_limit", "2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
    };
    page("1", json!({"data": [user("u1"), user("u2")]}))
        .mount(&crm)
        .await;
    page("2", json!({"data": [user("u3"), user("u4")]}))
        .mount(&crm)
        .await;
    page("3", json!({"data": []})).mount(&crm).await;
    let pagination = r#"<Parameter Name="PaginationType" Value="page_number"/><Parameter Name="PageParamName" Value="_page"/><Parameter Name="PageStartValue" Value="1"/><Parameter Name="PageSizeParamName" Value="_limit"/><Parameter Name="PageSizeValue" Value="2"/>"#;
    let (server, admin) = connected(db, template(&crm.uri(), pagination, "data")).await;

    let (status, report) = admin.sync_crm_users("users_crm").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (
            report["pages"].clone(),
            report["users"].clone(),
            report["added"].clone(),
            report["complete"].clone()
        ),
        (json!(3), json!(4), json!(4), json!(true))
    );
    let listed = users(&admin, "").await;
    assert_eq!(listed["total"], 4);
    assert_eq!(listed["users"][0]["email"], "u1@crm.example");
    assert_eq!(users(&admin, "u3@").await["total"], 1);

    // The CRM renames u2 and drops u4: one updated, one removed, the rest unchanged.
    crm.reset().await;
    let mut renamed = user("u2");
    renamed["first"] = json!("Renamed");
    page("1", json!({"data": [user("u1"), renamed]}))
        .mount(&crm)
        .await;
    page("2", json!({"data": [user("u3")]})).mount(&crm).await;
    page("3", json!({"data": []})).mount(&crm).await;
    let (_, report) = admin.sync_crm_users("users_crm").await;
    assert_eq!(
        (
            report["updated"].clone(),
            report["removed"].clone(),
            report["unchanged"].clone()
        ),
        (json!(1), json!(1), json!(2)),
        "{report}"
    );
    assert_eq!(users(&admin, "").await["total"], 3);
    drop(server);
}

/// Answers `offset`'s one user, forever.
struct OneUserPerOffset;

impl Respond for OneUserPerOffset {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let offset = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "start")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        ResponseTemplate::new(200).set_body_json(json!([user(&format!("o{offset}"))]))
    }
}

async fn offsets_stop_at_the_request_limit_and_remove_nobody(db: Db) {
    let crm = crm().await;
    Mock::given(path("/users"))
        .respond_with(OneUserPerOffset)
        .mount(&crm)
        .await;
    let pagination = r#"<Parameter Name="PaginationType" Value="offset"/><Parameter Name="OffsetParamName" Value="start"/><Parameter Name="OffsetValue" Value="0"/><Parameter Name="LimitParamName" Value="count"/><Parameter Name="LimitValue" Value="1"/>"#;
    let (server, admin) = connected(db, template(&crm.uri(), pagination, "@this")).await;
    server
        .execute("INSERT INTO crm_users (integration_id, crm_id, first_name, last_name, email, synced_at) SELECT id, 'old', 'Old', 'User', 'old@crm.example', 0 FROM integrations")
        .await;
    let (status, report) = admin.sync_crm_users("users_crm").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(user_pages(&crm).await, 100, "at most 100 requests");
    assert_eq!(report["users"], 100);
    assert_eq!(report["complete"], false);
    assert_eq!(report["removed"], 0, "a sync cut short removes nobody");
    assert!(
        report["message"]
            .as_str()
            .unwrap()
            .contains("limit of 100 requests"),
        "{report}"
    );
    assert_eq!(users(&admin, "").await["total"], 101);
    let offsets: Vec<String> = crm
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/users")
        .filter_map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "start")
                .map(|(_, v)| v.into_owned())
        })
        .collect();
    assert_eq!(offsets[..3], ["0", "1", "2"]);
    drop(server);
}

async fn links_come_from_the_body_or_the_link_header_and_a_loop_is_refused(db: Db) {
    let crm = crm().await;
    let base = crm.uri();
    Mock::given(path("/users"))
        .and(query_param("active", "1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"items": [user("l1")], "links": {"next": "/users/page/2"}})),
        )
        .mount(&crm)
        .await;
    Mock::given(path("/users/page/2"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "link",
                    format!(
                        r#"<{base}/users/page/1>; rel="prev", <{base}/users/page/3>; rel="next""#
                    )
                    .as_str(),
                )
                .set_body_json(json!({"items": [user("l2")], "links": {}})),
        )
        .mount(&crm)
        .await;
    Mock::given(path("/users/page/3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": [user("l3")]})))
        .mount(&crm)
        .await;
    let pagination = r#"<Parameter Name="PaginationType" Value="link"/><Parameter Name="NextPageLinkPath" Value="links.next"/>"#;
    let (server, admin) = connected(db, template(&base, pagination, "items")).await;
    let (status, report) = admin.sync_crm_users("users_crm").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["pages"].clone(), report["users"].clone()),
        (json!(3), json!(3))
    );

    // A next link back to a page already read is a loop: refused, nothing changed.
    crm.reset().await;
    Mock::given(path("/users"))
        .and(query_param("active", "1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"items": [user("x1")], "links": {"next": "/users/page/2"}})),
        )
        .mount(&crm)
        .await;
    Mock::given(path("/users/page/2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"items": [user("x2")], "links": {"next": format!("{base}/users?active=1")}}),
        ))
        .mount(&crm)
        .await;
    let (status, body) = admin.sync_crm_users("users_crm").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(
        body.to_string().contains("loop") && body.to_string().contains("Nothing was changed"),
        "{body}"
    );
    let listed = users(&admin, "").await;
    assert_eq!(listed["total"], 3);
    assert_eq!(listed["users"][0]["crm_id"], "l1");
    drop(server);
}

async fn a_failure_halfway_changes_nothing(db: Db) {
    let crm = crm().await;
    let pagination = r#"<Parameter Name="PaginationType" Value="page_number"/><Parameter Name="PageParamName" Value="page"/><Parameter Name="PageSizeParamName" Value="size"/><Parameter Name="PageSizeValue" Value="1"/>"#;
    let (server, admin) = connected(db, template(&crm.uri(), pagination, "data")).await;
    let answers = [
        (
            ResponseTemplate::new(500).set_body_string("database is down"),
            "HTTP 500: database is down",
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({"data": [{"first": "No Id"}]})),
            "user 1 of page 2 has no UserUniqueId",
        ),
        (
            ResponseTemplate::new(200).set_body_raw("<html>Sign in</html>", "text/html"),
            "not JSON",
        ),
    ];
    for (second_page, says) in answers {
        crm.reset().await;
        Mock::given(path("/users"))
            .and(query_param("page", "1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [user("p1")]})))
            .mount(&crm)
            .await;
        Mock::given(path("/users"))
            .and(query_param("page", "2"))
            .respond_with(second_page)
            .mount(&crm)
            .await;
        let (status, body) = admin.sync_crm_users("users_crm").await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
        assert!(body.to_string().contains(says), "{says}: {body}");
        assert_eq!(users(&admin, "").await["total"], 0, "nothing half-applied");
    }
    let page = admin
        .browser
        .get("/api/list_activity?scenario=UserAssociation&outcome=failed")
        .await;
    let page: Value = page.json().await.unwrap();
    assert_eq!(page["rows"].as_array().unwrap().len(), 3, "{page}");
    drop(server);
}

async fn a_second_sync_joins_the_one_running(db: Db) {
    let crm = crm().await;
    Mock::given(path("/users"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(400))
                .set_body_json(json!([user("j1"), user("j2")])),
        )
        .mount(&crm)
        .await;
    let (server, admin) = connected(db, template(&crm.uri(), "", "@this")).await;
    let (first, second) = tokio::join!(admin.sync_crm_users("users_crm"), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let progress: Value = admin
            .browser
            .get("/api/crm_user_sync_progress?provider=crm&key=users_crm")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(progress["running"], true, "{progress}");
        admin.sync_crm_users("users_crm").await
    });
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    assert_eq!(
        first.1, second.1,
        "the second press got the first one's result"
    );
    assert_eq!(user_pages(&crm).await, 1, "one sync ran");
    assert_eq!(first.1["added"], 2);
    drop(server);
}

async fn a_sync_whose_browser_went_away_still_finishes(db: Db) {
    let crm = crm().await;
    Mock::given(path("/users"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(500))
                .set_body_json(json!([user("g1")])),
        )
        .mount(&crm)
        .await;
    let (server, admin) = connected(db, template(&crm.uri(), "", "@this")).await;
    let gave_up = admin
        .browser
        .client
        .post(admin.browser.url("/api/sync_crm_users"))
        .form(&[
            ("csrf_token", admin.csrf.as_str()),
            ("provider", "crm"),
            ("key", "users_crm"),
        ])
        .timeout(Duration::from_millis(100))
        .send()
        .await;
    assert!(gave_up.is_err(), "the browser stopped waiting");
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(
        users(&admin, "").await["total"],
        1,
        "the sync finished without its browser"
    );
    // Nothing is left running: the next Sync runs and finds nothing new.
    let (status, report) = admin.sync_crm_users("users_crm").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["added"].clone(), report["unchanged"].clone()),
        (json!(0), json!(1))
    );
    drop(server);
}
