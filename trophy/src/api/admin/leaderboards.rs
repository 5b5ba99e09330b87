//! Admin API: Leaderboards.

use super::crud::{crud, Check, Scope};
use super::points::{check_conditions, push_condition, AttributeCondition};
use super::strings;
use crate::admin_types::{
    AdminLeaderboard, AdminLeaderboardStatus, CreateLeaderboardsResponse, DeleteLeaderboardsResponse,
    LeaderboardRankBy, LeaderboardRunUnit, UpdateLeaderboardsResponse,
};
use crate::request::{key_charset, non_empty};
use crate::{Client, Error, Field, Result};
use chrono::NaiveDate;
use serde::Serialize;

/// Admin API: Leaderboards. Get it with [`Admin::leaderboards`](super::Admin::leaderboards).
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// use chrono::NaiveDate;
/// use trophy::admin_types::{AdminLeaderboardStatus, LeaderboardRankBy, LeaderboardRunUnit};
/// use trophy::api::admin::leaderboards::{LeaderboardUpdate, NewLeaderboard};
///
/// let leaderboards = client.admin().leaderboards();
/// let monthly = NewLeaderboard::new("Monthly distance", "monthly-distance", LeaderboardRankBy::Metric)
///     .metric_id("5b0e3c1a-8f3d-4f43-9a59-0c0b3f1f6a10")
///     .status(AdminLeaderboardStatus::Active)
///     .start(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap())
///     .start_time("08:00")
///     .run_unit(LeaderboardRunUnit::Month)
///     .run_interval(1);
/// let created = leaderboards.create([monthly]).send().await?;
/// let id = created.created[0].id.to_string();
/// // Stop it repeating and remove any end date; leave everything else as it is.
/// leaderboards.update([LeaderboardUpdate::new(&id).clear_run_unit().clear_end()]).send().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AdminLeaderboards {
    pub(crate) client: Client,
}

impl AdminLeaderboards {
    fn scope(&self) -> Scope {
        Scope::top()
    }
}

crud! {
    handle: AdminLeaderboards,
    what: "leaderboards",
    ops: [admin_leaderboards_list, admin_leaderboards_create, admin_leaderboards_get, admin_leaderboards_update, admin_leaderboards_delete],
        list: ListLeaderboards => AdminLeaderboard,
    create: CreateLeaderboards(NewLeaderboard) => CreateLeaderboardsResponse,
    get: GetLeaderboard => AdminLeaderboard,
    /// Where Trophy allows, a field can also be cleared (see [`LeaderboardUpdate`]).
    update: UpdateLeaderboards(LeaderboardUpdate) => UpdateLeaderboardsResponse,
    delete: DeleteLeaderboards => DeleteLeaderboardsResponse,
    ensure: EnsureLeaderboard,
}

/// One leaderboard to create: see [`AdminLeaderboards::create`] and
/// [`AdminLeaderboards::ensure`]. It starts **inactive** unless created with
/// `.status(AdminLeaderboardStatus::Active)`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewLeaderboard {
    /// The display name.
    pub name: String,
    /// The key used in the API: ASCII letters, digits, `-` and `_`.
    pub key: String,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The initial status; Trophy's default is `inactive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AdminLeaderboardStatus>,
    /// What users are ranked by: a metric total, streak length or points.
    pub rank_by: LeaderboardRankBy,
    /// For metric leaderboards, the id of the ranked metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_id: Option<String>,
    /// For points leaderboards, the id of the ranked points system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_system_id: Option<String>,
    /// How many users are ranked, 1 to 1000; Trophy's default is 1000.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub max_participants: Field<u32>,
    /// The first day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<NaiveDate>,
    /// The last day; none for a leaderboard without an end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
    /// The time of day it starts, `HH:MM` or `HH:MM:SS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// The time of day it ends, `HH:MM` or `HH:MM:SS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// The ids of the user attributes that split it into separate rankings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown_attributes: Option<Vec<String>>,
    /// For repeating leaderboards, the unit of the repeat interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_unit: Option<LeaderboardRunUnit>,
    /// For repeating leaderboards, how many run units each run lasts (at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_interval: Option<u32>,
    /// Conditions on user attributes a user must meet to be ranked.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub user_attributes: Field<Vec<AttributeCondition>>,
}

impl NewLeaderboard {
    /// A leaderboard with this name and key, ranking users by `rank_by`.
    pub fn new(name: impl Into<String>, key: impl Into<String>, rank_by: LeaderboardRankBy) -> Self {
        NewLeaderboard {
            name: name.into(),
            key: key.into(),
            description: None,
            status: None,
            rank_by,
            metric_id: None,
            points_system_id: None,
            max_participants: Field::Unset,
            start: None,
            end: None,
            start_time: None,
            end_time: None,
            breakdown_attributes: None,
            run_unit: None,
            run_interval: None,
            user_attributes: Field::Unset,
        }
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the initial status, e.g. `AdminLeaderboardStatus::Active`. **A new leaderboard
    /// starts inactive** (it ranks nobody) unless created with another status.
    #[must_use]
    pub fn status(mut self, status: AdminLeaderboardStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the ranked metric (metric leaderboards).
    #[must_use]
    pub fn metric_id(mut self, metric_id: impl Into<crate::Id>) -> Self {
        self.metric_id = Some(metric_id.into().into_string());
        self
    }

    /// Sets the ranked points system (points leaderboards).
    #[must_use]
    pub fn points_system_id(mut self, points_system_id: impl Into<crate::Id>) -> Self {
        self.points_system_id = Some(points_system_id.into().into_string());
        self
    }

    /// Sets how many users are ranked, 1 to 1000.
    #[must_use]
    pub fn max_participants(mut self, max: u32) -> Self {
        self.max_participants = Field::Set(max);
        self
    }

    /// Sends `maxParticipants: null` explicitly, which the API accepts on create too.
    #[must_use]
    pub fn clear_max_participants(mut self) -> Self {
        self.max_participants = Field::Null;
        self
    }

    /// Sets the first day.
    #[must_use]
    pub fn start(mut self, start: NaiveDate) -> Self {
        self.start = Some(start);
        self
    }

    /// Sets the last day.
    #[must_use]
    pub fn end(mut self, end: NaiveDate) -> Self {
        self.end = Some(end);
        self
    }

    /// Sets the time of day it starts, `HH:MM` or `HH:MM:SS` (checked before sending).
    #[must_use]
    pub fn start_time(mut self, time: impl Into<String>) -> Self {
        self.start_time = Some(time.into());
        self
    }

    /// Sets the time of day it ends, `HH:MM` or `HH:MM:SS` (checked before sending).
    #[must_use]
    pub fn end_time(mut self, time: impl Into<String>) -> Self {
        self.end_time = Some(time.into());
        self
    }

    /// Sets the ids of the user attributes that split it into separate rankings.
    #[must_use]
    pub fn breakdown_attributes<I>(mut self, attribute_ids: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<crate::Id>,
    {
        self.breakdown_attributes = Some(strings(attribute_ids));
        self
    }

    /// Makes it repeat every [`run_interval`](Self::run_interval) of this unit.
    #[must_use]
    pub fn run_unit(mut self, unit: LeaderboardRunUnit) -> Self {
        self.run_unit = Some(unit);
        self
    }

    /// Sets how many run units each run lasts.
    #[must_use]
    pub fn run_interval(mut self, interval: u32) -> Self {
        self.run_interval = Some(interval);
        self
    }

    /// Adds a condition: only users whose attribute `attribute_id` has `value` are ranked.
    #[must_use]
    pub fn user_attribute(mut self, attribute_id: impl Into<crate::Id>, value: impl Into<String>) -> Self {
        push_condition(&mut self.user_attributes, AttributeCondition::new(attribute_id, value));
        self
    }
}

impl Check for NewLeaderboard {
    fn check(&self, at: &str) -> Result<()> {
        key_charset(&format!("{at}.key"), &self.key)?;
        check_conditions(&format!("{at}.user_attributes"), &self.user_attributes)?;
        opt_non_empty(&format!("{at}.metric_id"), self.metric_id.as_deref())?;
        opt_non_empty(&format!("{at}.points_system_id"), self.points_system_id.as_deref())?;
        opt_time_of_day(&format!("{at}.start_time"), self.start_time.as_deref())?;
        opt_time_of_day(&format!("{at}.end_time"), self.end_time.as_deref())
    }
}

/// Changes to one leaderboard: see [`AdminLeaderboards::update`]. Fields you do not set are
/// left unchanged; `end`, `start_time`, `end_time`, `run_unit`, `max_participants` and
/// `user_attributes` can also be cleared.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LeaderboardUpdate {
    /// The id of the leaderboard.
    pub id: String,
    /// The new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The new key: ASCII letters, digits, `-` and `_`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The new description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The new status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AdminLeaderboardStatus>,
    /// What users are now ranked by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank_by: Option<LeaderboardRankBy>,
    /// The new ranked metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_id: Option<String>,
    /// The new ranked points system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_system_id: Option<String>,
    /// How many users are ranked, 1 to 1000; can be cleared.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub max_participants: Field<u32>,
    /// The new first day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<NaiveDate>,
    /// The new last day; clear it for no end.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub end: Field<NaiveDate>,
    /// The new start time of day; can be cleared.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub start_time: Field<String>,
    /// The new end time of day; can be cleared.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub end_time: Field<String>,
    /// The new ids of the user attributes that split it into separate rankings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown_attributes: Option<Vec<String>>,
    /// The new repeat unit; clear it to stop the leaderboard repeating.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub run_unit: Field<LeaderboardRunUnit>,
    /// The new number of run units each run lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_interval: Option<u32>,
    /// The new user attribute conditions, replacing the old ones; can be cleared.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub user_attributes: Field<Vec<AttributeCondition>>,
}

impl LeaderboardUpdate {
    /// No changes yet to the leaderboard `id`.
    pub fn new(id: impl Into<crate::Id>) -> Self {
        LeaderboardUpdate {
            id: id.into().into_string(),
            name: None,
            key: None,
            description: None,
            status: None,
            rank_by: None,
            metric_id: None,
            points_system_id: None,
            max_participants: Field::Unset,
            start: None,
            end: Field::Unset,
            start_time: Field::Unset,
            end_time: Field::Unset,
            breakdown_attributes: None,
            run_unit: Field::Unset,
            run_interval: None,
            user_attributes: Field::Unset,
        }
    }

    /// Sets the name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the key (ASCII letters, digits, `-` and `_`).
    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the status.
    #[must_use]
    pub fn status(mut self, status: AdminLeaderboardStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets what users are ranked by.
    #[must_use]
    pub fn rank_by(mut self, rank_by: LeaderboardRankBy) -> Self {
        self.rank_by = Some(rank_by);
        self
    }

    /// Sets the ranked metric.
    #[must_use]
    pub fn metric_id(mut self, metric_id: impl Into<crate::Id>) -> Self {
        self.metric_id = Some(metric_id.into().into_string());
        self
    }

    /// Sets the ranked points system.
    #[must_use]
    pub fn points_system_id(mut self, points_system_id: impl Into<crate::Id>) -> Self {
        self.points_system_id = Some(points_system_id.into().into_string());
        self
    }

    /// Sets how many users are ranked, 1 to 1000.
    #[must_use]
    pub fn max_participants(mut self, max: u32) -> Self {
        self.max_participants = Field::Set(max);
        self
    }

    /// Clears the maximum number of participants (sends `null`).
    #[must_use]
    pub fn clear_max_participants(mut self) -> Self {
        self.max_participants = Field::Null;
        self
    }

    /// Sets the first day.
    #[must_use]
    pub fn start(mut self, start: NaiveDate) -> Self {
        self.start = Some(start);
        self
    }

    /// Sets the last day.
    #[must_use]
    pub fn end(mut self, end: NaiveDate) -> Self {
        self.end = Field::Set(end);
        self
    }

    /// Removes the end date (sends `null`).
    #[must_use]
    pub fn clear_end(mut self) -> Self {
        self.end = Field::Null;
        self
    }

    /// Sets the start time of day, `HH:MM` or `HH:MM:SS` (checked before sending).
    #[must_use]
    pub fn start_time(mut self, time: impl Into<String>) -> Self {
        self.start_time = Field::Set(time.into());
        self
    }

    /// Clears the start time of day (sends `null`).
    #[must_use]
    pub fn clear_start_time(mut self) -> Self {
        self.start_time = Field::Null;
        self
    }

    /// Sets the end time of day, `HH:MM` or `HH:MM:SS` (checked before sending).
    #[must_use]
    pub fn end_time(mut self, time: impl Into<String>) -> Self {
        self.end_time = Field::Set(time.into());
        self
    }

    /// Clears the end time of day (sends `null`).
    #[must_use]
    pub fn clear_end_time(mut self) -> Self {
        self.end_time = Field::Null;
        self
    }

    /// Sets the ids of the user attributes that split it into separate rankings.
    #[must_use]
    pub fn breakdown_attributes<I>(mut self, attribute_ids: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<crate::Id>,
    {
        self.breakdown_attributes = Some(strings(attribute_ids));
        self
    }

    /// Sets the repeat unit.
    #[must_use]
    pub fn run_unit(mut self, unit: LeaderboardRunUnit) -> Self {
        self.run_unit = Field::Set(unit);
        self
    }

    /// Stops the leaderboard repeating (sends `runUnit: null`).
    #[must_use]
    pub fn clear_run_unit(mut self) -> Self {
        self.run_unit = Field::Null;
        self
    }

    /// Sets how many run units each run lasts.
    #[must_use]
    pub fn run_interval(mut self, interval: u32) -> Self {
        self.run_interval = Some(interval);
        self
    }

    /// Adds a user attribute condition; the conditions sent replace the current ones.
    #[must_use]
    pub fn user_attribute(mut self, attribute_id: impl Into<crate::Id>, value: impl Into<String>) -> Self {
        push_condition(&mut self.user_attributes, AttributeCondition::new(attribute_id, value));
        self
    }

    /// Removes every user attribute condition (sends `userAttributes: null`).
    #[must_use]
    pub fn clear_user_attributes(mut self) -> Self {
        self.user_attributes = Field::Null;
        self
    }
}

impl Check for LeaderboardUpdate {
    fn check(&self, at: &str) -> Result<()> {
        non_empty(&format!("{at}.id"), &self.id)?;
        check_conditions(&format!("{at}.user_attributes"), &self.user_attributes)?;
        if let Some(key) = &self.key {
            key_charset(&format!("{at}.key"), key)?;
        }
        opt_non_empty(&format!("{at}.metric_id"), self.metric_id.as_deref())?;
        opt_non_empty(&format!("{at}.points_system_id"), self.points_system_id.as_deref())?;
        opt_time_of_day(
            &format!("{at}.start_time"),
            self.start_time.as_set().map(String::as_str),
        )?;
        opt_time_of_day(&format!("{at}.end_time"), self.end_time.as_set().map(String::as_str))
    }
}

fn opt_non_empty(field: &str, value: Option<&str>) -> Result<()> {
    value.map_or(Ok(()), |v| non_empty(field, v))
}

/// Checks a time of day is `HH:MM` or `HH:MM:SS` (24-hour clock, two digits each).
fn opt_time_of_day(field: &str, value: Option<&str>) -> Result<()> {
    let Some(value) = value else { return Ok(()) };
    let digits = |a: u8, b: u8| (a.is_ascii_digit() && b.is_ascii_digit()).then(|| (a - b'0') * 10 + (b - b'0'));
    let below = |a: u8, b: u8, limit: u8| digits(a, b).is_some_and(|n| n < limit);
    let ok = match *value.as_bytes() {
        [h1, h2, b':', m1, m2] => below(h1, h2, 24) && below(m1, m2, 60),
        [h1, h2, b':', m1, m2, b':', s1, s2] => below(h1, h2, 24) && below(m1, m2, 60) && below(s1, s2, 60),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{value:?} is not a time of day as HH:MM or HH:MM:SS (00:00 to 23:59:59)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day() {
        for ok in ["00:00", "23:59", "08:30:15", "19:05:59"] {
            assert!(opt_time_of_day("t", Some(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "24:00",
            "8:30",
            "08:60",
            "08:30:60",
            "08:30:",
            "0830",
            "",
            "08-30",
            "+1:30",
            "08:30:00Z",
        ] {
            assert!(opt_time_of_day("t", Some(bad)).is_err(), "{bad}");
        }
        assert!(opt_time_of_day("t", None).is_ok());
    }
}
