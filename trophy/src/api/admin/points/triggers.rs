//! Triggers of a points system: `/points/{systemId}/triggers`.

use super::{at_least_one, check_conditions, crud, push_condition, AttributeCondition, Check, Scope};
use crate::admin_types::{
    AdminPointsTrigger, AdminPointsTriggerStatus, AdminPointsTriggerTimeUnit, CreatePointsTriggersResponse,
    DeletePointsTriggersResponse, PatchPointsTriggersResponse, PointsTriggerType,
};
use crate::error::Result;
use crate::field::Field;
use crate::request::non_empty;
use crate::Client;
use serde::Serialize;

/// Admin API: the triggers of one points system (what awards or deducts points). Get it with
/// [`AdminPoints::triggers`](super::AdminPoints::triggers).
///
/// ```no_run
/// use trophy::admin_types::{AdminPointsTriggerStatus, AdminPointsTriggerTimeUnit};
/// use trophy::api::admin::points::{NewPointsTrigger, PointsTriggerUpdate};
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// let triggers = client.admin().points().triggers("0b6f3c1e-5d7a-4f1e-9c2b-8a4d6e0f1a23");
/// let created = triggers
///     .create([
///         NewPointsTrigger::metric("7c9e6679-7425-40de-944b-e07fc1f90ae7", 100, 5)
///             .event_attribute("a1b2c3d4-0000-4000-8000-000000000001", "essay")
///             .status(AdminPointsTriggerStatus::Active),
///         NewPointsTrigger::time(AdminPointsTriggerTimeUnit::Days, 1, 2),
///     ])
///     .send()
///     .await?;
/// for trigger in &created.created {
///     println!("{} {:?} awards {}", trigger.id, trigger.type_, trigger.points);
/// }
/// if let Some(first) = created.created.first() {
///     triggers.update([PointsTriggerUpdate::new(first.id.to_string()).points(10)]).send().await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AdminPointsTriggers {
    pub(crate) client: Client,
    pub(crate) system_id: String,
}

impl AdminPointsTriggers {
    fn scope(&self) -> Scope {
        Scope::under(&self.system_id)
    }
}

crud! {
    handle: AdminPointsTriggers,
    what: "triggers of the points system",
    ops: [admin_points_triggers_list, admin_points_triggers_create, admin_points_triggers_get, admin_points_triggers_update, admin_points_triggers_delete],
        list: ListPointsTriggers => AdminPointsTrigger,
    create: CreatePointsTriggers(NewPointsTrigger) => CreatePointsTriggersResponse,
    get: GetPointsTrigger => AdminPointsTrigger,
    update: UpdatePointsTriggers(PointsTriggerUpdate) => PatchPointsTriggersResponse,
    delete: DeletePointsTriggers => DeletePointsTriggersResponse,
}

/// The fields a trigger's type selects, shared by [`NewPointsTrigger`] and
/// [`PointsTriggerUpdate`], which both have them as fields of the same names; each one is sent
/// only when set.
macro_rules! trigger_details {
    ($(#[$meta:meta])* pub struct $Name:ident { $($(#[$fmeta:meta])* pub $field:ident: $type:ty,)* }) => {
        $(#[$meta])*
        pub struct $Name {
            $($(#[$fmeta])* pub $field: $type,)*
            /// Whether the trigger is active.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub status: Option<AdminPointsTriggerStatus>,
            /// For metric triggers: the id of the metric watched.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub metric_id: Option<String>,
            /// For metric triggers: how much the metric must increase to award points (at least 1).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub metric_threshold: Option<u64>,
            /// For achievement triggers: the id of the achievement.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub achievement_id: Option<String>,
            /// For streak triggers: the streak length that awards points (at least 1).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub streak_length: Option<u32>,
            /// For time triggers: the unit of the interval.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub time_unit: Option<AdminPointsTriggerTimeUnit>,
            /// For time triggers: how many units pass between awards (at least 1).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub time_interval: Option<u32>,
            /// User attribute conditions a user must match; `null` means none.
            #[serde(default, skip_serializing_if = "Field::is_unset")]
            pub user_attributes: Field<Vec<AttributeCondition>>,
            /// For metric triggers: event attribute conditions an event must match; `null` means none.
            #[serde(default, skip_serializing_if = "Field::is_unset")]
            pub event_attributes: Field<Vec<AttributeCondition>>,
            /// Whether the trigger is blocked when the user has too few points to cover a deduction.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub block_if_out_of_points: Option<bool>,
        }

        impl $Name {
            /// The item with its own fields set and every shared field unset.
            fn blank($($field: $type),*) -> Self {
                $Name {
                    $($field,)*
                    status: None,
                    metric_id: None,
                    metric_threshold: None,
                    achievement_id: None,
                    streak_length: None,
                    time_unit: None,
                    time_interval: None,
                    user_attributes: Field::Unset,
                    event_attributes: Field::Unset,
                    block_if_out_of_points: None,
                }
            }

            /// Sets whether the trigger is active, e.g. `AdminPointsTriggerStatus::Active`. **A new
            /// trigger starts inactive** (it awards nothing) unless created with this set.
            #[must_use]
            pub fn status(mut self, status: AdminPointsTriggerStatus) -> Self {
                self.status = Some(status);
                self
            }

            /// Sets the metric a metric trigger watches (its id).
            #[must_use]
            pub fn metric_id(mut self, metric_id: impl Into<crate::Id>) -> Self {
                self.metric_id = Some(metric_id.into().into_string());
                self
            }

            /// Sets how much the metric must increase for a metric trigger to award points (at
            /// least 1).
            #[must_use]
            pub fn metric_threshold(mut self, threshold: u64) -> Self {
                self.metric_threshold = Some(threshold);
                self
            }

            /// Sets the achievement an achievement trigger awards points for (its id).
            #[must_use]
            pub fn achievement_id(mut self, achievement_id: impl Into<crate::Id>) -> Self {
                self.achievement_id = Some(achievement_id.into().into_string());
                self
            }

            /// Sets the streak length at which a streak trigger awards points (at least 1).
            #[must_use]
            pub fn streak_length(mut self, length: u32) -> Self {
                self.streak_length = Some(length);
                self
            }

            /// Sets the unit of a time trigger's interval.
            #[must_use]
            pub fn time_unit(mut self, unit: AdminPointsTriggerTimeUnit) -> Self {
                self.time_unit = Some(unit);
                self
            }

            /// Sets how many time units pass between a time trigger's awards (at least 1).
            #[must_use]
            pub fn time_interval(mut self, interval: u32) -> Self {
                self.time_interval = Some(interval);
                self
            }

            /// Adds a user attribute condition: the trigger applies to users whose attribute
            /// `attribute_id` has `value`. The list sent replaces any the trigger had.
            #[must_use]
            pub fn user_attribute(mut self, attribute_id: impl Into<crate::Id>, value: impl Into<String>) -> Self {
                push_condition(&mut self.user_attributes, AttributeCondition::new(attribute_id, value));
                self
            }

            /// Sends `userAttributes: null`: no user conditions.
            #[must_use]
            pub fn clear_user_attributes(mut self) -> Self {
                self.user_attributes = Field::Null;
                self
            }

            /// Adds an event attribute condition (metric triggers): only events whose attribute
            /// `attribute_id` has `value` count. The list sent replaces any the trigger had.
            #[must_use]
            pub fn event_attribute(mut self, attribute_id: impl Into<crate::Id>, value: impl Into<String>) -> Self {
                push_condition(&mut self.event_attributes, AttributeCondition::new(attribute_id, value));
                self
            }

            /// Sends `eventAttributes: null`: no event conditions.
            #[must_use]
            pub fn clear_event_attributes(mut self) -> Self {
                self.event_attributes = Field::Null;
                self
            }

            /// Sets whether the trigger is blocked when the user has too few points to cover a
            /// deduction (Trophy's default: not blocked).
            #[must_use]
            pub fn block_if_out_of_points(mut self, block: bool) -> Self {
                self.block_if_out_of_points = Some(block);
                self
            }

            /// Checks the fields shared by new triggers and trigger changes.
            fn check_details(&self, at: &str) -> Result<()> {
                if let Some(id) = &self.metric_id {
                    non_empty(&format!("{at}.metric_id"), id)?;
                }
                if let Some(id) = &self.achievement_id {
                    non_empty(&format!("{at}.achievement_id"), id)?;
                }
                at_least_one(&format!("{at}.metric_threshold"), self.metric_threshold)?;
                at_least_one(&format!("{at}.streak_length"), self.streak_length)?;
                at_least_one(&format!("{at}.time_interval"), self.time_interval)?;
                check_conditions(&format!("{at}.user_attributes"), &self.user_attributes)?;
                check_conditions(&format!("{at}.event_attributes"), &self.event_attributes)
            }
        }
    };
}

trigger_details! {
    /// A trigger to create: what awards (or, with negative points, deducts) points.
    ///
    /// The constructors named after a type ([`metric`](Self::metric), [`achievement`](Self::achievement),
    /// [`streak`](Self::streak), [`time`](Self::time), [`user_creation`](Self::user_creation)) set
    /// the type and the fields it needs.
    ///
    /// ```no_run
    /// use trophy::api::admin::points::NewPointsTrigger;
    /// let on_signup = NewPointsTrigger::user_creation(25);
    /// let plan = "a1b2c3d4-0000-4000-8000-000000000002";
    /// let week_streak = NewPointsTrigger::streak(7, 100).user_attribute(plan, "pro");
    /// ```
    #[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
    #[serde(rename_all = "camelCase")]
    #[non_exhaustive]
    pub struct NewPointsTrigger {
        /// What fires the trigger.
        #[serde(rename = "type")]
        pub trigger_type: PointsTriggerType,
        /// The points awarded each time it fires (negative to deduct).
        pub points: i64,
    }
}

/// A trigger starts **inactive** (it awards nothing) unless created with
/// `.status(AdminPointsTriggerStatus::Active)`:
///
/// ```
/// use trophy::admin_types::AdminPointsTriggerStatus;
/// use trophy::api::admin::points::NewPointsTrigger;
///
/// let trigger = NewPointsTrigger::metric("metric-id", 100, 10).status(AdminPointsTriggerStatus::Active);
/// ```
impl NewPointsTrigger {
    /// A trigger of type `trigger_type` awarding `points`; set the fields its type needs.
    pub fn new(trigger_type: PointsTriggerType, points: i64) -> Self {
        Self::blank(trigger_type, points)
    }

    /// Awards `points` each time the metric `metric_id` increases by `threshold`.
    pub fn metric(metric_id: impl Into<crate::Id>, threshold: u64, points: i64) -> Self {
        Self::new(PointsTriggerType::Metric, points)
            .metric_id(metric_id)
            .metric_threshold(threshold)
    }

    /// Awards `points` when a user completes the achievement `achievement_id`.
    pub fn achievement(achievement_id: impl Into<crate::Id>, points: i64) -> Self {
        Self::new(PointsTriggerType::Achievement, points).achievement_id(achievement_id)
    }

    /// Awards `points` when a user's streak reaches `length`.
    pub fn streak(length: u32, points: i64) -> Self {
        Self::new(PointsTriggerType::Streak, points).streak_length(length)
    }

    /// Awards `points` every `interval` `unit`s (hours or days).
    pub fn time(unit: AdminPointsTriggerTimeUnit, interval: u32, points: i64) -> Self {
        Self::new(PointsTriggerType::Time, points)
            .time_unit(unit)
            .time_interval(interval)
    }

    /// Awards `points` once, when a user is created.
    pub fn user_creation(points: i64) -> Self {
        Self::new(PointsTriggerType::UserCreation, points)
    }
}

impl Check for NewPointsTrigger {
    fn check(&self, at: &str) -> Result<()> {
        self.check_details(at)
    }
}

trigger_details! {
    /// Changes to one trigger: each field set, cleared (attribute conditions) or left alone.
    ///
    /// ```no_run
    /// use trophy::admin_types::AdminPointsTriggerStatus;
    /// use trophy::api::admin::points::PointsTriggerUpdate;
    /// let pause = PointsTriggerUpdate::new("5e8f0a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b")
    ///     .status(AdminPointsTriggerStatus::Inactive);
    /// ```
    #[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
    #[serde(rename_all = "camelCase")]
    #[non_exhaustive]
    pub struct PointsTriggerUpdate {
        /// The id of the trigger to change.
        pub id: String,
        /// The new type.
        #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
        pub trigger_type: Option<PointsTriggerType>,
        /// The new points per firing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub points: Option<i64>,
    }
}

impl PointsTriggerUpdate {
    /// Changes to the trigger `id`; nothing is changed until a setter is called.
    pub fn new(id: impl Into<crate::Id>) -> Self {
        Self::blank(id.into().into_string(), None, None)
    }

    /// Changes what fires the trigger (set the fields the new type needs too).
    #[must_use]
    pub fn trigger_type(mut self, trigger_type: PointsTriggerType) -> Self {
        self.trigger_type = Some(trigger_type);
        self
    }

    /// Sets the points awarded each time it fires (negative to deduct).
    #[must_use]
    pub fn points(mut self, points: i64) -> Self {
        self.points = Some(points);
        self
    }
}

impl Check for PointsTriggerUpdate {
    fn check(&self, at: &str) -> Result<()> {
        non_empty(&format!("{at}.id"), &self.id)?;
        self.check_details(at)
    }
}
