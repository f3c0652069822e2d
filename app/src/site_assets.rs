//! Where a page finds the site's files: the stylesheet, the app's script and WebAssembly, and
//! the split bundle's loader and manifest.
//!
//! `.ci/build-site` names these files by their content and lists the hashes in the site's
//! `hash.txt` (`js: …`, `wasm: …`, `split: …`, `manifest: …`, `css: …`). The server reads it
//! once, at start-up, and every page's head is written from the result. Leptos' own
//! `HashedStylesheet` and `HydrationScripts` find the names by reading the hash file (and
//! resolving the executable's path) on every request: about 6 % of a busy page's time under
//! load, in blocking file calls on the async runtime (README "The front end's weight").
//! This module does no I/O; the server hands it the files' text.

use std::collections::HashMap;

use leptos::prelude::ArcStoredValue;
use leptos::WasmSplitManifest;

/// What the hash file or the split manifest got wrong; the server does not start with it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SiteAssetsError {
    #[error("line {line} of the site's hash file is not `<file>: <hash>`: {text:?}")]
    HashLine { line: usize, text: String },
    #[error("the site's hash file gives `{file}` a hash that is not hex digits: {hash:?}")]
    Hash { file: String, hash: String },
    #[error("the split bundle's manifest is not a map of split points to file names: {0}")]
    Manifest(String),
}

/// The content hashes `.ci/build-site` lists, by file kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SiteHashes(HashMap<String, String>);

impl SiteHashes {
    pub fn parse(text: &str) -> Result<Self, SiteAssetsError> {
        let mut hashes = HashMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let Some((file, hash)) = line.split_once(':') else {
                return Err(SiteAssetsError::HashLine {
                    line: index + 1,
                    text: line.to_owned(),
                });
            };
            let (file, hash) = (file.trim(), hash.trim());
            // A hash lands in file names and in the page's script: hex digits only.
            if hash.is_empty() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(SiteAssetsError::Hash {
                    file: file.to_owned(),
                    hash: hash.to_owned(),
                });
            }
            hashes.insert(file.to_owned(), hash.to_owned());
        }
        Ok(Self(hashes))
    }

    /// `<stem>.<hash>.<extension>`, or `<stem>.<extension>` when `kind` has no hash.
    fn name(&self, kind: &str, stem: &str, extension: &str) -> String {
        match self.0.get(kind) {
            Some(hash) => format!("{stem}.{hash}.{extension}"),
            None => format!("{stem}.{extension}"),
        }
    }
}

/// The split bundle's loader and manifest: file names in the package directory.
fn split_files(hashes: Option<&SiteHashes>) -> (String, String) {
    match hashes {
        Some(hashes) => (
            hashes.name("split", "__wasm_split", "js"),
            hashes.name("manifest", "__wasm_split_manifest", "json"),
        ),
        None => (
            // wasm-split's placeholder name, which its loader imports by.
            "__wasm_split.______________________.js".to_owned(),
            "__wasm_split_manifest.json".to_owned(),
        ),
    }
}

/// The file in the package directory that [`SiteAssets::new`] takes the split bundle's
/// manifest from.
pub fn split_manifest_file(hashes: Option<&SiteHashes>) -> String {
    split_files(hashes).1
}

/// The addresses a page's head names, worked out once per process.
#[derive(Clone)]
pub struct SiteAssets {
    pub stylesheet: String,
    pub script: String,
    pub wasm: String,
    /// Starts the app: imports [`Self::script`], instantiates [`Self::wasm`], hydrates.
    pub boot_script: String,
    /// The split points' files, for lazy routes' preload links; none for a site without a
    /// split bundle.
    pub split: Option<WasmSplitManifest>,
}

impl SiteAssets {
    /// The names for a site in `pkg_dir` (the path under the site root, as URLs give it)
    /// whose files are named `output_name`: hashed as `hashes` says, or, for a site built
    /// without hashes, wasm-bindgen's own names; with the text of its split bundle's
    /// manifest ([`split_manifest_file`]), when it has one.
    pub fn new(
        pkg_dir: &str,
        output_name: &str,
        hashes: Option<&SiteHashes>,
        split_manifest: Option<&str>,
    ) -> Result<Self, SiteAssetsError> {
        let (script, wasm, stylesheet) = match hashes {
            Some(hashes) => (
                hashes.name("js", output_name, "js"),
                hashes.name("wasm", output_name, "wasm"),
                hashes.name("css", output_name, "css"),
            ),
            None => (
                format!("{output_name}.js"),
                format!("{output_name}_bg.wasm"),
                format!("{output_name}.css"),
            ),
        };
        let package = format!("/{pkg_dir}");
        let script = format!("{package}/{script}");
        let wasm = format!("{package}/{wasm}");
        // The names are hex digits and the package directory's: `{:?}` quotes them as
        // JavaScript would.
        let boot_script = format!(
            "import({script:?}).then(m=>m.default({{module_or_path:{wasm:?}}}).then(()=>m.hydrate()));"
        );
        // Which files each split point needs, and where its loader is.
        let split = split_manifest
            .map(|json| {
                let files: HashMap<String, Vec<String>> = serde_json::from_str(json)
                    .map_err(|error| SiteAssetsError::Manifest(error.to_string()))?;
                let (loader, _) = split_files(hashes);
                Ok(WasmSplitManifest(ArcStoredValue::new((
                    package.clone(),
                    files,
                    loader,
                ))))
            })
            .transpose()?;
        Ok(Self {
            stylesheet: format!("{package}/{stylesheet}"),
            script,
            wasm,
            boot_script,
            split,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::prelude::GetValue;

    const HASH_FILE: &str =
        "js: 0123abcd\nwasm: 0123abcd\nsplit: 0123abcd\nmanifest: 0123abcd\ncss: 77ff\n";

    #[test]
    fn a_hashed_site_names_each_file_by_its_own_hash() {
        let hashes = SiteHashes::parse(HASH_FILE).unwrap();
        let assets = SiteAssets::new("pkg", "patchbay", Some(&hashes), None).unwrap();
        assert_eq!(assets.stylesheet, "/pkg/patchbay.77ff.css");
        assert_eq!(assets.script, "/pkg/patchbay.0123abcd.js");
        assert_eq!(assets.wasm, "/pkg/patchbay.0123abcd.wasm");
        assert_eq!(
            split_manifest_file(Some(&hashes)),
            "__wasm_split_manifest.0123abcd.json"
        );
        assert_eq!(
            assets.boot_script,
            r#"import("/pkg/patchbay.0123abcd.js").then(m=>m.default({module_or_path:"/pkg/patchbay.0123abcd.wasm"}).then(()=>m.hydrate()));"#
        );
    }

    #[test]
    fn a_site_without_hashes_keeps_wasm_bindgens_names() {
        let assets = SiteAssets::new("pkg", "patchbay", None, None).unwrap();
        assert_eq!(assets.stylesheet, "/pkg/patchbay.css");
        assert_eq!(assets.script, "/pkg/patchbay.js");
        assert_eq!(assets.wasm, "/pkg/patchbay_bg.wasm");
        assert_eq!(split_manifest_file(None), "__wasm_split_manifest.json");
    }

    #[test]
    fn the_manifest_gives_the_split_points_their_files_and_the_loaders_address() {
        let hashes = SiteHashes::parse(HASH_FILE).unwrap();
        let assets = SiteAssets::new(
            "pkg",
            "patchbay",
            Some(&hashes),
            Some(r#"{"editor_pages_123":["pack_editor.0123abcd.bin"]}"#),
        )
        .unwrap();
        let manifest = assets.split.unwrap();
        let (package, files, loader) = manifest.0.get_value();
        assert_eq!(package, "/pkg");
        assert_eq!(files["editor_pages_123"], ["pack_editor.0123abcd.bin"]);
        assert_eq!(loader, "__wasm_split.0123abcd.js");
    }

    #[test]
    fn a_malformed_hash_file_or_manifest_is_refused_saying_where() {
        assert_eq!(
            SiteHashes::parse("js: 01ab\nwasm 01ab\n").unwrap_err(),
            SiteAssetsError::HashLine {
                line: 2,
                text: "wasm 01ab".into()
            }
        );
        // A hash lands inside the page's script: nothing but hex digits.
        assert_eq!(
            SiteHashes::parse("js: 01ab\");alert(1)//").unwrap_err(),
            SiteAssetsError::Hash {
                file: "js".into(),
                hash: "01ab\");alert(1)//".into()
            }
        );
        assert!(matches!(
            SiteAssets::new("pkg", "patchbay", None, Some("[1, 2]")),
            Err(SiteAssetsError::Manifest(_))
        ));
    }
}
