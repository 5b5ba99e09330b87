//! reqwest with `default-features = false` plus trophy's defaults: the application's own client
//! builds and speaks TLS.

#[path = "../../handshake.rs"]
mod handshake;

fn main() {
    handshake::check("reqwest-without-tls");
}
