//! The README's quick start is `src/bin/quickstart.rs` word for word, so that what the
//! browser test runs is what a reader copies.

#[test]
fn the_readme_quick_start_is_the_quickstart_binary() {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("## Use it with axum")
        .nth(1)
        .expect("the README has a 'Use it with axum' section");
    let block = section
        .split("```rust,no_run\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a rust block in that section");
    let source = include_str!("../src/bin/quickstart.rs");
    assert_eq!(
        block, source,
        "README.md's quick start differs from crates/ferroauth-demo/src/bin/quickstart.rs"
    );
}
