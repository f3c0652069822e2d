//! The Extensions page's calls and the user association over real HTTP, on SQLite and
//! PostgreSQL: the directory paged, searched and sorted, edits that refuse a taken number
//! or a bad e-mail and change nothing, groups; Associate Automatically (what it will do,
//! then done), by hand with a group expanding and a conflict explained, by a `user`; a sync
//! that removes a user removing its associations; and the lookup API resolving an extension
//! to its CRM user against a loopback `wiremock` CRM.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

on_both_databases!(
    the_directory_pages_searches_sorts_and_edits_one_extension_at_a_time,
    groups_hold_directory_extensions_and_lose_deleted_ones,
    associate_automatically_by_email_then_by_hand_with_a_conflict_explained,
    a_sync_that_removes_a_user_removes_its_associations,
    the_lookup_api_resolves_the_extension_to_its_crm_user,
);

async fn import_ok(admin: &Admin, csv: &str) {
    let (status, body) = admin.import_extensions(csv.to_owned(), false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn numbers(browser: &Browser, query: &str) -> (Vec<String>, u64) {
    let (status, page) = browser
        .get_json(&format!("/api/list_extensions?{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    (
        page["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["number"].as_str().unwrap().to_owned())
            .collect(),
        page["total"].as_u64().unwrap(),
    )
}

async fn save_extension(
    admin: &Admin,
    original: Option<&str>,
    fields: Value,
) -> (StatusCode, Value) {
    admin
        .browser
        .call(
            "save_extension",
            json!({"csrf_token": admin.csrf, "original": original, "extension": fields}),
        )
        .await
}

/// Signs in a new account of role `user` in its own browser.
async fn the_directory_pages_searches_sorts_and_edits_one_extension_at_a_time(db: Db) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let mut csv = String::from("number,first_name,last_name,email\n");
    for n in 0..120 {
        csv.push_str(&format!(
            "{},Name{n:03},Zed{},p{n}@example.com\n",
            2000 + n,
            119 - n
        ));
    }
    csv.push_str("1001,Ann,Lee,Ann.Lee@Example.com\n");
    import_ok(&admin, &csv).await;

    // Pages of 50, by number; the total counts every match.
    let (first, total) = numbers(&admin.browser, "").await;
    assert_eq!(total, 121);
    assert_eq!(first.len(), 50);
    assert_eq!(first[0], "1001");
    let (third, _) = numbers(&admin.browser, "offset=100").await;
    assert_eq!(third.len(), 21);
    assert_eq!(third.last().unwrap(), "2119");
    // Sorted by last name, descending (Zed99 sorts before Zed119 as text).
    let (by_last, _) = numbers(&admin.browser, "sort=last_name&descending=true").await;
    assert_eq!(by_last[0], "2020", "Zed99 first");
    // Search ignores case on both databases, in names and e-mails.
    let (found, total) = numbers(&admin.browser, "search=ANN.LEE").await;
    assert_eq!((found, total), (vec!["1001".to_owned()], 1));
    let (found, _) = numbers(&admin.browser, "search=name007").await;
    assert_eq!(found, vec!["2007"]);

    // Add one; a taken number and a bad e-mail are refused and change nothing.
    let (status, body) =
        save_extension(&admin, None, json!({"number": " 1002 ", "first_name": "Bo", "last_name": "Chan", "email": " BO@example.com "})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = save_extension(
        &admin,
        None,
        json!({"number": "1002", "first_name": "Other", "last_name": "", "email": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["Invalid"],
        json!({"field": "number", "message": "1002 is already in the directory"})
    );
    let (status, body) =
        save_extension(&admin, Some("1002"), json!({"number": "1002", "first_name": "Bo", "last_name": "Chan", "email": "not-an-address"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("not-an-address"), "{body}");
    let (status, body) = save_extension(
        &admin,
        None,
        json!({"number": "12a", "first_name": "", "last_name": "", "email": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, page) = admin
        .browser
        .get_json("/api/list_extensions?search=1002")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["extensions"][0]["first_name"], "Bo");
    assert_eq!(
        page["extensions"][0]["email"], "bo@example.com",
        "trimmed, lower case"
    );
    // Renumbering onto a taken number is refused; to a free one it moves.
    let (status, _) = save_extension(
        &admin,
        Some("1002"),
        json!({"number": "1001", "first_name": "Bo", "last_name": "Chan", "email": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = save_extension(
        &admin,
        Some("1002"),
        json!({"number": "1003", "first_name": "Bo", "last_name": "Chan", "email": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(numbers(&admin.browser, "search=chan").await.0, vec!["1003"]);

    // Delete; a second delete says the extension does not exist.
    let delete = |number: &'static str| {
        let admin = &admin;
        async move {
            admin
                .browser
                .post_form(
                    "/api/delete_extension",
                    &[("csrf_token", admin.csrf.as_str()), ("number", number)],
                )
                .await
                .status()
        }
    };
    assert_eq!(delete("1003").await, StatusCode::OK);
    assert_eq!(delete("1003").await, StatusCode::NOT_FOUND);
    assert_eq!(numbers(&admin.browser, "").await.1, 121);

    // A `user` reads the directory but does not change it; no session, no directory.
    let user = admin.new_user(&server, "agent@example.com").await;
    assert_eq!(numbers(&user.browser, "").await.1, 121);
    let (status, _) = save_extension(
        &user,
        None,
        json!({"number": "1009", "first_name": "", "last_name": "", "email": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = server.browser().get_json("/api/list_extensions").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A forged request (no CSRF token) changes nothing.
    let (status, _) = admin
        .browser
        .call(
            "save_extension",
            json!({"csrf_token": "forged", "original": null, "extension": {"number": "1010", "first_name": "", "last_name": "", "email": ""}}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(server.scalar("SELECT COUNT(*) FROM extensions").await, 121);

    // The Extensions page renders on the server with the directory's first page.
    let (status, html) = admin.browser.get_text("/extensions").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Extensions"), "{html}");
}

async fn save_group(
    admin: &Admin,
    id: Option<i64>,
    name: &str,
    members: &[&str],
) -> (StatusCode, Value) {
    admin
        .browser
        .call(
            "save_extension_group",
            json!({"csrf_token": admin.csrf, "id": id, "name": name, "members": members}),
        )
        .await
}

async fn groups_hold_directory_extensions_and_lose_deleted_ones(db: Db) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    import_ok(
        &admin,
        "number,first_name,last_name,email\n1001,Ann,Lee,\n1002,Bo,Chan,\n1003,Cy,Dee,\n",
    )
    .await;

    let (status, body) = save_group(&admin, None, "Sales", &["1002", "1001", "1001"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = save_group(&admin, None, "Sales", &["1003"]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.to_string().contains("\\\"Sales\\\" is taken"),
        "{body}"
    );
    let (status, body) = save_group(&admin, None, "Support", &["1003", "4242"]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.to_string().contains("not in the directory: 4242"),
        "{body}"
    );
    let (status, _) = save_group(&admin, None, "  ", &["1003"]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // The limits: a name of 64 characters, 1,000 members.
    let (status, body) = save_group(&admin, None, &"n".repeat(65), &["1003"]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("longer than 64"), "{body}");
    let many: Vec<String> = (0..1_001).map(|n| (5000 + n).to_string()).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let (status, body) = save_group(&admin, None, "Everyone", &many).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("more than 1000"), "{body}");
    assert_eq!(
        server.scalar("SELECT COUNT(*) FROM extension_groups").await,
        1
    );

    let (_, groups) = admin.browser.get_json("/api/list_extension_groups").await;
    assert_eq!(groups[0]["name"], "Sales");
    assert_eq!(groups[0]["members"], json!(["1001", "1002"]));
    let id = groups[0]["id"].as_i64().unwrap();

    // The picker offers the group (with its members) and the extensions.
    let (_, items) = admin
        .browser
        .get_json("/api/pick_extensions?search=sal")
        .await;
    assert_eq!(items[0]["label"], "Group: Sales (2)");
    assert_eq!(items[0]["numbers"], json!(["1001", "1002"]));
    let (_, items) = admin
        .browser
        .get_json("/api/pick_extensions?search=cy")
        .await;
    assert_eq!(
        items,
        json!([{"label": "1003 Cy Dee", "numbers": ["1003"], "is_group": false}])
    );

    // Renamed with other members; a deleted extension leaves the group.
    let (status, body) = save_group(&admin, Some(id), "Sales EU", &["1002", "1003"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    admin
        .browser
        .post_form(
            "/api/delete_extension",
            &[("csrf_token", admin.csrf.as_str()), ("number", "1003")],
        )
        .await;
    let (_, groups) = admin.browser.get_json("/api/list_extension_groups").await;
    assert_eq!(
        groups,
        json!([{"id": id, "name": "Sales EU", "members": ["1002"]}])
    );

    let response = admin
        .browser
        .post_form(
            "/api/delete_extension_group",
            &[("csrf_token", admin.csrf.as_str()), ("id", &id.to_string())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM extension_group_members")
            .await,
        0
    );
    assert_eq!(
        server.scalar("SELECT COUNT(*) FROM extensions").await,
        2,
        "members stay"
    );
}

fn template(crm: &str) -> String {
    Fixture::load("association-team-crm.xml").at(crm)
}

fn crm_user(id: &str, email: &str) -> Value {
    json!({"id": id, "first": format!("First {id}"), "last": "Last", "email": email})
}

async fn crm_with_users(users: Value) -> MockServer {
    let crm = MockServer::start().await;
    Mock::given(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1})))
        .mount(&crm)
        .await;
    Mock::given(method("GET"))
        .and(path("/users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "users": users })))
        .mount(&crm)
        .await;
    crm
}

/// A server with the directory imported and the team CRM connected and synced.
async fn synced(db: Db, crm: &MockServer) -> (TestServer, Admin) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    import_ok(&admin, "number,first_name,last_name,email\n1001,Ann,Lee,u1@crm.example\n1002,Bo,Chan,U2@CRM.example\n1003,Cy,Dee,\n1004,Ann,Lee (desk),u1@crm.example\n",
    )
    .await;
    admin
        .connect_crm("team.xml", template(&crm.uri()), "team_crm")
        .await;
    let (status, report) = admin.sync_crm_users("team_crm").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    (server, admin)
}

async fn associate(admin: &Admin, crm_id: &str, numbers: &[&str]) -> (StatusCode, Value) {
    admin
        .browser
        .call(
            "associate_extensions",
            json!({"csrf_token": admin.csrf, "provider": "crm", "key": "team_crm", "crm_id": crm_id, "numbers": numbers}),
        )
        .await
}

/// Each CRM user's associated extensions, by CRM id.
async fn associations(admin: &Admin) -> Value {
    let (status, page) = admin
        .browser
        .get_json("/api/list_crm_users?provider=crm&key=team_crm")
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut map = serde_json::Map::new();
    for user in page["users"].as_array().unwrap() {
        map.insert(
            user["crm_id"].as_str().unwrap().to_owned(),
            user["extensions"].clone(),
        );
    }
    Value::Object(map)
}

async fn associate_automatically_by_email_then_by_hand_with_a_conflict_explained(db: Db) {
    let crm = crm_with_users(json!([
        crm_user("u1", "U1@crm.example "),
        crm_user("u2", "u2@crm.example"),
        crm_user("u3", "u3@crm.example"),
        crm_user("u4", ""),
    ]))
    .await;
    let (server, admin) = synced(db, &crm).await;

    // First what it will do, for the confirmation: nothing is stored yet.
    let (status, plan) = admin.associate_automatically("team_crm", false).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(
        (
            &plan["associated"],
            &plan["users"],
            &plan["unmatched"],
            &plan["applied"]
        ),
        (&json!(3), &json!(2), &json!(2), &json!(false)),
        "{plan}"
    );
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM crm_user_extensions")
            .await,
        0
    );
    // Then done, by a `user` (role user may associate).
    let user = admin.new_user(&server, "agent@example.com").await;
    let (status, done) = user.associate_automatically("team_crm", true).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["associated"], 3);
    assert_eq!(
        associations(&admin).await,
        json!({"u1": ["1001", "1004"], "u2": ["1002"], "u3": [], "u4": []})
    );
    // Again: all already in place.
    let (_, again) = admin.associate_automatically("team_crm", false).await;
    assert_eq!(
        (&again["associated"], &again["already"]),
        (&json!(0), &json!(3))
    );

    // By hand: u3 asks for 1002, which u2 has: refused with who has it, nothing changed.
    let (status, body) = associate(&user, "u3", &["1003", "1002"]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let message = body.to_string();
    assert!(
        message.contains("1002 is associated with First u2 Last"),
        "{message}"
    );
    assert_eq!(associations(&admin).await["u3"], json!([]));
    // A number not in the directory and an unknown CRM user are refused too.
    let (status, body) = associate(&user, "u3", &["9999"]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("9999"), "{body}");
    let (status, _) = associate(&user, "nobody", &["1003"]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let many: Vec<String> = (0..1_001).map(|n| (5000 + n).to_string()).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let (status, body) = associate(&user, "u3", &many).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("more than 1000"), "{body}");
    // u2 gives 1002 up (a set replaces the user's list), then u3 takes it with 1003.
    let (status, body) = associate(&user, "u2", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = associate(&user, "u3", &["1003", "1002", "1003"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!(["1002", "1003"]));
    assert_eq!(
        associations(&admin).await,
        json!({"u1": ["1001", "1004"], "u2": [], "u3": ["1002", "1003"], "u4": []})
    );
    // Associate Automatically now leaves 1002 with u3 and says so.
    let (_, plan) = admin.associate_automatically("team_crm", false).await;
    assert_eq!(plan["conflicts"], json!(["1002"]), "{plan}");
    assert_eq!(plan["associated"], 0);

    // Deleting an extension from the directory removes its association.
    admin
        .browser
        .post_form(
            "/api/delete_extension",
            &[("csrf_token", admin.csrf.as_str()), ("number", "1003")],
        )
        .await;
    assert_eq!(associations(&admin).await["u3"], json!(["1002"]));
    // No session (so no CSRF token either), no association.
    let (status, _) = associate(
        &Admin {
            browser: server.browser(),
            csrf: String::new(),
        },
        "u3",
        &["1001"],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn a_sync_that_removes_a_user_removes_its_associations(db: Db) {
    let crm = crm_with_users(json!([
        crm_user("u1", "u1@crm.example"),
        crm_user("u2", "u2@crm.example")
    ]))
    .await;
    let (server, admin) = synced(db, &crm).await;
    let (status, _) = admin.associate_automatically("team_crm", true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM crm_user_extensions")
            .await,
        3
    );

    // The CRM no longer lists u1.
    crm.reset().await;
    Mock::given(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1})))
        .mount(&crm)
        .await;
    Mock::given(path("/users"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"users": [crm_user("u2", "u2@crm.example")]})),
        )
        .mount(&crm)
        .await;
    let (status, report) = admin.sync_crm_users("team_crm").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (&report["removed"], &report["associations_removed"]),
        (&json!(1), &json!(2))
    );
    assert!(
        report["message"]
            .as_str()
            .unwrap()
            .contains("2 extension association(s) were removed"),
        "{report}"
    );
    assert_eq!(associations(&admin).await, json!({"u2": ["1002"]}));
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM crm_user_extensions")
            .await,
        1
    );
}

async fn the_lookup_api_resolves_the_extension_to_its_crm_user(db: Db) {
    let crm = crm_with_users(json!([crm_user("u1", "u1@crm.example")])).await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .and(query_param("owner", "u1"))
        .and(query_param("ext", "1004"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [{"id": "c9", "first": "Grace"}]})),
        )
        .mount(&crm)
        .await;
    let (server, admin) = synced(db, &crm).await;
    admin.associate_automatically("team_crm", true).await;
    let token = admin.create_token("pbx", "lookup").await;

    let (status, answer) = lookup(&server, &token, "phone=5550100&extension=1004").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["contact"]["ContactsId"], "c9");
    assert_eq!(
        answer["crm_user"],
        json!({"id": "u1", "extension": "1004", "first_name": "Ann", "last_name": "Lee (desk)", "email": "u1@crm.example"})
    );
    // An extension without a CRM user there: the integration is not asked, and the 404
    // says why.
    let before = crm.received_requests().await.unwrap().len();
    let (status, answer) = lookup(&server, &token, "phone=5550100&extension=1003").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Team CRM: extension 1003 is not associated with a CRM user"),
        "{message}"
    );
    assert_eq!(
        crm.received_requests().await.unwrap().len(),
        before,
        "nothing sent"
    );

    // The test console's sample call on 1004 carries its CRM user too.
    let (status, report) = admin
        .browser
        .call(
            "run_console",
            json!({"csrf_token": admin.csrf, "provider": "crm", "key": "team_crm", "input": {
                "scenario": "SyncContactAuto", "phone": "5550100", "call": {"extension": {"number": "1004"}}
            }}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert!(report["error"].is_null(), "{report}");
    let url = report["steps"][0]["request"]["url"]
        .as_str()
        .unwrap_or_default();
    assert!(url.contains("owner=u1&ext=1004"), "{report}");
}
