//! Provider presets: "log in with GitHub / Google / Apple / ..." in three lines of settings.
//!
//! ```
//! # fn main() -> Result<(), ferroauth::Error> {
//! let oauth = ferroauth::OAuth::from_settings(&ferroauth::settings::Settings::from_toml_str(r#"
//!     [clients.github]
//!     client_id = "Iv1.example"
//!     client_secret = "from the environment in real life"
//! "#)?)?;
//! let github = oauth.client("github")?;
//! assert_eq!(github.preset().map(|p| p.display_name), Some("GitHub"));
//! assert_eq!(
//!     github.settings().access_token_url.as_deref(),
//!     Some("https://github.com/login/oauth/access_token"),
//! );
//! # Ok(()) }
//! ```
//!
//! A client table names a preset with `preset = "github"`, or by being called like one
//! (`[clients.github]`); `preset = "none"` turns that off. The preset fills every key the
//! provider fixes — endpoints or discovery URL, default scope, token endpoint
//! authentication, PKCE, nonce, issuer rules, userinfo source, API base URL and headers —
//! and brings the code for the provider's quirks ([`Quirks`]: GitHub's private e-mail,
//! Apple's JWT client secret, Microsoft's `{tenantid}` issuer, ...). Any key the settings
//! give explicitly wins over the preset's; maps (`authorize_params`, `api_headers`, ...)
//! are merged key by key.
//!
//! What an app needs to say about its own account with the provider (a tenant, a domain,
//! Apple's team and key ids) goes in `preset_options` ([`PresetOptions`]); each preset
//! names the options it reads, and any other is a settings error, as is an unknown preset
//! name (the error lists the known ones).
//!
//! Every preset maps the provider's profile to the standard claims (`sub`, `name`,
//! `email`, `email_verified`, `picture`, `preferred_username`) without dropping the
//! provider's own fields, so that [`crate::Profile`] reads every provider alike.
//! `email_verified` is only set when the provider vouches for the address; the preset
//! table in `docs/presets.md` says, per preset, which fields can be trusted for linking
//! accounts.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Secret;
use crate::hooks::ComplianceHooks;
use crate::settings::{ClientKwargs, ClientSettings, SettingsError};

pub(crate) mod callback_user;
mod catalogue;
mod github;
mod merge;
mod oauth1_providers;
mod oauth2_providers;
mod oidc_providers;
mod profile_map;
pub(crate) mod quirks;

pub use quirks::Quirks;

/// The protocol a preset speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OAuth 1.0a (RFC 5849).
    OAuth1,
    /// OAuth 2.0 without OpenID Connect: the profile comes from an API call.
    OAuth2,
    /// OpenID Connect: an ID token, discovery and usually userinfo.
    OpenIdConnect,
}

impl Protocol {
    /// The protocol's name for people ("OAuth 2.0").
    pub fn name(self) -> &'static str {
        match self {
            Protocol::OAuth1 => "OAuth 1.0a",
            Protocol::OAuth2 => "OAuth 2.0",
            Protocol::OpenIdConnect => "OpenID Connect",
        }
    }
}

/// One provider preset: its name in settings, what it fills in and how it is documented.
#[derive(Clone, Copy)]
pub struct Preset {
    /// The name settings use (`preset = "github"`).
    pub name: &'static str,
    /// The provider's name for people ("GitHub").
    pub display_name: &'static str,
    /// The protocol.
    pub protocol: Protocol,
    /// The `preset_options` this preset reads; others are refused.
    pub options: &'static [&'static str],
    /// The endpoints, for the documentation table.
    pub endpoints: &'static str,
    /// The quirks handled, for the documentation table.
    pub quirks: &'static str,
    /// Which profile fields can be trusted for linking accounts.
    pub trusted: &'static str,
    pub(crate) build: fn(&Context<'_>) -> Result<Spec, String>,
}

impl std::fmt::Debug for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preset")
            .field("name", &self.name)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

/// What a preset's builder sees: the options, and the client's explicit settings (for
/// quirks that need the client id or secret).
pub(crate) struct Context<'a> {
    /// The client's name in settings (`[clients.<name>]`).
    pub(crate) client: &'a str,
    pub(crate) options: &'a PresetOptions,
    pub(crate) explicit: &'a ClientSettings,
}

impl Context<'_> {
    /// The client id (already checked to be present by the time quirks use it).
    pub(crate) fn client_id(&self) -> &str {
        self.explicit.client_id.as_deref().unwrap_or_default()
    }

    /// A required option, or the error naming it.
    pub(crate) fn required<'o>(
        &'o self,
        name: &str,
        value: &'o Option<String>,
    ) -> Result<&'o str, String> {
        value
            .as_deref()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("preset_options.{name} is required by this preset"))
    }

    /// A host name option (`dev-x.us.auth0.com`), with an `https://` and a final `/` allowed.
    pub(crate) fn host<'o>(
        &'o self,
        name: &str,
        value: &'o Option<String>,
    ) -> Result<&'o str, String> {
        let raw = self.required(name, value)?;
        let host = raw
            .strip_prefix("https://")
            .unwrap_or(raw)
            .trim_end_matches('/');
        if host.is_empty() || host.contains(['/', '?', '#', '@', ' ', ':']) {
            return Err(format!(
                "preset_options.{name} must be a host name such as `example.com`, not {raw:?}"
            ));
        }
        Ok(host)
    }

    /// A base URL option without its final `/`.
    pub(crate) fn base_url<'o>(
        &'o self,
        name: &str,
        value: &'o Option<String>,
    ) -> Result<&'o str, String> {
        let raw = self.required(name, value)?;
        if !raw.starts_with("https://") && !raw.starts_with("http://") {
            return Err(format!(
                "preset_options.{name} must be a URL such as `https://example.com`, not {raw:?}"
            ));
        }
        Ok(raw.trim_end_matches('/'))
    }

    /// A path segment option (a realm, a tenant, an authorization server id).
    pub(crate) fn segment<'o>(
        &'o self,
        name: &str,
        value: &'o Option<String>,
    ) -> Result<&'o str, String> {
        let raw = self.required(name, value)?;
        if raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            Ok(raw)
        } else {
            Err(format!(
                "preset_options.{name} may hold only letters, digits, `-`, `_` and `.`, not {raw:?}"
            ))
        }
    }
}

/// What a preset contributes: default settings, hooks and quirks.
#[derive(Default)]
pub(crate) struct Spec {
    pub(crate) settings: ClientSettings,
    pub(crate) hooks: ComplianceHooks,
    pub(crate) quirks: Quirks,
}

impl Spec {
    /// A spec with these default settings and nothing else yet.
    pub(crate) fn new(settings: ClientSettings) -> Self {
        Self {
            settings,
            ..Self::default()
        }
    }
}

/// The `preset_options` table: what a preset needs to know about this app's account with
/// the provider. Each preset reads only some of them (see `docs/presets.md`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetOptions {
    /// Ask for a refresh token the provider's way: Google `access_type=offline` and
    /// `prompt=consent`, Dropbox `token_access_type=offline`, Reddit
    /// `duration=permanent`, X `offline.access`.
    pub offline: Option<bool>,
    /// Microsoft Entra: `common` (default), `organizations`, `consumers` or a tenant id.
    pub tenant: Option<String>,
    /// Microsoft Entra: the only tenants (`tid`) whose users may log in.
    pub allowed_tenants: Option<Vec<String>>,
    /// Google: the Workspace domain the ID token's `hd` claim must name.
    pub hosted_domain: Option<String>,
    /// Self-hosted instances: GitHub Enterprise, GitLab, Keycloak (`https://host`).
    pub base_url: Option<String>,
    /// Okta, Auth0 and Salesforce My Domain: the tenant's host name.
    pub domain: Option<String>,
    /// Keycloak: the realm.
    pub realm: Option<String>,
    /// Okta: a custom authorization server's id (`default`); the org server when absent.
    pub authorization_server: Option<String>,
    /// Auth0: the API the access token is for.
    pub audience: Option<String>,
    /// Apple: the Team ID, the client secret JWT's issuer.
    pub team_id: Option<String>,
    /// Apple: the Key ID of the Sign in with Apple key.
    pub key_id: Option<String>,
    /// Apple: the Sign in with Apple private key, PEM (PKCS#8). Prefer the environment.
    pub private_key: Option<Secret>,
    /// Facebook: the Graph API version (`v24.0`).
    pub api_version: Option<String>,
    /// Reddit: the User-Agent Reddit asks every app for,
    /// `<platform>:<app id>:<version> (by /u/<name>)`.
    pub user_agent: Option<String>,
}

impl PresetOptions {
    /// The names of the options that are set.
    fn given(&self) -> Vec<&'static str> {
        let flags = [
            ("offline", self.offline.is_some()),
            ("tenant", self.tenant.is_some()),
            ("allowed_tenants", self.allowed_tenants.is_some()),
            ("hosted_domain", self.hosted_domain.is_some()),
            ("base_url", self.base_url.is_some()),
            ("domain", self.domain.is_some()),
            ("realm", self.realm.is_some()),
            ("authorization_server", self.authorization_server.is_some()),
            ("audience", self.audience.is_some()),
            ("team_id", self.team_id.is_some()),
            ("key_id", self.key_id.is_some()),
            ("private_key", self.private_key.is_some()),
            ("api_version", self.api_version.is_some()),
            ("user_agent", self.user_agent.is_some()),
        ];
        flags
            .iter()
            .filter(|(_, set)| *set)
            .map(|(n, _)| *n)
            .collect()
    }
}

/// Every preset, sorted by name.
pub fn all() -> Vec<&'static Preset> {
    catalogue::all()
}

/// The preset called `name`.
pub fn find(name: &str) -> Option<&'static Preset> {
    catalogue::all().into_iter().find(|p| p.name == name)
}

/// A client's settings after its preset: what the client is built from.
pub(crate) struct Applied {
    pub(crate) preset: Option<&'static Preset>,
    pub(crate) settings: ClientSettings,
    pub(crate) hooks: ComplianceHooks,
    pub(crate) quirks: Quirks,
}

/// Applies the preset a client names (or is named after) to its settings; the app's own
/// hooks run after the preset's.
pub(crate) fn apply(
    client: &str,
    settings: ClientSettings,
    hooks: ComplianceHooks,
) -> Result<Applied, SettingsError> {
    let error = |key: &str, message: String| SettingsError::for_key(client, key, message);
    let preset = match settings.preset.as_deref() {
        Some("none") => None,
        Some(name) => Some(find(name).ok_or_else(|| {
            let known: Vec<&str> = all().iter().map(|p| p.name).collect();
            error(
                "preset",
                format!(
                    "unknown preset `{name}`; known presets: {}",
                    known.join(", ")
                ),
            )
        })?),
        None => find(client),
    };
    let Some(preset) = preset else {
        if let Some(option) = settings.preset_options.given().first() {
            return Err(error(
                &format!("preset_options.{option}"),
                "is only read by a preset, and this client has none".into(),
            ));
        }
        return Ok(Applied {
            preset: None,
            settings,
            hooks,
            quirks: Quirks::default(),
        });
    };
    for option in settings.preset_options.given() {
        if !preset.options.contains(&option) {
            return Err(error(
                &format!("preset_options.{option}"),
                format!("is not read by the `{}` preset", preset.name),
            ));
        }
    }
    let spec = (preset.build)(&Context {
        client,
        options: &settings.preset_options,
        explicit: &settings,
    })
    .map_err(|message| error("preset", format!("`{}`: {message}", preset.name)))?;
    // A `request_token_url` makes a client OAuth 1.0a: on an OAuth 2.0 preset it would
    // mix two providers' behaviour, so it is refused rather than merged.
    if settings.is_oauth1() && preset.protocol != Protocol::OAuth1 {
        return Err(error(
            "request_token_url",
            format!(
                "makes this an OAuth 1.0a client, but the `{}` preset is {}; name another preset, or set preset = \"none\"",
                preset.name,
                preset.protocol.name(),
            ),
        ));
    }
    Ok(Applied {
        preset: Some(preset),
        settings: merge::settings(settings, spec.settings),
        hooks: merge::hooks(spec.hooks, hooks),
        quirks: spec.quirks,
    })
}

/// Default settings for a preset: endpoints and kwargs, the rest empty.
pub(crate) fn endpoints(
    authorize_url: &str,
    access_token_url: &str,
    api_base_url: &str,
    userinfo_endpoint: Option<&str>,
    client_kwargs: ClientKwargs,
) -> ClientSettings {
    ClientSettings {
        authorize_url: Some(authorize_url.to_owned()),
        access_token_url: Some(access_token_url.to_owned()),
        api_base_url: Some(api_base_url.to_owned()),
        userinfo_endpoint: userinfo_endpoint.map(str::to_owned),
        client_kwargs,
        ..ClientSettings::default()
    }
}

/// A map of string pairs, for `authorize_params` and `api_headers` defaults.
pub(crate) fn pairs(items: &[(&str, &str)]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
