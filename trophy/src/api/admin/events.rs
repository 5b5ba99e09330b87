//! Admin API: Batch metric events.

use crate::Client;

/// Admin API: Batch metric events. Get it with [`Admin::events`](super::Admin::events).
#[derive(Debug, Clone)]
pub struct AdminEvents {
    pub(crate) client: Client,
}
