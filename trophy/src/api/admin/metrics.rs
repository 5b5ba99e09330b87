//! Admin API: Metrics.

use crate::Client;

/// Admin API: Metrics. Get it with [`Admin::metrics`](super::Admin::metrics).
#[derive(Debug, Clone)]
pub struct AdminMetrics {
    pub(crate) client: Client,
}
