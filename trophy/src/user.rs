//! The user sent in requests.

use crate::error::Result;
use crate::field::Field;
use crate::request::non_empty;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// A user as sent to Trophy: the id plus whichever fields you set. Fields you do not set are
/// not sent, so Trophy keeps what it has (a user built without `subscribe_to_emails` never
/// re-subscribes someone who opted out).
///
/// Used by metric events, achievement completion and user creation, which create the user
/// when Trophy does not know it yet and update the fields you set otherwise.
///
/// ```no_run
/// let user = trophy::UserInput::new("user-id")
///     .email("user@example.com")
///     .tz("Europe/London")
///     .attribute("plan", "pro");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserInput {
    /// Your id of the user.
    pub id: String,
    /// The user's fields to set or clear.
    #[serde(flatten)]
    pub fields: UserUpdate,
}

impl UserInput {
    /// A user with this id and nothing else set.
    pub fn new(id: impl Into<crate::Id>) -> Self {
        UserInput {
            id: id.into().into_string(),
            fields: UserUpdate::default(),
        }
    }

    /// Sets the email address.
    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.fields = self.fields.email(email);
        self
    }

    /// Sets the display name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.fields = self.fields.name(name);
        self
    }

    /// Sets the IANA time zone, e.g. `Europe/London`.
    #[must_use]
    pub fn tz(mut self, tz: impl Into<String>) -> Self {
        self.fields = self.fields.tz(tz);
        self
    }

    /// Clears the time zone (sends `null`).
    #[must_use]
    pub fn clear_tz(mut self) -> Self {
        self.fields = self.fields.clear_tz();
        self
    }

    /// Sets the push device tokens.
    #[must_use]
    pub fn device_tokens<I, S>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields = self.fields.device_tokens(tokens);
        self
    }

    /// Clears the device tokens (sends `null`).
    #[must_use]
    pub fn clear_device_tokens(mut self) -> Self {
        self.fields = self.fields.clear_device_tokens();
        self
    }

    /// Sets whether Trophy may email the user.
    #[must_use]
    pub fn subscribe_to_emails(mut self, subscribe: bool) -> Self {
        self.fields = self.fields.subscribe_to_emails(subscribe);
        self
    }

    /// Sets one user attribute (its key must exist in Trophy).
    #[must_use]
    pub fn attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields = self.fields.attribute(key, value);
        self
    }

    /// Sets the day the user signed up to your product (anniversary achievements count from it).
    #[must_use]
    pub fn sign_up_date(mut self, date: NaiveDate) -> Self {
        self.fields = self.fields.sign_up_date(date);
        self
    }

    pub(crate) fn check(&self, field: &str) -> Result<()> {
        non_empty(&format!("{field}.id"), &self.id)
    }
}

impl From<&str> for UserInput {
    fn from(id: &str) -> Self {
        UserInput::new(id)
    }
}

impl From<String> for UserInput {
    fn from(id: String) -> Self {
        UserInput::new(id)
    }
}

impl From<&String> for UserInput {
    fn from(id: &String) -> Self {
        UserInput::new(id)
    }
}

impl From<crate::Id> for UserInput {
    fn from(id: crate::Id) -> Self {
        UserInput::new(id)
    }
}

impl From<uuid::Uuid> for UserInput {
    fn from(id: uuid::Uuid) -> Self {
        UserInput::new(id)
    }
}

/// Changes to a user's fields: each one set, cleared (where Trophy allows) or left alone.
///
/// ```no_run
/// let changes = trophy::UserUpdate::new().name("Ada").clear_tz();
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserUpdate {
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// IANA time zone; can be cleared.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub tz: Field<String>,
    /// Push device tokens; can be cleared.
    #[serde(default, skip_serializing_if = "Field::is_unset")]
    pub device_tokens: Field<Vec<String>>,
    /// Whether Trophy may email the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe_to_emails: Option<bool>,
    /// User attributes by key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, String>>,
    /// The day the user signed up to your product; Trophy cannot clear it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_up_date: Option<NaiveDate>,
}

impl UserUpdate {
    /// No changes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the email address.
    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the display name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the IANA time zone.
    #[must_use]
    pub fn tz(mut self, tz: impl Into<String>) -> Self {
        self.tz = Field::Set(tz.into());
        self
    }

    /// Clears the time zone (sends `null`).
    #[must_use]
    pub fn clear_tz(mut self) -> Self {
        self.tz = Field::Null;
        self
    }

    /// Sets the push device tokens (an empty list is sent as `[]`).
    #[must_use]
    pub fn device_tokens<I, S>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.device_tokens = Field::Set(tokens.into_iter().map(Into::into).collect());
        self
    }

    /// Clears the device tokens (sends `null`).
    #[must_use]
    pub fn clear_device_tokens(mut self) -> Self {
        self.device_tokens = Field::Null;
        self
    }

    /// Sets whether Trophy may email the user.
    #[must_use]
    pub fn subscribe_to_emails(mut self, subscribe: bool) -> Self {
        self.subscribe_to_emails = Some(subscribe);
        self
    }

    /// Sets one user attribute.
    #[must_use]
    pub fn attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes
            .get_or_insert_with(BTreeMap::new)
            .insert(key.into(), value.into());
        self
    }

    /// Sets the day the user signed up to your product (sent as `YYYY-MM-DD`); anniversary
    /// achievements count from it.
    #[must_use]
    pub fn sign_up_date(mut self, date: NaiveDate) -> Self {
        self.sign_up_date = Some(date);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_was_set_is_sent() {
        let u = UserInput::new("user-id").email("user@example.com").tz("Europe/London");
        assert_eq!(
            serde_json::to_value(&u).unwrap(),
            serde_json::json!({"id": "user-id", "email": "user@example.com", "tz": "Europe/London"})
        );
        assert_eq!(serde_json::to_string(&UserInput::new("u")).unwrap(), r#"{"id":"u"}"#);
    }

    #[test]
    fn request_users_round_trip_through_serde() {
        let u = UserInput::new("u").email("e@x.io").clear_tz().attribute("plan", "pro");
        let json = serde_json::to_string(&u).unwrap();
        let back: UserInput = serde_json::from_str(&json).unwrap();
        assert_eq!(back, u);
        assert_eq!(back.fields.tz, Field::Null);
        assert_eq!(back.fields.device_tokens, Field::Unset);
    }

    #[test]
    fn clearing_sends_null_and_empty_lists_survive() {
        let u = UserUpdate::new()
            .clear_tz()
            .device_tokens(Vec::<String>::new())
            .subscribe_to_emails(false);
        assert_eq!(
            serde_json::to_value(&u).unwrap(),
            serde_json::json!({"tz": null, "deviceTokens": [], "subscribeToEmails": false})
        );
        let u = UserUpdate::new().clear_device_tokens().attribute("plan", "pro");
        assert_eq!(
            serde_json::to_value(&u).unwrap(),
            serde_json::json!({"deviceTokens": null, "attributes": {"plan": "pro"}})
        );
    }
}
