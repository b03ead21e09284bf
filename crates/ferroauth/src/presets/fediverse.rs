//! Fediverse servers, where every instance is its own provider: the user names the
//! instance at login (`GET /login/mastodon?instance=mastodon.social`), and the app
//! registers itself there on first use (see [`crate::registration`]).
//!
//! The entry's URLs are templates on `<instance>`. The client built from the settings is
//! only a template: its `<instance>` is [`TEMPLATE_HOST`], under `.invalid` (RFC 6761
//! §6.4), which no resolver answers, so that nothing can ever be sent to it. Each login
//! runs on a client of the named instance, built from the template with the instance's
//! host and the registration's `client_id` and `client_secret`.

use super::entry::{Endpoints, Preset, ProfileMap, Verified};
use crate::Claims;

/// The host the template client's URLs carry in place of an instance.
pub(crate) const TEMPLATE_HOST: &str = "instance.invalid";

/// How an app registers itself at an instance, for a preset of this file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Registration {
    /// The registration endpoint, on the instance (`<instance>` for its host).
    pub(crate) endpoint: &'static str,
}

/// Mastodon's own API, which Mastodon-compatible servers implement too.
///
/// Mastodon docs, "apps" API method (`POST /api/v1/apps`: `client_name`, `redirect_uris`,
/// `scopes`, `website`; the answer carries `client_id` and `client_secret`), "oauth"
/// (`/oauth/authorize`, `/oauth/token`, PKCE S256 since 4.3) and "accounts"
/// (`GET /api/v1/accounts/verify_credentials`, the user's account: `id`, `username`,
/// `acct`, `display_name`, `avatar`, `url`; no e-mail address). Mastodon 4.3's server
/// metadata (`/.well-known/oauth-authorization-server`) names the same paths, with
/// `/api/v1/apps` as its `app_registration_endpoint`.
const MASTODON: Preset = Preset {
    name: "mastodon",
    display_name: "Mastodon (any instance)",
    endpoints: Endpoints::OAuth2 {
        authorize: "https://<instance>/oauth/authorize",
        token: "https://<instance>/oauth/token",
        userinfo: Some("https://<instance>/api/v1/accounts/verify_credentials"),
        revocation: Some("https://<instance>/oauth/revoke"),
    },
    api_base: Some("https://<instance>/"),
    // The narrowest scope that reads the user's own account on every Mastodon version
    // (`profile`, narrower still, exists only since 4.3).
    scope: Some("read:accounts"),
    profile: ProfileMap {
        sub: &["/id"],
        claims: &[
            ("preferred_username", &["/username"]),
            ("picture", &["/avatar"]),
            ("profile", &["/url"]),
        ],
        computed: Some(display_name),
        // Mastodon never says the user's e-mail address to an app.
        email_verified: Verified::Never,
        ..ProfileMap::NONE
    },
    endpoints_note: "`<instance>` named at each login (`/login/mastodon?instance=mastodon.social`); registration `POST https://<instance>/api/v1/apps` on first use, kept in the app's `RegistrationStore`",
    quirks: "the instance comes from the login, checked (https, a public host name: no IP literal, port, user info or internal name); the app registers itself there on first use (single flight), a refusal is `registration_refused`; `sub` = `<account id>@<instance>`, `preferred_username` = `<username>@<instance>`, `iss` = `https://<instance>`; `name` falls back to the username when the display name is empty; no e-mail; tokens do not expire (no refresh); see the guide's fediverse chapter, `ferroauth::guide::fediverse`",
    trusted: "`sub` (account id qualified by the instance); never an e-mail address",
    ..Preset::OAUTH2
};

/// The presets of this file.
pub(crate) const PRESETS: &[Preset] = &[MASTODON];

/// How the preset called `name` registers the app, when it is a fediverse preset.
pub(crate) fn registration(name: &str) -> Option<Registration> {
    match name {
        "mastodon" => Some(Registration {
            endpoint: "https://<instance>/api/v1/apps",
        }),
        _ => None,
    }
}

/// `name` from the display name, or the username when the user left it empty (Mastodon
/// sends `""` then, which a pointer would take as a value).
fn display_name(claims: &mut Claims) {
    let display = claims
        .get("display_name")
        .and_then(|v| v.as_str())
        .filter(|s| !s.trim().is_empty());
    let name = display.or_else(|| claims.get("username").and_then(|v| v.as_str()));
    if let Some(name) = name.map(str::to_owned) {
        claims.insert("name".into(), name.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_empty_display_name_falls_back_to_the_username() {
        let mut claims = json!({"display_name": " ", "username": "alice"})
            .as_object()
            .cloned()
            .unwrap();
        display_name(&mut claims);
        assert_eq!(claims["name"], "alice");
        let mut claims = json!({"display_name": "Alice A.", "username": "alice"})
            .as_object()
            .cloned()
            .unwrap();
        display_name(&mut claims);
        assert_eq!(claims["name"], "Alice A.");
    }

    #[test]
    fn every_preset_of_this_file_registers() {
        for preset in PRESETS {
            assert!(registration(preset.name).is_some(), "{}", preset.name);
        }
    }
}
