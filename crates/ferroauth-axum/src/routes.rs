//! Ready-made login routes: [`AuthRoutes`].
//!
//! | route | does |
//! |---|---|
//! | `GET /login/{name}` | starts a login with client `name` and redirects to the provider; `?next=/path` (a path of this app) is where the user goes afterwards |
//! | `GET` or `POST /auth/{name}` | the callback (query or `form_post`); keeps the token and the claims in the session, renews the session id, then runs the login hook |
//! | `POST /refresh/{name}` | refreshes the stored OAuth 2.0 token (with [`AuthRoutes::with_refresh`]); re-reads userinfo when the provider has an endpoint for it |
//! | `POST /logout[?provider=NAME]` | ends the session, revokes its tokens (in the background) and sends the browser to the provider's end-session endpoint when an account has an ID token and the provider one ([`ferroauth::web::logout`]) |
//! | `GET /logged-out` | where the provider sends the browser back: checks the logout's `state`, then `/` |
//! | `GET /login[?next=PATH]` | lets the user choose a provider (where a protected page sends a browser when several providers count, [`crate::guard`]); with one client, straight to its login route |
//! | `GET /me` | with [`AuthRoutes::with_user_routes`]: a protected page, who the session is logged in as (JSON: the app's user, its identities, the logins) |
//! | `POST /unlink/{name}` | with [`AuthRoutes::with_user_routes`]: unlinks the app's user's identities at `name` (never the last: 409) and forgets that login |
//! | `POST /backchannel-logout/{name}` | the provider's back-channel logout token: ends every session it names, on every instance ([`ferroauth::web::logout::backchannel_logout`]); 200 `Cache-Control: no-store`, 400 JSON for a bad token, 501 without a server-side store |
//!
//! `POST /logout?everywhere=1` also ends every other session of the same user ("sign out
//! everywhere"). Both need the store's index of sessions by owner, which
//! [`crate::sessions::SessionsExt::apply_store`] installs.
//!
//! The `POST` routes refuse requests from other sites, sibling subdomains and other
//! origins with 403 `cross_site_request` ([`crate::refuse_cross_site`]); the login route
//! answers 400 `invalid_request` naming the parameter for a bad `max_age`, `prompt`,
//! `login_hint`, `ui_locales` or `next` ([`ferroauth::web::LoginQuery`]).
//!
//! Every route answers JSON to `Accept: application/json` (`{"error", "error_description"}`
//! on failure, with the codes of [`ferroauth::Error::code`]) and pages or redirects
//! otherwise. Mount them at the root with `merge` or under a prefix with `nest`; the redirect
//! URI and the `form_post` re-post page then keep the prefix (`<prefix>/auth/{name}`, from
//! axum's `OriginalUri`). The routes need a session layer
//! ([`crate::sessions::SessionConfig`]) and the registry as state (`OAuth: FromRef<S>`).
//!
//! The routes' work is the core's ([`ferroauth::web::routes`]): these handlers only hand
//! it axum's request and session, turn its answer into a response, and run the app's
//! hooks ([`AuthRoutes::on_login`], [`AuthRoutes::error_page`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRef, Path, Request, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use ferroauth::OAuth;
use ferroauth::session::index::SharedIndex;
use ferroauth::web::routes::{self as core, Answer};
pub use ferroauth::web::{Failure, same_origin_path};

use crate::{AuthError, AuthSession, Callback, route_request};

/// A finished login, as the login hook receives it: the token and claims are already in
/// the session, whose id is renewed ([`ferroauth::web::routes::Completed`]).
pub type Completed = core::Completed<AuthSession>;

type BoxFuture = Pin<Box<dyn Future<Output = Response> + Send>>;
type LoginHook = Arc<dyn Fn(Completed) -> BoxFuture + Send + Sync>;
type ErrorPage = Arc<dyn Fn(&Failure) -> Response + Send + Sync>;

/// The login routes, configured: see the [module docs](self).
///
/// ```no_run
/// use axum::Router;
/// use axum::response::IntoResponse;
/// use ferroauth::OAuth;
/// use ferroauth_axum::routes::{AuthRoutes, default_on_login};
///
/// # fn app(oauth: OAuth) -> Router {
/// let routes = AuthRoutes::new().with_refresh().on_login(|done| async move {
///     tracing::info!(client = %done.login.client, "logged in");
///     default_on_login(done)
/// });
/// let app: Router = Router::new().nest("/auth", routes.router()).with_state(oauth);
/// # app }
/// ```
#[derive(Clone)]
pub struct AuthRoutes {
    on_login: LoginHook,
    error_page: ErrorPage,
    refresh: bool,
    user_routes: bool,
}

impl std::fmt::Debug for AuthRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRoutes")
            .field("refresh", &self.refresh)
            .field("user_routes", &self.user_routes)
            .finish_non_exhaustive()
    }
}

impl Default for AuthRoutes {
    fn default() -> Self {
        Self::new()
    }
}

impl AuthRoutes {
    /// Login, callback and logout; the default login hook ([`default_on_login`]) and a
    /// plain error page ([`crate::failure_page`]).
    pub fn new() -> Self {
        Self {
            on_login: Arc::new(|done| Box::pin(async move { default_on_login(done) })),
            error_page: Arc::new(crate::failure_page),
            refresh: false,
            user_routes: false,
        }
    }

    /// Also serve `POST /refresh/{name}`.
    pub fn with_refresh(mut self) -> Self {
        self.refresh = true;
        self
    }

    /// Also serve `GET /me` and `POST /unlink/{name}` (the app's users: see
    /// [`ferroauth::users`] and [`ferroauth::OAuth::set_users`]).
    pub fn with_user_routes(mut self) -> Self {
        self.user_routes = true;
        self
    }

    /// What happens once a login completed (the token and claims are already in the
    /// session): the hook's response is the callback's answer.
    pub fn on_login<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Completed) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response> + Send + 'static,
    {
        self.on_login = Arc::new(move |done| Box::pin(hook(done)));
        self
    }

    /// The HTML page of a failure (JSON requests always get JSON).
    pub fn error_page<F>(mut self, page: F) -> Self
    where
        F: Fn(&Failure) -> Response + Send + Sync + 'static,
    {
        self.error_page = Arc::new(page);
        self
    }

    /// The routes, for an app whose state gives the registry.
    pub fn router<S>(self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
        OAuth: FromRef<S>,
    {
        // The configuration goes to the handlers through their closures, not as a request
        // extension: no insert into every request's extension map.
        let config = Arc::new(self);
        let c = config.clone();
        let login_route = move |o: State<OAuth>, p: Path<String>, s: Session, r: Request| {
            let c = c.clone();
            async move { c.login(o, p, s, r).await }
        };
        let c = config.clone();
        let callback_route = move |o: State<OAuth>, p: Path<String>, s: Session, r: Request| {
            let c = c.clone();
            async move { c.callback(o, p, s, r).await }
        };
        let c = config.clone();
        let logout_route = move |o: State<OAuth>, s: Session, i: Index, r: Request| {
            let c = c.clone();
            async move { c.logout(o, s, i, r).await }
        };
        let c = config.clone();
        let logged_out_route = move |s: Session, r: Request| {
            let c = c.clone();
            async move { c.logged_out(s, r).await }
        };
        let backchannel_route = |o: State<OAuth>, p: Path<String>, i: Index, body: Bytes| async move {
            let index = i.as_ref().map(|i| &*i.0);
            crate::respond(core::backchannel_logout(&o, &p, index, &body).await)
        };
        let choose_route = |o: State<OAuth>, r: Request| async move {
            let req = route_request(r.uri(), r.headers(), r.extensions());
            crate::respond(core::choose_login(&o, &req))
        };
        let routes = Router::new()
            .route("/login/{name}", get(login_route))
            .route(
                "/auth/{name}",
                get(callback_route.clone()).post(callback_route),
            )
            .route("/logout", post(logout_route))
            .route("/logged-out", get(logged_out_route))
            .route("/backchannel-logout/{name}", post(backchannel_route))
            .route("/login", get(choose_route));
        let routes = match config.user_routes {
            true => config.clone().user_routes(routes),
            false => routes,
        };
        if !config.refresh {
            return routes;
        }
        let refresh_route = move |o: State<OAuth>, p: Path<String>, s: Session, r: Request| {
            let c = config.clone();
            async move { c.refresh(o, p, s, r).await }
        };
        routes.route("/refresh/{name}", post(refresh_route))
    }

    /// `GET /me` and `POST /unlink/{name}`.
    fn user_routes<S>(self: Arc<Self>, routes: Router<S>) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
        OAuth: FromRef<S>,
    {
        let c = self.clone();
        let me_route = move |o: State<OAuth>, s: Session, r: Request| {
            let c = c.clone();
            async move {
                let req = route_request(r.uri(), r.headers(), r.extensions());
                c.respond(core::me(&o, s.map_err(|e| e.0), &req).await)
            }
        };
        let unlink_route = move |o: State<OAuth>, p: Path<String>, s: Session, r: Request| {
            let c = self.clone();
            async move {
                let req = route_request(r.uri(), r.headers(), r.extensions());
                c.respond(core::unlink(&o, &p, s.map_err(|e| e.0), &req).await)
            }
        };
        routes
            .route("/me", get(me_route))
            .route("/unlink/{name}", post(unlink_route))
    }

    /// An answer as a response; a failure gets the app's error page.
    fn respond(&self, answer: Answer) -> Response {
        match answer {
            Answer::Failed(failure) => (self.error_page)(&failure),
            answer => crate::respond(answer),
        }
    }

    async fn login(
        &self,
        oauth: State<OAuth>,
        name: Path<String>,
        s: Session,
        req: Request,
    ) -> Response {
        let req = route_request(req.uri(), req.headers(), req.extensions());
        self.respond(core::login(&oauth, &name, s.map_err(|e| e.0), &req).await)
    }

    async fn callback(
        &self,
        oauth: State<OAuth>,
        name: Path<String>,
        s: Session,
        req: Request,
    ) -> Response {
        let json = crate::wants_json(req.headers());
        let form = Callback::read(req).await;
        match core::callback(&oauth, &name, s.map_err(|e| e.0), form, json).await {
            Ok(done) => (self.on_login)(done).await,
            Err(answer) => self.respond(answer),
        }
    }

    async fn refresh(
        &self,
        oauth: State<OAuth>,
        name: Path<String>,
        s: Session,
        req: Request,
    ) -> Response {
        let req = route_request(req.uri(), req.headers(), req.extensions());
        self.respond(core::refresh(&oauth, &name, s.map_err(|e| e.0), &req).await)
    }

    async fn logout(&self, oauth: State<OAuth>, s: Session, i: Index, req: Request) -> Response {
        let req = route_request(req.uri(), req.headers(), req.extensions());
        let index = i.as_ref().map(|i| &*i.0);
        self.respond(core::logout(&oauth, s.map_err(|e| e.0), index, &req).await)
    }

    async fn logged_out(&self, s: Session, req: Request) -> Response {
        let req = route_request(req.uri(), req.headers(), req.extensions());
        self.respond(core::logged_out(s.map_err(|e| e.0), &req).await)
    }
}

/// The session as the routes take it: its absence is a failure they answer themselves.
type Session = Result<AuthSession, AuthError>;

/// The store's index of sessions by owner, when the session layer installed one.
type Index = Option<Extension<SharedIndex>>;

/// The default login hook: JSON for JSON requests, else a redirect to `next` or `/`
/// ([`ferroauth::web::routes::Completed::default_answer`]).
pub fn default_on_login(done: Completed) -> Response {
    crate::respond(done.default_answer())
}
