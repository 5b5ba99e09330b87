//! Admin API: Achievements.

use super::crud::{crud, Check, Scope};
use super::points::{check_conditions, push_condition, AttributeCondition, BadgeUrl};
use super::strings;
use crate::admin_types::{
    AdminAchievement, AdminAchievementStatus, AdminAchievementTrigger, CreateAchievementsResponse,
    DeleteAchievementsResponse, UpdateAchievementsResponse,
};
use crate::request::{finite, key_charset, non_empty};
use crate::{Client, Error, Field, Result};
use serde::Serialize;

/// Admin API: Achievements, the ones the Application API then lists and completes. Get it
/// with [`Admin::achievements`](super::Admin::achievements).
///
/// Which fields an achievement needs depends on its trigger: a `key` for `api` achievements
/// (completed with [`Achievements::complete`](crate::api::achievements::Achievements::complete)),
/// a metric and a total for `metric` ones, a length for `streak` ones, a number of years for
/// `anniversary` ones (counted from the user's sign-up date) and other achievements for
/// `achievement` ones. The constructors set the trigger with what it needs.
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// use trophy::admin_types::AdminAchievementStatus;
/// use trophy::api::admin::achievements::{AchievementUpdate, NewAchievement};
///
/// let achievements = client.admin().achievements();
/// let created = achievements
///     .create([
///         NewAchievement::api("Finished onboarding", "finish-onboarding").status(AdminAchievementStatus::Active),
///         NewAchievement::streak("A week in a row", 7).badge_url("https://cdn.example.com/week.png"),
///         NewAchievement::anniversary("One year with us", 1),
///     ])
///     .send()
///     .await?;
/// let id = created.created[0].id.to_string();
/// achievements.update([AchievementUpdate::new(&id).name("Onboarded").clear_description()]).send().await?;
/// println!("{:?}", achievements.get(&id).send().await?.status);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AdminAchievements {
    pub(crate) client: Client,
}

impl AdminAchievements {
    fn scope(&self) -> Scope {
        Scope::top()
    }
}

crud! {
    handle: AdminAchievements,
    what: "achievements",
    ops: [admin_achievements_list, admin_achievements_create, admin_achievements_get, admin_achievements_update, admin_achievements_delete],
        list: ListAchievements => AdminAchievement,
    create: CreateAchievements(NewAchievement) => CreateAchievementsResponse,
    get: GetAchievement => AdminAchievement,
    /// The description, badge and attribute conditions can also be cleared (see
    /// [`AchievementUpdate`]).
    update: UpdateAchievements(AchievementUpdate) => UpdateAchievementsResponse,
    delete: DeleteAchievements => DeleteAchievementsResponse,
}

/// One achievement to create: see [`AdminAchievements::create`]. Start from the constructor
/// of its trigger ([`api`](Self::api), [`metric`](Self::metric), [`streak`](Self::streak),
/// [`anniversary`](Self::anniversary), [`achievements`](Self::achievements)).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewAchievement {
    /// The name shown to users.
    pub name: String,
    /// What completes it.
    pub trigger: AdminAchievementTrigger,
    /// A longer text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The status it starts with; Trophy's default is `inactive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AdminAchievementStatus>,
    /// The badge image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub badge: Option<BadgeUrl>,
    /// Conditions on user attributes a user must meet to be eligible.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub user_attributes: Field<Vec<AttributeCondition>>,
    /// The key used to complete it through the API: ASCII letters, digits, `-` and `_`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// For `metric` achievements, the id of the metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_id: Option<String>,
    /// For `metric` achievements, the total to reach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_value: Option<f64>,
    /// For `metric` achievements, conditions on event attributes an event must meet to count.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub event_attributes: Field<Vec<AttributeCondition>>,
    /// For `streak` achievements, the streak length to reach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streak_length: Option<u32>,
    /// For `anniversary` achievements, the years since sign-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anniversary_years: Option<u32>,
    /// For `achievement` achievements, the ids of the achievements to complete first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub achievement_ids: Option<Vec<String>>,
}

impl NewAchievement {
    /// An achievement with this name and trigger and nothing else set; prefer the constructor
    /// of the trigger, which sets what it needs.
    pub fn new(name: impl Into<String>, trigger: AdminAchievementTrigger) -> Self {
        NewAchievement {
            name: name.into(),
            trigger,
            description: None,
            status: None,
            badge: None,
            user_attributes: Field::Unset,
            key: None,
            metric_id: None,
            metric_value: None,
            event_attributes: Field::Unset,
            streak_length: None,
            anniversary_years: None,
            achievement_ids: None,
        }
    }

    /// Completed by a call of the Application API with `key`.
    pub fn api(name: impl Into<String>, key: impl Into<String>) -> Self {
        let mut a = Self::new(name, AdminAchievementTrigger::Api);
        a.key = Some(key.into());
        a
    }

    /// Completed when a user's total of the metric `metric_id` reaches `value`.
    pub fn metric(name: impl Into<String>, metric_id: impl Into<crate::Id>, value: impl Into<f64>) -> Self {
        let mut a = Self::new(name, AdminAchievementTrigger::Metric);
        a.metric_id = Some(metric_id.into().into_string());
        a.metric_value = Some(value.into());
        a
    }

    /// Completed when a user's streak reaches `length` periods.
    pub fn streak(name: impl Into<String>, length: u32) -> Self {
        let mut a = Self::new(name, AdminAchievementTrigger::Streak);
        a.streak_length = Some(length);
        a
    }

    /// Completed `years` years after the user's sign-up date.
    pub fn anniversary(name: impl Into<String>, years: u32) -> Self {
        let mut a = Self::new(name, AdminAchievementTrigger::Anniversary);
        a.anniversary_years = Some(years);
        a
    }

    /// Completed once every achievement of `achievement_ids` is.
    pub fn achievements<I>(name: impl Into<String>, achievement_ids: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<crate::Id>,
    {
        let mut a = Self::new(name, AdminAchievementTrigger::Achievement);
        a.achievement_ids = Some(strings(achievement_ids));
        a
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the status it starts with.
    #[must_use]
    pub fn status(mut self, status: AdminAchievementStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the badge image (sent as `badge: {url}`).
    #[must_use]
    pub fn badge_url(mut self, url: impl Into<String>) -> Self {
        self.badge = Some(BadgeUrl::new(url));
        self
    }

    /// Sets the key (for `api` achievements).
    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Adds a condition: only users whose attribute `attribute_id` has `value` are eligible.
    #[must_use]
    pub fn user_attribute(mut self, attribute_id: impl Into<crate::Id>, value: impl Into<String>) -> Self {
        push_condition(&mut self.user_attributes, AttributeCondition::new(attribute_id, value));
        self
    }

    /// Adds a condition: only events whose attribute `attribute_id` has `value` count (metric
    /// achievements).
    #[must_use]
    pub fn event_attribute(mut self, attribute_id: impl Into<crate::Id>, value: impl Into<String>) -> Self {
        push_condition(&mut self.event_attributes, AttributeCondition::new(attribute_id, value));
        self
    }
}

impl Check for NewAchievement {
    fn check(&self, at: &str) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(Error::invalid(format!("{at}.name"), "must not be empty"));
        }
        if let Some(key) = &self.key {
            key_charset(&format!("{at}.key"), key)?;
        }
        check_shared(
            at,
            self.badge.as_ref(),
            &self.user_attributes,
            &self.event_attributes,
            self.metric_value,
        )?;
        if let Some(ids) = &self.achievement_ids {
            if ids.is_empty() {
                return Err(Error::invalid(
                    format!("{at}.achievement_ids"),
                    "must name at least one achievement",
                ));
            }
            ids.iter()
                .enumerate()
                .try_for_each(|(i, id)| non_empty(&format!("{at}.achievement_ids[{i}]"), id))?;
        }
        Ok(())
    }
}

/// Changes to one achievement: see [`AdminAchievements::update`]. Fields you do not set are
/// left unchanged; the description, badge and attribute conditions can also be cleared.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AchievementUpdate {
    /// The id of the achievement.
    pub id: String,
    /// The new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The new trigger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<AdminAchievementTrigger>,
    /// The new description; can be cleared.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub description: Field<String>,
    /// The new status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AdminAchievementStatus>,
    /// The new badge image; can be cleared.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub badge: Field<BadgeUrl>,
    /// The new user attribute conditions, replacing the old ones; can be cleared.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub user_attributes: Field<Vec<AttributeCondition>>,
    /// The new key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The new metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_id: Option<String>,
    /// The new metric total to reach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_value: Option<f64>,
    /// The new event attribute conditions, replacing the old ones; can be cleared.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub event_attributes: Field<Vec<AttributeCondition>>,
    /// The new streak length to reach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streak_length: Option<u32>,
    /// The new number of years since sign-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anniversary_years: Option<u32>,
    /// The new achievements to complete first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub achievement_ids: Option<Vec<String>>,
}

impl AchievementUpdate {
    /// No changes yet to the achievement `id`.
    pub fn new(id: impl Into<crate::Id>) -> Self {
        AchievementUpdate {
            id: id.into().into_string(),
            name: None,
            trigger: None,
            description: Field::Unset,
            status: None,
            badge: Field::Unset,
            user_attributes: Field::Unset,
            key: None,
            metric_id: None,
            metric_value: None,
            event_attributes: Field::Unset,
            streak_length: None,
            anniversary_years: None,
            achievement_ids: None,
        }
    }

    /// Sets the name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the trigger.
    #[must_use]
    pub fn trigger(mut self, trigger: AdminAchievementTrigger) -> Self {
        self.trigger = Some(trigger);
        self
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Field::Set(description.into());
        self
    }

    /// Removes the description (sends `null`).
    #[must_use]
    pub fn clear_description(mut self) -> Self {
        self.description = Field::Null;
        self
    }

    /// Sets the status.
    #[must_use]
    pub fn status(mut self, status: AdminAchievementStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the badge image (sent as `badge: {url}`).
    #[must_use]
    pub fn badge_url(mut self, url: impl Into<String>) -> Self {
        self.badge = Field::Set(BadgeUrl::new(url));
        self
    }

    /// Removes the badge (sends `badge: null`).
    #[must_use]
    pub fn clear_badge(mut self) -> Self {
        self.badge = Field::Null;
        self
    }

    /// Adds a user attribute condition; the conditions sent replace the current ones.
    #[must_use]
    pub fn user_attribute(mut self, attribute_id: impl Into<crate::Id>, value: impl Into<String>) -> Self {
        push_condition(&mut self.user_attributes, AttributeCondition::new(attribute_id, value));
        self
    }

    /// Removes every user attribute condition (sends `null`).
    #[must_use]
    pub fn clear_user_attributes(mut self) -> Self {
        self.user_attributes = Field::Null;
        self
    }

    /// Sets the key.
    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the metric and the total to reach.
    #[must_use]
    pub fn metric(mut self, metric_id: impl Into<crate::Id>, value: impl Into<f64>) -> Self {
        self.metric_id = Some(metric_id.into().into_string());
        self.metric_value = Some(value.into());
        self
    }

    /// Adds an event attribute condition; the conditions sent replace the current ones.
    #[must_use]
    pub fn event_attribute(mut self, attribute_id: impl Into<crate::Id>, value: impl Into<String>) -> Self {
        push_condition(&mut self.event_attributes, AttributeCondition::new(attribute_id, value));
        self
    }

    /// Removes every event attribute condition (sends `null`).
    #[must_use]
    pub fn clear_event_attributes(mut self) -> Self {
        self.event_attributes = Field::Null;
        self
    }

    /// Sets the streak length to reach.
    #[must_use]
    pub fn streak_length(mut self, length: u32) -> Self {
        self.streak_length = Some(length);
        self
    }

    /// Sets the number of years since sign-up.
    #[must_use]
    pub fn anniversary_years(mut self, years: u32) -> Self {
        self.anniversary_years = Some(years);
        self
    }

    /// Sets the achievements to complete first.
    #[must_use]
    pub fn achievement_ids<I>(mut self, ids: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<crate::Id>,
    {
        self.achievement_ids = Some(strings(ids));
        self
    }
}

impl Check for AchievementUpdate {
    fn check(&self, at: &str) -> Result<()> {
        non_empty(&format!("{at}.id"), &self.id)?;
        if let Some(key) = &self.key {
            key_charset(&format!("{at}.key"), key)?;
        }
        check_shared(
            at,
            self.badge.as_set(),
            &self.user_attributes,
            &self.event_attributes,
            self.metric_value,
        )
    }
}

/// The checks creation and update share: the badge URL, the attribute ids, the metric total.
fn check_shared(
    at: &str,
    badge: Option<&BadgeUrl>,
    user_attributes: &Field<Vec<AttributeCondition>>,
    event_attributes: &Field<Vec<AttributeCondition>>,
    metric_value: Option<f64>,
) -> Result<()> {
    if let Some(badge) = badge {
        badge.check(&format!("{at}.badge_url"))?;
    }
    check_conditions(&format!("{at}.user_attributes"), user_attributes)?;
    check_conditions(&format!("{at}.event_attributes"), event_attributes)?;
    metric_value.map_or(Ok(()), |v| finite(&format!("{at}.metric_value"), v))
}
