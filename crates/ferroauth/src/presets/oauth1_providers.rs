//! OAuth 1.0a providers: X (Twitter's OAuth 1.0a API), Tumblr, Flickr and Trello.
//!
//! All four sign with HMAC-SHA1, protocol parameters in the `Authorization` header, and ask
//! for temporary credentials with a POST. After the token credentials, X, Tumblr and
//! Trello tell who logged in at a profile endpoint (`userinfo_endpoint`, read with a
//! signed GET); Flickr says it in the token credentials response itself
//! (`user_nsid`, `username`, `fullname`). Each preset's `userinfo` hook maps those fields
//! to the standard claims. None of these providers vouches for an e-mail address.

use serde_json::Value;

use super::profile_map::{fill, set, text_at};
use super::{Context, Preset, Protocol, Spec, endpoints, pairs};
use crate::Claims;
use crate::hooks::ComplianceHooks;
use crate::settings::ClientKwargs;

/// X (OAuth 1.0a), Tumblr, Flickr and Trello.
pub(crate) const PRESETS: &[Preset] = &[
    Preset {
        name: "twitter",
        display_name: "X (OAuth 1.0a)",
        protocol: Protocol::OAuth1,
        options: &[],
        endpoints: "`https://api.x.com/oauth/request_token`, `https://api.x.com/oauth/authenticate`, `https://api.x.com/oauth/access_token`, `https://api.x.com/1.1/account/verify_credentials.json?include_email=true`",
        quirks: "HMAC-SHA1 only; \"Sign in with X\" (`/oauth/authenticate` skips the consent page once the app is authorized); a cancel comes back as `?denied=<request token>`, which gives the `access_denied` error (and uses up the pending login); the e-mail address needs the app's elevated permission",
        trusted: "`sub` (`id_str`, the numeric user id); `email` is never marked verified",
        build: twitter,
    },
    Preset {
        name: "tumblr",
        display_name: "Tumblr",
        protocol: Protocol::OAuth1,
        options: &[],
        endpoints: "`https://www.tumblr.com/oauth/request_token` (POST), `https://www.tumblr.com/oauth/authorize`, `https://www.tumblr.com/oauth/access_token`, `https://api.tumblr.com/v2/user/info`",
        quirks: "the profile is `response.user`, which has no user id: `sub` is the `uuid` (`t:…`) of the user's primary blog, not the blog name other libraries use; no e-mail address",
        trusted: "`sub` (the primary blog's `uuid`, which stays when the blog is renamed); never `preferred_username` (the blog name, which the user can change and another can take)",
        build: tumblr,
    },
    Preset {
        name: "flickr",
        display_name: "Flickr",
        protocol: Protocol::OAuth1,
        options: &[],
        endpoints: "`https://www.flickr.com/services/oauth/request_token`, `https://www.flickr.com/services/oauth/authorize`, `https://www.flickr.com/services/oauth/access_token`; API `https://api.flickr.com/services/rest/`",
        quirks: "`perms=read` on the authorize URL, which Flickr requires (`authorize_params.perms` = `write` or `delete` for more); no profile endpoint: the user is in the token credentials response (`user_nsid`, `username`, `fullname`)",
        trusted: "`sub` (`user_nsid`, such as `12345678@N01`); no e-mail address",
        build: flickr,
    },
    Preset {
        name: "trello",
        display_name: "Trello",
        protocol: Protocol::OAuth1,
        options: &[],
        endpoints: "`https://trello.com/1/OAuthGetRequestToken`, `https://trello.com/1/OAuthAuthorizeToken`, `https://trello.com/1/OAuthGetAccessToken`, `https://api.trello.com/1/members/me`",
        quirks: "`name`, `scope=read` and `expiration=never` on the authorize URL (each replaceable through `authorize_params`): `name` is the app's name Trello shows on its consent page, by default the client's name in settings; the e-mail address needs `scope=read,account` (recalled); `picture` is `avatarUrl` + `/170.png` (size suffix recalled)",
        trusted: "`sub` (the member `id`); `email` is never marked verified",
        build: trello,
    },
];

/// Default settings of an OAuth 1.0a provider: its three endpoints, API base, profile
/// endpoint and HMAC-SHA1.
fn oauth1(
    request_token_url: &str,
    authorize_url: &str,
    access_token_url: &str,
    api_base_url: &str,
    userinfo_endpoint: Option<&str>,
) -> crate::settings::ClientSettings {
    let mut settings = endpoints(
        authorize_url,
        access_token_url,
        api_base_url,
        userinfo_endpoint,
        ClientKwargs {
            signature_method: Some("HMAC-SHA1".into()),
            ..ClientKwargs::default()
        },
    );
    settings.request_token_url = Some(request_token_url.to_owned());
    settings
}

/// None of these providers vouches for an address: `email_verified` is always false.
fn unverified(claims: &mut Claims) {
    claims.insert("email_verified".into(), Value::Bool(false));
}

fn twitter(_: &Context<'_>) -> Result<Spec, String> {
    let mut spec = Spec::new(oauth1(
        "https://api.x.com/oauth/request_token",
        "https://api.x.com/oauth/authenticate",
        "https://api.x.com/oauth/access_token",
        "https://api.x.com/1.1/",
        Some("https://api.x.com/1.1/account/verify_credentials.json?include_email=true"),
    ));
    spec.hooks = ComplianceHooks::new().userinfo(|claims| {
        // `id` is a 64-bit number; `id_str` is the same id as text. The token response's
        // `user_id` is there too, should the profile lack it.
        set(claims, "sub", &["/id_str", "/user_id"]);
        fill(claims, "preferred_username", &["/screen_name"]);
        fill(claims, "picture", &["/profile_image_url_https"]);
        unverified(claims);
    });
    Ok(spec)
}

fn tumblr(_: &Context<'_>) -> Result<Spec, String> {
    let mut spec = Spec::new(oauth1(
        "https://www.tumblr.com/oauth/request_token",
        "https://www.tumblr.com/oauth/authorize",
        "https://www.tumblr.com/oauth/access_token",
        "https://api.tumblr.com/v2/",
        Some("https://api.tumblr.com/v2/user/info"),
    ));
    spec.hooks = ComplianceHooks::new().userinfo(tumblr_profile);
    Ok(spec)
}

/// Tumblr's profile (`response.user`, the same through OAuth 1.0a and OAuth 2.0) in the
/// standard claims. The user has no id of their own: `sub` is the primary blog's `uuid`,
/// which survives a rename, and without a primary blog there is no `sub` at all rather
/// than the renamable name.
pub(in crate::presets) fn tumblr_profile(claims: &mut Claims) {
    claims.remove("sub");
    let primary = primary_blog(claims);
    if let Some(uuid) =
        primary.and_then(|i| text_at(claims, &format!("/response/user/blogs/{i}/uuid")))
    {
        claims.insert("sub".into(), Value::String(uuid));
    }
    fill(claims, "preferred_username", &["/response/user/name"]);
    if let Some(i) = primary {
        let blog = format!("/response/user/blogs/{i}");
        fill(claims, "name", &[&format!("{blog}/title")]);
        fill(claims, "picture", &[&format!("{blog}/avatar/0/url")]);
    }
    fill(claims, "name", &["/response/user/name"]);
    unverified(claims);
}

/// The index of the blog marked `primary` in Tumblr's `response.user.blogs`.
fn primary_blog(claims: &Claims) -> Option<usize> {
    claims
        .get("response")?
        .get("user")?
        .get("blogs")?
        .as_array()?
        .iter()
        .position(|b| b.get("primary").and_then(Value::as_bool) == Some(true))
}

fn flickr(_: &Context<'_>) -> Result<Spec, String> {
    let mut settings = oauth1(
        "https://www.flickr.com/services/oauth/request_token",
        "https://www.flickr.com/services/oauth/authorize",
        "https://www.flickr.com/services/oauth/access_token",
        "https://api.flickr.com/services/rest/",
        None,
    );
    settings.authorize_params = pairs(&[("perms", "read")]);
    let mut spec = Spec::new(settings);
    // The claims are the token credentials response's extra fields.
    spec.hooks = ComplianceHooks::new().userinfo(|claims| {
        set(claims, "sub", &["/user_nsid"]);
        fill(claims, "preferred_username", &["/username"]);
        fill(claims, "name", &["/fullname"]);
        unverified(claims);
    });
    Ok(spec)
}

fn trello(cx: &Context<'_>) -> Result<Spec, String> {
    let mut settings = oauth1(
        "https://trello.com/1/OAuthGetRequestToken",
        "https://trello.com/1/OAuthAuthorizeToken",
        "https://trello.com/1/OAuthGetAccessToken",
        "https://api.trello.com/1/",
        Some("https://api.trello.com/1/members/me"),
    );
    settings.authorize_params = pairs(&[
        ("name", cx.client),
        ("scope", "read"),
        ("expiration", "never"),
    ]);
    let mut spec = Spec::new(settings);
    spec.hooks = ComplianceHooks::new().userinfo(|claims| {
        set(claims, "sub", &["/id"]);
        fill(claims, "preferred_username", &["/username"]);
        fill(claims, "name", &["/fullName"]);
        if claims.get("picture").is_none_or(Value::is_null)
            && let Some(base) = text_at(claims, "/avatarUrl")
        {
            // `avatarUrl` names no file: a size is appended (30, 50, 170 or `original`).
            let picture = format!("{}/170.png", base.trim_end_matches('/'));
            claims.insert("picture".into(), Value::String(picture));
        }
        unverified(claims);
    });
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(v: Value) -> Claims {
        v.as_object().cloned().unwrap_or_default()
    }

    fn userinfo(spec: &Spec, mut claims: Claims) -> Claims {
        if let Some(hook) = &spec.hooks.userinfo {
            hook(&mut claims);
        }
        claims
    }

    fn context() -> (
        crate::presets::PresetOptions,
        crate::settings::ClientSettings,
    ) {
        Default::default()
    }

    #[test]
    fn tumblr_takes_the_primary_blogs_uuid_and_never_the_name() {
        let (options, explicit) = context();
        let cx = Context {
            client: "tumblr",
            options: &options,
            explicit: &explicit,
        };
        let spec = tumblr(&cx).unwrap();
        let mapped = userinfo(
            &spec,
            claims(
                serde_json::json!({"response": {"user": {"name": "renamed", "blogs": [
                    {"name": "side", "uuid": "t:side", "primary": false},
                    {"name": "renamed", "uuid": "t:main", "primary": true, "title": "Main"}
                ]}}}),
            ),
        );
        assert_eq!(mapped["sub"], "t:main");
        assert_eq!(mapped["name"], "Main");
        assert_eq!(mapped["email_verified"], false);
        let no_primary = userinfo(
            &spec,
            claims(
                serde_json::json!({"response": {"user": {"name": "x", "blogs": [
                    {"name": "x", "uuid": "t:x", "primary": false}
                ]}}}),
            ),
        );
        assert!(no_primary.get("sub").is_none(), "no stable id, no sub");
        let odd = userinfo(&spec, claims(serde_json::json!({"response": []})));
        assert!(odd.get("sub").is_none());
    }

    #[test]
    fn trello_names_the_app_after_the_client() {
        let (options, explicit) = context();
        let cx = Context {
            client: "boards",
            options: &options,
            explicit: &explicit,
        };
        let spec = trello(&cx).unwrap();
        assert_eq!(spec.settings.authorize_params["name"], "boards");
        let mapped = userinfo(
            &spec,
            claims(serde_json::json!({"id": "5abc", "avatarUrl": null, "email": "a@b.example"})),
        );
        assert_eq!(mapped["sub"], "5abc");
        assert!(mapped.get("picture").is_none(), "no avatar, no picture");
        assert_eq!(mapped["email_verified"], false);
    }
}
