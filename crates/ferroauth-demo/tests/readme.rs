//! The README is checked against the code: its quick start is `examples/quickstart.rs`
//! word for word (what a reader copies is what the examples' test runs), its settings
//! examples load, its links into the guide lead somewhere, and it stays short. The
//! quick-start apps of the guide's frameworks chapter are this crate's `quickstart`
//! (axum) and `quickstart_actix` (actix-web) binaries, which the browser and scenario
//! suites log in through.

const README: &str = include_str!("../../../README.md");

/// The first `rust,no_run` block after the heading `heading` of `text`: up to the line
/// that closes it (the code's own doc comments may hold fences of their own).
fn block_after<'a>(text: &'a str, heading: &str) -> &'a str {
    let section = text
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("no '{heading}' section"));
    let rest = section
        .split("```rust,no_run\n")
        .nth(1)
        .expect("a rust block in that section");
    let end = rest.find("\n```\n").expect("the rust block is closed");
    &rest[..=end]
}

#[test]
fn the_readme_quick_start_is_the_quickstart_example() {
    assert_eq!(
        block_after(README, "## Quick start"),
        include_str!("../../../examples/quickstart.rs"),
        "README.md's quick start differs from examples/quickstart.rs"
    );
}

#[test]
fn the_readme_is_at_most_200_lines() {
    let lines = README.lines().count();
    assert!(
        lines <= 200,
        "README.md has {lines} lines: keep it to what a newcomer needs (at most 200), and \
         move the depth into a chapter of the guide (crates/ferroauth/src/guide)"
    );
}

/// The README's relative links (the guide's chapters, the crates, CONTRIBUTING.md) name
/// files and folders of the repository, and a `#fragment` a heading of the chapter.
#[test]
fn the_readme_links_lead_somewhere() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut checked = 0;
    for link in README.split("](").skip(1) {
        let target = link.split(')').next().unwrap_or_default();
        if target.contains("://") {
            continue;
        }
        let (path, fragment) = target.split_once('#').unwrap_or((target, ""));
        let file = root.join(path);
        assert!(
            file.exists(),
            "README.md links to {target}, which does not exist"
        );
        if !fragment.is_empty() {
            let text = std::fs::read_to_string(&file).unwrap();
            let anchors: Vec<String> = text
                .lines()
                .filter_map(|line| {
                    line.trim_start_matches('#')
                        .strip_prefix(' ')
                        .filter(|_| line.starts_with('#'))
                })
                .map(|heading| {
                    heading
                        .to_lowercase()
                        .chars()
                        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
                        .map(|c| if c == ' ' { '-' } else { c })
                        .collect()
                })
                .collect();
            assert!(
                anchors.iter().any(|a| a == fragment),
                "README.md links to {target}, but {path} has no such heading ({anchors:?})"
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "the README links into the guide");
}

/// The axum and the actix-web quick-start apps of the guide's frameworks chapter.
const FRAMEWORKS: &str = include_str!("../../ferroauth/src/guide/frameworks.md");

#[test]
fn the_guides_axum_quick_start_is_the_quickstart_binary() {
    assert_eq!(
        block_after(FRAMEWORKS, "## axum"),
        include_str!("../src/bin/quickstart.rs"),
        "the guide's axum app (crates/ferroauth/src/guide/frameworks.md) differs from \
         crates/ferroauth-demo/src/bin/quickstart.rs"
    );
}

#[test]
fn the_guides_actix_quick_start_is_the_quickstart_actix_binary() {
    assert_eq!(
        block_after(FRAMEWORKS, "## actix-web"),
        include_str!("../src/bin/quickstart_actix.rs"),
        "the guide's actix-web app (crates/ferroauth/src/guide/frameworks.md) differs from \
         crates/ferroauth-demo/src/bin/quickstart_actix.rs"
    );
}

/// Every settings example (`toml` block) of `page`, at least `at_least` of them, is read
/// and registered as an app would: keys, presets and their options must be real. Secrets
/// come from the environment in real life: here each client gets a secret, and the Apple
/// example a fresh key, in their place.
fn settings_examples_load(name: &str, page: &str, at_least: usize) {
    let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
    let key = key.trim().replace('\n', "\\n");
    let blocks: Vec<&str> = page
        .split("```toml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect();
    assert!(blocks.len() >= at_least, "{name} has its settings examples");
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
            .unwrap_or_else(|e| panic!("{name}: {e}\n{block}"));
        let oauth = ferroauth::OAuth::from_settings(&settings)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{block}"));
        for client in settings.clients.keys() {
            oauth.client(client).unwrap();
        }
    }
}

#[test]
fn the_readme_settings_examples_load() {
    settings_examples_load("README.md", README, 1);
}

#[test]
fn the_settings_chapters_examples_load() {
    let chapter = include_str!("../../ferroauth/src/guide/settings.md");
    settings_examples_load("the guide's settings chapter", chapter, 2);
}
