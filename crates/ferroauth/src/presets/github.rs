//! GitHub and GitHub Enterprise Server: OAuth 2.0 (GitHub is not an OpenID Connect
//! provider for user login).
//!
//! Quirks: the token endpoint answers form-encoded unless asked for JSON (every token
//! request of ferroauth sends `Accept: application/json`) and reports errors with HTTP 200
//! (the token response parser reads the body whatever the status); `/user` has
//! `email: null` when the address is private, and even a public one is not said to be
//! verified, so the primary verified address comes from `/user/emails`; the API wants a
//! `User-Agent` (the HTTP client always sends one).

use serde_json::Value;

use super::entry::{Deviations, EmailLookup, Endpoints, Preset, ProfileMap, Verified};

/// What GitHub and GitHub Enterprise Server share.
const GITHUB: Preset = Preset {
    name: "github",
    display_name: "GitHub",
    endpoints: Endpoints::OAuth2 {
        authorize: "https://github.com/login/oauth/authorize",
        token: "https://github.com/login/oauth/access_token",
        userinfo: Some("https://api.github.com/user"),
        revocation: None,
    },
    api_base: Some("https://api.github.com/"),
    scope: Some("read:user user:email"),
    profile: ProfileMap {
        sub: &["/id"],
        claims: &[
            ("preferred_username", &["/login"]),
            ("picture", &["/avatar_url"]),
        ],
        // `/user`'s address is whatever the user made public: not vouched for here.
        email_verified: Verified::Never,
        ..ProfileMap::NONE
    },
    deviations: Deviations {
        email_lookup: Some(EmailLookup {
            path: "user/emails",
            pick: primary_verified,
        }),
        ..Deviations::NONE
    },
    quirks: "JSON token responses via `Accept`; errors with HTTP 200; primary verified address from `/user/emails` when `/user` has none (or an unverified one), an optional call: refused (403 for a GitHub App without the e-mail permission) or broken, the login goes on with no verified address; scope `read:user user:email`; PKCE S256",
    trusted: "`sub` (numeric id); `email` only with `email_verified` (from `/user/emails`)",
    ..Preset::OAUTH2
};

/// GitHub and GitHub Enterprise Server.
pub(crate) const PRESETS: &[Preset] = &[
    GITHUB,
    Preset {
        name: "github-enterprise",
        display_name: "GitHub Enterprise Server",
        options: &["base_url"],
        endpoints: Endpoints::OAuth2 {
            authorize: "<base_url>/login/oauth/authorize",
            token: "<base_url>/login/oauth/access_token",
            userinfo: Some("<base_url>/api/v3/user"),
            revocation: None,
        },
        api_base: Some("<base_url>/api/v3/"),
        quirks: "as `github`, on the instance's own host (`preset_options.base_url`, required)",
        trusted: "`sub` (numeric id, per instance); `email` only with `email_verified`",
        ..GITHUB
    },
];

/// The address marked both `primary` and `verified` in `/user/emails`.
fn primary_verified(emails: &Value) -> Option<String> {
    emails.as_array()?.iter().find_map(|e| {
        let yes = |k: &str| e.get(k).and_then(Value::as_bool) == Some(true);
        (yes("primary") && yes("verified"))
            .then(|| e.get("email")?.as_str().map(str::to_owned))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_primary_verified_address_counts() {
        let emails = serde_json::json!([
            {"email": "old@example.com", "primary": false, "verified": true},
            {"email": "new@example.com", "primary": true, "verified": false},
        ]);
        assert_eq!(primary_verified(&emails), None);
        let emails = serde_json::json!([
            {"email": "a@example.com", "primary": false, "verified": true},
            {"email": "b@example.com", "primary": true, "verified": true},
        ]);
        assert_eq!(primary_verified(&emails).as_deref(), Some("b@example.com"));
        assert_eq!(primary_verified(&serde_json::json!({"message": "x"})), None);
    }
}
