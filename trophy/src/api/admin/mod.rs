//! The Admin API: configuration of metrics, attributes, points, leaderboards, streaks, tenants
//! and application API keys, plus batch events. Get it with [`Client::admin`](crate::Client::admin).
//!
//! Every Admin call needs an admin API key: an application key (prefix `app_`) is refused before
//! anything is sent.

pub mod application_api_keys;
pub mod attributes;
pub mod events;
pub mod leaderboards;
pub mod metrics;
pub mod points;
pub mod streaks;
pub mod tenants;

use crate::Client;

/// The Admin API's resources.
#[derive(Debug, Clone)]
pub struct Admin {
    pub(crate) client: Client,
}

impl Admin {
    /// Metrics: create, list, get, update, delete.
    pub fn metrics(&self) -> metrics::AdminMetrics {
        metrics::AdminMetrics { client: self.client.clone() }
    }

    /// User and event attributes.
    pub fn attributes(&self) -> attributes::AdminAttributes {
        attributes::AdminAttributes { client: self.client.clone() }
    }

    /// Points systems, and their boosts, levels and triggers.
    pub fn points(&self) -> points::AdminPoints {
        points::AdminPoints { client: self.client.clone() }
    }

    /// Leaderboards.
    pub fn leaderboards(&self) -> leaderboards::AdminLeaderboards {
        leaderboards::AdminLeaderboards { client: self.client.clone() }
    }

    /// Streak freezes, pauses and restores.
    pub fn streaks(&self) -> streaks::AdminStreaks {
        streaks::AdminStreaks { client: self.client.clone() }
    }

    /// Batch metric events.
    pub fn events(&self) -> events::AdminEvents {
        events::AdminEvents { client: self.client.clone() }
    }

    /// Application API keys (keys that act for one user).
    pub fn application_api_keys(&self) -> application_api_keys::AdminApplicationApiKeys {
        application_api_keys::AdminApplicationApiKeys { client: self.client.clone() }
    }

    /// Tenants of a multi-tenant organisation.
    pub fn tenants(&self) -> tenants::AdminTenants {
        tenants::AdminTenants { client: self.client.clone() }
    }
}
