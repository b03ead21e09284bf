//! Presets of this group of providers.

use super::Preset;

/// The presets defined here.
pub(crate) const PRESETS: &[Preset] = &[];
