//! ARCHITECTURE.md's invariants as a test: it reads the sources and fails, naming the file
//! and the import, when a dependency runs the wrong way (the idea of rust-analyzer's
//! `tidy` tests). Run it alone with `cargo test -p server --lib tidy`.
//!
//! The layers of `server/src`, from the top (a module may import its own layer and those
//! below it, as listed in [`ALLOWED`]):
//!
//! - the composition root: `lib.rs`, `main.rs`, `cli/`, `config.rs` (assembles every
//!   owner's settings), `state.rs`;
//! - `web/`: the only place that knows HTTP;
//! - the domain: `accounts/`, `templates/`, `directory/`, `integrations/`, `queue/` (the
//!   queue runs call steps through the integrations, never the other way round),
//!   `phone_system/` (its events go into the queue; its sync checks rows by the directory's
//!   rules), `agents/` (the call feed agents' pages are told; the queue writes it, and an
//!   agent's contact is created through the integrations), `notifications` (conditions
//!   checked and delivered), `overview` (reads them all for the Overview page);
//! - `engine/`, whose `engine/core/` does no I/O and imports nothing else of the server;
//! - `storage/`;
//! - the leaves any layer may use: `crypto/`, `clock.rs`, `shutdown.rs` (what watches for
//!   the server's stop), `metrics.rs` (the counters Prometheus scrapes).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Which top-level modules each may import (besides itself). `engine/core` is listed as
/// `engine::core`.
const ALLOWED: &[(&str, &[&str])] = &[
    ("crypto", &["clock"]),
    ("clock", &[]),
    ("shutdown", &[]),
    ("metrics", &[]),
    ("storage", &["crypto", "clock", "metrics"]),
    ("engine::core", &[]),
    (
        "engine",
        &["engine::core", "storage", "crypto", "clock", "metrics"],
    ),
    ("accounts", &["storage", "crypto", "clock", "metrics"]),
    ("templates", &["storage", "crypto", "clock", "metrics"]),
    ("directory", &["storage", "crypto", "clock", "metrics"]),
    (
        "integrations",
        &[
            "engine",
            "engine::core",
            "storage",
            "crypto",
            "clock",
            "metrics",
        ],
    ),
    (
        "agents",
        &[
            "integrations",
            "engine",
            "engine::core",
            "storage",
            "crypto",
            "clock",
            "metrics",
        ],
    ),
    (
        "queue",
        &[
            "agents",
            "integrations",
            "engine",
            "engine::core",
            "storage",
            "crypto",
            "clock",
            "metrics",
            "shutdown",
        ],
    ),
    (
        "phone_system",
        &[
            "queue",
            "agents",
            "directory",
            "integrations",
            "engine",
            "engine::core",
            "storage",
            "crypto",
            "clock",
            "metrics",
            "shutdown",
        ],
    ),
    (
        "notifications",
        &[
            "phone_system",
            "queue",
            "agents",
            "directory",
            "integrations",
            "engine",
            "engine::core",
            "storage",
            "crypto",
            "clock",
            "metrics",
            "shutdown",
        ],
    ),
    (
        "overview",
        &[
            "notifications",
            "phone_system",
            "queue",
            "agents",
            "directory",
            "integrations",
            "engine",
            "engine::core",
            "storage",
            "crypto",
            "clock",
            "metrics",
            "shutdown",
        ],
    ),
    (
        "web",
        &[
            "state",
            "overview",
            "notifications",
            "phone_system",
            "agents",
            "accounts",
            "templates",
            "directory",
            "integrations",
            "queue",
            "engine",
            "engine::core",
            "crypto",
            "clock",
            "metrics",
            "shutdown",
        ],
    ),
];

/// Modules of the composition root: they may import anything.
const ROOTS: &[&str] = &["lib", "main", "cli", "config", "state", "tidy"];

/// What `engine/core` must not touch: it decides, the edges act.
const IO_IN_CORE: &[&str] = &[
    "tokio::",
    "reqwest",
    "sea_orm",
    "std::fs",
    "std::net::Tcp",
    "hyper",
    "axum",
];

fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Every source file of `server/src` with its code: comments, `#[cfg(test)]` modules and
/// the list of settings (`config::SETTINGS`) left out, so what remains is what runs.
pub(crate) fn rust_sources(found: &mut Vec<(PathBuf, String)>) {
    let mut files = Vec::new();
    rust_files(&source_dir(), &mut files);
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let mut code = code_of(&text);
        if let Some(at) = code.find("#[cfg(test)]\nmod tests") {
            code.truncate(at);
        }
        if let Some(start) = code.find("pub const SETTINGS") {
            if let Some(end) = code[start..].find("];") {
                code.replace_range(start..start + end + 2, "");
            }
        }
        found.push((path, code));
    }
}

/// The layer a file belongs to: its top-level module, `engine::core` for the core.
fn layer_of(relative: &Path) -> String {
    let parts: Vec<String> = relative
        .components()
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned()
        })
        .collect();
    match parts.as_slice() {
        [engine, core, ..] if engine == "engine" && core == "core" => "engine::core".into(),
        [engine, core] if engine == "engine" && core == "core" => "engine::core".into(),
        [first, ..] => first.clone(),
        [] => String::new(),
    }
}

/// The code of a file without its comments (doc comments name modules freely).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The layers `code` imports: each `crate::name` (and `crate::engine::core`).
fn imported_layers(code: &str) -> BTreeSet<String> {
    let mut layers = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if name == "engine" && rest["engine".len()..].starts_with("::core") {
            layers.insert("engine::core".to_owned());
        } else if !name.is_empty() {
            layers.insert(name);
        }
    }
    layers
}

/// The longest a file of a domain split by job may grow, its unit tests aside: read in one
/// sitting (ARCHITECTURE.md "Where things live").
const MAX_SERVICE_FILE_LINES: usize = 500;
const SPLIT_BY_JOB: &[&str] = &["integrations"];

/// What a REST handler would write to authorize on its own instead of naming its
/// `access::Caller<…>`.
const AUTHORIZING_BY_HAND: &[&str] = &["Extension<Viewer>", "fn authorize", "Rule {"];

/// Every violation in the server's sources, as `file: message` lines.
fn violations() -> Vec<String> {
    let root = source_dir();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    assert!(
        files.len() > 50,
        "the sources were not found under {root:?}"
    );
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&root).unwrap_or(&file).to_path_buf();
        let shown = relative.display().to_string();
        if shown == "tidy.rs" {
            continue;
        }
        let layer = layer_of(&relative);
        let code = code_of(&std::fs::read_to_string(&file).unwrap_or_default());
        if ROOTS.contains(&layer.as_str()) {
            continue;
        }
        let Some((_, allowed)) = ALLOWED.iter().find(|(name, _)| *name == layer) else {
            found.push(format!(
                "{shown}: the layer {layer:?} is not in tidy::ALLOWED"
            ));
            continue;
        };
        for imported in imported_layers(&code) {
            if imported != layer && !allowed.contains(&imported.as_str()) {
                found.push(format!(
                    "{shown}: {layer} imports crate::{imported}, which it may not (tidy::ALLOWED)"
                ));
            }
        }
        if layer == "engine::core" {
            for io in IO_IN_CORE {
                if code.contains(io) {
                    found.push(format!("{shown}: engine/core uses {io}: it does no I/O"));
                }
            }
        }
        let source = std::fs::read_to_string(&file).unwrap_or_default();
        let lines = source
            .lines()
            .take_while(|line| !line.starts_with("#[cfg(test)]"))
            .count();
        if SPLIT_BY_JOB.contains(&layer.as_str()) && lines > MAX_SERVICE_FILE_LINES {
            found.push(format!(
                "{shown}: {lines} lines; split it by job (at most {MAX_SERVICE_FILE_LINES})"
            ));
        }
        if shown.starts_with("web/api/") && shown != "web/api/access.rs" {
            for own_check in AUTHORIZING_BY_HAND {
                if code.contains(own_check) {
                    found.push(format!(
                        "{shown}: uses {own_check}: REST endpoints authorize through web::api::access::Caller"
                    ));
                }
            }
        }
        if layer == "web" {
            for field in repository_fields() {
                let call = format!("state.{field}.");
                for (at, _) in code.match_indices(&call) {
                    if !code[at + call.len()..].starts_with("clone()") {
                        found.push(format!(
                            "{shown}: a handler calls the repository state.{field}; go through a domain service"
                        ));
                    }
                }
            }
        }
    }
    found
}

/// The fields of `AppState` that are repositories or the database itself.
fn repository_fields() -> Vec<String> {
    let state = std::fs::read_to_string(source_dir().join("state.rs")).unwrap_or_default();
    state
        .lines()
        .filter_map(|line| line.trim().strip_prefix("pub "))
        .filter_map(|field| field.split_once(':'))
        .filter(|(_, kind)| {
            ["Repository", "DatabaseConnection", "DbSessionStore"]
                .iter()
                .any(|marker| kind.contains(marker))
        })
        .map(|(name, _)| name.trim().to_owned())
        .collect()
}

/// The files under `app/src/<dir>` whose code (comments aside) holds any of `patterns`.
fn app_files_holding(dir: &str, patterns: &[&str]) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../app/src")
        .join(dir);
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(!files.is_empty(), "app/src/{dir} was not found");
    files
        .into_iter()
        .filter(|file| {
            let code = code_of(&std::fs::read_to_string(file).unwrap_or_default());
            patterns.iter().any(|pattern| code.contains(pattern))
        })
        .collect()
}

/// Files of `app` that must not know Leptos: the language and the template model run on
/// the server without a UI.
fn leptos_in_shared_code() -> Vec<String> {
    ["lang", "template"]
        .into_iter()
        .flat_map(|dir| {
            app_files_holding(dir, &["leptos"])
                .into_iter()
                .map(move |file| format!("{}: app::{dir} uses Leptos", file.display()))
        })
        .collect()
}

/// Resources made with Leptos' default codec: their values would be decoded by a second
/// copy of each type's JSON decoder in the browser bundle (`app::components::page_data`).
fn resources_outside_page_data() -> Vec<String> {
    app_files_holding("", &["Resource::new(", "Resource::new_blocking("])
        .into_iter()
        .map(|file| format!("{}: a resource not made with page_data", file.display()))
        .collect()
}

#[test]
fn dependencies_run_one_way() {
    let found = violations();
    assert!(found.is_empty(), "\n{}\n", found.join("\n"));
}

#[test]
fn the_language_and_the_template_model_know_nothing_of_leptos() {
    let found = leptos_in_shared_code();
    assert!(found.is_empty(), "\n{}\n", found.join("\n"));
}

#[test]
fn pages_make_their_resources_with_page_data() {
    let found = resources_outside_page_data();
    assert!(found.is_empty(), "\n{}\n", found.join("\n"));
}

#[test]
fn the_rules_catch_what_they_forbid() {
    let layers = imported_layers(
        "use crate::web::x;\nlet a = crate::engine::core::render::Renderer::utc();\nuse crate::engine::tokens;",
    );
    assert_eq!(
        layers.into_iter().collect::<Vec<_>>(),
        ["engine", "engine::core", "web"]
    );
    assert_eq!(
        code_of("use crate::queue; // crate::web in a comment\n/// crate::config"),
        "use crate::queue; \n"
    );
    assert_eq!(layer_of(Path::new("engine/core/oauth.rs")), "engine::core");
    assert_eq!(layer_of(Path::new("engine/tokens.rs")), "engine");
    assert_eq!(layer_of(Path::new("clock.rs")), "clock");
    assert!(repository_fields().contains(&"accounts".to_owned()));
    assert!(repository_fields().contains(&"db".to_owned()));
    assert!(!repository_fields().contains(&"config".to_owned()));
}
