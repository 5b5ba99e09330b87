//! Checks that the SDK and the raw path put the same bytes on the wire: a bare TCP listener
//! records each request exactly as received, then answers it with the canned body.

use crate::canned;
use crate::ops::{BoxError, Mode, Op, Target, UserLayout};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// The request of `op` as each mode sends it, byte for byte, with the value of
/// `idempotency-key` replaced by `<uuid-v4>` after checking it is one.
pub struct Captured {
    pub op: Op,
    pub sdk: Vec<u8>,
    pub raw: Vec<u8>,
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                buf.truncate(end + 4 + len);
                return Ok(buf);
            }
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn canned_answer(request: &[u8]) -> Vec<u8> {
    let line = String::from_utf8_lossy(&request[..find(request, b"\r\n").unwrap_or(0)]).to_string();
    let (status, body) = if line.contains("/event ") {
        ("201 Created", canned::event())
    } else if line.contains("/complete ") {
        ("201 Created", canned::completion())
    } else {
        ("200 OK", canned::user())
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

/// Replaces the idempotency key's value by a placeholder, after checking it is a UUID v4.
fn mask_idempotency_key(request: &[u8]) -> Result<Vec<u8>, BoxError> {
    const NAME: &[u8] = b"\r\nidempotency-key: ";
    let Some(at) = find(request, NAME) else {
        return Ok(request.to_vec());
    };
    let start = at + NAME.len();
    let value = request.get(start..start + 36).ok_or("short idempotency-key")?;
    let parsed = uuid::Uuid::try_parse_ascii(value).map_err(|e| format!("idempotency-key: {e}"))?;
    if parsed.get_version_num() != 4 || request.get(start + 36..start + 38) != Some(b"\r\n") {
        return Err("idempotency-key is not a UUID v4".into());
    }
    let mut out = request[..start].to_vec();
    out.extend_from_slice(b"<uuid-v4>");
    out.extend_from_slice(&request[start + 36..]);
    Ok(out)
}

/// A bare listener that records every request (sent to the returned channel) and answers it
/// with the canned body, keeping connections alive like the canned server.
async fn capture_server() -> Result<(String, mpsc::UnboundedReceiver<Vec<u8>>, tokio::task::JoinHandle<()>), BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/v1", listener.local_addr()?);
    let (tx, rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let server = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                while let Ok(request) = read_request(&mut stream).await {
                    if request.is_empty() {
                        break;
                    }
                    let _ = tx.send(request.clone());
                    if stream.write_all(&canned_answer(&request)).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    Ok((base, rx, server))
}

/// Reads off the SDK's own completion request how it lays out the user.
pub async fn detect_layout() -> Result<UserLayout, BoxError> {
    let (base, mut rx, server) = capture_server().await?;
    let sdk = Target::new(Mode::Sdk, &base, UserLayout::Declared)?;
    sdk.call(Op::Complete).await?;
    let request = rx.recv().await.ok_or("capture server stopped")?;
    server.abort();
    let body = &request[find(&request, b"\r\n\r\n").ok_or("no body")? + 4..];
    if body.starts_with(br#"{"user":{"id":"#) {
        Ok(UserLayout::Declared)
    } else if body.starts_with(br#"{"user":{"email":"#) {
        Ok(UserLayout::Sorted)
    } else {
        Err(format!("unexpected completion body {}", String::from_utf8_lossy(body)).into())
    }
}

/// Sends each operation once through each mode and returns what the server received.
pub async fn capture(layout: UserLayout) -> Result<Vec<Captured>, BoxError> {
    let (base, mut rx, server) = capture_server().await?;
    let sdk = Target::new(Mode::Sdk, &base, layout)?;
    let raw = Target::new(Mode::Raw, &base, layout)?;
    let mut out = Vec::new();
    for op in Op::ALL {
        sdk.call(op)
            .await
            .map_err(|e| format!("{} through the SDK: {e}", op.name()))?;
        let s = rx.recv().await.ok_or("capture server stopped")?;
        raw.call(op).await.map_err(|e| format!("{} raw: {e}", op.name()))?;
        let r = rx.recv().await.ok_or("capture server stopped")?;
        if let Ok(extra) = rx.try_recv() {
            return Err(format!(
                "{}: one request more than calls:\n{}",
                op.name(),
                String::from_utf8_lossy(&extra)
            )
            .into());
        }
        out.push(Captured {
            op,
            sdk: mask_idempotency_key(&s)?,
            raw: mask_idempotency_key(&r)?,
        });
    }
    server.abort();
    Ok(out)
}

/// Fails unless every operation's SDK and raw requests are byte-identical (idempotency key
/// masked) and the event requests carry an idempotency key.
pub async fn check_identical(layout: UserLayout) -> Result<Vec<Captured>, BoxError> {
    let captured = capture(layout).await?;
    for c in &captured {
        if c.sdk != c.raw {
            return Err(format!(
                "{}: requests differ\n--- sdk\n{}\n--- raw\n{}",
                c.op.name(),
                String::from_utf8_lossy(&c.sdk),
                String::from_utf8_lossy(&c.raw)
            )
            .into());
        }
        let has_key = find(&c.sdk, b"\r\nidempotency-key: <uuid-v4>\r\n").is_some();
        if has_key != (c.op == Op::Event) {
            return Err(format!("{}: idempotency-key present = {has_key}", c.op.name()).into());
        }
    }
    Ok(captured)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn sdk_and_raw_requests_are_byte_identical() {
        let layout = detect_layout().await.unwrap_or_else(|e| panic!("{e}"));
        let captured = check_identical(layout).await.unwrap_or_else(|e| panic!("{e}"));
        let event = String::from_utf8_lossy(&captured[0].sdk).to_string();
        assert!(
            event.starts_with("POST /v1/metrics/words-written/event HTTP/1.1\r\n"),
            "{event}"
        );
        for header in [
            "x-api-key: ",
            "x-sdk-version: ",
            "user-agent: trophy-rs/",
            "accept: application/json",
            "content-type: application/json",
        ] {
            assert!(event.contains(header), "{header} missing in\n{event}");
        }
        assert!(event
            .ends_with(r#"{"user":{"id":"user-42","email":"ada@example.com","tz":"Europe/London"},"value":750.0}"#));
        let get = String::from_utf8_lossy(&captured[1].sdk).to_string();
        assert!(get.starts_with("GET /v1/users/user-42 HTTP/1.1\r\n"), "{get}");
    }

    #[test]
    fn masking_checks_the_uuid() {
        let ok = b"POST / HTTP/1.1\r\nidempotency-key: 3f2b8c1e-9d4a-4f6b-8e2c-1a7d5b9c0e3f\r\nx: y\r\n\r\n";
        let masked = mask_idempotency_key(ok).unwrap();
        assert_eq!(masked, b"POST / HTTP/1.1\r\nidempotency-key: <uuid-v4>\r\nx: y\r\n\r\n");
        let v1 = b"POST / HTTP/1.1\r\nidempotency-key: 3f2b8c1e-9d4a-1f6b-8e2c-1a7d5b9c0e3f\r\n\r\n";
        assert!(mask_idempotency_key(v1).is_err());
    }
}
