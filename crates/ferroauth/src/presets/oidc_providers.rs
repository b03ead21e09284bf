//! OpenID Connect providers: Google, Microsoft Entra ID, Apple, LinkedIn, Auth0, Okta,
//! Keycloak, GitLab, Slack, Twitch, Salesforce and Yahoo.
//!
//! Each is found by discovery (`server_metadata_url`), so endpoints, keys and the
//! issuer come from the provider itself; a preset adds what discovery does not say: the
//! scope, the client authentication the provider really wants, issuer spellings and
//! templates, nonce and PKCE exceptions, and the profile mapping. The ID token is
//! validated as for any OpenID Connect client before any of it is used.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::profile_map::{fill, text_at, verified_from};
use super::quirks::{JwtClientSecret, TENANT_PLACEHOLDER, TenantPolicy};
use super::{Context, Preset, Protocol, Spec, pairs};
use crate::Claims;
use crate::hooks::ComplianceHooks;
use crate::proto::jose::client_assertion::ClientAssertionKey;
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;
use crate::settings::{ClientKwargs, ClientSettings, CodeChallengeMethod};

/// The OpenID Connect presets.
pub(crate) const PRESETS: &[Preset] = &[
    Preset {
        name: "google",
        display_name: "Google",
        protocol: Protocol::OpenIdConnect,
        options: &["offline", "hosted_domain"],
        endpoints: "discovery `https://accounts.google.com/.well-known/openid-configuration`",
        quirks: "ID token `iss` `https://accounts.google.com` or `accounts.google.com`; `offline = true` adds `access_type=offline` and `prompt=consent` (a refresh token on every consent); `hosted_domain` sends `hd` and requires the ID token's `hd` claim to equal it (`hosted_domain_mismatch`)",
        trusted: "`sub`; `email` only with `email_verified`; `hd` for Workspace accounts",
        build: google,
    },
    Preset {
        name: "microsoft",
        display_name: "Microsoft Entra ID",
        protocol: Protocol::OpenIdConnect,
        options: &["tenant", "allowed_tenants"],
        endpoints: "discovery `https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration` (`tenant`: `common` by default, `organizations`, `consumers` or a tenant id)",
        quirks: "multi-tenant issuer `https://login.microsoftonline.com/{tenantid}/v2.0`: each ID token must name its own `tid`'s issuer; `allowed_tenants` limits `tid` (`tenant_not_allowed`); `sub` becomes `<tid>:<oid>`; `email` is never taken as verified (unless `xms_edov`)",
        trusted: "`sub` (`<tid>:<oid>`) only; never `email` or `preferred_username` (mutable, not verified: nOAuth)",
        build: microsoft,
    },
    Preset {
        name: "apple",
        display_name: "Sign in with Apple",
        protocol: Protocol::OpenIdConnect,
        options: &["team_id", "key_id", "private_key"],
        endpoints: "discovery `https://appleid.apple.com/.well-known/openid-configuration`: `/auth/authorize`, `/auth/token`, `/auth/keys`; no userinfo",
        quirks: "client secret = ES256 JWT from `team_id`, `key_id`, `private_key` (renewed before it expires), sent as `client_secret_post`; `response_mode=form_post` when the scope has `name` or `email`; the name from the callback's `user` field (first login only); `email_verified` as `\"true\"` or boolean",
        trusted: "`sub`; `email` only with `email_verified` (may be a private relay address)",
        build: apple,
    },
    Preset {
        name: "linkedin",
        display_name: "LinkedIn",
        protocol: Protocol::OpenIdConnect,
        options: &[],
        endpoints: "discovery `https://www.linkedin.com/oauth/.well-known/openid-configuration`; userinfo `https://api.linkedin.com/v2/userinfo`",
        quirks: "no `nonce` in the ID token (nonce not sent); `client_secret_post`; no PKCE (web apps sending `code_verifier` are refused)",
        trusted: "`sub`; `email` only with `email_verified`",
        build: linkedin,
    },
    Preset {
        name: "auth0",
        display_name: "Auth0",
        protocol: Protocol::OpenIdConnect,
        options: &["domain", "audience"],
        endpoints: "discovery `https://<domain>/.well-known/openid-configuration` (`domain` required: tenant or custom domain)",
        quirks: "issuer with a trailing slash `https://<domain>/`, compared exactly; `audience` sent on the authorization request (else the access token is opaque, for userinfo only)",
        trusted: "`sub` (`<connection>|<id>`); `email` only with `email_verified`",
        build: auth0,
    },
    Preset {
        name: "okta",
        display_name: "Okta",
        protocol: Protocol::OpenIdConnect,
        options: &["domain", "authorization_server"],
        endpoints: "discovery `https://<domain>/.well-known/openid-configuration` (org server) or `https://<domain>/oauth2/<authorization_server>/.well-known/openid-configuration`",
        quirks: "two kinds of authorization server, each its own issuer and keys (`authorization_server` picks a custom one, e.g. `default`)",
        trusted: "`sub`; `email` only with `email_verified`; not `preferred_username`",
        build: okta,
    },
    Preset {
        name: "keycloak",
        display_name: "Keycloak",
        protocol: Protocol::OpenIdConnect,
        options: &["base_url", "realm"],
        endpoints: "discovery `<base_url>/realms/<realm>/.well-known/openid-configuration` (`base_url` and `realm` required; add `/auth` to `base_url` for Keycloak 16 and older)",
        quirks: "issuer per realm, as the server's configured front-end host names it",
        trusted: "`sub`; `email` only with `email_verified`",
        build: keycloak,
    },
    Preset {
        name: "gitlab",
        display_name: "GitLab",
        protocol: Protocol::OpenIdConnect,
        options: &["base_url"],
        endpoints: "discovery `https://gitlab.com/.well-known/openid-configuration` (self-managed: `base_url`); `/oauth/authorize`, `/oauth/token`, `/oauth/userinfo`",
        quirks: "issuer per instance (`base_url`); `nickname` as `preferred_username`",
        trusted: "`sub` (numeric user id, per instance); `email` only with `email_verified`",
        build: gitlab,
    },
    Preset {
        name: "slack",
        display_name: "Slack",
        protocol: Protocol::OpenIdConnect,
        options: &[],
        endpoints: "discovery `https://slack.com/.well-known/openid-configuration`: `https://slack.com/openid/connect/authorize`, `https://slack.com/api/openid.connect.token`, `https://slack.com/api/openid.connect.userInfo`",
        quirks: "Web API errors are HTTP 200 `{\"ok\": false, \"error\": ...}`: refused as errors; workspace in `https://slack.com/team_id`",
        trusted: "`sub` with `https://slack.com/team_id`; `email` only with `email_verified`",
        build: slack,
    },
    Preset {
        name: "twitch",
        display_name: "Twitch",
        protocol: Protocol::OpenIdConnect,
        options: &[],
        endpoints: "discovery `https://id.twitch.tv/oauth2/.well-known/openid-configuration`; API `https://api.twitch.tv/helix/`",
        quirks: "`client_secret_post`; token `scope` as a JSON array; token errors `{status, message}` without `error` mapped to errors; e-mail only through the `claims` parameter (sent); Helix calls carry `Client-Id`; apps must also validate tokens hourly (`/oauth2/validate`, not done here)",
        trusted: "`sub`; `email` only with `email_verified`",
        build: twitch,
    },
    Preset {
        name: "salesforce",
        display_name: "Salesforce",
        protocol: Protocol::OpenIdConnect,
        options: &["domain"],
        endpoints: "discovery `https://<domain>/.well-known/openid-configuration` (`domain`: `login.salesforce.com` by default, `test.salesforce.com`, or My Domain `<name>.my.salesforce.com`)",
        quirks: "token response `signature` (HMAC-SHA256 of `id` + `issued_at` under the client secret) checked; `instance_url` (the org's API base) kept in the token's extra fields; `client_secret_post`",
        trusted: "`sub` (identity URL with org and user ids); `email` only with `email_verified`",
        build: salesforce,
    },
    Preset {
        name: "yahoo",
        display_name: "Yahoo",
        protocol: Protocol::OpenIdConnect,
        options: &[],
        endpoints: "discovery `https://api.login.yahoo.com/.well-known/openid-configuration`: `/oauth2/request_auth`, `/oauth2/get_token`, `/openid/v1/userinfo`",
        quirks: "non-standard endpoint paths (from discovery); HTTP Basic at the token endpoint",
        trusted: "`sub`; `email` only with `email_verified`",
        build: yahoo,
    },
];

/// Settings found by discovery at `metadata_url`, with a default scope.
fn discovered(metadata_url: String, scope: &str) -> ClientSettings {
    ClientSettings {
        server_metadata_url: Some(metadata_url),
        client_kwargs: ClientKwargs {
            scope: Some(scope.to_owned()),
            ..ClientKwargs::default()
        },
        ..ClientSettings::default()
    }
}

/// A spec whose claims are mapped, whatever source they came from, by `map`. OpenID
/// Connect's own claim names need no mapping: `Profile` reads them, `email_verified` as
/// a boolean or `"true"` and false when absent.
fn spec(settings: ClientSettings, map: fn(&mut Claims)) -> Spec {
    let mut spec = Spec::new(settings);
    spec.quirks.claims_map = Some(map);
    spec
}

fn google(cx: &Context<'_>) -> Result<Spec, String> {
    let mut settings = discovered(
        "https://accounts.google.com/.well-known/openid-configuration".into(),
        "openid email profile",
    );
    // Google's ID tokens name either spelling of its issuer.
    settings.client_kwargs.issuer_aliases = Some(vec!["accounts.google.com".into()]);
    if cx.options.offline == Some(true) {
        // A refresh token only with offline access, and only on the first consent unless
        // consent is asked again.
        settings.authorize_params = pairs(&[("access_type", "offline"), ("prompt", "consent")]);
    }
    let hosted_domain = match &cx.options.hosted_domain {
        Some(_) => Some(
            cx.host("hosted_domain", &cx.options.hosted_domain)?
                .to_owned(),
        ),
        None => None,
    };
    if let Some(domain) = &hosted_domain {
        // Only a hint to the account chooser: the `hd` claim is what is checked.
        settings
            .authorize_params
            .insert("hd".into(), domain.clone());
    }
    let mut spec = Spec::new(settings);
    spec.quirks.hosted_domain = hosted_domain;
    Ok(spec)
}

/// Microsoft's personal-account ("consumers") tenant.
const MSA_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

fn microsoft(cx: &Context<'_>) -> Result<Spec, String> {
    let tenant = match &cx.options.tenant {
        Some(_) => cx.segment("tenant", &cx.options.tenant)?,
        None => "common",
    };
    if let Some(allowed) = &cx.options.allowed_tenants {
        if allowed.is_empty() {
            return Err("preset_options.allowed_tenants is empty: nobody could log in".into());
        }
        if tenant == "consumers" && !allowed.iter().any(|t| t.eq_ignore_ascii_case(MSA_TENANT)) {
            return Err(format!(
                "preset_options.allowed_tenants excludes the only tenant of `consumers` ({MSA_TENANT})"
            ));
        }
    }
    let settings = discovered(
        format!("https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"),
        "openid profile email",
    );
    let mut spec = spec(settings, microsoft_claims);
    spec.quirks.tenant = Some(TenantPolicy {
        allowed: cx.options.allowed_tenants.clone(),
        issuer_template: format!("https://login.microsoftonline.com/{TENANT_PLACEHOLDER}/v2.0"),
    });
    Ok(spec)
}

/// Entra's claims: the user is `oid` (else `sub`) within tenant `tid`, never the
/// address, which any tenant admin can set to anything (nOAuth).
fn microsoft_claims(claims: &mut Claims) {
    if let Some(tid) = text_at(claims, "/tid") {
        let user = text_at(claims, "/oid").or_else(|| text_at(claims, "/sub"));
        if let Some(user) = user {
            claims.insert("sub".into(), Value::String(format!("{tid}:{user}")));
        }
    }
    // `xms_edov`: the tenant's e-mail domain is verified (an optional claim).
    verified_from(claims, "/xms_edov");
}

fn apple(cx: &Context<'_>) -> Result<Spec, String> {
    let team_id = cx.required("team_id", &cx.options.team_id)?;
    let key_id = cx.required("key_id", &cx.options.key_id)?;
    let private_key = cx
        .options
        .private_key
        .as_ref()
        .filter(|k| !k.expose().is_empty())
        .ok_or("preset_options.private_key is required by this preset")?;
    let key =
        ClientAssertionKey::from_private_key(private_key.expose(), Some("ES256"), Some(key_id))
            .map_err(|e| format!("preset_options.private_key: {e}"))?;
    let mut settings = discovered(
        "https://appleid.apple.com/.well-known/openid-configuration".into(),
        "openid name email",
    );
    settings.client_kwargs.token_endpoint_auth_method =
        Some(TokenEndpointAuthMethod::ClientSecretPost);
    // No userinfo endpoint: everything is in the ID token (and the `user` field).
    settings.client_kwargs.fetch_userinfo = Some(false);
    // Apple refuses a query response when the scope asks for the name or the address.
    let scope = cx
        .explicit
        .client_kwargs
        .scope
        .as_deref()
        .unwrap_or("openid name email");
    if scope.split([' ', ',']).any(|s| s == "name" || s == "email") {
        settings.authorize_params = pairs(&[("response_mode", "form_post")]);
    }
    let mut spec = Spec::new(settings);
    spec.quirks.client_secret = Some(Arc::new(JwtClientSecret::new(
        key,
        team_id,
        cx.client_id(),
        "https://appleid.apple.com",
    )));
    spec.quirks.callback_user = true;
    Ok(spec)
}

fn linkedin(_: &Context<'_>) -> Result<Spec, String> {
    let mut settings = discovered(
        "https://www.linkedin.com/oauth/.well-known/openid-configuration".into(),
        "openid profile email",
    );
    let kwargs = &mut settings.client_kwargs;
    kwargs.check_nonce = Some(false);
    kwargs.token_endpoint_auth_method = Some(TokenEndpointAuthMethod::ClientSecretPost);
    kwargs.code_challenge_method = Some(CodeChallengeMethod::Disabled);
    Ok(Spec::new(settings))
}

fn auth0(cx: &Context<'_>) -> Result<Spec, String> {
    let domain = cx.host("domain", &cx.options.domain)?;
    let mut settings = discovered(
        format!("https://{domain}/.well-known/openid-configuration"),
        "openid profile email",
    );
    if let Some(audience) = cx.options.audience.as_deref().filter(|a| !a.is_empty()) {
        settings.authorize_params = pairs(&[("audience", audience)]);
    }
    Ok(Spec::new(settings))
}

fn okta(cx: &Context<'_>) -> Result<Spec, String> {
    let domain = cx.host("domain", &cx.options.domain)?;
    let issuer = match &cx.options.authorization_server {
        Some(_) => format!(
            "https://{domain}/oauth2/{}",
            cx.segment("authorization_server", &cx.options.authorization_server)?
        ),
        None => format!("https://{domain}"),
    };
    let settings = discovered(
        format!("{issuer}/.well-known/openid-configuration"),
        "openid profile email",
    );
    Ok(Spec::new(settings))
}

fn keycloak(cx: &Context<'_>) -> Result<Spec, String> {
    let base = cx.base_url("base_url", &cx.options.base_url)?;
    let realm = cx.segment("realm", &cx.options.realm)?;
    let settings = discovered(
        format!("{base}/realms/{realm}/.well-known/openid-configuration"),
        "openid profile email",
    );
    Ok(Spec::new(settings))
}

fn gitlab(cx: &Context<'_>) -> Result<Spec, String> {
    let base = match &cx.options.base_url {
        Some(_) => cx.base_url("base_url", &cx.options.base_url)?,
        None => "https://gitlab.com",
    };
    let mut settings = discovered(
        format!("{base}/.well-known/openid-configuration"),
        "openid profile email",
    );
    settings.api_base_url = Some(format!("{base}/api/v4/"));
    Ok(spec(settings, |claims| {
        fill(claims, "preferred_username", &["/nickname"]);
    }))
}

fn slack(_: &Context<'_>) -> Result<Spec, String> {
    let settings = discovered(
        "https://slack.com/.well-known/openid-configuration".into(),
        "openid profile email",
    );
    let mut spec = Spec::new(settings);
    spec.hooks = ComplianceHooks::new().token_response(slack_errors);
    Ok(spec)
}

/// Slack answers every Web API call with HTTP 200 and `ok`: `ok: false` is an error
/// even without an `error` member.
fn slack_errors(object: &mut Map<String, Value>) {
    if object.get("ok") == Some(&Value::Bool(false)) && !object.contains_key("error") {
        object.insert("error".into(), Value::String("slack_error".into()));
    }
}

fn twitch(cx: &Context<'_>) -> Result<Spec, String> {
    let mut settings = discovered(
        "https://id.twitch.tv/oauth2/.well-known/openid-configuration".into(),
        "openid user:read:email",
    );
    settings.client_kwargs.token_endpoint_auth_method =
        Some(TokenEndpointAuthMethod::ClientSecretPost);
    settings.api_base_url = Some("https://api.twitch.tv/helix/".into());
    // Helix refuses calls that do not name the app.
    settings.client_kwargs.api_headers = pairs(&[("Client-Id", cx.client_id())]);
    // The address is only in the ID token and userinfo when asked for by name.
    let wanted = r#"{"email":null,"email_verified":null,"picture":null,"preferred_username":null}"#;
    settings.authorize_params = pairs(&[(
        "claims",
        &format!(r#"{{"id_token":{wanted},"userinfo":{wanted}}}"#),
    )]);
    let mut spec = Spec::new(settings);
    spec.hooks = ComplianceHooks::new().token_response(twitch_errors);
    Ok(spec)
}

/// Twitch's token errors are `{"status": 400, "message": "..."}`, without `error`.
fn twitch_errors(object: &mut Map<String, Value>) {
    if object.contains_key("error") || object.contains_key("access_token") {
        return;
    }
    let Some(status) = object.get("status").and_then(Value::as_u64) else {
        return;
    };
    let code = match status {
        400 => "invalid_request",
        401 | 403 => "invalid_client",
        _ => "server_error",
    };
    object.insert("error".into(), Value::String(code.into()));
    if let Some(message) = object.get("message").cloned() {
        object.insert("error_description".into(), message);
    }
}

fn salesforce(cx: &Context<'_>) -> Result<Spec, String> {
    let domain = match &cx.options.domain {
        Some(_) => cx.host("domain", &cx.options.domain)?,
        None => "login.salesforce.com",
    };
    let mut settings = discovered(
        format!("https://{domain}/.well-known/openid-configuration"),
        "openid profile email",
    );
    settings.client_kwargs.token_endpoint_auth_method =
        Some(TokenEndpointAuthMethod::ClientSecretPost);
    let mut spec = spec(settings, |claims| {
        fill(claims, "picture", &["/photos/picture"]);
    });
    spec.quirks.signed_token_response = true;
    Ok(spec)
}

fn yahoo(_: &Context<'_>) -> Result<Spec, String> {
    let mut settings = discovered(
        "https://api.login.yahoo.com/.well-known/openid-configuration".into(),
        "openid profile email",
    );
    settings.client_kwargs.token_endpoint_auth_method =
        Some(TokenEndpointAuthMethod::ClientSecretBasic);
    Ok(spec(settings, |claims| {
        fill(claims, "preferred_username", &["/nickname"]);
    }))
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
        microsoft_claims(&mut c);
        assert_eq!(c["sub"], "t1:o1");
        assert_eq!(c["email_verified"], false);
        let mut c = claims(serde_json::json!({"sub": "s", "tid": "t1", "xms_edov": true}));
        microsoft_claims(&mut c);
        assert_eq!(c["sub"], "t1:s");
        assert_eq!(c["email_verified"], true);
    }

    #[test]
    fn twitch_and_slack_errors_become_errors() {
        let mut o =
            claims(serde_json::json!({"status": 400, "message": "Invalid authorization code"}));
        twitch_errors(&mut o);
        assert_eq!(o["error"], "invalid_request");
        assert_eq!(o["error_description"], "Invalid authorization code");
        let mut ok = claims(serde_json::json!({"access_token": "a", "status": 200}));
        twitch_errors(&mut ok);
        assert!(!ok.contains_key("error"));
        let mut s = claims(serde_json::json!({"ok": false}));
        slack_errors(&mut s);
        assert_eq!(s["error"], "slack_error");
    }
}
