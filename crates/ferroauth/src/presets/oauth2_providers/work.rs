//! Dropbox, Bitbucket Cloud, Zoom and Notion.

use serde_json::Value;

use super::super::profile_map::{fill, fill_name_from_parts, set, text_at, verified_from};
use super::super::quirks::EmailLookup;
use super::super::{Context, Preset, Protocol, Spec, endpoints, pairs};
use crate::hooks::ComplianceHooks;
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;
use crate::settings::ClientKwargs;

/// Dropbox.
pub(crate) const DROPBOX: Preset = Preset {
    name: "dropbox",
    display_name: "Dropbox",
    protocol: Protocol::OAuth2,
    options: &["offline"],
    endpoints: "`https://www.dropbox.com/oauth2/authorize`, `https://api.dropboxapi.com/oauth2/token`, `POST https://api.dropboxapi.com/2/users/get_current_account`",
    quirks: "the profile is an RPC: POST with no body; `preset_options.offline` adds `token_access_type=offline` (refresh token; access tokens are short-lived); id `account_id`; `name` object flattened to `name`/`given_name`/`family_name`/`nickname`; `email_verified` as Dropbox says",
    trusted: "`sub` (`account_id`); `email` only with `email_verified`",
    build: dropbox,
};

fn dropbox(cx: &Context<'_>) -> Result<Spec, String> {
    let mut spec = Spec::new(endpoints(
        "https://www.dropbox.com/oauth2/authorize",
        "https://api.dropboxapi.com/oauth2/token",
        "https://api.dropboxapi.com/2/",
        Some("https://api.dropboxapi.com/2/users/get_current_account"),
        ClientKwargs {
            scope: Some("account_info.read".into()),
            ..ClientKwargs::default()
        },
    ));
    if cx.options.offline == Some(true) {
        spec.settings.authorize_params = pairs(&[("token_access_type", "offline")]);
    }
    spec.quirks.userinfo_post = true;
    spec.hooks = ComplianceHooks::new().userinfo(|claims| {
        set(claims, "sub", &["/account_id"]);
        // `name` is an object: the standard claims take its parts.
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
        fill(claims, "picture", &["/profile_photo_url"]);
        verified_from(claims, "/email_verified");
    });
    Ok(spec)
}

/// Bitbucket Cloud.
pub(crate) const BITBUCKET: Preset = Preset {
    name: "bitbucket",
    display_name: "Bitbucket",
    protocol: Protocol::OAuth2,
    options: &[],
    endpoints: "`https://bitbucket.org/site/oauth2/authorize`, `https://bitbucket.org/site/oauth2/access_token`, `https://api.bitbucket.org/2.0/user`, `/2.0/user/emails`",
    quirks: "HTTP Basic at the token endpoint; id `uuid` with its braces; no address in `/2.0/user`: the primary confirmed one from `/2.0/user/emails`; scope `account email` (Bitbucket mostly uses the consumer's own)",
    trusted: "`sub` (`{uuid}`); `email` only with `email_verified` (primary and confirmed in `/2.0/user/emails`)",
    build: bitbucket,
};

fn bitbucket(_: &Context<'_>) -> Result<Spec, String> {
    let mut spec = Spec::new(endpoints(
        "https://bitbucket.org/site/oauth2/authorize",
        "https://bitbucket.org/site/oauth2/access_token",
        "https://api.bitbucket.org/2.0/",
        Some("https://api.bitbucket.org/2.0/user"),
        ClientKwargs {
            scope: Some("account email".into()),
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::ClientSecretBasic),
            ..ClientKwargs::default()
        },
    ));
    spec.hooks = ComplianceHooks::new().userinfo(|claims| {
        set(claims, "sub", &["/uuid"]);
        fill(claims, "name", &["/display_name"]);
        fill(claims, "preferred_username", &["/username", "/nickname"]);
        fill(claims, "picture", &["/links/avatar/href"]);
        claims.insert("email_verified".into(), Value::Bool(false));
    });
    spec.quirks.verified_email = Some(EmailLookup {
        path: "user/emails",
        pick: bitbucket_primary_confirmed,
    });
    Ok(spec)
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

/// Zoom.
pub(crate) const ZOOM: Preset = Preset {
    name: "zoom",
    display_name: "Zoom",
    protocol: Protocol::OAuth2,
    options: &[],
    endpoints: "`https://zoom.us/oauth/authorize`, `https://zoom.us/oauth/token`, `https://api.zoom.us/v2/users/me`",
    quirks: "HTTP Basic at the token endpoint; the refresh token rotates on every refresh (keep the latest); `verified: 1` ⇒ `email_verified`; scopes are the app's own (none sent)",
    trusted: "`sub` (user id); `email` only with `email_verified` (Zoom's `verified` = 1, described by Zoom as the address being verified — recalled)",
    build: zoom,
};

fn zoom(_: &Context<'_>) -> Result<Spec, String> {
    let mut spec = Spec::new(endpoints(
        "https://zoom.us/oauth/authorize",
        "https://zoom.us/oauth/token",
        "https://api.zoom.us/v2/",
        Some("https://api.zoom.us/v2/users/me"),
        ClientKwargs {
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::ClientSecretBasic),
            ..ClientKwargs::default()
        },
    ));
    spec.hooks = ComplianceHooks::new().userinfo(|claims| {
        set(claims, "sub", &["/id"]);
        fill(claims, "name", &["/display_name"]);
        let (given, family) = (
            text_at(claims, "/first_name"),
            text_at(claims, "/last_name"),
        );
        fill_name_from_parts(claims, given, family);
        fill(claims, "picture", &["/pic_url"]);
        let verified = text_at(claims, "/verified").as_deref() == Some("1");
        claims.insert("email_verified".into(), Value::Bool(verified));
    });
    Ok(spec)
}

/// Notion (public integrations).
pub(crate) const NOTION: Preset = Preset {
    name: "notion",
    display_name: "Notion",
    protocol: Protocol::OAuth2,
    options: &[],
    endpoints: "`https://api.notion.com/v1/oauth/authorize?owner=user`, `https://api.notion.com/v1/oauth/token`; no profile endpoint",
    quirks: "token request as a JSON body with HTTP Basic; the profile is the token response's `owner.user` (no profile endpoint); `Notion-Version: 2022-06-28` on API calls; the address is not said to be verified",
    trusted: "`sub` (user id of `owner.user`); `email` never",
    build: notion,
};

/// The Notion API version sent with every call.
const NOTION_VERSION: &str = "2022-06-28";

fn notion(_: &Context<'_>) -> Result<Spec, String> {
    let mut spec = Spec::new(endpoints(
        "https://api.notion.com/v1/oauth/authorize",
        "https://api.notion.com/v1/oauth/token",
        "https://api.notion.com/v1/",
        None,
        ClientKwargs {
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::ClientSecretBasic),
            api_headers: pairs(&[("Notion-Version", NOTION_VERSION)]),
            ..ClientKwargs::default()
        },
    ));
    spec.settings.authorize_params = pairs(&[("owner", "user")]);
    spec.quirks.json_token_request = true;
    // Without a userinfo endpoint the login runs this hook over the token response's
    // other members (see `Login::userinfo`).
    spec.hooks = ComplianceHooks::new().userinfo(|claims| {
        if text_at(claims, "/owner/type").as_deref() == Some("user") {
            set(claims, "sub", &["/owner/user/id"]);
            fill(claims, "name", &["/owner/user/name"]);
            fill(claims, "email", &["/owner/user/person/email"]);
            fill(claims, "picture", &["/owner/user/avatar_url"]);
        }
        claims.insert("email_verified".into(), Value::Bool(false));
    });
    Ok(spec)
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
