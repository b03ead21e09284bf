//! Session store failures as 503 Service Unavailable: the axum wiring of
//! [`ferroauth::session::store::guard`], the policy both adapters share.
//!
//! - [`GuardedStore`] wraps any tower-sessions store and notes its failures;
//! - [`session_store_guard`], a middleware placed *outside* the `SessionManagerLayer`,
//!   turns a server error of a request that saw a store failure into a 503 with a JSON
//!   body (`{"error": "session_unavailable", ...}`) or a short HTML page.
//!
//! [`SessionsExt::apply`](crate::sessions::SessionsExt::apply) installs both; both are
//! public in [`crate::sessions`], for an app that builds its layers itself.
//!
//! ```no_run
//! # use axum::{Router, routing::get};
//! use ferroauth_axum::memory_store::MemoryStore;
//! use ferroauth_axum::sessions::{GuardedStore, session_store_guard};
//! use tower_sessions::SessionManagerLayer;
//!
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "hi" }))
//!     .layer(SessionManagerLayer::new(GuardedStore::new(MemoryStore::new())))
//!     .layer(axum::middleware::from_fn(session_store_guard));
//! ```

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
pub use ferroauth::session::store::guard::GuardedStore;
use ferroauth::session::store::guard::watch;

/// Middleware: a server error from a request during which the session store failed becomes
/// a 503 naming the session store. Place it outside (after, in `.layer` order) the session
/// layer.
pub async fn session_store_guard(request: Request, next: Next) -> Response {
    let json = crate::wants_json(request.headers());
    let (response, watched) = watch(next.run(request)).await;
    if !watched.answers_unavailable(response.status().as_u16()) {
        return response;
    }
    store_unavailable(json)
}

/// The 503 answer for an unavailable session store.
pub(crate) fn store_unavailable(json: bool) -> Response {
    let failure = ferroauth::web::Failure::store_unavailable();
    if json {
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(failure.json())).into_response();
    }
    (StatusCode::SERVICE_UNAVAILABLE, Html(failure.page())).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;
    use tower_sessions::session::{Id, Record};
    use tower_sessions::session_store::{self, SessionStore};
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
