//! [`Profile`]: the user as every provider describes them, in one shape.

use serde::Serialize;
use serde_json::Value;

use crate::Claims;

/// The user a login found, normalized from the claims (ID token and userinfo), a plain
/// OAuth 2.0 profile endpoint (GitHub's `id`, `login`, `avatar_url`) or an OAuth 1.0a token
/// response (`user_id`, `screen_name`), so that an app can treat every provider alike.
///
/// Only [`sub`](Self::sub), together with the client's name, identifies a user for good:
/// names, usernames and even e-mail addresses change and can be reused. `email` is only
/// trustworthy for account linking when [`email_verified`](Self::email_verified) is true.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Profile {
    /// The provider's stable id of the user (`sub`, else `id` or `user_id`, as a string).
    pub sub: Option<String>,
    /// The display name.
    pub name: Option<String>,
    /// The e-mail address as the provider gave it.
    pub email: Option<String>,
    /// Whether the provider vouches for the address (`email_verified` true or `"true"`);
    /// false when it does not say.
    pub email_verified: bool,
    /// A picture URL (`picture`, `avatar_url` or `profile_image_url_https`).
    pub picture: Option<String>,
    /// The user's handle (`preferred_username`, `login`, `screen_name` or `username`).
    pub preferred_username: Option<String>,
    /// Every claim as received.
    pub raw: Claims,
}

impl Profile {
    /// The profile in `claims`.
    pub fn from_claims(claims: &Claims) -> Self {
        let text = |keys: &[&str]| {
            keys.iter().find_map(|k| match claims.get(*k)? {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        let email_verified = email_verified(claims);
        Self {
            sub: text(&["sub", "id", "user_id"]),
            name: text(&["name"]),
            email: text(&["email"]),
            email_verified,
            picture: text(&["picture", "avatar_url", "profile_image_url_https"]),
            preferred_username: text(&["preferred_username", "login", "screen_name", "username"]),
            raw: claims.clone(),
        }
    }

    /// A name to show: the display name, else the handle, the e-mail address or the id.
    pub fn display_name(&self) -> Option<&str> {
        self.name
            .as_deref()
            .or(self.preferred_username.as_deref())
            .or(self.email.as_deref())
            .or(self.sub.as_deref())
    }
}

/// Whether the claims vouch for the address: `email_verified` true, or the string
/// `"true"` (Apple); false when they do not say.
pub(crate) fn email_verified(claims: &Claims) -> bool {
    match claims.get("email_verified") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Who a login's claims name for good: the authority that vouches for the user (the
/// `iss` of an OpenID Connect login, else `client:<name>`, for a provider with no issuer)
/// and its subject (`sub`, else a profile's `id` or `user_id`, numbers as text). `None`
/// when the claims name no subject.
pub(crate) fn subject_of(client: &str, claims: &Claims) -> Option<(String, String)> {
    let text = |name: &str| match claims.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let sub = text("sub")
        .or_else(|| text("id"))
        .or_else(|| text("user_id"))?;
    let authority = match claims.get("iss").and_then(Value::as_str) {
        Some(iss) if !iss.is_empty() => iss.to_owned(),
        _ => format!("client:{client}"),
    };
    Some((authority, sub))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(value: Value) -> Claims {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn openid_connect_claims() {
        let p = Profile::from_claims(&claims(serde_json::json!({
            "sub": "248289761001", "name": "Jane Doe", "email": "jane@example.com",
            "email_verified": true, "picture": "https://example.com/jane.jpg",
            "preferred_username": "j.doe"
        })));
        assert_eq!(p.sub.as_deref(), Some("248289761001"));
        assert_eq!(p.display_name(), Some("Jane Doe"));
        assert!(p.email_verified);
        assert_eq!(p.preferred_username.as_deref(), Some("j.doe"));
        assert_eq!(p.raw["sub"], "248289761001");
    }

    #[test]
    fn github_and_twitter_shapes() {
        let github = Profile::from_claims(&claims(serde_json::json!({
            "id": 583231, "login": "octocat", "email": null,
            "avatar_url": "https://avatars.githubusercontent.com/u/583231"
        })));
        assert_eq!(github.sub.as_deref(), Some("583231"));
        assert_eq!(github.email, None);
        assert!(!github.email_verified, "no claim, no trust");
        assert_eq!(github.display_name(), Some("octocat"));
        assert!(github.picture.unwrap().contains("583231"));
        let twitter = Profile::from_claims(&claims(serde_json::json!({
            "user_id": "783214", "screen_name": "twitterapi"
        })));
        assert_eq!(twitter.sub.as_deref(), Some("783214"));
        assert_eq!(twitter.preferred_username.as_deref(), Some("twitterapi"));
        let apple = Profile::from_claims(&claims(serde_json::json!({
            "sub": "001", "email": "x@privaterelay.appleid.com", "email_verified": "true"
        })));
        assert!(apple.email_verified, "Apple sends the string \"true\"");
    }

    #[test]
    fn subjects_are_the_issuer_or_the_client_with_the_id() {
        let oidc = claims(serde_json::json!({"iss": "https://idp.example", "sub": "u1"}));
        assert_eq!(
            subject_of("google", &oidc),
            Some(("https://idp.example".into(), "u1".into()))
        );
        let github = claims(serde_json::json!({"id": 583231, "login": "octocat"}));
        assert_eq!(
            subject_of("github", &github),
            Some(("client:github".into(), "583231".into()))
        );
        let twitter = claims(serde_json::json!({"user_id": "783214"}));
        assert_eq!(subject_of("x", &twitter).unwrap().1, "783214");
        let none = claims(serde_json::json!({"iss": "https://idp.example", "sub": ""}));
        assert_eq!(subject_of("x", &none), None, "an empty sub names nobody");
    }
}
