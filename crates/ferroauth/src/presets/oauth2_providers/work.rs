//! Dropbox, Bitbucket Cloud, Zoom, Notion and Box.

use serde_json::Value;

use super::super::entry::{
    Deviations, EmailLookup, Endpoints, Offline, Preset, ProfileMap, TokenRequestBody,
    UserinfoMethod, Verified,
};
use super::super::profile_map::{fill, text_at};
use crate::Claims;
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;

/// The presets of this file.
pub(crate) const PRESETS: &[Preset] = &[
    // Dropbox.
    Preset {
        name: "dropbox",
        display_name: "Dropbox",
        options: &["offline"],
        endpoints: Endpoints::OAuth2 {
            authorize: "https://www.dropbox.com/oauth2/authorize",
            token: "https://api.dropboxapi.com/oauth2/token",
            userinfo: Some("https://api.dropboxapi.com/2/users/get_current_account"),
            revocation: None,
        },
        api_base: Some("https://api.dropboxapi.com/2/"),
        scope: Some("account_info.read"),
        offline: Offline::Params(&[("token_access_type", "offline")]),
        profile: ProfileMap {
            sub: &["/account_id"],
            claims: &[("picture", &["/profile_photo_url"])],
            computed: Some(dropbox_name),
            email_verified: Verified::At("/email_verified"),
            ..ProfileMap::NONE
        },
        deviations: Deviations {
            userinfo_method: UserinfoMethod::Post,
            ..Deviations::NONE
        },
        quirks: "the profile is an RPC: POST with no body; `preset_options.offline` adds `token_access_type=offline` (refresh token; access tokens are short-lived); id `account_id`; `name` object flattened to `name`/`given_name`/`family_name`/`nickname`; `email_verified` as Dropbox says",
        trusted: "`sub` (`account_id`); `email` only with `email_verified`",
        ..Preset::OAUTH2
    },
    // Bitbucket Cloud.
    Preset {
        name: "bitbucket",
        display_name: "Bitbucket",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://bitbucket.org/site/oauth2/authorize",
            token: "https://bitbucket.org/site/oauth2/access_token",
            userinfo: Some("https://api.bitbucket.org/2.0/user"),
            revocation: None,
        },
        api_base: Some("https://api.bitbucket.org/2.0/"),
        scope: Some("account email"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretBasic),
        profile: ProfileMap {
            sub: &["/uuid"],
            claims: &[
                ("name", &["/display_name"]),
                ("preferred_username", &["/username", "/nickname"]),
                ("picture", &["/links/avatar/href"]),
            ],
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        deviations: Deviations {
            email_lookup: Some(EmailLookup {
                path: "user/emails",
                pick: bitbucket_primary_confirmed,
            }),
            ..Deviations::NONE
        },
        quirks: "HTTP Basic at the token endpoint; id `uuid` with its braces; no address in `/2.0/user`: the primary confirmed one from `/2.0/user/emails`, an optional call (refused without the `email` scope: the login goes on with no verified address); scope `account email` (Bitbucket mostly uses the consumer's own)",
        trusted: "`sub` (`{uuid}`); `email` only with `email_verified` (primary and confirmed in `/2.0/user/emails`)",
        ..Preset::OAUTH2
    },
    // Zoom.
    Preset {
        name: "zoom",
        display_name: "Zoom",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://zoom.us/oauth/authorize",
            token: "https://zoom.us/oauth/token",
            userinfo: Some("https://api.zoom.us/v2/users/me"),
            revocation: None,
        },
        api_base: Some("https://api.zoom.us/v2/"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretBasic),
        profile: ProfileMap {
            sub: &["/id"],
            claims: &[("name", &["/display_name"]), ("picture", &["/pic_url"])],
            name_parts: Some(("/first_name", "/last_name")),
            email_verified: Verified::Equals("/verified", "1"),
            ..ProfileMap::NONE
        },
        quirks: "HTTP Basic at the token endpoint; the refresh token rotates on every refresh (keep the latest); `verified: 1` ⇒ `email_verified`; scopes are the app's own (none sent)",
        trusted: "`sub` (user id); `email` only with `email_verified` (Zoom's `verified` = 1, described by Zoom as the address being verified — recalled)",
        ..Preset::OAUTH2
    },
    // Notion (public integrations).
    Preset {
        name: "notion",
        display_name: "Notion",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://api.notion.com/v1/oauth/authorize",
            token: "https://api.notion.com/v1/oauth/token",
            userinfo: None,
            revocation: None,
        },
        api_base: Some("https://api.notion.com/v1/"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretBasic),
        api_headers: &[("Notion-Version", "2022-06-28")],
        authorize_params: &[("owner", "user")],
        // Without a userinfo endpoint the login maps the token response's other members.
        profile: ProfileMap {
            computed: Some(notion_owner),
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        deviations: Deviations {
            token_request: TokenRequestBody::Json,
            ..Deviations::NONE
        },
        endpoints_note: "no profile endpoint",
        quirks: "`owner=user` on the authorization request; token request as a JSON body with HTTP Basic; the profile is the token response's `owner.user` (no profile endpoint); `Notion-Version: 2022-06-28` on API calls; the address is not said to be verified",
        trusted: "`sub` (user id of `owner.user`); `email` never",
        ..Preset::OAUTH2
    },
    // Box: the profile is `GET /2.0/users/me` (Box API reference, "Get current user").
    Preset {
        name: "box",
        display_name: "Box",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://account.box.com/api/oauth2/authorize",
            token: "https://api.box.com/oauth2/token",
            userinfo: Some("https://api.box.com/2.0/users/me"),
            revocation: Some("https://api.box.com/oauth2/revoke"),
        },
        api_base: Some("https://api.box.com/2.0/"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        profile: ProfileMap {
            sub: &["/id"],
            claims: &[
                ("name", &["/name"]),
                ("email", &["/login"]),
                ("picture", &["/avatar_url"]),
            ],
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        quirks: "client_secret_post; scopes are the app's own, set in the developer console (none sent); the address is the account's `login`, not said to be verified; refresh tokens are single-use (keep the latest)",
        trusted: "`sub` (user id); `email` never (Box's `login`, not said to be verified)",
        ..Preset::OAUTH2
    },
];

/// Dropbox's `name` is an object: the standard claims take its parts.
fn dropbox_name(claims: &mut Claims) {
    let parts = [
        ("given_name", "/name/given_name"),
        ("family_name", "/name/surname"),
        ("nickname", "/name/familiar_name"),
        ("name", "/name/display_name"),
    ];
    let found: Vec<(&str, Option<String>)> = parts
        .iter()
        .map(|(k, p)| (*k, text_at(claims, p)))
        .collect();
    if claims.get("name").is_some_and(Value::is_object) {
        claims.remove("name");
    }
    for (claim, value) in found {
        if let Some(value) = value {
            claims.entry(claim).or_insert(Value::String(value));
        }
    }
}

/// The address of `/2.0/user/emails` (a paged list under `values`) that is both primary
/// and confirmed.
fn bitbucket_primary_confirmed(page: &Value) -> Option<String> {
    page.get("values")?.as_array()?.iter().find_map(|e| {
        let yes = |k: &str| e.get(k).and_then(Value::as_bool) == Some(true);
        (yes("is_primary") && yes("is_confirmed"))
            .then(|| e.get("email")?.as_str().map(str::to_owned))
            .flatten()
    })
}

/// The user who installed the integration, when the owner is a user.
fn notion_owner(claims: &mut Claims) {
    if text_at(claims, "/owner/type").as_deref() == Some("user") {
        super::super::profile_map::set(claims, "sub", &["/owner/user/id"]);
        fill(claims, "name", &["/owner/user/name"]);
        fill(claims, "email", &["/owner/user/person/email"]);
        fill(claims, "picture", &["/owner/user/avatar_url"]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitbucket_wants_primary_and_confirmed() {
        let page = serde_json::json!({"pagelen": 10, "values": [
            {"email": "a@example.com", "is_primary": false, "is_confirmed": true},
            {"email": "b@example.com", "is_primary": true, "is_confirmed": false},
        ]});
        assert_eq!(bitbucket_primary_confirmed(&page), None);
        let page = serde_json::json!({"values": [
            {"email": "c@example.com", "is_primary": true, "is_confirmed": true},
        ]});
        assert_eq!(
            bitbucket_primary_confirmed(&page).as_deref(),
            Some("c@example.com")
        );
        assert_eq!(bitbucket_primary_confirmed(&serde_json::json!([])), None);
    }
}
