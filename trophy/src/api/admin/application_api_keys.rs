//! Admin API: Application API keys.

use crate::Client;

/// Admin API: Application API keys. Get it with [`Admin::application_api_keys`](super::Admin::application_api_keys).
#[derive(Debug, Clone)]
pub struct AdminApplicationApiKeys {
    pub(crate) client: Client,
}
