//! One preset entry and a client's `preset_options` made into the client's default
//! settings and its active deviations: the placeholders of the entry's templates filled
//! with checked option values, once, at registration.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lc_rs::hmac;

use super::Protocol;
use super::deviations::{Active, JwtClientSecret, TenantPolicy};
use super::entry::{
    ApiRequestProof, ClientSecret, Endpoints, IdTokenClaim, IssuerRule, Offline, Preset,
};
use crate::proto::jose::client_assertion::ClientAssertionKey;
use crate::settings::PresetOptions;
use crate::settings::{ClientKwargs, ClientSettings};

/// What a preset is built for: the client's name, its options and explicit settings.
pub(crate) struct Context<'a> {
    /// The client's name in settings (`[clients.<name>]`).
    pub(crate) client: &'a str,
    pub(crate) options: &'a PresetOptions,
    pub(crate) explicit: &'a ClientSettings,
    pub(crate) preset: &'static Preset,
}

/// A template with a placeholder that has no value: the option's name.
type Missing = String;

impl Context<'_> {
    fn client_id(&self) -> &str {
        self.explicit.client_id.as_deref().unwrap_or_default()
    }

    /// The value of placeholder `name`: an option (checked as its kind requires), the
    /// preset's default for it, or a name the client gives; `None` when it has none.
    fn value(&self, name: &str) -> Result<Option<Cow<'_, str>>, String> {
        let o = self.options;
        let (given, kind) = match name {
            "client" => return Ok(Some(Cow::Borrowed(self.client))),
            "client_id" => return Ok(Some(Cow::Borrowed(self.client_id()))),
            "crate_version" => return Ok(Some(Cow::Borrowed(env!("CARGO_PKG_VERSION")))),
            // Named at each login (a fediverse preset): the template's own is unreachable.
            "instance" => return Ok(Some(Cow::Borrowed(super::fediverse::TEMPLATE_HOST))),
            "tenant" => (&o.tenant, Kind::Segment),
            "realm" => (&o.realm, Kind::Segment),
            "authorization_server" => (&o.authorization_server, Kind::Segment),
            "slug" => (&o.slug, Kind::Segment),
            "policy" => (&o.policy, Kind::Segment),
            "tenant_id" => (&o.tenant_id, Kind::Segment),
            "region" => (&o.region, Kind::Segment),
            "user_pool_id" => (&o.user_pool_id, Kind::Segment),
            "environment_id" => (&o.environment_id, Kind::Segment),
            "subdomain" => (&o.subdomain, Kind::Segment),
            "base_url" => (&o.base_url, Kind::BaseUrl),
            "domain" => (&o.domain, Kind::Host),
            "hosted_domain" => (&o.hosted_domain, Kind::Host),
            "api_version" => (&o.api_version, Kind::Version),
            "audience" => (&o.audience, Kind::Optional),
            "user_agent" => (&o.user_agent, Kind::Text),
            "team_id" => (&o.team_id, Kind::Required),
            "key_id" => (&o.key_id, Kind::Required),
            other => return Err(format!("the preset names an unknown option <{other}>")),
        };
        match given.as_deref() {
            Some(raw) => kind.check(name, raw).map(|v| v.map(Cow::Borrowed)),
            None => match self.preset.defaults.iter().find(|(k, _)| *k == name) {
                Some((_, default)) => match self.expand(default)? {
                    Ok(text) => kind
                        .check(name, &text)
                        .map(|v| v.map(|v| Cow::Owned(v.into()))),
                    Err(missing) => Err(format!("the default of {name} needs {missing}")),
                },
                None => Ok(None),
            },
        }
    }

    /// `template` with its placeholders filled, or the first one without a value.
    fn expand(&self, template: &str) -> Result<Result<String, Missing>, String> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find('<') {
            let Some(len) = rest[start..].find('>') else {
                break;
            };
            let name = &rest[start + 1..start + len];
            out.push_str(&rest[..start]);
            match self.value(name)? {
                Some(value) => out.push_str(&value),
                None => return Ok(Err(name.to_owned())),
            }
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        Ok(Ok(out))
    }

    /// `template` filled, or the error naming the option it needs.
    fn required(&self, template: &str) -> Result<String, String> {
        self.expand(template)?
            .map_err(|name| format!("preset_options.{name} is required by this preset"))
    }

    /// Each pair whose value can be filled.
    fn pairs(&self, items: &[(&str, &str)]) -> Result<BTreeMap<String, String>, String> {
        let mut map = BTreeMap::new();
        for (key, template) in items {
            if let Ok(value) = self.expand(template)? {
                map.insert((*key).to_owned(), value);
            }
        }
        Ok(map)
    }

    /// A required text option (Apple's key material).
    fn text(&self, name: &str) -> Result<String, String> {
        self.value(name)?
            .map(Cow::into_owned)
            .ok_or_else(|| format!("preset_options.{name} is required by this preset"))
    }
}

/// How an option's value is checked.
#[derive(Clone, Copy)]
enum Kind {
    /// A path segment (a realm, a tenant, an authorization server id).
    Segment,
    /// A base URL, without its final `/`.
    BaseUrl,
    /// A host name, an `https://` and a final `/` allowed.
    Host,
    /// A Graph API version, `v<major>.<minor>`.
    Version,
    /// Any text; empty is no value.
    Optional,
    /// Any text, checked where it is used.
    Text,
    /// Any text but empty.
    Required,
}

impl Kind {
    fn check<'v>(self, name: &str, raw: &'v str) -> Result<Option<&'v str>, String> {
        let required = || format!("preset_options.{name} is required by this preset");
        match self {
            Kind::Optional => return Ok(Some(raw).filter(|v| !v.is_empty())),
            Kind::Text => return Ok(Some(raw)),
            _ if raw.is_empty() => return Err(required()),
            _ => {}
        }
        let ok = match self {
            Kind::Segment => raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')),
            Kind::BaseUrl => raw.starts_with("https://") || raw.starts_with("http://"),
            Kind::Host => {
                let host = host_of(raw);
                !host.is_empty() && !host.contains(['/', '?', '#', '@', ' ', ':'])
            }
            Kind::Version => valid_version(raw),
            Kind::Optional | Kind::Text | Kind::Required => true,
        };
        if !ok {
            return Err(match self {
                Kind::Segment => format!(
                    "preset_options.{name} may hold only letters, digits, `-`, `_` and `.`, not {raw:?}"
                ),
                Kind::BaseUrl => format!(
                    "preset_options.{name} must be a URL such as `https://example.com`, not {raw:?}"
                ),
                Kind::Host => format!(
                    "preset_options.{name} must be a host name such as `example.com`, not {raw:?}"
                ),
                _ => format!("preset_options.{name} must look like `v24.0`, not {raw:?}"),
            });
        }
        Ok(Some(match self {
            Kind::BaseUrl => raw.trim_end_matches('/'),
            Kind::Host => host_of(raw),
            _ => raw,
        }))
    }
}

fn host_of(raw: &str) -> &str {
    raw.strip_prefix("https://")
        .unwrap_or(raw)
        .trim_end_matches('/')
}

/// `v<major>.<minor>`, digits only.
fn valid_version(v: &str) -> bool {
    let Some((major, minor)) = v.strip_prefix('v').and_then(|r| r.split_once('.')) else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    digits(major) && digits(minor)
}

/// The preset's default settings and deviations for this client.
pub(crate) fn build(cx: &Context<'_>) -> Result<(ClientSettings, Active), String> {
    let p = cx.preset;
    let mut settings = ClientSettings::default();
    let mut kwargs = ClientKwargs::default();
    match p.endpoints {
        Endpoints::OAuth2 {
            authorize,
            token,
            userinfo,
            revocation,
        } => {
            settings.authorize_url = Some(cx.required(authorize)?);
            settings.access_token_url = Some(cx.required(token)?);
            settings.userinfo_endpoint = userinfo.map(|u| cx.required(u)).transpose()?;
            settings.revocation_endpoint = revocation.map(|u| cx.required(u)).transpose()?;
        }
        Endpoints::OAuth1 {
            request_token,
            authorize,
            access_token,
            userinfo,
        } => {
            settings.request_token_url = Some(cx.required(request_token)?);
            settings.authorize_url = Some(cx.required(authorize)?);
            settings.access_token_url = Some(cx.required(access_token)?);
            settings.userinfo_endpoint = userinfo.map(|u| cx.required(u)).transpose()?;
            kwargs.signature_method = Some("HMAC-SHA1".into());
        }
        Endpoints::Discovery { metadata, userinfo } => {
            let mut found = None;
            for template in metadata {
                if let Ok(url) = cx.expand(template)? {
                    found = Some(url);
                    break;
                }
            }
            settings.server_metadata_url = Some(match found {
                Some(url) => url,
                None => cx.required(metadata.first().copied().unwrap_or_default())?,
            });
            if !userinfo {
                kwargs.fetch_userinfo = Some(false);
            }
        }
    }
    settings.api_base_url = p.api_base.map(|u| cx.required(u)).transpose()?;
    let offline = cx.options.offline == Some(true);
    kwargs.scope = p.scope.map(str::to_owned);
    if let (true, Offline::Scope(extra)) = (offline, p.offline) {
        if let Some(scope) = &cx.explicit.client_kwargs.scope
            && !scope.split([' ', ',']).any(|s| s == extra)
        {
            return Err(format!(
                "preset_options.offline: client_kwargs.scope replaces the preset's scope, so it must name `{extra}` itself"
            ));
        }
        kwargs.scope = Some(match kwargs.scope {
            Some(scope) => format!("{scope} {extra}"),
            None => extra.to_owned(),
        });
    }
    kwargs.token_endpoint_auth_method = p.token_auth;
    kwargs.code_challenge_method = p.pkce;
    kwargs.check_nonce = p.nonce;
    if !p.issuer_aliases.is_empty() {
        kwargs.issuer_aliases = Some(p.issuer_aliases.iter().map(|a| (*a).to_owned()).collect());
    }
    if !p.id_token_algs.is_empty() {
        kwargs.id_token_signing_algs =
            Some(p.id_token_algs.iter().map(|a| (*a).to_owned()).collect());
    }
    kwargs.api_headers = cx.pairs(p.api_headers)?;
    // Reddit refuses calls without a User-Agent of the app's own.
    if let Some(value) = kwargs.api_headers.get("User-Agent") {
        let header = "User-Agent";
        if value.trim().is_empty() || http::HeaderValue::from_str(value).is_err() {
            return Err(format!(
                "the {header} {value:?} is not a valid header value: set preset_options.user_agent"
            ));
        }
    }
    settings.authorize_params = cx.pairs(p.authorize_params)?;
    settings.access_token_params = cx.pairs(p.token_params)?;
    if let (true, Offline::Params(params)) = (offline, p.offline) {
        settings.authorize_params.extend(cx.pairs(params)?);
    }
    if !p.form_post_for.is_empty() {
        // The provider refuses a query response when the scope asks for these.
        let scope = cx
            .explicit
            .client_kwargs
            .scope
            .as_deref()
            .or(kwargs.scope.as_deref())
            .unwrap_or_default();
        if scope
            .split([' ', ','])
            .any(|s| p.form_post_for.contains(&s))
        {
            settings
                .authorize_params
                .insert("response_mode".into(), "form_post".into());
        }
    }
    settings.client_kwargs = kwargs;
    Ok((settings, deviations(cx)?))
}

/// The deviations with what they need from the options.
fn deviations(cx: &Context<'_>) -> Result<Active, String> {
    let p = cx.preset;
    let spec = &p.deviations;
    let map = (!p.profile.is_none()).then_some(&p.profile);
    let (profile, claims) = match p.protocol {
        Protocol::OpenIdConnect => (None, map),
        Protocol::OAuth1 | Protocol::OAuth2 => (map, None),
    };
    let tenant = match spec.issuer {
        IssuerRule::Exact => None,
        IssuerRule::MultiTenant { template, fixed } => {
            let allowed = cx.options.allowed_tenants.clone();
            if let Some(allowed) = &allowed {
                if allowed.is_empty() {
                    return Err(
                        "preset_options.allowed_tenants is empty: nobody could log in".into(),
                    );
                }
                let tenant = cx.value("tenant")?;
                if let Some((name, id)) = fixed
                    && tenant.as_deref() == Some(name)
                    && !allowed.iter().any(|t| t.eq_ignore_ascii_case(id))
                {
                    return Err(format!(
                        "preset_options.allowed_tenants excludes the only tenant of `{name}` ({id})"
                    ));
                }
            }
            Some(TenantPolicy {
                allowed,
                issuer_template: template.to_owned(),
            })
        }
    };
    let hosted_domain = match spec.id_token_claim {
        IdTokenClaim::None => None,
        IdTokenClaim::HostedDomain => cx.value("hosted_domain")?.map(Cow::into_owned),
    };
    let client_secret = match spec.client_secret {
        ClientSecret::Settings => None,
        ClientSecret::Es256Jwt { audience } => {
            let team_id = cx.text("team_id")?;
            let key_id = cx.text("key_id")?;
            let private_key = cx
                .options
                .private_key
                .as_ref()
                .filter(|k| !k.expose().is_empty())
                .ok_or("preset_options.private_key is required by this preset")?;
            let key = ClientAssertionKey::from_private_key(
                private_key.expose(),
                Some("ES256"),
                Some(&key_id),
            )
            .map_err(|e| format!("preset_options.private_key: {e}"))?;
            Some(Arc::new(JwtClientSecret::new(
                key,
                &team_id,
                cx.client_id(),
                audience,
            )))
        }
    };
    let appsecret = match spec.api_request {
        ApiRequestProof::None | ApiRequestProof::OAuthScheme => None,
        ApiRequestProof::AppSecretProof => cx
            .explicit
            .client_secret
            .as_ref()
            .map(|secret| hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes())),
    };
    Ok(Active {
        spec,
        profile,
        claims,
        tenant,
        hosted_domain,
        client_secret,
        appsecret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_checked() {
        for good in ["v24.0", "v3.1", "v100.12"] {
            assert!(valid_version(good), "{good}");
        }
        for bad in ["24.0", "v24", "v24.0/../x", "v.1", "latest", ""] {
            assert!(!valid_version(bad), "{bad}");
        }
    }

    #[test]
    fn every_placeholder_of_every_preset_is_a_known_option() {
        let options = PresetOptions {
            tenant: Some("t".into()),
            realm: Some("r".into()),
            authorization_server: Some("default".into()),
            base_url: Some("https://example.com".into()),
            domain: Some("example.com".into()),
            hosted_domain: Some("example.com".into()),
            audience: Some("api".into()),
            user_agent: Some("web:x:1".into()),
            slug: Some("app".into()),
            policy: Some("B2C_1_signin".into()),
            tenant_id: Some("775527ff-9a37-4307-8b3d-cc311f58d925".into()),
            region: Some("eu-west-1".into()),
            user_pool_id: Some("eu-west-1_AbC".into()),
            environment_id: Some("env".into()),
            subdomain: Some("acme".into()),
            ..PresetOptions::default()
        };
        let explicit = ClientSettings {
            client_id: Some("id".into()),
            ..ClientSettings::default()
        };
        for preset in super::super::all() {
            if matches!(
                preset.deviations.client_secret,
                ClientSecret::Es256Jwt { .. }
            ) {
                continue;
            }
            let cx = Context {
                client: preset.name,
                options: &options,
                explicit: &explicit,
                preset,
            };
            let (settings, _) = build(&cx).unwrap_or_else(|e| panic!("{}: {e}", preset.name));
            let urls = [
                &settings.authorize_url,
                &settings.access_token_url,
                &settings.server_metadata_url,
                &settings.userinfo_endpoint,
                &settings.api_base_url,
            ];
            for url in urls.into_iter().flatten() {
                assert!(!url.contains(['<', '>']), "{}: {url}", preset.name);
                url::Url::parse(url).unwrap_or_else(|e| panic!("{}: {url}: {e}", preset.name));
            }
        }
    }
}
