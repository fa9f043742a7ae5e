//! The first contact with an engine socket: can conlink connect, and which API
//! version does the engine speak?
//!
//! Done with one plain HTTP/1.0 request on a std socket before the client is built,
//! for two reasons. Connection failures become precise errors (no socket, permission
//! denied, nothing listening) instead of a transport error on the first real request.
//! And the version is asked *without* an API version in the path: engines refuse
//! versioned requests newer than they speak (Docker 20.10: "client version 1.53 is
//! too new") and, lately, older than they accept, so the client's version is chosen
//! from this answer.

use super::error::EngineError;
use super::socket::SocketChoice;
use bollard::models::SystemVersion;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// How long the probe waits for the engine's answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to the socket and reads the engine's `/version` answer.
pub fn probe(socket: &SocketChoice) -> Result<SystemVersion, EngineError> {
    let mut stream = connect(socket)?;
    let what = format!(
        "asking {} at {} for its version",
        socket.engine,
        socket.path.display()
    );
    let transport = |e: io::Error| EngineError::Transport {
        what: what.clone(),
        message: e.to_string(),
    };
    stream
        .set_read_timeout(Some(PROBE_TIMEOUT))
        .map_err(transport)?;
    stream
        .set_write_timeout(Some(PROBE_TIMEOUT))
        .map_err(transport)?;
    // HTTP/1.0: the engine answers with a plain body and closes the connection.
    stream
        .write_all(b"GET /version HTTP/1.0\r\nHost: engine\r\n\r\n")
        .map_err(transport)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(transport)?;
    parse_answer(&answer).map_err(|message| EngineError::Transport {
        what: what.clone(),
        message,
    })
}

/// Opens the socket, turning the usual failures into errors that say what to do.
fn connect(socket: &SocketChoice) -> Result<UnixStream, EngineError> {
    UnixStream::connect(&socket.path).map_err(|e| connect_error(socket, e))
}

fn connect_error(socket: &SocketChoice, e: io::Error) -> EngineError {
    match e.kind() {
        io::ErrorKind::NotFound => EngineError::SocketMissing {
            tried: vec![socket.clone()],
        },
        io::ErrorKind::PermissionDenied => EngineError::PermissionDenied {
            engine: socket.engine.name(),
            path: socket.path.clone(),
            origin: socket.origin.to_string(),
        },
        _ => EngineError::NotAnswering {
            engine: socket.engine.name(),
            path: socket.path.clone(),
            origin: socket.origin.to_string(),
            source: e,
        },
    }
}

/// The version from a raw HTTP answer: status 200 and a JSON body.
fn parse_answer(answer: &[u8]) -> Result<SystemVersion, String> {
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the answer is not HTTP")?;
    let head = String::from_utf8_lossy(&answer[..split]);
    let body = &answer[split + 4..];
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or("the answer has no HTTP status")?;
    if status != 200 {
        return Err(format!(
            "status {status}: {}",
            String::from_utf8_lossy(body).trim()
        ));
    }
    serde_json::from_slice(body).map_err(|e| format!("unreadable version answer: {e}"))
}

/// The API version to speak: the engine's own, but never newer than what the
/// client's models describe.
pub fn client_version(engine_api: &str, newest: &bollard::ClientVersion) -> bollard::ClientVersion {
    let parsed = engine_api.split_once('.').and_then(|(major, minor)| {
        Some(bollard::ClientVersion {
            major_version: major.parse().ok()?,
            minor_version: minor.parse().ok()?,
        })
    });
    match parsed {
        Some(v) if v < *newest => v,
        _ => *newest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::socket::{EngineKind, Origin};
    use std::path::PathBuf;

    #[test]
    fn answer_with_status_and_json() {
        let ok = b"HTTP/1.0 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n\r\n{\"Version\":\"20.10.24\",\"ApiVersion\":\"1.41\",\"MinAPIVersion\":\"1.12\"}";
        let v = parse_answer(ok).unwrap();
        assert_eq!(v.api_version.as_deref(), Some("1.41"));
        let refused = b"HTTP/1.0 400 Bad Request\r\n\r\n{\"message\":\"nope\"}";
        assert!(parse_answer(refused).unwrap_err().contains("400"));
        assert!(parse_answer(b"garbage").is_err());
    }

    #[test]
    fn client_version_is_the_older_of_the_two() {
        let newest = bollard::ClientVersion {
            major_version: 1,
            minor_version: 53,
        };
        let v = client_version("1.41", &newest);
        assert_eq!((v.major_version, v.minor_version), (1, 41));
        let v = client_version("1.99", &newest);
        assert_eq!((v.major_version, v.minor_version), (1, 53));
        let v = client_version("junk", &newest);
        assert_eq!((v.major_version, v.minor_version), (1, 53));
    }

    #[test]
    fn connect_errors_name_the_socket_and_the_remedy() {
        let dir = std::env::temp_dir().join(crate::testing::unique("conlink-probe-"));
        std::fs::create_dir(&dir).unwrap();
        let choice = |path: PathBuf| SocketChoice {
            engine: EngineKind::Docker,
            path,
            origin: Origin::Option("--engine-socket"),
        };

        let missing = probe(&choice(dir.join("absent.sock"))).unwrap_err();
        assert!(
            matches!(missing, EngineError::SocketMissing { .. }),
            "{missing}"
        );
        assert!(missing
            .to_string()
            .contains("absent.sock (Docker, from --engine-socket)"));

        // A socket file nobody listens on any more: connection refused.
        let stale = dir.join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
        let refused = probe(&choice(stale)).unwrap_err();
        assert!(
            matches!(refused, EngineError::NotAnswering { .. }),
            "{refused}"
        );
        assert!(refused.to_string().contains("is the engine running?"));

        // Root is never refused by file permissions, so this one is checked on the
        // mapping alone.
        let denied = connect_error(
            &choice(dir.join("x.sock")),
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert!(
            matches!(denied, EngineError::PermissionDenied { .. }),
            "{denied}"
        );
        assert!(
            denied.to_string().contains("x.sock (from --engine-socket)"),
            "{denied}"
        );

        std::fs::remove_dir_all(&dir).unwrap();
    }
}
