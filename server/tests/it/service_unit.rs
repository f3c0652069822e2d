//! The systemd unit in `deploy/patchbay.service`: hardened as README "Running as a service"
//! says, its stop timeout longer than the shutdown grace, every setting it names a documented
//! one, and valid to `systemd-analyze verify` (where systemd is installed, as on Debian).

use std::path::{Path, PathBuf};

fn unit_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/patchbay.service")
}

/// The unit's `Key=value` lines, comments and sections left out.
fn directives(unit: &str) -> Vec<(&str, &str)> {
    unit.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with('['))
        .filter_map(|line| line.split_once('='))
        .collect()
}

fn value<'a>(directives: &[(&str, &'a str)], key: &str) -> Option<&'a str> {
    directives.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

#[test]
fn the_service_unit_is_hardened_and_waits_for_the_shutdown_grace() {
    let unit = std::fs::read_to_string(unit_path()).unwrap();
    let directives = directives(&unit);
    for (key, expected) in [
        ("DynamicUser", "yes"),
        ("StateDirectory", "patchbay"),
        ("ProtectSystem", "strict"),
        ("NoNewPrivileges", "yes"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("CapabilityBoundingSet", ""),
        ("KillSignal", "SIGTERM"),
    ] {
        assert_eq!(value(&directives, key), Some(expected), "{key}");
    }
    assert_eq!(
        value(&directives, "ExecStart"),
        Some("/usr/local/bin/patchbay serve")
    );
    let stop_timeout: u64 = value(&directives, "TimeoutStopSec")
        .and_then(|v| v.parse().ok())
        .expect("TimeoutStopSec in seconds");
    let grace = server::web::listener::DEFAULT_SHUTDOWN_GRACE.as_secs();
    assert!(
        stop_timeout >= 2 * grace,
        "TimeoutStopSec={stop_timeout} leaves too little after a grace of {grace} s"
    );
    // Every setting the unit gives is one the README documents.
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let data_dir = "/var/lib/patchbay";
    let mut named = 0;
    for (_, setting) in directives.iter().filter(|(k, _)| *k == "Environment") {
        let (name, given) = setting.split_once('=').expect("NAME=value");
        assert!(
            readme.contains(&format!("| `{name}` |")),
            "{name} is not in README's table"
        );
        if name == "PATCHBAY_DATA_DIR" {
            assert_eq!(given, data_dir, "the data directory is the StateDirectory");
        }
        named += 1;
    }
    assert!(named >= 2);
}

#[test]
fn systemd_analyze_verifies_the_service_unit() {
    let Ok(version) = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
    else {
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    };
    assert!(version.status.success());
    // verify also checks that ExecStart's program exists: this build's binary stands in.
    let dir = tempfile::tempdir().unwrap();
    let unit = std::fs::read_to_string(unit_path())
        .unwrap()
        .replace("/usr/local/bin/patchbay", env!("CARGO_BIN_EXE_patchbay"));
    let copy = dir.path().join("patchbay.service");
    std::fs::write(&copy, unit).unwrap();
    let verified = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&verified.stderr);
    assert!(verified.status.success(), "{said}");
    // A directive systemd does not understand is only a warning: none is allowed.
    let complaints: Vec<&str> = said
        .lines()
        .filter(|line| line.contains("patchbay.service"))
        .collect();
    assert!(complaints.is_empty(), "{said}");
}
