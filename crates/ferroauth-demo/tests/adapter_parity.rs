//! The two adapters have the same module map and the same public names: an app moves from
//! axum to actix-web (or reads the other's docs) by changing the crate name. The only
//! differences allowed are the ones a framework forces, each listed in [`FRAMEWORK_ONLY`]
//! with its reason; a new public name in one adapter fails here until the other has it too
//! or it joins the list.
//!
//! The check reads the adapters' sources (their `pub` items and `pub use`s, per public
//! module), so it lives in the demo, the one crate that builds both.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Public modules only one adapter has, because they integrate a crate of its framework
/// only: (crate, module, why). Their names are exempt too.
const FRAMEWORK_ONLY_MODULES: &[(&str, &str, &str)] = &[(
    "axum",
    "axum_login",
    "axum-login is an axum crate; actix apps protect routes with `guard::Protect` over the core's `Users`",
)];

/// Public names only one adapter has, because of its framework: (crate, module, name, why).
const FRAMEWORK_ONLY: &[(&str, &str, &str, &str)] = &[
    (
        "axum",
        "guard",
        "LoginRequiredExt",
        "axum protects a router with a method over `route_layer`; actix wraps a scope in a Transform (`Protect`)",
    ),
    (
        "actix",
        "guard",
        "Protect",
        "actix middleware is a Transform type",
    ),
    ("actix", "guard", "Protected", "the Service of `Protect`"),
    (
        "actix",
        "guard",
        "LoginRefused",
        "an actix extractor's error must be a `ResponseError`; axum's rejection is the response",
    ),
    (
        "actix",
        "",
        "registry",
        "actix handlers find the registry in the app data; axum handlers take it as `State`",
    ),
    (
        "actix",
        "",
        "ServerSession",
        "actix-session's session is not `Send`: the bridge copies it into this one",
    ),
    (
        "actix",
        "sessions",
        "session_key",
        "actix-session encrypts its cookie under a key; tower-sessions' cookie is a random id",
    ),
    (
        "actix",
        "sessions",
        "Sessions",
        "actix middleware is a Transform type",
    ),
    ("actix", "sessions", "Bridge", "the Service of `Sessions`"),
    (
        "actix",
        "sessions",
        "StoreGuard",
        "the store-failure guard as a Service",
    ),
    (
        "actix",
        "sessions",
        "SealedSessions",
        "sealed cookies as a Transform",
    ),
    (
        "actix",
        "sessions",
        "SealedService",
        "the Service of `SealedSessions`",
    ),
    (
        "actix",
        "stores",
        "Store",
        "an opened store as actix-session needs it (axum uses tower-sessions' stores as they are)",
    ),
    (
        "actix",
        "stores",
        "TowerStore",
        "a tower-sessions store as an actix-session store",
    ),
    (
        "actix",
        "stores",
        "StoreSessions",
        "the `Send` half of a store's middleware, per worker",
    ),
    (
        "actix",
        "stores",
        "StoreMiddleware",
        "one worker's middleware for any store kind",
    ),
    (
        "actix",
        "stores",
        "StoreService",
        "the Service of `StoreMiddleware`",
    ),
    (
        "axum",
        "sessions",
        "session_store_guard",
        "axum middleware is a function; actix's guard is in `Sessions`",
    ),
    (
        "axum",
        "sessions",
        "strip_duplicated_session_cookie",
        "axum middleware is a function; actix's strip is in `Sessions`",
    ),
    (
        "axum",
        "sessions",
        "sealed_cookies",
        "axum middleware is a function; actix's is `SealedSessions`",
    ),
];

/// Public names per public module ("" for the crate root) of the adapter at `src`.
fn public_names(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let root = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let mut modules = BTreeMap::from([(String::new(), names_in(&root))]);
    for line in root.lines() {
        if let Some(module) = line
            .strip_prefix("pub mod ")
            .and_then(|m| m.strip_suffix(';'))
        {
            let text = std::fs::read_to_string(src.join(format!("{module}.rs")))
                .unwrap_or_else(|e| panic!("module {module}: {e}"));
            modules.insert(module.to_owned(), names_in(&text));
        }
    }
    modules
}

/// The names a module's text makes public at its top level (test modules left out).
fn names_in(text: &str) -> BTreeSet<String> {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut names = BTreeSet::new();
    for line in text.lines() {
        if let Some(used) = line.strip_prefix("pub use ") {
            names.extend(used_names(used.trim_end_matches(';')));
            continue;
        }
        let Some(rest) = line.strip_prefix("pub ") else {
            continue;
        };
        let rest = rest.strip_prefix("async ").unwrap_or(rest);
        let kinds = [
            "fn ", "struct ", "enum ", "trait ", "type ", "const ", "mod ",
        ];
        if let Some(item) = kinds.iter().find_map(|k| rest.strip_prefix(k)) {
            let name: String = item
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.insert(name);
        }
    }
    names
}

/// The names a `pub use` brings in: `a::b::{C, D as E}` gives C and E.
fn used_names(path: &str) -> Vec<String> {
    let list = match (path.find('{'), path.rfind('}')) {
        (Some(open), Some(close)) => &path[open + 1..close],
        _ => path,
    };
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            let item = item.rsplit(" as ").next().unwrap_or(item);
            item.rsplit("::").next().unwrap_or(item).to_owned()
        })
        .collect()
}

/// An adapter's public names by module, without its [`FRAMEWORK_ONLY_MODULES`].
fn adapter(name: &str) -> BTreeMap<String, BTreeSet<String>> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut names = public_names(&crates.join(format!("ferroauth-{name}")).join("src"));
    for (who, module, _) in FRAMEWORK_ONLY_MODULES {
        if *who == name {
            assert!(
                names.remove(*module).is_some(),
                "{who}: module {module} is listed in FRAMEWORK_ONLY_MODULES but not public"
            );
            if let Some(root) = names.get_mut("") {
                root.remove(*module);
            }
        }
    }
    names
}

/// What `mine` has that `theirs` lacks and the list does not explain, as `module::name`.
fn unexplained(
    who: &str,
    mine: &BTreeMap<String, BTreeSet<String>>,
    theirs: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let empty = BTreeSet::new();
    let mut missing = Vec::new();
    for (module, names) in mine {
        let other = theirs.get(module).unwrap_or(&empty);
        for name in names.difference(other) {
            let listed = FRAMEWORK_ONLY
                .iter()
                .any(|(c, m, n, _)| *c == who && m == module && n == name);
            if !listed {
                missing.push(format!("{module}::{name}"));
            }
        }
    }
    missing
}

#[test]
fn both_adapters_have_the_same_module_map() {
    let (axum, actix) = (adapter("axum"), adapter("actix"));
    let axum_modules: Vec<_> = axum.keys().collect();
    let actix_modules: Vec<_> = actix.keys().collect();
    assert_eq!(axum_modules, actix_modules);
}

#[test]
fn both_adapters_have_the_same_public_names_but_the_framework_forced_ones() {
    let (axum, actix) = (adapter("axum"), adapter("actix"));
    let only_axum = unexplained("axum", &axum, &actix);
    let only_actix = unexplained("actix", &actix, &axum);
    assert!(
        only_axum.is_empty() && only_actix.is_empty(),
        "only in ferroauth-axum: {only_axum:?}; only in ferroauth-actix: {only_actix:?} \
         (give the other adapter the same name, or list a framework-forced one in \
         FRAMEWORK_ONLY with its reason)"
    );
}

#[test]
fn every_listed_exception_still_exists() {
    let (axum, actix) = (adapter("axum"), adapter("actix"));
    for (who, module, name, _) in FRAMEWORK_ONLY {
        let names = if *who == "axum" { &axum } else { &actix };
        assert!(
            names.get(*module).is_some_and(|n| n.contains(*name)),
            "{who}: {module}::{name} is listed in FRAMEWORK_ONLY but no longer public"
        );
    }
}

#[test]
fn the_reader_finds_items_uses_and_renames() {
    let text = "pub fn a() {}\npub async fn b() {}\npub use x::{C, d::E as F};\n\
                pub(crate) fn hidden() {}\n    pub fn method() {}\npub struct G<T>(T);\n\
                #[cfg(test)]\npub fn in_tests() {}\n";
    let names: Vec<_> = names_in(text).into_iter().collect();
    assert_eq!(names, ["C", "F", "G", "a", "b"]);
}
