//! Admin API: Attributes.

use super::crud::{crud, Check, Scope};
use crate::admin_types::{
    AdminAttribute, AttributeType, CreateAttributesResponse, DeleteAttributesResponse, UpdateAttributesResponse,
};
use crate::request::{key_charset, non_empty};
use crate::{Client, Result};
use serde::Serialize;

/// Admin API: Attributes. Get it with [`Admin::attributes`](super::Admin::attributes).
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// use trophy::admin_types::AttributeType;
/// use trophy::api::admin::attributes::{AttributeUpdate, NewAttribute};
///
/// let attributes = client.admin().attributes();
/// let created = attributes
///     .create([NewAttribute::new("Plan", "plan", AttributeType::User), NewAttribute::new("Device", "device", AttributeType::Event)])
///     .send()
///     .await?;
/// let id = created.created[0].id.to_string();
/// attributes.update([AttributeUpdate::new(&id).name("Subscription plan")]).send().await?;
/// let plan = attributes.get(&id).send().await?;
/// println!("{} ({})", plan.name, plan.type_);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AdminAttributes {
    pub(crate) client: Client,
}

impl AdminAttributes {
    fn scope(&self) -> Scope {
        Scope::top()
    }
}

crud! {
    handle: AdminAttributes,
    what: "attributes",
    ops: [admin_attributes_list, admin_attributes_create, admin_attributes_get, admin_attributes_update, admin_attributes_delete],
        list: ListAttributes => AdminAttribute,
    create: CreateAttributes(NewAttribute) => CreateAttributesResponse,
    get: GetAttribute => AdminAttribute,
    /// The name is all that can change.
    update: UpdateAttributes(AttributeUpdate) => UpdateAttributesResponse,
    delete: DeleteAttributes => DeleteAttributesResponse,
    ensure: EnsureAttribute,
}

/// One attribute to create: see [`AdminAttributes::create`].
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewAttribute {
    /// The display name.
    pub name: String,
    /// The key used in the API: ASCII letters, digits, `-` and `_`.
    pub key: String,
    /// Whether it describes users or events.
    #[serde(rename = "type")]
    pub attribute_type: AttributeType,
}

impl NewAttribute {
    /// A user or event attribute with this name and key.
    pub fn new(name: impl Into<String>, key: impl Into<String>, attribute_type: impl Into<AttributeType>) -> Self {
        NewAttribute {
            name: name.into(),
            key: key.into(),
            attribute_type: attribute_type.into(),
        }
    }
}

impl Check for NewAttribute {
    fn check(&self, at: &str) -> Result<()> {
        key_charset(&format!("{at}.key"), &self.key)
    }
}

/// Changes to one attribute: see [`AdminAttributes::update`].
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AttributeUpdate {
    /// The id of the attribute.
    pub id: String,
    /// The new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl AttributeUpdate {
    /// No changes yet to the attribute `id`.
    pub fn new(id: impl Into<crate::Id>) -> Self {
        AttributeUpdate {
            id: id.into().into_string(),
            name: None,
        }
    }

    /// Sets the name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

impl Check for AttributeUpdate {
    fn check(&self, at: &str) -> Result<()> {
        non_empty(&format!("{at}.id"), &self.id)
    }
}
