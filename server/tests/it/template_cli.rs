//! `patchbay template validate` as template authors run it: the real binary, real files.

use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/templates")
        .join(name)
}

fn validate(files: &[PathBuf]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_patchbay"))
        .args(["template", "validate"])
        .args(files)
        .output()
        .expect("run patchbay");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn a_good_template_passes_with_exit_status_zero() {
    let (status, stdout, stderr) = validate(&[fixture("crm-basic-api-key.xml")]);
    assert_eq!(status, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "", "no findings expected");
    assert!(
        stderr.contains("1 file(s) checked: 0 error(s), 0 warning(s)"),
        "{stderr}"
    );
}

#[test]
fn malformed_xml_is_reported_at_its_line_and_column() {
    let file = fixture("malformed-raw-ampersand.xml");
    let (status, stdout, _) = validate(std::slice::from_ref(&file));
    assert_eq!(status, 1);
    let expected = format!(
        "{}:11:107: error: raw '&' (write it as &amp;) in attribute URLFormat of <Request> [xml.malformed]\n",
        file.display()
    );
    assert_eq!(stdout, expected);
}

#[test]
fn each_invalid_setting_gets_its_own_line_and_good_files_still_pass() {
    let bad = fixture("invalid-settings.xml");
    let good = fixture("crm-basic-api-key.xml");
    let (status, stdout, stderr) = validate(&[bad.clone(), good]);
    assert_eq!(status, 1);
    let lines: Vec<&str> = stdout.lines().collect();
    let bad_name = bad.display().to_string();
    assert!(
        lines.iter().all(|l| l.starts_with(&format!("{bad_name}:"))),
        "{stdout}"
    );
    for expected in [
        ":2:51: error: Key may only use letters",
        ":2:118: error: MaxConcurrentRequest must be a whole number from 1 to 100, not \"0\"",
        ":2:138: error: CreateNewTicket is only for helpdesk templates",
        ":6:9: error: AuthType is \"oauth2\" but the AuthMethod scenario says \"basic\"",
        ":11:62: error: does not parse at character 39: unclosed action [template.syntax] (scenario CallJournal, request CallJournal, attribute URLFormat)",
    ] {
        assert!(lines.iter().any(|l| l.contains(expected)), "missing {expected:?} in:\n{stdout}");
    }
    assert!(stderr.contains("2 file(s) checked"), "{stderr}");
}

#[test]
fn an_unreadable_file_is_an_error_not_a_crash() {
    let missing = fixture("does-not-exist.xml");
    let (status, stdout, _) = validate(&[missing]);
    assert_eq!(status, 1);
    assert!(stdout.contains("error: cannot read the file"), "{stdout}");
}
