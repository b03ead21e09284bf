//! The ready-made routes, whole, with no framework's types: an integration hands each
//! route its request as a [`RouteRequest`] and its session, and sends back the [`Answer`].
//!
//! | route | function |
//! |---|---|
//! | `GET /login/{name}` | [`login`] |
//! | `GET` or `POST /auth/{name}` | [`RouteRequest::callback_form`], then [`callback`]; a completed login goes to the app's hook as [`Completed`] |
//! | `POST /refresh/{name}` | [`refresh`] |
//! | `POST /logout[?provider=NAME][&everywhere=1]` | [`logout()`] |
//! | `GET /logged-out` | [`logged_out()`] |
//! | `POST /backchannel-logout/{name}` | [`backchannel_logout()`] |
//! | `GET /login` | [`choose_login`] (where a protected page sends a browser when several providers count) |
//! | `GET /me` | [`me`] (a protected page: who the session is logged in as) |
//! | `POST /unlink/{name}` | [`unlink`] (with the app's users) |
//!
//! What is left to an integration is what its framework forces: reading the request
//! (headers, the path as the client sent it, the body of a `form_post` callback), finding
//! the session and the registry, turning an [`Answer`] into its response type, and running
//! the app's hooks (the login hook, the error page), whose responses are the framework's.
//!
//! The routes may be mounted under a prefix: [`RouteRequest::path`] is the path as the
//! client sent it (axum's `OriginalUri`, not the path a nested router sees), so the
//! redirect URI and the `form_post` re-post page keep the prefix.

use std::borrow::Cow;

use serde::Serialize;

use super::flows::{self, LoginAnswer};
use super::logout;
use super::{AppUrl, CallbackForm, Failure, FetchHeaders, RedirectUriConfig, RequestOrigin};
use crate::form_post::ResubmitPage;
use crate::session::Session;
use crate::session::index::SessionIndex;
use crate::users::{Identity, UserId};
use crate::{CallbackParams, Error, Login, OAuth, Profile};

/// A request to one of the routes, as its framework gave it. `H` looks a header up by its
/// lower-case name (a closure over the framework's header map: no copy of the headers).
#[derive(Debug, Clone, Copy)]
pub struct RouteRequest<'a, H> {
    /// The path as the client sent it, mount prefix included.
    pub path: &'a str,
    /// The query string, without `?` (empty when there is none).
    pub query: &'a str,
    /// The request URI's scheme and authority, when it is absolute.
    pub scheme: Option<&'a str>,
    /// The request URI's authority, when it is absolute.
    pub authority: Option<&'a str>,
    /// Header lookup: `headers("accept")`.
    pub headers: H,
    /// How the app's own URL is derived ([`AppUrl`]).
    pub redirect_uri: &'a RedirectUriConfig,
}

/// The [`RedirectUriConfig`] of an app that sets none: no forwarded header trusted.
pub static DEFAULT_REDIRECT_URI: RedirectUriConfig = RedirectUriConfig {
    public_base_url: None,
    trust_forwarded_headers: false,
};

impl<'a, H: Fn(&str) -> Option<&'a str>> RouteRequest<'a, H> {
    /// A header's value, when it is text.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        (self.headers)(name)
    }

    /// Whether the request asks for JSON ([`super::wants_json`]).
    pub fn wants_json(&self) -> bool {
        super::wants_json(self.header("accept"))
    }

    /// The path and query as the client sent them (`/me?tab=2`): where a refused or
    /// re-posted request goes back to.
    pub fn path_and_query(&self) -> Cow<'a, str> {
        match self.query {
            "" => Cow::Borrowed(self.path),
            query => Cow::Owned(format!("{}?{query}", self.path)),
        }
    }

    /// The app's own URL for this request ([`AppUrl::from_request`]).
    pub fn app_url(&self) -> Result<AppUrl, Error> {
        let origin = RequestOrigin {
            host: self.header("host"),
            forwarded_proto: self.header("x-forwarded-proto"),
            forwarded_host: self.header("x-forwarded-host"),
            scheme: self.scheme,
            authority: self.authority,
        };
        AppUrl::from_request(&origin, self.redirect_uri)
    }

    /// Refuses a state-changing request from another site ([`super::refuse_cross_site`]);
    /// `app` is [`Self::app_url`], when it could be derived.
    pub fn refuse_cross_site(&self, app: Option<&AppUrl>) -> Result<(), Error> {
        let fetch = FetchHeaders {
            sec_fetch_site: self.header("sec-fetch-site"),
            origin: self.header("origin"),
        };
        super::refuse_cross_site(fetch, app)
    }

    /// A callback's parameters: the query of a GET, or the form `body` of a POST
    /// ([`super::callback_from_form`]), whose re-post page (a POST without the session)
    /// posts to the path and query the client sent, mount prefix included.
    pub fn callback_form(
        &self,
        post: bool,
        body: &[u8],
        session_arrived: bool,
    ) -> Result<CallbackForm, Error> {
        if !post {
            return Ok(CallbackForm::Params(CallbackParams::parse(self.query)?));
        }
        let content_type = self.header("content-type");
        let json = self.wants_json();
        let action = self.path_and_query();
        super::callback_from_form(content_type, body, session_arrived, json, &action)
    }
}

/// The `Content-Type` of JSON answers.
pub const JSON: &str = "application/json";
/// The `Content-Type` of HTML pages.
pub const HTML: &str = "text/html; charset=utf-8";

/// What a route answers; each integration turns it into its response.
#[derive(Debug)]
pub enum Answer {
    /// `302 Found` to the provider, with `Cache-Control: no-store` (the URL carries a
    /// one-time state).
    ToProvider(url::Url),
    /// `303 See Other` to a URL, or a path of this app.
    SeeOther(Cow<'static, str>),
    /// A body with its status and `Content-Type`: JSON ([`Answer::json`], [`JSON`]), an
    /// HTML page ([`HTML`]), or an app's own.
    Body(u16, &'static str, String),
    /// A `form_post` callback without the session: the page that posts it again from the
    /// app's origin, sent with [`ResubmitPage::headers`].
    Resubmit(ResubmitPage),
    /// A failure for a browser: the app's error page (JSON requests get JSON).
    Failed(Failure),
    /// `200 OK` with no body and `Cache-Control: no-store`: a server-to-server call done
    /// (a back-channel logout).
    Acknowledged,
}

impl Answer {
    /// `200 OK` with `value` as JSON.
    pub fn json(value: &impl Serialize) -> Self {
        match serde_json::to_string(value) {
            Ok(body) => Self::Body(200, JSON, body),
            // Claims and token summaries are maps of strings: unreachable in practice.
            Err(e) => Self::fail(true, &Failure::new(500, "json_failed", e.to_string())),
        }
    }

    /// An HTML page with its status.
    pub fn page(status: u16, html: String) -> Self {
        Self::Body(status, HTML, html)
    }

    /// A failure, logged when the server is at fault: JSON
    /// `{"error", "error_description"}` with its status for a JSON request, else
    /// [`Answer::Failed`] for the error page.
    pub fn fail(json: bool, failure: &Failure) -> Self {
        failure.log();
        if json {
            Self::Body(failure.status, JSON, failure.json().to_string())
        } else {
            Self::Failed(failure.clone())
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::ToProvider(_) => 302,
            Self::SeeOther(_) => 303,
            Self::Body(status, ..) => *status,
            Self::Resubmit(_) | Self::Acknowledged => 200,
            Self::Failed(failure) => failure.status,
        }
    }
}

/// A finished login, as the app's login hook receives it: the token and claims are
/// already in the session, whose id is renewed. `S` is the integration's session.
#[derive(Debug)]
pub struct Completed<S> {
    /// The login: client name, token, claims, and where the user asked to go.
    pub login: Login,
    /// The app's user the login resolved to, when the app keeps users
    /// ([`OAuth::set_users`]).
    pub user: Option<UserId>,
    /// The session the login was kept in.
    pub session: S,
    /// Whether the request asked for JSON.
    pub json: bool,
}

impl<S> Completed<S> {
    /// The user, normalized from the login's claims.
    pub fn profile(&self) -> Profile {
        Profile::from_claims(&self.login.userinfo)
    }

    /// The default login hook's answer: the login as JSON ([`LoginAnswer`]) for a JSON
    /// request, else a redirect to where the user asked to go, or `/`.
    pub fn default_answer(self) -> Answer {
        if self.json {
            return Answer::json(&LoginAnswer::of(&self.login));
        }
        Answer::SeeOther(self.login.return_to.map_or(Cow::Borrowed("/"), Cow::Owned))
    }
}

/// `GET /login/{name}`: starts a login ([`flows::start_login`]) with the redirect URI
/// beside this route ([`flows::callback_path`]).
pub async fn login<'a, S: Session, H: Fn(&str) -> Option<&'a str>>(
    oauth: &OAuth,
    name: &str,
    session: Result<S, Error>,
    req: &RouteRequest<'a, H>,
) -> Answer {
    let result = async {
        let client = oauth.client(name)?;
        let session = session?;
        let redirect_uri = req.app_url()?.to(&flows::callback_path(req.path, name));
        flows::start_login(&client, &session, &redirect_uri, req.query).await
    }
    .await;
    match result {
        Ok(url) => Answer::ToProvider(url),
        Err(e) => Answer::fail(req.wants_json(), &Failure::of(&e)),
    }
}

/// `GET` or `POST /auth/{name}`: finishes a login ([`flows::finish_login`]) with the
/// parameters of [`RouteRequest::callback_form`]. `Ok` is for the app's login hook; `Err`
/// the answer (a failure, or the re-post page).
pub async fn callback<S: Session>(
    oauth: &OAuth,
    name: &str,
    session: Result<S, Error>,
    form: Result<CallbackForm, Error>,
    json: bool,
) -> Result<Completed<S>, Answer> {
    let params = match form {
        Ok(CallbackForm::Params(params)) => params,
        // A form_post callback without the session cookie: posted again from this origin.
        Ok(CallbackForm::Resubmit(page)) => return Err(Answer::Resubmit(page)),
        Err(e) => return Err(Answer::fail(json, &Failure::of(&e))),
    };
    let result = async {
        let client = oauth.client(name)?;
        let session = session?;
        let users = oauth.users();
        // Renews the session id once the login succeeds (session fixation).
        let (login, user) =
            flows::finish_login_as_user(&client, &session, &params, users.as_ref()).await?;
        Ok::<_, Error>((login, user, session))
    }
    .await;
    match result {
        Ok((login, user, session)) => Ok(Completed {
            login,
            user,
            session,
            json,
        }),
        Err(e) => Err(Answer::fail(json, &Failure::of(&e))),
    }
}

/// `POST /refresh/{name}`: refreshes the stored token ([`flows::refresh`]), after the
/// cross-site check.
pub async fn refresh<'a, S: Session, H: Fn(&str) -> Option<&'a str>>(
    oauth: &OAuth,
    name: &str,
    session: Result<S, Error>,
    req: &RouteRequest<'a, H>,
) -> Answer {
    let json = req.wants_json();
    let result = async {
        req.refuse_cross_site(req.app_url().ok().as_ref())?;
        let client = oauth.client(name)?;
        flows::refresh(&client, &session?).await
    }
    .await;
    match result {
        Ok((token, claims)) if json => Answer::json(&LoginAnswer::new(name, &claims, &token)),
        Ok(_) => Answer::SeeOther(Cow::Borrowed("/")),
        Err(e) => Answer::fail(json, &Failure::of_refresh(&e)),
    }
}

/// `POST /logout[?provider=NAME][&everywhere=1]`: ends the session ([`logout::logout`]),
/// after the cross-site check, and sends the browser to the provider's end-session
/// endpoint when there is one, to come back to `/logged-out` beside this route. With
/// `everywhere=1`, every session of the same user ends too, through the store's `index`
/// (without one: 501 `session_index_unavailable`, and nothing is cleared).
pub async fn logout<'a, S: Session, H: Fn(&str) -> Option<&'a str>>(
    oauth: &OAuth,
    session: Result<S, Error>,
    index: Option<&dyn SessionIndex>,
    req: &RouteRequest<'a, H>,
) -> Answer {
    let json = req.wants_json();
    let result = async {
        let app = req.app_url().ok();
        req.refuse_cross_site(app.as_ref())?;
        let provider = query_param(req.query, "provider");
        let everywhere = match query_param(req.query, "everywhere").as_deref() {
            None | Some("0" | "false") => None,
            Some(_) => Some(index.ok_or(Error::NoSessionIndex(
                "the session store keeps no sessions on the server (sealed cookies)",
            ))?),
        };
        let prefix = req.path.strip_suffix("/logout").unwrap_or("");
        let back = app.map(|u| u.to(&format!("{prefix}/logged-out")));
        let session = session?;
        logout::logout(
            oauth,
            &session,
            provider.as_deref(),
            back.as_deref(),
            everywhere,
        )
        .await
    }
    .await;
    match result {
        Ok(url) if json => Answer::json(&flows::logout_answer(url.as_ref())),
        Ok(Some(url)) => Answer::SeeOther(Cow::Owned(url.into())),
        Ok(None) => Answer::SeeOther(Cow::Borrowed("/")),
        Err(e) => Answer::fail(json, &Failure::of(&e)),
    }
}

/// `GET /logged-out`: where the provider sends the browser back after its logout; checks
/// the `state` ([`logout::logged_out`]), then the home page.
pub async fn logged_out<'a, S: Session, H: Fn(&str) -> Option<&'a str>>(
    session: Result<S, Error>,
    req: &RouteRequest<'a, H>,
) -> Answer {
    let state = query_param(req.query, "state");
    match async { logout::logged_out(&session?, state.as_deref()).await }.await {
        Ok(()) => Answer::SeeOther(Cow::Borrowed("/")),
        Err(e) => Answer::fail(req.wants_json(), &Failure::of(&e)),
    }
}

/// `POST /backchannel-logout/{name}`: a provider's logout token
/// ([`logout::backchannel_logout`]). The provider posts it server to server, with no
/// cookie and from its own origin: no session and no cross-site check. 200 with
/// `Cache-Control: no-store` once the sessions it names ended, 400 JSON for a bad token
/// (its code names the rule), 501 when the store cannot find sessions by owner.
pub async fn backchannel_logout(
    oauth: &OAuth,
    name: &str,
    index: Option<&dyn SessionIndex>,
    body: &[u8],
) -> Answer {
    match logout::backchannel_logout(oauth, index, name, body).await {
        Ok(_) => Answer::Acknowledged,
        Err(e) => Answer::fail(true, &Failure::of(&e)),
    }
}

/// `GET /login[?next=PATH]`: the page that lets the user choose a provider, where a
/// protected page sends a browser when several providers count
/// ([`super::guard::LoginRequired`]): one link per client to `<prefix>/login/{name}`,
/// each carrying `next`. With one client, straight to its login route.
pub fn choose_login<'a, H: Fn(&str) -> Option<&'a str>>(
    oauth: &OAuth,
    req: &RouteRequest<'a, H>,
) -> Answer {
    let prefix = req.path.strip_suffix("/login").unwrap_or("");
    let next = query_param(req.query, "next");
    let next = next.as_deref().and_then(super::same_origin_path);
    let href = |name: &str| {
        let name: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
        match next {
            Some(next) => {
                let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
                format!("{prefix}/login/{name}?next={next}")
            }
            None => format!("{prefix}/login/{name}"),
        }
    };
    let names = oauth.names();
    if let [only] = names.as_slice() {
        return Answer::SeeOther(Cow::Owned(href(only)));
    }
    let links: String = names
        .iter()
        .map(|name| {
            let (href, name) = (crate::html::escape(&href(name)), crate::html::escape(name));
            format!("<li><a href=\"{href}\">Log in with {name}</a></li>")
        })
        .collect();
    Answer::page(
        200,
        format!(
            "<!doctype html><meta charset=\"utf-8\"><title>Log in</title><h1>Log in</h1><ul>{links}</ul>"
        ),
    )
}

/// One identity as `GET /me` shows it.
#[derive(Debug, Serialize)]
struct ShownIdentity<'a> {
    provider: &'a str,
    sub: &'a str,
}

/// `GET /me`'s JSON: the app's user (with a user store, else `null`), its identities (the
/// store's, else the session's logins'), and the clients the session is logged in with.
#[derive(Debug, Serialize)]
struct Me<'a> {
    user_id: Option<&'a str>,
    identities: Vec<ShownIdentity<'a>>,
    logins: Vec<&'a str>,
}

/// `GET /me[?max_age=N]`: a protected page ([`super::guard::LoginRequired::new`]: a
/// browser that is not logged in is sent to the login with `next=/me`, JSON gets 401
/// `login_required`); logged in, who the session is logged in as, as JSON:
/// `{"user_id", "identities": [{"provider", "sub"}], "logins": [client, ...]}`
/// (`user_id` is `null` without a user store; the identities are then the session's).
/// With `max_age`, only a login whose user authenticated at most `N` seconds ago counts:
/// an older one is sent back through its provider with `max_age` (a client asking
/// whether the user is freshly logged in, before a sensitive action).
pub async fn me<'a, S: Session, H: Fn(&str) -> Option<&'a str>>(
    oauth: &OAuth,
    session: Result<S, Error>,
    req: &RouteRequest<'a, H>,
) -> Answer {
    let rule =
        super::guard::LoginRequired::new().login_routes(req.path.strip_suffix("/me").unwrap_or(""));
    let max_age = query_param(req.query, "max_age").map(|v| super::LoginQuery::max_age(&v));
    let rule = match max_age.transpose() {
        Ok(Some(seconds)) => rule.max_age(seconds),
        Ok(None) => rule,
        Err(e) => return Answer::fail(req.wants_json(), &Failure::of(&e)),
    };
    let result = async {
        let session = session?;
        let signed = rule.check(&session).await?;
        let identities = match (oauth.users(), &signed.user) {
            (Some(users), Some(user)) => users.store().identities(user).await?,
            _ => crate::session::accounts(&session)
                .await?
                .iter()
                .filter_map(|(client, claims)| Identity::of(client, claims))
                .collect(),
        };
        Ok::<_, Error>((signed, identities))
    }
    .await;
    match result {
        Ok((signed, identities)) => Answer::json(&Me {
            user_id: signed.user.as_ref().map(UserId::as_str),
            identities: identities
                .iter()
                .map(|i| ShownIdentity {
                    provider: &i.provider,
                    sub: &i.key.sub,
                })
                .collect(),
            logins: signed.at.keys().map(String::as_str).collect(),
        }),
        Err(e) => rule.refuse(&e, req),
    }
}

/// `POST /unlink/{name}`: unlinks the identities of client `name` from the app's user
/// ([`crate::users::Users::unlink_provider`]; never the last one, 409 `last_identity`)
/// and forgets that login in this session, after the cross-site check. JSON
/// `{"unlinked": N}`, or back to `/`. Without a logged-in user, 401 `login_required`;
/// without a user store, 501.
pub async fn unlink<'a, S: Session, H: Fn(&str) -> Option<&'a str>>(
    oauth: &OAuth,
    name: &str,
    session: Result<S, Error>,
    req: &RouteRequest<'a, H>,
) -> Answer {
    let json = req.wants_json();
    let result = async {
        req.refuse_cross_site(req.app_url().ok().as_ref())?;
        let users = oauth
            .users()
            .ok_or(Error::NoUserStore("POST /unlink needs OAuth::set_users"))?;
        let session = session?;
        let signed = crate::session::signed_in(&session).await?;
        let user = signed
            .user
            .ok_or(Error::LoginRequired("no user of the app is logged in"))?;
        let unlinked = users.unlink_provider(&user, name).await?;
        crate::session::forget_login(&session, name).await?;
        Ok::<_, Error>(unlinked)
    }
    .await;
    match result {
        Ok(unlinked) if json => Answer::json(&serde_json::json!({ "unlinked": unlinked })),
        Ok(_) => Answer::SeeOther(Cow::Borrowed("/")),
        Err(e) => Answer::fail(json, &Failure::of(&e)),
    }
}

/// The first value of `name` in a query string.
fn query_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(
        path: &'a str,
        query: &'a str,
        headers: &'a [(&'a str, &'a str)],
    ) -> RouteRequest<'a, impl Fn(&str) -> Option<&'a str>> {
        RouteRequest {
            path,
            query,
            scheme: None,
            authority: None,
            headers: move |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v),
            redirect_uri: &DEFAULT_REDIRECT_URI,
        }
    }

    const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

    #[test]
    fn the_repost_goes_to_the_path_the_client_sent() {
        let headers = [FORM];
        let req = request("/prefix/auth/x", "tab=2", &headers);
        let Ok(CallbackForm::Resubmit(page)) = req.callback_form(true, b"code=c&state=s", false)
        else {
            panic!("a form_post without the session is posted again");
        };
        assert!(page.html().contains("action=\"/prefix/auth/x?tab=2\""));
        let req = request("/prefix/auth/x", "", &headers);
        let Ok(CallbackForm::Resubmit(page)) = req.callback_form(true, b"code=c", false) else {
            panic!("posted again");
        };
        assert!(page.html().contains("action=\"/prefix/auth/x\""));
    }

    #[test]
    fn a_get_callback_reads_the_query() {
        let req = request("/auth/x", "code=c&state=s", &[]);
        let Ok(CallbackForm::Params(p)) = req.callback_form(false, b"", false) else {
            panic!("a GET callback has parameters");
        };
        assert_eq!(p.get("code"), Some("c"));
    }

    #[test]
    fn failures_are_json_or_pages() {
        let failure = Failure::of(&Error::StateExpired);
        let Answer::Body(400, JSON, body) = Answer::fail(true, &failure) else {
            panic!("JSON for JSON requests");
        };
        assert!(body.contains("state_expired"));
        assert_eq!(Answer::fail(false, &failure).status(), 400);
        assert!(matches!(
            Answer::fail(false, &failure),
            Answer::Failed(f) if f == failure
        ));
    }

    #[test]
    fn app_url_and_cross_site_from_headers() {
        let headers = [("host", "app.example"), ("origin", "http://evil.example")];
        let req = request("/logout", "", &headers);
        let app = req.app_url().unwrap();
        assert_eq!(app.to("/"), "http://app.example/");
        assert_eq!(
            req.refuse_cross_site(Some(&app)).unwrap_err().code(),
            "cross_site_request"
        );
    }
}
