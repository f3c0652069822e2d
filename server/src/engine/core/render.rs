//! Renders template strings with Patchbay's functions and the configured server zone
//! (`PATCHBAY_TIME_ZONE`), under the language's budgets (SECURITY.md "Template language").

use std::sync::Arc;

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

/// Parses and executes template strings; cheap to clone.
#[derive(Clone)]
pub struct Renderer {
    functions: Arc<Functions>,
}

impl Renderer {
    pub fn new(zone: ZoneOffset) -> Renderer {
        Renderer {
            functions: Arc::new(patchbay(zone)),
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
        let template = Template::parse("t", &read_dialect(source).text, self.functions.clone())
            .map_err(|e| RenderError::Parse {
                what: what.to_owned(),
                message: e.to_string(),
            })?;
        template
            .execute(variables)
            .map_err(|e| RenderError::Execute {
                what: what.to_owned(),
                message: e.to_string(),
            })
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
}
