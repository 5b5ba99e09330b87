//! Leaderboards and their rankings.

use crate::Client;

/// Leaderboards and their rankings. Get it with [`Client::leaderboards`].
#[derive(Debug, Clone)]
pub struct Leaderboards {
    pub(crate) client: Client,
}
