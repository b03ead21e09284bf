//! Apple's `user` form field: on the first authorization only, the callback's form carries
//! `{"name": {"firstName": ..., "lastName": ...}, "email": ...}` as JSON.
//!
//! It comes through the browser, so nothing in it is trusted: only the name is taken (Apple
//! puts it nowhere else), and only where the claims have none; the address is the ID
//! token's.

use serde_json::Value;

use crate::Claims;

/// Largest `user` field read; Apple's is a few hundred bytes.
const MAX_USER_JSON: usize = 4096;

/// Adds `name`, `given_name` and `family_name` from the `user` JSON, when present and
/// well-formed; anything else is ignored.
pub(crate) fn merge_name(claims: &mut Claims, user: Option<&str>) {
    let Some(user) = user.filter(|u| u.len() <= MAX_USER_JSON) else {
        return;
    };
    let Ok(Value::Object(user)) = serde_json::from_str::<Value>(user) else {
        return;
    };
    let part = |k: &str| {
        user.get("name")?
            .get(k)?
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (given, family) = (part("firstName"), part("lastName"));
    for (claim, value) in [("given_name", &given), ("family_name", &family)] {
        if let Some(value) = value {
            claims
                .entry(claim)
                .or_insert_with(|| Value::String(value.clone()));
        }
    }
    super::profile_map::fill_name_from_parts(claims, given, family);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_taken_and_the_address_is_not() {
        let mut claims = Claims::new();
        claims.insert("email".into(), "relay@privaterelay.appleid.com".into());
        merge_name(
            &mut claims,
            Some(r#"{"name":{"firstName":"Jane","lastName":"Doe"},"email":"forged@example.com"}"#),
        );
        assert_eq!(claims["name"], "Jane Doe");
        assert_eq!(claims["given_name"], "Jane");
        assert_eq!(claims["email"], "relay@privaterelay.appleid.com");
    }

    #[test]
    fn junk_is_ignored() {
        for junk in ["", "null", "[1]", "{\"name\":3}", &"x".repeat(5000)] {
            let mut claims = Claims::new();
            merge_name(&mut claims, Some(junk));
            assert!(claims.is_empty(), "{junk:.20}");
        }
    }
}
