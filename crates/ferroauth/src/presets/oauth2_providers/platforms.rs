//! Atlassian, TikTok and Pinterest: platforms whose login is OAuth 2.0 with a profile
//! call.

use super::super::entry::{Deviations, Endpoints, Offline, Preset, ProfileMap, Verified};
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;
use crate::settings::CodeChallengeMethod;

/// The presets of this file.
pub(crate) const PRESETS: &[Preset] = &[
    // Atlassian developer docs, "OAuth 2.0 (3LO) apps": the authorization URL carries
    // `audience=api.atlassian.com` and `prompt=consent`, the code is exchanged at
    // `https://auth.atlassian.com/oauth/token` with the secret in the body, a refresh
    // token needs `offline_access`; "Frequently asked questions", User Identity API:
    // `GET https://api.atlassian.com/me` with `read:me` (`account_id`, `email`, `name`,
    // `picture`, `nickname`; no verification flag).
    Preset {
        name: "atlassian",
        display_name: "Atlassian",
        options: &["offline"],
        endpoints: Endpoints::OAuth2 {
            authorize: "https://auth.atlassian.com/authorize",
            token: "https://auth.atlassian.com/oauth/token",
            userinfo: Some("https://api.atlassian.com/me"),
            revocation: None,
        },
        api_base: Some("https://api.atlassian.com/"),
        scope: Some("read:me"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        authorize_params: &[("audience", "api.atlassian.com"), ("prompt", "consent")],
        offline: Offline::Scope("offline_access"),
        profile: ProfileMap {
            sub: &["/account_id"],
            claims: &[("preferred_username", &["/nickname"])],
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        quirks: "`audience=api.atlassian.com` and `prompt=consent` on the authorization request; `client_secret_post`; scope `read:me` (`offline = true` adds `offline_access`; refresh tokens rotate); product APIs go through `https://api.atlassian.com/ex/<product>/<cloud id>/`; the address is not said to be verified",
        trusted: "`sub` (`account_id`); `email` never",
        ..Preset::OAUTH2
    },
    // TikTok for Developers, "Login Kit for Web" and "Manage User Access Tokens" (OAuth
    // v2): the app is named `client_key` on the authorization and token requests; scopes
    // are comma-separated; "Get User Info": `GET /v2/user/info/` with `fields`, the
    // user under `data.user`, `open_id` per app. PKCE is for desktop apps (where TikTok
    // wants a hex challenge), not sent by web apps (not confirmed that a web login
    // refuses it). The standard `client_id` goes beside `client_key` (not confirmed that
    // TikTok ignores it rather than refusing it).
    Preset {
        name: "tiktok",
        display_name: "TikTok",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://www.tiktok.com/v2/auth/authorize/",
            token: "https://open.tiktokapis.com/v2/oauth/token/",
            userinfo: Some(
                "https://open.tiktokapis.com/v2/user/info/?fields=open_id,union_id,avatar_url,display_name",
            ),
            revocation: Some("https://open.tiktokapis.com/v2/oauth/revoke/"),
        },
        api_base: Some("https://open.tiktokapis.com/v2/"),
        scope: Some("user.info.basic"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        pkce: Some(CodeChallengeMethod::Disabled),
        authorize_params: &[("client_key", "<client_id>")],
        token_params: &[("client_key", "<client_id>")],
        profile: ProfileMap {
            sub: &["/data/user/open_id"],
            claims: &[
                ("name", &["/data/user/display_name"]),
                ("picture", &["/data/user/avatar_url"]),
            ],
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        deviations: Deviations {
            scope_separator: Some(','),
            ..Deviations::NONE
        },
        quirks: "`client_key` (= `client_id`) on the authorization and token requests, beside the standard `client_id`; comma-separated scopes (`user.info.basic`); no PKCE for web apps; profile `fields` asked for explicitly, the user under `data.user`; no e-mail",
        trusted: "`sub` (`open_id`, per app; `union_id` across one developer's apps); no e-mail",
        ..Preset::OAUTH2
    },
    // Pinterest developers, "Authentication and scopes" (API v5): authorization at
    // `https://www.pinterest.com/oauth/` with comma-separated scopes, the token request
    // with HTTP Basic; "Get user account": `GET /v5/user_account` (`id` not confirmed
    // in every account type's answer; `username` is mutable and never the subject).
    Preset {
        name: "pinterest",
        display_name: "Pinterest",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://www.pinterest.com/oauth/",
            token: "https://api.pinterest.com/v5/oauth/token",
            userinfo: Some("https://api.pinterest.com/v5/user_account"),
            revocation: None,
        },
        api_base: Some("https://api.pinterest.com/v5/"),
        scope: Some("user_accounts:read"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretBasic),
        profile: ProfileMap {
            sub: &["/id"],
            claims: &[
                ("name", &["/business_name", "/username"]),
                ("preferred_username", &["/username"]),
                ("picture", &["/profile_image"]),
            ],
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        deviations: Deviations {
            scope_separator: Some(','),
            ..Deviations::NONE
        },
        quirks: "comma-separated scopes (`user_accounts:read`); HTTP Basic at the token endpoint; id `id` of `/v5/user_account`, `username` as `preferred_username`; no e-mail",
        trusted: "`sub` (account id); no e-mail",
        ..Preset::OAUTH2
    },
];
