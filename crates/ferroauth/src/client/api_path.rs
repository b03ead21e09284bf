//! Paths that a browser names for an API call, kept under the client's `api_base_url`.
//!
//! Why: a route like `GET /api/{name}/{*path}` passes a path from the URL to
//! [`crate::OAuthClient`] with the user's token. If that path could name another host, any
//! site could link the user to `/api/github/https://evil.example/` and receive the token
//! (and the app would serve the attacker's answer from its own origin). Joining a string
//! onto a base URL does not stop this: RFC 3986 and the WHATWG URL parser both let
//! `https://…`, `//host`, `\\host` (backslashes are slashes in special URLs), `..` and
//! their percent-encoded spellings leave the base.
//!
//! [`confine`] therefore refuses, before joining, anything that could be read as a scheme,
//! an authority, a backslash, a dot segment or a control character, in the raw text and
//! once percent-decoded; and after joining it checks the result the other way round: same
//! scheme, host and port as the base, and a path under the base's path. Either check
//! alone would do for the inputs known today; both together keep the next parser quirk
//! out too. Paths that APIs really use — `repos/o/r/issues?state=open`,
//! `projects/group%2Fproject` (GitLab's encoded project ids) — pass.

use url::Url;

/// Longest path accepted, query included.
const MAX_PATH_BYTES: usize = 4096;

/// Why a path was refused (for [`crate::Error::InvalidApiPath`]).
pub(crate) type Refusal = &'static str;

/// `path` (with an optional `?query`) joined under `base`, which must be a directory URL
/// (ending in `/`), or why it may not be.
pub(crate) fn confine(base: &Url, path: &str) -> Result<Url, Refusal> {
    if path.len() > MAX_PATH_BYTES {
        return Err("the path is too long");
    }
    let (path_part, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    // One leading slash is how a path is written; a second would name a host.
    let path_part = path_part.strip_prefix('/').unwrap_or(path_part);
    check_text(path_part)?;
    let decoded = percent_decode(path_part);
    check_text(&decoded)?;
    let has_control = |text: &str| text.chars().any(char::is_control);
    if query.is_some_and(|q| has_control(q) || has_control(&percent_decode(q))) {
        return Err("the query has control characters");
    }
    let joined = base
        .join(path_part)
        .map_err(|_| "the path does not make a URL")?;
    let mut url = joined;
    url.set_query(query);
    url.set_fragment(None);
    stays_under(base, &url)?;
    Ok(url)
}

/// The checks that apply to the raw and to the decoded text alike.
fn check_text(text: &str) -> Result<(), Refusal> {
    if text.starts_with('/') {
        return Err("the path names another host (`//`)");
    }
    if text.contains('\\') {
        return Err("the path has a backslash");
    }
    if text.chars().any(|c| c.is_control()) {
        return Err("the path has control characters");
    }
    let first = text.split('/').next().unwrap_or_default();
    if first.contains(':') {
        return Err("the path names a scheme");
    }
    if text
        .split('/')
        .any(|segment| segment == ".." || segment == ".")
    {
        return Err("the path has a dot segment");
    }
    Ok(())
}

/// `text` percent-decoded once; invalid UTF-8 becomes U+FFFD, which no check accepts as
/// anything but an ordinary character.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The joined URL is on the base's origin and under its path.
fn stays_under(base: &Url, url: &Url) -> Result<(), Refusal> {
    let same_origin = url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default()
        && url.username() == base.username()
        && url.password() == base.password();
    if !same_origin {
        return Err("the path leaves the API's origin");
    }
    if !url.path().starts_with(base.path()) {
        return Err("the path leaves the API's base path");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn base() -> Url {
        Url::parse("https://api.example/v1/").unwrap()
    }

    #[test]
    fn api_paths_pass() {
        for (path, want) in [
            ("me", "https://api.example/v1/me"),
            ("/me", "https://api.example/v1/me"),
            (
                "repos/o/r/issues?state=open&page=2",
                "https://api.example/v1/repos/o/r/issues?state=open&page=2",
            ),
            (
                "projects/group%2Fproject",
                "https://api.example/v1/projects/group%2Fproject",
            ),
            ("users/a:b", "https://api.example/v1/users/a:b"),
            ("search?q=a/../b", "https://api.example/v1/search?q=a/../b"),
            ("", "https://api.example/v1/"),
        ] {
            assert_eq!(confine(&base(), path).unwrap().as_str(), want, "{path:?}");
        }
    }

    #[test]
    fn every_spelling_of_another_host_is_refused() {
        for evil in [
            "http://127.0.0.1:9/a",
            "HTTP://127.0.0.1:9/a",
            "https:evil.example/a",
            "http:%2F%2Fevil.example/a",
            "http%3A%2F%2Fevil.example/a",
            "//evil.example/a",
            "///evil.example/a",
            "%2F%2Fevil.example/a",
            "\\\\evil.example/a",
            "%5C%5Cevil.example/a",
            "/\\evil.example",
            "javascript:alert(1)",
            "data:text/html,x",
        ] {
            assert!(confine(&base(), evil).is_err(), "{evil:?} was accepted");
        }
    }

    #[test]
    fn the_base_path_cannot_be_left() {
        for evil in [
            "..",
            "../admin",
            "a/../../admin",
            "%2e%2e/admin",
            "%2E%2E/admin",
            ".%2e/admin",
            "a/%2e%2e/%2e%2e/admin",
            "./me",
            "a\u{0}b",
            "a%00b",
            "a%0d%0aHost:%20evil",
            "me?x=%0d%0a",
            "me\tyou",
        ] {
            assert!(confine(&base(), evil).is_err(), "{evil:?} was accepted");
        }
        assert!(confine(&base(), &"a".repeat(MAX_PATH_BYTES + 1)).is_err());
    }

    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "/",
            "\\",
            ".",
            "..",
            "%2e",
            "%2E",
            "%2f",
            "%2F",
            "%5c",
            "%5C",
            "%25",
            "%",
            ":",
            "http",
            "HTTP",
            "https:",
            "//",
            "@",
            "evil.example",
            "?",
            "#",
            "%00",
            "\t",
            "\n",
            "a",
            "v1",
            "%3a",
            "%3A",
            ";",
            "%40",
            "[::1]",
            "127.0.0.1",
            ":443",
            "~",
            " ",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Whatever the path, an accepted one is on the API's origin and under its base.
        #[test]
        fn no_path_leaves_the_base(pieces in prop::collection::vec(piece(), 0..12)) {
            let path: String = pieces.concat();
            for base in [base(), Url::parse("http://127.0.0.1:8080/").unwrap()] {
                if let Ok(url) = confine(&base, &path) {
                    prop_assert_eq!(url.origin(), base.origin(), "{:?} -> {}", path, url);
                    prop_assert!(url.path().starts_with(base.path()), "{:?} -> {}", path, url);
                    prop_assert!(url.username().is_empty() && url.password().is_none());
                }
            }
        }
    }
}
