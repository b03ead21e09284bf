//! Plain OAuth 2.0 providers (no OpenID Connect for web login): the profile comes from an
//! API call, or (Notion) from the token response, and each preset maps it to the standard
//! claims.
//!
//! One file per group: `facebook` (versioned Graph URLs, `appsecret_proof`, Graph errors),
//! `social` (X, Discord, Reddit, Tumblr), `media` (Strava, Spotify, Patreon), `work`
//! (Dropbox, Bitbucket, Zoom, Notion, Box) and `accounts` (Login with Amazon).

use super::Preset;

mod accounts;
mod facebook;
mod media;
mod social;
mod work;

/// The presets defined here.
pub(crate) const PRESETS: &[Preset] = &[
    facebook::FACEBOOK,
    social::X,
    social::DISCORD,
    social::REDDIT,
    media::STRAVA,
    work::DROPBOX,
    media::SPOTIFY,
    work::BITBUCKET,
    work::ZOOM,
    work::NOTION,
    media::PATREON,
    social::TUMBLR,
    work::BOX,
    accounts::AMAZON,
];
