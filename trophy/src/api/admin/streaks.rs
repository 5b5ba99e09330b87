//! Admin API: Streak freezes, pauses and restores.

use super::{check_ids, each, strings, user_id_items, with_ids, UserIdItem};
use crate::admin_types::{
    CreateStreakFreezesResponse, CreateStreakPausesResponse, DeleteStreakPausesResponse, RestoreStreaksResponse,
};
use crate::request::{non_empty, operation, Api, Call, RequestOptions};
use crate::{Client, Error, Result};
use chrono::NaiveDate;
use http::Method;
use serde::Serialize;

/// Admin API: Streak freezes, pauses and restores. Get it with [`Admin::streaks`](super::Admin::streaks).
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// use chrono::NaiveDate;
/// use trophy::api::admin::streaks::StreakPause;
///
/// let streaks = client.admin().streaks();
/// streaks.freeze(["user-1", "user-2"]).send().await?;
/// let holiday = StreakPause::new(
///     "user-1",
///     NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(),
///     NaiveDate::from_ymd_opt(2026, 12, 26).unwrap(),
/// );
/// let paused = streaks.pause([holiday]).send().await?;
/// streaks.delete_pauses(paused.created.iter().map(|p| p.id.to_string())).send().await?;
/// let restored = streaks.restore(["user-3"]).send().await?;
/// println!("restored {:?}", restored.restored_users);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AdminStreaks {
    pub(crate) client: Client,
}

impl AdminStreaks {
    /// `POST /streaks/freezes`: grants one streak freeze to each of 1 to 100 users.
    pub fn freeze<I>(&self, user_ids: I) -> FreezeStreaks
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        FreezeStreaks {
            client: self.client.clone(),
            options: RequestOptions::default(),
            user_ids: strings(user_ids),
        }
    }

    /// `POST /streaks/pauses`: schedules 1 to 100 streak pauses, date ranges during which a
    /// user's streak cannot be lost.
    pub fn pause(&self, pauses: impl IntoIterator<Item = StreakPause>) -> PauseStreaks {
        PauseStreaks {
            client: self.client.clone(),
            options: RequestOptions::default(),
            pauses: pauses.into_iter().collect(),
        }
    }

    /// `DELETE /streaks/pauses`: deletes 1 to 100 streak pauses by id.
    pub fn delete_pauses<I>(&self, ids: I) -> DeleteStreakPauses
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        DeleteStreakPauses {
            client: self.client.clone(),
            options: RequestOptions::default(),
            ids: strings(ids),
        }
    }

    /// `POST /streaks/restore`: restores the lost streaks of 1 to 100 users to the length they
    /// had before they were lost.
    pub fn restore<I>(&self, user_ids: I) -> RestoreStreaks
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        RestoreStreaks {
            client: self.client.clone(),
            options: RequestOptions::default(),
            user_ids: strings(user_ids),
        }
    }
}

/// One streak pause to schedule: see [`AdminStreaks::pause`].
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StreakPause {
    /// The user whose streak is paused.
    pub user_id: String,
    /// The first day of the pause.
    pub start: NaiveDate,
    /// The last day of the pause (on or after `start`).
    pub end: NaiveDate,
}

impl StreakPause {
    /// A pause of the user's streak from `start` to `end`, both included.
    pub fn new(user_id: impl Into<String>, start: NaiveDate, end: NaiveDate) -> Self {
        StreakPause {
            user_id: user_id.into(),
            start,
            end,
        }
    }
}

/// Builder of `POST /streaks/freezes` (operation `admin_streaks_freezes_create`).
///
/// Trophy answers 201 when at least one freeze was granted and 200 when none was; both are
/// successes, and [`issues`](CreateStreakFreezesResponse::issues) says which users got none
/// and why. The status is available through `send_with_response`.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct FreezeStreaks {
    client: Client,
    options: RequestOptions,
    user_ids: Vec<String>,
}

impl FreezeStreaks {
    fn call(&self) -> Result<Call> {
        check_ids("user_ids", &self.user_ids)?;
        Call::new(
            Api::Admin,
            "admin_streaks_freezes_create",
            Method::POST,
            "/streaks/freezes",
            "/streaks/freezes".into(),
        )
        .json(&FreezeBody {
            freezes: user_id_items(&self.user_ids),
        })
    }
}
operation!(FreezeStreaks => CreateStreakFreezesResponse);

/// Builder of `POST /streaks/pauses` (operation `admin_streaks_pauses_create`).
///
/// Trophy answers 201 when at least one pause was created and 200 when none was; both are
/// successes, and [`issues`](CreateStreakPausesResponse::issues) says what was skipped and
/// why. The status is available through `send_with_response`.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct PauseStreaks {
    client: Client,
    options: RequestOptions,
    pauses: Vec<StreakPause>,
}

impl PauseStreaks {
    fn call(&self) -> Result<Call> {
        each("pauses", &self.pauses, |field, pause| {
            non_empty(&format!("{field}.user_id"), &pause.user_id)?;
            if pause.end < pause.start {
                return Err(Error::invalid(
                    format!("{field}.end"),
                    format!("{} is before the start, {}", pause.end, pause.start),
                ));
            }
            Ok(())
        })?;
        Call::new(
            Api::Admin,
            "admin_streaks_pauses_create",
            Method::POST,
            "/streaks/pauses",
            "/streaks/pauses".into(),
        )
        .json(&PauseBody { pauses: &self.pauses })
    }
}
operation!(PauseStreaks => CreateStreakPausesResponse);

/// Builder of `DELETE /streaks/pauses` (operation `admin_streaks_pauses_delete`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct DeleteStreakPauses {
    client: Client,
    options: RequestOptions,
    ids: Vec<String>,
}

impl DeleteStreakPauses {
    fn call(&self) -> Result<Call> {
        let call = Call::new(
            Api::Admin,
            "admin_streaks_pauses_delete",
            Method::DELETE,
            "/streaks/pauses",
            "/streaks/pauses".into(),
        );
        with_ids(call, &self.ids)
    }
}
operation!(DeleteStreakPauses => DeleteStreakPausesResponse);

/// Builder of `POST /streaks/restore` (operation `admin_streaks_restore`).
///
/// Trophy answers 201 when at least one streak was restored and 200 when none was; both are
/// successes, and [`issues`](RestoreStreaksResponse::issues) says which users were skipped and
/// why. The status is available through `send_with_response`.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct RestoreStreaks {
    client: Client,
    options: RequestOptions,
    user_ids: Vec<String>,
}

impl RestoreStreaks {
    fn call(&self) -> Result<Call> {
        check_ids("user_ids", &self.user_ids)?;
        Call::new(
            Api::Admin,
            "admin_streaks_restore",
            Method::POST,
            "/streaks/restore",
            "/streaks/restore".into(),
        )
        .json(&RestoreBody {
            users: self.user_ids.iter().map(|id| RestoreItem { id }).collect(),
        })
    }
}
operation!(RestoreStreaks => RestoreStreaksResponse);

// The request bodies, serialized in the documents' field order.

#[derive(Serialize)]
struct FreezeBody<'a> {
    freezes: Vec<UserIdItem<'a>>,
}

#[derive(Serialize)]
struct PauseBody<'a> {
    pauses: &'a [StreakPause],
}

#[derive(Serialize)]
struct RestoreBody<'a> {
    users: Vec<RestoreItem<'a>>,
}

#[derive(Serialize)]
struct RestoreItem<'a> {
    id: &'a str,
}
