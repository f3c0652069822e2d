//! The extension directory's REST API over real HTTP, on SQLite and PostgreSQL: CSV import
//! with a preview and a result per row, idempotent by number and all-or-nothing; export; and
//! every bad file answered with what and where while the directory stays as it was.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::Value;

on_both_databases!(
    an_import_previews_applies_and_is_idempotent,
    bad_files_are_refused_with_what_and_where_and_change_nothing,
    only_administrators_and_admin_tokens_reach_the_directory,
);

const FILE: &str = "number,first_name,last_name,email\n1001,Ada,Lovelace,ADA@example.com\n1002,Grace,\"Hopper, RADM\",grace@example.com\n\n1003,Alan,Turing,\n";

async fn directory(admin: &Admin) -> Value {
    admin
        .browser
        .get("/api/v1/extensions")
        .await
        .json()
        .await
        .unwrap()
}

fn outcomes(report: &Value) -> Vec<String> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_owned())
        .collect()
}

async fn an_import_previews_applies_and_is_idempotent(db: Db) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let (status, preview) = admin.import_extensions(FILE, true).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["applied"], false);
    assert_eq!(outcomes(&preview), ["new", "new", "new"]);
    assert_eq!(
        preview["rows"][2]["line"], 5,
        "lines count the header and empty lines"
    );
    assert_eq!(
        directory(&admin).await["extensions"],
        Value::Array(vec![]),
        "a preview stores nothing"
    );

    let (status, report) = admin.import_extensions(FILE, false).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["applied"].clone(), report["new"].clone()),
        (Value::Bool(true), 3.into())
    );
    let listed = directory(&admin).await;
    assert_eq!(listed["extensions"][0]["email"], "ada@example.com");
    assert_eq!(listed["extensions"][1]["last_name"], "Hopper, RADM");

    // The same file again changes nothing; an edited row is "changed".
    let (_, again) = admin.import_extensions(FILE, false).await;
    assert_eq!(outcomes(&again), ["unchanged", "unchanged", "unchanged"]);
    let edited = FILE.replace("1003,Alan,Turing,", "1003,Alan,Turing,alan@example.com");
    let (_, edited) = admin.import_extensions(edited, false).await;
    assert_eq!(outcomes(&edited), ["unchanged", "unchanged", "changed"]);

    // The export imports back unchanged.
    let response = admin.browser.get("/api/v1/extensions?format=csv").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = response.text().await.unwrap();
    assert!(
        csv.starts_with("number,first_name,last_name,email\n1001,Ada,Lovelace,ada@example.com\n"),
        "{csv}"
    );
    let (_, round) = admin.import_extensions(csv, true).await;
    assert_eq!(outcomes(&round), ["unchanged", "unchanged", "unchanged"]);
}

async fn bad_files_are_refused_with_what_and_where_and_change_nothing(db: Db) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    admin.import_extensions(FILE, false).await;
    let before = directory(&admin).await;
    let mut many = String::from("number,first_name,last_name,email\n");
    for n in 0..50_000 {
        many.push_str(&format!("{},A,B,\n", 100_000 + n));
    }
    let cases: Vec<(Vec<u8>, StatusCode, &str, &str)> = vec![
        (
            b"number;first_name;last_name;email\n2001;A;B;\n".to_vec(),
            StatusCode::BAD_REQUEST,
            "import.file",
            "\";\"",
        ),
        (
            b"number,first,last_name,email\n2001,A,B,\n".to_vec(),
            StatusCode::BAD_REQUEST,
            "import.file",
            "unknown column \"first\"",
        ),
        (
            b"number,first_name,last_name,email\n2001,A,B,\n2002,\xff,B,\n".to_vec(),
            StatusCode::BAD_REQUEST,
            "import.file",
            "line 3 is not UTF-8",
        ),
        (
            b"number,first_name,last_name,email\n2001,A\n".to_vec(),
            StatusCode::BAD_REQUEST,
            "import.file",
            "line 2",
        ),
        (
            many.into_bytes(),
            StatusCode::BAD_REQUEST,
            "import.file",
            "more than 20000 rows",
        ),
        (
            vec![b'1'; 5 * 1024 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
            "import.too_large",
            "larger than 4 MiB",
        ),
        (
            b"number,first_name,last_name,email\n2001,A,B,\n1001,Ada,Changed,\n2001,C,D,\n"
                .to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "import.refused",
            "number 2001 appears on lines 2 and 4",
        ),
        (
            b"number,first_name,last_name,email\n2001,A,B,not-an-email\n".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "import.refused",
            "email",
        ),
    ];
    for (body, status, code, says) in cases {
        let (got, answer) = admin.import_extensions(body, false).await;
        assert_eq!(got, status, "{answer}");
        assert_eq!(answer["error"]["code"], code, "{answer}");
        let said = format!(
            "{} {}",
            answer["error"]["message"].as_str().unwrap_or_default(),
            answer["error"]["rows"]
        );
        assert!(said.contains(says), "{says}: {answer}");
        assert_eq!(directory(&admin).await, before, "nothing changed");
    }
    // A refused file lists every row's outcome.
    let (_, refused) = admin
        .import_extensions(
            &b"number,first_name,last_name,email\n2001,A,B,\n3x,C,D,\n"[..],
            false,
        )
        .await;
    let rows = refused["error"]["rows"].as_array().unwrap();
    assert_eq!(rows[0]["outcome"], "new");
    assert_eq!(rows[1]["outcome"], "refused");
    assert!(rows[1]["reason"].as_str().unwrap().contains("digits"));
}

async fn only_administrators_and_admin_tokens_reach_the_directory(db: Db) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let anonymous = reqwest::Client::new();
    let response = anonymous
        .get(server.url("/api/v1/extensions"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let lookup = admin.create_token("phones", "lookup").await;
    let response = anonymous
        .get(server.url("/api/v1/extensions"))
        .bearer_auth(&lookup)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let token = admin.create_token("provisioning", "admin").await;
    let response = anonymous
        .post(server.url("/api/v1/extensions/import"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(FILE)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // A session without its CSRF token changes nothing.
    let response = admin
        .browser
        .client
        .post(admin.browser.url("/api/v1/extensions/import"))
        .header("content-type", "text/csv")
        .body("number,first_name,last_name,email\n9999,X,Y,\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        directory(&admin).await["extensions"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}
