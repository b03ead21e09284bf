//! The demo's `/metrics`: ferroauth's metrics (logins, refreshes, provider calls; see
//! `ferroauth::telemetry`) in the Prometheus text format, when the demo runs with
//! `--metrics`.
//!
//! The recorder is process-wide (the `metrics` facade has one global recorder), so it is
//! installed once and every app of the process renders from the same handle.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// A handle on the process's Prometheus recorder.
#[derive(Clone)]
pub struct Metrics(PrometheusHandle);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// The `Content-Type` of the Prometheus text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

impl Metrics {
    /// Installs the Prometheus recorder as the process's metrics recorder (the first call
    /// does; later ones return the same handle). `None` when another recorder was
    /// installed first.
    pub fn install() -> Option<Metrics> {
        static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
        HANDLE
            .get_or_init(|| PrometheusBuilder::new().install_recorder().ok())
            .clone()
            .map(Metrics)
    }

    /// Every metric recorded so far, in the Prometheus text format.
    pub fn render(&self) -> String {
        self.0.render()
    }
}
