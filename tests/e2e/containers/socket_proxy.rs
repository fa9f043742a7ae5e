//! conlink through a filtering socket proxy that allows exactly the Engine API calls
//! docs/security.md lists ("Engine API calls"), as its readers are told to set one
//! up: the list is read from that page's table, so the page is what is checked.
//!
//! The proxy is written here: a unix listener, a thread per connection, each
//! request's line and headers read and matched against the list, then the request
//! passed to the lab's dockerd byte for byte (its body by `Content-Length` or chunk
//! by chunk) and the answers passed back as they come (the event stream, an exec's
//! upgraded connection). A request off the list gets `403 Forbidden` and the
//! connection is closed; every request is recorded, refused or not.
//!
//! `conlink run -n` on the host, with `--engine-socket` at the proxy: containers
//! wired, a `commands` entry run through the engine's exec, a container restarted
//! and wired again from the events, SIGTERM; it all works and the proxy refused
//! nothing. Then with exec taken off the list: the command fails with an error that
//! names the refused call and the 403.

use super::lab::{Lab, Running};
use nix::sys::signal::Signal;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

// ---------------------------------------------------------------------------------
// The allowed list, from docs/security.md.

/// One part of a path in the list: written as is, or `{id}` (any one part).
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Id,
}

/// One row of the table: a method, a path, and the query parameters it may carry,
/// each with the value written for it: `…` (any), a JSON object (the keys it may
/// have: `filters={"label":[…]}`), or the one value allowed (`size=false`).
#[derive(Debug, Clone)]
struct Rule {
    /// The row as written, for messages.
    written: String,
    method: String,
    path: Vec<Part>,
    params: Vec<(String, String)>,
}

/// The rows of the table under "## Engine API calls": the first cell of each, in
/// backticks (`GET /v{v}/events?filters={"type":["container"]}&since=…[&until=…]`).
fn documented_rules() -> Vec<Rule> {
    let doc = std::fs::read_to_string(crate::util::root().join("docs/security.md")).unwrap();
    let section = doc
        .split("\n## ")
        .find(|s| s.starts_with("Engine API calls"))
        .expect("docs/security.md has a section \"Engine API calls\"");
    let rules: Vec<Rule> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .map(|l| parse_rule(&l[..l.find('`').expect("a closing backtick")]))
        .collect();
    assert!(
        rules.len() >= 5,
        "the table of docs/security.md lists {} calls",
        rules.len()
    );
    rules
}

fn parse_rule(written: &str) -> Rule {
    let (method, target) = written.split_once(' ').expect("METHOD PATH");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = path
        .split('/')
        .skip(1)
        .map(|p| match p {
            "{id}" => Part::Id,
            other => Part::Literal(other.to_string()),
        })
        .collect();
    // `a=…&b={"k":[…]}[&c=…]`: the brackets mark optional parameters.
    let params = query
        .replace(['[', ']'], "")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            (name.to_string(), value.to_string())
        })
        .collect();
    Rule {
        written: written.to_string(),
        method: method.to_string(),
        path,
        params,
    }
}

/// The keys of a JSON object written in the table (`{"label":[…]}` → `label`).
fn json_keys(value: &str) -> Vec<String> {
    // Inside quotes are the odd pieces; a key is one followed by `:`.
    let pieces: Vec<&str> = value.split('"').collect();
    pieces
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .filter(|(i, _)| {
            pieces
                .get(i + 1)
                .is_some_and(|after| after.starts_with(':'))
        })
        .map(|(_, k)| k.to_string())
        .collect()
}

impl Rule {
    /// Whether a request line's method and target are this row's.
    fn allows(&self, method: &str, target: &str) -> bool {
        if method != self.method {
            return false;
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut parts: Vec<&str> = path.split('/').skip(1).collect();
        // An API version prefix, which the page says to allow on every path.
        if parts.first().is_some_and(|p| is_api_version(p)) {
            parts.remove(0);
        }
        if parts.len() != self.path.len() {
            return false;
        }
        let path_ok = parts.iter().zip(&self.path).all(|(p, rule)| match rule {
            Part::Literal(l) => p == l,
            Part::Id => !p.is_empty(),
        });
        path_ok
            && query
                .split('&')
                .filter(|p| !p.is_empty())
                .all(|p| self.allows_parameter(p))
    }

    /// Whether `name=value` is one of the row's parameters with a value the row
    /// allows.
    fn allows_parameter(&self, parameter: &str) -> bool {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        let value = percent_decode(value);
        self.params.iter().any(|(n, written)| {
            if n != name {
                return false;
            }
            if written == "…" {
                return true;
            }
            if written.starts_with('{') {
                let keys = json_keys(written);
                let v: serde_json::Value = serde_json::from_str(&value).unwrap_or_default();
                return v
                    .as_object()
                    .is_some_and(|o| o.keys().all(|k| keys.contains(k)));
            }
            value == *written
        })
    }
}

/// `v1.41` and the like.
fn is_api_version(part: &str) -> bool {
    part.strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
        })
}

/// `%XX` decoded (and `+` as a space, as form encoding writes it).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------
// The proxy.

/// What the proxy saw: every request line, and those it refused.
#[derive(Default)]
struct Seen {
    allowed: Vec<String>,
    refused: Vec<String>,
}

struct Proxy {
    socket: PathBuf,
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Listens at `socket`, passing what `rules` allow to the engine at `upstream`.
    fn start(socket: &Path, upstream: &Path, rules: Vec<Rule>) -> Proxy {
        let listener = UnixListener::bind(socket).expect("bind the proxy's socket");
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let rules = Arc::new(rules);
        let acceptor = {
            let (seen, stop, upstream) = (seen.clone(), stop.clone(), upstream.to_path_buf());
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let (seen, rules, upstream) = (seen.clone(), rules.clone(), upstream.clone());
                    std::thread::spawn(move || connection(client, &upstream, &rules, &seen));
                }
            })
        };
        Proxy {
            socket: socket.to_path_buf(),
            seen,
            stop,
            acceptor: Some(acceptor),
        }
    }

    fn refused(&self) -> Vec<String> {
        self.seen.lock().unwrap().refused.clone()
    }

    fn allowed(&self) -> Vec<String> {
        self.seen.lock().unwrap().allowed.clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Said when a test fails too: what was refused is what to look at.
        eprintln!("the proxy refused: {:#?}", self.refused());
        self.stop.store(true, Ordering::SeqCst);
        let _ = UnixStream::connect(&self.socket); // wakes the acceptor
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// One client connection: requests checked one by one and passed on; answers copied
/// back as they come, on a thread of their own.
fn connection(client: UnixStream, upstream: &Path, rules: &[Rule], seen: &Mutex<Seen>) {
    let Ok(engine) = UnixStream::connect(upstream) else {
        return;
    };
    let (Ok(mut to_engine), Ok(mut from_engine), Ok(mut to_client)) =
        (engine.try_clone(), engine.try_clone(), client.try_clone())
    else {
        return;
    };
    let mut refusal_writer = match client.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    };
    let answers = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_engine, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Write);
    });
    let mut from_client = BufReader::new(client);
    loop {
        let mut head = Vec::new();
        let mut headers = Vec::new();
        loop {
            let mut line = Vec::new();
            match from_client.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            head.extend_from_slice(&line);
            if line == b"\r\n" || line == b"\n" {
                break;
            }
            headers.push(String::from_utf8_lossy(&line).trim_end().to_string());
        }
        if headers.is_empty() {
            break; // the client is done
        }
        let request_line = headers[0].clone();
        let mut words = request_line.split(' ');
        let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        if !rules.iter().any(|r| r.allows(method, target)) {
            seen.lock()
                .unwrap()
                .refused
                .push(format!("{method} {target}"));
            let body = "Request forbidden by the proxy's rules.\n";
            let _ = write!(
                refusal_writer,
                "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = refusal_writer.shutdown(Shutdown::Both);
            break;
        }
        seen.lock()
            .unwrap()
            .allowed
            .push(format!("{method} {target}"));
        if to_engine.write_all(&head).is_err() {
            break;
        }
        let header = |name: &str| {
            headers[1..].iter().find_map(|h| {
                let (n, v) = h.split_once(':')?;
                n.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
        };
        let body_ok = if let Some(n) = header("content-length") {
            let n: u64 = n.parse().unwrap_or(0);
            std::io::copy(&mut (&mut from_client).take(n), &mut to_engine).is_ok_and(|c| c == n)
        } else if header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
            copy_chunked(&mut from_client, &mut to_engine)
        } else {
            true
        };
        if !body_ok {
            break;
        }
        if header("upgrade").is_some() {
            // An exec's attached streams: the connection is the engine's now.
            let _ = std::io::copy(&mut from_client, &mut to_engine);
            break;
        }
    }
    let _ = engine.shutdown(Shutdown::Both);
    let _ = answers.join();
}

/// Copies a chunked body as it is: each size line and chunk, then the trailer.
fn copy_chunked(from: &mut BufReader<UnixStream>, to: &mut UnixStream) -> bool {
    loop {
        let mut size_line = Vec::new();
        if from.read_until(b'\n', &mut size_line).unwrap_or(0) == 0 {
            return false;
        }
        if to.write_all(&size_line).is_err() {
            return false;
        }
        let size = String::from_utf8_lossy(&size_line);
        let size = size.trim().split(';').next().unwrap_or("");
        let Ok(size) = u64::from_str_radix(size, 16) else {
            return false;
        };
        if size == 0 {
            // Trailer lines, up to an empty one.
            loop {
                let mut line = Vec::new();
                if from.read_until(b'\n', &mut line).unwrap_or(0) == 0
                    || to.write_all(&line).is_err()
                {
                    return false;
                }
                if line == b"\r\n" || line == b"\n" {
                    return true;
                }
            }
        }
        // The chunk and its CRLF.
        if !std::io::copy(&mut from.take(size + 2), to).is_ok_and(|c| c == size + 2) {
            return false;
        }
    }
}

// ---------------------------------------------------------------------------------
// The scenario.

const NETWORK: &str = "links:
  - {container: alpha, bridge: s1, ip: 10.9.0.1/24}
  - {container: beta, bridge: s1, ip: 10.9.0.2/24}
commands:
  - {container: beta, command: 'ip -o addr show dev eth0'}
";

/// A scenario's setup: a lab with containers `alpha` and `beta`, the proxy in front of
/// its daemon allowing `rules`, and `conlink run -n NETWORK` on the host through the
/// proxy, past its first "All links connected". The fields drop in this order:
/// conlink is stopped first, then the proxy, then the lab and its daemon.
struct ProxiedRun {
    run: Running,
    proxy: Proxy,
    lab: Lab,
}

impl ProxiedRun {
    /// `None` when the lab cannot run here (it has said why).
    fn start(test: &str, project: &str, rules: Vec<Rule>) -> Option<ProxiedRun> {
        let lab = Lab::without_conlink_image(test, project)?;
        let proxy = Proxy::start(
            &lab.dockerd.dir().join("proxy.sock"),
            lab.dockerd.socket(),
            rules,
        );
        let net = lab.write_file("net.yaml", NETWORK);
        lab.run_container("alpha", &[], &[]);
        lab.run_container("beta", &[], &[]);
        let mut run = Running::spawn(
            lab.host_conlink_via(&proxy.socket, &["run", "-n", net.to_str().unwrap()]),
        );
        run.wait_for("All links connected", 1, Duration::from_secs(30));
        Some(ProxiedRun { run, proxy, lab })
    }
}

#[test]
fn the_documented_calls_are_all_conlink_run_needs() {
    let test = "e2e::containers::socket_proxy::the_documented_calls_are_all_conlink_run_needs";
    let rules = documented_rules();
    let Some(mut proxied) = ProxiedRun::start(test, "proxied", rules) else {
        return;
    };
    let (lab, run) = (&proxied.lab, &mut proxied.run);
    lab.docker_ping("alpha", "10.9.0.2").unwrap();
    run.wait_for("ended: exit code 0", 1, Duration::from_secs(30));

    // A restart, seen in the events: unwired, wired again, the command run again.
    lab.docker(&["restart", "--time", "1", "beta"]);
    let log = run.wait_for("All links connected", 2, Duration::from_secs(30));
    assert!(log.contains("unwired container:beta"), "{log}");
    lab.docker_ping("alpha", "10.9.0.2").unwrap();
    run.wait_for("ended: exit code 0", 2, Duration::from_secs(30));

    let (code, _) = run.stop(Signal::SIGTERM);
    let log = run.log();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("removed "), "{log}");
    lab.assert_nothing_left();

    let allowed = proxied.proxy.allowed();
    let refused = proxied.proxy.refused();
    assert!(
        refused.is_empty(),
        "the proxy refused calls docs/security.md does not list: {refused:?}\n{log}"
    );
    // The proxy was in the way of each kind of call the scenario makes.
    for (method, parts) in [
        ("GET", &["/containers/json"][..]),
        ("GET", &["/events?"]),
        ("POST", &["/containers/", "/exec"]),
        ("POST", &["/exec/", "/start"]),
        ("GET", &["/exec/", "/json"]),
    ] {
        assert!(
            allowed
                .iter()
                .any(|r| r.starts_with(method) && parts.iter().all(|p| r.contains(p))),
            "no {method} {parts:?} among {allowed:#?}"
        );
    }
    eprintln!("{test}: {} request(s) through the proxy", allowed.len());
}

#[test]
fn a_refused_call_is_named_in_conlinks_error() {
    let test = "e2e::containers::socket_proxy::a_refused_call_is_named_in_conlinks_error";
    let rules: Vec<Rule> = documented_rules()
        .into_iter()
        .filter(|r| !(r.method == "POST" && r.written.contains("/containers/{id}/exec")))
        .collect();
    let Some(mut proxied) = ProxiedRun::start(test, "refused", rules) else {
        return;
    };
    let (lab, run) = (&proxied.lab, &mut proxied.run);
    let beta = lab.docker(&["inspect", "-f", "{{.Id}}", "beta"]);
    let beta = beta.trim();
    let log = run.wait_for("ended: exit code 126 (failed)", 1, Duration::from_secs(30));
    let line = log
        .lines()
        .find(|l| l.contains("ended: exit code 126"))
        .unwrap();
    assert!(
        line.contains(&format!(
            "(POST /containers/{beta}/exec): the engine answered 403"
        )),
        "{line}"
    );
    assert!(
        line.contains("Request forbidden by the proxy's rules."),
        "{line}"
    );
    let refused = proxied.proxy.refused();
    assert_eq!(refused, vec![format!("POST /containers/{beta}/exec")]);
    // The links work all the same.
    lab.docker_ping("alpha", "10.9.0.2").unwrap();
    let (code, _) = run.stop(Signal::SIGTERM);
    assert_eq!(code, Some(0), "{}", run.log());
    lab.assert_nothing_left();
}

/// The proxy's reading of the table: what it lets through and what not (no engine).
#[test]
fn the_proxy_reads_the_table_as_written() {
    let rules = documented_rules();
    let allowed = |line: &str| {
        let (method, target) = line.split_once(' ').unwrap();
        rules.iter().any(|r| r.allows(method, target))
    };
    let label = "filters=%7B%22label%22%3A%5B%22com.docker.compose.project%3Dp%22%5D%7D";
    for ok in [
        "GET /version".to_string(),
        format!("GET /containers/json?all=true&size=false&{label}"),
        format!("GET /v1.41/containers/json?all=true&{label}"),
        "GET /containers/3f1c0a7be2d9/json".into(),
        "GET /events?since=1.5&until=2.5&filters=%7B%22type%22%3A%5B%22container%22%5D%7D".into(),
        "POST /containers/3f1c/exec".into(),
        "POST /exec/ab12/start".into(),
        "GET /exec/ab12/json".into(),
    ] {
        assert!(allowed(&ok), "{ok} is refused");
    }
    for refused in [
        "POST /containers/create",
        "POST /containers/3f1c/start",
        "DELETE /containers/3f1c",
        "GET /images/json",
        "GET /containers/json?all=true&filters=%7B%22name%22%3A%5B%22x%22%5D%7D",
        "GET /containers/json?all=true&size=true",
        "GET /events?since=1&type=image",
        "GET /containers/3f1c/json/extra",
        "GET /vx/containers/3f1c/json",
    ] {
        assert!(!allowed(refused), "{refused} is allowed");
    }
}
