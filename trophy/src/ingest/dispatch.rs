//! The batching loop: decides when a batch goes out (full, lingered long enough, flushed or
//! closing), waits for an in-flight slot and a tier-1 token, takes the batch from its
//! [`Source`] and hands it to the [`Engine`]; reports each outcome back to the source.

use super::engine::{stopped, Engine, Keyed, Report};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Where queued events come from and where their outcomes go: the seam between a queue (in
/// memory, on disk, in a shared stream) and the batching and delivery engine.
pub(crate) trait Source: Send + Sync + 'static {
    /// How many events wait, and when the oldest of them was enqueued.
    fn pending(&self) -> (usize, Option<Instant>);
    /// Takes up to `max` events, oldest first.
    fn take(&self, max: usize) -> Vec<Keyed>;
    /// Resolves when something may have changed: events added (at least when the source
    /// becomes non-empty or reaches a full batch), a flush was asked for, or the source closed.
    fn changed(&self) -> impl Future<Output = ()> + Send;
    /// Whether a flush is waiting (batches then go out without lingering).
    fn flushing(&self) -> bool;
    /// Whether intake is closed: what is pending is sent without lingering, then the loop ends.
    fn is_closed(&self) -> bool;
    /// Receives the outcome of every event of a batch taken from this source (events left
    /// undelivered by a stop are in `report.undelivered`).
    fn finish(&self, report: &Report);
}

/// How the loop batches.
#[derive(Debug, Clone)]
pub(crate) struct DispatchConfig {
    pub(crate) max_batch: usize,
    pub(crate) linger: Duration,
    pub(crate) max_in_flight: usize,
}

/// Runs until the source is closed and empty and every batch has finished, or until `stop`
/// turns true. Returns the events left undelivered by a stop (taken from the source or in
/// flight); they keep their keys.
pub(crate) async fn run<S: Source>(
    source: Arc<S>,
    engine: Arc<Engine>,
    config: DispatchConfig,
    stop: watch::Receiver<bool>,
) -> Vec<Keyed> {
    let slots = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
    let mut tasks: JoinSet<Vec<Keyed>> = JoinSet::new();
    let mut undelivered = Vec::new();
    let mut stop_rx = stop.clone();
    'outer: loop {
        // Wait until a batch is due.
        loop {
            if *stop_rx.borrow() {
                break 'outer;
            }
            while let Some(done) = tasks.try_join_next() {
                undelivered.extend(done.unwrap_or_default());
            }
            let (len, oldest) = source.pending();
            if len == 0 {
                if source.is_closed() {
                    break 'outer;
                }
                tokio::select! {
                    _ = stopped(&mut stop_rx) => break 'outer,
                    _ = source.changed() => {}
                }
                continue;
            }
            if len >= config.max_batch || source.flushing() || source.is_closed() {
                break;
            }
            let due = super::later(oldest.unwrap_or_else(Instant::now), config.linger);
            if Instant::now() >= due {
                break;
            }
            tokio::select! {
                _ = stopped(&mut stop_rx) => break 'outer,
                _ = source.changed() => {}
                _ = tokio::time::sleep_until(due) => break,
            }
        }
        // A free slot, then a token: events keep arriving meanwhile and fill the batch.
        let permit = tokio::select! {
            _ = stopped(&mut stop_rx) => break 'outer,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break 'outer,
            },
        };
        if engine.config.rate_limited {
            tokio::select! {
                _ = stopped(&mut stop_rx) => break 'outer,
                _ = engine.token() => {}
            }
        }
        let batch = source.take(config.max_batch);
        if batch.is_empty() {
            continue;
        }
        let engine = engine.clone();
        let source = source.clone();
        let stop = stop.clone();
        let prepaid = engine.config.rate_limited;
        tasks.spawn(async move {
            let report = engine.deliver(batch, prepaid, stop).await;
            source.finish(&report);
            drop(permit);
            report.undelivered
        });
    }
    // Closed and drained, or stopped: wait for the batches in flight (a stop ends them soon).
    while let Some(done) = tasks.join_next().await {
        undelivered.extend(done.unwrap_or_default());
    }
    if *stop.borrow() {
        loop {
            let rest = source.take(usize::MAX);
            if rest.is_empty() {
                break;
            }
            undelivered.extend(rest);
        }
    }
    undelivered
}
