//! The guide's settings chapter (`src/guide/settings.md`) lists every key the settings
//! types accept, and only those: a key added to a settings struct without a row in the
//! chapter fails here, as does a row for a key the types refuse.
//!
//! The accepted keys come from the types themselves: serde's derived `Deserialize` hands
//! `deserialize_struct` the list of its field names, which a small deserializer records
//! before giving up. Nested tables are checked by the name of their struct, one chapter
//! section each.

use std::collections::BTreeSet;
use std::fmt;

use ferroauth::http::HttpSettings;
use ferroauth::settings::{ClientKwargs, ClientSettings, LoginSettings, PresetOptions, Settings};
use serde::Deserialize;
use serde::de::{self, Visitor};

const CHAPTER: &str = include_str!("../src/guide/settings.md");

/// Why the recording deserializer stopped (it always does).
#[derive(Debug)]
struct Stop(String);

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Stop(msg.to_string())
    }
}

/// Records the field names a derived `Deserialize` asks for, then fails.
struct FieldRecorder<'a> {
    seen: &'a mut Option<(&'static str, &'static [&'static str])>,
}

impl<'de> de::Deserializer<'de> for FieldRecorder<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop("not a struct".into()))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        *self.seen = Some((name, fields));
        Err(Stop("recorded".into()))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

/// The keys `T` accepts, as its derived `Deserialize` names them.
fn keys_of<T: for<'de> Deserialize<'de>>() -> BTreeSet<&'static str> {
    let mut seen = None;
    let _ = T::deserialize(FieldRecorder { seen: &mut seen });
    let (name, fields) = seen.expect("a struct with derived Deserialize");
    assert!(!fields.is_empty(), "{name} has no fields");
    fields.iter().copied().collect()
}

/// The keys each section of the chapter lists: the code span opening each table row.
fn chapter_keys(heading: &str) -> BTreeSet<String> {
    let mut lines = CHAPTER.lines().skip_while(|line| line.trim() != heading);
    assert!(
        lines.next().is_some(),
        "the settings chapter has no section `{heading}`"
    );
    let mut keys = BTreeSet::new();
    for line in lines.take_while(|line| !line.starts_with('#')) {
        let Some(row) = line.strip_prefix("| `") else {
            continue;
        };
        let key = row.split('`').next().unwrap_or_default().to_owned();
        assert!(
            keys.insert(key.clone()),
            "`{key}` is listed twice under `{heading}`"
        );
    }
    assert!(!keys.is_empty(), "no keys listed under `{heading}`");
    keys
}

/// Each settings struct and the chapter section that documents its keys.
fn sections() -> Vec<(&'static str, &'static str, BTreeSet<&'static str>)> {
    vec![
        ("Settings", "## Top level", keys_of::<Settings>()),
        ("LoginSettings", "## `[login]`", keys_of::<LoginSettings>()),
        ("HttpSettings", "## `[http]`", keys_of::<HttpSettings>()),
        (
            "ClientSettings",
            "## `[clients.<name>]`",
            keys_of::<ClientSettings>(),
        ),
        (
            "ClientKwargs",
            "### `client_kwargs`",
            keys_of::<ClientKwargs>(),
        ),
        (
            "PresetOptions",
            "### `preset_options`",
            keys_of::<PresetOptions>(),
        ),
    ]
}

#[test]
fn every_accepted_key_is_in_the_chapter() {
    for (ty, heading, accepted) in sections() {
        let listed = chapter_keys(heading);
        let missing: Vec<_> = accepted
            .iter()
            .filter(|key| !listed.contains(**key))
            .collect();
        assert!(
            missing.is_empty(),
            "{ty} accepts {missing:?}, which the guide's settings chapter \
             (crates/ferroauth/src/guide/settings.md, section `{heading}`) does not list"
        );
    }
}

#[test]
fn every_key_in_the_chapter_is_accepted() {
    for (ty, heading, accepted) in sections() {
        let unknown: Vec<_> = chapter_keys(heading)
            .into_iter()
            .filter(|key| !accepted.contains(key.as_str()))
            .collect();
        assert!(
            unknown.is_empty(),
            "the settings chapter lists {unknown:?} under `{heading}`, which {ty} does not accept"
        );
    }
}

/// The nested tables checked above are every table the settings have: a key whose row
/// says it is a table has a section of its own (`clients` is the map of client tables).
#[test]
fn every_nested_table_has_its_section() {
    let nested: BTreeSet<&str> = ["login", "http", "client_kwargs", "preset_options"].into();
    for (_, heading, _) in sections() {
        let mut lines = CHAPTER.lines().skip_while(|line| line.trim() != heading);
        lines.next();
        for line in lines.take_while(|line| !line.starts_with('#')) {
            let cells: Vec<&str> = line.split(" | ").collect();
            if line.starts_with("| `") && cells.get(1).is_some_and(|t| t.trim() == "table") {
                let key = cells[0].trim_start_matches("| `").trim_end_matches('`');
                assert!(
                    nested.contains(key),
                    "`{key}` is a table: give it a section in the settings chapter and a \
                     row in sections() here"
                );
            }
        }
    }
}

/// The keys the chapter lists are accepted by the reader itself, not only by the types:
/// a settings file with every one of them loads.
#[test]
fn a_file_with_every_listed_client_key_loads() {
    let text = r#"
        [login]
        pending_ttl = 300
        max_pending = 5

        [http]
        connect_timeout = 2
        timeout = 10
        max_response_bytes = 65536
        user_agent = "guide-test"
        proxy = "off"

        [clients.every]
        preset = "none"
        client_id = "id"
        client_secret = "secret"
        authorize_url = "https://p.example/authorize"
        authorize_params = { prompt = "login" }
        access_token_url = "https://p.example/token"
        access_token_params = { audience = "api" }
        request_token_params = {}
        api_base_url = "https://p.example/api/"
        server_metadata_url = "https://p.example/.well-known/openid-configuration"
        issuer = "https://p.example"
        userinfo_endpoint = "https://p.example/userinfo"
        jwks_uri = "https://p.example/jwks"
        revocation_endpoint = "https://p.example/revoke"
        introspection_endpoint = "https://p.example/introspect"
        end_session_endpoint = "https://p.example/logout"
        device_authorization_endpoint = "https://p.example/device"
        preset_options = {}

        [clients.every.client_kwargs]
        scope = "openid"
        token_endpoint_auth_method = "client_secret_post"
        code_challenge_method = "S256"
        timeout = 5
        connect_timeout = 1.5
        max_response_bytes = 4096
        allow_insecure_http = false
        revoke_tokens_on_logout = true
        backchannel_logout = false
        id_token_signing_algs = "RS256 ES256"
        issuer_aliases = ["p.example"]
        leeway = 30
        fetch_userinfo = true
        check_nonce = true
        require_auth_time = false
        api_headers = { X-Api = "1" }
        signature_method = "HMAC-SHA256"
        signature_type = "QUERY"
        realm = "r"
        client_assertion_kid = "k1"
        client_assertion_alg = "RS256"
        token_refresh_leeway = 120
        pushed_authorization_requests = false
        resource = "https://api.example/"
        request_object = false
        dpop = false
        dpop_alg = "EdDSA"
    "#;
    let settings = Settings::from_toml_str(text).unwrap_or_else(|e| panic!("{e}"));
    let client = &settings.clients["every"];
    assert_eq!(client.client_kwargs.leeway, Some(30));
    assert_eq!(settings.login.max_pending, 5);
    // The keys the file leaves out are secrets or preset-specific; the types accept them
    // (checked above), and the README and preset tests load them.
    let given: BTreeSet<&str> = text
        .lines()
        .filter_map(|line| line.trim().split_once(" = ").map(|(key, _)| key))
        .collect();
    let left_out: BTreeSet<&str> = keys_of::<ClientKwargs>()
        .into_iter()
        .filter(|key| !given.contains(key))
        .collect();
    assert_eq!(
        left_out,
        ["client_assertion_key", "dpop_key", "rsa_private_key"].into(),
        "secrets aside, every client_kwargs key is in the file above"
    );
}

// The chapter's `toml` examples are loaded, with the README's, by
// crates/ferroauth-demo/tests/readme.rs (`settings_examples_load`).
