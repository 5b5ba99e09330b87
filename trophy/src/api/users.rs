//! Users: create, identify, update, preferences, and everything Trophy knows about one user.

use crate::Client;

/// Users: create, identify, update, preferences, and everything Trophy knows about one user. Get it with [`Client::users`].
#[derive(Debug, Clone)]
pub struct Users {
    pub(crate) client: Client,
}
