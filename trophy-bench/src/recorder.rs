//! `--metrics-recorder`: a Prometheus recorder (`metrics-exporter-prometheus`, no HTTP
//! listener) for the SDK's metrics, installed for one thread at a time so that the same
//! client can run with and without it in one process. Needs the `metrics` feature.

use crate::ops::BoxError;

#[cfg(feature = "metrics")]
pub struct Recorder(metrics_exporter_prometheus::PrometheusRecorder);

#[cfg(feature = "metrics")]
impl Recorder {
    pub fn new() -> Result<Recorder, BoxError> {
        Ok(Recorder(
            metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder(),
        ))
    }

    /// Records on this thread until the guard is dropped.
    pub fn install_here(&self) -> metrics::LocalRecorderGuard<'_> {
        metrics::set_default_local_recorder(&self.0)
    }

    /// The requests it counted (`trophy.client.requests`, all labels): proof that it recorded.
    pub fn requests(&self) -> u64 {
        let name = trophy::observability::REQUESTS.replace('.', "_");
        self.0
            .handle()
            .render()
            .lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }
}

#[cfg(not(feature = "metrics"))]
pub struct Recorder;

/// What `install_here` returns without the feature (never, as `new` fails).
#[cfg(not(feature = "metrics"))]
pub struct Guard;

#[cfg(not(feature = "metrics"))]
impl Recorder {
    pub fn new() -> Result<Recorder, BoxError> {
        Err("--metrics-recorder needs the metrics feature: cargo run --release -p trophy-bench --features metrics -- ...".into())
    }

    pub fn install_here(&self) -> Guard {
        Guard
    }

    pub fn requests(&self) -> u64 {
        0
    }
}
