//! Admin API: Attributes.

use super::{each, paged, strings, with_ids};
use crate::admin_types::{
    AdminAttribute, AttributeType, CreateAttributesResponse, DeleteAttributesResponse, UpdateAttributesResponse,
};
use crate::pagination::{paginate, MAX_PAGE};
use crate::request::{key_charset, non_empty, operation, segment, Api, Call, RequestOptions};
use crate::{Client, Result};
use http::Method;
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
    /// `GET /attributes`: a page of user and event attributes (set
    /// [`limit`](ListAttributes::limit) and [`skip`](ListAttributes::skip)), or all of them with
    /// [`into_stream`](ListAttributes::into_stream).
    pub fn list(&self) -> ListAttributes {
        ListAttributes {
            client: self.client.clone(),
            options: RequestOptions::default(),
            limit: None,
            skip: None,
        }
    }

    /// `POST /attributes`: creates 1 to 100 attributes.
    pub fn create(&self, items: impl IntoIterator<Item = NewAttribute>) -> CreateAttributes {
        CreateAttributes {
            client: self.client.clone(),
            options: RequestOptions::default(),
            items: items.into_iter().collect(),
        }
    }

    /// `GET /attributes/{id}`: one attribute.
    pub fn get(&self, id: impl Into<String>) -> GetAttribute {
        GetAttribute {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into(),
        }
    }

    /// `PATCH /attributes`: renames 1 to 100 attributes (the name is all that can change).
    pub fn update(&self, items: impl IntoIterator<Item = AttributeUpdate>) -> UpdateAttributes {
        UpdateAttributes {
            client: self.client.clone(),
            options: RequestOptions::default(),
            items: items.into_iter().collect(),
        }
    }

    /// `DELETE /attributes`: deletes 1 to 100 attributes by id.
    pub fn delete<I>(&self, ids: I) -> DeleteAttributes
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        DeleteAttributes {
            client: self.client.clone(),
            options: RequestOptions::default(),
            ids: strings(ids),
        }
    }
}

/// One attribute to create: see [`AdminAttributes::create`].
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
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

/// Changes to one attribute: see [`AdminAttributes::update`].
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AttributeUpdate {
    /// The id of the attribute.
    pub id: String,
    /// The new name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl AttributeUpdate {
    /// No changes yet to the attribute `id`.
    pub fn new(id: impl Into<String>) -> Self {
        AttributeUpdate {
            id: id.into(),
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

/// Builder of `GET /attributes` (operation `admin_attributes_list`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct ListAttributes {
    client: Client,
    options: RequestOptions,
    limit: Option<u32>,
    skip: Option<u32>,
}

impl ListAttributes {
    /// The page size, 1 to 100 (Trophy's default is 10).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// How many attributes to skip before the page.
    pub fn skip(mut self, skip: u32) -> Self {
        self.skip = Some(skip);
        self
    }

    /// Every attribute from [`skip`](Self::skip) on, fetched lazily a page at a time (pages of
    /// [`limit`](Self::limit), or 100). Stops after the first error, which it yields.
    pub fn into_stream(self) -> impl futures_core::Stream<Item = Result<AdminAttribute>> + Send {
        let (limit, skip) = (self.limit.unwrap_or(MAX_PAGE), self.skip.unwrap_or(0));
        paginate(limit, skip, move |skip, limit| {
            self.clone().skip(skip).limit(limit).send()
        })
    }

    fn call(&self) -> Result<Call> {
        let call = Call::new(
            Api::Admin,
            "admin_attributes_list",
            Method::GET,
            "/attributes",
            "/attributes".into(),
        );
        paged(call, self.limit, self.skip)
    }
}
operation!(ListAttributes => Vec<AdminAttribute>);

/// Builder of `POST /attributes` (operation `admin_attributes_create`).
///
/// Trophy answers 201 when at least one attribute was created and 200 when none was; both are
/// successes, and [`issues`](CreateAttributesResponse::issues) says what was skipped and why.
/// The status is available through `send_with_response`.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct CreateAttributes {
    client: Client,
    options: RequestOptions,
    items: Vec<NewAttribute>,
}

impl CreateAttributes {
    fn call(&self) -> Result<Call> {
        each("items", &self.items, |field, item| {
            key_charset(&format!("{field}.key"), &item.key)
        })?;
        Call::new(
            Api::Admin,
            "admin_attributes_create",
            Method::POST,
            "/attributes",
            "/attributes".into(),
        )
        .json(&self.items)
    }
}
operation!(CreateAttributes => CreateAttributesResponse);

/// Builder of `GET /attributes/{id}` (operation `admin_attributes_get`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct GetAttribute {
    client: Client,
    options: RequestOptions,
    id: String,
}

impl GetAttribute {
    fn call(&self) -> Result<Call> {
        let path = format!("/attributes/{}", segment("id", &self.id)?);
        Ok(Call::new(
            Api::Admin,
            "admin_attributes_get",
            Method::GET,
            "/attributes/{id}",
            path,
        ))
    }
}
operation!(GetAttribute => AdminAttribute);

/// Builder of `PATCH /attributes` (operation `admin_attributes_update`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct UpdateAttributes {
    client: Client,
    options: RequestOptions,
    items: Vec<AttributeUpdate>,
}

impl UpdateAttributes {
    fn call(&self) -> Result<Call> {
        each("items", &self.items, |field, item| {
            non_empty(&format!("{field}.id"), &item.id)
        })?;
        Call::new(
            Api::Admin,
            "admin_attributes_update",
            Method::PATCH,
            "/attributes",
            "/attributes".into(),
        )
        .json(&self.items)
    }
}
operation!(UpdateAttributes => UpdateAttributesResponse);

/// Builder of `DELETE /attributes` (operation `admin_attributes_delete`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct DeleteAttributes {
    client: Client,
    options: RequestOptions,
    ids: Vec<String>,
}

impl DeleteAttributes {
    fn call(&self) -> Result<Call> {
        let call = Call::new(
            Api::Admin,
            "admin_attributes_delete",
            Method::DELETE,
            "/attributes",
            "/attributes".into(),
        );
        with_ids(call, &self.ids)
    }
}
operation!(DeleteAttributes => DeleteAttributesResponse);
