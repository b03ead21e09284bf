//! Plain OAuth 2.0 providers (no OpenID Connect for web login): the profile comes from an
//! API call, or (Notion) from the token response, and each preset maps it to the standard
//! claims.
//!
//! One file per group: `facebook` (versioned Graph URLs, `appsecret_proof`, Graph errors),
//! `social` (X, Discord, Reddit, Tumblr), `media` (Strava, Spotify, Patreon), `work`
//! (Dropbox, Bitbucket, Zoom, Notion, Box), `accounts` (Login with Amazon) and `platforms`
//! (Atlassian, TikTok, Pinterest). A new
//! preset is one more entry in a file's `PRESETS`.

use super::Preset;

mod accounts;
mod facebook;
mod media;
mod platforms;
mod social;
mod work;

/// The presets defined here, one slice per file.
pub(crate) const PRESETS: &[&[Preset]] = &[
    facebook::PRESETS,
    social::PRESETS,
    media::PRESETS,
    work::PRESETS,
    accounts::PRESETS,
    platforms::PRESETS,
];
