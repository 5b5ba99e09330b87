//! Runs `trophy-bench smoke`: every benchmark with tiny counts, the canned server and the
//! child processes included, so that `cargo test --workspace` compiles and exercises the
//! bench code. No timing is asserted.

use std::process::Command;

#[test]
fn smoke_mode_runs_every_benchmark() {
    let out = Command::new(env!("CARGO_BIN_EXE_trophy-bench"))
        .arg("smoke")
        .output()
        .expect("trophy-bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "smoke failed\n{stdout}\n{stderr}");
    for expected in [
        "CPU per call, `metrics().event`",
        "CPU per call, `users().get`",
        "CPU per call, `achievements().complete`",
        "Throughput, C=1",
        "Throughput, C=16",
        "Throughput, C=64",
        "Peak RSS (VmHWM)",
        "Decode `LeaderboardResponseWithRankings`",
        "Decode `WrappedResponse`",
        "Decode `EventResponse`",
        "## Build cost",
        "byte-identical (3 operations)",
    ] {
        assert!(stdout.contains(expected), "{expected:?} missing in\n{stdout}");
    }
}

#[test]
fn serve_answers_canned_bodies_until_stdin_closes() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::process::Stdio;

    let mut server = Command::new(env!("CARGO_BIN_EXE_trophy-bench"))
        .args(["serve", "--port", "0", "--exit-on-eof"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("server starts");
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().strip_prefix("listening on ").expect("address").to_string();
    let mut tcp = TcpStream::connect(&addr).unwrap();
    write!(
        tcp,
        "GET /v1/users/user-42 HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.contains(r#""id":"user-42""#), "{response}");
    drop(server.stdin.take());
    assert!(server.wait().unwrap().success());
}
