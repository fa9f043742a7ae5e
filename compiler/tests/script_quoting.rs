//! Every configuration value in `conlink plan --format script` reaches the command
//! unchanged: values with quotes, `$`, backticks, backslashes, spaces, newlines and
//! the like go into a node's command (a shell string, and an argv), and a sysctl
//! value; the script must pass `sh -n`, and run by `sh` with `ip`, `sysctl`, `env`
//! and the other tools replaced by functions that print their arguments, each value
//! must arrive byte for byte.

use compiler::interpolate::Env;
use compiler::render::script::{render, ScriptNames};
use compiler::source::{SourceFile, SourceKind};
use compiler::{compile, Options};
use std::process::{Command, Stdio};

/// Values that break naive quoting, then deterministic mixes of the same characters.
fn values() -> Vec<String> {
    let mut v: Vec<String> = [
        "plain",
        "two words",
        "it's",
        "'",
        "''",
        "\"double\"",
        "$HOME",
        "${HOME:-x}",
        "$(id)",
        "`id`",
        "back\\slash",
        "trailing\\",
        "line\nbreak",
        "\n",
        "tab\there",
        "semi;colon & amp | pipe",
        "#not a comment",
        "glob * ? [a]",
        "~tilde",
        "{brace}",
        "'\\''",
        "é ünïcode",
        " leading and trailing ",
        "-n",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let alphabet: Vec<char> = "'\"$`\\ \n\t;&|#*?~{}()<>!ab".chars().collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..40 {
        let mut s = String::new();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        for i in 0..(3 + seed % 12) {
            s.push(alphabet[((seed >> (i * 4)) as usize + i as usize) % alphabet.len()]);
        }
        v.push(s);
    }
    v
}

/// A network file (JSON) with `value` in a shell command, an argv and a sysctl value.
/// `$` is doubled: conlink reads `$$` as one `$` (docs/configuration.md,
/// "Interpolation").
fn config(value: &str) -> String {
    let esc = |s: &str| s.replace('$', "$$");
    serde_json::json!({
        "nodes": [{"name": "n1", "sysctls": {"net.ipv4.conf.all.forwarding": esc(&format!("1{value}"))}}],
        "links": [{"node": "n1", "bridge": "s1", "ip": "10.0.0.1/24"}],
        "commands": [
            {"node": "n1", "command": esc(&format!("echo {value}"))},
            {"node": "n1", "command": ["printf", "%s", esc(value), "second"]},
        ],
    })
    .to_string()
}

/// Stand-ins for the tools: `ip netns exec NS CMD…` runs CMD; `sysctl` and `env`
/// print their arguments to fd 3 as one line each (every argument in hexadecimal,
/// followed by `.`), in one write, since the script's `&` commands run at the same
/// time; everything else does nothing.
const STUBS: &str = r#"
ip() { if [ "$1" = netns ] && [ "$2" = exec ]; then shift 3; "$@"; fi; return 0; }
tc() { return 0; }
nft() { return 0; }
ethtool() { return 0; }
nsenter() { return 0; }
record() {
    r=
    for a in "$@"; do r="$r$(printf '%s' "$a" | od -An -tx1 | tr -d ' \n')."; done
    printf '%s\n' "$r" >&3
}
sysctl() { record sysctl "$@"; }
env() { record env "$@"; }
"#;

fn unhex(hex: &str) -> String {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    String::from_utf8(bytes).expect("utf-8")
}

#[test]
fn the_shell_sees_every_value_unchanged() {
    let names = ScriptNames {
        conlink: Some("conlink.q".into()),
        node_prefix: "conlink.q.".into(),
    };
    let opts = Options {
        project: Some("q".into()),
        ..Options::default()
    };
    let mut checked = 0;
    for value in values() {
        let c = compile(
            vec![SourceFile::new(
                "n.json",
                config(&value),
                SourceKind::Network,
            )],
            &Env::default(),
            &opts,
        );
        let Some(plan) = c.plan else {
            panic!("{value:?}: the configuration does not plan");
        };
        let script = render(&plan, &names);

        let syntax = Command::new("sh")
            .args(["-n", "-c", &script])
            .output()
            .expect("run sh -n");
        assert!(
            syntax.status.success(),
            "{value:?}: sh -n refuses the script: {}\n{script}",
            String::from_utf8_lossy(&syntax.stderr)
        );

        // fd 3 of the shell is a pipe read here; the script's `&` commands are waited for.
        let program = format!("{STUBS}\n{script}\nwait\n");
        let out = Command::new("sh")
            .args(["-c", "exec 3>&1 1>/dev/null; eval \"$CONLINK_TEST_SCRIPT\""])
            .env("CONLINK_TEST_SCRIPT", &program)
            .stdin(Stdio::null())
            .output()
            .expect("run sh");
        assert!(
            out.status.success(),
            "{value:?}: the script failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let records: Vec<Vec<String>> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|line| line.split_terminator('.').map(unhex).collect())
            .collect();
        // A call whose arguments end with `want` (`env` has CONLINK_COMMAND first).
        let has = |want: &[&str]| {
            records
                .iter()
                .any(|r| r.len() >= want.len() && r[r.len() - want.len()..] == *want)
        };
        let sysctl = format!("net.ipv4.conf.all.forwarding=1{value}");
        let shell = format!("echo {value}");
        assert!(
            has(&["sysctl", "-w", &sysctl]),
            "{value:?}: sysctl saw something else: {records:?}"
        );
        assert!(
            has(&["setsid", "nohup", "sh", "-c", &shell]),
            "{value:?}: the shell command arrived changed: {records:?}"
        );
        assert!(
            has(&["setsid", "nohup", "printf", "%s", &value, "second"]),
            "{value:?}: the argv arrived changed: {records:?}"
        );
        checked += 1;
    }
    assert!(checked > 60, "only {checked} values checked");
}
