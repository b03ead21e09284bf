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
//! let preset = github.preset().expect("named after a preset");
//! assert_eq!(preset.display_name, "GitHub");
//! // The settings hold the entry's token endpoint.
//! if let ferroauth::presets::Endpoints::OAuth2 { token, .. } = preset.endpoints {
//!     assert_eq!(github.settings().access_token_url.as_deref(), Some(token));
//! }
//! # Ok(()) }
//! ```
//!
//! A client table names a preset with `preset = "github"`, or by being called like one
//! (`[clients.github]`); `preset = "none"` turns that off. Any key the settings give
//! explicitly wins over the preset's; maps (`authorize_params`, `api_headers`, ...) are
//! merged key by key.
//!
//! # A preset is one entry
//!
//! Each preset is one `const` [`Preset`] value, an element of its file's `PRESETS`
//! (`github.rs`, `oidc_providers.rs`, `self_hosted.rs`, `enterprise.rs`, `asia.rs`,
//! `oauth1_providers.rs`, `oauth2_providers/*.rs`, and `fediverse.rs`, whose instance is
//! named at each login: see [`crate::registration`]),
//! which `catalogue.rs` gathers: adding a preset to a file touches nothing else. The
//! entry holds the endpoints or discovery URL (with placeholders such as `<tenant>`
//! for the options), scope, token endpoint authentication, PKCE, nonce and issuer
//! rules, the profile mapping as JSON pointers ([`ProfileMap`]), the options it reads
//! with their defaults, and its [`Deviations`]. The guide's presets chapter
//! ([`crate::guide::presets`], `src/guide/presets.md`) is rendered from the entries
//! (`crates/ferroauth/tests/presets_docs.rs`, with [`Preset::endpoints_doc`]), so no URL
//! is written twice. A plain OAuth 2.0 preset (no deviations, no options) is then
//! tested end to end by one row of the table in `crates/ferroauth/tests/presets_oauth2.rs`,
//! whose fixture is built from the entry itself; a test there fails for a plain preset
//! without its row.
//!
//! What an app needs to say about its own account with the provider (a tenant, a domain,
//! Apple's team and key ids) goes in `preset_options` ([`PresetOptions`](crate::settings::PresetOptions)); each preset
//! names the options it reads, and any other is a settings error, as is an unknown preset
//! name (the error lists the known ones).
//!
//! Every preset maps the provider's profile to the standard claims (`sub`, `name`,
//! `email`, `email_verified`, `picture`, `preferred_username`) without dropping the
//! provider's own fields, so that [`crate::Profile`] reads every provider alike.
//! `email_verified` is only set when the provider vouches for the address; the preset
//! table in the [presets chapter](crate::guide::presets) says, per preset, which fields
//! can be trusted for linking accounts.
//!
//! # Extension points
//!
//! A provider's departures from the specifications are named extension points. The
//! entry says which it uses (its [`Deviations`] and [`ProfileMap`]); the client holds
//! them in one private value and consults each through one method, at one place:
//!
//! | extension point | entry field | consulted in |
//! |---|---|---|
//! | scope separator | `Deviations::scope_separator` | `client/login.rs`, building the authorization request |
//! | token request body | `Deviations::token_request` | `client/token_endpoint.rs`, encoding a token request |
//! | computed client secret | `Deviations::client_secret` | `client/quirk_calls.rs`, `computed_client_secret` |
//! | token response fix-up (error shape) | `Deviations::token_response` | `client/token_endpoint.rs`, before the app's `token_response` hook |
//! | token response signature | `Deviations::token_signature` | `client/quirk_calls.rs`, `check_token_signature` |
//! | granted scope on the callback | `Deviations::granted_scope` | `client/login.rs`, after the code is exchanged |
//! | callback form | `Deviations::callback_form` | `client/login.rs`, after the claims are checked |
//! | userinfo method | `Deviations::userinfo_method` | `client/login.rs`, `fetch_userinfo` |
//! | carried parameters (code) | `Deviations::carried_params` | `client/login.rs`, exchanging the code |
//! | carried parameters (refresh) | `Deviations::carried_params` | `client/token_endpoint.rs`, `refresh_uncoordinated` |
//! | unused ID token (dropped) | `Deviations::id_token` | `client/token_endpoint.rs`, after every token response is parsed |
//! | unused ID token (not required) | `Deviations::id_token` | `client/login.rs`, `token_and_claims` |
//! | profile map (userinfo) | `Preset::profile` (OAuth 2.0, OAuth 1.0a) | `client/quirk_calls.rs`, `map_profile`, before the app's `userinfo` hook |
//! | extra profile call (verified e-mail) | `Deviations::email_lookup` | `client/quirk_calls.rs`, `add_verified_email` |
//! | API request proof | `Deviations::api_request` | `client/api.rs`, `oauth2_request`, before the app's `protected_request` hook |
//! | metadata issuer | `Deviations::issuer` | `client/mod.rs`, checking discovery metadata |
//! | ID token issuer | `Deviations::issuer` | `oidc/mod.rs`, `validate_id_token` |
//! | ID token claim | `Deviations::id_token_claim` | `oidc/mod.rs`, `validate_id_token` |
//! | claims map | `Preset::profile` (OpenID Connect) | `client/quirk_calls.rs`, `claims_map`, at login and after a refresh |
//!
//! A test (`extension_points_are_consulted_once`) counts the calls in the crate's
//! sources. The app's own [`crate::hooks::ComplianceHooks`] run after the preset's deviation at
//! the same point.

use crate::hooks::ComplianceHooks;
use crate::settings::{ClientSettings, SettingsError};

mod asia;
mod build;
pub(crate) mod callback_user;
mod catalogue;
pub(crate) mod deviations;
mod enterprise;
mod entry;
pub(crate) mod fediverse;
mod github;
mod merge;
mod oauth1_providers;
mod oauth2_providers;
mod oidc_providers;
mod profile_map;
mod self_hosted;

pub use entry::{
    ApiRequestProof, CallbackForm, ClientSecret, Deviations, EmailLookup, Endpoints, GrantedScope,
    IdTokenClaim, IdTokenUse, IssuerRule, Offline, Preset, ProfileMap, TokenRequestBody,
    TokenSignature, UserinfoMethod, Verified,
};

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
    /// The app's own hooks, which run after the preset's deviation at each point.
    pub(crate) hooks: ComplianceHooks,
    pub(crate) deviations: deviations::Active,
}

/// Applies the preset a client names (or is named after) to its settings; the app's own
/// hooks are kept apart from the preset's deviations.
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
            deviations: deviations::Active::default(),
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
    let (defaults, deviations) = build::build(&build::Context {
        client,
        options: &settings.preset_options,
        explicit: &settings,
        preset,
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
        settings: merge::settings(settings, defaults),
        hooks,
        deviations,
    })
}

#[cfg(test)]
mod tests {
    /// Every source file of the crate, outside the presets, with its comment lines left
    /// out (the guide's index may well say "quirks") and all white space removed (so that
    /// a call split over lines by rustfmt still reads as one).
    fn sources(dir: &std::path::Path, out: &mut String) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if !path.ends_with("presets") {
                    sources(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let code = text.lines().filter(|l| !l.trim_start().starts_with("//"));
                out.extend(code.flat_map(str::chars).filter(|c| !c.is_whitespace()));
            }
        }
    }

    /// Each extension point of the module documentation is consulted at exactly one
    /// place of the client, so that a deviation cannot be half-applied.
    #[test]
    fn extension_points_are_consulted_once() {
        let mut all = String::new();
        sources(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
            &mut all,
        );
        for point in [
            "scope",
            "json_token_request",
            "client_secret",
            "fix_token_response",
            "check_token_signature",
            "granted_scope",
            "callback_claims",
            "userinfo_call",
            "check_userinfo",
            "carried_from_callback",
            "carried_from_token",
            "drop_unused_id_token",
            "requires_id_token",
            "profile_map",
            "email_lookup",
            "prove_api_request",
            "proves_api_requests",
            "accepts_metadata_issuer",
            "id_token_tenant",
            "hosted_domain",
            "claims_map",
        ] {
            let call = format!("deviations.{point}(");
            assert_eq!(all.matches(&call).count(), 1, "{call}");
        }
        assert!(!all.contains("quirks"), "a read outside the named points");
    }
}
