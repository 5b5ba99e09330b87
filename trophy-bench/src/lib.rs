//! The parts of `trophy-bench` its integration tests share with the benchmark: a real
//! `redis-server` harness, the durable-ingest runs (outbox crash run, Redis fleet run) and the
//! ingest matrix (every backend against every limiter model).
#![forbid(unsafe_code)]

pub mod durable;
pub mod pacing;
pub mod redis_server;
