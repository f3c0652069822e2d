//! The attacker's view (SECURITY.md "User text is data", "Stored secrets are bound to their
//! settings"): an ordinary `user` account against a running server whose administrator
//! connected a Basic-auth CRM and an OAuth 2.0 CRM. A loopback listener on another address
//! stands in for the attacker's host; it must receive nothing, and no answer may show a
//! stored secret in any encoding.

use std::sync::{Arc, Mutex};

use crate::common::*;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

on_both_databases!(
    a_user_cannot_read_a_stored_secret_through_features_texts,
    a_user_cannot_send_a_stored_secret_to_another_host,
    a_user_cannot_get_the_client_secret_from_an_oauth_authorization,
);

const PASSWORD: &str = "crm-Pass-Okapi-3141";
const CLIENT_SECRET: &str = "client-Secret-Narwhal-2718";

/// A raw listener on another loopback address: every byte anyone sends it.
struct Attacker {
    address: String,
    received: Arc<Mutex<Vec<u8>>>,
}

impl Attacker {
    /// Listens on 127.0.0.2 at `port` (the CRM's port, so only the host differs).
    async fn listen(port: u16) -> Attacker {
        let listener = tokio::net::TcpListener::bind(("127.0.0.2", port))
            .await
            .unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let sink = sink.clone();
                tokio::spawn(async move {
                    let mut buffer = [0u8; 4096];
                    while let Ok(n) = stream.read(&mut buffer).await {
                        if n == 0 {
                            break;
                        }
                        sink.lock().unwrap().extend_from_slice(&buffer[..n]);
                    }
                });
            }
        });
        Attacker {
            address: "127.0.0.2".into(),
            received,
        }
    }

    fn received(&self) -> String {
        String::from_utf8_lossy(&self.received.lock().unwrap()).into_owned()
    }
}

/// Every encoding of `secret` a transform in a template could produce.
fn encodings(secret: &str) -> Vec<String> {
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    vec![
        secret.to_owned(),
        hex.clone(),
        hex.to_uppercase(),
        base64::engine::general_purpose::STANDARD.encode(secret),
        base64::engine::general_purpose::STANDARD.encode(format!("ann:{secret}")),
        secret.chars().rev().collect(),
        secret[3..secret.len() - 3].to_owned(),
        format!("{:?}", secret.as_bytes()),
    ]
}

fn assert_secret_absent(secret: &str, text: &str, what: &str) {
    for encoded in encodings(secret) {
        assert!(
            !text.contains(&encoded),
            "{what} shows the secret as {encoded:?}: {text}"
        );
    }
}

/// A Basic-auth CRM whose host is a field the integrating user fills in.
fn basic_template(port: u16) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Information Provider="crm" Name="Host CRM" Key="host_crm" Version="1.0.0" AuthType="basic" MaxConcurrentRequest="2" CallJournal="1">
  <Scenarios>
    <Scenario Id="AuthMethod" Type="AUTH"><Parameters>
      <Parameter Name="AuthMethod" Value="basic"/>
      <Parameter Name="Base64EncodedCredential" Value="{{{{.username}}}}:{{{{.password}}}}"/>
      <Parameter Father="CustomFieldList" Name="host" Editor="string" Title="Host"/>
      <Parameter Father="CustomFieldList" Name="username" Editor="string" Title="User"/>
      <Parameter Father="CustomFieldList" Name="password" Editor="password" Title="Password"/>
    </Parameters></Scenario>
    <Scenario Id="GetGlobalInfo" Type="REST"><Requests>
      <Request Name="Me" Method="GET" URLFormat="http://{{{{.host}}}}:{port}/me"/>
    </Requests></Scenario>
    <Scenario Id="CallJournal" Type="REST">
      <Parameters>
        <Parameter Name="EnableSubject" Value="1"/>
        <Parameter Name="Subject" Value="Call"/>
        <Parameter Name="EnableDescription" Value="1"/>
        <Parameter Name="Description" Value="{{{{.Call_From}}}}"/>
      </Parameters>
      <Requests>
        <Request Name="CallJournal" Method="POST" URLFormat="http://{{{{.host}}}}:{port}/calls">
          <Parameters><Parameter Name="Data" Type="Body" Value="{{&quot;subject&quot;:&quot;{{{{JsonEscape .Subject}}}}&quot;,&quot;description&quot;:&quot;{{{{JsonEscape .Description}}}}&quot;}}"/></Parameters>
        </Request>
      </Requests>
    </Scenario>
  </Scenarios>
</Information>
"#
    )
}

async fn crm() -> MockServer {
    let crm = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "u-1"})))
        .mount(&crm)
        .await;
    Mock::given(method("POST"))
        .and(path("/calls"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "j-1"})))
        .mount(&crm)
        .await;
    crm
}

async fn save(who: &Admin, key: &str, values: Value) -> (StatusCode, Value) {
    who.browser
        .call(
            "save_integration",
            json!({"csrf_token": who.csrf, "provider": "crm", "key": key, "input": {"values": values}}),
        )
        .await
}

/// The server, its admin with the Basic CRM connected, and a `user` account.
async fn connected(db: Db, crm: &MockServer) -> (TestServer, Admin, Admin) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let port = crm.address().port();
    let (status, body) = admin
        .upload("crm", &[("host.xml", basic_template(port))], &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = save(
        &admin,
        "host_crm",
        json!([
            ["host", "127.0.0.1"],
            ["username", "ann"],
            ["password", PASSWORD]
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user = admin.new_user(&server, "mallory@example.com").await;
    (server, admin, user)
}

async fn a_user_cannot_read_a_stored_secret_through_features_texts(db: Db) {
    let crm = crm().await;
    let (server, _admin, user) = connected(db, &crm).await;
    let transforms = [
        r#"{{printf "%x" .password}}"#,
        "{{.password}}",
        "{{html .password}}",
        r#"{{slice (printf "%s----" .password) 2}}"#,
        "{{len .password}}",
        r#"{{printf "%v" .}}"#,
        r#"{{range $k, $v := .}}{{$k}}={{$v}};{{end}}"#,
        r#"{{index . "password"}}"#,
    ];
    let subject = transforms.join("|");
    let (status, body) = user
        .browser
        .call(
            "save_features",
            json!({"csrf_token": user.csrf, "provider": "crm", "key": "host_crm",
                   "features": {"journal": {"enabled": true, "subject": subject, "description": "{{printf \"%q\" .password}}"}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let call = json!({"direction": "inbound", "extension": {"number": "1001"},
                      "caller_number": "+15550100", "callee_number": "1001",
                      "start_unix": 1672531199, "duration_secs": 95, "talk_secs": 80,
                      "disposition": "ANSWERED"});
    for dry_run in [true, false] {
        let (status, report) = user
            .browser
            .call(
                "run_console",
                json!({"csrf_token": user.csrf, "provider": "crm", "key": "host_crm",
                       "input": {"scenario": "CallJournal", "dry_run": dry_run, "call": call}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert!(report["error"].is_null(), "{report}");
        let shown = report.to_string();
        assert_secret_absent(PASSWORD, &shown, "the console");
        // The texts ran: with the call's variables, and the secret empty.
        assert!(shown.contains("+15550100"), "{shown}");
        assert!(shown.contains("Call_From=+15550100;"), "{shown}");
        assert!(!shown.contains("password="), "{shown}");
    }
    let journals = crm.received_requests().await.unwrap();
    let journal = journals
        .iter()
        .find(|r| r.url.path() == "/calls")
        .expect("the live run journaled");
    let body = String::from_utf8_lossy(&journal.body);
    assert_secret_absent(PASSWORD, &body, "the journal the CRM received");
    // What the template itself says still sees the secret: the credentials went out.
    let authorization = journal.headers["authorization"].to_str().unwrap();
    assert_eq!(
        authorization,
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("ann:{PASSWORD}"))
        )
    );
    let (_, activity) = user
        .browser
        .get_text("/api/activity?provider=crm&key=host_crm")
        .await;
    assert_secret_absent(PASSWORD, &activity, "Activity");
    drop(server);
}

async fn a_user_cannot_send_a_stored_secret_to_another_host(db: Db) {
    let crm = crm().await;
    let attacker = Attacker::listen(crm.address().port()).await;
    let (server, admin, user) = connected(db, &crm).await;
    crm.reset().await;
    let crm = crm;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "u-1"})))
        .mount(&crm)
        .await;

    // The host changes and the password is left empty: refused on the password field,
    // before anything is sent; the same for the user name alone.
    for values in [
        json!([
            ["host", attacker.address],
            ["username", "ann"],
            ["password", ""]
        ]),
        json!([["host", "127.0.0.1"], ["username", "eve"]]),
    ] {
        let (status, body) = save(&user, "host_crm", values).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let text = body.to_string();
        assert!(text.contains("Password"), "{text}");
        assert!(text.contains("changed, so enter this again"), "{text}");
    }
    // A host written as a number in disguise is no host.
    for disguised in ["2130706434", "127.2", "0"] {
        let (status, body) = save(
            &user,
            "host_crm",
            json!([
                ["host", disguised],
                ["username", "ann"],
                ["password", "typed-by-user"]
            ]),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{disguised}: {body}"
        );
        assert!(
            body.to_string()
                .contains("a number standing for an IP address"),
            "{body}"
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        attacker.received(),
        "",
        "the attacker's host was sent something"
    );
    assert!(crm.received_requests().await.unwrap().is_empty());

    // Nothing changed: the integration is still connected to the CRM it was saved with,
    // and Check connection sends the stored password there.
    let settings: Value = admin
        .browser
        .get("/api/integration_settings?provider=crm&key=host_crm")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(settings["status"], "connected", "{settings}");
    let host = settings["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "host")
        .unwrap();
    assert_eq!(host["value"], "127.0.0.1");
    let response = user
        .browser
        .post_form(
            "/api/check_integration",
            &[
                ("csrf_token", user.csrf.as_str()),
                ("provider", "crm"),
                ("key", "host_crm"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(crm.received_requests().await.unwrap().len(), 1);

    // Unchanged values keep the stored password (a Save with nothing retyped works).
    let (status, body) = save(
        &user,
        "host_crm",
        json!([["host", "127.0.0.1"], ["username", "ann"], ["password", ""]]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(attacker.received(), "");
    drop(server);
}

/// An OAuth 2.0 CRM the way real third-party templates write it: the client secret in the
/// AuthEndPoint, and the token endpoint's host a field.
fn oauth_template(port: u16) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Information Provider="crm" Name="OAuth CRM" Key="oauth_crm" Version="1.0.0" AuthType="oauth2" MaxConcurrentRequest="2">
  <Scenarios>
    <Scenario Id="AuthMethod" Type="AUTH"><Parameters>
      <Parameter Name="AuthMethod" Value="oauth2"/>
      <Parameter Name="AuthEndPoint" Value="http://127.0.0.1:{port}/authorize?client_id={{{{.client_id}}}}&amp;client_secret={{{{.client_secret}}}}"/>
      <Parameter Name="AdditionalQueryString" Value="audience={{{{.tenant}}}}&amp;key={{{{.client_secret}}}}"/>
      <Parameter Name="TokenEndPoint" Value="http://{{{{.tenant}}}}:{port}/token"/>
      <Parameter Father="CustomFieldList" Name="tenant" Editor="string" Title="Tenant host"/>
    </Parameters></Scenario>
    <Scenario Id="GetGlobalInfo" Type="REST"><Requests>
      <Request Name="Me" Method="GET" URLFormat="http://127.0.0.1:{port}/me"/>
    </Requests></Scenario>
  </Scenarios>
</Information>
"#
    )
}

async fn a_user_cannot_get_the_client_secret_from_an_oauth_authorization(db: Db) {
    let crm = crm().await;
    let port = crm.address().port();
    let attacker = Attacker::listen(port).await;
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let (status, body) = admin
        .upload("crm", &[("oauth.xml", oauth_template(port))], &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let warned = body.to_string();
    assert!(warned.contains("auth.secret_in_browser_url"), "{warned}");

    // The administrator's Save and authorize: the URL the browser gets has no secret.
    let (status, body) = save(
        &admin,
        "oauth_crm",
        json!([
            ["tenant", "127.0.0.1"],
            ["client_id", "id-1"],
            ["client_secret", CLIENT_SECRET]
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = body["authorize_url"].as_str().unwrap().to_owned();
    assert!(url.contains("client_id=id-1"), "{url}");
    assert!(
        url.contains("client_secret=&") || url.ends_with("client_secret="),
        "{url}"
    );
    assert_secret_absent(CLIENT_SECRET, &url, "the authorization URL");

    // Stored as the connection's by a finished authorization would be; here, by the OAuth
    // flow's own test in oauth_http.rs. What matters: a `user` retrying with the secret
    // empty gets no secret back, and a changed tenant needs the secret again.
    let user = admin.new_user(&server, "mallory@example.com").await;
    let (status, body) = save(
        &user,
        "oauth_crm",
        json!([
            ["tenant", "127.0.0.1"],
            ["client_id", "id-1"],
            ["client_secret", ""]
        ]),
    )
    .await;
    // Nothing is stored before a callback: the secret is not there to keep.
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_secret_absent(CLIENT_SECRET, &body.to_string(), "the user's authorization");
    // A tenant the attacker controls, written as a number: refused.
    let (status, body) = save(
        &user,
        "oauth_crm",
        json!([
            ["tenant", "2130706434"],
            ["client_id", "id-1"],
            ["client_secret", "x"]
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // A tenant that is not a host name at all (it would point the token request anywhere).
    let (status, body) = save(
        &user,
        "oauth_crm",
        json!([
            ["tenant", format!("127.0.0.2:{port}/steal?x=")],
            ["client_id", "id-1"],
            ["client_secret", "x"]
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("TokenEndPoint"), "{body}");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(attacker.received(), "");
    drop(server);
}
