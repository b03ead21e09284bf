//! Small helpers for presets' profile mappings: a provider's own profile fields copied to
//! the standard claim names, without removing the provider's fields.

use serde_json::Value;

use super::entry::{ProfileMap, Verified};
use crate::Claims;

impl ProfileMap {
    /// Maps `claims` in place: `sub`, the other claims, the name from its parts, what is
    /// computed, then `email_verified`. Total on any claims, whatever the provider sent
    /// (public for the `preset_hooks` fuzz target and for apps that map a profile they
    /// fetched themselves).
    pub fn apply(&self, claims: &mut Claims) {
        if !self.sub.is_empty() {
            set(claims, "sub", self.sub);
        }
        for (name, pointers) in self.claims {
            fill(claims, name, pointers);
        }
        if let Some((given, family)) = self.name_parts {
            let (given, family) = (text_at(claims, given), text_at(claims, family));
            fill_name_from_parts(claims, given, family);
        }
        if let Some(computed) = self.computed {
            computed(claims);
        }
        match self.email_verified {
            Verified::AsSent => {}
            Verified::Never => {
                claims.insert("email_verified".into(), Value::Bool(false));
            }
            Verified::At(pointer) => verified_from(claims, pointer),
            Verified::Equals(pointer, text) => {
                let verified = text_at(claims, pointer).as_deref() == Some(text);
                claims.insert("email_verified".into(), Value::Bool(verified));
            }
        }
    }
}

/// The value at a JSON pointer (`/data/0/id`) into the claims: the first segment names a
/// claim, the rest is walked by serde_json's own RFC 6901 pointer.
pub(crate) fn value_at<'c>(claims: &'c Claims, pointer: &str) -> Option<&'c Value> {
    let path = pointer.strip_prefix('/').unwrap_or(pointer);
    let (first, rest) = path.find('/').map_or((path, ""), |i| path.split_at(i));
    claims.get(first)?.pointer(rest)
}

/// The value at a JSON pointer of the claims, when it is a non-empty string or a number
/// (as a string).
pub(crate) fn text_at(claims: &Claims, pointer: &str) -> Option<String> {
    match value_at(claims, pointer)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Sets the standard claim `name` from the first pointer that has a value, unless the
/// claim is already there.
pub(crate) fn fill(claims: &mut Claims, name: &str, pointers: &[&str]) {
    if claims.get(name).is_some_and(|v| !v.is_null()) {
        return;
    }
    if let Some(value) = pointers.iter().find_map(|p| text_at(claims, p)) {
        claims.insert(name.to_owned(), Value::String(value));
    }
}

/// Sets the standard claim `name` from the first pointer that has a value, replacing what
/// is there (for `sub`, which must be the provider's stable id, never a mutable field).
pub(crate) fn set(claims: &mut Claims, name: &str, pointers: &[&str]) {
    if let Some(value) = pointers.iter().find_map(|p| text_at(claims, p)) {
        claims.insert(name.to_owned(), Value::String(value));
    }
}

/// Sets `name` to the given and family names joined, unless a name is already there
/// (providers that only have the parts: Strava, Zoom, Apple's first-login `user`).
pub(crate) fn fill_name_from_parts(
    claims: &mut Claims,
    given: Option<String>,
    family: Option<String>,
) {
    if claims.get("name").is_some_and(|v| !v.is_null()) {
        return;
    }
    let full = [given, family]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if !full.is_empty() {
        claims.insert("name".into(), Value::String(full));
    }
}

/// Sets `email_verified` to whether the boolean (or `"true"`) at `pointer` is true; false
/// when absent, so that an unverified address is never taken as verified.
pub(crate) fn verified_from(claims: &mut Claims, pointer: &str) {
    let verified = match value_at(claims, pointer) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    claims.insert("email_verified".into(), Value::Bool(verified));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(v: Value) -> Claims {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn pointers_reach_into_objects_and_arrays() {
        let mut c = claims(serde_json::json!({
            "data": [{"id": 42, "login": "octo", "avatar": ""}],
            "name": null
        }));
        assert_eq!(text_at(&c, "/data/0/id").as_deref(), Some("42"));
        assert_eq!(
            text_at(&c, "/data/0/avatar"),
            None,
            "empty strings are no value"
        );
        assert_eq!(text_at(&c, "/data/1/id"), None);
        fill(&mut c, "name", &["/data/0/name", "/data/0/login"]);
        assert_eq!(
            c["name"], "octo",
            "null is replaced by the first value found"
        );
        fill(&mut c, "name", &["/data/0/id"]);
        assert_eq!(c["name"], "octo", "a present claim is kept");
        set(&mut c, "sub", &["/data/0/id"]);
        assert_eq!(c["sub"], "42");
    }

    #[test]
    fn verified_only_when_the_provider_says_true() {
        let mut c = claims(serde_json::json!({"a": true, "b": "true", "c": "false"}));
        for (pointer, expected) in [("/a", true), ("/b", true), ("/c", false), ("/d", false)] {
            verified_from(&mut c, pointer);
            assert_eq!(c["email_verified"], expected, "{pointer}");
        }
    }
}
