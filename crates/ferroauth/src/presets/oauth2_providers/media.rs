//! Strava, Spotify and Patreon.

use serde_json::Value;

use super::super::profile_map::{fill, fill_name_from_parts, set, text_at, verified_from};
use super::super::{Context, Preset, Protocol, Spec, endpoints};
use crate::hooks::ComplianceHooks;
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;
use crate::settings::ClientKwargs;

/// Strava.
pub(crate) const STRAVA: Preset = Preset {
    name: "strava",
    display_name: "Strava",
    protocol: Protocol::OAuth2,
    options: &[],
    endpoints: "`https://www.strava.com/oauth/authorize`, `https://www.strava.com/oauth/token`, `https://www.strava.com/api/v3/athlete`",
    quirks: "comma-separated scope (default `read`); the granted scope comes back on the redirect only (the user may untick some) and becomes the token's; client_secret_post; `expires_at` in the token response; the refresh token may change on every refresh (keep the latest); no e-mail",
    trusted: "`sub` (athlete id); no e-mail",
    build: strava,
};

fn strava(_: &Context<'_>) -> Result<Spec, String> {
    let mut spec = Spec::new(endpoints(
        "https://www.strava.com/oauth/authorize",
        "https://www.strava.com/oauth/token",
        "https://www.strava.com/api/v3/",
        Some("https://www.strava.com/api/v3/athlete"),
        ClientKwargs {
            scope: Some("read".into()),
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::ClientSecretPost),
            ..ClientKwargs::default()
        },
    ));
    spec.quirks.scope_separator = Some(',');
    spec.quirks.granted_scope_on_callback = true;
    spec.hooks = ComplianceHooks::new().userinfo(|claims| {
        set(claims, "sub", &["/id"]);
        let (given, family) = (text_at(claims, "/firstname"), text_at(claims, "/lastname"));
        fill_name_from_parts(claims, given, family);
        fill(claims, "preferred_username", &["/username"]);
        fill(claims, "picture", &["/profile", "/profile_medium"]);
        claims.insert("email_verified".into(), Value::Bool(false));
    });
    Ok(spec)
}

/// Spotify.
pub(crate) const SPOTIFY: Preset = Preset {
    name: "spotify",
    display_name: "Spotify",
    protocol: Protocol::OAuth2,
    options: &[],
    endpoints: "`https://accounts.spotify.com/authorize`, `https://accounts.spotify.com/api/token`, `https://api.spotify.com/v1/me`",
    quirks: "HTTP Basic at the token endpoint; a refresh response may omit `refresh_token` (the old one is kept); redirect URIs must be https or a loopback IP literal (`localhost` is refused); the address is not verified by Spotify",
    trusted: "`sub` (Spotify user id); `email` never (Spotify says it is unverified)",
    build: spotify,
};

fn spotify(_: &Context<'_>) -> Result<Spec, String> {
    let mut spec = Spec::new(endpoints(
        "https://accounts.spotify.com/authorize",
        "https://accounts.spotify.com/api/token",
        "https://api.spotify.com/v1/",
        Some("https://api.spotify.com/v1/me"),
        ClientKwargs {
            scope: Some("user-read-email user-read-private".into()),
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::ClientSecretBasic),
            ..ClientKwargs::default()
        },
    ));
    spec.hooks = ComplianceHooks::new().userinfo(|claims| {
        set(claims, "sub", &["/id"]);
        fill(claims, "name", &["/display_name"]);
        fill(claims, "preferred_username", &["/id"]);
        fill(claims, "picture", &["/images/0/url"]);
        claims.insert("email_verified".into(), Value::Bool(false));
    });
    Ok(spec)
}

/// Patreon (API v2).
pub(crate) const PATREON: Preset = Preset {
    name: "patreon",
    display_name: "Patreon",
    protocol: Protocol::OAuth2,
    options: &[],
    endpoints: "`https://www.patreon.com/oauth2/authorize`, `https://www.patreon.com/api/oauth2/token`, `https://www.patreon.com/api/oauth2/v2/identity`",
    quirks: "JSON:API sparse fieldsets: the identity URL asks for `fields[user]=email,full_name,image_url,is_email_verified,vanity` (nothing comes otherwise); profile under `data.attributes`; `is_email_verified` ⇒ `email_verified`; scope `identity identity[email]`; client_secret_post",
    trusted: "`sub` (user id); `email` only with `email_verified` (`is_email_verified`)",
    build: patreon,
};

fn patreon(_: &Context<'_>) -> Result<Spec, String> {
    let mut spec = Spec::new(endpoints(
        "https://www.patreon.com/oauth2/authorize",
        "https://www.patreon.com/api/oauth2/token",
        "https://www.patreon.com/api/oauth2/v2/",
        Some(
            "https://www.patreon.com/api/oauth2/v2/identity?fields%5Buser%5D=email,full_name,image_url,is_email_verified,vanity",
        ),
        ClientKwargs {
            scope: Some("identity identity[email]".into()),
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::ClientSecretPost),
            ..ClientKwargs::default()
        },
    ));
    spec.hooks = ComplianceHooks::new().userinfo(|claims| {
        set(claims, "sub", &["/data/id"]);
        fill(claims, "name", &["/data/attributes/full_name"]);
        fill(claims, "email", &["/data/attributes/email"]);
        fill(claims, "picture", &["/data/attributes/image_url"]);
        fill(claims, "preferred_username", &["/data/attributes/vanity"]);
        verified_from(claims, "/data/attributes/is_email_verified");
    });
    Ok(spec)
}
