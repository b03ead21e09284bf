//! The guide's presets chapter (`src/guide/presets.md`, shown as `ferroauth::guide::presets`)
//! is the table of every preset, rendered from the presets themselves: this test fails when
//! the two differ, so the documentation cannot fall behind the code.
//! `FERROAUTH_BLESS=1 cargo test -p ferroauth --test presets_docs` rewrites the file.

use ferroauth::presets;

const INTRO: &str = "# Provider presets

Generated from `crates/ferroauth/src/presets` by `crates/ferroauth/tests/presets_docs.rs`
(`FERROAUTH_BLESS=1 cargo test -p ferroauth --test presets_docs` rewrites it).

A client table picks a preset with `preset = \"<name>\"`, or by being called like one
(`[clients.github]`); `preset = \"none\"` turns that off. The preset fills the endpoints (or
discovery URL), default scope, token endpoint authentication, PKCE, nonce and issuer rules,
the profile source and API headers; every key the settings give wins over the preset's.
`preset_options` carries what the preset needs to know about your app (a tenant, a domain,
a key); each preset reads only the options listed in its row, and refuses others.

```toml
[clients.github]
client_id = \"Iv1.abc\"
client_secret = \"...\"          # or FERROAUTH__CLIENTS__GITHUB__CLIENT_SECRET
```

Every preset maps the provider's profile to the same claims — `sub` (the provider's stable
id), `name`, `email`, `email_verified`, `picture`, `preferred_username` — and keeps the
provider's own fields beside them, so that [`Profile`](crate::Profile) reads every provider alike.
`email_verified` is true only when the provider vouches for the address. The last column
says which fields can link a login to an existing account: never an address the provider
does not vouch for (an attacker can often set any address on their account). Every key
and option is in the [settings chapter](crate::guide::settings); fediverse servers, where
the app registers itself at each instance, have [their own chapter](crate::guide::fediverse).
";

fn render() -> String {
    let mut out = String::from(INTRO);
    let all = presets::all();
    out.push_str(&format!("\n{} presets.\n\n", all.len()));
    out.push_str("| preset | provider | protocol | options | endpoints | quirks handled | trusted for linking |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    for p in all {
        let options = if p.options.is_empty() {
            "–".to_owned()
        } else {
            p.options
                .iter()
                .map(|o| format!("`{o}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // A `|` inside a cell, even in code, ends the cell unless escaped.
        let cell = |text: &str| text.replace('|', "\\|");
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} |\n",
            p.name,
            p.display_name,
            p.protocol.name(),
            options,
            cell(&p.endpoints_doc()),
            cell(p.quirks),
            cell(p.trusted)
        ));
    }
    out
}

#[test]
fn the_preset_table_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/guide/presets.md");
    let rendered = render();
    if std::env::var_os("FERROAUTH_BLESS").is_some() {
        std::fs::write(path, &rendered).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed != rendered {
        // What the file should hold, to compare by eye or copy.
        eprintln!("{rendered}");
    }
    assert!(
        committed == rendered,
        "crates/ferroauth/src/guide/presets.md is stale: run FERROAUTH_BLESS=1 cargo test -p ferroauth --test presets_docs"
    );
}

#[test]
fn every_preset_has_its_documentation() {
    for p in presets::all() {
        let endpoints = p.endpoints_doc();
        for (what, text) in [
            ("endpoints", endpoints.as_str()),
            ("quirks", p.quirks),
            ("trusted", p.trusted),
        ] {
            assert!(!text.trim().is_empty(), "{}: {what} is empty", p.name);
            assert!(
                !text.contains('\n'),
                "{}: {what} would break the table",
                p.name
            );
        }
    }
}
