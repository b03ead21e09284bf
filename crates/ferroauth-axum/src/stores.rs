//! Session stores by URL ([`ferroauth::session::store`] lists them and holds the logic):
//! [`SessionConfig::apply_store`] installs the one a [`StoreChoice`] names.

use axum::Router;
use ferroauth::session::sealed::CookieKeys;
use ferroauth::session::store::OpenStore;
pub use ferroauth::session::store::{StoreChoice, StoreError};

use crate::sessions::SessionConfig;

impl SessionConfig {
    /// `router` with sessions in the store `choice` names, opened by
    /// [`StoreChoice::open`] (a wrong URL fails here, at start). The cookie store uses
    /// `cookie_keys`; without them, a random key (logged at warn), so cookies then die
    /// with the process.
    pub async fn apply_store<St>(
        &self,
        router: Router<St>,
        choice: &StoreChoice,
        cookie_keys: Option<CookieKeys>,
    ) -> Result<Router<St>, StoreError>
    where
        St: Clone + Send + Sync + 'static,
    {
        Ok(match choice.open(cookie_keys).await? {
            OpenStore::Memory(store) => self.apply(router, store),
            OpenStore::Shared(store) => self.apply(router, store),
            OpenStore::Cookie(keys) => self.apply_sealed(router, keys),
        })
    }
}
