//! In-memory provider state.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use crate::config::{Client, ClientKind, User};
use crate::dpop::ReplayCache;
use crate::keys::KeyRing;
use crate::util::now;

/// Immutable settings.
pub(crate) struct Settings {
    /// Issuer identifier, without trailing slash.
    pub(crate) issuer: String,
    pub(crate) users: Vec<User>,
    pub(crate) clients: HashMap<String, Client>,
    pub(crate) auto_approve: bool,
    pub(crate) fast: bool,
    pub(crate) code_ttl: u64,
    pub(crate) access_ttl: u64,
    pub(crate) refresh_ttl: u64,
    pub(crate) id_token_ttl: u64,
    pub(crate) login_ttl: u64,
    pub(crate) oauth1_window: u64,
    /// Lifetime of device and user codes (RFC 8628 `expires_in`).
    pub(crate) device_ttl: u64,
    /// Initial polling interval of the device grant (RFC 8628 `interval`).
    pub(crate) device_interval: u64,
}

impl Settings {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    pub(crate) fn client(&self, id: &str, kind: ClientKind) -> Option<&Client> {
        self.clients.get(id).filter(|c| c.kind == kind)
    }

    pub(crate) fn user(&self, sub: &str) -> Option<&User> {
        self.users.iter().find(|u| u.sub == sub)
    }

    pub(crate) fn find_login(&self, input: &str) -> Option<&User> {
        self.user(input.trim())
            .or_else(|| self.users.iter().find(|u| u.matches_login(input)))
    }
}

/// A validated OAuth 2.0 authorization request waiting for a decision.
#[derive(Debug, Clone)]
pub(crate) struct AuthRequest {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    /// Whether `redirect_uri` was sent (then it is required at the token endpoint).
    pub(crate) redirect_uri_explicit: bool,
    pub(crate) scope: String,
    pub(crate) state: Option<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) code_challenge: Option<String>,
    /// `response_mode=form_post`: the response goes back as an auto-submitted form.
    pub(crate) form_post: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum PendingKind {
    OAuth2(AuthRequest),
    OAuth1 { token: String },
}

#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) kind: PendingKind,
    pub(crate) client_id: String,
    pub(crate) expires_at: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct CodeEntry {
    pub(crate) req: AuthRequest,
    pub(crate) sub: String,
    pub(crate) auth_time: u64,
    pub(crate) expires_at: u64,
    /// Set once redeemed: the grant whose tokens are revoked on reuse.
    pub(crate) redeemed_grant: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    pub(crate) client_id: String,
    /// The user, or `None` for client credentials tokens.
    pub(crate) sub: Option<String>,
    pub(crate) scope: String,
    pub(crate) iat: u64,
    pub(crate) expires_at: u64,
    pub(crate) grant_id: Option<String>,
    /// The DPoP key thumbprint the token is bound to (RFC 9449 §6).
    pub(crate) jkt: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct RefreshToken {
    pub(crate) client_id: String,
    pub(crate) sub: String,
    pub(crate) scope: String,
    pub(crate) auth_time: u64,
    pub(crate) iat: u64,
    pub(crate) expires_at: u64,
    pub(crate) grant_id: String,
    /// Rotated away: presenting it again is a replay.
    pub(crate) used: bool,
    /// The DPoP key thumbprint the token is bound to: only for public clients, whose
    /// refresh tokens have no other sender constraint (RFC 9449 §5).
    pub(crate) jkt: Option<String>,
}

/// OAuth 1.0a temporary credentials.
#[derive(Debug, Clone)]
pub(crate) struct TempCredential {
    pub(crate) consumer_key: String,
    pub(crate) secret: String,
    pub(crate) callback: String,
    /// Set after the user approved: (verifier, user sub).
    pub(crate) approved: Option<(String, String)>,
    pub(crate) expires_at: u64,
}

/// OAuth 1.0a token credentials.
#[derive(Debug, Clone)]
pub(crate) struct OAuth1Token {
    pub(crate) consumer_key: String,
    pub(crate) secret: String,
    pub(crate) sub: String,
    pub(crate) expires_at: u64,
}

/// A pushed authorization request (RFC 9126).
#[derive(Debug, Clone)]
pub(crate) struct PushedRequest {
    pub(crate) client_id: String,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) expires_at: u64,
}

/// Where a device authorization request (RFC 8628) stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeviceStatus {
    /// The user has not answered yet.
    Pending,
    /// The user approved at the verification page.
    Approved { sub: String, auth_time: u64 },
    /// The user denied.
    Denied,
    /// Tokens were issued: the device code is spent.
    Redeemed,
}

/// A device authorization request, by device code.
#[derive(Debug, Clone)]
pub(crate) struct DeviceGrant {
    pub(crate) client_id: String,
    pub(crate) scope: String,
    pub(crate) expires_at: u64,
    /// The current polling interval in seconds; `slow_down` adds 5 (RFC 8628 §3.5).
    pub(crate) interval: u64,
    /// When the device last polled; sub-second precision, as the interval may be 1 s.
    pub(crate) last_poll: Option<Instant>,
    pub(crate) status: DeviceStatus,
}

/// How long an expired device code is remembered, so that polls get `expired_token`
/// rather than `invalid_grant`.
const EXPIRED_DEVICE_GRACE_SECS: u64 = 600;

#[derive(Default)]
pub(crate) struct Store {
    pub(crate) pending: HashMap<String, Pending>,
    pub(crate) codes: HashMap<String, CodeEntry>,
    pub(crate) access: HashMap<String, AccessToken>,
    pub(crate) refresh: HashMap<String, RefreshToken>,
    pub(crate) temp: HashMap<String, TempCredential>,
    pub(crate) oauth1_tokens: HashMap<String, OAuth1Token>,
    /// Seen OAuth 1.0a nonces, with the time they may be forgotten.
    pub(crate) nonces: HashMap<String, u64>,
    /// Pushed authorization requests (RFC 9126) by `request_uri`. Each is used once.
    pub(crate) pushed: HashMap<String, PushedRequest>,
    /// `jti`s of recently accepted DPoP proofs.
    pub(crate) dpop_jtis: ReplayCache,
    /// Device authorization requests (RFC 8628) by device code.
    pub(crate) devices: HashMap<String, DeviceGrant>,
    /// Normalized user code → device code, for codes the user can still answer.
    pub(crate) user_codes: HashMap<String, String>,
    /// The RP-initiated logouts accepted, oldest first.
    pub(crate) logouts: Vec<crate::Logout>,
    /// The provider's login sessions (`sid`, one per approved login) and their client
    /// and user, until they end.
    pub(crate) sessions: HashMap<String, crate::logout::ProviderSession>,
    /// The back-channel logout tokens delivered, oldest first.
    pub(crate) deliveries: Vec<crate::logout::Delivery>,
    last_purge: u64,
}

impl Store {
    /// Drops everything that has expired (at most once per second).
    pub(crate) fn purge(&mut self, now: u64) {
        if now == self.last_purge {
            return;
        }
        self.last_purge = now;
        self.pending.retain(|_, p| p.expires_at > now);
        self.codes.retain(|_, c| c.expires_at > now);
        self.access.retain(|_, t| t.expires_at > now);
        self.refresh.retain(|_, t| t.expires_at > now);
        self.temp.retain(|_, t| t.expires_at > now);
        self.oauth1_tokens.retain(|_, t| t.expires_at > now);
        self.nonces.retain(|_, until| *until > now);
        self.pushed.retain(|_, p| p.expires_at > now);
        self.dpop_jtis.purge(now);
        self.devices
            .retain(|_, d| d.expires_at.saturating_add(EXPIRED_DEVICE_GRACE_SECS) > now);
        let devices = &self.devices;
        self.user_codes
            .retain(|_, code| devices.get(code).is_some_and(|d| d.expires_at > now));
    }

    /// Revokes every token issued under `grant_id`.
    pub(crate) fn revoke_grant(&mut self, grant_id: &str) {
        self.access
            .retain(|_, t| t.grant_id.as_deref() != Some(grant_id));
        self.refresh.retain(|_, t| t.grant_id != grant_id);
    }

    /// Number of live entries (for tests and diagnostics).
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
            + self.codes.len()
            + self.access.len()
            + self.refresh.len()
            + self.temp.len()
            + self.oauth1_tokens.len()
            + self.nonces.len()
            + self.pushed.len()
            + self.dpop_jtis.len()
            + self.devices.len()
    }
}

/// Everything the handlers share.
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    keys: RwLock<KeyRing>,
    store: Mutex<Store>,
}

impl Shared {
    pub(crate) fn new(settings: Settings, keys: KeyRing) -> Self {
        Self {
            settings,
            keys: RwLock::new(keys),
            store: Mutex::new(Store::default()),
        }
    }

    /// Locks the store after purging expired entries. A poisoned lock is
    /// recovered: the maps stay consistent between statements.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        let mut guard = self.store.lock().unwrap_or_else(|e| e.into_inner());
        guard.purge(now());
        guard
    }

    pub(crate) fn keys(&self) -> RwLockReadGuard<'_, KeyRing> {
        self.keys.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn keys_mut(&self) -> RwLockWriteGuard<'_, KeyRing> {
        self.keys.write().unwrap_or_else(|e| e.into_inner())
    }
}
