//! The demo on actix-web: the same routes, pages and answers as the axum demo
//! ([`crate::routes`]), through `ferroauth-actix`.
//!
//! [`app`] configures an `App`; the server wraps it in the sessions' middleware
//! (`ferroauth_actix::sessions`, any store by URL as the axum demo), as `main` does:
//!
//! ```no_run
//! # use ferroauth_actix::sessions::SessionsExt as _;
//! # async fn serve(oauth: ferroauth::OAuth) -> Result<(), Box<dyn std::error::Error>> {
//! let options = ferroauth_demo::DemoOptions::default();
//! let sessions = options.sessions.apply_store(&"memory".parse()?).await?;
//! let app = ferroauth_demo::actix_app::app(oauth, options);
//! let server = actix_web::HttpServer::new(move || {
//!     actix_web::App::new().configure(app.clone()).wrap(sessions.middleware())
//! });
//! server.bind("127.0.0.1:8000")?.run().await?;
//! # Ok(()) }
//! ```

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use ferroauth::OAuth;
use ferroauth_actix::extract::{UserApi, api_response};
use ferroauth_actix::routes::{AuthRoutes, Failure};
use ferroauth_actix::{AuthError, AuthSession, registry, respond};

use crate::{ApiPaths, DemoOptions};

/// The demo's routes and their data, for `App::configure` (once per worker).
pub fn app(oauth: OAuth, options: DemoOptions) -> impl Fn(&mut web::ServiceConfig) + Clone {
    let options = Arc::new(options);
    move |cfg| {
        let auth = AuthRoutes::new()
            .with_refresh()
            .with_user_routes()
            .error_page(|f| respond(crate::error_page(f)));
        let metrics = options.metrics.clone();
        let metrics = move || std::future::ready(respond(crate::metrics_page(metrics.as_ref())));
        cfg.app_data(web::Data::new(oauth.clone()))
            .app_data(web::Data::new(options.redirect_uri.clone()))
            .app_data(web::Data::new(ApiPaths(Arc::new(
                options.api_paths.clone(),
            ))))
            // The login routes first: actix-web tries patterns in order, and logins are
            // the demo's hot path.
            .configure(auth.config())
            .route("/", web::get().to(home))
            .route("/api/{name}/{path:.*}", web::get().to(api))
            .route("/metrics", web::get().to(metrics));
    }
}

async fn home(req: HttpRequest, paths: web::Data<ApiPaths>) -> HttpResponse {
    let session = AuthSession::required(&req).map_err(|e| e.0);
    match registry(&req) {
        Ok(oauth) => respond(crate::home_page(&oauth, session, &paths).await),
        Err(e) => respond(crate::error_page(&Failure::of(&e.0))),
    }
}

async fn api(req: HttpRequest, api: Result<UserApi, AuthError>) -> Result<HttpResponse, AuthError> {
    let path = req.match_info().get("path").unwrap_or("");
    Ok(api_response(
        api?.get_with_query(path, req.query_string()).await?,
    ))
}
