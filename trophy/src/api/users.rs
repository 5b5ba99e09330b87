//! Users: create, identify, update, preferences, and everything Trophy knows about one user.

use crate::request::{finite, non_empty, operation, Call, RequestOptions};
use crate::types::{
    EventSummaryAggregation, GetUserPointsResponse, MetricResponse, NotificationChannel, PointsBoost,
    StreakEvaluationModePreference, StreakResponse, User, UserAchievementWithStatsResponse,
    UserLeaderboardResponseWithHistory, UserPreferencesResponse, UsersMetricEventSummaryResponseItem,
    UsersPointsEventSummaryResponseItem, WrappedResponse,
};
use crate::{Client, Error, Result, UserInput, UserUpdate};
use chrono::NaiveDate;
use serde::Serialize;
use trophy_generated::operations as ops;
use trophy_generated::QueryParam;

/// Users: create, identify, update, preferences, and everything Trophy knows about one user.
/// Get it with [`Client::users`].
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// use trophy::types::EventSummaryAggregation;
/// use trophy::{UserInput, UserUpdate};
///
/// client.users().create(UserInput::new("user-id").email("user@example.com")).send().await?;
/// let user = client.users().update("user-id", UserUpdate::new().name("Ada").clear_tz()).send().await?;
/// println!("{} {:?}", user.id, user.name);
///
/// let streak = client.users().streak("user-id").history_periods(14).send().await?;
/// println!("streak {} ({} periods of history)", streak.length, streak.streak_history.len());
///
/// let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
/// let end = chrono::NaiveDate::from_ymd_opt(2026, 1, 31).unwrap();
/// let days = client
///     .users()
///     .metric_event_summary("user-id", "words-written", EventSummaryAggregation::Daily, start, end)
///     .send()
///     .await?;
/// for day in days {
///     println!("{}: {} (+{})", day.date, day.total, day.change);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Users {
    pub(crate) client: Client,
}

impl Users {
    /// `POST /users`: creates a user with the id and the fields set on `user`.
    pub fn create(&self, user: impl Into<UserInput>) -> CreateUser {
        CreateUser {
            client: self.client.clone(),
            options: RequestOptions::default(),
            user: user.into(),
        }
    }

    /// `GET /users/{id}`: one user.
    pub fn get(&self, id: impl Into<crate::Id>) -> GetUser {
        GetUser {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into().into_string(),
        }
    }

    /// `PUT /users/{id}`: creates the user if Trophy does not know it, otherwise applies
    /// `changes`; returns the resulting user.
    pub fn identify(&self, id: impl Into<crate::Id>, changes: UserUpdate) -> IdentifyUser {
        IdentifyUser {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into().into_string(),
            changes,
        }
    }

    /// `PATCH /users/{id}`: applies `changes` to an existing user (404 if there is none).
    pub fn update(&self, id: impl Into<crate::Id>, changes: UserUpdate) -> UpdateUser {
        UpdateUser {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into().into_string(),
            changes,
        }
    }

    /// `GET /users/{id}/preferences`: the user's notification channels and streak settings.
    pub fn preferences(&self, id: impl Into<crate::Id>) -> GetUserPreferences {
        GetUserPreferences {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into().into_string(),
        }
    }

    /// `PATCH /users/{id}/preferences`: changes the notification channels and streak settings
    /// set on the builder; the rest is left as it is.
    pub fn update_preferences(&self, id: impl Into<crate::Id>) -> UpdateUserPreferences {
        UpdateUserPreferences {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into().into_string(),
            body: PreferencesBody::default(),
        }
    }

    /// `GET /users/{id}/metrics`: every metric with the user's total and linked achievements.
    pub fn metrics(&self, id: impl Into<crate::Id>) -> ListUserMetrics {
        ListUserMetrics {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into().into_string(),
        }
    }

    /// `GET /users/{id}/metrics/{key}`: the user's total of one metric and its achievements.
    pub fn metric(&self, id: impl Into<crate::Id>, key: impl Into<String>) -> GetUserMetric {
        GetUserMetric {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into().into_string(),
            key: key.into(),
        }
    }

    /// `GET /users/{id}/metrics/{key}/event-summary`: the user's total and change of a metric
    /// per day, week or month from `start_date` to `end_date` (both included).
    pub fn metric_event_summary(
        &self,
        id: impl Into<crate::Id>,
        key: impl Into<String>,
        aggregation: EventSummaryAggregation,
        start_date: NaiveDate,
        end_date: NaiveDate,
    ) -> UserMetricEventSummary {
        UserMetricEventSummary {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into().into_string(),
            key: key.into(),
            range: SummaryRange {
                aggregation,
                start_date,
                end_date,
            },
        }
    }

    /// `GET /users/{id}/achievements`: the achievements the user completed, with statistics.
    pub fn achievements(&self, id: impl Into<crate::Id>) -> ListUserAchievements {
        ListUserAchievements {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into().into_string(),
            include_incomplete: false,
        }
    }

    /// `GET /users/{id}/streak`: the user's streak, freezes, pauses and recent history.
    pub fn streak(&self, id: impl Into<crate::Id>) -> GetUserStreak {
        GetUserStreak {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into().into_string(),
            history_periods: None,
        }
    }

    /// `GET /users/{id}/points/{key}`: the user's total, level and recent awards in a points
    /// system.
    pub fn points(&self, id: impl Into<crate::Id>, key: impl Into<String>) -> GetUserPoints {
        GetUserPoints {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into().into_string(),
            key: key.into(),
            awards: None,
        }
    }

    /// `GET /users/{id}/points/{key}/boosts`: the boosts that apply to the user in a points
    /// system.
    pub fn points_boosts(&self, id: impl Into<crate::Id>, key: impl Into<String>) -> ListUserPointsBoosts {
        ListUserPointsBoosts {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into().into_string(),
            key: key.into(),
        }
    }

    /// `GET /users/{id}/points/{key}/event-summary`: the user's points total and change per
    /// day, week or month from `start_date` to `end_date` (both included).
    pub fn points_event_summary(
        &self,
        id: impl Into<crate::Id>,
        key: impl Into<String>,
        aggregation: EventSummaryAggregation,
        start_date: NaiveDate,
        end_date: NaiveDate,
    ) -> UserPointsEventSummary {
        UserPointsEventSummary {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into().into_string(),
            key: key.into(),
            range: SummaryRange {
                aggregation,
                start_date,
                end_date,
            },
        }
    }

    /// `GET /users/{id}/leaderboards/{key}`: the user's rank and value on a leaderboard, with
    /// the history of their rank changes.
    pub fn leaderboard(&self, id: impl Into<crate::Id>, key: impl Into<String>) -> GetUserLeaderboard {
        GetUserLeaderboard {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into().into_string(),
            key: key.into(),
            run: None,
            num_events: None,
        }
    }

    /// `GET /users/{id}/wrapped`: the user's yearly recap.
    pub fn wrapped(&self, id: impl Into<crate::Id>) -> GetUserWrapped {
        GetUserWrapped {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into().into_string(),
            year: None,
        }
    }
}

/// Builder of `POST /users` (operation `users_create`).
///
/// Not retried once the request may have reached Trophy; see `RELIABILITY.md`.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct CreateUser {
    client: Client,
    options: RequestOptions,
    user: UserInput,
}

impl CreateUser {
    fn call(&self) -> Result<Call> {
        self.user.check("user")?;
        Call::from_op(&ops::users_create::OP, &[])?.json(&self.user)
    }
}
operation!(CreateUser => User);

/// Builder of `GET /users/{id}` (operation `users_get`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct GetUser {
    client: Client,
    options: RequestOptions,
    id: String,
}

impl GetUser {
    fn call(&self) -> Result<Call> {
        Call::from_op(&ops::users_get::OP, &[&self.id])
    }
}
operation!(GetUser => User);

/// Builder of `PUT /users/{id}` (operation `users_identify`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct IdentifyUser {
    client: Client,
    options: RequestOptions,
    id: String,
    changes: UserUpdate,
}

impl IdentifyUser {
    fn call(&self) -> Result<Call> {
        Call::from_op(&ops::users_identify::OP, &[&self.id])?.json(&self.changes)
    }
}
operation!(IdentifyUser => User);

/// Builder of `PATCH /users/{id}` (operation `users_update`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct UpdateUser {
    client: Client,
    options: RequestOptions,
    id: String,
    changes: UserUpdate,
}

impl UpdateUser {
    fn call(&self) -> Result<Call> {
        Call::from_op(&ops::users_update::OP, &[&self.id])?.json(&self.changes)
    }
}
operation!(UpdateUser => User);

/// Builder of `GET /users/{id}/preferences` (operation `users_get_preferences`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct GetUserPreferences {
    client: Client,
    options: RequestOptions,
    id: String,
}

impl GetUserPreferences {
    fn call(&self) -> Result<Call> {
        Call::from_op(&ops::users_get_preferences::OP, &[&self.id])
    }
}
operation!(GetUserPreferences => UserPreferencesResponse);

/// One metric threshold of a user's personal streak settings: the amount of the metric
/// needed in a period for the period to count towards the streak.
///
/// ```no_run
/// let metric = trophy::api::users::StreakMetric::new("words-written", 500.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StreakMetric {
    /// The key of the metric.
    pub key: String,
    /// The amount of the metric needed in a period.
    pub threshold: f64,
}

impl StreakMetric {
    /// The metric `key` with its `threshold`.
    pub fn new(key: impl Into<String>, threshold: impl Into<f64>) -> Self {
        StreakMetric {
            key: key.into(),
            threshold: threshold.into(),
        }
    }
}

/// The body of `PATCH /users/{id}/preferences`: only what was set is sent.
#[derive(Debug, Clone, Default, Serialize)]
struct PreferencesBody {
    #[serde(default, skip_serializing_if = "NotificationsBody::is_empty")]
    notifications: NotificationsBody,
    #[serde(default, skip_serializing_if = "StreakBody::is_empty")]
    streak: StreakBody,
}

/// Channels per kind of notification. Trophy names these keys in snake_case.
#[derive(Debug, Clone, Default, Serialize)]
struct NotificationsBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    achievement_completed: Option<Vec<NotificationChannel>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recap: Option<Vec<NotificationChannel>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reactivation: Option<Vec<NotificationChannel>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    streak_reminder: Option<Vec<NotificationChannel>>,
}

impl NotificationsBody {
    fn is_empty(&self) -> bool {
        self.achievement_completed.is_none()
            && self.recap.is_none()
            && self.reactivation.is_none()
            && self.streak_reminder.is_none()
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct StreakBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    evaluation_mode: Option<StreakEvaluationModePreference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metrics: Option<Vec<StreakMetric>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    days_off: Option<Vec<u8>>,
}

impl StreakBody {
    fn is_empty(&self) -> bool {
        self.enabled.is_none() && self.evaluation_mode.is_none() && self.metrics.is_none() && self.days_off.is_none()
    }
}

fn collect_channels<I>(channels: I) -> Option<Vec<NotificationChannel>>
where
    I: IntoIterator,
    I::Item: Into<NotificationChannel>,
{
    Some(channels.into_iter().map(Into::into).collect())
}

/// Builder of `PATCH /users/{id}/preferences` (operation `users_update_preferences`).
///
/// Only what you set is sent; an empty channel list turns a kind of notification off.
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// use trophy::types::{NotificationChannel, StreakEvaluationModePreference};
/// let prefs = client
///     .users()
///     .update_preferences("user-id")
///     .recap_channels([NotificationChannel::Email])
///     .streak_reminder_channels([NotificationChannel::Email, NotificationChannel::Push])
///     .streak_evaluation_mode(StreakEvaluationModePreference::Or)
///     .streak_metric("words-written", 500.0)
///     .send()
///     .await?;
/// println!("{:?}", prefs.notifications.recap);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct UpdateUserPreferences {
    client: Client,
    options: RequestOptions,
    id: String,
    body: PreferencesBody,
}

impl UpdateUserPreferences {
    /// Sets the channels of notifications about completed achievements (`[]` for none).
    pub fn achievement_completed_channels<I>(mut self, channels: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<NotificationChannel>,
    {
        self.body.notifications.achievement_completed = collect_channels(channels);
        self
    }

    /// Sets the channels of periodic recaps (`[]` for none).
    pub fn recap_channels<I>(mut self, channels: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<NotificationChannel>,
    {
        self.body.notifications.recap = collect_channels(channels);
        self
    }

    /// Sets the channels of notifications that bring inactive users back (`[]` for none).
    pub fn reactivation_channels<I>(mut self, channels: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<NotificationChannel>,
    {
        self.body.notifications.reactivation = collect_channels(channels);
        self
    }

    /// Sets the channels of reminders that a streak is about to be lost (`[]` for none).
    pub fn streak_reminder_channels<I>(mut self, channels: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<NotificationChannel>,
    {
        self.body.notifications.streak_reminder = collect_channels(channels);
        self
    }

    /// Turns streaks on or off for the user.
    pub fn streak_enabled(mut self, enabled: bool) -> Self {
        self.body.streak.enabled = Some(enabled);
        self
    }

    /// Sets whether any one (`Or`) or all (`And`) metric thresholds must be met in a period.
    pub fn streak_evaluation_mode(mut self, mode: StreakEvaluationModePreference) -> Self {
        self.body.streak.evaluation_mode = Some(mode);
        self
    }

    /// Adds a metric threshold to the user's streak settings; repeat for several. The
    /// thresholds sent replace the user's current ones.
    pub fn streak_metric(mut self, key: impl Into<String>, threshold: impl Into<f64>) -> Self {
        self.body
            .streak
            .metrics
            .get_or_insert_with(Vec::new)
            .push(StreakMetric::new(key, threshold.into()));
        self
    }

    /// Sets the whole list of metric thresholds of the user's streak settings (an empty list
    /// is sent as `[]`).
    pub fn streak_metrics(mut self, metrics: impl IntoIterator<Item = StreakMetric>) -> Self {
        self.body.streak.metrics = Some(metrics.into_iter().collect());
        self
    }

    /// Sets the weekdays on which the user's daily streak cannot be lost, 0 (Sunday) to 6
    /// (Saturday), at most 6 different days (`[]` for none).
    pub fn streak_days_off(mut self, days: impl IntoIterator<Item = u8>) -> Self {
        self.body.streak.days_off = Some(days.into_iter().collect());
        self
    }

    fn call(&self) -> Result<Call> {
        if let Some(days) = &self.body.streak.days_off {
            crate::api::admin::streaks::check_days_off("streak.days_off", days)?;
        }
        for (i, m) in self.body.streak.metrics.iter().flatten().enumerate() {
            non_empty(&format!("streak.metrics[{i}].key"), &m.key)?;
            finite(&format!("streak.metrics[{i}].threshold"), m.threshold)?;
        }
        Call::from_op(&ops::users_update_preferences::OP, &[&self.id])?.json(&self.body)
    }
}
operation!(UpdateUserPreferences => UserPreferencesResponse);

/// Builder of `GET /users/{id}/metrics` (operation `users_all_metrics`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct ListUserMetrics {
    client: Client,
    options: RequestOptions,
    id: String,
}

impl ListUserMetrics {
    fn call(&self) -> Result<Call> {
        Call::from_op(&ops::users_all_metrics::OP, &[&self.id])
    }
}
operation!(ListUserMetrics => Vec<MetricResponse>);

/// Builder of `GET /users/{id}/metrics/{key}` (operation `users_single_metric`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct GetUserMetric {
    client: Client,
    options: RequestOptions,
    id: String,
    key: String,
}

impl GetUserMetric {
    fn call(&self) -> Result<Call> {
        Call::from_op(&ops::users_single_metric::OP, &[&self.id, &self.key])
    }
}
operation!(GetUserMetric => MetricResponse);

/// The aggregation and date range of an event summary.
#[derive(Debug, Clone)]
struct SummaryRange {
    aggregation: EventSummaryAggregation,
    start_date: NaiveDate,
    end_date: NaiveDate,
}

impl SummaryRange {
    /// Adds the range as the query parameters `[aggregation, start, end]` of the operation.
    fn apply(&self, call: Call, [aggregation, start, end]: [QueryParam; 3]) -> Result<Call> {
        if self.end_date < self.start_date {
            return Err(Error::invalid(
                "end_date",
                format!("{} is before start_date {}", self.end_date, self.start_date),
            ));
        }
        Ok(call
            .query(aggregation, &self.aggregation)
            .query(start, self.start_date.format("%Y-%m-%d"))
            .query(end, self.end_date.format("%Y-%m-%d")))
    }
}

/// Builder of `GET /users/{id}/metrics/{key}/event-summary` (operation
/// `users_metric_event_summary`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct UserMetricEventSummary {
    client: Client,
    options: RequestOptions,
    id: String,
    key: String,
    range: SummaryRange,
}

impl UserMetricEventSummary {
    fn call(&self) -> Result<Call> {
        {
            use ops::users_metric_event_summary as op;
            self.range.apply(
                Call::from_op(&op::OP, &[&self.id, &self.key])?,
                [op::AGGREGATION, op::START_DATE, op::END_DATE],
            )
        }
    }
}
operation!(UserMetricEventSummary => Vec<UsersMetricEventSummaryResponseItem>);

/// Builder of `GET /users/{id}/achievements` (operation `users_achievements`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct ListUserAchievements {
    client: Client,
    options: RequestOptions,
    id: String,
    include_incomplete: bool,
}

impl ListUserAchievements {
    /// Also returns the achievements the user has not completed yet (their `achieved_at` is
    /// `None`).
    pub fn include_incomplete(mut self, include: bool) -> Self {
        self.include_incomplete = include;
        self
    }

    fn call(&self) -> Result<Call> {
        let call = Call::from_op(&ops::users_achievements::OP, &[&self.id])?;
        Ok(call.query_opt(
            ops::users_achievements::INCLUDE_INCOMPLETE,
            self.include_incomplete.then_some("true"),
        ))
    }
}
operation!(ListUserAchievements => Vec<UserAchievementWithStatsResponse>);

/// Builder of `GET /users/{id}/streak` (operation `users_streak`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct GetUserStreak {
    client: Client,
    options: RequestOptions,
    id: String,
    history_periods: Option<u32>,
}

impl GetUserStreak {
    /// How many past streak periods to include in the history (Trophy's default: 7).
    pub fn history_periods(mut self, periods: u32) -> Self {
        self.history_periods = Some(periods);
        self
    }

    fn call(&self) -> Result<Call> {
        let call = Call::from_op(&ops::users_streak::OP, &[&self.id])?;
        Ok(call.query_opt(ops::users_streak::HISTORY_PERIODS, self.history_periods))
    }
}
operation!(GetUserStreak => StreakResponse);

/// Builder of `GET /users/{id}/points/{key}` (operation `users_points`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct GetUserPoints {
    client: Client,
    options: RequestOptions,
    id: String,
    key: String,
    awards: Option<u32>,
}

impl GetUserPoints {
    /// How many recent awards to return, from 1 to 100 (Trophy's default: 10).
    pub fn awards(mut self, awards: u32) -> Self {
        self.awards = Some(awards);
        self
    }

    fn call(&self) -> Result<Call> {
        if let Some(n) = self.awards {
            in_range("awards", n, 1, 100)?;
        }
        let call = Call::from_op(&ops::users_points::OP, &[&self.id, &self.key])?;
        Ok(call.query_opt(ops::users_points::AWARDS, self.awards))
    }
}
operation!(GetUserPoints => GetUserPointsResponse);

/// Checks `min <= value <= max`.
fn in_range(field: &str, value: u32, min: u32, max: u32) -> Result<()> {
    if !(min..=max).contains(&value) {
        return Err(Error::invalid(
            field,
            format!("is {value}; must be from {min} to {max}"),
        ));
    }
    Ok(())
}

/// Builder of `GET /users/{id}/points/{key}/boosts` (operation `users_points_boosts`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct ListUserPointsBoosts {
    client: Client,
    options: RequestOptions,
    id: String,
    key: String,
}

impl ListUserPointsBoosts {
    fn call(&self) -> Result<Call> {
        Call::from_op(&ops::users_points_boosts::OP, &[&self.id, &self.key])
    }
}
operation!(ListUserPointsBoosts => Vec<PointsBoost>);

/// Builder of `GET /users/{id}/points/{key}/event-summary` (operation
/// `users_points_event_summary`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct UserPointsEventSummary {
    client: Client,
    options: RequestOptions,
    id: String,
    key: String,
    range: SummaryRange,
}

impl UserPointsEventSummary {
    fn call(&self) -> Result<Call> {
        {
            use ops::users_points_event_summary as op;
            self.range.apply(
                Call::from_op(&op::OP, &[&self.id, &self.key])?,
                [op::AGGREGATION, op::START_DATE, op::END_DATE],
            )
        }
    }
}
operation!(UserPointsEventSummary => Vec<UsersPointsEventSummaryResponseItem>);

/// Builder of `GET /users/{id}/leaderboards/{key}` (operation `users_leaderboard`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct GetUserLeaderboard {
    client: Client,
    options: RequestOptions,
    id: String,
    key: String,
    run: Option<NaiveDate>,
    num_events: Option<u32>,
}

impl GetUserLeaderboard {
    /// Selects the run of a repeating leaderboard that starts on `start` (default: the
    /// current run).
    pub fn run(mut self, start: NaiveDate) -> Self {
        self.run = Some(start);
        self
    }

    /// How many history entries to return, from 0 to 100 (Trophy's default: 10).
    pub fn num_events(mut self, events: u32) -> Self {
        self.num_events = Some(events);
        self
    }

    fn call(&self) -> Result<Call> {
        if let Some(n) = self.num_events {
            in_range("num_events", n, 0, 100)?;
        }
        let call = Call::from_op(&ops::users_leaderboard::OP, &[&self.id, &self.key])?;
        Ok(call
            .query_opt(ops::users_leaderboard::RUN, self.run.map(|d| d.format("%Y-%m-%d")))
            .query_opt(ops::users_leaderboard::NUM_EVENTS, self.num_events))
    }
}
operation!(GetUserLeaderboard => UserLeaderboardResponseWithHistory);

/// Builder of `GET /users/{id}/wrapped` (operation `users_wrapped`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct GetUserWrapped {
    client: Client,
    options: RequestOptions,
    id: String,
    year: Option<i32>,
}

impl GetUserWrapped {
    /// The year to summarise, at least 1 (default: the current year).
    pub fn year(mut self, year: i32) -> Self {
        self.year = Some(year);
        self
    }

    fn call(&self) -> Result<Call> {
        if let Some(year) = self.year.filter(|y| *y < 1) {
            return Err(Error::invalid("year", format!("is {year}; must be at least 1")));
        }
        Ok(Call::from_op(&ops::users_wrapped::OP, &[&self.id])?.query_opt(ops::users_wrapped::YEAR, self.year))
    }
}
operation!(GetUserWrapped => WrappedResponse);
