//! Seed files: the initial configuration of an emulator (see the crate documentation for the format).

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::error::Error;
use crate::values::{valid_key, Freq};

/// The default seed shipped with the crate (`seed/default.json`), used by [`crate::Emulator::start`].
pub const DEFAULT_SEED_JSON: &str = include_str!("../seed/default.json");

/// The initial configuration of an emulator, usually read from a JSON seed file.
///
/// Every tenant (including the default one) starts from the same seed. See the crate
/// documentation for the file format and an example.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    /// Freeze the emulator clock at this instant; without it the clock follows the system time.
    #[serde(default)]
    pub now: Option<DateTime<Utc>>,
    /// The organisation API keys accepted on both APIs. Empty (the default) accepts any key that
    /// does not start with `app_`.
    #[serde(default)]
    pub api_keys: Vec<String>,
    /// Streak settings of the organisation.
    #[serde(default)]
    pub streak: SeedStreak,
    /// Achievements present from the start (more can be created through the Admin API).
    #[serde(default)]
    pub achievements: Vec<SeedAchievement>,
    /// The environments `GET /environments` lists (organisation-wide, not per tenant). A seed
    /// file without the field gets one, `production`; [`Seed::empty`] has none.
    #[serde(default = "default_environments")]
    pub environments: Vec<SeedEnvironment>,
    /// Metrics created as if through the Admin API.
    #[serde(default)]
    pub metrics: Vec<SeedMetric>,
    /// User and event attributes created as if through the Admin API.
    #[serde(default)]
    pub attributes: Vec<SeedAttribute>,
}

/// Streak settings of a seed.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedStreak {
    /// `daily` (default), `weekly` or `monthly`.
    #[serde(default = "default_frequency")]
    pub frequency: String,
    /// The most freezes a user can hold (default 3).
    #[serde(default = "default_max_freezes")]
    pub max_freezes: i64,
    /// Freezes every new user starts with (default 0).
    #[serde(default)]
    pub initial_freezes: i64,
    /// Reported as `freezeAutoEarnInterval` (freezes are not earned automatically).
    #[serde(default)]
    pub freeze_auto_earn_interval: Option<i64>,
    /// Reported as `freezeAutoEarnAmount` (freezes are not earned automatically).
    #[serde(default)]
    pub freeze_auto_earn_amount: Option<i64>,
}

/// An environment of a seed.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedEnvironment {
    /// The display name.
    pub name: String,
    /// The key.
    pub key: String,
    /// The order among environments, 1 to 10.
    pub priority: i64,
}

fn default_environments() -> Vec<SeedEnvironment> {
    vec![SeedEnvironment {
        name: "Production".into(),
        key: "production".into(),
        priority: 1,
    }]
}

fn default_frequency() -> String {
    "daily".to_string()
}

fn default_max_freezes() -> i64 {
    3
}

impl Default for SeedStreak {
    fn default() -> Self {
        SeedStreak {
            frequency: default_frequency(),
            max_freezes: default_max_freezes(),
            initial_freezes: 0,
            freeze_auto_earn_interval: None,
            freeze_auto_earn_amount: None,
        }
    }
}

/// An achievement of a seed.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedAchievement {
    /// Fixed ID (a UUID); a random UUID when omitted.
    #[serde(default)]
    pub id: Option<String>,
    /// The key (`^[A-Za-z0-9_-]+$`, unique).
    pub key: String,
    /// The display name.
    pub name: String,
    /// `api`, `metric`, `streak` or `achievement`.
    pub trigger: String,
    /// Optional description.
    #[serde(default)]
    pub description: Option<String>,
    /// Optional badge URL.
    #[serde(default)]
    pub badge_url: Option<String>,
    /// For `metric` achievements: the key of the metric (it may be created later through the Admin API).
    #[serde(default)]
    pub metric_key: Option<String>,
    /// For `metric` achievements: the total at which the achievement is completed.
    #[serde(default)]
    pub metric_value: Option<f64>,
    /// For `streak` achievements: the streak length at which it is completed.
    #[serde(default)]
    pub streak_length: Option<i64>,
    /// For `achievement` achievements: the keys of the achievements that must all be completed.
    #[serde(default)]
    pub achievement_keys: Vec<String>,
}

impl SeedAchievement {
    /// An achievement completed through `POST /achievements/{key}/complete`.
    pub fn api(key: impl Into<String>, name: impl Into<String>) -> Self {
        SeedAchievement {
            key: key.into(),
            name: name.into(),
            trigger: "api".into(),
            ..Default::default()
        }
    }

    /// An achievement completed when the user's total of `metric_key` reaches `value`.
    pub fn metric(key: impl Into<String>, name: impl Into<String>, metric_key: impl Into<String>, value: f64) -> Self {
        SeedAchievement {
            key: key.into(),
            name: name.into(),
            trigger: "metric".into(),
            metric_key: Some(metric_key.into()),
            metric_value: Some(value),
            ..Default::default()
        }
    }

    /// An achievement completed when the user's streak reaches `length`.
    pub fn streak(key: impl Into<String>, name: impl Into<String>, length: i64) -> Self {
        SeedAchievement {
            key: key.into(),
            name: name.into(),
            trigger: "streak".into(),
            streak_length: Some(length),
            ..Default::default()
        }
    }
}

/// A metric of a seed.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedMetric {
    /// Fixed ID (a UUID); a random UUID when omitted.
    #[serde(default)]
    pub id: Option<String>,
    /// The key (`^[A-Za-z0-9_-]+$`, unique).
    pub key: String,
    /// The display name.
    pub name: String,
    /// `number` (default) or `currency`.
    #[serde(default)]
    pub unit_type: Option<String>,
    /// Units label (default empty).
    #[serde(default)]
    pub units: Option<String>,
}

/// An attribute of a seed.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedAttribute {
    /// Fixed ID (a UUID); a random UUID when omitted.
    #[serde(default)]
    pub id: Option<String>,
    /// The key (`^[A-Za-z0-9_-]+$`, unique).
    pub key: String,
    /// The display name.
    pub name: String,
    /// `user` or `event`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl Seed {
    /// A seed with nothing in it: no achievements, metrics or attributes, daily streaks.
    pub fn empty() -> Self {
        Seed::default()
    }

    /// The seed shipped with the crate (`seed/default.json`).
    pub fn default_seed() -> Self {
        // The embedded file is checked by a unit test; fall back to empty rather than panic.
        Seed::from_json(DEFAULT_SEED_JSON).unwrap_or_default()
    }

    /// Parses and validates a seed from JSON text.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let seed: Seed = serde_json::from_str(text).map_err(|e| Error::Seed(format!("invalid seed: {e}")))?;
        seed.validate()?;
        Ok(seed)
    }

    /// Reads, parses and validates a seed file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::Seed(format!("cannot read {}: {e}", path.display())))?;
        Seed::from_json(&text)
    }

    /// Sets the frozen start time of the clock.
    pub fn with_now(mut self, now: DateTime<Utc>) -> Self {
        self.now = Some(now);
        self
    }

    /// Adds an achievement.
    pub fn with_achievement(mut self, achievement: SeedAchievement) -> Self {
        self.achievements.push(achievement);
        self
    }

    /// Adds a metric.
    pub fn with_metric(mut self, key: impl Into<String>, name: impl Into<String>) -> Self {
        self.metrics.push(SeedMetric {
            key: key.into(),
            name: name.into(),
            ..Default::default()
        });
        self
    }

    /// Checks the seed for consistency.
    pub fn validate(&self) -> Result<(), Error> {
        let err = |m: String| Err(Error::Seed(m));
        if Freq::parse(&self.streak.frequency).is_none() {
            return err(format!(
                "streak.frequency must be daily, weekly or monthly, not {:?}",
                self.streak.frequency
            ));
        }
        if self.streak.max_freezes < 0 || self.streak.initial_freezes < 0 {
            return err("streak freezes cannot be negative".into());
        }
        // The documents type these IDs as UUIDs, and the Admin API refuses any other ID (422).
        let fixed = self.achievements.iter().filter_map(|a| a.id.as_deref());
        let fixed = fixed.chain(self.metrics.iter().filter_map(|m| m.id.as_deref()));
        for id in fixed.chain(self.attributes.iter().filter_map(|a| a.id.as_deref())) {
            if uuid::Uuid::parse_str(id).is_err() {
                return err(format!("fixed ID {id:?} is not a UUID"));
            }
        }
        let mut keys = HashSet::new();
        for a in &self.achievements {
            if !valid_key(&a.key) || !keys.insert(a.key.as_str()) {
                return err(format!("achievement key {:?} is invalid or repeated", a.key));
            }
            match a.trigger.as_str() {
                "api" => {}
                "metric" => {
                    if a.metric_key.is_none() || a.metric_value.is_none() {
                        return err(format!(
                            "metric achievement {:?} needs metricKey and metricValue",
                            a.key
                        ));
                    }
                }
                "streak" => {
                    if a.streak_length.is_none_or(|l| l < 1) {
                        return err(format!("streak achievement {:?} needs streakLength >= 1", a.key));
                    }
                }
                "achievement" => {
                    if a.achievement_keys.is_empty() {
                        return err(format!("achievement achievement {:?} needs achievementKeys", a.key));
                    }
                }
                other => return err(format!("achievement {:?} has unknown trigger {other:?}", a.key)),
            }
        }
        for a in &self.achievements {
            for k in &a.achievement_keys {
                if !keys.contains(k.as_str()) {
                    return err(format!("achievement {:?} refers to unknown achievement {k:?}", a.key));
                }
            }
        }
        let mut env_keys = HashSet::new();
        for e in &self.environments {
            if !valid_key(&e.key) || !env_keys.insert(e.key.as_str()) || !(1..=10).contains(&e.priority) {
                return err(format!(
                    "environment {:?} needs a unique valid key and a priority from 1 to 10",
                    e.key
                ));
            }
        }
        let mut mkeys = HashSet::new();
        for m in &self.metrics {
            if !valid_key(&m.key) || !mkeys.insert(m.key.as_str()) {
                return err(format!("metric key {:?} is invalid or repeated", m.key));
            }
            if let Some(t) = &m.unit_type {
                if t != "number" && t != "currency" {
                    return err(format!("metric {:?} has unknown unitType {t:?}", m.key));
                }
            }
        }
        let mut akeys = HashSet::new();
        for a in &self.attributes {
            if !valid_key(&a.key) || !akeys.insert(a.key.as_str()) {
                return err(format!("attribute key {:?} is invalid or repeated", a.key));
            }
            if a.kind != "user" && a.kind != "event" {
                return err(format!("attribute {:?} must have type user or event", a.key));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_seed_is_valid() {
        let seed = Seed::from_json(DEFAULT_SEED_JSON).expect("default seed parses");
        assert!(seed
            .achievements
            .iter()
            .any(|a| a.key == "finish-onboarding" && a.trigger == "api" && a.name == "Finish onboarding"));
    }

    #[test]
    fn invalid_seeds_are_refused() {
        assert!(Seed::from_json(r#"{"streak":{"frequency":"hourly"}}"#).is_err());
        assert!(Seed::from_json(r#"{"achievements":[{"key":"a b","name":"x","trigger":"api"}]}"#).is_err());
        assert!(Seed::from_json(r#"{"achievements":[{"key":"s","name":"x","trigger":"streak"}]}"#).is_err());
        assert!(Seed::from_json(r#"{"unknown":1}"#).is_err());
        let e = Seed::from_json(r#"{"metrics":[{"id":"m1","key":"m","name":"M"}]}"#).unwrap_err();
        assert_eq!(e.to_string(), r#"trophy-emulator: fixed ID "m1" is not a UUID"#);
        let id = "0b6c6f4e-3c2a-4d8e-9f10-2a3b4c5d6e7f";
        assert!(Seed::from_json(&format!(r#"{{"metrics":[{{"id":"{id}","key":"m","name":"M"}}]}}"#)).is_ok());
    }
}
