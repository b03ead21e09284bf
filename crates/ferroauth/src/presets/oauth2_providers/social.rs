//! X (OAuth 2.0), Discord, Reddit and Tumblr (OAuth 2.0).

use serde_json::Value;

use super::super::profile_map::{fill, set, text_at, verified_from};
use super::super::{Context, Preset, Protocol, Spec, endpoints, pairs};
use crate::Claims;
use crate::hooks::ComplianceHooks;
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;
use crate::settings::{ClientKwargs, CodeChallengeMethod};

/// X (formerly Twitter), OAuth 2.0 with PKCE.
pub(crate) const X: Preset = Preset {
    name: "x",
    display_name: "X",
    protocol: Protocol::OAuth2,
    options: &["offline"],
    endpoints: "`https://x.com/i/oauth2/authorize`, `https://api.x.com/2/oauth2/token`, `https://api.x.com/2/users/me`",
    quirks: "PKCE S256 required; HTTP Basic for confidential clients (public clients send `client_id`); `preset_options.offline` adds `offline.access` to the scope (`tweet.read users.read`) for a refresh token; profile under `data`; no e-mail",
    trusted: "`sub` (numeric user id); no e-mail",
    build: x,
};

fn x(cx: &Context<'_>) -> Result<Spec, String> {
    let offline = cx.options.offline == Some(true);
    if offline
        && let Some(scope) = &cx.explicit.client_kwargs.scope
        && !scope.split([' ', ',']).any(|s| s == "offline.access")
    {
        return Err(
            "preset_options.offline: client_kwargs.scope replaces the preset's scope, so it must name `offline.access` itself"
                .into(),
        );
    }
    let scope = if offline {
        "tweet.read users.read offline.access"
    } else {
        "tweet.read users.read"
    };
    let mut spec = Spec::new(endpoints(
        "https://x.com/i/oauth2/authorize",
        "https://api.x.com/2/oauth2/token",
        "https://api.x.com/2/",
        Some("https://api.x.com/2/users/me?user.fields=profile_image_url"),
        ClientKwargs {
            scope: Some(scope.into()),
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::ClientSecretBasic),
            code_challenge_method: Some(CodeChallengeMethod::S256),
            ..ClientKwargs::default()
        },
    ));
    spec.hooks = ComplianceHooks::new().userinfo(|claims| {
        set(claims, "sub", &["/data/id"]);
        fill(claims, "name", &["/data/name"]);
        fill(claims, "preferred_username", &["/data/username"]);
        fill(claims, "picture", &["/data/profile_image_url"]);
        claims.insert("email_verified".into(), Value::Bool(false));
    });
    Ok(spec)
}

/// Discord.
pub(crate) const DISCORD: Preset = Preset {
    name: "discord",
    display_name: "Discord",
    protocol: Protocol::OAuth2,
    options: &[],
    endpoints: "`https://discord.com/oauth2/authorize`, `https://discord.com/api/oauth2/token`, `https://discord.com/api/users/@me`",
    quirks: "scope `identify email`; avatar URL built from the hash (`a_` ⇒ GIF; default avatar from the id, or the legacy discriminator); `verified` ⇒ `email_verified`; `global_name` as the display name",
    trusted: "`sub` (snowflake id); `email` only with `email_verified` (Discord's `verified`)",
    build: discord,
};

fn discord(_: &Context<'_>) -> Result<Spec, String> {
    let mut spec = Spec::new(endpoints(
        "https://discord.com/oauth2/authorize",
        "https://discord.com/api/oauth2/token",
        "https://discord.com/api/",
        Some("https://discord.com/api/users/@me"),
        ClientKwargs {
            scope: Some("identify email".into()),
            ..ClientKwargs::default()
        },
    ));
    spec.settings.revocation_endpoint = Some("https://discord.com/api/oauth2/token/revoke".into());
    spec.hooks = ComplianceHooks::new().userinfo(|claims| {
        set(claims, "sub", &["/id"]);
        fill(claims, "name", &["/global_name", "/username"]);
        fill(claims, "preferred_username", &["/username"]);
        if let Some(url) = discord_avatar(claims) {
            claims.insert("picture".into(), Value::String(url));
        }
        verified_from(claims, "/verified");
    });
    Ok(spec)
}

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

/// Reddit.
pub(crate) const REDDIT: Preset = Preset {
    name: "reddit",
    display_name: "Reddit",
    protocol: Protocol::OAuth2,
    options: &["offline", "user_agent"],
    endpoints: "`https://www.reddit.com/api/v1/authorize`, `https://www.reddit.com/api/v1/access_token`, `https://oauth.reddit.com/api/v1/me`",
    quirks: "HTTP Basic at the token endpoint; a unique User-Agent on every call, token requests included (`preset_options.user_agent`, default `web:<client_id>:ferroauth-<version>`); `duration=permanent` with `preset_options.offline` (else `temporary`, no refresh token); API on `oauth.reddit.com`; no e-mail",
    trusted: "`sub` (account id, base 36); no e-mail",
    build: reddit,
};

fn reddit(cx: &Context<'_>) -> Result<Spec, String> {
    let agent = match cx.options.user_agent.as_deref() {
        Some(agent) => agent.to_owned(),
        None => format!(
            "web:{}:ferroauth-{}",
            cx.client_id(),
            env!("CARGO_PKG_VERSION")
        ),
    };
    if agent.trim().is_empty() || http::HeaderValue::from_str(&agent).is_err() {
        return Err(format!(
            "the User-Agent {agent:?} is not a valid header value: set preset_options.user_agent"
        ));
    }
    let duration = match cx.options.offline {
        Some(true) => "permanent",
        _ => "temporary",
    };
    let mut spec = Spec::new(endpoints(
        "https://www.reddit.com/api/v1/authorize",
        "https://www.reddit.com/api/v1/access_token",
        "https://oauth.reddit.com/",
        Some("https://oauth.reddit.com/api/v1/me"),
        ClientKwargs {
            scope: Some("identity".into()),
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::ClientSecretBasic),
            api_headers: pairs(&[("User-Agent", &agent)]),
            ..ClientKwargs::default()
        },
    ));
    spec.settings.authorize_params = pairs(&[("duration", duration)]);
    spec.settings.revocation_endpoint = Some("https://www.reddit.com/api/v1/revoke_token".into());
    spec.hooks = ComplianceHooks::new().userinfo(|claims| {
        set(claims, "sub", &["/id"]);
        fill(claims, "preferred_username", &["/name"]);
        // Reddit's JSON escapes `&` in these URLs as `&amp;`.
        if let Some(icon) = text_at(claims, "/icon_img") {
            claims
                .entry("picture")
                .or_insert(Value::String(icon.replace("&amp;", "&")));
        }
        claims.insert("email_verified".into(), Value::Bool(false));
    });
    Ok(spec)
}

/// Tumblr, OAuth 2.0.
pub(crate) const TUMBLR: Preset = Preset {
    name: "tumblr-oauth2",
    display_name: "Tumblr",
    protocol: Protocol::OAuth2,
    options: &[],
    endpoints: "`https://www.tumblr.com/oauth2/authorize`, `https://api.tumblr.com/v2/oauth2/token`, `https://api.tumblr.com/v2/user/info`",
    quirks: "profile in the `{meta, response}` envelope; the user has no id, so `sub` is the primary blog's `uuid` (the user name can change); client_secret_post; no e-mail",
    trusted: "`sub` (primary blog uuid `t:…`); never the user name; no e-mail",
    build: tumblr,
};

fn tumblr(_: &Context<'_>) -> Result<Spec, String> {
    let mut spec = Spec::new(endpoints(
        "https://www.tumblr.com/oauth2/authorize",
        "https://api.tumblr.com/v2/oauth2/token",
        "https://api.tumblr.com/v2/",
        Some("https://api.tumblr.com/v2/user/info"),
        ClientKwargs {
            scope: Some("basic".into()),
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::ClientSecretPost),
            ..ClientKwargs::default()
        },
    ));
    // The same profile as through OAuth 1.0a.
    spec.hooks = ComplianceHooks::new().userinfo(super::super::oauth1_providers::tumblr_profile);
    Ok(spec)
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
