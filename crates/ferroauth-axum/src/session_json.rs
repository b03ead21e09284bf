//! Session entries kept as one JSON text each.
//!
//! tower-sessions holds a session's data as a map of `serde_json::Value`s. Inserting a
//! value with `Session::insert` turns it into a tree of `Value`s (one allocation per field
//! and string), and `Session::get` clones that tree before deserializing it; the session
//! store then encodes and decodes every node again. Pending logins, tokens and claims are
//! read and written as a whole on every login, so ferroauth keeps each of them as a single
//! `Value::String` holding its JSON text: one allocation to store, one to read, parsed
//! straight into its Rust type.
//!
//! [`get`] also reads the object form that earlier versions wrote, so sessions saved
//! before an upgrade keep working; the next [`insert`] rewrites them in the compact form.
//! None of the entries is a JSON string itself, so the two forms cannot be confused.
//!
//! ```
//! # async fn demo(session: tower_sessions::Session) -> Result<(), ferroauth::Error> {
//! use std::collections::BTreeMap;
//!
//! let mut seen: BTreeMap<String, u32> = ferroauth_axum::session_json::get(&session, "app.seen")
//!     .await?
//!     .unwrap_or_default();
//! *seen.entry("home".into()).or_default() += 1;
//! ferroauth_axum::session_json::insert(&session, "app.seen", &seen).await?;
//! # Ok(()) }
//! ```

use ferroauth::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tower_sessions::Session;

/// The entry under `key`, in either form (see the [module docs](self)). A session store
/// failure or an entry that does not parse as `T` is an [`Error::Session`].
pub async fn get<T: DeserializeOwned>(session: &Session, key: &str) -> Result<Option<T>, Error> {
    let value = session
        .get_value(key)
        .await
        .map_err(|e| Error::Session(e.to_string()))?;
    value.map(|v| decode(key, v)).transpose()
}

/// Stores `value` under `key` as its JSON text.
pub async fn insert<T: Serialize>(session: &Session, key: &str, value: &T) -> Result<(), Error> {
    let text = serde_json::to_string(value)
        .map_err(|e| Error::Session(format!("session entry {key:?}: {e}")))?;
    session
        .insert_value(key, Value::String(text))
        .await
        .map(drop)
        .map_err(|e| Error::Session(e.to_string()))
}

/// Reads one entry of a session record's data (as a session store holds it), in either
/// form: for tools and tests that inspect stored sessions.
pub fn decode<T: DeserializeOwned>(key: &str, value: Value) -> Result<T, Error> {
    let parsed = match value {
        Value::String(text) => serde_json::from_str(&text),
        other => serde_json::from_value(other),
    };
    parsed.map_err(|e| Error::Session(format!("session entry {key:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use serde_json::json;
    use tower_sessions::MemoryStore;

    use super::*;

    fn session() -> Session {
        Session::new(None, Arc::new(MemoryStore::default()), None)
    }

    #[tokio::test]
    async fn stores_one_string_and_reads_it_back() {
        let s = session();
        let value = BTreeMap::from([("a".to_owned(), vec![1, 2]), ("b".to_owned(), vec![])]);
        insert(&s, "k", &value).await.unwrap();
        assert_eq!(
            s.get_value("k").await.unwrap(),
            Some(Value::String(r#"{"a":[1,2],"b":[]}"#.into()))
        );
        assert_eq!(get(&s, "k").await.unwrap(), Some(value));
        assert_eq!(
            get::<BTreeMap<String, Vec<u8>>>(&s, "absent")
                .await
                .unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn reads_the_object_form_of_earlier_versions() {
        let s = session();
        s.insert_value("k", json!({"a": [1, 2]})).await.unwrap();
        let read: BTreeMap<String, Vec<u8>> = get(&s, "k").await.unwrap().unwrap();
        assert_eq!(read, BTreeMap::from([("a".to_owned(), vec![1, 2])]));
    }

    #[tokio::test]
    async fn an_entry_of_another_shape_is_a_session_error() {
        let s = session();
        s.insert_value("k", Value::String("not json".into()))
            .await
            .unwrap();
        let err = get::<BTreeMap<String, u8>>(&s, "k").await.unwrap_err();
        assert!(
            matches!(&err, Error::Session(m) if m.contains("\"k\"")),
            "{err:?}"
        );
        s.insert_value("k", json!([1])).await.unwrap();
        assert!(matches!(
            get::<BTreeMap<String, u8>>(&s, "k").await,
            Err(Error::Session(_))
        ));
    }
}
