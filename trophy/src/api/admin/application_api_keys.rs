//! Admin API: Application API keys.

use super::{check_ids, strings, user_id_items, with_ids};
use crate::admin_types::{CreateApplicationKeysResponse, DeleteApplicationKeysResponse};
use crate::request::{operation, Call, RequestOptions};
use crate::{Client, Result};
use trophy_generated::operations as ops;

/// Admin API: Application API keys. Get it with [`Admin::application_api_keys`](super::Admin::application_api_keys).
///
/// An application key (prefix `app_`) acts for one user only, e.g. from that user's device.
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// let keys = client.admin().application_api_keys();
/// let issued = keys.create(["user-1", "user-2"]).send().await?;
/// for key in &issued.created {
///     println!("{} for {}", key.prefix, key.user_id); // hand `key.key` to the user's device
/// }
/// keys.delete(issued.created.iter().map(|k| k.id.to_string())).send().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AdminApplicationApiKeys {
    pub(crate) client: Client,
}

impl AdminApplicationApiKeys {
    /// `POST /application-api-keys`: issues one key for each of 1 to 100 users.
    pub fn create<I>(&self, user_ids: I) -> CreateApplicationApiKeys
    where
        I: IntoIterator,
        I::Item: Into<crate::Id>,
    {
        CreateApplicationApiKeys {
            client: self.client.clone(),
            options: RequestOptions::default(),
            user_ids: strings(user_ids),
        }
    }

    /// `DELETE /application-api-keys`: revokes 1 to 100 keys by id.
    pub fn delete<I>(&self, ids: I) -> DeleteApplicationApiKeys
    where
        I: IntoIterator,
        I::Item: Into<crate::Id>,
    {
        DeleteApplicationApiKeys {
            client: self.client.clone(),
            options: RequestOptions::default(),
            ids: strings(ids),
        }
    }
}

/// Builder of `POST /application-api-keys` (operation `admin_application_api_keys_create`).
///
/// Trophy answers 201 when at least one key was issued and 200 when none was; both are
/// successes, and [`issues`](CreateApplicationKeysResponse::issues) says what was skipped and
/// why. The status is available through `send_with_response`.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct CreateApplicationApiKeys {
    client: Client,
    options: RequestOptions,
    user_ids: Vec<String>,
}

impl CreateApplicationApiKeys {
    fn call(&self) -> Result<Call> {
        check_ids("user_ids", &self.user_ids)?;
        Call::from_op(&ops::admin_application_api_keys_create::OP, &[])?.json(&user_id_items(&self.user_ids))
    }
}
operation!(CreateApplicationApiKeys => CreateApplicationKeysResponse);

/// Builder of `DELETE /application-api-keys` (operation `admin_application_api_keys_delete`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct DeleteApplicationApiKeys {
    client: Client,
    options: RequestOptions,
    ids: Vec<String>,
}

impl DeleteApplicationApiKeys {
    fn call(&self) -> Result<Call> {
        with_ids(
            Call::from_op(&ops::admin_application_api_keys_delete::OP, &[])?,
            ops::admin_application_api_keys_delete::IDS,
            &self.ids,
        )
    }
}
operation!(DeleteApplicationApiKeys => DeleteApplicationKeysResponse);
