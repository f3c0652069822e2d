//! The template strings of the vendor's guides, as an administrator pastes them: the CRM
//! guide (reference 000), the full Helpdesk guide with its XML reference (001) and the
//! Helpdesk guide (002). Each must parse and render as the guide means; which needed a
//! dialect rule is asserted too (docs/template-language.md).

use app::lang::mapping;
use app::lang::{parse_template, read_dialect, text, DialectRule};

fn vars(pairs: &[(&str, &str)]) -> text::Data {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// (where in the guides, the string, what it renders to with the sample variables, the
/// dialect rules it needs).
const EXAMPLES: &[(&str, &str, &str, &[DialectRule])] = &[
    ("000/002 Base64EncodedCredential", "{{.username}}:{{.password}}", "ann:pw", &[]),
    ("002 Base64EncodedCredential, older notation", "{{.username:.password}}", "ann:pw", &[DialectRule::LegacyCredential]),
    ("002 api key, older notation", "{{.api_key:}}", "K1:", &[DialectRule::LegacyCredential]),
    ("000/002 Authorization Endpoint", "https://www.api.example.com/auth/v2/authorize?client_id={{.client_id}}", "https://www.api.example.com/auth/v2/authorize?client_id=cid", &[]),
    ("000/002 Token Endpoint", "https://www.api.example.com/oauth/v2/token?client_id={{.client_id}}&client_secret={{.client_secret}}", "https://www.api.example.com/oauth/v2/token?client_id=cid&client_secret=sec", &[]),
    ("000 Bearer Token Endpoint", "https://www.api.example.com/oauth/v2/token?client_id={{.client_id}}&client_secret={{.client_secret}}&grant_type=client_credentials", "https://www.api.example.com/oauth/v2/token?client_id=cid&client_secret=sec&grant_type=client_credentials", &[]),
    ("000/002 Additional Query String", "client_id={{.client_id}}&redirect_uri={{.redirect_uri}}", "client_id=cid&redirect_uri=https://pbx.example/cb/", &[]),
    ("000 follow-up headers", r#"{"Content-Type":"application/json", "X-Custom-Header": "{{.DynamicValue}}"}"#, r#"{"Content-Type":"application/json", "X-Custom-Header": "dyn"}"#, &[]),
    ("000 follow-up body", r#"{"lastName":"{{.LastName}}","ownerId":"{{.Id}}","phone":"{{.BusinessNumber}}"}"#, r#"{"lastName":"Lovelace","ownerId":"u1","phone":"5550100"}"#, &[]),
    ("000 contact search URL", "https://www.api.example.com/crm/v1/Contacts/search?criteria=((Phone:equals:{{.Phone}})or(Home_Phone:equals:{{.Phone}})or(Mobile:equals:{{.Phone}})or(Asst_Phone:equals:{{.Phone}}))", "https://www.api.example.com/crm/v1/Contacts/search?criteria=((Phone:equals:5550100)or(Home_Phone:equals:5550100)or(Mobile:equals:5550100)or(Asst_Phone:equals:5550100))", &[]),
    ("000 popup URL", "{{.crm_url}}/crm/{{.CustomValue}}/tab/{{Capitalize .ContactSyncType}}/{{.ContactId}}", "https://crm.example/crm/org7/tab/Contacts/42", &[]),
    ("002 popup URL", "{{.doman_url}}{{.CustomValue}}/tab/{{Capitalize .ContactSyncType}}/{{.ContactId}}", "https://desk.example/org7/tab/Contacts/42", &[]),
    ("000/002 new contact body", r#"{"data": [{"Last_Name": "{{.LastName}}", "First_Name": "{{.FirstName}}", "Phone": "{{.BusinessNumber}}"}]}"#, r#"{"data": [{"Last_Name": "Lovelace", "First_Name": "Ada", "Phone": "5550100"}]}"#, &[]),
    ("000/002 call journal body", r#"{"data": [{"{{.Owner}}{{.WhoModule}}": {"Description": "{{.Description}}", "Voice_Recording__s": "{{.RecordPath}}", "Call_Start_Time": "{{TimeFormat .StartTimeUnix 'yyyy-MM-ddTHH:mm:ss-z' '1'}}", "Subject": "{{.Subject}}", "Call_Type": "Inbound", "Call_Result": "{{.Call_Log_Status}}", "Call_Duration": "{{.Talk_Duration_Sec}}"}}]}"#, r#"{"data": [{"Calls": {"Description": "Inbound call", "Voice_Recording__s": "", "Call_Start_Time": "2022-12-31T23:59:59-Z", "Subject": "Call", "Call_Type": "Inbound", "Call_Result": "Incoming Call", "Call_Duration": "42"}}]}"#, &[DialectRule::SingleQuotes]),
    ("000/002 call journal description", "Call: {{.Time}} {{.Call_Log_Status}} from {{.Call_From}} to {{.Call_To}} {{.Talk_Duration}}", "Call: 2022-12-31 23:59:59 Incoming Call from Ada <5550100> to Bob <1001> 00:00:42", &[]),
    ("001 function table: TimeFormat", r#"{{ TimeFormat .StartTimeUnix "yyyy-MM-ddTHH:mm:ss.000Z" "1" }}"#, "2022-12-31T23:59:59.000Z", &[]),
    ("001 function table: ToMillis", "{{ ToMillis .StartTimeUnix }}", "1672531199000", &[]),
    ("001 function table: Capitalize", "{{ Capitalize .variable_string }}", "Hello world", &[]),
    ("001 function table: UrlEncode", "{{ UrlEncode .variable}}", "hello%20world%21", &[]),
    ("001 reference format: conditional", "{{ if .varname }} Welcome, member! {{ else }} Please sign up. {{ end }}", " Please sign up. ", &[]),
    ("001 GetGlobalInfo URL", "https://desk.example.{{.domain_suffix}}/api/v1/departments", "https://desk.example.com/api/v1/departments", &[]),
    ("001 contact search with a role filter", "https://{{.subdomain}}.example.com/api/v2/users?query=phone:{{.Phone}}&role[]=end-user", "https://acme.example.com/api/v2/users?query=phone:5550100&role[]=end-user", &[]),
    ("001 Common request GetIdentities", "https://{{ .subdomain }}.example.com/api/v2/users/{{ .ContactsId }}/identities", "https://acme.example.com/api/v2/users/42/identities", &[]),
    ("001 ticket subject default", "{{.Communication_Type}} {{.Call_Status}} - from {{.Call_From}} to {{.Call_To}}", "Inbound Completed - from Ada <5550100> to Bob <1001>", &[]),
    ("001 ticket description default", "{{.Time}} {{.Communication_Type}} {{.Call_Status}} - from {{.Call_From}} to {{.Call_To}} {{.Talk_Duration}}", "2022-12-31 23:59:59 Inbound Completed - from Ada <5550100> to Bob <1001> 00:00:42", &[]),
    ("001 ticket body with a department", r#"{"departmentId":"{{.DepartmentId}}", "subject":"{{.Subject}}", "contactId":"{{.ContactId}}", "phone":"{{.ContactNumber}}", "description":"{{.Description}}"}"#, r#"{"departmentId":"d-3", "subject":"Call", "contactId":"42", "phone":"5550100", "description":"Inbound call"}"#, &[]),
    ("001 UpdateTicket URL", "https://{{.domain}}/api/v1/tickets/{{.TicketId}}/comments", "https://desk.example/api/v1/tickets/77/comments", &[]),
    ("001 UpdateTicket body", r#"{"isPublic": "true", "content": "{{.Description}}"}"#, r#"{"isPublic": "true", "content": "Inbound call"}"#, &[]),
    ("002 ticket body", r#"{"subject":"{{.Subject}}", "contactId":"{{.ContactId}}", "phone":"{{.ContactNumber}}", "description":"{{.Description}}"}"#, r#"{"subject":"Call", "contactId":"42", "phone":"5550100", "description":"Inbound call"}"#, &[]),
];

fn sample() -> text::Data {
    vars(&[
        ("username", "ann"),
        ("password", "pw"),
        ("api_key", "K1"),
        ("client_id", "cid"),
        ("client_secret", "sec"),
        ("redirect_uri", "https://pbx.example/cb/"),
        ("DynamicValue", "dyn"),
        ("LastName", "Lovelace"),
        ("FirstName", "Ada"),
        ("Id", "u1"),
        ("BusinessNumber", "5550100"),
        ("Phone", "5550100"),
        ("crm_url", "https://crm.example"),
        ("doman_url", "https://desk.example/"),
        ("CustomValue", "org7"),
        ("ContactSyncType", "contacts"),
        ("ContactId", "42"),
        ("ContactNumber", "5550100"),
        ("Owner", "Calls"),
        ("WhoModule", ""),
        ("Description", "Inbound call"),
        ("RecordPath", ""),
        ("StartTimeUnix", "1672531199"),
        ("Subject", "Call"),
        ("Call_Log_Status", "Incoming Call"),
        ("Talk_Duration_Sec", "42"),
        ("Talk_Duration", "00:00:42"),
        ("Time", "2022-12-31 23:59:59"),
        ("Call_From", "Ada <5550100>"),
        ("Call_To", "Bob <1001>"),
        ("variable_string", "hello world"),
        ("variable", "hello world!"),
        ("domain_suffix", "com"),
        ("subdomain", "acme"),
        ("ContactsId", "42"),
        ("Communication_Type", "Inbound"),
        ("Call_Status", "Completed"),
        ("DepartmentId", "d-3"),
        ("domain", "desk.example"),
        ("TicketId", "77"),
    ])
}

#[test]
fn every_template_string_of_the_crm_and_helpdesk_guides_renders_as_written() {
    let data = sample();
    for (place, source, expected, rules) in EXAMPLES {
        let rendered = parse_template(source)
            .unwrap_or_else(|e| panic!("{place}: {e}"))
            .execute(&data)
            .unwrap_or_else(|e| panic!("{place}: {e}"));
        assert_eq!(&rendered, expected, "{place}");
        assert_eq!(read_dialect(source).rules, *rules, "{place}");
    }
}

#[test]
fn the_guides_output_path_with_alternatives_reads_the_first_that_exists() {
    // "data.#(phone=="{{.Phone}}")#.street,data.#(mobile=="{{.Phone}}")#.street" (000, 002).
    let response = r#"{"data": [{"phone": "111", "street": "A St"}, {"mobile": "5550100", "street": "B St"}]}"#;
    let path = r#"data.#(phone=="{{.Phone}}")#.street,data.#(mobile=="{{.Phone}}")#.street"#;
    let found = mapping::zip_json_outputs(response, &[("Street", path)], &sample()).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["Street"], "B St");
}

#[test]
fn the_helpdesk_references_paths_read_what_it_describes() {
    // GetGlobalInfo (001): the first department's id, the first organization with a portal
    // name. The guide prints `portalName!=")` where its typesetting lost a quote; `!=""` is
    // the path it describes.
    let departments = r#"{"data": [{"id": "d-3"}, {"id": "d-4"}]}"#;
    let found = mapping::zip_json_outputs(departments, &[("DepartmentId", "data.#.id")], &sample())
        .unwrap();
    assert_eq!(found[0]["DepartmentId"], "d-3");
    let organizations = r#"{"data": [{"portalName": ""}, {"portalName": "acme"}]}"#;
    let found = mapping::zip_json_outputs(
        organizations,
        &[("PortalName", r#"data.#(portalName!="").portalName"#)],
        &sample(),
    )
    .unwrap();
    assert_eq!(found[0]["PortalName"], "acme");
    // The Common request's identities (001): the n-th phone number of a contact.
    let identities = r#"{"identities": [{"type": "email", "value": "a@x"}, {"type": "phone_number", "value": "111"}, {"type": "phone_number", "value": "222"}]}"#;
    let found = mapping::zip_json_outputs(
        identities,
        &[
            (
                "BusinessNumber2",
                r#"identities.#(type=="phone_number")#|1.value"#,
            ),
            (
                "BusinessFaxNumber",
                r#"identities.#(type=="phone_number")#|2.value"#,
            ),
        ],
        &sample(),
    )
    .unwrap();
    assert_eq!(found[0]["BusinessNumber2"], "222");
    assert_eq!(
        found[0]
            .get("BusinessFaxNumber")
            .map(String::as_str)
            .unwrap_or(""),
        ""
    );
}
