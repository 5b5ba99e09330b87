//! Admin API: Tenants.

use super::crud::{crud, Check, Scope};
use crate::admin_types::{AdminTenant, CreateTenantsResponse, DeleteTenantsResponse, UpdateTenantsResponse};
use crate::request::non_empty;
use crate::{Client, Result};
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
/// let created = tenants.create([NewTenant::new("Acme Ltd").customer_id("acme")]).send().await?;
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
    fn scope(&self) -> Scope {
        Scope::top()
    }
}

crud! {
    handle: AdminTenants,
    what: "tenants",
    ops: [admin_tenants_list, admin_tenants_create, admin_tenants_get, admin_tenants_update, admin_tenants_delete],
        list: ListTenants => AdminTenant,
    create: CreateTenants(NewTenant) => CreateTenantsResponse,
    /// The id is Trophy's, not the customer id.
    get: GetTenant => AdminTenant,
    update: UpdateTenants(TenantUpdate) => UpdateTenantsResponse,
    /// The ids are Trophy's, not the customer ids.
    delete: DeleteTenants => DeleteTenantsResponse,
}

/// One tenant to create: see [`AdminTenants::create`].
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewTenant {
    /// Your id of the tenant, sent later as the `Tenant-ID` header (at most 255 characters).
    pub customer_id: String,
    /// The tenant's name (at most 255 characters).
    pub name: String,
}

impl NewTenant {
    /// A tenant named `name`; set your id for it with [`customer_id`](Self::customer_id),
    /// which Trophy requires (a tenant sent without one is refused before sending).
    ///
    /// The customer id is a setter, not a second positional string: the constructor once took
    /// `(customer_id, name)`, and two strings side by side would compile either way round.
    pub fn new(name: impl Into<String>) -> Self {
        NewTenant {
            customer_id: String::new(),
            name: name.into(),
        }
    }

    /// Sets your id of the tenant, later sent as the `Tenant-ID` header (required).
    #[must_use]
    pub fn customer_id(mut self, customer_id: impl Into<crate::Id>) -> Self {
        self.customer_id = customer_id.into().into_string();
        self
    }
}

impl Check for NewTenant {
    fn check(&self, at: &str) -> Result<()> {
        non_empty(&format!("{at}.customer_id"), &self.customer_id)
    }
}

/// Changes to one tenant: see [`AdminTenants::update`].
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TenantUpdate {
    /// Trophy's id of the tenant.
    pub id: String,
    /// The new customer id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl TenantUpdate {
    /// No changes yet to the tenant `id` (Trophy's id).
    pub fn new(id: impl Into<crate::Id>) -> Self {
        TenantUpdate {
            id: id.into().into_string(),
            customer_id: None,
            name: None,
        }
    }

    /// Sets the customer id.
    #[must_use]
    pub fn customer_id(mut self, customer_id: impl Into<crate::Id>) -> Self {
        self.customer_id = Some(customer_id.into().into_string());
        self
    }

    /// Sets the name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

impl Check for TenantUpdate {
    fn check(&self, at: &str) -> Result<()> {
        non_empty(&format!("{at}.id"), &self.id)?;
        match &self.customer_id {
            Some(customer_id) => non_empty(&format!("{at}.customer_id"), customer_id),
            None => Ok(()),
        }
    }
}
