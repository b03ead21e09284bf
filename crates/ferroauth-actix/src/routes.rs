//! Ready-made login routes: [`AuthRoutes`], the same routes with the same answers as
//! `ferroauth_axum::routes` (both are [`ferroauth::web::routes`]: these handlers only hand
//! it actix-web's request and session, turn its answer into a response, and run the app's
//! hooks).
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
//! everywhere"). Both need the store's index of sessions by owner, which the middleware of
//! [`crate::sessions::SessionsExt::apply_store`] hands them.
//!
//! The `POST` routes refuse requests from other sites, sibling subdomains and other
//! origins with 403 `cross_site_request` ([`crate::refuse_cross_site`]); the login route
//! answers 400 `invalid_request` naming the parameter for a bad `max_age`, `prompt`,
//! `login_hint`, `ui_locales` or `next` ([`ferroauth::web::LoginQuery`]).
//!
//! Every route answers JSON to `Accept: application/json` (`{"error", "error_description"}`
//! on failure, with the codes of [`ferroauth::Error::code`]) and pages or redirects
//! otherwise. Add them with `App::configure(routes.config())`, at the root or inside a
//! `web::scope`; the redirect URI and the `form_post` re-post page then keep the scope's
//! prefix (`<scope>/auth/{name}`). They need a session
//! middleware ([`crate::sessions::SessionConfig`]) and the registry in the app data.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use actix_web::{HttpMessage as _, HttpRequest, HttpResponse, web};
use ferroauth::session::index::SharedIndex;
use ferroauth::web::routes::{self as core, Answer};
pub use ferroauth::web::{Failure, same_origin_path};

use crate::{AuthSession, Callback, registry, route_request};

/// A finished login, as the login hook receives it: the token and claims are already in
/// the session, whose id is renewed once the response is sent
/// ([`ferroauth::web::routes::Completed`]).
pub type Completed = core::Completed<AuthSession>;

type LocalFuture = Pin<Box<dyn Future<Output = HttpResponse>>>;
type LoginHook = Rc<dyn Fn(Completed) -> LocalFuture>;
type ErrorPage = Rc<dyn Fn(&Failure) -> HttpResponse>;

/// The login routes, configured: see the [module docs](self).
///
/// actix-web builds the app once per worker thread, so the hooks need not be `Send` (the
/// axum routes' must be); the configuration is built in the `HttpServer::new` closure.
///
/// ```no_run
/// use actix_web::{App, web};
/// use ferroauth_actix::routes::{AuthRoutes, default_on_login};
///
/// # fn app(oauth: ferroauth::OAuth) {
/// let routes = AuthRoutes::new().with_refresh().on_login(|done| async move {
///     tracing::info!(client = %done.login.client, "logged in");
///     default_on_login(done)
/// });
/// let _app = App::new()
///     .app_data(web::Data::new(oauth))
///     .service(web::scope("/auth").configure(routes.config()));
/// # }
/// ```
#[derive(Clone)]
pub struct AuthRoutes {
    hooks: (LoginHook, ErrorPage),
    refresh: bool,
    user_routes: bool,
}

impl std::fmt::Debug for AuthRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut routes = f.debug_struct("AuthRoutes");
        routes
            .field("refresh", &self.refresh)
            .field("user_routes", &self.user_routes)
            .finish_non_exhaustive()
    }
}

impl Default for AuthRoutes {
    fn default() -> Self {
        let on_login: LoginHook = Rc::new(|done| Box::pin(async move { default_on_login(done) }));
        Self {
            hooks: (on_login, Rc::new(crate::failure_page)),
            refresh: false,
            user_routes: false,
        }
    }
}

impl AuthRoutes {
    /// Login, callback and logout; the default login hook ([`default_on_login`]) and a
    /// plain error page ([`crate::failure_page`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Also serve `POST /refresh/{name}`.
    pub fn with_refresh(self) -> Self {
        Self {
            refresh: true,
            ..self
        }
    }

    /// Also serve `GET /me` and `POST /unlink/{name}` (the app's users: see
    /// [`ferroauth::users`] and [`ferroauth::OAuth::set_users`]).
    pub fn with_user_routes(self) -> Self {
        Self {
            user_routes: true,
            ..self
        }
    }

    /// What happens once a login completed (the token and claims are already in the
    /// session): the hook's response is the callback's answer.
    pub fn on_login<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Completed) -> Fut + 'static,
        Fut: Future<Output = HttpResponse> + 'static,
    {
        self.hooks.0 = Rc::new(move |done| Box::pin(hook(done)));
        self
    }

    /// The HTML page of a failure (JSON requests always get JSON).
    pub fn error_page(mut self, page: impl Fn(&Failure) -> HttpResponse + 'static) -> Self {
        self.hooks.1 = Rc::new(page);
        self
    }

    /// The routes, for `App::configure` or `Scope::configure`.
    pub fn config(self) -> impl FnOnce(&mut web::ServiceConfig) {
        move |cfg| {
            let routes = Rc::new(self);
            let r = routes.clone();
            let login_route = move |req: HttpRequest, name: web::Path<String>| {
                let r = r.clone();
                async move { r.login(req, name).await }
            };
            let r = routes.clone();
            let callback_route =
                move |req: HttpRequest, name: web::Path<String>, body: web::Payload| {
                    let r = r.clone();
                    async move { r.callback(req, name, body).await }
                };
            let r = routes.clone();
            let logout_route = move |req: HttpRequest| {
                let r = r.clone();
                async move { r.logout(req).await }
            };
            let r = routes.clone();
            let logged_out_route = move |req: HttpRequest| {
                let r = r.clone();
                async move { r.logged_out(req).await }
            };
            let r = routes.clone();
            let backchannel_route =
                move |req: HttpRequest, name: web::Path<String>, body: web::Bytes| {
                    let r = r.clone();
                    async move { r.backchannel_logout(req, name, body).await }
                };
            // One resource per path: actix-web tries each resource's pattern (a regex for
            // `{name}`) in turn, so two resources for one path would cost a second match.
            cfg.route("/login/{name}", web::get().to(login_route))
                .service(
                    web::resource("/auth/{name}")
                        .route(web::get().to(callback_route.clone()))
                        .route(web::post().to(callback_route)),
                )
                .route("/logout", web::post().to(logout_route))
                .route("/logged-out", web::get().to(logged_out_route))
                .route(
                    "/backchannel-logout/{name}",
                    web::post().to(backchannel_route),
                )
                .route("/login", web::get().to(choose_login));
            if routes.user_routes {
                routes.clone().user_routes(cfg);
            }
            if routes.refresh {
                let refresh_route = move |req: HttpRequest, name: web::Path<String>| {
                    let r = routes.clone();
                    async move { r.refresh(req, name).await }
                };
                cfg.route("/refresh/{name}", web::post().to(refresh_route));
            }
        }
    }

    /// `GET /me` and `POST /unlink/{name}`.
    fn user_routes(self: Rc<Self>, cfg: &mut web::ServiceConfig) {
        let r = self.clone();
        let me_route = move |req: HttpRequest| {
            let r = r.clone();
            async move {
                let oauth = match r.registry(&req) {
                    Ok(oauth) => oauth,
                    Err(failed) => return failed,
                };
                let session = AuthSession::required(&req).map_err(|e| e.0);
                r.respond(core::me(&oauth, session, &route_request(&req)).await)
            }
        };
        let unlink_route = move |req: HttpRequest, name: web::Path<String>| {
            let r = self.clone();
            async move {
                let oauth = match r.registry(&req) {
                    Ok(oauth) => oauth,
                    Err(failed) => return failed,
                };
                let session = AuthSession::required(&req).map_err(|e| e.0);
                r.respond(core::unlink(&oauth, &name, session, &route_request(&req)).await)
            }
        };
        cfg.route("/me", web::get().to(me_route))
            .route("/unlink/{name}", web::post().to(unlink_route));
    }

    /// An answer as a response; a failure gets the app's error page.
    fn respond(&self, answer: Answer) -> HttpResponse {
        match answer {
            Answer::Failed(failure) => (self.hooks.1)(&failure),
            answer => crate::respond(answer),
        }
    }

    /// The registry, or the failure of an app without it in its app data.
    fn registry(&self, req: &HttpRequest) -> Result<ferroauth::OAuth, HttpResponse> {
        let json = crate::wants_json(req.headers());
        registry(req).map_err(|e| self.respond(Answer::fail(json, &Failure::of(&e.0))))
    }

    async fn login(&self, req: HttpRequest, name: web::Path<String>) -> HttpResponse {
        let oauth = match self.registry(&req) {
            Ok(oauth) => oauth,
            Err(failed) => return failed,
        };
        let session = AuthSession::required(&req).map_err(|e| e.0);
        self.respond(core::login(&oauth, &name, session, &route_request(&req)).await)
    }

    async fn callback(
        &self,
        req: HttpRequest,
        name: web::Path<String>,
        body: web::Payload,
    ) -> HttpResponse {
        let json = crate::wants_json(req.headers());
        let form = Callback::read(&req, body.into_inner()).await;
        let oauth = match self.registry(&req) {
            Ok(oauth) => oauth,
            Err(failed) => return failed,
        };
        let session = AuthSession::required(&req).map_err(|e| e.0);
        match core::callback(&oauth, &name, session, form, json).await {
            Ok(done) => (self.hooks.0)(done).await,
            Err(answer) => self.respond(answer),
        }
    }

    async fn refresh(&self, req: HttpRequest, name: web::Path<String>) -> HttpResponse {
        let oauth = match self.registry(&req) {
            Ok(oauth) => oauth,
            Err(failed) => return failed,
        };
        let session = AuthSession::required(&req).map_err(|e| e.0);
        self.respond(core::refresh(&oauth, &name, session, &route_request(&req)).await)
    }

    async fn logout(&self, req: HttpRequest) -> HttpResponse {
        let oauth = match self.registry(&req) {
            Ok(oauth) => oauth,
            Err(failed) => return failed,
        };
        let session = AuthSession::required(&req).map_err(|e| e.0);
        let index = index_of(&req);
        let index = index.as_deref();
        self.respond(core::logout(&oauth, session, index, &route_request(&req)).await)
    }

    async fn backchannel_logout(
        &self,
        req: HttpRequest,
        name: web::Path<String>,
        body: web::Bytes,
    ) -> HttpResponse {
        let oauth = match self.registry(&req) {
            Ok(oauth) => oauth,
            Err(failed) => return failed,
        };
        let index = index_of(&req);
        crate::respond(core::backchannel_logout(&oauth, &name, index.as_deref(), &body).await)
    }

    async fn logged_out(&self, req: HttpRequest) -> HttpResponse {
        let session = AuthSession::required(&req).map_err(|e| e.0);
        self.respond(core::logged_out(session, &route_request(&req)).await)
    }
}

/// `GET /login`: the provider chooser ([`core::choose_login`]).
async fn choose_login(req: HttpRequest) -> HttpResponse {
    match registry(&req) {
        Ok(oauth) => crate::respond(core::choose_login(&oauth, &route_request(&req))),
        Err(e) => crate::respond(Answer::fail(
            crate::wants_json(req.headers()),
            &Failure::of(&e.0),
        )),
    }
}

/// The store's index of sessions by owner, when the session middleware handed one.
fn index_of(req: &HttpRequest) -> Option<SharedIndex> {
    req.extensions().get::<SharedIndex>().cloned()
}

/// The default login hook: JSON for JSON requests, else a redirect to `next` or `/`
/// ([`ferroauth::web::routes::Completed::default_answer`]).
pub fn default_on_login(done: Completed) -> HttpResponse {
    crate::respond(done.default_answer())
}
