//! Self-hosted OpenID Connect servers: authentik, ZITADEL, Authelia, Kanidm, Dex, Ory
//! Hydra, FusionAuth, Casdoor and Gitea (also Forgejo).
//!
//! Each instance is its own issuer under `preset_options.base_url`; a preset says which
//! path the product puts after it, and everything else comes from discovery. The ID token
//! is validated against the discovered issuer exactly, so a server configured with
//! another public URL than `base_url` fails discovery rather than being trusted.

use super::entry::{Endpoints, Offline, Preset, ProfileMap};
use crate::settings::CodeChallengeMethod;

/// Discovery at these metadata URLs, with a userinfo endpoint.
const fn discovery(metadata: &'static [&'static str]) -> Endpoints {
    Endpoints::Discovery {
        metadata,
        userinfo: true,
    }
}

/// Discovery at the root of `base_url`, the issuer itself.
const AT_BASE: Endpoints = discovery(&["<base_url>/.well-known/openid-configuration"]);

/// The trust column of a server that says whether it verified the address.
const TRUSTED: &str = "`sub` (per instance); `email` only with `email_verified`";

/// The presets of this file.
pub(crate) const PRESETS: &[Preset] = &[
    // authentik docs, "OAuth2 Provider": each application's provider is its own issuer,
    // `https://<host>/application/o/<application slug>/`, with its discovery document
    // under it.
    Preset {
        name: "authentik",
        display_name: "authentik",
        options: &["base_url", "slug"],
        endpoints: discovery(&["<base_url>/application/o/<slug>/.well-known/openid-configuration"]),
        endpoints_note: "`/application/o/authorize/`, `/application/o/token/`, `/application/o/userinfo/` (shared by all applications)",
        quirks: "issuer per application, `<base_url>/application/o/<slug>/` with its trailing slash, compared exactly; `slug` required",
        trusted: TRUSTED,
        ..Preset::OIDC
    },
    // ZITADEL docs, "OpenID Connect endpoints": the instance's domain is the issuer
    // (`https://<instance>.zitadel.cloud` or a custom domain), discovery at its root.
    Preset {
        name: "zitadel",
        display_name: "ZITADEL",
        options: &["base_url", "offline"],
        endpoints: AT_BASE,
        offline: Offline::Scope("offline_access"),
        endpoints_note: "`/oauth/v2/authorize`, `/oauth/v2/token`, `/oidc/v1/userinfo`",
        quirks: "issuer = the instance's domain (`base_url`, ZITADEL Cloud or self-hosted); `offline = true` adds `offline_access` for a refresh token; project roles in `urn:zitadel:iam:org:project:roles` only when the app asks for them",
        trusted: TRUSTED,
        ..Preset::OIDC
    },
    // Authelia docs, "OpenID Connect 1.0 Provider" integration guide: discovery at the
    // root of the Authelia URL, client authentication `client_secret_basic` by default.
    Preset {
        name: "authelia",
        display_name: "Authelia",
        options: &["base_url", "offline"],
        endpoints: AT_BASE,
        offline: Offline::Scope("offline_access"),
        endpoints_note: "`/api/oidc/authorization`, `/api/oidc/token`, `/api/oidc/userinfo`",
        quirks: "issuer = the Authelia URL (`base_url`); recent versions keep `email`, `name`, ... out of the ID token by default, so userinfo is fetched (not confirmed which version changed it); `offline = true` adds `offline_access` (the client must be allowed the `refresh_token` grant)",
        trusted: TRUSTED,
        ..Preset::OIDC
    },
    // Kanidm book, "OAuth2" integrations: each OAuth2 client is its own issuer,
    // `https://<host>/oauth2/openid/<client_id>`; PKCE S256 is required and ID tokens are
    // ES256 unless the client is set to allow RS256 ("legacy crypto").
    Preset {
        name: "kanidm",
        display_name: "Kanidm",
        options: &["base_url"],
        endpoints: discovery(&[
            "<base_url>/oauth2/openid/<client_id>/.well-known/openid-configuration",
        ]),
        pkce: Some(CodeChallengeMethod::S256),
        endpoints_note: "`/ui/oauth2`, `/oauth2/token`, `/oauth2/openid/<client_id>/userinfo`",
        quirks: "issuer per client, `<base_url>/oauth2/openid/<client_id>`; PKCE S256 required; ID tokens ES256 (as discovery advertises; RS256 only with the client's legacy-crypto setting)",
        trusted: "`sub` (the account's UUID, per instance); `email` only with `email_verified`",
        ..Preset::OIDC
    },
    // Dex docs, "Using Dex" and "OpenID Connect": the issuer is the `issuer` of Dex's
    // configuration (often with a path such as `/dex`); `offline_access` asks for a
    // refresh token.
    Preset {
        name: "dex",
        display_name: "Dex",
        options: &["base_url", "offline"],
        endpoints: AT_BASE,
        offline: Offline::Scope("offline_access"),
        endpoints_note: "`base_url` = Dex's configured `issuer`, path included (`https://host/dex`)",
        quirks: "issuer with the path Dex's configuration gives it; `sub` is an opaque encoding of the upstream connector's user id and the connector id (a user is per connector); `offline = true` adds `offline_access`",
        trusted: "`sub` (per connector); `email` only with `email_verified` (as the upstream connector says)",
        ..Preset::OIDC
    },
    // Ory docs, "OAuth2 and OpenID Connect" (Ory Hydra and Ory Network): the issuer is
    // Hydra's `urls.self.issuer` or the project's URL
    // (`https://<slug>.projects.oryapis.com`); a refresh token needs `offline_access`.
    Preset {
        name: "ory-hydra",
        display_name: "Ory Hydra / Ory Network",
        options: &["base_url", "offline"],
        endpoints: AT_BASE,
        offline: Offline::Scope("offline_access"),
        endpoints_note: "`/oauth2/auth`, `/oauth2/token`, `/userinfo`",
        quirks: "issuer = Hydra's `urls.self.issuer` or the Ory Network project URL (`base_url`); `offline = true` adds `offline_access`; the login and consent apps decide which claims the ID token carries",
        trusted: TRUSTED,
        ..Preset::OIDC
    },
    // FusionAuth docs, "OAuth endpoints", OpenID Connect discovery: the tenant's document
    // with `tenantId` (as a query parameter here: with the id as a path segment the URL
    // would not imply the issuer, OpenID Connect Discovery §4.3; not confirmed that every
    // version reads the parameter), the default tenant's without; the issuer is the
    // tenant's "Issuer" setting.
    Preset {
        name: "fusionauth",
        display_name: "FusionAuth",
        options: &["base_url", "tenant", "offline"],
        endpoints: discovery(&[
            "<base_url>/.well-known/openid-configuration?tenantId=<tenant>",
            "<base_url>/.well-known/openid-configuration",
        ]),
        offline: Offline::Scope("offline_access"),
        endpoints_note: "`/oauth2/authorize`, `/oauth2/token`, `/oauth2/userinfo`; `tenant` = a tenant id, for an instance with more than one",
        quirks: "issuer per tenant (its \"Issuer\" setting, which must be the instance's URL: the default `acme.com` fails discovery); `tenant` picks the tenant's discovery document; `offline = true` adds `offline_access`",
        trusted: TRUSTED,
        ..Preset::OIDC
    },
    // Casdoor docs, "OIDC client" / "OAuth 2.0": discovery at the root of the Casdoor
    // origin; ID tokens RS256.
    Preset {
        name: "casdoor",
        display_name: "Casdoor",
        options: &["base_url"],
        endpoints: AT_BASE,
        endpoints_note: "`/login/oauth/authorize`, `/api/login/oauth/access_token`, `/api/userinfo`",
        quirks: "issuer = Casdoor's configured origin (`base_url`); non-standard endpoint paths (from discovery); `email_verified` as Casdoor says (not confirmed that every version sends it)",
        trusted: TRUSTED,
        ..Preset::OIDC
    },
    // Gitea docs, "OAuth2 provider" (Forgejo's "OAuth2 provider" page says the same):
    // OpenID Connect discovery at `<ROOT_URL>/.well-known/openid-configuration`, the
    // issuer being `ROOT_URL` with its trailing slash; the REST API under `/api/v1/`.
    Preset {
        name: "gitea",
        display_name: "Gitea / Forgejo",
        options: &["base_url"],
        endpoints: AT_BASE,
        api_base: Some("<base_url>/api/v1/"),
        profile: ProfileMap {
            claims: &[("preferred_username", &["/nickname"])],
            ..ProfileMap::NONE
        },
        endpoints_note: "`/login/oauth/authorize`, `/login/oauth/access_token`, `/login/oauth/userinfo`",
        quirks: "also Forgejo; issuer = `ROOT_URL` with its trailing slash, compared exactly; `nickname` (the login name) as `preferred_username`",
        trusted: "`sub` (numeric user id, per instance); `email` only with `email_verified`",
        ..Preset::OIDC
    },
];
