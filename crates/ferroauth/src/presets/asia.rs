//! LINE Login (OpenID Connect), Kakao, NAVER, Yandex ID and VK ID (OAuth 2.0 with a
//! profile call).

use serde_json::Value;

use super::entry::{
    ApiRequestProof, Deviations, Endpoints, IdTokenUse, Preset, ProfileMap, UserinfoMethod,
    Verified,
};
use super::profile_map::value_at;
use crate::Claims;
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;
use crate::settings::CodeChallengeMethod;

/// The presets of this file.
pub(crate) const PRESETS: &[Preset] = &[
    // LINE Developers, "Integrating LINE Login with your web app" and "Verify ID token"
    // (LINE Login v2.1): discovery at `https://access.line.me`; the ID token of a web
    // login is signed HS256 with the channel secret, that of the LINE SDKs ES256; the
    // address, with the `email` permission, is in the ID token only, not said to be
    // verified.
    Preset {
        name: "line",
        display_name: "LINE Login",
        endpoints: Endpoints::Discovery {
            metadata: &["https://access.line.me/.well-known/openid-configuration"],
            userinfo: true,
        },
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        // HS256 keyed with the client secret (the channel secret): discovery advertises
        // ES256 only, and the core accepts HS* only when the settings list it.
        id_token_algs: &["HS256", "ES256"],
        profile: ProfileMap {
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        endpoints_note: "`https://access.line.me/oauth2/v2.1/authorize`, `https://api.line.me/oauth2/v2.1/token`, `https://api.line.me/oauth2/v2.1/userinfo`",
        quirks: "ID token HS256 with the channel secret (`client_secret`) for web logins, ES256 for SDK logins: both accepted, HS256 only with the client secret as key; `client_secret_post`; `email` (ID token only, with the channel's e-mail permission) not said to be verified",
        trusted: "`sub` (user id, per provider); `email` never",
        ..Preset::OIDC
    },
    // Kakao Developers, "Kakao Login" REST API: `/oauth/authorize` and `/oauth/token` on
    // `kauth.kakao.com`, the user from `GET https://kapi.kakao.com/v2/user/me` (numeric
    // `id`; `kakao_account.email` with `is_email_valid` and `is_email_verified`).
    Preset {
        name: "kakao",
        display_name: "Kakao",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://kauth.kakao.com/oauth/authorize",
            token: "https://kauth.kakao.com/oauth/token",
            userinfo: Some("https://kapi.kakao.com/v2/user/me"),
            revocation: None,
        },
        api_base: Some("https://kapi.kakao.com/"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        profile: ProfileMap {
            sub: &["/id"],
            claims: &[
                (
                    "name",
                    &["/kakao_account/profile/nickname", "/properties/nickname"],
                ),
                ("email", &["/kakao_account/email"]),
                (
                    "picture",
                    &[
                        "/kakao_account/profile/profile_image_url",
                        "/properties/profile_image",
                    ],
                ),
            ],
            // `email_verified` from both of Kakao's flags.
            computed: Some(kakao_verified),
            ..ProfileMap::NONE
        },
        endpoints_note: "`kakao_account` items as the app's consent settings allow",
        quirks: "`client_secret_post` (the secret only when the app enables it); numeric `id`; profile under `kakao_account`; `email_verified` only when both `is_email_verified` and `is_email_valid` are true (an address can be verified and since taken by another account); scopes are the app's consent items (none sent)",
        trusted: "`sub` (numeric user id, per app); `email` only with `email_verified`",
        ..Preset::OAUTH2
    },
    // NAVER Developers, "네이버 로그인 API 명세" (Login API reference): `/oauth2.0/authorize`
    // and `/oauth2.0/token` on `nid.naver.com`, the profile from
    // `https://openapi.naver.com/v1/nid/me`, wrapped in `response` beside `resultcode`.
    Preset {
        name: "naver",
        display_name: "NAVER",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://nid.naver.com/oauth2.0/authorize",
            token: "https://nid.naver.com/oauth2.0/token",
            userinfo: Some("https://openapi.naver.com/v1/nid/me"),
            revocation: None,
        },
        api_base: Some("https://openapi.naver.com/"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        profile: ProfileMap {
            sub: &["/response/id"],
            claims: &[
                ("name", &["/response/name", "/response/nickname"]),
                ("email", &["/response/email"]),
                ("picture", &["/response/profile_image"]),
                ("preferred_username", &["/response/nickname"]),
            ],
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        quirks: "`client_secret_post`; the profile under `response` (`resultcode` `00`); scopes are the app's settings (none sent); the address is not said to be verified",
        trusted: "`sub` (`response.id`, per app); `email` never",
        ..Preset::OAUTH2
    },
    // Yandex ID docs, "Exchange the token for user information": `GET
    // https://login.yandex.ru/info?format=json` with `Authorization: OAuth <token>` (the
    // only header scheme documented; the alternative, the token in the query, is refused
    // here); the OAuth endpoints from "Yandex OAuth" (`oauth.yandex.com`).
    Preset {
        name: "yandex",
        display_name: "Yandex ID",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://oauth.yandex.com/authorize",
            token: "https://oauth.yandex.com/token",
            userinfo: Some("https://login.yandex.ru/info?format=json"),
            revocation: None,
        },
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        profile: ProfileMap {
            sub: &["/id"],
            claims: &[
                ("name", &["/real_name", "/display_name"]),
                ("preferred_username", &["/login"]),
                ("email", &["/default_email"]),
            ],
            name_parts: Some(("/first_name", "/last_name")),
            computed: Some(yandex_avatar),
            email_verified: Verified::Never,
        },
        deviations: Deviations {
            api_request: ApiRequestProof::OAuthScheme,
            ..Deviations::NONE
        },
        quirks: "API calls, the profile call included, carry `Authorization: OAuth <token>` (Yandex's scheme) instead of `Bearer`; `client_secret_post`; avatar URL built from `default_avatar_id`; scopes are the app's settings (none sent); `default_email` not said to be verified",
        trusted: "`sub` (numeric user id); `email` never",
        ..Preset::OAUTH2
    },
    // VK ID docs, "Справочник методов API VK ID" (API reference, authorization server
    // 2.1) and "Обмен токена на информацию о пользователе" (user information), on
    // id.vk.com/about/business/go/docs: `GET https://id.vk.com/authorize` with PKCE
    // (S256, required); the redirect carries `device_id` beside the code and state, and
    // `POST https://id.vk.com/oauth2/auth` wants it back with the code (and the
    // verifier, `client_id`, `redirect_uri`, `state`), as every refresh does; the token
    // response adds `user_id` and an `id_token`; the profile is `POST
    // https://id.vk.com/oauth2/user_info` with `client_id` and `access_token` in a form
    // (the docs ask for the token in the body), the user under `user`. Errors are RFC
    // 6749's `error` and `error_description`.
    Preset {
        name: "vk-id",
        display_name: "VK ID",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://id.vk.com/authorize",
            token: "https://id.vk.com/oauth2/auth",
            userinfo: Some("https://id.vk.com/oauth2/user_info"),
            revocation: None,
        },
        scope: Some("vkid.personal_info email"),
        // A public client: `client_id` in the body, PKCE in place of a secret.
        token_auth: Some(TokenEndpointAuthMethod::None),
        pkce: Some(CodeChallengeMethod::S256),
        profile: ProfileMap {
            sub: &["/user/user_id"],
            claims: &[("email", &["/user/email"]), ("picture", &["/user/avatar"])],
            name_parts: Some(("/user/first_name", "/user/last_name")),
            // `verified` is the VK account's status, not the address's.
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        deviations: Deviations {
            userinfo_method: UserinfoMethod::PostTokenForm,
            carried_params: &["device_id", "state"],
            id_token: IdTokenUse::Unused,
            ..Deviations::NONE
        },
        quirks: "OAuth 2.1: PKCE S256 and no client secret (`client_id` in the body); the redirect's `device_id` (and `state`) sent back with the code and kept in the token's `extra`, then sent with every refresh (refresh tokens rotate: keep the latest); the ID token is not used (dropped unvalidated): the identity is `user.user_id` of the profile call, `POST /oauth2/user_info` with `client_id` and `access_token` in a form (mandatory); the token response's `user_id` is kept in `extra`; the address is not said to be verified",
        trusted: "`sub` (`user.user_id`); `email` never",
        ..Preset::OAUTH2
    },
];

/// Kakao vouches for an address only when it is both verified and still valid (Kakao
/// Developers, "User information": `is_email_valid` is false for an address since
/// registered by another account).
fn kakao_verified(claims: &mut Claims) {
    let yes = |p: &str| value_at(claims, p) == Some(&Value::Bool(true));
    let verified = yes("/kakao_account/is_email_verified") && yes("/kakao_account/is_email_valid");
    claims.insert("email_verified".into(), Value::Bool(verified));
}

/// Yandex's avatar URL from its id (Yandex ID docs, "Exchange the token for user
/// information", `default_avatar_id`), unless the avatar is the empty default.
fn yandex_avatar(claims: &mut Claims) {
    if value_at(claims, "/is_avatar_empty") == Some(&Value::Bool(true)) {
        return;
    }
    if let Some(Value::String(id)) = value_at(claims, "/default_avatar_id")
        && !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'/')
    {
        let url = format!("https://avatars.yandex.net/get-yapic/{id}/islands-200");
        claims.entry("picture").or_insert(Value::String(url));
    }
}
