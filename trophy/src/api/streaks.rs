//! Streaks of many users at once.

use crate::request::{list_len, non_empty, operation, Api, Call, RequestOptions};
use crate::types::BulkStreakResponse;
use crate::{Client, Error, Result};
use http::Method;

/// Streaks of many users at once. Get it with [`Client::streaks`].
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// let streaks = client.streaks().list(["user-1", "user-2"]).send().await?;
/// for s in streaks.iter() {
///     println!("{}: {} (extended {:?})", s.user_id, s.streak_length, s.extended);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Streaks {
    pub(crate) client: Client,
}

impl Streaks {
    /// `GET /streaks`: the current streak length and last extension of each user, 1 to 100
    /// users per call.
    pub fn list(&self, user_ids: impl IntoIterator<Item = impl Into<String>>) -> ListStreaks {
        ListStreaks {
            client: self.client.clone(),
            options: RequestOptions::default(),
            user_ids: user_ids.into_iter().map(Into::into).collect(),
        }
    }
}

/// Builder of `GET /streaks` (operation `streaks_list`).
///
/// The ids travel comma-joined in one `userIds` parameter, so an id containing `,` is
/// rejected before sending.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct ListStreaks {
    client: Client,
    options: RequestOptions,
    user_ids: Vec<String>,
}

impl ListStreaks {
    fn call(&self) -> Result<Call> {
        list_len("user_ids", self.user_ids.len(), 100)?;
        for (i, id) in self.user_ids.iter().enumerate() {
            let field = format!("user_ids[{i}]");
            non_empty(&field, id)?;
            if id.contains(',') {
                return Err(Error::invalid(
                    field,
                    "must not contain `,` (ids are sent comma-separated)",
                ));
            }
        }
        Ok(
            Call::new(Api::App, "streaks_list", Method::GET, "/streaks", "/streaks".into())
                .query("userIds", self.user_ids.join(",")),
        )
    }
}
operation!(ListStreaks => BulkStreakResponse);
