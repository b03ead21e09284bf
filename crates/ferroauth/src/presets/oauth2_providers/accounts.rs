//! Login with Amazon.

use super::super::entry::{Endpoints, Preset, ProfileMap, Verified};
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;

/// The presets of this file.
pub(crate) const PRESETS: &[Preset] = &[
    // Login with Amazon: the profile is `GET /user/profile` (Login with Amazon developer
    // guide, "Obtain Customer Profile Information"), which answers `user_id`, `name` and
    // `email` for the scope `profile`.
    Preset {
        name: "amazon",
        display_name: "Login with Amazon",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://www.amazon.com/ap/oa",
            token: "https://api.amazon.com/auth/o2/token",
            userinfo: Some("https://api.amazon.com/user/profile"),
            revocation: None,
        },
        api_base: Some("https://api.amazon.com/"),
        scope: Some("profile"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        profile: ProfileMap {
            sub: &["/user_id"],
            claims: &[("name", &["/name"])],
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        quirks: "client_secret_post; scope `profile` (`user_id`, `name`, `email`; `profile:user_id` for the id alone); the address is not said to be verified",
        trusted: "`sub` (`amzn1.account.…`); `email` never",
        ..Preset::OAUTH2
    },
];
