//! The list of presets, gathered from the files that define them (one file per group of
//! providers, so that each can grow without touching the others).

use super::Preset;

/// Every preset, sorted by name.
pub(crate) fn all() -> Vec<&'static Preset> {
    let mut all: Vec<&'static Preset> = super::github::PRESETS
        .iter()
        .chain(super::oidc_providers::PRESETS)
        .chain(super::oauth2_providers::PRESETS.iter().copied().flatten())
        .chain(super::oauth1_providers::PRESETS)
        .chain(super::self_hosted::PRESETS)
        .chain(super::enterprise::PRESETS)
        .chain(super::asia::PRESETS)
        .chain(super::fediverse::PRESETS)
        .collect();
    all.sort_by_key(|p| p.name);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_lower_case() {
        let all = all();
        for pair in all.windows(2) {
            assert_ne!(
                pair[0].name, pair[1].name,
                "two presets are called the same"
            );
        }
        for preset in &all {
            assert!(
                preset
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} must be a valid client name",
                preset.name
            );
        }
    }
}
