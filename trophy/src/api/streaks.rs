//! Streaks of many users at once.

use crate::request::{list_len, non_empty, operation, Call, RequestOptions};
use crate::types::BulkStreakResponse;
use crate::{Client, Result};
use trophy_generated::operations as ops;

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
    pub fn list(&self, user_ids: impl IntoIterator<Item = impl Into<crate::Id>>) -> ListStreaks {
        ListStreaks {
            client: self.client.clone(),
            options: RequestOptions::default(),
            user_ids: user_ids.into_iter().map(|id| id.into().into_string()).collect(),
        }
    }
}

/// Builder of `GET /streaks` (operation `streaks_list`).
///
/// The ids travel as a repeated parameter (`userIds=a&userIds=b`, each value percent-encoded),
/// as every official SDK sends them, so any id, commas included, goes through as it is.
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
            non_empty(&format!("user_ids[{i}]"), id)?;
        }
        let call = Call::from_op(&ops::streaks_list::OP, &[])?;
        Ok(call.query_list(ops::streaks_list::USER_IDS, &self.user_ids))
    }
}
operation!(ListStreaks => BulkStreakResponse);
