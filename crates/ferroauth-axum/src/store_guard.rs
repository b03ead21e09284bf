//! Session store failures as 503 Service Unavailable.
//!
//! tower-sessions saves a modified session after the handler has answered; when that save
//! fails (Redis down, database gone) its layer replaces the response with an empty 500. A
//! login route should instead say that the session store is unavailable, with 503, so that
//! clients and load balancers retry. Two pieces do that:
//!
//! - [`GuardedStore`] wraps any [`SessionStore`] and notes every failure of the wrapped
//!   store in the current request;
//! - [`session_store_guard`], a middleware placed *outside* the `SessionManagerLayer`,
//!   turns a 500 of a request that saw a store failure into a 503 with a JSON body
//!   (`{"error": "session_unavailable", ...}`) or a short HTML page.
//!
//! ```no_run
//! # use axum::{Router, routing::get};
//! use ferroauth_axum::memory_store::PurgingMemoryStore;
//! use ferroauth_axum::store_guard::{GuardedStore, session_store_guard};
//! use tower_sessions::SessionManagerLayer;
//!
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "hi" }))
//!     .layer(SessionManagerLayer::new(GuardedStore::new(PurgingMemoryStore::new())))
//!     .layer(axum::middleware::from_fn(session_store_guard));
//! ```
//!
//! Errors the handler itself sees (a failed load) are [`ferroauth::Error::Session`] and already answer
//! 503 through [`AuthError`](crate::AuthError).

use std::cell::Cell;

use async_trait::async_trait;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

tokio::task_local! {
    /// Whether the session store failed during the current request. A task-local, not a
    /// shared flag: the store runs on the request's own task.
    static STORE_FAILED: Cell<bool>;
}

fn note_failure<T>(result: session_store::Result<T>) -> session_store::Result<T> {
    if let Err(e) = &result {
        tracing::warn!(error = %e, "session store failed");
        let _ = STORE_FAILED.try_with(|failed| failed.set(true));
    }
    result
}

/// A [`SessionStore`] that reports its failures to [`session_store_guard`]: see the
/// [module docs](self).
#[derive(Debug, Clone)]
pub struct GuardedStore<S>(S);

impl<S> GuardedStore<S> {
    /// Wraps `store`.
    pub fn new(store: S) -> Self {
        Self(store)
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.0
    }
}

#[async_trait]
impl<S: SessionStore> SessionStore for GuardedStore<S> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        note_failure(self.0.create(record).await)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        note_failure(self.0.save(record).await)
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        note_failure(self.0.load(session_id).await)
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        note_failure(self.0.delete(session_id).await)
    }
}

#[async_trait]
impl<S: ExpiredDeletion> ExpiredDeletion for GuardedStore<S> {
    async fn delete_expired(&self) -> session_store::Result<()> {
        note_failure(self.0.delete_expired().await)
    }
}

/// Middleware: a 500 from a request during which the session store failed becomes a 503
/// naming the session store. Place it outside (after, in `.layer` order) the session layer.
pub async fn session_store_guard(request: Request, next: Next) -> Response {
    let json = crate::wants_json(request.headers());
    let (response, failed) = STORE_FAILED
        .scope(Cell::new(false), async move {
            let response = next.run(request).await;
            (response, STORE_FAILED.with(Cell::get))
        })
        .await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR || !failed {
        return response;
    }
    store_unavailable(json)
}

/// The 503 answer for an unavailable session store.
pub fn store_unavailable(json: bool) -> Response {
    let failure = ferroauth::web::Failure::store_unavailable();
    if json {
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(failure.json())).into_response();
    }
    (StatusCode::SERVICE_UNAVAILABLE, Html(failure.page())).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;
    use tower_sessions::{Session, SessionManagerLayer};

    #[derive(Debug, Clone)]
    struct Broken;

    #[async_trait]
    impl SessionStore for Broken {
        async fn create(&self, _: &mut Record) -> session_store::Result<()> {
            Err(session_store::Error::Backend("down".into()))
        }
        async fn save(&self, _: &Record) -> session_store::Result<()> {
            Err(session_store::Error::Backend("down".into()))
        }
        async fn load(&self, _: &Id) -> session_store::Result<Option<Record>> {
            Err(session_store::Error::Backend("down".into()))
        }
        async fn delete(&self, _: &Id) -> session_store::Result<()> {
            Err(session_store::Error::Backend("down".into()))
        }
    }

    fn app() -> Router {
        Router::new()
            .route(
                "/set",
                get(|s: Session| async move {
                    s.insert("k", 1).await.unwrap();
                    "ok"
                }),
            )
            .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
            .layer(SessionManagerLayer::new(GuardedStore::new(Broken)))
            .layer(axum::middleware::from_fn(session_store_guard))
    }

    #[tokio::test]
    async fn a_failed_save_answers_503_with_a_code() {
        let response = app()
            .oneshot(
                Request::builder()
                    .uri("/set")
                    .header(axum::http::header::ACCEPT, "application/json")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "session_unavailable");
    }

    #[tokio::test]
    async fn other_500s_are_left_alone() {
        let response = app()
            .oneshot(
                Request::builder()
                    .uri("/fail")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
