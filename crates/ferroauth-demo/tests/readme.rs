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
