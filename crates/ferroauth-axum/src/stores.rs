//! Session stores by URL ([`ferroauth::session::store`] lists them and holds the logic):
//! [`SessionsExt::apply_store`](crate::sessions::SessionsExt::apply_store) installs the
//! one a [`StoreChoice`] names.

pub use ferroauth::session::store::{StoreChoice, StoreError};
