//! reqwest's defaults plus trophy's defaults: both clients build and speak TLS (and `cargo tree`
//! shows one crypto provider, checked by xtask/tests/tls_defaults.rs).

#[path = "../../handshake.rs"]
mod handshake;

fn main() {
    handshake::check("reqwest-defaults");
}
