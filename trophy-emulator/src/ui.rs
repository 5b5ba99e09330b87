//! The inspector's HTML pages.

use axum::Router;

use crate::state::SharedState;

pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
}
