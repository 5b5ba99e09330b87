//! Admin API: Streak freezes, pauses and restores.

use crate::Client;

/// Admin API: Streak freezes, pauses and restores. Get it with [`Admin::streaks`](super::Admin::streaks).
#[derive(Debug, Clone)]
pub struct AdminStreaks {
    pub(crate) client: Client,
}
