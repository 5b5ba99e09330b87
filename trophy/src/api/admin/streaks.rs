//! Admin API: Streak freezes, pauses, restores, resets and settings.

use super::settings::in_range;
use super::{check_ids, each, strings, user_id_items, with_ids, UserIdItem};
use crate::admin_types::{
    AdminStreakEvaluationMode, AdminStreakFrequency, CreateStreakFreezesResponse, CreateStreakPausesResponse,
    DeleteStreakPausesResponse, ResetStreaksResponse, RestoreStreaksResponse, StreakSettings,
};
use crate::request::{non_empty, operation, Call, RequestOptions};
use crate::{Client, Error, Field, Result};
use chrono::NaiveDate;
use serde::Serialize;
use trophy_generated::operations as ops;

/// Admin API: Streak freezes, pauses, restores, resets and the streak settings. Get it with
/// [`Admin::streaks`](super::Admin::streaks).
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// use chrono::NaiveDate;
/// use trophy::api::admin::streaks::{StreakFreezeRules, StreakPause};
///
/// let streaks = client.admin().streaks();
/// streaks.freezes().create(["user-1", "user-2"]).send().await?;
/// let holiday = StreakPause::new(
///     "user-1",
///     NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(),
///     NaiveDate::from_ymd_opt(2026, 12, 26).unwrap(),
/// );
/// let paused = streaks.pauses().create([holiday]).send().await?;
/// streaks.pauses().delete(paused.created.iter().map(|p| p.id)).send().await?;
/// let restored = streaks.restore(["user-3"]).send().await?;
/// println!("restored {:?}", restored.restored_users);
/// streaks.reset(["user-4"]).send().await?;
/// // Weekends off, and freezes: 1 to start with, at most 3, one more every 30 days.
/// streaks
///     .settings()
///     .update()
///     .days_off([0, 6])
///     .freezes(StreakFreezeRules::new(1, 3).auto_earn(30, 1))
///     .send()
///     .await?;
/// println!("{:?}", streaks.settings().get().send().await?.frequency);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AdminStreaks {
    pub(crate) client: Client,
}

impl AdminStreaks {
    /// Streak freezes: [`create`](AdminStreakFreezes::create).
    pub fn freezes(&self) -> AdminStreakFreezes {
        AdminStreakFreezes {
            client: self.client.clone(),
        }
    }

    /// Streak pauses: [`create`](AdminStreakPauses::create), [`delete`](AdminStreakPauses::delete).
    pub fn pauses(&self) -> AdminStreakPauses {
        AdminStreakPauses {
            client: self.client.clone(),
        }
    }

    /// `POST /streaks/restore`: restores the lost streaks of 1 to 100 users to the length they
    /// had before they were lost.
    pub fn restore<I>(&self, user_ids: I) -> RestoreStreaks
    where
        I: IntoIterator,
        I::Item: Into<crate::Id>,
    {
        RestoreStreaks {
            client: self.client.clone(),
            options: RequestOptions::default(),
            user_ids: strings(user_ids),
        }
    }

    /// `POST /streaks/reset`: sets the streaks of 1 to 100 users back to zero.
    ///
    /// Trophy answers 200 whether or not a streak was reset;
    /// [`issues`](ResetStreaksResponse::issues) says which users were skipped and why.
    pub fn reset<I>(&self, user_ids: I) -> ResetStreaks
    where
        I: IntoIterator,
        I::Item: Into<crate::Id>,
    {
        ResetStreaks {
            client: self.client.clone(),
            options: RequestOptions::default(),
            user_ids: strings(user_ids),
        }
    }

    /// The streak settings: [`get`](AdminStreakSettings::get), [`update`](AdminStreakSettings::update).
    pub fn settings(&self) -> AdminStreakSettings {
        AdminStreakSettings {
            client: self.client.clone(),
        }
    }
}

/// Streak freezes: get it with [`AdminStreaks::freezes`].
#[derive(Debug, Clone)]
pub struct AdminStreakFreezes {
    client: Client,
}

impl AdminStreakFreezes {
    /// `POST /streaks/freezes`: grants one streak freeze to each of 1 to 100 users.
    pub fn create<I>(&self, user_ids: I) -> FreezeStreaks
    where
        I: IntoIterator,
        I::Item: Into<crate::Id>,
    {
        FreezeStreaks {
            client: self.client.clone(),
            options: RequestOptions::default(),
            user_ids: strings(user_ids),
        }
    }
}

/// Streak pauses: get it with [`AdminStreaks::pauses`].
#[derive(Debug, Clone)]
pub struct AdminStreakPauses {
    client: Client,
}

impl AdminStreakPauses {
    /// `POST /streaks/pauses`: schedules 1 to 100 streak pauses, date ranges during which a
    /// user's streak cannot be lost.
    pub fn create(&self, pauses: impl IntoIterator<Item = StreakPause>) -> PauseStreaks {
        PauseStreaks {
            client: self.client.clone(),
            options: RequestOptions::default(),
            pauses: pauses.into_iter().collect(),
        }
    }

    /// `DELETE /streaks/pauses`: deletes 1 to 100 streak pauses by id.
    pub fn delete<I>(&self, ids: I) -> DeleteStreakPauses
    where
        I: IntoIterator,
        I::Item: Into<crate::Id>,
    {
        DeleteStreakPauses {
            client: self.client.clone(),
            options: RequestOptions::default(),
            ids: strings(ids),
        }
    }
}

/// The streak settings: get it with [`AdminStreaks::settings`].
#[derive(Debug, Clone)]
pub struct AdminStreakSettings {
    client: Client,
}

impl AdminStreakSettings {
    /// `GET /streaks/settings`: how streaks work in the organisation (frequency, metrics, days
    /// off, freezes).
    pub fn get(&self) -> GetStreakSettings {
        GetStreakSettings {
            client: self.client.clone(),
            options: RequestOptions::default(),
        }
    }

    /// `PATCH /streaks/settings`: changes the streak settings you set on the builder and
    /// leaves the others; answers with the settings as they then are.
    pub fn update(&self) -> UpdateStreakSettings {
        UpdateStreakSettings {
            client: self.client.clone(),
            options: RequestOptions::default(),
            body: StreakSettingsBody::default(),
        }
    }
}

/// One streak pause to schedule: see [`AdminStreakPauses::create`].
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
    pub fn new(user_id: impl Into<crate::Id>, start: NaiveDate, end: NaiveDate) -> Self {
        StreakPause {
            user_id: user_id.into().into_string(),
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
        Call::from_op(&ops::admin_streaks_freezes_create::OP, &[])?.json(&FreezeBody {
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
        Call::from_op(&ops::admin_streaks_pauses_create::OP, &[])?.json(&PauseBody { pauses: &self.pauses })
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
        let call = Call::from_op(&ops::admin_streaks_pauses_delete::OP, &[])?;
        with_ids(call, ops::admin_streaks_pauses_delete::IDS, &self.ids)
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
        Call::from_op(&ops::admin_streaks_restore::OP, &[])?.json(&users_body(&self.user_ids))
    }
}
operation!(RestoreStreaks => RestoreStreaksResponse);

/// Builder of `POST /streaks/reset` (operation `admin_streaks_reset`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct ResetStreaks {
    client: Client,
    options: RequestOptions,
    user_ids: Vec<String>,
}

impl ResetStreaks {
    fn call(&self) -> Result<Call> {
        check_ids("user_ids", &self.user_ids)?;
        Call::from_op(&ops::admin_streaks_reset::OP, &[])?.json(&users_body(&self.user_ids))
    }
}
operation!(ResetStreaks => ResetStreaksResponse);

/// Builder of `GET /streaks/settings` (operation `admin_streaks_settings_get`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct GetStreakSettings {
    client: Client,
    options: RequestOptions,
}

impl GetStreakSettings {
    fn call(&self) -> Result<Call> {
        Call::from_op(&ops::admin_streaks_settings_get::OP, &[])
    }
}
operation!(GetStreakSettings => StreakSettings);

/// The freeze rules of [`UpdateStreakSettings::freezes`]: how many freezes a new user starts
/// with, how many a user can hold, and the automatic grants.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StreakFreezeRules {
    /// Freezes a new user starts with, 0 to 100.
    pub start_count: u32,
    /// The most freezes a user can hold, 1 to 100.
    pub max_count: u32,
    /// Every how many days freezes are granted, 1 to 365; can be cleared.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub auto_earn_interval: Field<u32>,
    /// How many freezes each grant gives, 1 to 10; can be cleared.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub auto_earn_amount: Field<u32>,
}

impl StreakFreezeRules {
    /// `start_count` freezes for a new user, at most `max_count` held; automatic grants left
    /// as they are.
    pub fn new(start_count: u32, max_count: u32) -> Self {
        StreakFreezeRules {
            start_count,
            max_count,
            auto_earn_interval: Field::Unset,
            auto_earn_amount: Field::Unset,
        }
    }

    /// Grants `amount` freezes every `interval_days` days.
    #[must_use]
    pub fn auto_earn(mut self, interval_days: u32, amount: u32) -> Self {
        self.auto_earn_interval = Field::Set(interval_days);
        self.auto_earn_amount = Field::Set(amount);
        self
    }

    /// Stops automatic grants (sends both as `null`).
    #[must_use]
    pub fn no_auto_earn(mut self) -> Self {
        self.auto_earn_interval = Field::Null;
        self.auto_earn_amount = Field::Null;
        self
    }

    fn check(&self) -> Result<()> {
        in_range("freezes.start_count", Some(self.start_count), 0, 100)?;
        in_range("freezes.max_count", Some(self.max_count), 1, 100)?;
        in_range(
            "freezes.auto_earn_interval",
            self.auto_earn_interval.as_set().copied(),
            1,
            365,
        )?;
        in_range(
            "freezes.auto_earn_amount",
            self.auto_earn_amount.as_set().copied(),
            1,
            10,
        )
    }
}

/// Builder of `PATCH /streaks/settings` (operation `admin_streaks_settings_update`). Only what
/// you set is sent.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct UpdateStreakSettings {
    client: Client,
    options: RequestOptions,
    body: StreakSettingsBody,
}

impl UpdateStreakSettings {
    /// Sets how long one streak period is.
    pub fn frequency(mut self, frequency: AdminStreakFrequency) -> Self {
        self.body.frequency = Some(frequency);
        self
    }

    /// Sets whether meeting one metric threshold (`Or`) or all (`And`) extends a streak.
    pub fn evaluation_mode(mut self, mode: AdminStreakEvaluationMode) -> Self {
        self.body.evaluation_mode = Some(mode);
        self
    }

    /// Sets whether users may choose their own streak preferences.
    pub fn customization_enabled(mut self, enabled: bool) -> Self {
        self.body.customization_enabled = Some(enabled);
        self
    }

    /// Sets the weekdays on which a daily streak cannot be lost, 0 (Sunday) to 6 (Saturday),
    /// at most 6 different days (`[]` for none).
    pub fn days_off(mut self, days: impl IntoIterator<Item = u8>) -> Self {
        self.body.days_off = Some(days.into_iter().collect());
        self
    }

    /// Adds a metric and the total, 1 to 10000, a period needs for it to count; the metrics
    /// sent replace the current ones.
    pub fn metric(mut self, key: impl Into<String>, threshold: u64) -> Self {
        self.body
            .metrics
            .get_or_insert_with(Vec::new)
            .push(StreakMetricThreshold {
                key: key.into(),
                threshold,
            });
        self
    }

    /// Sets the freeze rules.
    pub fn freezes(mut self, rules: StreakFreezeRules) -> Self {
        self.body.freezes = Field::Set(rules);
        self
    }

    /// Turns freezes off (sends `freezes: null`).
    pub fn disable_freezes(mut self) -> Self {
        self.body.freezes = Field::Null;
        self
    }

    fn call(&self) -> Result<Call> {
        if let Some(days) = &self.body.days_off {
            check_days_off("days_off", days)?;
        }
        for (i, m) in self.body.metrics.iter().flatten().enumerate() {
            non_empty(&format!("metrics[{i}].key"), &m.key)?;
            in_range(&format!("metrics[{i}].threshold"), Some(m.threshold), 1, 10_000)?;
        }
        if let Field::Set(rules) = &self.body.freezes {
            rules.check()?;
        }
        Call::from_op(&ops::admin_streaks_settings_update::OP, &[])?.json(&self.body)
    }
}
operation!(UpdateStreakSettings => StreakSettings);

/// Checks weekdays off: each 0 to 6, no repeats, at most 6.
pub(crate) fn check_days_off(field: &str, days: &[u8]) -> Result<()> {
    if let Some((i, d)) = days.iter().enumerate().find(|(_, d)| **d > 6) {
        return Err(Error::invalid(
            format!("{field}[{i}]"),
            format!("{d} is not a weekday (0 to 6)"),
        ));
    }
    if let Some((i, _)) = days.iter().enumerate().find(|(i, d)| days[..*i].contains(d)) {
        return Err(Error::invalid(format!("{field}[{i}]"), "repeats a day"));
    }
    if days.len() > 6 {
        return Err(Error::invalid(field, "at most 6 days off: a streak needs one day"));
    }
    Ok(())
}

// The request bodies, serialized in the documents' field order.

#[derive(Serialize)]
struct FreezeBody<'a> {
    freezes: Vec<UserIdItem<'a>>,
}

#[derive(Serialize)]
struct PauseBody<'a> {
    pauses: &'a [StreakPause],
}

/// `{"users": [{"id": ..}]}`: the body of restores and resets.
#[derive(Serialize)]
struct UsersBody<'a> {
    users: Vec<UserItem<'a>>,
}

#[derive(Serialize)]
struct UserItem<'a> {
    id: &'a str,
}

fn users_body(ids: &[String]) -> UsersBody<'_> {
    UsersBody {
        users: ids.iter().map(|id| UserItem { id }).collect(),
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct StreakSettingsBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    frequency: Option<AdminStreakFrequency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evaluation_mode: Option<AdminStreakEvaluationMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customization_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    days_off: Option<Vec<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<Vec<StreakMetricThreshold>>,
    #[serde(skip_serializing_if = "Field::is_unset")]
    freezes: Field<StreakFreezeRules>,
}

#[derive(Debug, Clone, Serialize)]
struct StreakMetricThreshold {
    key: String,
    threshold: u64,
}
