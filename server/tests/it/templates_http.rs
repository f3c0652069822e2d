//! The templates REST API over real HTTP, on SQLite and PostgreSQL.

use crate::common::*;
use base64::Engine;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::Value;

on_both_databases!(
    upload_keeps_the_valid_file_and_reports_the_malformed_one,
    an_unedited_upload_downloads_byte_for_byte,
    an_existing_key_asks_before_it_is_replaced,
    the_eleventh_template_is_refused,
    a_file_over_one_mebibyte_is_refused,
    a_text_file_posing_as_a_png_logo_is_refused,
    several_templates_download_as_a_zip,
    templates_are_deleted_one_or_several_at_a_time,
    only_admins_with_a_csrf_token_change_templates,
    a_template_is_created_from_the_form_and_edited_through_it,
    twenty_concurrent_uploads_store_exactly_ten,
    the_pages_server_functions_list_load_save_and_delete,
    password_defaults_reach_no_browser_but_an_api_token_gets_the_file,
);

/// The complete CRM fixture under another key and name.
fn crm_template(key: &str) -> String {
    crm_fixture_text()
        .replace("Key=\"pipeline_basic\"", &format!("Key=\"{key}\""))
        .replace(
            "Name=\"Pipeline CRM (API key)\"",
            &format!("Name=\"Template {key}\""),
        )
}

async fn upload_keeps_the_valid_file_and_reports_the_malformed_one(db: Db) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let malformed = crm_template("broken").replace("per_page", "per&page");
    let (status, body) = admin
        .upload(
            "crm",
            &[("good.xml", crm_template("good")), ("bad.xml", malformed)],
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "stored");
    assert_eq!(results[0]["key"], "good");
    assert_eq!(results[1]["status"], "refused");
    let message = results[1]["message"].as_str().unwrap();
    assert!(message.starts_with("line 23 column 55: "), "{message}");
    assert!(message.contains("raw '&'"), "{message}");
    assert_eq!(results[1]["findings"][0]["code"], "xml.malformed");
    assert_eq!(
        admin.keys("crm").await,
        vec!["good"],
        "nothing else changed"
    );
}

async fn an_unedited_upload_downloads_byte_for_byte(db: Db) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    // Odd spacing, attribute order and a comment: all must come back as they were.
    let text =
        crm_template("exact").replacen("<Scenarios>", "<!-- keep me -->\n   <Scenarios   >", 1);
    admin
        .upload("crm", &[("exact.xml", text.clone())], &[])
        .await;
    let response = admin
        .browser
        .get("/api/v1/templates/crm/exact?format=xml")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.contains("filename=\"Template exact.xml\""),
        "{disposition}"
    );
    assert_eq!(response.bytes().await.unwrap().as_ref(), text.as_bytes());
}

async fn an_existing_key_asks_before_it_is_replaced(db: Db) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    admin
        .upload("crm", &[("a.xml", crm_template("same"))], &[])
        .await;
    let newer = crm_template("same").replace("Version=\"1.2.0\"", "Version=\"1.3.0\"");
    let (_, body) = admin.upload("crm", &[("a.xml", newer.clone())], &[]).await;
    assert_eq!(body["results"][0]["status"], "exists", "{body}");
    let detail: Value = admin
        .browser
        .get("/api/v1/templates/crm/same")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        detail["template"]["version"], "1.2.0",
        "unchanged until confirmed"
    );

    let (_, body) = admin.upload("crm", &[("a.xml", newer)], &["same"]).await;
    assert_eq!(body["results"][0]["status"], "replaced", "{body}");
    let detail: Value = admin
        .browser
        .get("/api/v1/templates/crm/same")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["template"]["version"], "1.3.0");
    assert_eq!(detail["template"]["revision"], 2);

    let (_, body) = admin
        .upload("crm", &[("b.xml", crm_template("gone"))], &["gone"])
        .await;
    assert_eq!(
        body["results"][0]["status"], "stored",
        "a confirmed replace of a deleted key stores it: {body}"
    );
}

async fn the_eleventh_template_is_refused(db: Db) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let files: Vec<(String, String)> = (0..11)
        .map(|n| (format!("t{n}.xml"), crm_template(&format!("t{n}"))))
        .collect();
    let borrowed: Vec<(&str, String)> =
        files.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    let (_, body) = admin.upload("crm", &borrowed, &[]).await;
    let results = body["results"].as_array().unwrap();
    assert!(
        results[..10].iter().all(|r| r["status"] == "stored"),
        "{body}"
    );
    assert_eq!(results[10]["status"], "refused");
    assert_eq!(
        results[10]["message"],
        "there are already 10 crm templates; delete one before adding another"
    );
    assert_eq!(admin.list("crm").await["count"], 10);
}

async fn a_file_over_one_mebibyte_is_refused(db: Db) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let mut text = crm_template("big");
    let padding = 1024 * 1024 + 1 - text.len() - "<!---->".len();
    text = text.replacen(
        "<Scenarios>",
        &format!("<!--{}--><Scenarios>", "x".repeat(padding)),
        1,
    );
    assert_eq!(text.len(), 1024 * 1024 + 1);
    let (status, body) = admin.upload("crm", &[("big.xml", text)], &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = body["results"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("more than 1048576 bytes") && message.contains("at most 1048576"),
        "{message}"
    );
    assert_eq!(admin.list("crm").await["count"], 0);

    // Checked while streaming: a 10 MiB file is refused, the small one beside it stored.
    let huge = "x".repeat(10 * 1024 * 1024);
    let (status, body) = admin
        .upload(
            "crm",
            &[("huge.xml", huge), ("small.xml", crm_template("small"))],
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["status"], "refused");
    assert_eq!(body["results"][1]["status"], "stored");

    // At most 20 files in one request, even though only 10 could be stored.
    let many: Vec<(&str, String)> = (0..21).map(|_| ("n.xml", "<x/>".to_string())).collect();
    let (status, body) = admin.upload("crm", &many, &[]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "upload.too_many_files");
    assert_eq!(
        admin.list("crm").await["count"],
        1,
        "nothing more was stored"
    );
}

async fn a_text_file_posing_as_a_png_logo_is_refused(db: Db) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let fake = base64::engine::general_purpose::STANDARD.encode("this is logo.png, honestly");
    let text = crm_template("logo").replacen(
        "<Scenarios>",
        &format!("<LogoImage MediaType=\"image/png\">{fake}</LogoImage>\n  <Scenarios>"),
        1,
    );
    let (_, body) = admin.upload("crm", &[("logo.xml", text)], &[]).await;
    assert_eq!(body["results"][0]["status"], "refused", "{body}");
    assert!(
        body["results"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not a PNG or JPEG"),
        "{body}"
    );

    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";
    let real = base64::engine::general_purpose::STANDARD.encode(png);
    let text = crm_template("logo").replacen(
        "<Scenarios>",
        &format!("<LogoImage MediaType=\"image/png\">{real}</LogoImage>\n  <Scenarios>"),
        1,
    );
    let (_, body) = admin.upload("crm", &[("logo.xml", text)], &[]).await;
    assert_eq!(body["results"][0]["status"], "stored", "{body}");

    admin
        .upload("crm", &[("plain.xml", crm_template("plain"))], &[])
        .await;
    let default = admin
        .browser
        .get("/api/v1/templates/crm/plain?format=logo")
        .await;
    assert_eq!(default.headers()["content-type"], "image/png");
    let default = default.bytes().await.unwrap();
    assert_eq!(
        app::template::logo::check_logo(&default),
        Ok("image/png"),
        "a real PNG"
    );
    assert_eq!(
        default.as_ref(),
        server::web::api::templates::DEFAULT_LOGO_PNG
    );
    let logo = admin
        .browser
        .get("/api/v1/templates/crm/logo?format=logo")
        .await;
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(logo.bytes().await.unwrap().as_ref(), png);
}

async fn several_templates_download_as_a_zip(db: Db) {
    use std::io::Read;
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let (one, two) = (crm_template("one"), crm_template("two"));
    admin
        .upload(
            "crm",
            &[
                ("1.xml", one.clone()),
                ("2.xml", two.clone()),
                ("3.xml", crm_template("three")),
            ],
            &[],
        )
        .await;
    let response = admin
        .browser
        .get("/api/v1/templates/crm?format=zip&keys=one,two")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let bytes = response.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(archive.len(), 2);
    for (name, expected) in [("Template one.xml", &one), ("Template two.xml", &two)] {
        let mut entry = archive
            .by_name(name)
            .unwrap_or_else(|_| panic!("{name} missing"));
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        assert_eq!(&text, expected, "{name}");
    }
    let missing = admin
        .browser
        .get("/api/v1/templates/crm?format=zip&keys=one,nope")
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

async fn templates_are_deleted_one_or_several_at_a_time(db: Db) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let files: Vec<(&str, String)> = ["a", "b", "c", "d"]
        .iter()
        .map(|k| (*k, crm_template(k)))
        .collect();
    admin.upload("crm", &files, &[]).await;

    let (status, _) = admin.delete("/api/v1/templates/crm/a").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = admin.delete("/api/v1/templates/crm?keys=b,nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(
        admin.keys("crm").await,
        vec!["b", "c", "d"],
        "an unknown key changes nothing"
    );
    let (status, body) = admin.delete("/api/v1/templates/crm?keys=b,c").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["deleted"], serde_json::json!(["b", "c"]));
    assert_eq!(admin.keys("crm").await, vec!["d"]);
    let (status, _) = admin.delete("/api/v1/templates/crm/a").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn only_admins_with_a_csrf_token_change_templates(db: Db) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let stranger = server.browser();
    assert_eq!(
        stranger.get("/api/v1/templates/crm").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        admin.browser.get("/api/v1/templates/erp").await.status(),
        StatusCode::NOT_FOUND
    );

    let no_token = admin
        .browser
        .client
        .post(admin.browser.url("/api/v1/templates/crm"))
        .multipart(Form::new().part("file", Part::text(crm_template("x")).file_name("x.xml")))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);

    let helpdesk = admin
        .upload("helpdesk", &[("x.xml", crm_template("x"))], &[])
        .await
        .1;
    assert!(
        helpdesk["results"][0]["message"]
            .as_str()
            .unwrap()
            .contains("this is a crm template"),
        "{helpdesk}"
    );
    assert_eq!(admin.list("crm").await["count"], 0);
}

async fn a_template_is_created_from_the_form_and_edited_through_it(db: Db) {
    use app::template::form::TemplateForm;
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let send_json = |method: reqwest::Method, path: &str, form: &TemplateForm| {
        admin
            .browser
            .client
            .request(method, admin.browser.url(path))
            .header("x-csrf-token", &admin.csrf)
            .json(form)
    };

    // Create: the fixture's form with no key, as the editor sends a new template.
    let mut form = TemplateForm::read(&app::template::xml::parse(&crm_fixture_text()).unwrap());
    form.key.clear();
    form.name = "Made in the editor".into();
    let created = send_json(reqwest::Method::POST, "/api/v1/templates/crm", &form)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let key = created["template"]["key"].as_str().unwrap().to_string();
    assert!(
        key.len() == 32
            && key
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
        "{key}"
    );
    let xml = admin
        .browser
        .get(&format!("/api/v1/templates/crm/{key}?format=xml"))
        .await
        .text()
        .await
        .unwrap();
    let mut expected = form.clone();
    expected.key = key.clone();
    assert_eq!(
        TemplateForm::read(&app::template::xml::parse(&xml).unwrap()),
        expected
    );

    // An invalid form is refused with the validator's findings, nothing stored.
    let mut broken = form.clone();
    broken.max_concurrent_request = "0".into();
    let refused = send_json(reqwest::Method::POST, "/api/v1/templates/crm", &broken)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(
        refused["error"]["findings"][0]["code"], "info.max_concurrent_request",
        "{refused}"
    );
    assert_eq!(admin.list("crm").await["count"], 1);

    // Edit: an uploaded hand-written template keeps everything the form does not show.
    let extended = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/templates/crm-extended-configurations.xml"),
    )
    .unwrap();
    admin
        .upload("crm", &[("atlas.xml", extended.clone())], &[])
        .await;
    let mut edit = TemplateForm::read(&app::template::xml::parse(&extended).unwrap());
    edit.remark = "Edited in the form".into();
    let edited = send_json(
        reqwest::Method::PUT,
        "/api/v1/templates/crm/atlas_extended",
        &edit,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(edited.status(), StatusCode::OK);
    let edited: Value = edited.json().await.unwrap();
    assert_eq!(edited["template"]["revision"], 2);
    let xml = admin
        .browser
        .get("/api/v1/templates/crm/atlas_extended?format=xml")
        .await
        .text()
        .await
        .unwrap();
    assert!(xml.contains("Remark=\"Edited in the form\""), "{xml}");
    for kept in [
        "<AtlasExtras Mode=\"beta\">",
        "x-author=\"integrations team\"",
        "RetryPolicy=\"aggressive\"",
        "Father=\"TokenErrorMap\"",
    ] {
        assert!(xml.contains(kept), "{kept} lost after the edit:\n{xml}");
    }
}

async fn twenty_concurrent_uploads_store_exactly_ten(db: Db) {
    let server = TestServer::start(db).await;
    let admin = std::sync::Arc::new(admin(&server).await);
    let uploads: Vec<_> = (0..20)
        .map(|n| {
            let admin = admin.clone();
            tokio::spawn(async move {
                let (_, body) = admin
                    .upload("crm", &[("t.xml", crm_template(&format!("c{n}")))], &[])
                    .await;
                body["results"][0]["status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for upload in uploads {
        statuses.push(upload.await.unwrap());
    }
    let stored = statuses.iter().filter(|s| *s == "stored").count();
    let refused = statuses.iter().filter(|s| *s == "refused").count();
    assert_eq!((stored, refused), (10, 10), "{statuses:?}");
    assert_eq!(admin.list("crm").await["count"], 10);
}

async fn the_pages_server_functions_list_load_save_and_delete(db: Db) {
    use app::template::form::TemplateForm;
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let call = |function: &str, body: Value| {
        admin
            .browser
            .client
            .post(admin.browser.url(&format!("/api/{function}")))
            .json(&body)
            .send()
    };
    let mut form = TemplateForm::read(&app::template::xml::parse(&crm_fixture_text()).unwrap());
    form.key = "from_editor".into();

    let no_token = call(
        "save_template",
        serde_json::json!({"provider": "crm", "key": null, "form": form}),
    )
    .await
    .unwrap();
    assert_eq!(
        no_token.status(),
        StatusCode::FORBIDDEN,
        "JSON server functions need the CSRF token too"
    );
    let forged = call(
        "save_template",
        serde_json::json!({"csrf_token": "forged", "provider": "crm", "key": null, "form": form}),
    )
    .await
    .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let created = call(
        "save_template",
        serde_json::json!({"csrf_token": admin.csrf, "provider": "crm", "key": null, "form": form}),
    )
    .await
    .unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["key"], "from_editor");

    let listed: Value = admin
        .browser
        .get("/api/list_templates?provider=crm")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["key"], "from_editor");
    let loaded: TemplateForm = admin
        .browser
        .get("/api/load_template_form?provider=crm&key=from_editor")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(loaded, form);

    let mut edited = loaded.clone();
    edited.max_concurrent_request = "500".into();
    let refused = call("save_template", serde_json::json!({"csrf_token": admin.csrf, "provider": "crm", "key": "from_editor", "form": edited})).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = refused.json().await.unwrap();
    let findings = refused["InvalidTemplate"]["findings"].as_array().unwrap();
    assert_eq!(
        findings[0]["code"], "info.max_concurrent_request",
        "{refused}"
    );
    assert_eq!(findings[0]["location"]["attribute"], "MaxConcurrentRequest");

    edited.max_concurrent_request = "7".into();
    let saved: Value = call("save_template", serde_json::json!({"csrf_token": admin.csrf, "provider": "crm", "key": "from_editor", "form": edited}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(saved["revision"], 2);

    let deleted: Value = call(
        "delete_templates",
        serde_json::json!({"csrf_token": admin.csrf, "provider": "crm", "keys": ["from_editor"], "disconnect": false}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(admin.list("crm").await["count"], 0);
}

async fn password_defaults_reach_no_browser_but_an_api_token_gets_the_file(db: Db) {
    const SECRET: &str = "default-Secret-4711";
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let text = crm_template("secretive").replace(
        r#"Name="api_key" Value="""#,
        &format!(r#"Name="api_key" Value="{SECRET}""#),
    );
    assert!(text.contains(SECRET));
    let (status, body) = admin.upload("crm", &[("s.xml", text.clone())], &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    for path in [
        "/api/v1/templates/crm/secretive",
        "/api/v1/templates/crm/secretive?format=xml",
        "/api/v1/templates/crm?format=zip&keys=secretive",
        "/api/load_template_form?provider=crm&key=secretive",
        "/api/load_template_text?provider=crm&key=secretive",
        "/templates/crm/secretive/edit",
    ] {
        let response = admin.browser.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let bytes = response.bytes().await.unwrap();
        let shown = if path.contains("zip") {
            let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
            let mut file = archive.by_index(0).unwrap();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut file, &mut text).unwrap();
            text
        } else {
            String::from_utf8_lossy(&bytes).into_owned()
        };
        assert!(!shown.contains(SECRET), "{path} leaks the default");
    }
    // The masked download is the file with only the secret replaced.
    let masked = admin
        .browser
        .get("/api/v1/templates/crm/secretive?format=xml")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        masked,
        text.replace(SECRET, app::template::editor::PASSWORD_MASK)
    );

    let created = admin
        .browser
        .post_form(
            "/api/create_api_token",
            &[
                ("csrf_token", admin.csrf.as_str()),
                ("name", "Backup"),
                ("scope", "admin"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    let token = created.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let as_uploaded = reqwest::Client::new()
        .get(server.url("/api/v1/templates/crm/secretive?format=xml"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(as_uploaded, text, "a script gets the file as uploaded");
}
