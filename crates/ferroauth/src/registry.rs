//! [`OAuth`]: the registry of named clients.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use crate::Error;
use crate::client::OAuthClient;
use crate::client::refresh::RefreshCoordinator;
use crate::error::SettingsError;
use crate::hooks::ComplianceHooks;
use crate::http::HttpClient;
use crate::http::HttpSettings;
use crate::session::pending::PendingPolicy;
use crate::settings::{ClientSettings, LoginSettings, Settings};
use crate::users::Users;

/// The registry of named clients: one per provider, all sharing one HTTP connection pool.
///
/// Cheap to clone (an `Arc`), so it can live in an axum state or be captured by handlers.
///
/// ```
/// # fn main() -> Result<(), ferroauth::Error> {
/// let oauth = ferroauth::OAuth::from_settings(&ferroauth::settings::Settings::from_toml_str(r#"
///     [clients.github]
///     client_id = "Iv1.example"
///     client_secret = "from the environment in real life"
///     authorize_url = "https://github.com/login/oauth/authorize"
///     access_token_url = "https://github.com/login/oauth/access_token"
///     api_base_url = "https://api.github.com/"
/// "#)?)?;
/// let github = oauth.client("github")?;
/// assert_eq!(github.name(), "github");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OAuth {
    inner: Arc<Registry>,
}

struct Registry {
    clients: RwLock<BTreeMap<String, OAuthClient>>,
    http: HttpClient,
    http_settings: HttpSettings,
    policy: PendingPolicy,
    /// One refresh coordinator for every client: single flight across client objects.
    refresher: Arc<RefreshCoordinator>,
    /// Where fediverse templates keep their registrations at instances.
    registrations: crate::registration::StoreSlot,
    /// The app's users, when it keeps them ([`OAuth::set_users`]).
    users: RwLock<Option<Users>>,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("clients", &self.names())
            .finish_non_exhaustive()
    }
}

impl OAuth {
    /// An empty registry with default HTTP and login settings.
    pub fn new() -> Result<Self, Error> {
        Self::with_options(&HttpSettings::default(), &LoginSettings::default())
    }

    /// An empty registry with the given HTTP and login settings.
    pub fn with_options(http: &HttpSettings, login: &LoginSettings) -> Result<Self, Error> {
        Ok(Self {
            inner: Arc::new(Registry {
                clients: RwLock::new(BTreeMap::new()),
                http: HttpClient::new(http)?,
                http_settings: http.clone(),
                policy: PendingPolicy {
                    ttl: std::time::Duration::from_secs(login.pending_ttl),
                    max_pending: login.max_pending,
                },
                refresher: Arc::new(RefreshCoordinator::default()),
                registrations: crate::registration::memory_slot(),
                users: RwLock::new(None),
            }),
        })
    }

    /// A registry with every client of the settings.
    pub fn from_settings(settings: &Settings) -> Result<Self, Error> {
        let oauth = Self::with_options(&settings.http, &settings.login)?;
        for (name, client) in &settings.clients {
            oauth.register(name, client.clone())?;
        }
        Ok(oauth)
    }

    /// Registers (or replaces) a client from code. The settings are checked as a settings
    /// file's would be.
    pub fn register(&self, name: &str, settings: ClientSettings) -> Result<OAuthClient, Error> {
        self.register_with_hooks(name, settings, ComplianceHooks::default())
    }

    /// Registers (or replaces) a client with compliance hooks for a provider that bends
    /// the specifications (see [`crate::hooks`]).
    pub fn register_with_hooks(
        &self,
        name: &str,
        settings: ClientSettings,
        hooks: ComplianceHooks,
    ) -> Result<OAuthClient, Error> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(SettingsError::for_key(
                name,
                "",
                "client names are ASCII letters, digits, `_` and `-`",
            )
            .into());
        }
        let applied = crate::presets::apply(name, settings, hooks)?;
        let mut settings = applied.settings;
        // A fediverse template registers at each instance: it has no client id itself.
        let fediverse = applied
            .preset
            .and_then(|p| crate::presets::fediverse::registration(p.name))
            .map(|spec| {
                settings
                    .client_id
                    .get_or_insert_with(|| crate::registration::TEMPLATE_CLIENT_ID.into());
                crate::registration::Instances::new(spec, self.inner.registrations.clone())
            });
        crate::settings::validate_client(name, &settings)?;
        let own_settings = || HttpSettings {
            connect_timeout: settings
                .client_kwargs
                .connect_timeout
                .unwrap_or(self.inner.http_settings.connect_timeout),
            ..self.inner.http_settings.clone()
        };
        let http = match (&fediverse, settings.client_kwargs.connect_timeout) {
            // Its hosts are named by users: their DNS may answer private addresses.
            (Some(_), _) => HttpClient::public_only(&own_settings())?,
            (None, Some(_)) => HttpClient::new(&own_settings())?,
            (None, None) => self.inner.http.clone(),
        };
        let client = OAuthClient::new(
            name,
            settings,
            http,
            &self.inner.http_settings,
            self.inner.policy,
            self.inner.refresher.clone(),
            crate::client::Behaviour {
                hooks: applied.hooks,
                preset: applied.preset,
                deviations: applied.deviations,
                fediverse,
            },
        )?;
        self.inner
            .clients
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned(), client.clone());
        Ok(client)
    }

    /// Replaces where fediverse clients keep their registrations at instances (in this
    /// process's memory by default; see [`crate::registration`]), for every client.
    pub fn set_registration_store(&self, store: impl crate::registration::RegistrationStore) {
        *self
            .inner
            .registrations
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(store);
    }

    /// Resolves every login of the ready-made routes to one of the app's users, kept in
    /// `users`' store ([`crate::users`]): the session then holds the user's id beside the
    /// provider accounts, and `GET /me` and `POST /unlink/{name}` work.
    pub fn set_users(&self, users: Users) {
        *self.inner.users.write().unwrap_or_else(|e| e.into_inner()) = Some(users);
    }

    /// The app's users, when [`Self::set_users`] gave them.
    pub fn users(&self) -> Option<Users> {
        self.inner
            .users
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The client registered under `name`.
    pub fn client(&self, name: &str) -> Result<OAuthClient, Error> {
        self.inner
            .clients
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownClient(name.chars().take(64).collect()))
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.inner
            .clients
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fediverse client's hosts are named by users: its connections must reach public
    /// addresses only, whatever their DNS answers; other clients keep the shared client.
    #[test]
    fn fediverse_clients_connect_to_public_addresses_only() {
        let settings = Settings::from_toml_str(
            "[clients.mastodon]\npreset = \"mastodon\"\n[clients.gitlab]\nclient_id = \"a\"\nclient_secret = \"b\"\n",
        )
        .unwrap();
        let oauth = OAuth::from_settings(&settings).unwrap();
        assert!(oauth.client("mastodon").unwrap().http_is_public_only());
        assert!(!oauth.client("gitlab").unwrap().http_is_public_only());
    }

    #[test]
    fn a_bad_api_header_is_a_settings_error_naming_the_key() {
        let settings = Settings::from_toml_str(
            "[clients.corp]\nclient_id = \"a\"\nauthorize_url = \"https://a.example/auth\"\naccess_token_url = \"https://a.example/token\"\nclient_kwargs = { api_headers = { \"Bad Name\" = \"v\" } }\n",
        )
        .unwrap();
        let e = OAuth::from_settings(&settings).unwrap_err();
        assert_eq!(e.code(), "invalid_settings");
        let Error::Settings(e) = e else {
            unreachable!()
        };
        assert_eq!(e.client.as_deref(), Some("corp"));
        assert_eq!(e.key.as_deref(), Some("client_kwargs.api_headers.Bad Name"));
    }
}
