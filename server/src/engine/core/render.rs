//! Renders template strings with Patchbay's functions and the configured server zone
//! (`PATCHBAY_TIME_ZONE`), under the language's budgets (SECURITY.md "Template language").

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use app::lang::functions::{patchbay, ZoneOffset};
use app::lang::read_dialect;
use app::lang::text::{Functions, Template};

use super::Variables;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("{what} does not parse: {message}")]
    Parse { what: String, message: String },
    #[error("{what} fails: {message}")]
    Execute { what: String, message: String },
}

/// Parsed template strings kept, so a string a template sends on every call is parsed once.
/// Bounded by the text they hold; past it the cache starts over.
pub const MAX_CACHED_TEMPLATE_BYTES: usize = 8 * 1024 * 1024;
/// A longer string is parsed each time rather than kept.
pub const MAX_CACHED_TEMPLATE_CHARS: usize = 64 * 1024;

#[derive(Default)]
struct ParseCache {
    templates: HashMap<String, Arc<Template>>,
    bytes: usize,
}

/// Parses and executes template strings; cheap to clone (clones share the parse cache).
#[derive(Clone)]
pub struct Renderer {
    functions: Arc<Functions>,
    cache: Arc<Mutex<ParseCache>>,
}

impl Renderer {
    pub fn new(zone: ZoneOffset) -> Renderer {
        Renderer {
            functions: Arc::new(patchbay(zone)),
            cache: Arc::default(),
        }
    }

    /// A renderer whose server zone is UTC.
    pub fn utc() -> Renderer {
        Renderer::new(app::lang::functions::fixed_offset(0))
    }

    /// Renders `source` over `variables`; `what` names it in errors ("URLFormat of request
    /// Contacts").
    pub fn render(
        &self,
        what: &str,
        source: &str,
        variables: &Variables,
    ) -> Result<String, RenderError> {
        if !source.contains("{{") {
            return Ok(source.to_owned());
        }
        let template = self.parsed(source).map_err(|message| RenderError::Parse {
            what: what.to_owned(),
            message,
        })?;
        template
            .execute(variables)
            .map_err(|e| RenderError::Execute {
                what: what.to_owned(),
                message: e.to_string(),
            })
    }
}

impl Renderer {
    /// `source` parsed (with the dialect read), from the cache when it was parsed before.
    fn parsed(&self, source: &str) -> Result<Arc<Template>, String> {
        let lock = || self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(template) = lock().templates.get(source) {
            return Ok(template.clone());
        }
        let template = Arc::new(
            Template::parse("t", &read_dialect(source).text, self.functions.clone())
                .map_err(|e| e.to_string())?,
        );
        if source.len() <= MAX_CACHED_TEMPLATE_CHARS {
            let mut cache = lock();
            if cache.bytes + source.len() > MAX_CACHED_TEMPLATE_BYTES {
                *cache = ParseCache::default();
            }
            cache.bytes += source.len();
            cache.templates.insert(source.to_owned(), template.clone());
        }
        Ok(template)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_with_the_legacy_credential_notation_and_the_configured_zone() {
        let renderer = Renderer::new(app::lang::functions::fixed_offset(3600));
        let vars = Variables::from([
            ("username".into(), "ann".into()),
            ("password".into(), "pw".into()),
        ]);
        assert_eq!(
            renderer
                .render("credential", "{{.username:.password}}", &vars)
                .unwrap(),
            "ann:pw"
        );
        assert_eq!(
            renderer
                .render("t", r#"{{TimeFormat "0" "HH:mm z" "0"}}"#, &vars)
                .unwrap(),
            "01:00 +01:00"
        );
        let error = renderer.render("URLFormat", "{{.x", &vars).unwrap_err();
        assert!(error.to_string().starts_with("URLFormat does not parse"));
    }

    #[test]
    fn a_string_is_parsed_once_and_the_cache_stays_bounded() {
        let renderer = Renderer::utc();
        let vars = Variables::from([("x".into(), "1".into())]);
        for _ in 0..3 {
            assert_eq!(renderer.render("t", "a{{.x}}", &vars).unwrap(), "a1");
        }
        assert_eq!(renderer.cache.lock().unwrap().templates.len(), 1);
        // Errors are not kept; each answer is the same.
        for _ in 0..2 {
            assert!(renderer.render("t", "{{.x", &vars).is_err());
        }
        assert_eq!(renderer.cache.lock().unwrap().templates.len(), 1);
        // A long string is not kept; many strings start the cache over within its bound.
        let long = format!("{{{{.x}}}}{}", " ".repeat(MAX_CACHED_TEMPLATE_CHARS));
        renderer.render("t", &long, &vars).unwrap();
        assert_eq!(renderer.cache.lock().unwrap().templates.len(), 1);
        let filler = " ".repeat(MAX_CACHED_TEMPLATE_CHARS - 10);
        for n in 0..(MAX_CACHED_TEMPLATE_BYTES / MAX_CACHED_TEMPLATE_CHARS + 2) {
            renderer
                .render("t", &format!("{{{{.x}}}}{n}{filler}"), &vars)
                .unwrap();
            assert!(renderer.cache.lock().unwrap().bytes <= MAX_CACHED_TEMPLATE_BYTES);
        }
    }
}
