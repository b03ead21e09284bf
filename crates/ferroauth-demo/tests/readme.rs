//! The README's quick starts are `src/bin/quickstart.rs` (axum) and
//! `src/bin/quickstart_actix.rs` (actix-web) word for word, so that what the tests run is
//! what a reader copies.

/// The first `rust,no_run` block after the README heading `heading`.
fn block_after(heading: &str) -> &'static str {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("the README has a '{heading}' section"));
    section
        .split("```rust,no_run\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a rust block in that section")
}

#[test]
fn the_readme_quick_start_is_the_quickstart_binary() {
    assert_eq!(
        block_after("## Use it with axum"),
        include_str!("../src/bin/quickstart.rs"),
        "README.md's quick start differs from crates/ferroauth-demo/src/bin/quickstart.rs"
    );
}

#[test]
fn the_readme_actix_quick_start_is_the_quickstart_actix_binary() {
    assert_eq!(
        block_after("## Use it with actix-web"),
        include_str!("../src/bin/quickstart_actix.rs"),
        "README.md's actix quick start differs from crates/ferroauth-demo/src/bin/quickstart_actix.rs"
    );
}

/// Every settings example of the README (its `toml` blocks) is read and registered as an
/// app would: keys, presets and their options must be real. Secrets come from the
/// environment in real life: here each client gets a secret, and the Apple example a
/// fresh key, in their place.
#[test]
fn the_readme_settings_examples_load() {
    let readme = include_str!("../../../README.md");
    let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
    let key = key.trim().replace('\n', "\\n");
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect();
    assert!(blocks.len() >= 2, "the README has its settings examples");
    for block in blocks {
        let block = block
            .replace(
                "key_id = \"KEY1234567\" }",
                &format!("key_id = \"KEY1234567\", private_key = \"{key}\" }}"),
            )
            .lines()
            .map(|line| match line.starts_with("[clients.") {
                true => format!("{line}\nclient_secret = \"from-the-environment\""),
                false => line.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        let settings = ferroauth::settings::Settings::from_toml_str(&block)
            .unwrap_or_else(|e| panic!("{e}\n{block}"));
        let oauth =
            ferroauth::OAuth::from_settings(&settings).unwrap_or_else(|e| panic!("{e}\n{block}"));
        for name in settings.clients.keys() {
            oauth.client(name).unwrap();
        }
    }
}
