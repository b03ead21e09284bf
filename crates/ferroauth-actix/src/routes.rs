//! Ready-made login routes: [`AuthRoutes`], the same routes with the same answers as
//! `ferroauth_axum::routes` (both are [`ferroauth::web::flows`]).
//!
//! | route | does |
//! |---|---|
//! | `GET /login/{name}` | starts a login with client `name` and redirects to the provider; `?next=/path` (a path of this app) is where the user goes afterwards |
//! | `GET` or `POST /auth/{name}` | the callback (query or `form_post`); keeps the token and the claims in the session, renews the session id, then runs the login hook |
//! | `POST /refresh/{name}` | refreshes the stored OAuth 2.0 token (with [`AuthRoutes::with_refresh`]); re-reads userinfo when the provider has an endpoint for it |
//! | `POST /logout` | clears the session; redirects to the provider's end-session endpoint when an account has an ID token and the provider one |
//!
//! The `POST` routes refuse requests from other sites, sibling subdomains and other
//! origins with 403 `cross_site_request` ([`crate::refuse_cross_site`]); the login route
//! answers 400 `invalid_request` naming the parameter for a bad `max_age`, `prompt`,
//! `login_hint`, `ui_locales` or `next` ([`ferroauth::web::LoginQuery`]).
//!
//! Every route answers JSON to `Accept: application/json` (`{"error", "error_description"}`
//! on failure, with the codes of [`ferroauth::Error::code`]) and pages or redirects
//! otherwise. Add them with `App::configure(routes.config())`, at the root or inside a
//! `web::scope`; the redirect URI is then `<scope>/auth/{name}`. They need a session
//! middleware ([`crate::sessions::SessionConfig`]) and the registry in the app data.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, Responder as _, web};
pub use ferroauth::web::flows::TokenSummary;
use ferroauth::web::flows::{self, LoginAnswer};
pub use ferroauth::web::{Failure, same_origin_path};
use ferroauth::{Login, Profile};

use crate::{
    AuthError, AuthSession, Callback, CallbackRejection, LoginRedirect, RedirectUri,
    refuse_cross_site, registry, wants_json,
};

/// A finished login, as the login hook receives it: the token and claims are already in
/// the session.
#[derive(Debug)]
pub struct Completed {
    /// The login: client name, token, claims, and where the user asked to go.
    pub login: Login,
    /// The session the login was kept in (its id renewed once the response is sent).
    pub session: AuthSession,
    /// Whether the request asked for JSON.
    pub json: bool,
}

impl Completed {
    /// The user, normalized from the login's claims.
    pub fn profile(&self) -> Profile {
        Profile::from_claims(&self.login.userinfo)
    }
}

type LocalFuture = Pin<Box<dyn Future<Output = HttpResponse>>>;
type LoginHook = Rc<dyn Fn(Completed) -> LocalFuture>;
type ErrorPage = Rc<dyn Fn(&Failure) -> HttpResponse>;

/// The login routes, configured: see the [module docs](self).
///
/// actix-web builds the app once per worker thread, so the hooks need not be `Send`; the
/// configuration is built in the `HttpServer::new` closure.
///
/// ```no_run
/// use actix_web::{App, web};
/// use ferroauth_actix::routes::AuthRoutes;
///
/// # fn app(oauth: ferroauth::OAuth) {
/// let _app = App::new()
///     .app_data(web::Data::new(oauth))
///     .service(web::scope("/auth").configure(AuthRoutes::new().with_refresh().config()));
/// # }
/// ```
#[derive(Clone)]
pub struct AuthRoutes {
    on_login: LoginHook,
    error_page: ErrorPage,
    refresh: bool,
}

impl std::fmt::Debug for AuthRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRoutes")
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

impl Default for AuthRoutes {
    fn default() -> Self {
        Self::new()
    }
}

impl AuthRoutes {
    /// Login, callback and logout; the default login hook (JSON for JSON requests, else a
    /// redirect to `next` or `/`) and a plain error page.
    pub fn new() -> Self {
        Self {
            on_login: Rc::new(|done| Box::pin(async move { default_on_login(done) })),
            error_page: Rc::new(crate::failure_page),
            refresh: false,
        }
    }

    /// Also serve `POST /refresh/{name}`.
    pub fn with_refresh(mut self) -> Self {
        self.refresh = true;
        self
    }

    /// What happens once a login completed (the token and claims are already in the
    /// session): the hook's response is the callback's answer.
    pub fn on_login<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Completed) -> Fut + 'static,
        Fut: Future<Output = HttpResponse> + 'static,
    {
        self.on_login = Rc::new(move |done| Box::pin(hook(done)));
        self
    }

    /// The HTML page of a failure (JSON requests always get JSON).
    pub fn error_page<F>(mut self, page: F) -> Self
    where
        F: Fn(&Failure) -> HttpResponse + 'static,
    {
        self.error_page = Rc::new(page);
        self
    }

    /// The routes, for `App::configure` or `Scope::configure`.
    pub fn config(self) -> impl FnOnce(&mut web::ServiceConfig) {
        move |cfg| {
            let routes = Rc::new(self);
            let r = routes.clone();
            let login_route = move |req: HttpRequest, name: web::Path<String>| {
                login(r.clone(), req, name.into_inner())
            };
            let r = routes.clone();
            let callback_route =
                move |req: HttpRequest,
                      name: web::Path<String>,
                      cb: Result<Callback, CallbackRejection>| {
                    callback(r.clone(), req, name.into_inner(), cb)
                };
            let r = routes.clone();
            let logout_route = move |req: HttpRequest| logout(r.clone(), req);
            // One resource per path: actix-web tries each resource's pattern (a regex for
            // `{name}`) in turn, so two resources for one path would cost a second match.
            cfg.route("/login/{name}", web::get().to(login_route))
                .service(
                    web::resource("/auth/{name}")
                        .route(web::get().to(callback_route.clone()))
                        .route(web::post().to(callback_route)),
                )
                .route("/logout", web::post().to(logout_route));
            if routes.refresh {
                let r = routes.clone();
                let refresh_route = move |req: HttpRequest, name: web::Path<String>| {
                    refresh_token(r.clone(), req, name.into_inner())
                };
                cfg.route("/refresh/{name}", web::post().to(refresh_route));
            }
        }
    }

    fn fail(&self, json: bool, failure: &Failure) -> HttpResponse {
        failure.log();
        if json {
            crate::failure_json(failure)
        } else {
            (self.error_page)(failure)
        }
    }

    fn fail_with(&self, json: bool, e: &AuthError) -> HttpResponse {
        self.fail(json, &Failure::of(&e.0))
    }
}

async fn login(routes: Rc<AuthRoutes>, req: HttpRequest, name: String) -> HttpResponse {
    let json = wants_json(req.headers());
    let result = async {
        let client = registry(&req)?.client(&name)?;
        let session = AuthSession::required(&req)?;
        let redirect_uri = RedirectUri::of(&req)?.to(&flows::callback_path(req.path(), &name));
        let url = flows::start_login(&client, &session, &redirect_uri, req.query_string()).await?;
        Ok::<_, AuthError>(LoginRedirect(url))
    }
    .await;
    match result {
        Ok(redirect) => redirect.respond_to(&req),
        Err(e) => routes.fail_with(json, &e),
    }
}

async fn callback(
    routes: Rc<AuthRoutes>,
    req: HttpRequest,
    name: String,
    callback: Result<Callback, CallbackRejection>,
) -> HttpResponse {
    let json = wants_json(req.headers());
    let params = match callback {
        Ok(Callback(params)) => params,
        Err(CallbackRejection::Invalid(e)) => return routes.fail_with(json, &e),
        // A form_post callback without the session cookie: posted again from this origin.
        Err(CallbackRejection::Resubmit(page)) => return crate::resubmit_response(&page),
    };
    let result = async {
        let client = registry(&req)?.client(&name)?;
        let session = AuthSession::required(&req)?;
        // Renews the session id once the login succeeds (session fixation).
        let login = flows::finish_login(&client, &session, &params).await?;
        Ok::<_, AuthError>((login, session))
    }
    .await;
    match result {
        Ok((login, session)) => {
            (routes.on_login)(Completed {
                login,
                session,
                json,
            })
            .await
        }
        Err(e) => routes.fail_with(json, &e),
    }
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// The default login hook: JSON for JSON requests, else a redirect to `next` or `/`.
pub fn default_on_login(done: Completed) -> HttpResponse {
    if done.json {
        return HttpResponse::Ok().json(LoginAnswer::of(&done.login));
    }
    redirect(done.login.return_to.as_deref().unwrap_or("/"))
}

async fn refresh_token(routes: Rc<AuthRoutes>, req: HttpRequest, name: String) -> HttpResponse {
    let json = wants_json(req.headers());
    let result = async {
        refuse_cross_site(&req)?;
        let client = registry(&req)?.client(&name)?;
        let session = AuthSession::required(&req)?;
        Ok::<_, AuthError>(flows::refresh(&client, &session).await?)
    }
    .await;
    match result {
        Ok((token, claims)) if json => {
            HttpResponse::Ok().json(LoginAnswer::new(&name, &claims, &token))
        }
        Ok(_) => redirect("/"),
        Err(e) => routes.fail(json, &Failure::of_refresh(&e.0)),
    }
}

async fn logout(routes: Rc<AuthRoutes>, req: HttpRequest) -> HttpResponse {
    let json = wants_json(req.headers());
    let result = async {
        refuse_cross_site(&req)?;
        let oauth = registry(&req)?;
        let session = AuthSession::required(&req)?;
        let back = RedirectUri::of(&req).ok().map(|u| u.to("/"));
        Ok::<_, AuthError>(flows::logout(&oauth, &session, back.as_deref()).await?)
    }
    .await;
    match result {
        Ok(url) if json => HttpResponse::Ok().json(flows::logout_answer(url.as_ref())),
        Ok(Some(url)) => redirect(url.as_str()),
        Ok(None) => redirect("/"),
        Err(e) => routes.fail_with(json, &e),
    }
}
