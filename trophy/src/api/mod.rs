//! One handle per resource of the APIs; each method returns an operation builder.

pub mod achievements;
pub mod admin;
pub mod leaderboards;
pub mod metrics;
pub mod points;
pub mod streaks;
pub mod users;
