//! Points systems: definitions, levels, boosts and summaries.

use crate::Client;

/// Points systems: definitions, levels, boosts and summaries. Get it with [`Client::points`].
#[derive(Debug, Clone)]
pub struct Points {
    pub(crate) client: Client,
}
