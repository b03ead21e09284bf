//! X (OAuth 2.0), Discord, Reddit and Tumblr (OAuth 2.0).

use serde_json::Value;

use super::super::entry::{Endpoints, Offline, Preset, ProfileMap, Verified};
use super::super::profile_map::text_at;
use crate::Claims;
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;
use crate::settings::CodeChallengeMethod;

/// The presets of this file.
pub(crate) const PRESETS: &[Preset] = &[
    // X (formerly Twitter), OAuth 2.0 with PKCE.
    Preset {
        name: "x",
        display_name: "X",
        options: &["offline"],
        endpoints: Endpoints::OAuth2 {
            authorize: "https://x.com/i/oauth2/authorize",
            token: "https://api.x.com/2/oauth2/token",
            userinfo: Some("https://api.x.com/2/users/me?user.fields=profile_image_url"),
            revocation: None,
        },
        api_base: Some("https://api.x.com/2/"),
        scope: Some("tweet.read users.read"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretBasic),
        pkce: Some(CodeChallengeMethod::S256),
        offline: Offline::Scope("offline.access"),
        profile: ProfileMap {
            sub: &["/data/id"],
            claims: &[
                ("name", &["/data/name"]),
                ("preferred_username", &["/data/username"]),
                ("picture", &["/data/profile_image_url"]),
            ],
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        quirks: "PKCE S256 required; HTTP Basic for confidential clients (public clients send `client_id`); `preset_options.offline` adds `offline.access` to the scope (`tweet.read users.read`) for a refresh token; profile under `data`; no e-mail",
        trusted: "`sub` (numeric user id); no e-mail",
        ..Preset::OAUTH2
    },
    // Discord.
    Preset {
        name: "discord",
        display_name: "Discord",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://discord.com/oauth2/authorize",
            token: "https://discord.com/api/oauth2/token",
            userinfo: Some("https://discord.com/api/users/@me"),
            revocation: Some("https://discord.com/api/oauth2/token/revoke"),
        },
        api_base: Some("https://discord.com/api/"),
        scope: Some("identify email"),
        profile: ProfileMap {
            sub: &["/id"],
            claims: &[
                ("name", &["/global_name", "/username"]),
                ("preferred_username", &["/username"]),
            ],
            computed: Some(|claims| {
                if let Some(url) = discord_avatar(claims) {
                    claims.insert("picture".into(), Value::String(url));
                }
            }),
            email_verified: Verified::At("/verified"),
            ..ProfileMap::NONE
        },
        quirks: "scope `identify email`; avatar URL built from the hash (`a_` ⇒ GIF; default avatar from the id, or the legacy discriminator); `verified` ⇒ `email_verified`; `global_name` as the display name",
        trusted: "`sub` (snowflake id); `email` only with `email_verified` (Discord's `verified`)",
        ..Preset::OAUTH2
    },
    // Reddit.
    Preset {
        name: "reddit",
        display_name: "Reddit",
        options: &["offline", "user_agent"],
        defaults: &[("user_agent", "web:<client_id>:ferroauth-<crate_version>")],
        endpoints: Endpoints::OAuth2 {
            authorize: "https://www.reddit.com/api/v1/authorize",
            token: "https://www.reddit.com/api/v1/access_token",
            userinfo: Some("https://oauth.reddit.com/api/v1/me"),
            revocation: Some("https://www.reddit.com/api/v1/revoke_token"),
        },
        api_base: Some("https://oauth.reddit.com/"),
        scope: Some("identity"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretBasic),
        api_headers: &[("User-Agent", "<user_agent>")],
        authorize_params: &[("duration", "temporary")],
        offline: Offline::Params(&[("duration", "permanent")]),
        profile: ProfileMap {
            sub: &["/id"],
            claims: &[("preferred_username", &["/name"])],
            computed: Some(|claims| {
                // Reddit's JSON escapes `&` in these URLs as `&amp;`.
                if let Some(icon) = text_at(claims, "/icon_img") {
                    claims
                        .entry("picture")
                        .or_insert(Value::String(icon.replace("&amp;", "&")));
                }
            }),
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        quirks: "HTTP Basic at the token endpoint; a unique User-Agent on every call, token requests included (`preset_options.user_agent`); `duration=permanent` with `preset_options.offline` (else `temporary`, no refresh token); API on `oauth.reddit.com`; no e-mail",
        trusted: "`sub` (account id, base 36); no e-mail",
        ..Preset::OAUTH2
    },
    // Tumblr, OAuth 2.0: the same profile as through OAuth 1.0a.
    Preset {
        name: "tumblr-oauth2",
        display_name: "Tumblr",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://www.tumblr.com/oauth2/authorize",
            token: "https://api.tumblr.com/v2/oauth2/token",
            userinfo: Some("https://api.tumblr.com/v2/user/info"),
            revocation: None,
        },
        api_base: Some("https://api.tumblr.com/v2/"),
        scope: Some("basic"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        profile: super::super::oauth1_providers::TUMBLR_PROFILE,
        quirks: "profile in the `{meta, response}` envelope; the user has no id, so `sub` is the primary blog's `uuid` (the user name can change); client_secret_post; no e-mail",
        trusted: "`sub` (primary blog uuid `t:…`); never the user name; no e-mail",
        ..Preset::OAUTH2
    },
];

/// The avatar URL of a Discord user: the uploaded one from its hash, else the default
/// avatar Discord assigns (by id for new usernames, by discriminator for legacy ones).
fn discord_avatar(claims: &Claims) -> Option<String> {
    let id = text_at(claims, "/id")?;
    let snowflake: u64 = id.parse().ok()?;
    if let Some(hash) = text_at(claims, "/avatar")
        && hash.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        let ext = if hash.starts_with("a_") { "gif" } else { "png" };
        return Some(format!(
            "https://cdn.discordapp.com/avatars/{snowflake}/{hash}.{ext}"
        ));
    }
    let legacy = text_at(claims, "/discriminator")
        .and_then(|d| d.parse::<u64>().ok())
        .filter(|d| *d != 0);
    let index = match legacy {
        Some(discriminator) => discriminator % 5,
        None => (snowflake >> 22) % 6,
    };
    Some(format!(
        "https://cdn.discordapp.com/embed/avatars/{index}.png"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(v: Value) -> Claims {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn discord_avatars() {
        let uploaded = claims(
            serde_json::json!({"id": "80351110224678912", "avatar": "8342729096ea3675442027381ff50dfe"}),
        );
        assert_eq!(
            discord_avatar(&uploaded).as_deref(),
            Some(
                "https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png"
            )
        );
        let animated = claims(serde_json::json!({"id": "1", "avatar": "a_abc"}));
        assert!(discord_avatar(&animated).unwrap().ends_with("/a_abc.gif"));
        let new_name = claims(
            serde_json::json!({"id": "80351110224678912", "avatar": null, "discriminator": "0"}),
        );
        // (80351110224678912 >> 22) % 6 = 5
        assert_eq!(
            discord_avatar(&new_name).as_deref(),
            Some("https://cdn.discordapp.com/embed/avatars/5.png")
        );
        let legacy = claims(serde_json::json!({"id": "1", "discriminator": "1337"}));
        assert!(discord_avatar(&legacy).unwrap().ends_with("/2.png"));
        let hostile = claims(serde_json::json!({"id": "1", "avatar": "../../x?y"}));
        assert!(
            discord_avatar(&hostile)
                .unwrap()
                .contains("/embed/avatars/")
        );
        assert_eq!(
            discord_avatar(&claims(serde_json::json!({"id": "not a number"}))),
            None
        );
    }
}
