//! Tokens: what a login returns and what API calls are made with.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Secret;

/// A finished login.
#[derive(Debug, Clone)]
pub struct Login {
    /// The client's registered name.
    pub client: String,
    /// The token.
    pub token: Token,
    /// The user's claims: the validated ID token's claims merged with userinfo (OpenID
    /// Connect), the profile from `userinfo_endpoint` (plain OAuth 2.0), or the extra
    /// fields of the token response with the `userinfo_endpoint` profile, when there is
    /// one, over them (OAuth 1.0a); for OAuth 2.0 without an ID token or a userinfo
    /// endpoint, the token response's fields when a `userinfo` hook maps them (Notion's
    /// preset does).
    pub userinfo: Claims,
    /// Where the app asked to send the user once the login completes
    /// ([`crate::OAuthClient::authorize_redirect_returning`]).
    pub return_to: Option<String>,
}

/// The claims of a user: the ID token's claims merged with the userinfo response, or the
/// profile a plain OAuth 2.0 provider returns, or the fields of an OAuth 1.0a token
/// response.
pub type Claims = Map<String, Value>;

/// A token from either protocol. Its JSON form is the protocol's token object with a
/// `protocol` member (`"oauth2"` or `"oauth1"`) first.
#[derive(Clone, Serialize, PartialEq)]
#[serde(tag = "protocol", rename_all = "lowercase")]
pub enum Token {
    /// An OAuth 2.0 (or OpenID Connect) token.
    #[serde(rename = "oauth2")]
    OAuth2(OAuth2Token),
    /// OAuth 1.0a token credentials.
    #[serde(rename = "oauth1")]
    OAuth1(OAuth1Token),
}

impl Token {
    /// The token type: `Bearer` (or what the provider said) for OAuth 2.0, `OAuth1` for
    /// OAuth 1.0a.
    pub fn token_type(&self) -> &str {
        match self {
            Token::OAuth2(t) => &t.token_type,
            Token::OAuth1(_) => "OAuth1",
        }
    }

    /// When the access token expires, in Unix seconds, if known.
    pub fn expires_at(&self) -> Option<u64> {
        match self {
            Token::OAuth2(t) => t.expires_at,
            Token::OAuth1(_) => None,
        }
    }

    /// The granted scope, if the provider said.
    pub fn scope(&self) -> Option<&str> {
        match self {
            Token::OAuth2(t) => t.scope.as_deref(),
            Token::OAuth1(_) => None,
        }
    }

    /// The OAuth 2.0 token, if this is one.
    pub fn as_oauth2(&self) -> Option<&OAuth2Token> {
        match self {
            Token::OAuth2(t) => Some(t),
            Token::OAuth1(_) => None,
        }
    }

    /// The OAuth 1.0a token, if this is one.
    pub fn as_oauth1(&self) -> Option<&OAuth1Token> {
        match self {
            Token::OAuth1(t) => Some(t),
            Token::OAuth2(_) => None,
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::OAuth2(t) => t.fmt(f),
            Token::OAuth1(t) => t.fmt(f),
        }
    }
}

/// An OAuth 2.0 access token with what came with it (RFC 6749 §5.1).
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct OAuth2Token {
    /// The access token.
    pub access_token: Secret,
    /// The token type. `bearer` in any case is normalised to `Bearer` (RFC 6749 §5.1 says
    /// the value is case-insensitive).
    pub token_type: String,
    /// The refresh token, if one was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// Expiry in Unix seconds, computed from `expires_in` (or a provider's `expires_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The granted scope, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The raw ID token (OpenID Connect), if any. It is a credential too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Secret>,
    /// Every other member of the token response, as sent.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl OAuth2Token {
    /// Whether the token expires within `leeway_secs` of `now` (Unix seconds).
    pub fn expires_within(&self, now: u64, leeway_secs: u64) -> bool {
        self.expires_at
            .is_some_and(|at| at <= now.saturating_add(leeway_secs))
    }
}

impl fmt::Debug for OAuth2Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Extra members may hold provider secrets of their own (e.g. Salesforce's
        // `signature`): show their names, never their values.
        f.debug_struct("OAuth2Token")
            .field("token_type", &self.token_type)
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("has_id_token", &self.id_token.is_some())
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Reading a [`Token`]: written by hand because serde's derive for an internally tagged enum
/// first copies the whole object into a buffer of its own (every string, the ID token's
/// kilobyte included) before it looks at the tag, and a stored token is read on every API
/// call. `Serialize` writes the tag first, so the tag is read first and the rest of the
/// object goes straight to the variant's own reader; an object whose tag comes later (one
/// written by other code) is buffered, as before.
impl<'de> Deserialize<'de> for Token {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TokenVisitor)
    }
}

struct TokenVisitor;

impl<'de> serde::de::Visitor<'de> for TokenVisitor {
    type Value = Token;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a token object with its `protocol`")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Token, A::Error> {
        use serde::de::Error as _;
        use serde::de::value::MapAccessDeserializer;
        let Some(first) = map.next_key::<String>()? else {
            return Err(A::Error::missing_field("protocol"));
        };
        if first == "protocol" {
            let protocol: String = map.next_value()?;
            let rest = MapAccessDeserializer::new(map);
            return match protocol.as_str() {
                "oauth2" => OAuth2Token::deserialize(rest).map(Token::OAuth2),
                "oauth1" => OAuth1Token::deserialize(rest).map(Token::OAuth1),
                other => Err(A::Error::unknown_variant(other, PROTOCOLS)),
            };
        }
        // The tag is elsewhere: the whole object, then the variant from it.
        let mut object = Map::new();
        object.insert(first, map.next_value()?);
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            object.insert(key, value);
        }
        let protocol = match object.remove("protocol") {
            Some(Value::String(protocol)) => protocol,
            Some(_) => return Err(A::Error::custom("`protocol` is not a string")),
            None => return Err(A::Error::missing_field("protocol")),
        };
        let object = Value::Object(object);
        match protocol.as_str() {
            "oauth2" => OAuth2Token::deserialize(object).map(Token::OAuth2),
            "oauth1" => OAuth1Token::deserialize(object).map(Token::OAuth1),
            other => return Err(A::Error::unknown_variant(other, PROTOCOLS)),
        }
        .map_err(A::Error::custom)
    }
}

const PROTOCOLS: &[&str] = &["oauth2", "oauth1"];

/// OAuth 1.0a token credentials (RFC 5849 §2.3).
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct OAuth1Token {
    /// `oauth_token`.
    pub token: Secret,
    /// `oauth_token_secret`.
    pub token_secret: Secret,
    /// Every other field of the response (`user_id`, `screen_name`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

impl fmt::Debug for OAuth1Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth1Token")
            .field("extra", &self.extra)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> OAuth2Token {
        let mut extra = Map::new();
        extra.insert("signature".into(), Value::String("topsecret".into()));
        OAuth2Token {
            access_token: Secret::new("at-123"),
            token_type: "Bearer".into(),
            refresh_token: Some(Secret::new("rt-456")),
            expires_at: Some(1000),
            scope: Some("openid".into()),
            id_token: Some(Secret::new("eyJ.x.y")),
            extra,
        }
    }

    #[test]
    fn tokens_read_back_whatever_the_order_of_their_members() {
        let t = Token::OAuth2(sample());
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.starts_with("{\"protocol\":\"oauth2\","), "{json}");
        // The tag last, as other code may write it.
        let mut object: Map<String, Value> = serde_json::from_str(&json).unwrap();
        object.remove("protocol");
        let mut moved = serde_json::to_string(&object).unwrap();
        moved.insert_str(moved.len() - 1, ",\"protocol\":\"oauth2\"");
        assert_eq!(serde_json::from_str::<Token>(&moved).unwrap(), t);
        let t1 = Token::OAuth1(OAuth1Token {
            token: Secret::new("tok"),
            token_secret: Secret::new("shh"),
            extra: BTreeMap::from([("user_id".to_owned(), "42".to_owned())]),
        });
        let json = serde_json::to_string(&t1).unwrap();
        assert_eq!(serde_json::from_str::<Token>(&json).unwrap(), t1);
        let later =
            r#"{"token":"tok","token_secret":"shh","extra":{"user_id":"42"},"protocol":"oauth1"}"#;
        assert_eq!(serde_json::from_str::<Token>(later).unwrap(), t1);
    }

    #[test]
    fn tokens_without_a_known_protocol_are_refused() {
        for (json, says) in [
            (r#"{}"#, "missing field `protocol`"),
            (
                r#"{"access_token":"a","token_type":"Bearer"}"#,
                "missing field `protocol`",
            ),
            (
                r#"{"protocol":"saml","access_token":"a"}"#,
                "unknown variant `saml`",
            ),
            (
                r#"{"access_token":"a","protocol":"saml"}"#,
                "unknown variant `saml`",
            ),
            (r#"{"access_token":"a","protocol":7}"#, "not a string"),
            (r#"{"protocol":"oauth2"}"#, "missing field `access_token`"),
            (r#"[1]"#, "invalid type"),
        ] {
            let error = serde_json::from_str::<Token>(json).unwrap_err().to_string();
            assert!(error.contains(says), "{json}: {error}");
        }
    }

    #[test]
    fn debug_never_shows_secret_values() {
        let t = Token::OAuth2(sample());
        let shown = format!("{t:?}");
        for secret in ["at-123", "rt-456", "eyJ.x.y", "topsecret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let t1 = Token::OAuth1(OAuth1Token {
            token: Secret::new("tok"),
            token_secret: Secret::new("shh"),
            extra: BTreeMap::from([("screen_name".to_owned(), "alice".to_owned())]),
        });
        let shown = format!("{t1:?}");
        assert!(!shown.contains("shh") && !shown.contains("tok\""));
        assert!(shown.contains("alice"));
    }

    #[test]
    fn round_trips_through_json() {
        let t = Token::OAuth2(sample());
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.contains("\"protocol\":\"oauth2\""));
        let back: Token = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn expiry_with_leeway() {
        let t = sample();
        assert!(!t.expires_within(900, 60));
        assert!(t.expires_within(940, 60));
        assert!(t.expires_within(2000, 0));
    }
}
