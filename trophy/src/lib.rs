//! Rust SDK for [Trophy](https://trophy.so), the gamification API: metric events, achievements,
//! streaks, points, leaderboards, users and webhooks.
//!
//! (Crate guide being written.)
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
mod client;
mod config;
mod error;
mod field;
mod ratelimit;
mod request;
mod transport;
mod user;
pub mod webhooks;

pub use client::{Client, ClientBuilder, API_VERSION, DEFAULT_ADMIN_URL, DEFAULT_API_URL, USER_AGENT};
pub use config::{RateLimit, RetryConfig, Timeouts};
pub use error::{ApiError, ConnectionError, DecodeError, Error, InvalidInput, Result, TimeoutError};
pub use field::Field;
pub use request::Response;
pub use user::{UserInput, UserUpdate};

/// The data types of the Application API: responses, and the open enums they use.
///
/// Enums are open: a value this version does not know arrives as `Unknown(String)`.
pub mod types {
    pub use trophy_generated::app::types::*;
}

impl Client {
    /// Achievements: list, complete.
    pub fn achievements(&self) -> api::achievements::Achievements {
        api::achievements::Achievements { client: self.clone() }
    }

    /// Metric events.
    pub fn metrics(&self) -> api::metrics::Metrics {
        api::metrics::Metrics { client: self.clone() }
    }

    /// Users: create, identify, update, preferences, and per-user metrics, achievements,
    /// streaks, points, leaderboards and wrapped data.
    pub fn users(&self) -> api::users::Users {
        api::users::Users { client: self.clone() }
    }

    /// Streaks of many users at once.
    pub fn streaks(&self) -> api::streaks::Streaks {
        api::streaks::Streaks { client: self.clone() }
    }

    /// Points systems: definitions, levels, boosts and summaries.
    pub fn points(&self) -> api::points::Points {
        api::points::Points { client: self.clone() }
    }

    /// Leaderboards and their rankings.
    pub fn leaderboards(&self) -> api::leaderboards::Leaderboards {
        api::leaderboards::Leaderboards { client: self.clone() }
    }

    /// The Admin API (needs an admin key).
    pub fn admin(&self) -> api::admin::Admin {
        api::admin::Admin { client: self.clone() }
    }
}

/// The data types of the Admin API: responses, and the open enums they use.
pub mod admin_types {
    pub use trophy_generated::admin::types::*;
}
