//! Admin API: Points systems, with their boosts, levels and triggers.

use crate::Client;

/// Admin API: Points systems, with their boosts, levels and triggers. Get it with [`Admin::points`](super::Admin::points).
#[derive(Debug, Clone)]
pub struct AdminPoints {
    pub(crate) client: Client,
}
