//! The shape of one preset: a `const` value that says everything the preset knows about
//! its provider, as data. `build` turns it into a client's default settings and its
//! [`super::deviations::Active`] extension points; the guide's presets chapter
//! ([`crate::guide::presets`]) is rendered from it.
//!
//! Text fields may name placeholders in angle brackets, which no URL can contain:
//! `<base_url>`, `<domain>`, `<tenant>`, ... (a `preset_options` value, checked as its
//! kind requires, or the preset's default for it), and `<client>` (the client's name in
//! settings), `<client_id>` and `<crate_version>`.

use serde_json::{Map, Value};

use super::Protocol;
use crate::Claims;
use crate::proto::oauth2::client_auth::TokenEndpointAuthMethod;
use crate::settings::CodeChallengeMethod;

/// One provider preset: its name in settings, what it fills in, its deviations from the
/// specifications and how it is documented.
#[derive(Clone, Copy)]
pub struct Preset {
    /// The name settings use (`preset = "github"`).
    pub name: &'static str,
    /// The provider's name for people ("GitHub").
    pub display_name: &'static str,
    /// The protocol.
    pub protocol: Protocol,
    /// The `preset_options` this preset reads; others are refused.
    pub options: &'static [&'static str],
    /// Values for options the settings leave out (`("tenant", "common")`); an option a
    /// template needs without a default is required.
    pub defaults: &'static [(&'static str, &'static str)],
    /// The endpoints, or the discovery URL.
    pub endpoints: Endpoints,
    /// The API base URL (`api_base_url`), when the provider has one.
    pub api_base: Option<&'static str>,
    /// The default scope, space-separated.
    pub scope: Option<&'static str>,
    /// Token endpoint authentication, when the provider wants one it does not advertise.
    pub token_auth: Option<TokenEndpointAuthMethod>,
    /// PKCE, when the provider requires or refuses it.
    pub pkce: Option<CodeChallengeMethod>,
    /// Whether the ID token carries the `nonce` sent (`Some(false)`: LinkedIn's does not).
    pub nonce: Option<bool>,
    /// Other spellings of the issuer that ID tokens may use (Google's scheme-less one).
    pub issuer_aliases: &'static [&'static str],
    /// Authorization request parameters; one naming an option not given is left out.
    pub authorize_params: &'static [(&'static str, &'static str)],
    /// Token request parameters (TikTok's `client_key`); one naming an option not given
    /// is left out.
    pub token_params: &'static [(&'static str, &'static str)],
    /// The ID token algorithms accepted, when discovery's list is not the whole story
    /// (LINE signs web logins' ID tokens HS256 with the channel secret, which discovery
    /// does not advertise); empty: the provider's advertised asymmetric ones.
    pub id_token_algs: &'static [&'static str],
    /// Headers on every API call; one naming an option not given is left out.
    pub api_headers: &'static [(&'static str, &'static str)],
    /// What `preset_options.offline = true` does.
    pub offline: Offline,
    /// The scope values for which the authorization response must be a form POST
    /// (Apple: `name` or `email`).
    pub form_post_for: &'static [&'static str],
    /// The provider's profile mapped to the standard claims.
    pub profile: ProfileMap,
    /// How the provider departs from the specifications.
    pub deviations: Deviations,
    /// Said after the endpoints in the documentation table (paths discovery finds, ...).
    pub endpoints_note: &'static str,
    /// The quirks handled, for the documentation table.
    pub quirks: &'static str,
    /// Which profile fields can be trusted for linking accounts.
    pub trusted: &'static str,
}

impl std::fmt::Debug for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preset")
            .field("name", &self.name)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl Preset {
    /// A plain OAuth 2.0 preset with nothing set yet: entries start from it with
    /// `..Preset::OAUTH2`.
    pub const OAUTH2: Preset = Preset {
        name: "",
        display_name: "",
        protocol: Protocol::OAuth2,
        options: &[],
        defaults: &[],
        endpoints: Endpoints::OAuth2 {
            authorize: "",
            token: "",
            userinfo: None,
            revocation: None,
        },
        api_base: None,
        scope: None,
        token_auth: None,
        pkce: None,
        nonce: None,
        issuer_aliases: &[],
        authorize_params: &[],
        token_params: &[],
        id_token_algs: &[],
        api_headers: &[],
        offline: Offline::Unsupported,
        form_post_for: &[],
        profile: ProfileMap::NONE,
        deviations: Deviations::NONE,
        endpoints_note: "",
        quirks: "",
        trusted: "",
    };

    /// An OpenID Connect preset found by discovery, with nothing set yet.
    pub const OIDC: Preset = Preset {
        protocol: Protocol::OpenIdConnect,
        endpoints: Endpoints::Discovery {
            metadata: &[],
            userinfo: true,
        },
        scope: Some("openid profile email"),
        ..Preset::OAUTH2
    };

    /// The endpoints as the documentation table shows them, rendered from the entry.
    pub fn endpoints_doc(&self) -> String {
        let code = |url: &str| format!("`{url}`");
        let mut parts: Vec<String> = Vec::new();
        match self.endpoints {
            Endpoints::OAuth2 {
                authorize,
                token,
                userinfo,
                revocation: _,
            } => {
                parts.push(code(authorize));
                parts.push(code(token));
                if let Some(userinfo) = userinfo {
                    parts.push(match self.deviations.userinfo_method {
                        UserinfoMethod::Get => code(userinfo),
                        UserinfoMethod::Post
                        | UserinfoMethod::PostTokenForm
                        | UserinfoMethod::Introspection => format!("`POST {userinfo}`"),
                    });
                }
            }
            Endpoints::OAuth1 {
                request_token,
                authorize,
                access_token,
                userinfo,
            } => {
                parts.push(format!("{} (POST)", code(request_token)));
                parts.push(code(authorize));
                parts.push(code(access_token));
                parts.extend(userinfo.map(code));
            }
            Endpoints::Discovery { metadata, .. } => {
                let urls: Vec<String> = metadata.iter().map(|u| code(u)).collect();
                parts.push(format!("discovery {}", urls.join(" or ")));
            }
        }
        if let Some(lookup) = &self.deviations.email_lookup {
            parts.push(format!("`{}`", lookup.path));
        }
        let mut text = parts.join(", ");
        if let Some(api) = self.api_base {
            text.push_str(&format!("; API `{api}`"));
        }
        if !self.endpoints_note.is_empty() {
            text.push_str("; ");
            text.push_str(self.endpoints_note);
        }
        if !self.defaults.is_empty() {
            let defaults: Vec<String> = self
                .defaults
                .iter()
                .map(|(k, v)| format!("`<{k}>` = `{v}` by default"))
                .collect();
            text.push_str(&format!(" ({})", defaults.join(", ")));
        }
        text
    }
}

/// Where a preset's endpoints are.
#[derive(Debug, Clone, Copy)]
pub enum Endpoints {
    /// OAuth 2.0 endpoints written out.
    OAuth2 {
        /// The authorization endpoint.
        authorize: &'static str,
        /// The token endpoint.
        token: &'static str,
        /// The profile endpoint; `None` when the token response carries the profile.
        userinfo: Option<&'static str>,
        /// The revocation endpoint (RFC 7009).
        revocation: Option<&'static str>,
    },
    /// OAuth 1.0a endpoints (HMAC-SHA1, parameters in the header).
    OAuth1 {
        /// Temporary credentials (POST).
        request_token: &'static str,
        /// Where the user authorizes the request token.
        authorize: &'static str,
        /// Token credentials.
        access_token: &'static str,
        /// The profile endpoint; `None` when the token credentials response carries it.
        userinfo: Option<&'static str>,
    },
    /// OpenID Connect discovery: the first metadata URL whose placeholders all have a
    /// value.
    Discovery {
        /// The metadata URLs, most specific first.
        metadata: &'static [&'static str],
        /// Whether the provider has a userinfo endpoint worth calling (Apple has none).
        userinfo: bool,
    },
}

/// What `preset_options.offline = true` asks of the provider for a refresh token.
#[derive(Debug, Clone, Copy)]
pub enum Offline {
    /// The option is not read.
    Unsupported,
    /// These authorization parameters (replacing the preset's of the same name).
    Params(&'static [(&'static str, &'static str)]),
    /// This scope value added to the scope.
    Scope(&'static str),
}

/// A provider's profile mapped to the standard claims by JSON pointers (RFC 6901) into
/// the profile, the provider's own fields kept beside them. Applied in field order.
#[derive(Debug, Clone, Copy)]
pub struct ProfileMap {
    /// `sub` from the first pointer with a value, replacing any (the provider's stable id).
    pub sub: &'static [&'static str],
    /// Standard claims, each from the first of its pointers with a value, unless present.
    pub claims: &'static [(&'static str, &'static [&'static str])],
    /// `name` from the given and family name at these pointers, unless present.
    pub name_parts: Option<(&'static str, &'static str)>,
    /// What no pointer can say (an avatar URL built from a hash, an id per tenant).
    pub computed: Option<fn(&mut Claims)>,
    /// Where `email_verified` comes from.
    pub email_verified: Verified,
}

impl ProfileMap {
    /// No mapping: the provider's claims are the standard ones already.
    pub const NONE: ProfileMap = ProfileMap {
        sub: &[],
        claims: &[],
        name_parts: None,
        computed: None,
        email_verified: Verified::AsSent,
    };

    /// Whether the map changes nothing.
    pub fn is_none(&self) -> bool {
        self.sub.is_empty()
            && self.claims.is_empty()
            && self.name_parts.is_none()
            && self.computed.is_none()
            && matches!(self.email_verified, Verified::AsSent)
    }
}

/// Where a profile's `email_verified` comes from.
#[derive(Debug, Clone, Copy)]
pub enum Verified {
    /// As the provider sends it (OpenID Connect's own claim).
    AsSent,
    /// Never: the provider does not vouch for the address.
    Never,
    /// The boolean (or `"true"`) at this pointer; false when absent.
    At(&'static str),
    /// Whether the value at this pointer is this text (Zoom's `verified: 1`).
    Equals(&'static str, &'static str),
}

/// A provider's departures from the specifications, each a named extension point that
/// the client consults at one place (see the module documentation for the list).
#[derive(Debug, Clone, Copy)]
pub struct Deviations {
    /// Scopes joined with this character instead of a space (Strava, Facebook).
    pub scope_separator: Option<char>,
    /// How the token request is encoded.
    pub token_request: TokenRequestBody,
    /// The client secret to send.
    pub client_secret: ClientSecret,
    /// Rewrites a token response before it is parsed: errors in the provider's own
    /// shape become RFC 6749 §5.2 errors. Runs before the app's `token_response` hook.
    pub token_response: Option<fn(&mut Map<String, Value>)>,
    /// A check of the token response's own signature.
    pub token_signature: TokenSignature,
    /// Where the granted scope is said when the token response omits it.
    pub granted_scope: GrantedScope,
    /// What the callback's form carries besides the code.
    pub callback_form: CallbackForm,
    /// How the profile endpoint is called.
    pub userinfo_method: UserinfoMethod,
    /// A second profile call for the verified address (GitHub, Bitbucket).
    pub email_lookup: Option<EmailLookup>,
    /// What every API call carries besides the token.
    pub api_request: ApiRequestProof,
    /// Which issuers an ID token (and the discovery metadata) may name.
    pub issuer: IssuerRule,
    /// A claim of the ID token checked against an option.
    pub id_token_claim: IdTokenClaim,
    /// Whether the token response's ID token is the login's identity.
    pub id_token: IdTokenUse,
    /// Parameters of the authorization response that the provider wants back on every
    /// token request (VK ID's `device_id`): sent with the code, kept among the token's
    /// `extra` members (unless the token response names them itself), and sent again
    /// from there with each refresh, whose token keeps them too.
    pub carried_params: &'static [&'static str],
}

impl Deviations {
    /// None: the provider follows the specifications.
    pub const NONE: Deviations = Deviations {
        scope_separator: None,
        token_request: TokenRequestBody::Form,
        client_secret: ClientSecret::Settings,
        token_response: None,
        token_signature: TokenSignature::None,
        granted_scope: GrantedScope::TokenResponse,
        callback_form: CallbackForm::Code,
        userinfo_method: UserinfoMethod::Get,
        email_lookup: None,
        api_request: ApiRequestProof::None,
        issuer: IssuerRule::Exact,
        id_token_claim: IdTokenClaim::None,
        id_token: IdTokenUse::Identity,
        carried_params: &[],
    };
}

/// How the token request is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRequestBody {
    /// A form, as RFC 6749 says.
    Form,
    /// A JSON object of the same members (Notion).
    Json,
}

/// The client secret sent to the token endpoint.
#[derive(Debug, Clone, Copy)]
pub enum ClientSecret {
    /// `client_secret` from the settings.
    Settings,
    /// An ES256 JWT signed with `preset_options.private_key` (Apple): `kid` =
    /// `key_id`, `iss` = `team_id`, `sub` = the client id, `aud` = this audience;
    /// renewed before it expires.
    Es256Jwt {
        /// The JWT's `aud`.
        audience: &'static str,
    },
}

/// A check of the token response's own signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSignature {
    /// None.
    None,
    /// `signature` = base64 HMAC-SHA256(client secret, `id` + `issued_at`) (Salesforce).
    HmacIdIssuedAt,
}

/// Where the granted scope is said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantedScope {
    /// In the token response, or the requested one when absent (RFC 6749 §5.1).
    TokenResponse,
    /// On the callback's `scope` when the token response omits it (Strava).
    Callback,
}

/// What the callback's form carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackForm {
    /// The code and state only.
    Code,
    /// Also the user's name as JSON in `user`, on the first login only (Apple).
    AppleUser,
}

/// How the profile endpoint is called (always with the token in the `Authorization`
/// header too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserinfoMethod {
    /// GET.
    Get,
    /// POST with no body (Dropbox's RPC style).
    Post,
    /// POST of a form with `client_id` and `access_token` (VK ID's `/oauth2/user_info`).
    PostTokenForm,
    /// POST of an RFC 7662 introspection form: `token` (the access token),
    /// `token_type_hint=access_token`, `client_id` and `client_secret` (HubSpot's v3
    /// token metadata, `/oauth/v3/token/introspect`). An answer that does not say
    /// `"active": true` is refused: the metadata of a token the server no longer vouches
    /// for is no identity.
    Introspection,
}

/// Whether a token response's ID token is the login's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTokenUse {
    /// OpenID Connect's rules: an ID token is validated, and one is required when the
    /// scope has `openid`.
    Identity,
    /// The provider's ID token is not used: it is dropped from every token response
    /// (login and refresh) unvalidated, and none is required although the scope has
    /// `openid`; the identity is the profile call's (VK ID and PayPal, whose documented
    /// web flows name the profile call, not the ID token, as the user's identity).
    Unused,
}

/// Where the user's verified e-mail address is when the profile does not give one.
#[derive(Debug, Clone, Copy)]
pub struct EmailLookup {
    /// The endpoint, relative to `api_base_url`.
    pub path: &'static str,
    /// Picks the primary verified address from the endpoint's JSON.
    pub pick: fn(&Value) -> Option<String>,
}

/// What every API call carries besides the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiRequestProof {
    /// Nothing.
    None,
    /// `appsecret_proof` = hex HMAC-SHA256(client secret, access token) in the query,
    /// when the settings have a secret (Facebook).
    AppSecretProof,
    /// The access token as `Authorization: OAuth <token>` instead of `Bearer` (Yandex,
    /// whose profile API documents only that scheme).
    OAuthScheme,
}

/// Which issuer an ID token may name.
#[derive(Debug, Clone, Copy)]
pub enum IssuerRule {
    /// The discovered issuer (and `issuer_aliases`).
    Exact,
    /// Each tenant is its own issuer, this template with `{tenantid}` replaced by the ID
    /// token's `tid` (Microsoft Entra); `preset_options.allowed_tenants` limits the
    /// tenants.
    MultiTenant {
        /// The issuer of every tenant, `{tenantid}` for the tenant.
        template: &'static str,
        /// The `tenant` option naming a single fixed tenant, and that tenant's id.
        fixed: Option<(&'static str, &'static str)>,
    },
}

/// A claim of the ID token checked against an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTokenClaim {
    /// None.
    None,
    /// `hd` must equal `preset_options.hosted_domain` when it is given (Google).
    HostedDomain,
}
