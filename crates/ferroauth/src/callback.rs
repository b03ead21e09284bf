//! The parameters a provider sends back to the redirect URI.

use std::collections::BTreeMap;

use crate::Error;

/// Longest single callback parameter value accepted; codes and states are far shorter,
/// and junk is refused before any lookup or provider call.
pub const MAX_VALUE_LEN: usize = 4096;
/// Most parameters accepted on one callback.
pub const MAX_PARAMS: usize = 32;

/// The callback parameters, from the query string of a GET or the form body of a
/// `response_mode=form_post` POST.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CallbackParams {
    params: BTreeMap<String, String>,
}

impl std::fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The values are codes and states: credentials. Show the names only.
        f.debug_struct("CallbackParams")
            .field("names", &self.params.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl CallbackParams {
    /// Parses `application/x-www-form-urlencoded` text: a query string (without `?`) or a
    /// form body.
    ///
    /// A parameter sent twice is refused (RFC 6749 §3.1), as are oversized values and
    /// more than [`MAX_PARAMS`] parameters.
    pub fn parse(encoded: &str) -> Result<Self, Error> {
        Self::from_pairs(
            url::form_urlencoded::parse(encoded.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned())),
        )
    }

    /// Builds from name/value pairs, with the same checks as [`CallbackParams::parse`].
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Result<Self, Error> {
        let mut params = BTreeMap::new();
        for (name, value) in pairs {
            if params.len() >= MAX_PARAMS {
                return Err(Error::InvalidCallback("too many parameters".into()));
            }
            if name.len() > 64 || value.len() > MAX_VALUE_LEN {
                return Err(Error::InvalidCallback(format!(
                    "parameter `{}` is too long",
                    name.chars().take(64).collect::<String>()
                )));
            }
            if params.contains_key(&name) {
                return Err(Error::InvalidCallback(format!(
                    "parameter `{name}` is sent more than once"
                )));
            }
            params.insert(name, value);
        }
        Ok(Self { params })
    }

    /// A parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// Removes a parameter, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.params.remove(name)
    }

    /// Every parameter, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether there are no parameters at all.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_query_strings() {
        let p = CallbackParams::parse("code=abc&state=x%20y&iss=http%3A%2F%2F127.0.0.1").unwrap();
        assert_eq!(p.get("code"), Some("abc"));
        assert_eq!(p.get("state"), Some("x y"));
        assert_eq!(p.get("iss"), Some("http://127.0.0.1"));
        assert!(!format!("{p:?}").contains("abc"));
    }

    #[test]
    fn refuses_duplicates_and_junk() {
        assert_eq!(
            CallbackParams::parse("state=a&state=b").unwrap_err().code(),
            "callback_invalid"
        );
        let long = format!("code={}", "x".repeat(MAX_VALUE_LEN + 1));
        assert_eq!(
            CallbackParams::parse(&long).unwrap_err().code(),
            "callback_invalid"
        );
        let many: Vec<String> = (0..40).map(|i| format!("p{i}=1")).collect();
        assert_eq!(
            CallbackParams::parse(&many.join("&")).unwrap_err().code(),
            "callback_invalid"
        );
    }
}
