//! A service calling an API as itself: the client credentials grant (RFC 6749 §4.4). No
//! user and no browser: the client authenticates with its own id and secret and gets a
//! token for itself. ferroauth caches that token and fetches a new one only when it is
//! about to expire (or the API refuses it), so a service that makes many calls asks the
//! provider once.
//!
//! ```text
//! cargo run --example client_credentials
//! ```
//!
//! It starts a provider of its own (ferroauth-testkit) with one confidential client,
//! fetches a token, calls the provider's `/api/me` twice, prints the answers and how many
//! tokens the provider issued (one: the second call reused the cached token), and exits.

use std::time::{SystemTime, UNIX_EPOCH};

use ferroauth::http::Method;
use ferroauth::settings::Settings;
use ferroauth::{ApiRequest, OAuth, OAuthClient};
use ferroauth_testkit::{Client, TestProvider};

/// The service's client id at the provider.
const CLIENT_ID: &str = "reporting-service";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = start_provider().await?;
    println!("provider at {} (client {CLIENT_ID})", provider.issuer());

    let oauth = OAuth::from_settings(&Settings::from_toml_str(&settings(provider.issuer()))?)?;
    let reports = oauth.client("reports")?;

    // Not needed before a call (request_as_client fetches it), shown to print its expiry.
    let token = reports.client_credentials_token().await?;
    println!(
        "token: {}, scope {:?}, expires in {} s",
        token.token_type,
        token.scope.as_deref().unwrap_or(""),
        seconds_left(token.expires_at)
    );

    for call in 1..=2 {
        println!("call {call}: {}", call_api(&reports).await?);
    }
    // The provider's own count: had the token not been cached, each call would have
    // fetched one of its own.
    println!(
        "tokens the provider issued to {CLIENT_ID}: {}",
        provider.live_tokens(CLIENT_ID)
    );
    provider.shutdown().await;
    Ok(())
}

/// A provider of this process only, on a free loopback port.
async fn start_provider() -> Result<TestProvider, ferroauth_testkit::Error> {
    // The provider's registration wants a redirect URI for every OAuth 2.0 client; this
    // one never sends a browser anywhere, so it is never used.
    let client = Client::confidential(CLIENT_ID, SECRET, "http://127.0.0.1/unused");
    TestProvider::builder().client(client).start().await
}

/// The secret both sides know. A local provider that lives as long as this process makes
/// a fixed one harmless here; a real service keeps its secret out of its code
/// (`FERROAUTH__CLIENTS__REPORTS__CLIENT_SECRET` with `Settings::from_file`).
const SECRET: &str = "example-only-not-a-real-secret";

/// What would be the service's `ferroauth.toml`: the provider's discovery document gives
/// the token endpoint; `api_base_url` is where relative API paths resolve.
fn settings(issuer: &str) -> String {
    format!(
        r#"
[clients.reports]
client_id = "{CLIENT_ID}"
client_secret = "{SECRET}"
server_metadata_url = "{issuer}/.well-known/openid-configuration"
api_base_url = "{issuer}/api/"
client_kwargs = {{ scope = "reports:read" }}
"#
    )
}

/// `GET me` as the client itself, with the cached token; its status and body.
async fn call_api(client: &OAuthClient) -> Result<String, ferroauth::Error> {
    let response = client
        .request_as_client(Method::GET, "me", ApiRequest::default())
        .await?;
    Ok(format!(
        "{} {}",
        response.status,
        String::from_utf8_lossy(&response.body)
    ))
}

/// Seconds from now until `expires_at` (Unix seconds); 0 when unknown or past.
fn seconds_left(expires_at: Option<u64>) -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    expires_at.map_or(0, |at| at.saturating_sub(now))
}
