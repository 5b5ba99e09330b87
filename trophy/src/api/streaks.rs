//! Streaks of many users at once.

use crate::Client;

/// Streaks of many users at once. Get it with [`Client::streaks`].
#[derive(Debug, Clone)]
pub struct Streaks {
    pub(crate) client: Client,
}
