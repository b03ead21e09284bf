//! Atlassian, TikTok, Pinterest, HubSpot and PayPal: platforms whose login is OAuth 2.0
//! with a profile call.

use serde_json::{Map, Value};

use super::super::entry::{
    Deviations, Endpoints, IdTokenUse, Offline, Preset, ProfileMap, UserinfoMethod, Verified,
};
use super::super::profile_map::value_at;
use crate::Claims;
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
    // HubSpot developer docs, "OAuth v3 API guide": the install URL
    // `https://app.hubspot.com/oauth/authorize` (client_id, scope, redirect_uri, state),
    // the code exchanged at `POST https://api.hubapi.com/oauth/v3/token` with
    // `client_id` and `client_secret` in the form body; "Token introspection endpoint"
    // (v3): `POST https://api.hubapi.com/oauth/v3/token/introspect` with the form
    // `client_id`, `client_secret`, `token`, `token_type_hint` answers `active`,
    // `token_use`, `user_id`, `user` (the address), `hub_id`, `hub_domain`, `app_id`,
    // `scopes`; "Create OAuth token" (v3): errors are `category`, `message`,
    // `correlationId` and `subCategory` (`VALIDATION_ERROR` / `INVALID_TOKEN` for a bad or
    // spent token). The v1 metadata call (`GET /oauth/v1/access-tokens/{token}`, the
    // token in the URL) is deprecated on 2027-02-16 and not used.
    Preset {
        name: "hubspot",
        display_name: "HubSpot",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://app.hubspot.com/oauth/authorize",
            token: "https://api.hubapi.com/oauth/v3/token",
            userinfo: Some("https://api.hubapi.com/oauth/v3/token/introspect"),
            revocation: None,
        },
        api_base: Some("https://api.hubapi.com/"),
        scope: Some("oauth"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        profile: ProfileMap {
            sub: &["/user_id"],
            claims: &[("email", &["/user"])],
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        deviations: Deviations {
            userinfo_method: UserinfoMethod::Introspection,
            token_response: Some(hubspot_error),
            ..Deviations::NONE
        },
        endpoints_note: "the profile is the access token's own metadata (token introspection)",
        quirks: "`client_secret_post`; scope `oauth` (HubSpot's minimum); the identity is the token's metadata, `POST /oauth/v3/token/introspect` (mandatory; the client's id and secret and the token in the form body; refused unless `active` is `true`), `user_id` as `sub`, `user` as `email`, the account in `hub_id`/`hub_domain`; token errors in HubSpot's shape (`category`, `subCategory`, `message`) made RFC 6749 errors (`INVALID_TOKEN` ⇒ `invalid_grant`); refresh tokens are kept across refreshes; the address is not said to be verified",
        trusted: "`sub` (`user_id`, the HubSpot user, the same in every account (`hub_id`) it installs the app into); `email` never",
        ..Preset::OAUTH2
    },
    // PayPal developer docs, "Log in with PayPal" (integration and reference: scopes
    // `openid`, `profile`, `email`, `address`,
    // `https://uri.paypal.com/services/paypalattributes`) and the Identity API v1
    // reference: the user signs in at `https://www.paypal.com/signin/authorize`, the code
    // is exchanged at `POST https://api-m.paypal.com/v1/oauth2/token` with HTTP Basic
    // (`client_id:secret`), and the profile is `GET
    // /v1/identity/oauth2/userinfo?schema=paypalv1.1`: `user_id` (a URL, per app),
    // `name`, `payer_id` (with `paypalattributes`), `verified_account`, and `emails` as a
    // list of `value`, `primary`, `confirmed`. Errors: RFC 6749's `error` at the token
    // endpoint; `name`, `message`, `debug_id` elsewhere.
    Preset {
        name: "paypal",
        display_name: "PayPal",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://www.paypal.com/signin/authorize",
            token: "https://api-m.paypal.com/v1/oauth2/token",
            userinfo: Some(
                "https://api-m.paypal.com/v1/identity/oauth2/userinfo?schema=paypalv1.1",
            ),
            revocation: None,
        },
        api_base: Some("https://api-m.paypal.com/"),
        scope: Some("openid profile email"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretBasic),
        authorize_params: &[("flowEntry", "static")],
        profile: ProfileMap {
            sub: &["/user_id"],
            name_parts: Some(("/given_name", "/family_name")),
            computed: Some(paypal_primary_email),
            email_verified: Verified::AsSent,
            ..ProfileMap::NONE
        },
        deviations: Deviations {
            id_token: IdTokenUse::Unused,
            ..Deviations::NONE
        },
        quirks: "HTTP Basic at the token endpoint; `flowEntry=static` on the authorization request; scope `openid profile email`, yet no ID token is used (one sent is dropped unvalidated): the identity is the profile call, `?schema=paypalv1.1` (mandatory), `user_id` as `sub`; `email` the primary one of `emails`, `email_verified` its `confirmed`; `payer_id` and `verified_account` (the account, not the address) kept; the sandbox is another host (`api-m.sandbox.paypal.com`, `www.sandbox.paypal.com`): set the endpoints",
        trusted: "`sub` (`user_id`, per app; `payer_id` across apps with `paypalattributes`); `email` only with `email_verified` (primary and `confirmed` in `emails`)",
        ..Preset::OAUTH2
    },
];

/// HubSpot's token errors (`category`, `subCategory`, `message`, `correlationId`) as
/// RFC 6749 §5.2 errors: a bad or spent code or refresh token (`INVALID_TOKEN`) is
/// `invalid_grant`, a refused client `invalid_client`, anything else `invalid_request`.
/// An answer with an `error` or an `access_token` is left alone.
pub(crate) fn hubspot_error(object: &mut Map<String, Value>) {
    if object.contains_key("error") || object.contains_key("access_token") {
        return;
    }
    let text = |k: &str| object.get(k).and_then(Value::as_str);
    let Some(category) = text("category") else {
        return;
    };
    let error = match (category, text("subCategory")) {
        (_, Some("INVALID_TOKEN")) => "invalid_grant",
        ("INVALID_AUTHENTICATION", _) => "invalid_client",
        _ => "invalid_request",
    };
    let description = text("message").map(str::to_owned);
    object.insert("error".into(), Value::String(error.into()));
    if let Some(description) = description {
        object
            .entry("error_description")
            .or_insert(Value::String(description));
    }
}

/// PayPal's `emails` list: the primary address as `email`, vouched for when it is
/// `confirmed`; without one, no address is vouched for.
pub(crate) fn paypal_primary_email(claims: &mut Claims) {
    let primary = value_at(claims, "/emails")
        .and_then(Value::as_array)
        .and_then(|emails| {
            emails
                .iter()
                .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
        })
        .and_then(|e| {
            let value = e.get("value")?.as_str().filter(|v| !v.is_empty())?;
            let confirmed = e.get("confirmed").and_then(Value::as_bool) == Some(true);
            Some((value.to_owned(), confirmed))
        });
    let verified = match primary {
        Some((email, confirmed)) => {
            claims.insert("email".into(), Value::String(email));
            confirmed
        }
        None => false,
    };
    claims.insert("email_verified".into(), Value::Bool(verified));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hubspot_errors_become_rfc6749_errors() {
        let map = |v: Value| {
            let mut o = v.as_object().cloned().unwrap_or_default();
            hubspot_error(&mut o);
            o
        };
        let spent = map(serde_json::json!({"category": "VALIDATION_ERROR",
            "subCategory": "INVALID_TOKEN", "message": "Invalid refresh token",
            "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf"}));
        assert_eq!(spent["error"], "invalid_grant");
        assert_eq!(spent["error_description"], "Invalid refresh token");
        let other = map(serde_json::json!({"category": "VALIDATION_ERROR", "message": "x"}));
        assert_eq!(other["error"], "invalid_request");
        let ok = map(serde_json::json!({"access_token": "a", "category": "x"}));
        assert!(!ok.contains_key("error"));
        assert!(!map(serde_json::json!({"category": 1})).contains_key("error"));
    }

    #[test]
    fn paypal_vouches_only_for_the_confirmed_primary_address() {
        let run = |v: Value| {
            let mut c = v.as_object().cloned().unwrap_or_default();
            paypal_primary_email(&mut c);
            (c.get("email").cloned(), c["email_verified"].clone())
        };
        let (email, verified) = run(serde_json::json!({"emails": [
            {"value": "old@example.com", "primary": false, "confirmed": true},
            {"value": "main@example.com", "primary": true, "confirmed": false}]}));
        assert_eq!(email, Some(Value::from("main@example.com")));
        assert_eq!(verified, false);
        let (_, verified) = run(serde_json::json!({"email": "x@example.com", "emails": "no"}));
        assert_eq!(verified, false);
    }
}
