//! Strava, Spotify and Patreon.

use super::super::entry::{Deviations, Endpoints, GrantedScope, Preset, ProfileMap, Verified};
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;

/// The presets of this file.
pub(crate) const PRESETS: &[Preset] = &[
    // Strava.
    Preset {
        name: "strava",
        display_name: "Strava",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://www.strava.com/oauth/authorize",
            token: "https://www.strava.com/oauth/token",
            userinfo: Some("https://www.strava.com/api/v3/athlete"),
            revocation: None,
        },
        api_base: Some("https://www.strava.com/api/v3/"),
        scope: Some("read"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        profile: ProfileMap {
            sub: &["/id"],
            claims: &[
                ("preferred_username", &["/username"]),
                ("picture", &["/profile", "/profile_medium"]),
            ],
            name_parts: Some(("/firstname", "/lastname")),
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        deviations: Deviations {
            scope_separator: Some(','),
            granted_scope: GrantedScope::Callback,
            ..Deviations::NONE
        },
        quirks: "comma-separated scope (default `read`); the granted scope comes back on the redirect only (the user may untick some) and becomes the token's; client_secret_post; `expires_at` in the token response; the refresh token may change on every refresh (keep the latest); no e-mail",
        trusted: "`sub` (athlete id); no e-mail",
        ..Preset::OAUTH2
    },
    // Spotify.
    Preset {
        name: "spotify",
        display_name: "Spotify",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://accounts.spotify.com/authorize",
            token: "https://accounts.spotify.com/api/token",
            userinfo: Some("https://api.spotify.com/v1/me"),
            revocation: None,
        },
        api_base: Some("https://api.spotify.com/v1/"),
        scope: Some("user-read-email user-read-private"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretBasic),
        profile: ProfileMap {
            sub: &["/id"],
            claims: &[
                ("name", &["/display_name"]),
                ("preferred_username", &["/id"]),
                ("picture", &["/images/0/url"]),
            ],
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        quirks: "HTTP Basic at the token endpoint; a refresh response may omit `refresh_token` (the old one is kept); redirect URIs must be https or a loopback IP literal (`localhost` is refused); the address is not verified by Spotify",
        trusted: "`sub` (Spotify user id); `email` never (Spotify says it is unverified)",
        ..Preset::OAUTH2
    },
    // Patreon (API v2).
    Preset {
        name: "patreon",
        display_name: "Patreon",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://www.patreon.com/oauth2/authorize",
            token: "https://www.patreon.com/api/oauth2/token",
            userinfo: Some(
                "https://www.patreon.com/api/oauth2/v2/identity?fields%5Buser%5D=email,full_name,image_url,is_email_verified,vanity",
            ),
            revocation: None,
        },
        api_base: Some("https://www.patreon.com/api/oauth2/v2/"),
        scope: Some("identity identity[email]"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        profile: ProfileMap {
            sub: &["/data/id"],
            claims: &[
                ("name", &["/data/attributes/full_name"]),
                ("email", &["/data/attributes/email"]),
                ("picture", &["/data/attributes/image_url"]),
                ("preferred_username", &["/data/attributes/vanity"]),
            ],
            email_verified: Verified::At("/data/attributes/is_email_verified"),
            ..ProfileMap::NONE
        },
        quirks: "JSON:API sparse fieldsets: the identity URL asks for `fields[user]` (nothing comes otherwise); profile under `data.attributes`; `is_email_verified` ⇒ `email_verified`; scope `identity identity[email]`; client_secret_post",
        trusted: "`sub` (user id); `email` only with `email_verified` (`is_email_verified`)",
        ..Preset::OAUTH2
    },
];
