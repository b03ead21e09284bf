//! What ferroauth reports about its work: a `tracing` span for every login step, refresh
//! and provider call, and — with the `metrics` feature — counters and histograms through
//! the [`metrics`](https://docs.rs/metrics) facade, for whatever recorder the app installs
//! (Prometheus, StatsD, …).
//!
//! # Spans
//!
//! | span | level | fields |
//! |---|---|---|
//! | `authorize_redirect` (a login starts) | INFO | `client`, `outcome`, `error`, `elapsed_ms` |
//! | `authorize_access_token` (the callback) | INFO | `client`, `outcome`, `error`, `elapsed_ms` |
//! | `refresh` | INFO | `client`, `joined`, `outcome`, `error`, `elapsed_ms` |
//! | `provider_call` | DEBUG | `client`, `call`, `host`, `status`, `outcome`, `error`, `elapsed_ms` |
//!
//! `call` is one of `discovery`, `jwks`, `token`, `userinfo`, `api`, `revocation`,
//! `introspection`, `par`, `device_authorization`, and for OAuth 1.0a `request_token` and `access_token`. `outcome` is
//! `ok` or `error` (a provider call is `ok` when the provider answered, whatever the
//! status); `error` is the error's [`Error::code`](crate::Error::code); `joined` is true
//! when the refresh waited for one already in flight for the same token (single flight).
//! Each span ends with one event carrying the same fields, so a plain `fmt` subscriber
//! prints them: at INFO for a finished login and a refresh (one line a login), at DEBUG
//! for a login's start and a provider call.
//!
//! **Never a secret.** No span or event of ferroauth records a token, code, verifier,
//! nonce, state, client secret, cookie or request body: only names, codes, statuses,
//! hosts and durations. The demo's log-capture test drives every flow at TRACE and checks
//! the whole output (ferroauth's and its dependencies') for every secret value that
//! crossed the wire.
//!
//! # Metrics (feature `metrics`)
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `ferroauth_login_starts_total` | counter | `client`, `outcome`, `error` |
//! | `ferroauth_logins_total` | counter | `client`, `outcome`, `error` |
//! | `ferroauth_login_duration_seconds` | histogram | `client`, `outcome` |
//! | `ferroauth_refreshes_total` | counter | `client`, `outcome`, `error` |
//! | `ferroauth_refresh_joins_total` | counter | `client` |
//! | `ferroauth_provider_calls_total` | counter | `client`, `call`, `outcome` |
//! | `ferroauth_provider_call_duration_seconds` | histogram | `client`, `call` |
//!
//! A login's duration runs from the callback to the token (and userinfo) in hand. `error`
//! is empty on success. Label values come from the settings' client names and ferroauth's
//! own codes, so their number is bounded. `ferroauth_refreshes_total` counts the refreshes
//! a caller ran, not the callers that joined it.

use std::time::{Duration, Instant};

use tracing::Span;
use tracing::field::Empty;

/// A step that ferroauth reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// `authorize_redirect`: a login starts.
    LoginStart,
    /// `authorize_access_token`: a login finishes on the callback.
    LoginFinish,
}

impl Step {
    fn span(self, client: &str) -> Span {
        match self {
            Step::LoginStart => tracing::info_span!(
                "authorize_redirect",
                client,
                outcome = Empty,
                error = Empty,
                elapsed_ms = Empty
            ),
            Step::LoginFinish => tracing::info_span!(
                "authorize_access_token",
                client,
                outcome = Empty,
                error = Empty,
                elapsed_ms = Empty
            ),
        }
    }
}

/// One login step being observed: its span and when it started.
///
/// The caller instruments its own future with [`Observation::span`] rather than handing
/// the future over, so the (large) login futures are not moved once more.
pub(crate) struct Observation {
    step: Step,
    span: Span,
    started: Instant,
}

impl Observation {
    /// Opens the step's span for `client`.
    pub(crate) fn start(step: Step, client: &str) -> Self {
        Observation {
            step,
            span: step.span(client),
            started: Instant::now(),
        }
    }

    /// The span to run the step in.
    pub(crate) fn span(&self) -> Span {
        self.span.clone()
    }

    /// Records the step's outcome in its span, one event and (with the `metrics`
    /// feature) the metrics.
    pub(crate) fn finish(self, client: &str, error: Option<&'static str>) {
        let elapsed = self.started.elapsed();
        record(&self.span, elapsed, error);
        let _entered = self.span.enter();
        match self.step {
            // Debug: the callback's event says how the login went, one INFO line a login.
            Step::LoginStart => tracing::debug!(
                outcome = outcome(error),
                error,
                elapsed_ms = millis(elapsed),
                "login started"
            ),
            Step::LoginFinish => tracing::info!(
                outcome = outcome(error),
                error,
                elapsed_ms = millis(elapsed),
                "login finished"
            ),
        }
        #[cfg(feature = "metrics")]
        measure::step(self.step, client, elapsed, error);
        #[cfg(not(feature = "metrics"))]
        let _ = client;
    }
}

/// The span of one refresh; [`refreshed`] closes it.
pub(crate) fn refresh_span(client: &str) -> Span {
    tracing::info_span!(
        "refresh",
        client,
        joined = Empty,
        outcome = Empty,
        error = Empty,
        elapsed_ms = Empty
    )
}

/// Records a refresh's outcome; `joined` when it waited for a refresh already in flight.
pub(crate) fn refreshed(
    span: &Span,
    client: &str,
    started: Instant,
    joined: bool,
    error: Option<&'static str>,
) {
    let elapsed = started.elapsed();
    record(span, elapsed, error);
    span.record("joined", joined);
    let _entered = span.enter();
    tracing::info!(
        joined,
        outcome = outcome(error),
        error,
        elapsed_ms = millis(elapsed),
        "refresh finished"
    );
    #[cfg(feature = "metrics")]
    measure::refresh(client, joined, error);
    #[cfg(not(feature = "metrics"))]
    let _ = client;
}

/// The `call` label of a provider call, from the name its errors use.
fn call_name(what: &str) -> &'static str {
    match what {
        "discovery" => "discovery",
        "JWKS fetch" => "jwks",
        "token request" => "token",
        "userinfo request" => "userinfo",
        "API request" => "api",
        "revocation request" => "revocation",
        "introspection request" => "introspection",
        "temporary credentials request" => "request_token",
        "token credentials request" => "access_token",
        "pushed authorization request" => "par",
        "device authorization request" => "device_authorization",
        _ => "other",
    }
}

/// The span of one call to a provider; `what` is the call's name in errors ("token
/// request"), the span's `call` field its short form (`token`).
pub(crate) fn provider_call_span(client: &str, what: &'static str, host: &str) -> Span {
    let call = call_name(what);
    tracing::debug_span!(
        "provider_call",
        client,
        call,
        host,
        status = Empty,
        outcome = Empty,
        error = Empty,
        elapsed_ms = Empty
    )
}

/// Records a provider call's outcome: the status it answered with, or why it did not.
pub(crate) fn provider_answered(
    span: &Span,
    client: &str,
    call: &'static str,
    elapsed: Duration,
    answer: Result<u16, &'static str>,
) {
    let error = answer.err();
    record(span, elapsed, error);
    let status = answer.ok();
    if let Some(status) = status {
        span.record("status", status);
    }
    let _entered = span.enter();
    tracing::debug!(
        status,
        outcome = outcome(error),
        error,
        elapsed_ms = millis(elapsed),
        "provider answered"
    );
    #[cfg(feature = "metrics")]
    measure::provider_call(client, call_name(call), elapsed, error);
    #[cfg(not(feature = "metrics"))]
    let _ = (client, call);
}

fn record(span: &Span, elapsed: Duration, error: Option<&str>) {
    span.record("outcome", outcome(error));
    if let Some(code) = error {
        span.record("error", code);
    }
    span.record("elapsed_ms", millis(elapsed));
}

fn outcome(error: Option<&str>) -> &'static str {
    if error.is_some() { "error" } else { "ok" }
}

/// Milliseconds with microsecond precision, as a float so short steps do not read 0.
fn millis(elapsed: Duration) -> f64 {
    (elapsed.as_micros() as f64) / 1000.0
}

#[cfg(feature = "metrics")]
mod measure {
    //! The metrics themselves; names and labels are listed in the module docs.

    use std::time::Duration;

    use super::{Step, outcome};

    pub(super) fn step(step: Step, client: &str, elapsed: Duration, error: Option<&'static str>) {
        let (outcome, code) = (outcome(error), error.unwrap_or(""));
        match step {
            Step::LoginStart => metrics::counter!(
                "ferroauth_login_starts_total",
                "client" => client.to_owned(), "outcome" => outcome, "error" => code,
            )
            .increment(1),
            Step::LoginFinish => {
                metrics::counter!(
                    "ferroauth_logins_total",
                    "client" => client.to_owned(), "outcome" => outcome, "error" => code,
                )
                .increment(1);
                metrics::histogram!(
                    "ferroauth_login_duration_seconds",
                    "client" => client.to_owned(), "outcome" => outcome,
                )
                .record(elapsed.as_secs_f64());
            }
        }
    }

    pub(super) fn refresh(client: &str, joined: bool, error: Option<&'static str>) {
        if joined {
            metrics::counter!("ferroauth_refresh_joins_total", "client" => client.to_owned())
                .increment(1);
            return;
        }
        metrics::counter!(
            "ferroauth_refreshes_total",
            "client" => client.to_owned(),
            "outcome" => outcome(error),
            "error" => error.unwrap_or(""),
        )
        .increment(1);
    }

    pub(super) fn provider_call(
        client: &str,
        call: &'static str,
        elapsed: Duration,
        error: Option<&'static str>,
    ) {
        metrics::counter!(
            "ferroauth_provider_calls_total",
            "client" => client.to_owned(),
            "call" => call,
            "outcome" => outcome(error),
        )
        .increment(1);
        metrics::histogram!(
            "ferroauth_provider_call_duration_seconds",
            "client" => client.to_owned(),
            "call" => call,
        )
        .record(elapsed.as_secs_f64());
    }
}
