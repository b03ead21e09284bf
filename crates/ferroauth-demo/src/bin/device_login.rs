//! Logs in from a terminal with the device authorization grant (RFC 8628): prints the
//! code and the address to open in any browser, waits for the approval, then prints who
//! logged in.
//!
//! ```sh
//! cargo run -p ferroauth-demo --bin device_login -- ferroauth.toml NAME
//! ```
//!
//! `NAME` is a client of the settings file whose provider has a device authorization
//! endpoint (from its metadata, or `device_authorization_endpoint`); a public client
//! (`token_endpoint_auth_method = "none"`) is the usual choice for a command-line tool.

use std::process::ExitCode;

use ferroauth::{OAuth, Settings, Token};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [settings, name] = args.as_slice() else {
        eprintln!("usage: device_login SETTINGS.toml CLIENT");
        return ExitCode::from(2);
    };
    match login(settings, name).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("device login failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn login(settings: &str, name: &str) -> Result<(), Box<dyn std::error::Error>> {
    let oauth = OAuth::from_settings(&Settings::from_file(settings)?)?;
    let client = oauth.client(name)?;
    let mut device = client.device_authorization(&[]).await?;
    println!("To log in, open {}", device.verification_uri);
    println!("and enter the code {}", device.user_code);
    if let Some(complete) = &device.verification_uri_complete {
        println!("(or open {complete})");
    }
    let login = client.wait_for_device_token(&mut device).await?;
    let sub = login
        .userinfo
        .get("sub")
        .and_then(|s| s.as_str())
        .unwrap_or("?");
    let scope = match &login.token {
        Token::OAuth2(t) => t.scope.clone().unwrap_or_default(),
        Token::OAuth1(_) => String::new(),
    };
    println!("logged in as {sub} (scope: {scope})");
    Ok(())
}
