//! The in-memory backend of an [`super::Ingester`]: its queue (bounded, queued and in-flight
//! events together, FIFO, and the [`Source`] of its dispatch loop) and its handle.

use super::dispatch::Source;
use super::engine::{Keyed, Report};
use super::error::{IngestError, IngestErrorKind};
use super::pacer::{ClientPace, Pace};
use super::stats::{BackendStats, Counters, FlushReport, IngestStats, ShutdownReport, Sizes};
use super::{dispatch, later, DeadLetter, IngestConfig};
use crate::api::admin::events::BatchEvent;
use crate::observability;
use crate::{Client, Error};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::time::Duration;
use tokio::task::JoinHandle;

use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::time::Instant;

/// The dead-letter callback.
pub(crate) type DeadLetterFn = Arc<dyn Fn(DeadLetter) + Send + Sync>;

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<Keyed>,
    next_ticket: u64,
    /// Batches taken and not finished: first ticket to number of events.
    in_flight: BTreeMap<u64, usize>,
}

impl State {
    /// Every ticket below this one has finished.
    fn watermark(&self) -> u64 {
        let mut w = self.next_ticket;
        if let Some(front) = self.queue.front() {
            w = w.min(front.ticket);
        }
        if let Some((first, _)) = self.in_flight.first_key_value() {
            w = w.min(*first);
        }
        w
    }
}

pub(crate) struct MemQueue {
    state: Mutex<State>,
    /// Free capacity: a permit per event that may still be accepted.
    space: Semaphore,
    work: Notify,
    /// See [`State::watermark`]; flushes wait on it.
    finished: watch::Sender<u64>,
    flushes: AtomicUsize,
    closed: AtomicBool,
    max_batch: usize,
    counters: Arc<Counters>,
    on_dead_letter: Option<DeadLetterFn>,
}

impl std::fmt::Debug for MemQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemQueue").finish_non_exhaustive()
    }
}

/// Why an event was not queued (the caller gets it back).
pub(crate) enum Refusal {
    Full,
    Closed,
}

/// An event not queued, and why.
pub(crate) struct Refused(pub(crate) Refusal, pub(crate) Box<BatchEvent>);

fn refuse(why: Refusal, event: BatchEvent) -> Refused {
    Refused(why, Box::new(event))
}

impl MemQueue {
    pub(crate) fn new(
        capacity: usize,
        max_batch: usize,
        counters: Arc<Counters>,
        on_dead_letter: Option<DeadLetterFn>,
    ) -> MemQueue {
        MemQueue {
            state: Mutex::new(State::default()),
            space: Semaphore::new(capacity),
            work: Notify::new(),
            finished: watch::Sender::new(0),
            flushes: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            max_batch,
            counters,
            on_dead_letter,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for space, then queues the event.
    pub(crate) async fn push(&self, event: BatchEvent) -> Result<(), Refused> {
        match self.space.acquire().await {
            Ok(p) => p.forget(),
            Err(_) => return Err(refuse(Refusal::Closed, event)),
        }
        self.enqueue(event)
    }

    /// Queues the event if there is space now.
    pub(crate) fn try_push(&self, event: BatchEvent) -> Result<(), Refused> {
        match self.space.try_acquire() {
            Ok(p) => p.forget(),
            Err(tokio::sync::TryAcquireError::Closed) => return Err(refuse(Refusal::Closed, event)),
            Err(tokio::sync::TryAcquireError::NoPermits) => return Err(refuse(Refusal::Full, event)),
        }
        self.enqueue(event)
    }

    fn enqueue(&self, event: BatchEvent) -> Result<(), Refused> {
        let now = Instant::now();
        let len = {
            let mut st = self.lock();
            if self.closed.load(Relaxed) {
                drop(st);
                self.space.add_permits(1);
                return Err(refuse(Refusal::Closed, event));
            }
            let ticket = st.next_ticket;
            st.next_ticket += 1;
            st.queue.push_back(Keyed {
                event,
                enqueued: now,
                ticket,
            });
            st.queue.len()
        };
        self.counters.enqueued.fetch_add(1, Relaxed);
        self.counters.metrics.accepted();
        self.counters.metrics.depth_add(1);
        if len == 1 || len == self.max_batch {
            self.work.notify_one();
        }
        Ok(())
    }

    /// Refuses new events; those queued are still delivered.
    pub(crate) fn close(&self) {
        {
            let _st = self.lock();
            self.closed.store(true, Relaxed);
        }
        self.space.close();
        self.work.notify_one();
    }

    /// Returns once every event queued before the call has finished, or at `deadline`: how many
    /// of those events had not finished then (0 when all had).
    pub(crate) async fn flush(&self, deadline: Option<Instant>) -> usize {
        let target = self.lock().next_ticket;
        let mut rx = self.finished.subscribe();
        if *rx.borrow() >= target {
            return 0;
        }
        // Counted while waiting, also when the caller drops this future (a timeout).
        struct Flushing<'a>(&'a AtomicUsize);
        impl Drop for Flushing<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Relaxed);
            }
        }
        self.flushes.fetch_add(1, Relaxed);
        let _flushing = Flushing(&self.flushes);
        self.work.notify_one();
        let done = rx.wait_for(|w| *w >= target);
        let finished = match deadline {
            None => done.await.is_ok(),
            Some(at) => matches!(tokio::time::timeout_at(at, done).await, Ok(Ok(_))),
        };
        if finished {
            return 0;
        }
        let st = self.lock();
        let queued = st.queue.iter().take_while(|k| k.ticket < target).count();
        let in_flight: usize = st
            .in_flight
            .range(..target)
            .map(|(first, n)| (*n).min(usize::try_from(target - first).unwrap_or(usize::MAX)))
            .sum();
        queued + in_flight
    }

    /// The dispatch loop has ended (shut down, stopped or dropped): no flush waits any more.
    pub(crate) fn retire(&self) {
        self.finished.send_replace(u64::MAX);
    }

    /// (queued, in flight, age of the oldest queued event).
    pub(crate) fn sizes(&self) -> (usize, usize, Option<std::time::Duration>) {
        let st = self.lock();
        let in_flight = st.in_flight.values().sum();
        (
            st.queue.len(),
            in_flight,
            st.queue.front().map(|k| k.enqueued.elapsed()),
        )
    }
}

impl Source for MemQueue {
    fn pending(&self) -> (usize, Option<Instant>) {
        let st = self.lock();
        (st.queue.len(), st.queue.front().map(|k| k.enqueued))
    }

    fn take(&self, max: usize) -> Vec<Keyed> {
        let mut st = self.lock();
        let n = st.queue.len().min(max);
        let batch: Vec<Keyed> = st.queue.drain(..n).collect();
        if let Some(first) = batch.first() {
            st.in_flight.insert(first.ticket, batch.len());
        }
        batch
    }

    async fn changed(&self) {
        self.work.notified().await
    }

    fn flushing(&self) -> bool {
        self.flushes.load(Relaxed) > 0
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Relaxed)
    }

    fn finish(&self, report: &Report) {
        if let Some(callback) = &self.on_dead_letter {
            for (_, letter) in &report.dead {
                callback(letter.clone());
            }
        }
        let first = report
            .delivered
            .iter()
            .chain(report.dead.iter().map(|(k, _)| k))
            .chain(report.undelivered.iter())
            .map(|k| k.ticket)
            .min();
        let (count, watermark) = {
            let mut st = self.lock();
            let count = first.and_then(|t| st.in_flight.remove(&t)).unwrap_or(0);
            (count, st.watermark())
        };
        self.space.add_permits(count);
        self.counters.metrics.depth_sub(count);
        self.finished.send_replace(watermark);
    }
}

/// The in-memory backend's handle; cheap to clone, all clones feed one queue.
#[derive(Clone)]
pub(crate) struct Memory {
    shared: Arc<Shared>,
}

struct Shared {
    queue: Arc<MemQueue>,
    counters: Arc<Counters>,
    worker: tokio::sync::Mutex<Option<JoinHandle<Vec<Keyed>>>>,
    stop: watch::Sender<bool>,
    key_prefix: String,
    next_key: AtomicU64,
    pace: Arc<dyn Pace>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if self.queue.is_closed() {
            return;
        }
        let (queued, in_flight, _) = self.queue.sizes();
        self.queue.close();
        if queued + in_flight > 0 {
            tracing::warn!(
                queued,
                in_flight,
                "trophy ingester dropped without shutdown(): its task keeps delivering these events while the runtime runs"
            );
        }
    }
}

/// Logs events lost when the runtime drops the ingester's task before it finished.
struct WorkerGuard {
    queue: Arc<MemQueue>,
    done: bool,
}

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        self.queue.retire();
        if self.done {
            return;
        }
        let (queued, in_flight, _) = self.queue.sizes();
        if queued + in_flight > 0 {
            tracing::error!(
                queued,
                in_flight,
                "trophy ingester task stopped (runtime shut down) before delivering these events; they are lost"
            );
        }
    }
}

impl Memory {
    /// Starts the in-memory backend on the current Tokio runtime.
    pub(crate) fn start(client: &Client, config: &IngestConfig) -> Result<Memory, Error> {
        config.check()?;
        if client.inner.api_key.is_application_key() {
            return Err(Error::invalid(
                "api_key",
                "the ingester uses the Admin API: build the client with an admin key, not an application key (app_)",
            ));
        }
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::Config("an Ingester must be started within a Tokio runtime".into()))?;
        let counters = Arc::new(Counters::new(crate::observability::Backend::Memory));
        let queue = Arc::new(MemQueue::new(
            config.capacity,
            config.max_batch,
            counters.clone(),
            config.on_dead_letter.clone(),
        ));
        let pace: Arc<dyn Pace> = Arc::new(ClientPace(client.clone()));
        let engine = Arc::new(config.engine(client, counters.clone(), pace.clone()));
        let (stop, stop_rx) = watch::channel(false);
        let guard = WorkerGuard {
            queue: queue.clone(),
            done: false,
        };
        let source = queue.clone();
        let dispatch = config.dispatch();
        let worker = runtime.spawn(async move {
            let mut guard = guard;
            let left = dispatch::run(source, engine, dispatch, stop_rx).await;
            guard.done = true;
            left
        });
        Ok(Memory {
            shared: Arc::new(Shared {
                queue,
                counters,
                worker: tokio::sync::Mutex::new(Some(worker)),
                stop,
                key_prefix: format!("ing-{}-", uuid::Uuid::new_v4().simple()),
                next_key: AtomicU64::new(0),
                pace,
            }),
        })
    }

    pub(crate) async fn send(&self, event: BatchEvent) -> Result<String, IngestError> {
        let generated = event.idempotency_key.is_none();
        let (event, key) = self.prepare(event)?;
        self.shared
            .queue
            .push(event)
            .await
            .map(|()| key)
            .map_err(|r| self.refused(r, generated))
    }

    pub(crate) fn try_send(&self, event: BatchEvent) -> Result<String, IngestError> {
        let generated = event.idempotency_key.is_none();
        let (event, key) = self.prepare(event)?;
        self.shared
            .queue
            .try_push(event)
            .map(|()| key)
            .map_err(|r| self.refused(r, generated))
    }

    pub(crate) async fn flush(&self) {
        self.shared.queue.flush(None).await;
    }

    pub(crate) async fn flush_within(&self, within: Duration) -> FlushReport {
        let pending = self.shared.queue.flush(Some(later(Instant::now(), within))).await;
        FlushReport {
            pending,
            stats: self.stats(),
        }
    }

    pub(crate) async fn shutdown(&self, within: Duration) -> ShutdownReport {
        self.shared.queue.close();
        let worker = self.shared.worker.lock().await.take();
        let mut undelivered = Vec::new();
        if let Some(mut worker) = worker {
            let left = match tokio::time::timeout(within, &mut worker).await {
                Ok(r) => r,
                Err(_) => {
                    self.shared.stop.send_replace(true);
                    worker.await
                }
            };
            undelivered = left.unwrap_or_default();
        }
        undelivered.sort_by_key(|k| k.ticket);
        ShutdownReport {
            undelivered: undelivered.into_iter().map(|k| k.event).collect(),
            left_in_store: 0,
            stats: self.stats(),
        }
    }

    pub(crate) fn stats(&self) -> IngestStats {
        let (queued, in_flight, oldest) = self.shared.queue.sizes();
        self.shared.counters.stats(Sizes {
            queued,
            in_flight,
            oldest,
            send_rate: self.shared.pace.rate(),
            backend: BackendStats::Memory,
        })
    }

    /// Checks and keys the event: the event and its key.
    fn prepare(&self, event: BatchEvent) -> Result<(BatchEvent, String), IngestError> {
        let mut event = super::error::check(event).inspect_err(|_| {
            self.shared.counters.metrics.refused(observability::Refusal::Invalid);
        })?;
        let key = match &event.idempotency_key {
            Some(key) => key.clone(),
            None => {
                let n = self.shared.next_key.fetch_add(1, Relaxed);
                let key = format!("{}{n:x}", self.shared.key_prefix);
                event.idempotency_key = Some(key.clone());
                key
            }
        };
        Ok((event, key))
    }

    /// The error for a refused event, handed back as the caller gave it (without the key the
    /// ingester generated).
    fn refused(&self, Refused(why, event): Refused, generated_key: bool) -> IngestError {
        let (kind, metric, message) = match why {
            Refusal::Full => (
                IngestErrorKind::Full,
                observability::Refusal::Full,
                "the in-memory queue is full",
            ),
            Refusal::Closed => (
                IngestErrorKind::Closed,
                observability::Refusal::Closed,
                "the ingester is shut down",
            ),
        };
        self.shared.counters.metrics.refused(metric);
        super::error::rejected(*event, !generated_key, IngestError::new(kind, message))
    }
}
