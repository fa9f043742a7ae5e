//! What `--help`, the completion scripts and the manual page say (docs/cli.md, "Common
//! options", "conlink completions", "conlink man"): each command's help lists exactly
//! the options it takes, and the scripts and the page come from the same definitions.

use crate::util::{conlink, root, text, TempDir};
use std::collections::BTreeSet;

const SOURCES: &[&str] = &["--network-file", "--compose-file"];
const CONFIG: &[&str] = &[
    "--default-bridge-mode",
    "--default-mtu",
    "--keep-veth-offload",
    "--ovs",
];
const RUNTIME: &[&str] = &[
    "--state-dir",
    "--no-wait",
    "--conlink-netns",
    "--engine-socket",
    "--podman-socket",
];

/// Each command's long options besides `--help`, by group: the table the option
/// groups in src/cli.rs must produce.
fn table() -> Vec<(&'static str, Vec<&'static str>)> {
    let with = |groups: &[&[&'static str]], own: &[&'static str]| -> Vec<&'static str> {
        groups
            .iter()
            .flat_map(|g| g.iter().copied())
            .chain(own.iter().copied())
            .collect()
    };
    vec![
        (
            "validate",
            with(
                &[SOURCES, CONFIG],
                &["--format", "--scale", "--project", "--verbose"],
            ),
        ),
        (
            "plan",
            with(&[SOURCES, CONFIG], &["--format", "--scale", "--project"]),
        ),
        (
            "apply",
            with(
                &[SOURCES, CONFIG, RUNTIME],
                &["--format", "--scale", "--project", "--verbose"],
            ),
        ),
        (
            "status",
            with(
                &[SOURCES, CONFIG, RUNTIME],
                &["--format", "--scale", "--project", "--verbose"],
            ),
        ),
        (
            "destroy",
            with(&[SOURCES, RUNTIME], &["--project", "--verbose"]),
        ),
        (
            "exec",
            with(&[SOURCES, RUNTIME], &["--project", "--verbose"]),
        ),
        (
            "run",
            with(
                &[SOURCES, CONFIG, RUNTIME],
                &[
                    "--scale",
                    "--config-schema",
                    "--show-config",
                    "--project",
                    "--verbose",
                ],
            ),
        ),
        (
            "graph",
            with(&[SOURCES, CONFIG], &["--format", "--scale", "--project"]),
        ),
        (
            "wait",
            vec![
                "--file",
                "--intf",
                "--ip",
                "--tcp",
                "--cmd",
                "--links",
                "--sleep",
                "--timeout",
                "--project",
                "--verbose",
            ],
        ),
        ("schema", vec!["--plan", "--compose"]),
        ("copy", vec![]),
        ("completions", vec![]),
        ("man", vec!["--dir"]),
    ]
}

/// The long options of a help text: the first `--word` of each line starting with `-`.
fn long_options(help: &str) -> BTreeSet<String> {
    help.lines()
        .map(str::trim)
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("--")))
        .map(|w| w.trim_end_matches(',').trim_end_matches("...").to_string())
        .filter(|o| o != "--help")
        .collect()
}

fn run(args: &[&str]) -> String {
    let out = conlink(&root()).args(args).output().expect("run conlink");
    assert!(
        out.status.success(),
        "conlink {args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The commands `conlink --help` lists.
fn commands() -> Vec<String> {
    run(&["--help"])
        .lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .filter(|c| c != "help")
        .collect()
}

#[test]
fn each_command_lists_only_the_options_it_takes() {
    let table = table();
    let listed: BTreeSet<String> = table.iter().map(|(c, _)| c.to_string()).collect();
    let commands: BTreeSet<String> = commands().into_iter().collect();
    assert_eq!(
        commands, listed,
        "a command without a row in the table, or the other way"
    );
    let mut problems = Vec::new();
    for (command, expected) in &table {
        let shown = long_options(&run(&[command, "--help"]));
        let expected: BTreeSet<String> = expected.iter().map(|o| o.to_string()).collect();
        if shown != expected {
            problems.push(format!(
                "conlink {command} --help: extra {:?}, missing {:?}",
                shown.difference(&expected).collect::<Vec<_>>(),
                expected.difference(&shown).collect::<Vec<_>>()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn plan_help_describes_plan_formats() {
    let help = run(&["plan", "--help"]);
    // The option's block: its line and the lines under it, up to the next option.
    let format: String = help
        .lines()
        .skip_while(|l| !l.contains("--format"))
        .enumerate()
        .take_while(|(i, l)| *i == 0 || !l.trim_start().starts_with('-'))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    assert!(
        format.contains("one line per step")
            && format.contains("JSON")
            && format.contains("shell script"),
        "{format}"
    );
    assert!(!format.contains("diagnostics on stderr;"), "{format}");
}

#[test]
fn completions_for_each_shell_name_every_command() {
    let commands = commands();
    for shell in ["bash", "zsh", "fish"] {
        let script = run(&["completions", shell]);
        assert!(script.len() > 1000, "{shell}: only {} bytes", script.len());
        for command in &commands {
            assert!(script.contains(command.as_str()), "{shell}: no `{command}`");
        }
        // Options of a command, and the values of an enumerated one.
        assert!(
            script.contains("state-dir") && script.contains("patch"),
            "{shell}"
        );
    }
    // bash parses what it is given; zsh and fish may not be installed.
    let script = run(&["completions", "bash"]);
    if let Ok(out) = std::process::Command::new("bash")
        .args(["-n", "-c", &script])
        .output()
    {
        assert!(out.status.success(), "bash -n: {}", text(&out.stderr));
    }
}

#[test]
fn the_manual_page_renders() {
    let page = run(&["man"]);
    for request in [
        ".TH conlink 1",
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH OPTIONS",
        ".SH SUBCOMMANDS",
    ] {
        assert!(page.contains(request), "no `{request}` in the page");
    }
    let dir = TempDir::new("man");
    run(&["man", "--dir", dir.path().to_str().expect("utf-8 path")]);
    for command in commands() {
        let file = dir.path().join(format!("conlink-{command}.1"));
        let page =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(
            page.contains(&format!(".TH conlink-{command} 1")),
            "{command}"
        );
    }
    // man(1) formats it, when this machine has it.
    let page_file = dir.path().join("conlink.1");
    match std::process::Command::new("man")
        .arg("-l")
        .arg(&page_file)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .output()
    {
        Ok(out) => {
            assert!(out.status.success(), "man -l: {}", text(&out.stderr));
            let shown = text(&out.stdout);
            assert!(
                shown.contains("NAME") && shown.contains("--conlink-netns"),
                "{shown}"
            );
        }
        Err(e) => eprintln!("man(1) is not available ({e}): checked the roff structure only"),
    }
}
