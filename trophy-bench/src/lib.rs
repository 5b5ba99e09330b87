//! The parts of `trophy-bench` its integration tests share with the benchmark: a real
//! `redis-server` harness and the durable-ingest runs (outbox crash run, Redis fleet run).
#![forbid(unsafe_code)]

pub mod durable;
pub mod redis_server;
