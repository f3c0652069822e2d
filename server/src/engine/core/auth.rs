//! The AuthMethod scenario, read once per template (docs/template-format.md "AuthMethod
//! parameters"): how requests authenticate, which fields a user fills in, the global
//! headers, and what marks a token as invalid.

use app::template::model::{AuthType, ScenarioView, TemplateView};

use super::Variables;

/// A field the integrating user fills in (`Father="CustomFieldList"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomField {
    /// The variable name templates use.
    pub name: String,
    pub title: String,
    pub editor: FieldEditor,
    /// A list's options; the default value of a text or password field.
    pub options: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldEditor {
    Text,
    Password,
    List,
}

impl CustomField {
    /// Password fields and the OAuth client secret are stored encrypted and never shown.
    pub fn is_secret(&self) -> bool {
        self.editor == FieldEditor::Password || self.name == CLIENT_SECRET
    }
}

pub const CLIENT_ID: &str = "client_id";
pub const CLIENT_SECRET: &str = "client_secret";

/// TokenRefreshTime when the template leaves it empty (docs/template-format.md).
pub const DEFAULT_REFRESH_MINUTES: u64 = 25;

/// Where an OAuth client's id and secret go in token requests (RFC 6749 2.3.1).
/// `CredentialType="client_secret_basic"` (or `basic`) sends them as HTTP Basic; anything
/// else, the common default, as body fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientCredentials {
    InBody,
    BasicHeader,
}

/// What the engine needs from AuthMethod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthSettings {
    pub method: AuthType,
    /// Basic: the credential template, e.g. `{{.username}}:{{.password}}`.
    pub credential: String,
    pub auth_endpoint: String,
    pub token_endpoint: String,
    /// `application/x-www-form-urlencoded` (default) or `application/json`.
    pub token_content_type: String,
    /// The Authorization header's prefix for oauth2 and bearer (default `Bearer`).
    pub token_type: String,
    /// OAuth 2.0: the scopes as the template gives them, and more query text (a template)
    /// for the authorization URL.
    pub scope: String,
    pub additional_query: String,
    pub client_credentials: ClientCredentials,
    /// The refresh request; empty endpoint, method or content type mean "as the token
    /// request" (TokenEndPoint, POST, TokenContentType).
    pub refresh_endpoint: String,
    pub refresh_method: String,
    pub refresh_content_type: String,
    pub refresh_body: String,
    /// Minutes between scheduled refreshes; `None` for TokenRefreshTime `0` (never).
    pub refresh_every_minutes: Option<u64>,
    /// `AuthOption` NoNeedRefreshAccessToken=1: only a refused token is refreshed.
    pub scheduled_refresh: bool,
    /// `AuthOption` DisablePkce=1 turns PKCE off for CRMs that reject it.
    pub pkce: bool,
    /// Patchbay's own `TokenRevokeEndPoint` (RFC 7009), called on Disconnect when set.
    pub revoke_endpoint: String,
    /// Global headers: (name, value template), sent on REST scenario requests.
    pub global_headers: Vec<(String, String)>,
    /// A non-2xx response whose body contains one of these means "token invalid".
    pub token_error_values: Vec<String>,
    pub custom_fields: Vec<CustomField>,
}

impl AuthSettings {
    pub fn read(template: &TemplateView) -> AuthSettings {
        let scenario = template.scenario("AuthMethod");
        let setting = |name: &str| {
            scenario
                .and_then(|s: &ScenarioView| s.setting(name))
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        let method_text = match setting("AuthMethod") {
            text if text.is_empty() => template.info.auth_type.clone(),
            text => text,
        };
        let group = |father: &'static str| {
            scenario
                .into_iter()
                .flat_map(move |s| s.group(father))
                .collect::<Vec<_>>()
        };
        let mut custom_fields: Vec<CustomField> = group("CustomFieldList")
            .into_iter()
            .map(|p| CustomField {
                name: p.name.clone(),
                title: if p.title.is_empty() {
                    p.name.clone()
                } else {
                    p.title.clone()
                },
                editor: match p.editor.as_str() {
                    "password" => FieldEditor::Password,
                    "list" => FieldEditor::List,
                    _ => FieldEditor::Text,
                },
                options: p
                    .value
                    .split(',')
                    .map(|o| o.trim().to_owned())
                    .filter(|o| !o.is_empty())
                    .collect(),
            })
            .collect();
        let method = AuthType::parse(&method_text).unwrap_or(AuthType::None);
        // An option is a `Father="AuthOption"` parameter; older templates write it plain.
        let option_on = |name: &str| {
            scenario
                .into_iter()
                .flat_map(|s| s.group("AuthOption"))
                .find(|p| p.name == name)
                .map(|p| p.value.trim().to_owned())
                .unwrap_or_else(|| setting(name))
                == "1"
        };
        let refresh_every_minutes = match setting("TokenRefreshTime").parse::<u64>() {
            Ok(0) => None,
            Ok(minutes) => Some(minutes),
            Err(_) => Some(DEFAULT_REFRESH_MINUTES),
        };
        let client_credentials = match setting("CredentialType").to_ascii_lowercase().as_str() {
            "client_secret_basic" | "basic" => ClientCredentials::BasicHeader,
            _ => ClientCredentials::InBody,
        };
        if method == AuthType::OAuth2 {
            // The Authorization section always asks for both, as the vendor's page does.
            for (name, title, editor) in [
                (CLIENT_ID, "Client ID", FieldEditor::Text),
                (CLIENT_SECRET, "Client Secret", FieldEditor::Password),
            ] {
                if !custom_fields.iter().any(|f| f.name == name) {
                    custom_fields.push(CustomField {
                        name: name.into(),
                        title: title.into(),
                        editor,
                        options: Vec::new(),
                    });
                }
            }
        }
        let token_type = match setting("TokenType") {
            text if text.is_empty() => "Bearer".to_owned(),
            text => text,
        };
        AuthSettings {
            method,
            credential: setting("Base64EncodedCredential"),
            auth_endpoint: setting("AuthEndPoint"),
            token_endpoint: setting("TokenEndPoint"),
            token_content_type: setting("TokenContentType"),
            token_type,
            scope: setting("Scope"),
            additional_query: setting("AdditionalQueryString"),
            client_credentials,
            refresh_endpoint: setting("TokenRefreshEndPoint"),
            refresh_method: setting("TokenRefreshMethod"),
            refresh_content_type: setting("TokenRefreshContentType"),
            refresh_body: setting("TokenRefreshBody"),
            refresh_every_minutes,
            scheduled_refresh: !option_on("NoNeedRefreshAccessToken"),
            pkce: !option_on("DisablePkce"),
            revoke_endpoint: setting("TokenRevokeEndPoint"),
            global_headers: group("PopulateTemplateString")
                .into_iter()
                .filter(|p| p.kind == "Header" && !p.name.trim().is_empty())
                .map(|p| (p.name.trim().to_owned(), p.value.clone()))
                .collect(),
            token_error_values: group("TokenErrorMap")
                .into_iter()
                .filter(|p| !p.value.is_empty())
                .map(|p| p.value.clone())
                .collect(),
            custom_fields,
        }
    }

    pub fn token_body_is_json(&self) -> bool {
        is_json(&self.token_content_type)
    }

    pub fn refresh_body_is_json(&self) -> bool {
        match self.refresh_content_type.is_empty() {
            true => self.token_body_is_json(),
            false => is_json(&self.refresh_content_type),
        }
    }

    /// OAuth 2.0 and Bearer hold tokens that can be refreshed.
    pub fn uses_tokens(&self) -> bool {
        matches!(self.method, AuthType::OAuth2 | AuthType::Bearer)
    }

    /// The text fields a user fills in: their values are data that must stay out of a
    /// URL's host (`url_guard`).
    pub fn user_fields(&self) -> Vec<String> {
        self.custom_fields
            .iter()
            .filter(|f| f.editor == FieldEditor::Text)
            .map(|f| f.name.clone())
            .collect()
    }

    /// The variables whose values are secrets: password fields, the client secret and
    /// the tokens.
    pub fn secret_names(&self) -> impl Iterator<Item = &str> {
        self.custom_fields
            .iter()
            .filter(|f| f.is_secret())
            .map(|f| f.name.as_str())
            .chain(SECRET_VARIABLES)
    }

    /// `variables` as text a user typed (Features subjects and descriptions) and the
    /// browser's authorization URL see them: without the secrets, and without any other
    /// variable that holds a secret's value. A secret exists only for the template's own
    /// strings, which an administrator wrote (SECURITY.md "User text is data").
    pub fn without_secrets(&self, variables: &Variables) -> Variables {
        let names: Vec<&str> = self.secret_names().collect();
        let values: Vec<&str> = names
            .iter()
            .filter_map(|name| variables.get(*name))
            .map(String::as_str)
            .filter(|value| !value.is_empty())
            .collect();
        variables
            .iter()
            .filter(|(name, value)| {
                !names.contains(&name.as_str()) && !values.contains(&value.as_str())
            })
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }
}

/// The token variables a request may render with (`core::oauth`): secrets whatever the
/// template says.
const SECRET_VARIABLES: [&str; 2] = [
    super::oauth::ACCESS_TOKEN_VARIABLE,
    super::oauth::REFRESH_TOKEN_VARIABLE,
];

fn is_json(content_type: &str) -> bool {
    content_type.to_ascii_lowercase().contains("json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::template::xml::parse;

    fn settings(xml: &str) -> AuthSettings {
        AuthSettings::read(&TemplateView::read(&parse(xml).unwrap()))
    }

    #[test]
    fn reads_fields_headers_and_the_token_error_map() {
        let auth = settings(
            r#"<Information Provider="crm" Name="n" Key="k" AuthType="basic"><Scenarios>
            <Scenario Id="AuthMethod" Type="AUTH"><Parameters>
              <Parameter Name="AuthMethod" Value="basic"/>
              <Parameter Name="Base64EncodedCredential" Value="{{.username}}:{{.password}}"/>
              <Parameter Father="CustomFieldList" Name="username" Editor="string" Title="User"/>
              <Parameter Father="CustomFieldList" Name="password" Editor="password" Title="Password"/>
              <Parameter Father="CustomFieldList" Name="region" Editor="list" Value="eu, us"/>
              <Parameter Father="PopulateTemplateString" Type="Header" Name="X-Org" Value="{{.region}}"/>
              <Parameter Father="TokenErrorMap" Type="TokenInvalid" Name="e" Value="INVALID_TOKEN"/>
            </Parameters></Scenario></Scenarios></Information>"#,
        );
        assert_eq!(auth.method, AuthType::Basic);
        assert_eq!(auth.credential, "{{.username}}:{{.password}}");
        let names: Vec<_> = auth
            .custom_fields
            .iter()
            .map(|f| (f.name.as_str(), f.is_secret()))
            .collect();
        assert_eq!(
            names,
            [("username", false), ("password", true), ("region", false)]
        );
        assert_eq!(auth.custom_fields[2].options, ["eu", "us"]);
        assert_eq!(
            auth.global_headers,
            [("X-Org".to_owned(), "{{.region}}".to_owned())]
        );
        assert_eq!(auth.token_error_values, ["INVALID_TOKEN"]);
        assert_eq!(auth.token_type, "Bearer");
    }

    #[test]
    fn user_text_sees_no_secret_under_any_name() {
        let auth = settings(
            r#"<Information Provider="crm" Name="n" Key="k" AuthType="oauth2"><Scenarios>
            <Scenario Id="AuthMethod" Type="AUTH"><Parameters>
              <Parameter Name="AuthMethod" Value="oauth2"/>
              <Parameter Father="CustomFieldList" Name="domain" Editor="string"/>
              <Parameter Father="CustomFieldList" Name="api_key" Editor="password"/>
            </Parameters></Scenario></Scenarios></Information>"#,
        );
        let variables: Variables = [
            ("domain", "acme"),
            ("api_key", "k-123"),
            ("client_id", "id-1"),
            ("client_secret", "s-456"),
            ("AccessToken", "at-789"),
            ("RefreshToken", "rt-000"),
            ("CallerNumber", "5550100"),
            // A global variable that happens to hold the API key.
            ("OrgKey", "k-123"),
            ("Empty", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let visible = auth.without_secrets(&variables);
        let names: Vec<&str> = visible.keys().map(String::as_str).collect();
        assert_eq!(names, ["CallerNumber", "Empty", "client_id", "domain"]);
        assert_eq!(auth.user_fields(), ["domain", "client_id"]);
    }

    #[test]
    fn oauth2_always_has_a_client_id_and_a_secret_client_secret() {
        let auth = settings(
            r#"<Information Provider="crm" Name="n" Key="k" AuthType="oauth2"><Scenarios>
            <Scenario Id="AuthMethod" Type="AUTH"><Parameters>
              <Parameter Name="AuthMethod" Value="oauth2"/>
              <Parameter Father="CustomFieldList" Name="client_secret" Editor="string"/>
            </Parameters></Scenario></Scenarios></Information>"#,
        );
        let fields: Vec<_> = auth
            .custom_fields
            .iter()
            .map(|f| (f.name.as_str(), f.is_secret()))
            .collect();
        assert_eq!(fields, [("client_secret", true), ("client_id", false)]);
    }
}
