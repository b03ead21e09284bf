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

use ferroauth::settings::Settings;
use ferroauth::{OAuth, Token};

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
            // Errors can carry the provider's own words (`error_description`).
            eprintln!("device login failed: {}", terminal_safe(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

async fn login(settings: &str, name: &str) -> Result<(), Box<dyn std::error::Error>> {
    let oauth = OAuth::from_settings(&Settings::from_file(settings)?)?;
    let client = oauth.client(name)?;
    let mut device = client.device_authorization(&[]).await?;
    print!(
        "{}",
        instructions(
            &device.verification_uri,
            &device.user_code,
            device.verification_uri_complete.as_deref(),
        )
    );
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
    println!(
        "logged in as {} (scope: {})",
        terminal_safe(sub),
        terminal_safe(&scope)
    );
    Ok(())
}

/// What the user is told to do: open the verification URI and enter the code. The core
/// already refuses unsafe ones (`invalid_device_authorization`); escaped all the same.
fn instructions(uri: &str, code: &str, complete: Option<&str>) -> String {
    let (uri, code) = (terminal_safe(uri), terminal_safe(code));
    let mut text = format!("To log in, open {uri}\nand enter the code {code}\n");
    if let Some(complete) = complete {
        text.push_str(&format!("(or open {})\n", terminal_safe(complete)));
    }
    text
}

/// Text from the provider, fit for a terminal: control characters (C0, DEL, C1: escape
/// sequences, line breaks), line separators and bidirectional or invisible formatting
/// characters are written as `\u{..}` escapes, so that a provider can neither drive the
/// terminal nor make its text look other than it is.
fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || is_invisible_format(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Format characters that reorder or hide text (Unicode's Cf bidi controls, zero-width
/// characters) and the line and paragraph separators.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_text_reaches_the_terminal_without_control_characters() {
        let text = instructions(
            "https://op.example/device\u{1b}]8;;https://evil.example\u{7}",
            "WDJB\u{1b}[2J\u{9b}1;1H\r\nOpen https://evil.example\u{202e}",
            Some("https://op.example/device?c=\u{7}"),
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "no line of the provider's: {text:?}");
        for line in lines {
            assert!(
                !line.chars().any(|c| c.is_control() || c == '\u{202e}'),
                "{line:?}"
            );
        }
        assert!(
            text.contains("WDJB\\u{1b}[2J"),
            "escaped, still readable: {text}"
        );
        assert_eq!(terminal_safe("Zoë Ångström"), "Zoë Ångström");
        assert_eq!(terminal_safe("a\u{200b}b\u{2029}"), "a\\u{200b}b\\u{2029}");
        let plain = instructions("https://op.example/device", "WDJB-MJHT", None);
        assert_eq!(
            plain,
            "To log in, open https://op.example/device\nand enter the code WDJB-MJHT\n"
        );
    }
}
