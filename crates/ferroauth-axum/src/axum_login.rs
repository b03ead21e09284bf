//! The app's users ([`ferroauth::users`]) as an [axum-login](::axum_login) backend: logins
//! through ferroauth, sessions and route protection through axum-login (feature
//! `axum-login`).
//!
//! - [`UserBackend`]: the backend, over [`Users`]. Its credentials are a finished ferroauth
//!   [`Login`] ([`LoginCredentials`]); `authenticate` resolves the login's provider
//!   identity to the app's user ([`Users::resolve`]: created on a first login, linked
//!   when someone is already logged in, never moved from another user).
//! - [`AppUser`]: the user axum-login keeps in the session, with its linked identities.
//! - [`UserBackend::layer`]: axum-login's middleware, to install *inside* ferroauth's
//!   session layer ([`crate::sessions::SessionsExt::apply`]), so that both share one
//!   session with the cookie a login needs (`SameSite=Lax`), the duplicated-cookie strip
//!   and the 503 of an unavailable store. (axum-login's own `AuthManagerLayerBuilder`
//!   brings a session layer of its own, without them.) axum-login keeps its data in a
//!   tower-sessions session: a server-side store (memory, Redis, SQL), not the sealed
//!   cookies of [`SessionsExt::apply_sealed`](crate::sessions::SessionsExt::apply_sealed),
//!   with which every request through the layer fails with 500.
//!
//! ```no_run
//! use axum::extract::{Path, State};
//! use axum::response::Redirect;
//! use axum::{Router, routing::get};
//! use axum_login::login_required;
//! use ferroauth::OAuth;
//! use ferroauth::users::{MemoryUserStore, Users};
//! use ferroauth_axum::axum_login::{LoginCredentials, UserBackend};
//! use ferroauth_axum::memory_store::MemoryStore;
//! use ferroauth_axum::sessions::{SessionConfig, SessionsExt as _};
//! use ferroauth_axum::{AuthError, AuthSession, Callback, authorize_access_token};
//!
//! type Auth = axum_login::AuthSession<UserBackend>;
//!
//! // The callback: finish the login with ferroauth, then log the app's user in.
//! async fn callback(
//!     State(oauth): State<OAuth>,
//!     Path(name): Path<String>,
//!     session: AuthSession,
//!     mut auth: Auth,
//!     Callback(params): Callback,
//! ) -> Result<Redirect, AuthError> {
//!     let login = authorize_access_token(&oauth.client(&name)?, &session, &params).await?;
//!     // Logged in already: the login's identity is linked to that user.
//!     let credentials = LoginCredentials::new(login, auth.user.as_ref());
//!     if let Some(user) = auth.authenticate(credentials).await? {
//!         auth.login(&user).await?;
//!     }
//!     Ok(Redirect::to("/"))
//! }
//!
//! async fn me(auth: Auth) -> String {
//!     auth.user.map(|u| u.user_id().to_string()).unwrap_or_default()
//! }
//!
//! # fn app(oauth: OAuth, login: axum::routing::MethodRouter<OAuth>) -> Result<Router, ferroauth::Error> {
//! let backend = UserBackend::new(Users::new(MemoryUserStore::new()));
//! let routes = Router::new()
//!     .route("/me", get(me))
//!     .route_layer(login_required!(UserBackend, login_url = "/login/google"))
//!     .route("/login/{name}", login)
//!     .route("/auth/{name}", get(callback).post(callback))
//!     // axum-login inside the session layer: `layer` before `apply`.
//!     .layer(backend.layer());
//! Ok(SessionConfig::for_public_url("https://app.example")?
//!     .apply(routes, MemoryStore::new())
//!     .with_state(oauth))
//! # }
//! ```
//!
//! The crate's example `axum_login` is a whole app.

use std::fmt;

use ::axum_login::{AuthManager, AuthUser, AuthnBackend};
use aws_lc_rs::digest;
use ferroauth::users::{Identity, UserId, Users};
use ferroauth::{Error, Login};

use crate::AuthError;

/// axum-login's backend over the app's [`Users`]: see the [module docs](self).
#[derive(Debug, Clone)]
pub struct UserBackend {
    users: Users,
}

impl UserBackend {
    /// The backend over `users` (their store and linking policy).
    pub fn new(users: Users) -> Self {
        Self { users }
    }

    /// The users.
    pub fn users(&self) -> &Users {
        &self.users
    }

    /// axum-login's middleware with this backend, without a session layer of its own:
    /// add it to the router before [`SessionsExt::apply`](crate::sessions::SessionsExt::apply)
    /// (or any tower-sessions layer), which then runs outside it.
    pub fn layer(&self) -> UserLayer {
        UserLayer {
            backend: self.clone(),
        }
    }

    /// The user `id` with its identities; `None` when it has none (an unknown user).
    async fn load(&self, id: UserId) -> Result<Option<AppUser>, Error> {
        let identities = self.users.store().identities(&id).await?;
        Ok((!identities.is_empty()).then(|| AppUser::new(id, identities)))
    }
}

impl AuthnBackend for UserBackend {
    type User = AppUser;
    type Credentials = LoginCredentials;
    type Error = Error;

    /// The app's user of the login's identity, resolved by [`Users::resolve`]; a login
    /// while logged in links the identity to that user. Errors: a login naming no subject
    /// ([`Error::InvalidUserinfo`]), an identity linked to another user than the one
    /// logged in ([`Error::IdentityLinkedElsewhere`], 409), a store failure.
    async fn authenticate(&self, creds: LoginCredentials) -> Result<Option<AppUser>, Error> {
        let identity = Identity::of_login(&creds.login)?;
        let id = self
            .users
            .resolve(creds.current.as_ref(), &identity)
            .await?;
        self.load(id).await
    }

    /// The user of a session, on every request: `None` for an id the store does not know
    /// (or that has no identity left), which axum-login treats as logged out.
    async fn get_user(&self, id: &UserId) -> Result<Option<AppUser>, Error> {
        self.load(id.clone()).await
    }
}

/// What [`UserBackend`] authenticates: a login ferroauth finished (the callback's
/// [`authorize_access_token`](crate::authorize_access_token)) and the user the session is
/// logged in as, if any, to whom the login's identity is then linked.
#[derive(Clone)]
pub struct LoginCredentials {
    /// The finished login.
    pub login: Login,
    /// The user the session is logged in as, if any.
    pub current: Option<UserId>,
}

impl LoginCredentials {
    /// The credentials of `login` in a session logged in as `current` (axum-login's
    /// `AuthSession::user`).
    pub fn new(login: Login, current: Option<&AppUser>) -> Self {
        Self {
            login,
            current: current.map(|user| user.id.clone()),
        }
    }
}

/// The login holds the user's tokens and claims: only its client is shown.
impl fmt::Debug for LoginCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginCredentials")
            .field("client", &self.login.client)
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

/// One of the app's users, as axum-login keeps it for a request: its id and its linked
/// provider identities, oldest link first.
#[derive(Clone)]
pub struct AppUser {
    id: UserId,
    identities: Vec<Identity>,
    auth_hash: [u8; 32],
}

impl AppUser {
    /// The user `id` with these identities.
    pub fn new(id: UserId, identities: Vec<Identity>) -> Self {
        let auth_hash = identities_hash(&identities);
        Self {
            id,
            identities,
            auth_hash,
        }
    }

    /// The user's id.
    pub fn user_id(&self) -> &UserId {
        &self.id
    }

    /// The user's linked identities, oldest link first.
    pub fn identities(&self) -> &[Identity] {
        &self.identities
    }
}

/// Without the session auth hash: noise in a log.
impl fmt::Debug for AppUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppUser")
            .field("id", &self.id)
            .field("identities", &self.identities)
            .finish_non_exhaustive()
    }
}

impl AuthUser for AppUser {
    type Id = UserId;

    fn id(&self) -> UserId {
        self.id.clone()
    }

    /// A digest of the user's set of identities. axum-login keeps it in the session at
    /// login and, on every request, logs the session out when the user's current digest
    /// differs: unlinking an identity (say, a stolen account at one provider) thus logs
    /// out every session of that user, those opened through that identity included, and
    /// linking one logs out the others but the session that linked it.
    fn session_auth_hash(&self) -> &[u8] {
        &self.auth_hash
    }
}

/// SHA-256 over the sorted identity keys, each field length-prefixed so that no two sets
/// encode alike. Only the keys: a new address or client name at a login must not log the
/// user out elsewhere.
fn identities_hash(identities: &[Identity]) -> [u8; 32] {
    let mut keys: Vec<_> = identities.iter().map(|i| &i.key).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut context = digest::Context::new(&digest::SHA256);
    for key in keys {
        for field in [&key.authority, &key.sub] {
            context.update(&(field.len() as u64).to_be_bytes());
            context.update(field.as_bytes());
        }
    }
    let mut hash = [0; 32];
    hash.copy_from_slice(context.finish().as_ref());
    hash
}

/// axum-login's middleware over [`UserBackend`] alone, for a session layer outside it
/// ([`UserBackend::layer`]).
#[derive(Debug, Clone)]
pub struct UserLayer {
    backend: UserBackend,
}

/// axum-login's session data key (its default).
const DATA_KEY: &str = "axum-login.data";

impl<S> tower_layer::Layer<S> for UserLayer {
    type Service = AuthManager<S, UserBackend>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthManager::new(inner, self.backend.clone(), DATA_KEY)
    }
}

/// axum-login's failures as responses: the backend's with their own status and code, a
/// session's as 503 `session_unavailable`.
impl From<::axum_login::Error<UserBackend>> for AuthError {
    fn from(e: ::axum_login::Error<UserBackend>) -> Self {
        match e {
            ::axum_login::Error::Backend(e) => AuthError(e),
            ::axum_login::Error::Session(e) => AuthError(Error::Session(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferroauth::users::{IdentityKey, MemoryUserStore};

    fn identity(authority: &str, sub: &str) -> Identity {
        Identity {
            key: IdentityKey {
                authority: authority.into(),
                sub: sub.into(),
            },
            provider: "dev".into(),
            email: None,
            email_verified: false,
        }
    }

    fn login(sub: &str) -> Login {
        let claims = serde_json::json!({"iss": "https://idp.example", "sub": sub});
        Login {
            client: "dev".into(),
            token: ferroauth::Token::OAuth2(
                serde_json::from_value(serde_json::json!({
                    "access_token": "secret-access-token", "token_type": "Bearer"
                }))
                .unwrap(),
            ),
            userinfo: serde_json::from_value(claims).unwrap(),
            return_to: None,
        }
    }

    #[test]
    fn the_hash_follows_the_set_of_identity_keys_only() {
        let (a, b) = (identity("https://a", "1"), identity("https://b", "2"));
        let hash = |ids: Vec<Identity>| AppUser::new(UserId("u".into()), ids).auth_hash;
        let both = hash(vec![a.clone(), b.clone()]);
        assert_eq!(
            both,
            hash(vec![b, a.clone()]),
            "a set: order does not count"
        );
        assert_ne!(both, hash(vec![a.clone()]));
        let mut renamed = a.clone();
        renamed.provider = "other".into();
        renamed.email = Some("new@example.test".into());
        assert_eq!(
            hash(vec![a]),
            hash(vec![renamed]),
            "the address is not the key"
        );
        // Length prefixes: ("ab", "c") and ("a", "bc") are different identities.
        assert_ne!(
            hash(vec![identity("ab", "c")]),
            hash(vec![identity("a", "bc")])
        );
    }

    #[tokio::test]
    async fn a_login_resolves_to_the_same_user_and_links_while_logged_in() {
        let backend = UserBackend::new(Users::new(MemoryUserStore::new()));
        let first = backend
            .authenticate(LoginCredentials::new(login("alice"), None))
            .await
            .unwrap()
            .unwrap();
        let again = backend
            .authenticate(LoginCredentials::new(login("alice"), None))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.id, first.id);
        let linked = backend
            .authenticate(LoginCredentials::new(login("bob"), Some(&first)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(linked.id, first.id);
        assert_eq!(linked.identities.len(), 2);
        assert_ne!(linked.session_auth_hash(), first.session_auth_hash());
        let loaded = backend.get_user(&first.id).await.unwrap().unwrap();
        assert_eq!(loaded.session_auth_hash(), linked.session_auth_hash());
        assert!(
            backend
                .get_user(&UserId("unknown".into()))
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn an_identity_of_another_user_is_refused_while_logged_in() {
        let backend = UserBackend::new(Users::new(MemoryUserStore::new()));
        let alice = backend
            .authenticate(LoginCredentials::new(login("alice"), None))
            .await
            .unwrap()
            .unwrap();
        backend
            .authenticate(LoginCredentials::new(login("bob"), None))
            .await
            .unwrap();
        let e = backend
            .authenticate(LoginCredentials::new(login("bob"), Some(&alice)))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "identity_linked_to_another_user");
        let e = AuthError::from(::axum_login::Error::<UserBackend>::Backend(e));
        assert_eq!(e.status(), axum::http::StatusCode::CONFLICT);
    }

    #[test]
    fn credentials_never_show_the_tokens() {
        let shown = format!("{:?}", LoginCredentials::new(login("alice"), None));
        assert!(!shown.contains("secret-access-token"), "{shown}");
        assert!(shown.contains("dev"), "{shown}");
    }
}
