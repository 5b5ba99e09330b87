//! Admin API: Tenants.

use crate::Client;

/// Admin API: Tenants. Get it with [`Admin::tenants`](super::Admin::tenants).
#[derive(Debug, Clone)]
pub struct AdminTenants {
    pub(crate) client: Client,
}
