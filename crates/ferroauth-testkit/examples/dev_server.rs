//! Runs a provider with two users and a few clients until interrupted.
//!
//! ```text
//! cargo run -p ferroauth-testkit --example dev_server -- 127.0.0.1:9000
//! ```
//!
//! Then open the printed authorization URL in a browser to see the login page.

use ferroauth_testkit::{Client, ClientAuthMethod, IdTokenAlg, TestProvider, User};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".to_owned())
        .parse()?;
    let provider = TestProvider::builder()
        .bind_addr(addr)
        .user(
            User::new("alice")
                .name("Alice Liddell")
                .email("alice@example.com"),
        )
        .user(
            User::new("bob")
                .name("Bob Builder")
                .email("bob@example.com"),
        )
        .client(Client::confidential(
            "web",
            "web-secret",
            "http://localhost:3000/callback",
        ))
        .client(
            Client::confidential("web-post", "web-secret", "http://localhost:3000/callback")
                .auth_method(ClientAuthMethod::ClientSecretPost)
                .id_token_alg(IdTokenAlg::ES256),
        )
        .client(Client::public("spa", "http://localhost:3000/callback"))
        .client(Client::oauth1("consumer", "consumer-secret", None))
        .start()
        .await?;
    println!("issuer:    {}", provider.issuer());
    println!(
        "discovery: {}",
        provider.url("/.well-known/openid-configuration")
    );
    println!(
        "login:     {}",
        provider.url(
            "/authorize?response_type=code&client_id=web&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcallback&scope=openid%20profile&state=demo"
        )
    );
    std::future::pending::<()>().await;
    Ok(())
}
