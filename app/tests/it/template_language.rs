//! The template language's own behaviour, against the examples of
//! docs/template-format.md: Patchbay's functions, the older credential notation,
//! mapping paths with alternatives and JSONPath, and zipping by index.

use std::collections::BTreeMap;

use app::lang::functions::{self, fixed_offset, parse_offset};
use app::lang::mapping::{self, Found};
use app::lang::{gjson, parse_template, rewrite_legacy_credential, text};

fn vars(pairs: &[(&str, &str)]) -> text::Data {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn render(source: &str, data: &text::Data) -> String {
    parse_template(source)
        .expect("parses")
        .execute(data)
        .expect("renders")
}

#[test]
fn spec_examples_of_the_functions() {
    let none = vars(&[]);
    assert_eq!(
        render(r#"{{UrlEncode "hello world!"}}"#, &none),
        "hello%20world%21"
    );
    assert_eq!(
        render(r#"{{ToMillis "1672531199"}}"#, &none),
        "1672531199000"
    );
    assert_eq!(
        render(r#"{{Capitalize "hello world"}}"#, &none),
        "Hello world"
    );
    assert_eq!(
        render(
            r#"{{TimeFormat "1672531199" "yyyy-MM-ddTHH:mm:ss.SSSz" "1"}}"#,
            &none
        ),
        "2022-12-31T23:59:59.000Z"
    );
}

#[test]
fn time_format_uses_the_server_zone_unless_utc_is_asked_for() {
    let plus_eight = std::sync::Arc::new(functions::patchbay(fixed_offset(8 * 3600)));
    let local = text::Template::parse(
        "t",
        r#"{{TimeFormat .T "yyyy-MM-dd HH:mm:ss z" "0"}}"#,
        plus_eight.clone(),
    )
    .expect("parses");
    let data = vars(&[("T", "1672531199")]);
    assert_eq!(
        local.execute(&data).expect("renders"),
        "2023-01-01 07:59:59 +08:00"
    );
    let utc = text::Template::parse(
        "t",
        r#"{{TimeFormat .T "yy/MM/dd hh:mm a z" "1"}}"#,
        plus_eight,
    )
    .expect("parses");
    assert_eq!(utc.execute(&data).expect("renders"), "22/12/31 11:59 PM Z");
    assert_eq!(
        functions::time_format(0, "yyyy-MM-dd hh a", -5 * 3600 - 1800, false),
        "1969-12-31 06 PM"
    );
    assert_eq!(
        functions::time_format(951_782_400, "dd.MM.yyyy", 0, true),
        "29.02.2000"
    );
    assert_eq!(parse_offset("+08:00"), Some(28_800));
    assert_eq!(parse_offset("-0530"), Some(-19_800));
    assert_eq!(parse_offset("UTC"), Some(0));
    assert_eq!(parse_offset("Europe/Paris"), None);
}

#[test]
fn time_format_and_to_millis_refuse_what_is_not_a_number() {
    let t = parse_template(r#"{{TimeFormat .T "yyyy" "1"}}"#).expect("parses");
    let err = t
        .execute(&vars(&[("T", "yesterday")]))
        .expect_err("not a timestamp");
    assert!(
        err.message
            .contains(r#"parsing "yesterday": invalid syntax"#),
        "{}",
        err.message
    );
    assert_eq!(err.offset, Some(2));
}

#[test]
fn json_escape_makes_any_value_safe_inside_a_json_string() {
    let data = vars(&[("Subject", "Call \"A\"\\B\n\ttab\u{1}")]);
    let body = render(r#"{"subject":"{{JsonEscape .Subject}}"}"#, &data);
    let parsed: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
    assert_eq!(parsed["subject"], "Call \"A\"\\B\n\ttab\u{1}");
}

#[test]
fn the_older_credential_notation_is_rewritten() {
    assert_eq!(
        rewrite_legacy_credential("{{.username:.password}}"),
        "{{.username}}:{{.password}}"
    );
    assert_eq!(
        rewrite_legacy_credential("{{ .api_key: }}"),
        "{{.api_key}}:"
    );
    assert_eq!(rewrite_legacy_credential("{{.a}}:{{.b}}"), "{{.a}}:{{.b}}");
    assert_eq!(
        rewrite_legacy_credential(r#"{{printf "%s:%s" .a .b}}"#),
        r#"{{printf "%s:%s" .a .b}}"#
    );
    let data = vars(&[
        ("username", "ada"),
        ("password", "s3cret"),
        ("api_key", "K"),
    ]);
    assert_eq!(render("{{.username:.password}}", &data), "ada:s3cret");
    assert_eq!(render("{{.api_key:}}", &data), "K:");
    // Go itself refuses the colon, which is why the rewrite happens first.
    let go = text::Template::parse(
        "t",
        "{{.username:.password}}",
        app::lang::standard_functions(),
    );
    assert_eq!(
        go.expect_err("Go syntax").to_string(),
        "template: t:1: expected :="
    );
}

const IDENTITIES: &str = r#"{"identities":[
  {"type":"email","value":"ada@example.com"},
  {"type":"phone_number","value":"+441000"},
  {"type":"phone_number","value":"+442000"}]}"#;

#[test]
fn a_query_then_a_pipe_picks_the_second_phone_identity() {
    let v = gjson::get(IDENTITIES, r#"identities.#(type=="phone_number")#|1.value"#);
    assert_eq!(v.string(), "+442000");
}

const ADDRESSES: &str = r#"{"data":[
  {"phone":"111","mobile":"999","street":"Main St"},
  {"phone":"222","mobile":"+44 20","street":"High St"}]}"#;

#[test]
fn the_first_alternative_that_exists_wins() {
    let path = r#"data.#(phone=="{{.Phone}}")#.street,data.#(mobile=="{{.Phone}}")#.street"#;
    let missing_first = r#"data.#(phone=="{{.Phone}}").street,data.#(mobile=="{{.Phone}}").street"#;
    let data = vars(&[("Phone", "+44 20")]);
    assert_eq!(
        mapping::find(ADDRESSES, "street", missing_first, &data),
        Ok(Found::One("High St".into()))
    );
    assert_eq!(
        mapping::find(ADDRESSES, "street", path, &vars(&[("Phone", "111")])),
        Ok(Found::Many(vec!["Main St".into()]))
    );
    assert_eq!(
        mapping::alternatives(r#"a.#(b=="x,y"),c.{d,e},[f,g],h\,i,j"#),
        vec![r#"a.#(b=="x,y")"#, "c.{d,e}", "[f,g]", r"h\,i", "j"]
    );
}

#[test]
fn the_spec_fallback_example_reaches_its_second_alternative() {
    // As docs/template-language.md "Paths" says: `#(...)#` gives `[]` when nothing
    // matches, and an empty array counts as nothing found.
    assert_eq!(
        gjson::get(ADDRESSES, r#"data.#(phone=="+44 20")#.street"#).raw(),
        "[]"
    );
    let path = r#"data.#(phone=="{{.Phone}}")#.street,data.#(mobile=="{{.Phone}}")#.street"#;
    let data = vars(&[("Phone", "+44 20")]);
    assert_eq!(
        mapping::find(ADDRESSES, "street", path, &data),
        Ok(Found::Many(vec!["High St".into()]))
    );
}

#[test]
fn json_path_is_used_for_paths_starting_with_a_dollar() {
    let data = vars(&[]);
    assert_eq!(
        mapping::find(ADDRESSES, "streets", "$.data[*].street", &data),
        Ok(Found::Many(vec!["Main St".into(), "High St".into()]))
    );
    assert_eq!(
        mapping::find(ADDRESSES, "first", "$.data[0].phone", &data),
        Ok(Found::One("111".into()))
    );
    assert_eq!(
        mapping::find(ADDRESSES, "none", "$.nothing, data.1.mobile", &data),
        Ok(Found::One("+44 20".into()))
    );
    let bad = mapping::find(ADDRESSES, "bad", "$.data[", &data).expect_err("bad JSONPath");
    assert!(bad.to_string().starts_with("output bad: JSONPath"), "{bad}");
}

#[test]
fn outputs_are_zipped_by_index_with_scalars_shared() {
    let users = r#"{"total":2,"users":[
      {"id":1,"email":"ada@example.com","name":{"first":"Ada"}},
      {"id":2,"name":{"first":"Bob"}}]}"#;
    let results = mapping::zip_outputs(
        users,
        &[
            ("Id", "users.#.id"),
            ("Email", "users.#.email"),
            ("First", "users.#.name.first"),
            ("Total", "total"),
        ],
        &vars(&[]),
    )
    .expect("evaluates");
    let expected: Vec<BTreeMap<String, String>> = vec![
        [
            ("Id", "1"),
            ("Email", "ada@example.com"),
            ("First", "Ada"),
            ("Total", "2"),
        ],
        [("Id", "2"), ("Email", ""), ("First", "Bob"), ("Total", "2")],
    ]
    .into_iter()
    .map(|row| {
        row.into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    })
    .collect();
    // GJSON's `#.email` leaves out elements without one, so values are
    // zipped by their position in each output's own array.
    assert_eq!(results, expected);
    assert!(mapping::zip_outputs(users, &[("X", "missing")], &vars(&[]))
        .expect("evaluates")
        .is_empty());
    let single = mapping::zip_outputs(users, &[("Total", "total")], &vars(&[])).expect("evaluates");
    assert_eq!(single.len(), 1);
}

#[test]
fn a_path_template_error_names_the_output() {
    let err = mapping::find("{}", "Email", "users.{{.Bad", &vars(&[])).expect_err("does not parse");
    assert_eq!(
        err.to_string(),
        "output Email: the path does not parse as a template: template: t:1: unclosed action"
    );
}

/// The Call Journal body of the vendor's CRM and Helpdesk guides (000 and 002), as printed.
const VENDOR_CALL_JOURNAL_BODY: &str = r#"{
  "data": [
    {
      "{{.Owner}}{{.WhoModule}}": {
        "Description": "{{.Description}}",
        "Voice_Recording__s": "{{.RecordPath}}",
        "Call_Start_Time": "{{TimeFormat .StartTimeUnix 'yyyy-MM-ddTHH:mm:ss-z' '1'}}",
        "Subject": "{{.Subject}}",
        "Call_Type": "Inbound",
        "Call_Result": "{{.Call_Log_Status}}",
        "Call_Duration": "{{.Talk_Duration_Sec}}"
      }
    }
  ]
}"#;

#[test]
fn the_vendors_single_quoted_call_journal_example_renders_as_written() {
    let data = vars(&[
        ("Owner", "Calls"),
        ("WhoModule", ""),
        ("Description", "Inbound call"),
        ("RecordPath", ""),
        ("StartTimeUnix", "1672531199"),
        ("Subject", "Call"),
        ("Call_Log_Status", "Incoming Call"),
        ("Talk_Duration_Sec", "42"),
    ]);
    let body = render(VENDOR_CALL_JOURNAL_BODY, &data);
    let parsed: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
    // '1' is the string "1" (UTC), not Go's character 49.
    assert_eq!(
        parsed["data"][0]["Calls"]["Call_Start_Time"],
        "2022-12-31T23:59:59-Z"
    );
    assert_eq!(
        app::lang::read_dialect(VENDOR_CALL_JOURNAL_BODY).rules,
        [app::lang::DialectRule::SingleQuotes]
    );
    // Go itself refuses the multi-character literal, as `eval --jsonl` still does.
    let go = app::lang::parse_go_template(VENDOR_CALL_JOURNAL_BODY).unwrap_err();
    assert!(
        go.to_string().contains("malformed character constant"),
        "{go}"
    );
}

#[test]
fn single_quotes_are_strings_inside_actions_only() {
    let data = vars(&[("A", "a")]);
    let cases = [
        // One character: a string, where Go reads the number 49.
        (r#"{{printf "%v" '1'}}"#, "1"),
        (r#"{{printf "%s" 'it\'s "x"'}}"#, r#"it's "x""#),
        (
            r#"{{printf "%s|%s" 'tab\there' `raw'q`}}"#,
            "tab\there|raw'q",
        ),
        // Outside actions, and inside double-quoted strings, nothing changes.
        ("it's {{.A}}", "it's a"),
        (r#"{{printf "'%s'" .A}}"#, "'a'"),
        ("{{- 'x' -}} y", "xy"),
    ];
    for (source, expected) in cases {
        assert_eq!(render(source, &data), expected, "{source}");
    }
    assert_eq!(
        app::lang::read_dialect("it's {{.A}}").rules,
        Vec::<app::lang::DialectRule>::new()
    );
    // An unterminated literal is left for Go's parser to report.
    let error = parse_template("{{'abc}}").expect_err("refused");
    assert!(error.to_string().contains("unterminated"), "{error}");
}
