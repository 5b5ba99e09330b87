//! Admin API: Leaderboards.

use crate::Client;

/// Admin API: Leaderboards. Get it with [`Admin::leaderboards`](super::Admin::leaderboards).
#[derive(Debug, Clone)]
pub struct AdminLeaderboards {
    pub(crate) client: Client,
}
