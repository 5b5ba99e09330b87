//! Admin API: Tenants.

use super::{each, paged, strings, with_ids};
use crate::admin_types::{AdminTenant, CreateTenantsResponse, DeleteTenantsResponse, UpdateTenantsResponse};
use crate::pagination::{paginate, MAX_PAGE};
use crate::request::{non_empty, operation, segment, Api, Call, RequestOptions};
use crate::{Client, Result};
use http::Method;
use serde::Serialize;

/// Admin API: Tenants. Get it with [`Admin::tenants`](super::Admin::tenants).
///
/// Tenants belong to the organisation, not to a tenant: these calls need no `Tenant-ID`.
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// use trophy::api::admin::tenants::{NewTenant, TenantUpdate};
///
/// let tenants = client.admin().tenants();
/// let created = tenants.create([NewTenant::new("acme", "Acme Ltd")]).send().await?;
/// let id = created.created[0].id.to_string();
/// tenants.update([TenantUpdate::new(&id).name("Acme Limited")]).send().await?;
/// // The tenant's customer id then selects it on other calls:
/// let metrics = client.admin().metrics().list().tenant_id("acme").send().await?;
/// println!("Acme has {} metrics", metrics.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AdminTenants {
    pub(crate) client: Client,
}

impl AdminTenants {
    /// `GET /tenants`: a page of tenants (set [`limit`](ListTenants::limit) and
    /// [`skip`](ListTenants::skip)), or all of them with [`into_stream`](ListTenants::into_stream).
    pub fn list(&self) -> ListTenants {
        ListTenants {
            client: self.client.clone(),
            options: RequestOptions::default(),
            limit: None,
            skip: None,
        }
    }

    /// `POST /tenants`: creates 1 to 100 tenants.
    pub fn create(&self, items: impl IntoIterator<Item = NewTenant>) -> CreateTenants {
        CreateTenants {
            client: self.client.clone(),
            options: RequestOptions::default(),
            items: items.into_iter().collect(),
        }
    }

    /// `GET /tenants/{id}`: one tenant, by Trophy's id (not the customer id).
    pub fn get(&self, id: impl Into<String>) -> GetTenant {
        GetTenant {
            client: self.client.clone(),
            options: RequestOptions::default(),
            id: id.into(),
        }
    }

    /// `PATCH /tenants`: updates 1 to 100 tenants; fields you do not set are left unchanged.
    pub fn update(&self, items: impl IntoIterator<Item = TenantUpdate>) -> UpdateTenants {
        UpdateTenants {
            client: self.client.clone(),
            options: RequestOptions::default(),
            items: items.into_iter().collect(),
        }
    }

    /// `DELETE /tenants`: deletes 1 to 100 tenants by Trophy's id.
    pub fn delete<I>(&self, ids: I) -> DeleteTenants
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        DeleteTenants {
            client: self.client.clone(),
            options: RequestOptions::default(),
            ids: strings(ids),
        }
    }
}

/// One tenant to create: see [`AdminTenants::create`].
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewTenant {
    /// Your id of the tenant, sent later as the `Tenant-ID` header (at most 255 characters).
    pub customer_id: String,
    /// The tenant's name (at most 255 characters).
    pub name: String,
}

impl NewTenant {
    /// A tenant with your id `customer_id` and this name.
    pub fn new(customer_id: impl Into<String>, name: impl Into<String>) -> Self {
        NewTenant {
            customer_id: customer_id.into(),
            name: name.into(),
        }
    }
}

/// Changes to one tenant: see [`AdminTenants::update`].
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TenantUpdate {
    /// Trophy's id of the tenant.
    pub id: String,
    /// The new customer id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The new name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl TenantUpdate {
    /// No changes yet to the tenant `id` (Trophy's id).
    pub fn new(id: impl Into<String>) -> Self {
        TenantUpdate {
            id: id.into(),
            customer_id: None,
            name: None,
        }
    }

    /// Sets the customer id.
    #[must_use]
    pub fn customer_id(mut self, customer_id: impl Into<String>) -> Self {
        self.customer_id = Some(customer_id.into());
        self
    }

    /// Sets the name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// Builder of `GET /tenants` (operation `admin_tenants_list`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct ListTenants {
    client: Client,
    options: RequestOptions,
    limit: Option<u32>,
    skip: Option<u32>,
}

impl ListTenants {
    /// The page size, 1 to 100 (Trophy's default is 10).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// How many tenants to skip before the page.
    pub fn skip(mut self, skip: u32) -> Self {
        self.skip = Some(skip);
        self
    }

    /// Every tenant from [`skip`](Self::skip) on, fetched lazily a page at a time (pages of
    /// [`limit`](Self::limit), or 100). Stops after the first error, which it yields.
    pub fn into_stream(self) -> impl futures_core::Stream<Item = Result<AdminTenant>> + Send {
        let (limit, skip) = (self.limit.unwrap_or(MAX_PAGE), self.skip.unwrap_or(0));
        paginate(limit, skip, move |skip, limit| {
            self.clone().skip(skip).limit(limit).send()
        })
    }

    fn call(&self) -> Result<Call> {
        paged(
            Call::new(
                Api::Admin,
                "admin_tenants_list",
                Method::GET,
                "/tenants",
                "/tenants".into(),
            ),
            self.limit,
            self.skip,
        )
    }
}
operation!(ListTenants => Vec<AdminTenant>);

/// Builder of `POST /tenants` (operation `admin_tenants_create`).
///
/// Trophy answers 201 when at least one tenant was created and 200 when none was; both are
/// successes, and [`issues`](CreateTenantsResponse::issues) says what was skipped and why. The
/// status is available through `send_with_response`.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct CreateTenants {
    client: Client,
    options: RequestOptions,
    items: Vec<NewTenant>,
}

impl CreateTenants {
    fn call(&self) -> Result<Call> {
        each("items", &self.items, |field, item| {
            non_empty(&format!("{field}.customer_id"), &item.customer_id)
        })?;
        Call::new(
            Api::Admin,
            "admin_tenants_create",
            Method::POST,
            "/tenants",
            "/tenants".into(),
        )
        .json(&self.items)
    }
}
operation!(CreateTenants => CreateTenantsResponse);

/// Builder of `GET /tenants/{id}` (operation `admin_tenants_get`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct GetTenant {
    client: Client,
    options: RequestOptions,
    id: String,
}

impl GetTenant {
    fn call(&self) -> Result<Call> {
        let path = format!("/tenants/{}", segment("id", &self.id)?);
        Ok(Call::new(
            Api::Admin,
            "admin_tenants_get",
            Method::GET,
            "/tenants/{id}",
            path,
        ))
    }
}
operation!(GetTenant => AdminTenant);

/// Builder of `PATCH /tenants` (operation `admin_tenants_update`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct UpdateTenants {
    client: Client,
    options: RequestOptions,
    items: Vec<TenantUpdate>,
}

impl UpdateTenants {
    fn call(&self) -> Result<Call> {
        each("items", &self.items, |field, item| {
            non_empty(&format!("{field}.id"), &item.id)?;
            match &item.customer_id {
                Some(customer_id) => non_empty(&format!("{field}.customer_id"), customer_id),
                None => Ok(()),
            }
        })?;
        Call::new(
            Api::Admin,
            "admin_tenants_update",
            Method::PATCH,
            "/tenants",
            "/tenants".into(),
        )
        .json(&self.items)
    }
}
operation!(UpdateTenants => UpdateTenantsResponse);

/// Builder of `DELETE /tenants` (operation `admin_tenants_delete`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct DeleteTenants {
    client: Client,
    options: RequestOptions,
    ids: Vec<String>,
}

impl DeleteTenants {
    fn call(&self) -> Result<Call> {
        with_ids(
            Call::new(
                Api::Admin,
                "admin_tenants_delete",
                Method::DELETE,
                "/tenants",
                "/tenants".into(),
            ),
            &self.ids,
        )
    }
}
operation!(DeleteTenants => DeleteTenantsResponse);
