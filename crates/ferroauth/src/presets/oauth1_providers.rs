//! OAuth 1.0a providers: X (Twitter's OAuth 1.0a API), Tumblr, Flickr and Trello.
//!
//! All four sign with HMAC-SHA1, protocol parameters in the `Authorization` header, and ask
//! for temporary credentials with a POST. After the token credentials, X, Tumblr and
//! Trello tell who logged in at a profile endpoint (`userinfo_endpoint`, read with a
//! signed GET); Flickr says it in the token credentials response itself
//! (`user_nsid`, `username`, `fullname`). Each preset's `userinfo` hook maps those fields
//! to the standard claims. None of these providers vouches for an e-mail address.

use serde_json::Value;

use super::entry::{Endpoints, Preset, ProfileMap, Verified};
use super::profile_map::{fill, text_at};
use crate::Claims;

/// An OAuth 1.0a preset with nothing set yet.
const OAUTH1: Preset = Preset {
    protocol: super::Protocol::OAuth1,
    ..Preset::OAUTH2
};

/// X (OAuth 1.0a), Tumblr, Flickr and Trello.
pub(crate) const PRESETS: &[Preset] = &[
    Preset {
        name: "twitter",
        display_name: "X (OAuth 1.0a)",
        endpoints: Endpoints::OAuth1 {
            request_token: "https://api.x.com/oauth/request_token",
            authorize: "https://api.x.com/oauth/authenticate",
            access_token: "https://api.x.com/oauth/access_token",
            userinfo: Some(
                "https://api.x.com/1.1/account/verify_credentials.json?include_email=true",
            ),
        },
        api_base: Some("https://api.x.com/1.1/"),
        profile: ProfileMap {
            // `id` is a 64-bit number; `id_str` is the same id as text. The token
            // response's `user_id` is there too, should the profile lack it.
            sub: &["/id_str", "/user_id"],
            claims: &[
                ("preferred_username", &["/screen_name"]),
                ("picture", &["/profile_image_url_https"]),
            ],
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        quirks: "HMAC-SHA1 only; \"Sign in with X\" (`/oauth/authenticate` skips the consent page once the app is authorized); a cancel comes back as `?denied=<request token>`, which gives the `access_denied` error (and uses up the pending login); the e-mail address needs the app's elevated permission",
        trusted: "`sub` (`id_str`, the numeric user id); `email` is never marked verified",
        ..OAUTH1
    },
    Preset {
        name: "tumblr",
        display_name: "Tumblr",
        endpoints: Endpoints::OAuth1 {
            request_token: "https://www.tumblr.com/oauth/request_token",
            authorize: "https://www.tumblr.com/oauth/authorize",
            access_token: "https://www.tumblr.com/oauth/access_token",
            userinfo: Some("https://api.tumblr.com/v2/user/info"),
        },
        api_base: Some("https://api.tumblr.com/v2/"),
        profile: TUMBLR_PROFILE,
        quirks: "the profile is `response.user`, which has no user id: `sub` is the `uuid` (`t:…`) of the user's primary blog, not the blog name other libraries use; no e-mail address",
        trusted: "`sub` (the primary blog's `uuid`, which stays when the blog is renamed); never `preferred_username` (the blog name, which the user can change and another can take)",
        ..OAUTH1
    },
    Preset {
        name: "flickr",
        display_name: "Flickr",
        endpoints: Endpoints::OAuth1 {
            request_token: "https://www.flickr.com/services/oauth/request_token",
            authorize: "https://www.flickr.com/services/oauth/authorize",
            access_token: "https://www.flickr.com/services/oauth/access_token",
            userinfo: None,
        },
        api_base: Some("https://api.flickr.com/services/rest/"),
        authorize_params: &[("perms", "read")],
        // The claims are the token credentials response's extra fields.
        profile: ProfileMap {
            sub: &["/user_nsid"],
            claims: &[
                ("preferred_username", &["/username"]),
                ("name", &["/fullname"]),
            ],
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        quirks: "`perms=read` on the authorize URL, which Flickr requires (`authorize_params.perms` = `write` or `delete` for more); no profile endpoint: the user is in the token credentials response (`user_nsid`, `username`, `fullname`)",
        trusted: "`sub` (`user_nsid`, such as `12345678@N01`); no e-mail address",
        ..OAUTH1
    },
    Preset {
        name: "trello",
        display_name: "Trello",
        endpoints: Endpoints::OAuth1 {
            request_token: "https://trello.com/1/OAuthGetRequestToken",
            authorize: "https://trello.com/1/OAuthAuthorizeToken",
            access_token: "https://trello.com/1/OAuthGetAccessToken",
            userinfo: Some("https://api.trello.com/1/members/me"),
        },
        api_base: Some("https://api.trello.com/1/"),
        authorize_params: &[
            ("name", "<client>"),
            ("scope", "read"),
            ("expiration", "never"),
        ],
        profile: ProfileMap {
            sub: &["/id"],
            claims: &[
                ("preferred_username", &["/username"]),
                ("name", &["/fullName"]),
            ],
            computed: Some(trello_avatar),
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        quirks: "`name`, `scope=read` and `expiration=never` on the authorize URL (each replaceable through `authorize_params`): `name` is the app's name Trello shows on its consent page, by default the client's name in settings; the e-mail address needs `scope=read,account` (recalled); `picture` is `avatarUrl` + `/170.png` (size suffix recalled)",
        trusted: "`sub` (the member `id`); `email` is never marked verified",
        ..OAUTH1
    },
];

/// Tumblr's profile, the same through OAuth 1.0a and OAuth 2.0.
pub(in crate::presets) const TUMBLR_PROFILE: ProfileMap = ProfileMap {
    computed: Some(tumblr_profile),
    email_verified: Verified::Never,
    ..ProfileMap::NONE
};

/// `avatarUrl` names no file: a size is appended (30, 50, 170 or `original`).
fn trello_avatar(claims: &mut Claims) {
    if claims.get("picture").is_none_or(Value::is_null)
        && let Some(base) = text_at(claims, "/avatarUrl")
    {
        let picture = format!("{}/170.png", base.trim_end_matches('/'));
        claims.insert("picture".into(), Value::String(picture));
    }
}

/// Tumblr's profile (`response.user`, the same through OAuth 1.0a and OAuth 2.0) in the
/// standard claims. The user has no id of their own: `sub` is the primary blog's `uuid`,
/// which survives a rename, and without a primary blog there is no `sub` at all rather
/// than the renamable name.
fn tumblr_profile(claims: &mut Claims) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(v: Value) -> Claims {
        v.as_object().cloned().unwrap_or_default()
    }

    fn mapped(preset: &Preset, mut claims: Claims) -> Claims {
        preset.profile.apply(&mut claims);
        claims
    }

    #[test]
    fn tumblr_takes_the_primary_blogs_uuid_and_never_the_name() {
        let tumblr = &PRESETS[1];
        let mapped_claims = mapped(
            tumblr,
            claims(
                serde_json::json!({"response": {"user": {"name": "renamed", "blogs": [
                    {"name": "side", "uuid": "t:side", "primary": false},
                    {"name": "renamed", "uuid": "t:main", "primary": true, "title": "Main"}
                ]}}}),
            ),
        );
        assert_eq!(mapped_claims["sub"], "t:main");
        assert_eq!(mapped_claims["name"], "Main");
        assert_eq!(mapped_claims["email_verified"], false);
        let no_primary = mapped(
            tumblr,
            claims(
                serde_json::json!({"response": {"user": {"name": "x", "blogs": [
                    {"name": "x", "uuid": "t:x", "primary": false}
                ]}}}),
            ),
        );
        assert!(no_primary.get("sub").is_none(), "no stable id, no sub");
        let odd = mapped(tumblr, claims(serde_json::json!({"response": []})));
        assert!(odd.get("sub").is_none());
    }

    #[test]
    fn trello_maps_the_member() {
        let mapped_claims = mapped(
            &PRESETS[3],
            claims(serde_json::json!({"id": "5abc", "avatarUrl": null, "email": "a@b.example"})),
        );
        assert_eq!(mapped_claims["sub"], "5abc");
        assert!(
            mapped_claims.get("picture").is_none(),
            "no avatar, no picture"
        );
        assert_eq!(mapped_claims["email_verified"], false);
    }
}
