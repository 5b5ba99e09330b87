//! Admin API: Environments.

use crate::admin_types::AdminEnvironment;
use crate::request::{operation, Call, RequestOptions};
use crate::{Client, Result};
use trophy_generated::operations as ops;

/// Admin API: Environments of the organisation. Get it with
/// [`Admin::environments`](super::Admin::environments).
///
/// Environments belong to the organisation, not to a tenant: the call needs no `Tenant-ID`.
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// for environment in client.admin().environments().list().send().await? {
///     println!("{} ({}), priority {}", environment.name, environment.key, environment.priority);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AdminEnvironments {
    pub(crate) client: Client,
}

impl AdminEnvironments {
    /// `GET /environments`: every environment of the organisation.
    pub fn list(&self) -> ListEnvironments {
        ListEnvironments {
            client: self.client.clone(),
            options: RequestOptions::default(),
        }
    }
}

/// Builder of `GET /environments` (operation `admin_environments_list`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct ListEnvironments {
    client: Client,
    options: RequestOptions,
}

impl ListEnvironments {
    fn call(&self) -> Result<Call> {
        Call::from_op(&ops::admin_environments_list::OP, &[])
    }
}
operation!(ListEnvironments => Vec<AdminEnvironment>);
