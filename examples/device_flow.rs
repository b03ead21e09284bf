//! Logging in from a command-line program with the device authorization grant
//! (RFC 8628): the program cannot show a login page, so it prints an address and a short
//! code; the user opens the address in any browser (on a phone, say), enters the code and
//! approves; meanwhile the program polls the provider until the answer arrives, then
//! prints who logged in.
//!
//! ```text
//! cargo run --example device_flow                          # polls every 5 s
//! cargo run --example device_flow -- --poll-interval 1     # a faster provider
//! ```
//!
//! It starts a provider of its own (ferroauth-testkit, users alice and bob) with a public
//! client, as a command-line tool has no secret to keep. Open the printed address, pick a
//! user and approve (or deny: the program then exits with an error). `--poll-interval`
//! sets how often that provider lets the program poll; a real provider says it in its
//! answer, and ferroauth waits as long as it asks (5 s more after each `slow_down`).

use std::process::ExitCode;
use std::time::Duration;

use ferroauth::settings::Settings;
use ferroauth::{DeviceAuthorization, OAuth, Profile};
use ferroauth_testkit::{Client, TestProvider, User};

/// The client id of this program at the provider.
const CLIENT_ID: &str = "terminal";

#[tokio::main]
async fn main() -> ExitCode {
    let interval = match poll_interval(std::env::args().skip(1)) {
        Ok(interval) => interval,
        Err(usage) => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    match run(interval).await {
        Ok(name) => {
            println!("logged in as {name}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("device login failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--poll-interval SECS` (default 5, RFC 8628's default interval).
fn poll_interval(mut args: impl Iterator<Item = String>) -> Result<Duration, String> {
    const USAGE: &str = "usage: device_flow [--poll-interval SECS]";
    match (args.next().as_deref(), args.next(), args.next()) {
        (None, _, _) => Ok(Duration::from_secs(5)),
        (Some("--poll-interval"), Some(secs), None) => secs
            .parse()
            .ok()
            .filter(|secs| *secs >= 1)
            .map(Duration::from_secs)
            .ok_or_else(|| format!("--poll-interval wants whole seconds, at least 1\n{USAGE}")),
        _ => Err(USAGE.into()),
    }
}

/// The whole login: start the provider, ask for codes, show them, wait, say who it is.
async fn run(interval: Duration) -> Result<String, Box<dyn std::error::Error>> {
    let provider = start_provider(interval).await?;
    println!(
        "development provider at {} (users: alice, bob)",
        provider.issuer()
    );
    let oauth = OAuth::from_settings(&Settings::from_toml_str(&settings(provider.issuer()))?)?;
    let client = oauth.client("terminal")?;

    let mut device = client.device_authorization(&[]).await?;
    print!("{}", instructions(&device));
    println!(
        "waiting for the approval (polling every {} s)",
        device.interval
    );
    // Polls at the provider's interval until the user approves, denies (`access_denied`)
    // or the code expires (`expired_token`); the ID token is checked as a login's is.
    let login = client
        .wait_for_device_token(&mut device)
        .await
        .map_err(|e| match e.code() {
            "access_denied" => "the request was denied at the provider".to_owned(),
            "expired_token" => "the code expired before anyone approved it".to_owned(),
            _ => e.to_string(),
        })?;
    let profile = Profile::from_claims(&login.userinfo);
    Ok(describe(&profile))
}

/// A provider of this process only, on a free loopback port, that asks to be polled every
/// `interval`.
async fn start_provider(interval: Duration) -> Result<TestProvider, ferroauth_testkit::Error> {
    // The provider's registration wants a redirect URI for every OAuth 2.0 client; the
    // device flow never redirects, so it is never used.
    let client = Client::public(CLIENT_ID, "http://127.0.0.1/unused");
    TestProvider::builder()
        .users([
            User::new("alice")
                .name("Alice Example")
                .email("alice@example.test"),
            User::new("bob")
                .name("Bob Example")
                .email("bob@example.test"),
        ])
        .client(client)
        .device_poll_interval(interval)
        .start()
        .await
}

/// What would be the program's `ferroauth.toml`: discovery gives the device authorization
/// endpoint; a public client authenticates with its id alone (`none`).
fn settings(issuer: &str) -> String {
    format!(
        r#"
[clients.terminal]
client_id = "{CLIENT_ID}"
server_metadata_url = "{issuer}/.well-known/openid-configuration"
client_kwargs = {{ scope = "openid profile email", token_endpoint_auth_method = "none" }}
"#
    )
}

/// What the user is told to do. ferroauth has already refused a code or an address that
/// is not plain printable ASCII, so a provider cannot drive the terminal with them.
fn instructions(device: &DeviceAuthorization) -> String {
    let mut text = format!(
        "To log in, open {}\nand enter the code {}\n",
        device.verification_uri, device.user_code
    );
    if let Some(complete) = &device.verification_uri_complete {
        text.push_str(&format!("(or open {complete})\n"));
    }
    text
}

/// `Alice Example (sub alice, email alice@example.test)`.
fn describe(profile: &Profile) -> String {
    let shown = |text: Option<&str>| terminal_safe(text.unwrap_or("?"));
    format!(
        "{} (sub {}, email {})",
        shown(profile.display_name()),
        shown(profile.sub.as_deref()),
        shown(profile.email.as_deref())
    )
}

/// Text from the provider, fit for a terminal: control characters (escape sequences,
/// line breaks) are shown escaped, never obeyed.
fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c.is_control() {
            true => c.escape_unicode().to_string(),
            false => c.to_string(),
        })
        .collect()
}
