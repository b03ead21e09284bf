//! Enterprise identity services: AWS Cognito user pools, Azure AD B2C, PingOne and
//! OneLogin (OpenID Connect, found by discovery from the options that name the account),
//! and WorkOS AuthKit (OAuth 2.0 with the user in the token response).

use super::entry::{
    Deviations, Endpoints, Offline, Preset, ProfileMap, TokenRequestBody, Verified,
};
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;

/// Discovery at these metadata URLs, with a userinfo endpoint.
const fn discovery(metadata: &'static [&'static str]) -> Endpoints {
    Endpoints::Discovery {
        metadata,
        userinfo: true,
    }
}

/// The presets of this file.
pub(crate) const PRESETS: &[Preset] = &[
    // Amazon Cognito developer guide, "Understanding the identity (ID) token" and "User
    // pool endpoints": the issuer is `https://cognito-idp.<region>.amazonaws.com/<user
    // pool id>`, whose discovery document names the pool's hosted-UI domain for
    // `/oauth2/authorize`, `/oauth2/token` and `/oauth2/userInfo`.
    Preset {
        name: "cognito",
        display_name: "Amazon Cognito",
        options: &["region", "user_pool_id"],
        endpoints: discovery(&[
            "https://cognito-idp.<region>.amazonaws.com/<user_pool_id>/.well-known/openid-configuration",
        ]),
        profile: ProfileMap {
            claims: &[("preferred_username", &["/cognito:username", "/username"])],
            ..ProfileMap::NONE
        },
        endpoints_note: "the hosted-UI domain's `/oauth2/authorize`, `/oauth2/token`, `/oauth2/userInfo` (from discovery: no domain option needed)",
        quirks: "issuer per user pool (`region`, `user_pool_id`, both required); the endpoints are on the pool's domain, named by discovery; userinfo's `email_verified` is the string `\"true\"` (read as true only when it says so); `cognito:username` as `preferred_username`",
        trusted: "`sub` (per user pool); `email` only with `email_verified`",
        ..Preset::OIDC
    },
    // Azure AD B2C docs, "OpenID Connect in Azure Active Directory B2C" and "Token
    // compatibility settings": a user flow's metadata is at
    // `https://<tenant>.b2clogin.com/<tenant>/v2.0/.well-known/openid-configuration?p=<policy>`
    // (the tenant by name or id, the policy as `p`); its issuer is
    // `https://<tenant>.b2clogin.com/<tenant id>/v2.0/`. With the tenant id in the URL,
    // the metadata names the issuer its URL implies (OpenID Connect Discovery §4.3), which
    // the `<tenant>.onmicrosoft.com/<policy>` form would not. User flows have no userinfo
    // endpoint; the addresses are in the `emails` claim.
    Preset {
        name: "azure-ad-b2c",
        display_name: "Azure AD B2C",
        options: &["tenant", "tenant_id", "policy", "offline"],
        endpoints: Endpoints::Discovery {
            metadata: &[
                "https://<tenant>.b2clogin.com/<tenant_id>/v2.0/.well-known/openid-configuration?p=<policy>",
            ],
            userinfo: false,
        },
        scope: Some("openid"),
        offline: Offline::Scope("offline_access"),
        profile: ProfileMap {
            claims: &[("email", &["/emails/0"])],
            email_verified: Verified::Never,
            ..ProfileMap::NONE
        },
        endpoints_note: "`tenant` = the tenant's name (`contoso` of `contoso.onmicrosoft.com`), `tenant_id` = its directory id, `policy` = the user flow (`B2C_1_signupsignin`)",
        quirks: "metadata per tenant and policy (all three required), the policy as `?p=`; issuer `https://<tenant>.b2clogin.com/<tenant_id>/v2.0/` (the default \"Issuer (iss) claim\" setting); no userinfo (everything in the ID token); `emails` claim (first as `email`), not said to be verified; `offline = true` adds `offline_access`",
        trusted: "`sub` (object id, per tenant); `email` never (B2C sends no `email_verified`)",
        ..Preset::OIDC
    },
    // PingOne platform API docs, "OpenID Connect discovery": per environment at
    // `https://auth.pingone.<region>/<environmentId>/as/.well-known/openid-configuration`,
    // the region being the top-level domain of the environment's geography.
    Preset {
        name: "pingone",
        display_name: "PingOne",
        options: &["region", "environment_id"],
        defaults: &[("region", "com")],
        endpoints: discovery(&[
            "https://auth.pingone.<region>/<environment_id>/as/.well-known/openid-configuration",
        ]),
        endpoints_note: "`region`: `com` (North America), `eu`, `ca`, `asia`, `com.au`",
        quirks: "issuer per environment, `https://auth.pingone.<region>/<environment_id>/as` (`environment_id` required)",
        trusted: "`sub` (user id, per environment); `email` only with `email_verified`",
        ..Preset::OIDC
    },
    // OneLogin developer docs, "OpenID Connect API" (version 2): the issuer is
    // `https://<subdomain>.onelogin.com/oidc/2`, discovery under it.
    Preset {
        name: "onelogin",
        display_name: "OneLogin",
        options: &["subdomain"],
        endpoints: discovery(&[
            "https://<subdomain>.onelogin.com/oidc/2/.well-known/openid-configuration",
        ]),
        endpoints_note: "`/oidc/2/auth`, `/oidc/2/token`, `/oidc/2/me`",
        quirks: "issuer per account, `https://<subdomain>.onelogin.com/oidc/2` (`subdomain` required); the app's token endpoint authentication (Basic or POST) as discovery and the app's settings say",
        trusted: "`sub` (user id, per account); `email` only with `email_verified`",
        ..Preset::OIDC
    },
    // WorkOS docs, "AuthKit" API reference, "Get an authorization URL" and "Authenticate
    // with code": `provider=authkit` on `/user_management/authorize`; the code is
    // exchanged at `/user_management/authenticate` with `client_id` and `client_secret`
    // in a JSON body, and the answer carries the `user` object beside the tokens. (WorkOS
    // Connect's OpenID Connect endpoints are for third-party apps of an AuthKit domain,
    // not for an app's own login.)
    Preset {
        name: "workos",
        display_name: "WorkOS AuthKit",
        endpoints: Endpoints::OAuth2 {
            authorize: "https://api.workos.com/user_management/authorize",
            token: "https://api.workos.com/user_management/authenticate",
            userinfo: None,
            revocation: None,
        },
        api_base: Some("https://api.workos.com/"),
        token_auth: Some(TokenEndpointAuthMethod::ClientSecretPost),
        authorize_params: &[("provider", "authkit")],
        profile: ProfileMap {
            sub: &["/user/id"],
            claims: &[
                ("email", &["/user/email"]),
                ("picture", &["/user/profile_picture_url"]),
            ],
            name_parts: Some(("/user/first_name", "/user/last_name")),
            email_verified: Verified::At("/user/email_verified"),
            ..ProfileMap::NONE
        },
        deviations: Deviations {
            token_request: TokenRequestBody::Json,
            ..Deviations::NONE
        },
        endpoints_note: "no profile endpoint: the user is in the token response",
        quirks: "`provider=authkit` on the authorization request; token request as JSON with `client_id` and `client_secret` in it; the profile is the token response's `user` (`id`, `email`, `email_verified`, names, `profile_picture_url`); `organization_id` kept in the token's extra fields",
        trusted: "`sub` (`user_…` id); `email` only with `email_verified`",
        ..Preset::OAUTH2
    },
];
