//! OpenID Connect providers: Google, Microsoft Entra ID, Apple, LinkedIn, Auth0, Okta,
//! Keycloak, GitLab, Slack, Twitch, Salesforce and Yahoo.
//!
//! Each is found by discovery (`server_metadata_url`), so endpoints, keys and the
//! issuer come from the provider itself; a preset adds what discovery does not say: the
//! scope, the client authentication the provider really wants, issuer spellings and
//! templates, nonce and PKCE exceptions, and the profile mapping. The ID token is
//! validated as for any OpenID Connect client before any of it is used.

use serde_json::{Map, Value};

use super::entry::{
    CallbackForm, ClientSecret, Deviations, Endpoints, IdTokenClaim, IssuerRule, Offline, Preset,
    ProfileMap, TokenSignature, Verified,
};
use super::profile_map::text_at;
use crate::Claims;
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;
use crate::settings::CodeChallengeMethod;

/// Discovery at these metadata URLs.
const fn discovery(metadata: &'static [&'static str]) -> Endpoints {
    Endpoints::Discovery {
        metadata,
        userinfo: true,
    }
}

/// `nickname` as `preferred_username` (GitLab, Yahoo).
const NICKNAME: ProfileMap = ProfileMap {
    claims: &[("preferred_username", &["/nickname"])],
    ..ProfileMap::NONE
};

/// The OpenID Connect presets.
pub(crate) const PRESETS: &[Preset] = &[
    Preset {
        name: "google",
        display_name: "Google",
        options: &["offline", "hosted_domain"],
        endpoints: discovery(&["https://accounts.google.com/.well-known/openid-configuration"]),
        scope: Some("openid email profile"),
        // Google's ID tokens name either spelling of its issuer.
        issuer_aliases: &["accounts.google.com"],
        // Only a hint to the account chooser: the `hd` claim is what is checked.
        authorize_params: &[("hd", "<hosted_domain>")],
        // A refresh token only with offline access, and only on the first consent
        // unless consent is asked again.
        offline: Offline::Params(&[("access_type", "offline"), ("prompt", "consent")]),
        deviations: Deviations {
            id_token_claim: IdTokenClaim::HostedDomain,
            ..Deviations::NONE
        },
        quirks: "ID token `iss` with or without `https://`; `offline = true` adds `access_type=offline` and `prompt=consent` (a refresh token on every consent); `hosted_domain` sends `hd` and requires the ID token's `hd` claim to equal it (`hosted_domain_mismatch`)",
        trusted: "`sub`; `email` only with `email_verified`; `hd` for Workspace accounts",
        ..Preset::OIDC
    },
    Preset {
        name: "microsoft",
        display_name: "Microsoft Entra ID",
        options: &["tenant", "allowed_tenants"],
        defaults: &[("tenant", "common")],
        endpoints: discovery(&[
            "https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration",
        ]),
        scope: Some("openid profile email"),
        profile: ProfileMap {
            computed: Some(microsoft_claims),
            // `xms_edov`: the tenant's e-mail domain is verified (an optional claim).
            email_verified: Verified::At("/xms_edov"),
            ..ProfileMap::NONE
        },
        deviations: Deviations {
            issuer: IssuerRule::MultiTenant {
                template: "https://login.microsoftonline.com/{tenantid}/v2.0",
                fixed: Some(("consumers", MSA_TENANT)),
            },
            ..Deviations::NONE
        },
        endpoints_note: "`tenant`: `common`, `organizations`, `consumers` or a tenant id",
        quirks: "multi-tenant issuer (`{tenantid}` in the `common` metadata): each ID token must name its own `tid`'s issuer; `allowed_tenants` limits `tid` (`tenant_not_allowed`); `sub` becomes `<tid>:<oid>`; `email` is never taken as verified (unless `xms_edov`)",
        trusted: "`sub` (`<tid>:<oid>`) only; never `email` or `preferred_username` (mutable, not verified: nOAuth)",
        ..Preset::OIDC
    },
    Preset {
        name: "apple",
        display_name: "Sign in with Apple",
        options: &["team_id", "key_id", "private_key"],
        endpoints: Endpoints::Discovery {
            metadata: &["https://appleid.apple.com/.well-known/openid-configuration"],
            // No userinfo endpoint: everything is in the ID token (and the `user` field).
            userinfo: false,
        },
        scope: Some("openid name email"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        // Apple refuses a query response when the scope asks for the name or address.
        form_post_for: &["name", "email"],
        deviations: Deviations {
            client_secret: ClientSecret::Es256Jwt {
                audience: "https://appleid.apple.com",
            },
            callback_form: CallbackForm::AppleUser,
            ..Deviations::NONE
        },
        endpoints_note: "`/auth/authorize`, `/auth/token`, `/auth/keys`; no userinfo",
        quirks: "client secret = ES256 JWT from `team_id`, `key_id`, `private_key` (renewed before it expires), sent as `client_secret_post`; `response_mode=form_post` when the scope has `name` or `email`; the name from the callback's `user` field (first login only); `email_verified` as `\"true\"` or boolean",
        trusted: "`sub`; `email` only with `email_verified` (may be a private relay address)",
        ..Preset::OIDC
    },
    Preset {
        name: "linkedin",
        display_name: "LinkedIn",
        endpoints: discovery(&["https://www.linkedin.com/oauth/.well-known/openid-configuration"]),
        nonce: Some(false),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        pkce: Some(CodeChallengeMethod::Disabled),
        endpoints_note: "userinfo on `api.linkedin.com`",
        quirks: "no `nonce` in the ID token (nonce not sent); `client_secret_post`; no PKCE (web apps sending `code_verifier` are refused)",
        trusted: "`sub`; `email` only with `email_verified`",
        ..Preset::OIDC
    },
    Preset {
        name: "auth0",
        display_name: "Auth0",
        options: &["domain", "audience"],
        endpoints: discovery(&["https://<domain>/.well-known/openid-configuration"]),
        authorize_params: &[("audience", "<audience>")],
        endpoints_note: "`domain` required: tenant or custom domain",
        quirks: "issuer with a trailing slash `https://<domain>/`, compared exactly; `audience` sent on the authorization request (else the access token is opaque, for userinfo only)",
        trusted: "`sub` (`<connection>|<id>`); `email` only with `email_verified`",
        ..Preset::OIDC
    },
    Preset {
        name: "okta",
        display_name: "Okta",
        options: &["domain", "authorization_server"],
        endpoints: discovery(&[
            "https://<domain>/oauth2/<authorization_server>/.well-known/openid-configuration",
            "https://<domain>/.well-known/openid-configuration",
        ]),
        quirks: "two kinds of authorization server, each its own issuer and keys (`authorization_server` picks a custom one, e.g. `default`; the org server without it)",
        trusted: "`sub`; `email` only with `email_verified`; not `preferred_username`",
        ..Preset::OIDC
    },
    Preset {
        name: "keycloak",
        display_name: "Keycloak",
        options: &["base_url", "realm"],
        endpoints: discovery(&["<base_url>/realms/<realm>/.well-known/openid-configuration"]),
        endpoints_note: "add `/auth` to `base_url` for Keycloak 16 and older",
        quirks: "issuer per realm, as the server's configured front-end host names it",
        trusted: "`sub`; `email` only with `email_verified`",
        ..Preset::OIDC
    },
    Preset {
        name: "gitlab",
        display_name: "GitLab",
        options: &["base_url"],
        defaults: &[("base_url", "https://gitlab.com")],
        endpoints: discovery(&["<base_url>/.well-known/openid-configuration"]),
        api_base: Some("<base_url>/api/v4/"),
        profile: NICKNAME,
        endpoints_note: "`/oauth/authorize`, `/oauth/token`, `/oauth/userinfo`",
        quirks: "issuer per instance (`base_url`); `nickname` as `preferred_username`",
        trusted: "`sub` (numeric user id, per instance); `email` only with `email_verified`",
        ..Preset::OIDC
    },
    Preset {
        name: "slack",
        display_name: "Slack",
        endpoints: discovery(&["https://slack.com/.well-known/openid-configuration"]),
        deviations: Deviations {
            token_response: Some(slack_errors),
            ..Deviations::NONE
        },
        endpoints_note: "`/openid/connect/authorize`, `/api/openid.connect.token`, `/api/openid.connect.userInfo`",
        quirks: "Web API errors are HTTP 200 `{\"ok\": false, \"error\": ...}`: refused as errors; workspace in `https://slack.com/team_id`",
        trusted: "`sub` with `https://slack.com/team_id`; `email` only with `email_verified`",
        ..Preset::OIDC
    },
    Preset {
        name: "twitch",
        display_name: "Twitch",
        endpoints: discovery(&["https://id.twitch.tv/oauth2/.well-known/openid-configuration"]),
        api_base: Some("https://api.twitch.tv/helix/"),
        scope: Some("openid user:read:email"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        // Helix refuses calls that do not name the app.
        api_headers: &[("Client-Id", "<client_id>")],
        // The address is only in the ID token and userinfo when asked for by name.
        authorize_params: &[(
            "claims",
            r#"{"id_token":{"email":null,"email_verified":null,"picture":null,"preferred_username":null},"userinfo":{"email":null,"email_verified":null,"picture":null,"preferred_username":null}}"#,
        )],
        deviations: Deviations {
            token_response: Some(twitch_errors),
            ..Deviations::NONE
        },
        quirks: "`client_secret_post`; token `scope` as a JSON array; token errors `{status, message}` without `error` mapped to errors; e-mail only through the `claims` parameter (sent); Helix calls carry `Client-Id`; apps must also validate tokens hourly (`/oauth2/validate`, not done here)",
        trusted: "`sub`; `email` only with `email_verified`",
        ..Preset::OIDC
    },
    Preset {
        name: "salesforce",
        display_name: "Salesforce",
        options: &["domain"],
        defaults: &[("domain", "login.salesforce.com")],
        endpoints: discovery(&["https://<domain>/.well-known/openid-configuration"]),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        profile: ProfileMap {
            claims: &[("picture", &["/photos/picture"])],
            ..ProfileMap::NONE
        },
        deviations: Deviations {
            token_signature: TokenSignature::HmacIdIssuedAt,
            ..Deviations::NONE
        },
        endpoints_note: "`domain` may be `test.salesforce.com` or My Domain `<name>.my.salesforce.com`",
        quirks: "token response `signature` (HMAC-SHA256 of `id` + `issued_at` under the client secret) checked; `instance_url` (the org's API base) kept in the token's extra fields; `client_secret_post`",
        trusted: "`sub` (identity URL with org and user ids); `email` only with `email_verified`",
        ..Preset::OIDC
    },
    Preset {
        name: "yahoo",
        display_name: "Yahoo",
        endpoints: discovery(&["https://api.login.yahoo.com/.well-known/openid-configuration"]),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretBasic),
        profile: NICKNAME,
        endpoints_note: "`/oauth2/request_auth`, `/oauth2/get_token`, `/openid/v1/userinfo`",
        quirks: "non-standard endpoint paths (from discovery); HTTP Basic at the token endpoint",
        trusted: "`sub`; `email` only with `email_verified`",
        ..Preset::OIDC
    },
];

/// Microsoft's personal-account ("consumers") tenant.
const MSA_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// Entra's claims: the user is `oid` (else `sub`) within tenant `tid`, never the
/// address, which any tenant admin can set to anything (nOAuth).
fn microsoft_claims(claims: &mut Claims) {
    if let Some(tid) = text_at(claims, "/tid") {
        let user = text_at(claims, "/oid").or_else(|| text_at(claims, "/sub"));
        if let Some(user) = user {
            claims.insert("sub".into(), Value::String(format!("{tid}:{user}")));
        }
    }
}

/// Slack answers every Web API call with HTTP 200 and `ok`: `ok: false` is an error
/// even without an `error` member. Its error codes are mostly its own (Slack API docs,
/// `openid.connect.token`, "Errors"): the ones with an RFC 6749 §5.2 meaning become that
/// code, so that an app sees `invalid_grant` for a used or expired code as with any
/// provider; Slack's code stays in `error_description`. The RFC 6749 codes the same list
/// has (`invalid_grant` for a PKCE mismatch, `invalid_client`, ...) stay as they are.
fn slack_errors(object: &mut Map<String, Value>) {
    if object.get("ok") != Some(&Value::Bool(false)) {
        return;
    }
    let slack = object.get("error").and_then(Value::as_str).unwrap_or("");
    let standard = match slack {
        "invalid_code"
        | "code_already_used"
        | "code_expired"
        | "invalid_refresh_token"
        | "bad_redirect_uri" => "invalid_grant",
        "invalid_client_id" | "bad_client_secret" => "invalid_client",
        "invalid_grant_type" => "unsupported_grant_type",
        "invalid_grant" => "invalid_grant",
        "invalid_client" => "invalid_client",
        "invalid_request" => "invalid_request",
        "unsupported_grant_type" => "unsupported_grant_type",
        "unauthorized_client" => "unauthorized_client",
        "invalid_scope" => "invalid_scope",
        _ => "slack_error",
    };
    if !slack.is_empty() && !object.contains_key("error_description") {
        let description = format!("Slack: {slack}");
        object.insert("error_description".into(), Value::String(description));
    }
    object.insert("error".into(), Value::String(standard.into()));
}

/// Twitch's token errors carry the HTTP status and a message, and in `error` at most the
/// status's reason phrase, never an RFC 6749 code: `{"error": "Bad Request", "status": 400,
/// "message": "Invalid refresh token"}` (Twitch docs, "Refreshing Access Tokens", the
/// failed-request example), and `{"status": 400, "message": "Invalid authorization code"}`
/// for a bad code. A spent or unknown code or refresh token is RFC 6749's
/// `invalid_grant`, so that the app knows to send the user through the login again.
fn twitch_errors(object: &mut Map<String, Value>) {
    if object.contains_key("access_token") {
        return;
    }
    let error = object.get("error").and_then(Value::as_str);
    if error.is_some_and(crate::error::is_token_error_code) {
        return;
    }
    let Some(status) = object.get("status").and_then(Value::as_u64) else {
        return;
    };
    let message = object.get("message").cloned();
    let said = message.as_ref().and_then(Value::as_str).unwrap_or_default();
    let said = said.to_ascii_lowercase();
    let spent_grant = said.contains("refresh token") || said.contains("authorization code");
    let code = match status {
        400 if spent_grant => "invalid_grant",
        400 => "invalid_request",
        401 | 403 => "invalid_client",
        _ => "server_error",
    };
    object.insert("error".into(), Value::String(code.into()));
    if let Some(message) = message {
        object.insert("error_description".into(), message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(v: Value) -> Claims {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn entra_users_are_keyed_on_tenant_and_object_id() {
        let mut c = claims(serde_json::json!({
            "sub": "pairwise", "tid": "t1", "oid": "o1", "email": "a@b.example"
        }));
        PRESETS[1].profile.apply(&mut c);
        assert_eq!(c["sub"], "t1:o1");
        assert_eq!(c["email_verified"], false);
        let mut c = claims(serde_json::json!({"sub": "s", "tid": "t1", "xms_edov": true}));
        PRESETS[1].profile.apply(&mut c);
        assert_eq!(c["sub"], "t1:s");
        assert_eq!(c["email_verified"], true);
    }

    /// Slack's `openid.connect.token` also answers some failures with RFC 6749's own
    /// codes (Slack API docs, the method's "Errors": `invalid_grant` for a PKCE
    /// `code_verifier` that does not match, `invalid_client`, `invalid_request`,
    /// `unsupported_grant_type`): they stay what they are.
    #[test]
    fn slacks_rfc6749_codes_stay_themselves() {
        for code in [
            "invalid_grant",
            "invalid_client",
            "invalid_request",
            "unsupported_grant_type",
        ] {
            let mut s = claims(serde_json::json!({"ok": false, "error": code}));
            slack_errors(&mut s);
            assert_eq!(s["error"], code);
        }
    }

    #[test]
    fn twitch_and_slack_errors_become_errors() {
        let mut o =
            claims(serde_json::json!({"status": 400, "message": "Invalid authorization code"}));
        twitch_errors(&mut o);
        assert_eq!(o["error"], "invalid_grant");
        assert_eq!(o["error_description"], "Invalid authorization code");
        // The documented failed refresh: `error` is the reason phrase, not a code.
        let mut o = claims(serde_json::json!({
            "error": "Bad Request", "status": 400, "message": "Invalid refresh token"
        }));
        twitch_errors(&mut o);
        assert_eq!(o["error"], "invalid_grant");
        assert_eq!(o["error_description"], "Invalid refresh token");
        let mut o = claims(serde_json::json!({"status": 400, "message": "Missing client id"}));
        twitch_errors(&mut o);
        assert_eq!(o["error"], "invalid_request");
        let mut o = claims(serde_json::json!({"error": "invalid_grant", "status": 400}));
        twitch_errors(&mut o);
        assert_eq!(o["error"], "invalid_grant", "a real code is kept");
        assert!(!o.contains_key("error_description"));
        let mut ok = claims(serde_json::json!({"access_token": "a", "status": 200}));
        twitch_errors(&mut ok);
        assert!(!ok.contains_key("error"));
        let mut s = claims(serde_json::json!({"ok": false}));
        slack_errors(&mut s);
        assert_eq!(s["error"], "slack_error");
        let mut s = claims(serde_json::json!({"ok": false, "error": "invalid_code"}));
        slack_errors(&mut s);
        assert_eq!(s["error"], "invalid_grant");
        assert_eq!(s["error_description"], "Slack: invalid_code");
        let mut s = claims(serde_json::json!({"ok": false, "error": "bad_client_secret"}));
        slack_errors(&mut s);
        assert_eq!(s["error"], "invalid_client");
        let mut ok = claims(serde_json::json!({"ok": true, "access_token": "a"}));
        slack_errors(&mut ok);
        assert!(!ok.contains_key("error"));
    }
}
