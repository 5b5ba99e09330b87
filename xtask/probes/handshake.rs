//! The check both probes run (included with `#[path]`).

use std::io::Read;

/// Builds trophy's client and the application's own reqwest client, then checks that the
/// application's client opens a request to an `https` URL with a TLS ClientHello.
pub fn check(app: &str) {
    let trophy = trophy::Client::new("sk_probe").expect("trophy's client builds");
    drop(trophy);
    println!("{app}: trophy::Client built");
    // Panics when reqwest has rustls without a crypto provider (the failure this guards against).
    let client = reqwest::Client::new();
    println!("{app}: reqwest::Client::new() built");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("https://127.0.0.1:{}/", listener.local_addr().unwrap().port());
    let server = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().expect("accept");
        let mut head = [0u8; 6];
        socket.read_exact(&mut head).expect("read the first record");
        head
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let answer = runtime.block_on(client.get(&url).send());
    assert!(answer.is_err(), "the listener never answers TLS");
    let head = server.join().expect("server thread");
    // A TLS handshake record (22), TLS major version 3, then a ClientHello (1).
    assert_eq!((head[0], head[1], head[5]), (22, 3, 1), "{head:?}");
    println!("{app}: reqwest client sent a TLS ClientHello");
}
