//! Dynamic client registration for providers where every instance is its own server (the
//! fediverse: Mastodon and the servers that speak its API).
//!
//! A client whose preset is a fediverse one (`[clients.mastodon]` + `preset = "mastodon"`)
//! is a *template*: it has no client id of its own. A login names the instance
//! (`GET /login/mastodon?instance=mastodon.social`, or the `instance` parameter of
//! [`OAuthClient::authorize_redirect_with`]); then:
//!
//! 1. the name is checked by [`instance_host`] (it comes from the browser: see below);
//! 2. the app's registration at that instance is read from the [`RegistrationStore`]
//!    (the registry's, [`crate::OAuth::set_registration_store`]; in memory by default), or,
//!    on first use, made (Mastodon's `POST /api/v1/apps`, the shape of RFC 7591's request:
//!    `client_name`, `redirect_uris`, `scopes`, `website`) and kept. Concurrent first
//!    logins at one instance register once (single flight). An instance that refuses, or
//!    answers something that is not a registration, fails the login as
//!    [`Error::RegistrationRefused`] (`registration_refused`), and nothing is kept;
//! 3. the login runs on a client of that instance, named `<template>@<host>`
//!    (`mastodon@mastodon.social`), built from the template's settings with the instance's
//!    host in its URLs and the registration's id and secret. Its pending login carries
//!    that name, so the callback (`/auth/mastodon`) finds the instance, and so its
//!    registration, again: it never registers, a registration lost in between fails.
//!
//! The [`crate::Login`] is the template's (`login.client` = `mastodon`), its claims
//! qualified by the instance, since an account id is only unique on its own server: `sub`
//! = `<id>@<host>`, `preferred_username` = `<username>@<host>`, `iss` = `https://<host>`.
//! API calls for the user go through [`OAuthClient::fediverse_instance`] (the template
//! itself points at an unreachable host). Mastodon's tokens do not expire and come
//! without a refresh token.
//!
//! # The instance comes from the browser
//!
//! Whoever makes the login link chooses the host this server then calls (the
//! registration, the token and profile requests): a way to make the server reach its
//! own network (SSRF). [`instance_host`] therefore accepts only a public-looking DNS name:
//! letters, digits, `-` and `.` (so no IP literal, port, user info, path, query,
//! fragment, percent-encoding or backslash), at least two labels of 1 to 63 characters,
//! at most 253 characters, a top-level label of letters (so that no URL parser reads the
//! name as an IPv4 address, as it does `0x7f.1`), and not under a name reserved for local
//! or special use (`localhost`, `local`, `internal`, `lan`, `home.arpa`, `test`, `invalid`,
//! ...). An optional `https://` and final `/` are dropped; every URL is built as
//! `https://<host>/...`. What a name check cannot see, a public name whose DNS answers
//! a private address (or is rebound to one), the connection sees: a fediverse client's
//! HTTP client resolves each host itself and connects only to globally reachable
//! addresses (`http::public_only`). Through a proxy (`[http] proxy`), the proxy resolves
//! the instance: an egress proxy that refuses private destinations keeps the guarantee.
//!
//! Registrations are bounded by what the instances accept; the cache of instance clients
//! in memory is bounded ([`MAX_CACHED_INSTANCES`]), the store is the app's.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::OnceCell;
use url::{Host, Url};

use crate::callback::CallbackParams;
use crate::client::{Behaviour, OAuthClient};
use crate::http::{HttpSettings, Method};
use crate::presets::fediverse::{self, TEMPLATE_HOST};
use crate::session::pending::PendingStore;
use crate::token::Login;
use crate::{Error, Secret};

/// The login parameter that names the instance.
pub const INSTANCE_PARAM: &str = "instance";

/// Longest instance name accepted (a DNS name's limit).
pub const MAX_INSTANCE_LEN: usize = 253;

/// How many instance clients a template keeps in memory; past that, the ready ones are
/// dropped (and rebuilt from the store when needed again).
pub const MAX_CACHED_INSTANCES: usize = 1024;

/// The client id a fediverse template is given in place of one: never sent anywhere.
pub(crate) const TEMPLATE_CLIENT_ID: &str = "registered-per-instance";

/// Top-level names reserved for local or special use (RFC 6761, RFC 6762's `local`,
/// RFC 8375's `home.arpa`, RFC 9476's `alt`, ICANN's `internal`), and those common on
/// private networks: no public fediverse server lives under them.
const RESERVED_TLDS: &[&str] = &[
    "alt",
    "arpa",
    "corp",
    "example",
    "home",
    "internal",
    "intranet",
    "invalid",
    "lan",
    "local",
    "localdomain",
    "localhost",
    "onion",
    "private",
    "test",
];

/// A boxed future, so that [`RegistrationStore`] can be used as a trait object.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// The app's registration at one instance, for one template client.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Registration {
    /// The instance's host (`mastodon.social`).
    pub instance: String,
    /// The redirect URI registered.
    pub redirect_uri: String,
    /// The scope registered (space-separated).
    pub scope: String,
    /// The client id the instance gave.
    pub client_id: String,
    /// The client secret the instance gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    /// When it was made, Unix seconds.
    pub registered_at: u64,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("instance", &self.instance)
            .field("redirect_uri", &self.redirect_uri)
            .field("scope", &self.scope)
            .field("client_id", &self.client_id)
            .field("registered_at", &self.registered_at)
            .finish_non_exhaustive()
    }
}

/// Where an app keeps its registrations, keyed by the template client's name and the
/// instance's host. Errors should be [`Error::Session`] (the store is unavailable).
///
/// Every process that serves callbacks must see the registrations the others made: an
/// app of several processes needs a shared store, not [`MemoryRegistrationStore`].
pub trait RegistrationStore: Send + Sync + 'static {
    /// The registration of `client` at `instance`, if one was kept.
    fn load<'a>(
        &'a self,
        client: &'a str,
        instance: &'a str,
    ) -> StoreFuture<'a, Option<Registration>>;

    /// Keeps `registration` for `client` (replacing one at the same instance).
    fn save<'a>(&'a self, client: &'a str, registration: &'a Registration) -> StoreFuture<'a, ()>;
}

/// Registrations in this process's memory: lost on restart (each instance is then
/// registered again on its next login), and not shared between processes.
#[derive(Debug, Default)]
pub struct MemoryRegistrationStore {
    entries: Mutex<HashMap<(String, String), Registration>>,
}

impl MemoryRegistrationStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many registrations it holds.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl RegistrationStore for MemoryRegistrationStore {
    fn load<'a>(
        &'a self,
        client: &'a str,
        instance: &'a str,
    ) -> StoreFuture<'a, Option<Registration>> {
        let found = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(client.to_owned(), instance.to_owned()))
            .cloned();
        Box::pin(async move { Ok(found) })
    }

    fn save<'a>(&'a self, client: &'a str, registration: &'a Registration) -> StoreFuture<'a, ()> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                (client.to_owned(), registration.instance.clone()),
                registration.clone(),
            );
        Box::pin(async { Ok(()) })
    }
}

/// Registrations in a JSON file, rewritten whole (through a temporary file and a rename)
/// on each save: for a single-process app that wants them to survive restarts. The file
/// holds the client secrets: it is created readable by its owner only (on Unix). Reads and
/// writes block the calling thread briefly; they happen on first logins only.
#[derive(Debug)]
pub struct FileRegistrationStore {
    path: std::path::PathBuf,
    /// Serializes writers of this process (the file is read and rewritten whole).
    lock: Mutex<()>,
}

/// The file's contents: `client` → `instance` → registration.
type FileContents =
    std::collections::BTreeMap<String, std::collections::BTreeMap<String, Registration>>;

impl FileRegistrationStore {
    /// A store in the file at `path` (created on the first save).
    pub fn new(path: impl Into<std::path::PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    /// The file's registrations (blocking: a small file, read on first logins only).
    fn read(&self) -> Result<FileContents, Error> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::Session(format!("registration store {}: {e}", self.path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileContents::new()),
            Err(e) => Err(Error::Session(format!(
                "registration store {}: {e}",
                self.path.display()
            ))),
        }
    }
}

impl RegistrationStore for FileRegistrationStore {
    fn load<'a>(
        &'a self,
        client: &'a str,
        instance: &'a str,
    ) -> StoreFuture<'a, Option<Registration>> {
        let found = {
            let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.read()
                .map(|mut all| all.get_mut(client).and_then(|c| c.remove(instance)))
        };
        Box::pin(async move { found })
    }

    fn save<'a>(&'a self, client: &'a str, registration: &'a Registration) -> StoreFuture<'a, ()> {
        let saved = (|| {
            let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            let mut all = self.read()?;
            all.entry(client.to_owned())
                .or_default()
                .insert(registration.instance.clone(), registration.clone());
            let fail = |e: std::io::Error| {
                Error::Session(format!("registration store {}: {e}", self.path.display()))
            };
            let bytes = serde_json::to_vec_pretty(&all)
                .map_err(|e| Error::Session(format!("registration store: {e}")))?;
            let mut temporary = self.path.clone().into_os_string();
            temporary.push(".tmp");
            write_private(std::path::Path::new(&temporary), &bytes).map_err(fail)?;
            std::fs::rename(&temporary, &self.path).map_err(fail)
        })();
        Box::pin(async move { saved })
    }
}

/// Writes `bytes` to a new file at `path` that only its owner can read (it holds client
/// secrets).
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// The registry's store, which [`crate::OAuth::set_registration_store`] replaces for every
/// template at once.
pub(crate) type StoreSlot = Arc<RwLock<Arc<dyn RegistrationStore>>>;

/// A new slot holding a [`MemoryRegistrationStore`].
pub(crate) fn memory_slot() -> StoreSlot {
    Arc::new(RwLock::new(Arc::new(MemoryRegistrationStore::new())))
}

/// The host of the instance a browser named, checked (see the module documentation):
/// `mastodon.social` from `mastodon.social`, `Mastodon.Social` or
/// `https://mastodon.social/`; [`Error::InvalidRequest`] naming `instance` otherwise.
pub fn instance_host(raw: &str) -> Result<String, Error> {
    let bad = |reason| Error::InvalidRequest {
        parameter: INSTANCE_PARAM,
        reason,
    };
    if raw.len() > MAX_INSTANCE_LEN + "https://".len() + 1 {
        return Err(bad("must be a host name of at most 253 characters"));
    }
    let lower = raw.to_ascii_lowercase();
    let name = lower.strip_prefix("https://").unwrap_or(&lower);
    let name = name.strip_suffix('/').unwrap_or(name);
    if name.is_empty() || name.len() > MAX_INSTANCE_LEN {
        return Err(bad("must be a host name of at most 253 characters"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return Err(bad(
            "must be a server's host name (https only; no IP address, port, user or path)",
        ));
    }
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok =
        |l: &&str| (1..=63).contains(&l.len()) && !l.starts_with('-') && !l.ends_with('-');
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(bad(
            "must be a server's full host name, such as mastodon.social",
        ));
    }
    let top = labels[labels.len() - 1];
    let top_ok = top.bytes().all(|b| b.is_ascii_lowercase()) || top.starts_with("xn--");
    if !top_ok {
        return Err(bad("must be a server's host name, not an IP address"));
    }
    if RESERVED_TLDS.contains(&top) {
        return Err(bad("must be a public server, not a local or reserved name"));
    }
    // The URL parser must read the name as the same domain (no IDNA or IPv4 reading).
    let url = Url::parse(&format!("https://{name}/"))
        .map_err(|_| bad("must be a server's host name, such as mastodon.social"))?;
    if url.host() != Some(Host::Domain(name)) {
        return Err(bad("must be a server's host name, such as mastodon.social"));
    }
    Ok(name.to_owned())
}

/// What a fediverse template holds: how to register, where registrations are kept, and
/// the instance clients built so far.
pub(crate) struct Instances {
    spec: fediverse::Registration,
    store: StoreSlot,
    /// `<host> <redirect URI>` → the instance's client, built once (single flight).
    clients: Mutex<HashMap<String, Arc<OnceCell<OAuthClient>>>>,
}

impl Instances {
    pub(crate) fn new(spec: fediverse::Registration, store: StoreSlot) -> Self {
        Self {
            spec,
            store,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn store(&self) -> Arc<dyn RegistrationStore> {
        self.store.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Starts a login at the instance `params` names: the template's
    /// `authorize_redirect_returning`.
    pub(crate) async fn authorize_redirect<S: PendingStore>(
        &self,
        template: &OAuthClient,
        store: &S,
        redirect_uri: &str,
        params: &[(&str, &str)],
        return_to: Option<&str>,
    ) -> Result<Url, Error> {
        let mut named = None;
        let mut rest = Vec::with_capacity(params.len());
        for &(key, value) in params {
            if key != INSTANCE_PARAM {
                rest.push((key, value));
            } else if named.replace(value).is_some() {
                return Err(Error::InvalidRequest {
                    parameter: INSTANCE_PARAM,
                    reason: "is given twice",
                });
            }
        }
        let host = instance_host(named.ok_or(Error::InvalidRequest {
            parameter: INSTANCE_PARAM,
            reason: "is required: it names the server to log in with",
        })?)?;
        template.check_redirect_uri(redirect_uri)?;
        let client = self.client(template, &host, redirect_uri, true).await?;
        client
            .authorize_redirect_here(store, redirect_uri, &rest, return_to)
            .await
    }

    /// Finishes a login whose pending record is an instance client's of this template;
    /// `None` when the callback's state names no such record (the template's own checks
    /// then say what is wrong with it).
    pub(crate) async fn authorize_access_token<S: PendingStore>(
        &self,
        template: &OAuthClient,
        store: &S,
        callback: &CallbackParams,
    ) -> Option<Result<Login, Error>> {
        let state = callback.get("state")?;
        let (host, redirect_uri) = match store.load().await {
            Ok(pending) => {
                let record = pending.peek(state)?;
                let host = record
                    .client
                    .strip_prefix(template.name())?
                    .strip_prefix('@')?
                    .to_owned();
                (host, record.redirect_uri.clone())
            }
            Err(e) => return Some(Err(e)),
        };
        let result = async {
            let host = instance_host(&host)?;
            let client = self.client(template, &host, &redirect_uri, false).await?;
            let login = client.authorize_access_token_here(store, callback).await?;
            Ok(qualify(login, template.name(), &host))
        };
        Some(result.await)
    }

    /// The client of `host` for logins returning to `redirect_uri`, registering the app
    /// there first when `may_register` and no registration is kept.
    pub(crate) async fn client(
        &self,
        template: &OAuthClient,
        host: &str,
        redirect_uri: &str,
        may_register: bool,
    ) -> Result<OAuthClient, Error> {
        let key = format!("{host} {redirect_uri}");
        let cell = {
            let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
            if clients.len() >= MAX_CACHED_INSTANCES && !clients.contains_key(&key) {
                clients.retain(|_, cell| !cell.initialized());
            }
            clients.entry(key.clone()).or_default().clone()
        };
        let built = cell
            .get_or_try_init(|| self.build(template, host, redirect_uri, may_register))
            .await
            .cloned();
        if built.is_err() {
            // Nothing is cached for a failure: the next login tries again.
            let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
            if clients
                .get(&key)
                .is_some_and(|c| Arc::ptr_eq(c, &cell) && !c.initialized())
            {
                clients.remove(&key);
            }
        }
        built
    }

    async fn build(
        &self,
        template: &OAuthClient,
        host: &str,
        redirect_uri: &str,
        may_register: bool,
    ) -> Result<OAuthClient, Error> {
        let store = self.store();
        let scope = template
            .settings()
            .client_kwargs
            .scope
            .clone()
            .unwrap_or_default();
        let kept = store.load(template.name(), host).await?;
        let registration = match kept {
            Some(r) if r.redirect_uri == redirect_uri && r.scope == scope => r,
            _ if !may_register => {
                return Err(template.misconfigured(format!(
                    "no registration at {host} for this login is kept any more: is the registration store shared by every process?"
                )));
            }
            _ => {
                let made = self.register(template, host, redirect_uri, &scope).await?;
                store.save(template.name(), &made).await?;
                made
            }
        };
        instance_client(template, host, registration)
    }

    /// Registers the app at `host` (Mastodon's `POST /api/v1/apps`).
    async fn register(
        &self,
        template: &OAuthClient,
        host: &str,
        redirect_uri: &str,
        scope: &str,
    ) -> Result<Registration, Error> {
        let endpoint = Url::parse(&self.spec.endpoint.replace("<instance>", host))
            .map_err(|e| template.misconfigured(format!("registration endpoint: {e}")))?;
        let app = Url::parse(redirect_uri)
            .map_err(|_| template.misconfigured("the redirect URI is not a URL"))?;
        // What the instance shows the user: the app's own host and origin.
        let name = app.host_str().unwrap_or("ferroauth").to_owned();
        let website = app.origin().ascii_serialization();
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_name", &name)
            .append_pair("redirect_uris", redirect_uri)
            .append_pair("scopes", scope)
            .append_pair("website", &website)
            .finish();
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/json"),
        );
        let response = template
            .inner
            .http
            .send(
                "registration",
                &template.inner.limits,
                Method::POST,
                &endpoint,
                headers,
                Some(("application/x-www-form-urlencoded", body.into_bytes())),
            )
            .await?;
        let refused = |reason: String| Error::RegistrationRefused {
            client: template.name().to_owned(),
            instance: host.to_owned(),
            reason,
        };
        let json: Option<Value> = serde_json::from_slice(&response.body).ok();
        if !matches!(response.status, 200 | 201) {
            let said = json
                .as_ref()
                .and_then(|j| j.get("error"))
                .and_then(Value::as_str)
                .map(|e| format!(": {}", printable(e)))
                .unwrap_or_default();
            return Err(refused(format!("HTTP {}{said}", response.status)));
        }
        let field = |name: &str| json.as_ref().and_then(|j| j.get(name));
        let client_id = match field("client_id") {
            Some(Value::String(id)) if credential_ok(id) => id.clone(),
            _ => return Err(refused("the answer has no usable client_id".into())),
        };
        let client_secret = match field("client_secret") {
            None | Some(Value::Null) => None,
            Some(Value::String(secret)) if credential_ok(secret) => {
                Some(Secret::new(secret.clone()))
            }
            Some(_) => return Err(refused("the answer's client_secret is unusable".into())),
        };
        Ok(Registration {
            instance: host.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            scope: scope.to_owned(),
            client_id,
            client_secret,
            registered_at: crate::random::now(),
        })
    }
}

/// A client id or secret as an instance may give it: 1 to 512 visible ASCII characters
/// (it goes into headers and forms).
fn credential_ok(value: &str) -> bool {
    (1..=512).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_graphic())
}

/// An instance's own error text, bounded and without control characters.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The template's settings on `host`, with the registration's credentials.
fn instance_client(
    template: &OAuthClient,
    host: &str,
    registration: Registration,
) -> Result<OAuthClient, Error> {
    let template_origin = format!("https://{TEMPLATE_HOST}");
    let origin = format!("https://{host}");
    let mut settings = template.settings().clone();
    for url in [
        &mut settings.authorize_url,
        &mut settings.access_token_url,
        &mut settings.userinfo_endpoint,
        &mut settings.revocation_endpoint,
        &mut settings.api_base_url,
    ]
    .into_iter()
    .flatten()
    {
        if let Some(rest) = url.strip_prefix(&template_origin)
            && (rest.is_empty() || rest.starts_with('/'))
        {
            *url = format!("{origin}{rest}");
        }
    }
    settings.client_id = Some(registration.client_id);
    settings.client_secret = registration.client_secret;
    let inner = &template.inner;
    let http_settings = HttpSettings {
        timeout: inner.limits.timeout.as_secs_f64(),
        max_response_bytes: inner.limits.max_body,
        ..HttpSettings::default()
    };
    let mut client = OAuthClient::new(
        &format!("{}@{host}", inner.name),
        settings,
        inner.http.clone(),
        &http_settings,
        inner.policy,
        inner.refresher.clone(),
        Behaviour {
            hooks: (*template.hooks()).clone(),
            preset: inner.preset,
            deviations: inner.deviations.clone(),
            fediverse: None,
        },
    )?;
    // Telemetry and errors name the template: one label per client of the settings,
    // however many instances users name (an unbounded label set would grow the metrics).
    if let Some(own) = Arc::get_mut(&mut client.inner) {
        own.limits.client.clone_from(&inner.name);
    }
    Ok(client)
}

/// The login as the template's, its identity qualified by the instance (an account id is
/// unique only on its own server).
fn qualify(mut login: Login, template: &str, host: &str) -> Login {
    login.client = template.to_owned();
    let claims = &mut login.userinfo;
    for claim in ["sub", "preferred_username"] {
        let local = match claims.get(claim) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => continue,
        };
        claims.insert(claim.into(), format!("{local}@{host}").into());
    }
    claims.insert("iss".into(), format!("https://{host}").into());
    login
}

impl OAuthClient {
    /// Whether this client is a fediverse template: each login names its instance
    /// (the `instance` parameter), see [`crate::registration`].
    pub fn is_fediverse(&self) -> bool {
        self.inner.fediverse.is_some()
    }

    /// The client of a fediverse template at `instance` for logins returning to
    /// `redirect_uri`, registering the app there first if it is not yet: for API calls
    /// with a token of that instance. [`Error::Misconfigured`] on a client that is not a
    /// fediverse template.
    pub async fn fediverse_instance(
        &self,
        instance: &str,
        redirect_uri: &str,
    ) -> Result<OAuthClient, Error> {
        let Some(instances) = &self.inner.fediverse else {
            return Err(self.misconfigured("is not a fediverse client"));
        };
        let host = instance_host(instance)?;
        self.check_redirect_uri(redirect_uri)?;
        instances.client(self, &host, redirect_uri, true).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &str) -> bool {
        matches!(
            instance_host(raw),
            Err(Error::InvalidRequest {
                parameter: "instance",
                ..
            })
        )
    }

    #[test]
    fn public_host_names_are_accepted_and_normalized() {
        for (raw, host) in [
            ("mastodon.social", "mastodon.social"),
            ("Mastodon.Social", "mastodon.social"),
            ("https://mastodon.social/", "mastodon.social"),
            ("HTTPS://fosstodon.org", "fosstodon.org"),
            ("social.example-host.co.uk", "social.example-host.co.uk"),
            ("123.mastodon.social", "123.mastodon.social"),
            ("xn--mastodn-zxa.xn--p1ai", "xn--mastodn-zxa.xn--p1ai"),
        ] {
            assert_eq!(instance_host(raw).unwrap(), host, "{raw}");
        }
    }

    /// Each name an attacker could use to make the server call its own network, or a
    /// host other than the one named.
    #[test]
    fn names_that_reach_elsewhere_are_refused() {
        let long = format!("{}.social", "a.".repeat(130));
        let long_label = format!("{}.social", "a".repeat(64));
        for raw in [
            "",
            // IP literals, in every form a URL parser reads as one.
            "127.0.0.1",
            "10.0.0.1",
            "169.254.169.254",
            "[::1]",
            "::1",
            "0x7f.1",
            "0x7f000001",
            "2130706433",
            "127.1",
            "1.0x7f",
            "0177.0.0.1",
            // Loopback and internal names.
            "localhost",
            "foo.localhost",
            "LOCALHOST.",
            "metadata.google.internal",
            "printer.local",
            "router.home.arpa",
            "1.0.0.127.in-addr.arpa",
            "nas.lan",
            "db.corp",
            "instance.invalid",
            "mastodon.test",
            "single-label",
            // Scheme, port, user info, path, query, fragment tricks.
            "http://mastodon.social",
            "ftp://mastodon.social",
            "//mastodon.social",
            "mastodon.social:8080",
            "mastodon.social:443",
            "user@mastodon.social",
            "mastodon.social@127.0.0.1",
            "mastodon.social/@alice",
            "mastodon.social/../admin",
            "mastodon.social?x=1",
            "mastodon.social#frag",
            "evil.example.com#@mastodon.social",
            "mastodon.social\\@127.0.0.1",
            "mastodon.social%2f127.0.0.1",
            "https://https://mastodon.social",
            // Malformed names.
            "mastodon.social.",
            ".mastodon.social",
            "mastodon..social",
            "-mastodon.social",
            "mastodon-.social",
            " mastodon.social",
            "mastodon.social\n",
            "mastodon\u{0}.social",
            "mastödon.social",
            "mastodon.s0cial",
            long_label.as_str(),
            long.as_str(),
        ] {
            assert!(refused(raw), "{raw:?} must be refused");
        }
    }

    #[test]
    fn an_instance_client_is_named_for_its_login_and_observed_as_its_template() {
        let settings =
            crate::settings::Settings::from_toml_str("[clients.mastodon]\npreset = \"mastodon\"\n")
                .unwrap();
        let oauth = crate::OAuth::from_settings(&settings).unwrap();
        let template = oauth.client("mastodon").unwrap();
        let registration = Registration {
            instance: "mastodon.social".into(),
            redirect_uri: "https://app.example/auth/mastodon".into(),
            scope: "read:accounts".into(),
            client_id: "id-1".into(),
            client_secret: Some(Secret::new("secret-1")),
            registered_at: 0,
        };
        let client = instance_client(&template, "mastodon.social", registration).unwrap();
        assert_eq!(client.name(), "mastodon@mastodon.social");
        assert_eq!(client.inner.limits.client, "mastodon");
        let s = client.settings();
        assert_eq!(
            s.authorize_url.as_deref(),
            Some("https://mastodon.social/oauth/authorize")
        );
        assert_eq!(
            s.userinfo_endpoint.as_deref(),
            Some("https://mastodon.social/api/v1/accounts/verify_credentials")
        );
        assert_eq!(s.api_base_url.as_deref(), Some("https://mastodon.social/"));
        assert_eq!(s.client_id.as_deref(), Some("id-1"));
        // The template itself points at a host that cannot resolve.
        assert_eq!(
            template.settings().access_token_url.as_deref(),
            Some("https://instance.invalid/oauth/token")
        );
    }

    #[test]
    fn a_registration_never_shows_its_secret() {
        let r = Registration {
            instance: "mastodon.social".into(),
            redirect_uri: "https://app.example/auth/mastodon".into(),
            scope: "read:accounts".into(),
            client_id: "id".into(),
            client_secret: Some(Secret::new("s3cr3t-value")),
            registered_at: 0,
        };
        assert!(!format!("{r:?}").contains("s3cr3t-value"));
    }

    #[tokio::test]
    async fn the_file_store_keeps_registrations_across_instances_of_it() {
        let dir = std::env::temp_dir().join(format!("ferroauth-reg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("registrations.json");
        let _ = std::fs::remove_file(&path);
        let r = Registration {
            instance: "mastodon.social".into(),
            redirect_uri: "https://app.example/auth/mastodon".into(),
            scope: "read:accounts".into(),
            client_id: "id-1".into(),
            client_secret: Some(Secret::new("secret-1")),
            registered_at: 7,
        };
        FileRegistrationStore::new(&path)
            .save("mastodon", &r)
            .await
            .unwrap();
        let again = FileRegistrationStore::new(&path);
        assert_eq!(
            again.load("mastodon", "mastodon.social").await.unwrap(),
            Some(r)
        );
        assert_eq!(again.load("mastodon", "other.social").await.unwrap(), None);
        assert_eq!(again.load("other", "mastodon.social").await.unwrap(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn the_memory_store_keys_by_client_and_instance() {
        let store = MemoryRegistrationStore::new();
        let r = |instance: &str, id: &str| Registration {
            instance: instance.into(),
            redirect_uri: "https://app.example/cb".into(),
            scope: "read:accounts".into(),
            client_id: id.into(),
            client_secret: None,
            registered_at: 0,
        };
        store.save("mastodon", &r("a.social", "1")).await.unwrap();
        store.save("mastodon", &r("b.social", "2")).await.unwrap();
        store.save("mastodon", &r("a.social", "3")).await.unwrap();
        assert_eq!(store.len(), 2);
        let a = store.load("mastodon", "a.social").await.unwrap().unwrap();
        assert_eq!(a.client_id, "3");
        assert!(store.load("other", "a.social").await.unwrap().is_none());
    }
}
