//! Admin API: Attributes.

use crate::Client;

/// Admin API: Attributes. Get it with [`Admin::attributes`](super::Admin::attributes).
#[derive(Debug, Clone)]
pub struct AdminAttributes {
    pub(crate) client: Client,
}
