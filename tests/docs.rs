//! The documentation under docs/ checked against the code, so that it cannot quietly
//! fall behind: every property of the configuration's JSON Schema has an entry in
//! docs/configuration.md, every command and option that `--help` prints is in
//! docs/cli.md, every field and value of the plan's JSON form is in docs/plan.md, and
//! the YAML examples of docs/configuration.md are valid configuration.
//!
//! The forms these tests recognise (noted for writers at the top of
//! docs/configuration.md too):
//!
//! * **A documented property** is a heading `### `name`` (the name in backticks) in the
//!   section that describes its object, followed, before the next heading, by the three
//!   lines `- **Type:** …`, `- **Default:** …` and `- **Example:** …`. Which section
//!   describes which schema object is [`PROPERTY_SECTIONS`].
//! * **A YAML example** is a fenced block opened with ```` ```yaml ````. When its first
//!   line starts with `# fragment` it is part of a file and is not checked; when it
//!   starts with `# compose file` it is a whole compose file and must pass
//!   `conlink validate -c`; any other block is a whole network file and must pass
//!   `conlink validate -n`. Either way without warnings: an example shows clean input.
//! * **A command** of docs/cli.md has a section `## conlink NAME`; options that every
//!   command takes are in the section "Common options", the others in their command's
//!   section, each written in backticks (`` `--format` ``).

use crate::util::{conlink, root, text, TempDir};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// For each object of schema/conlink.schema.json that has properties (`root` is the
/// top level, the others are names under `$defs`), the sections of
/// docs/configuration.md that document its properties.
const PROPERTY_SECTIONS: &[(&str, &[&str])] = &[
    ("root", &["Top-level keys"]),
    ("Link", &["Links", "Targets"]),
    ("Bridge", &["Bridges"]),
    ("Tunnel", &["Tunnels"]),
    ("Command", &["Commands", "Targets"]),
    ("NodeDef", &["Nodes"]),
];

/// The keys of a compose file that conlink reads; not in the schema (which describes
/// only `x-network`'s content), documented in "Sources and merging".
const COMPOSE_KEYS: &[&str] = &["name", "x-network", "scale", "deploy.replicas"];
const COMPOSE_SECTION: &str = "Sources and merging";

fn read(path: &str) -> String {
    let p = root().join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

fn schema(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// A markdown line outside code blocks.
struct Line<'a> {
    number: usize,
    text: &'a str,
}

/// The lines of a markdown text that are not inside fenced code blocks, so that a
/// `# comment` in a YAML example is never taken for a heading.
fn prose_lines(markdown: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (i, line) in markdown.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push(Line {
                number: i + 1,
                text: line,
            });
        }
    }
    out
}

/// The heading level of a line (`## x` is 2), if it is a heading.
fn heading_level(line: &str) -> Option<usize> {
    let hashes = line.bytes().take_while(|b| *b == b'#').count();
    (hashes > 0 && line[hashes..].starts_with(' ')).then_some(hashes)
}

/// The `## ` sections of a markdown text: heading text and the prose lines under it.
fn sections(markdown: &str) -> Vec<(String, Vec<Line<'_>>)> {
    let mut out: Vec<(String, Vec<Line<'_>>)> = Vec::new();
    for line in prose_lines(markdown) {
        if heading_level(line.text) == Some(2) {
            out.push((line.text[3..].trim().to_string(), Vec::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push(line);
        }
    }
    out
}

fn section<'a>(all: &'a [(String, Vec<Line<'a>>)], name: &str) -> Option<&'a [Line<'a>]> {
    all.iter()
        .find(|(heading, _)| heading == name)
        .map(|(_, body)| body.as_slice())
}

/// The names in backticks in a piece of text.
fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// A property entry: a `### ` heading whose text starts with a name in backticks.
struct Entry<'a> {
    names: Vec<&'a str>,
    line: usize,
    /// The lines up to the next heading.
    body: Vec<&'a str>,
}

fn entries<'a>(body: &[Line<'a>]) -> Vec<Entry<'a>> {
    let mut out: Vec<Entry<'a>> = Vec::new();
    let mut open = false;
    for line in body {
        match heading_level(line.text) {
            Some(3) if line.text[4..].starts_with('`') => {
                out.push(Entry {
                    names: backticked(&line.text[4..]),
                    line: line.number,
                    body: Vec::new(),
                });
                open = true;
            }
            Some(_) => open = false,
            None if open => out.last_mut().expect("open entry").body.push(line.text),
            None => {}
        }
    }
    out
}

/// Every `properties` object in a JSON Schema, with the name of the `$defs` entry it
/// belongs to (`root` for the top level).
fn schema_properties(schema: &Value) -> Vec<(String, Vec<String>)> {
    fn walk(v: &Value, owner: &str, out: &mut Vec<(String, Vec<String>)>) {
        match v {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("properties", Value::Object(props)) => {
                            out.push((owner.to_string(), props.keys().cloned().collect()));
                            props.values().for_each(|p| walk(p, owner, out));
                        }
                        ("$defs", Value::Object(defs)) => {
                            defs.iter().for_each(|(name, d)| walk(d, name, out));
                        }
                        _ => walk(value, owner, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, owner, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(schema, "root", &mut out);
    out
}

#[test]
fn every_schema_property_is_documented_in_configuration_md() {
    let doc = read("docs/configuration.md");
    let all = sections(&doc);
    let schema = schema("schema/conlink.schema.json");

    // What each section must document, and may document.
    let mut wanted: Vec<(String, &str)> = Vec::new(); // (property, owner)
    let mut allowed: Vec<(&str, BTreeSet<String>)> = Vec::new(); // (section, names)
    let mut problems = Vec::new();
    let objects = schema_properties(&schema);
    assert!(
        objects.iter().any(|(owner, _)| owner == "Link"),
        "no link properties found in the schema: the walk is broken"
    );
    for (owner, props) in &objects {
        let Some((_, secs)) = PROPERTY_SECTIONS.iter().find(|(o, _)| o == owner) else {
            problems.push(format!(
                "schema object `{owner}` has properties but no section of docs/configuration.md is assigned to it: add it to PROPERTY_SECTIONS in tests/docs.rs and document its properties"
            ));
            continue;
        };
        for p in props {
            wanted.push((p.clone(), owner));
        }
        for s in *secs {
            match allowed.iter_mut().find(|(name, _)| name == s) {
                Some((_, names)) => names.extend(props.iter().cloned()),
                None => allowed.push((s, props.iter().cloned().collect())),
            }
        }
    }
    allowed.push((
        COMPOSE_SECTION,
        COMPOSE_KEYS.iter().map(|k| k.to_string()).collect(),
    ));

    let documented = |section_names: &[&str], property: &str, problems: &mut Vec<String>| {
        let mut found = false;
        for s in section_names {
            let Some(body) = section(&all, s) else {
                problems.push(format!("docs/configuration.md has no section \"{s}\""));
                continue;
            };
            for e in entries(body).iter().filter(|e| e.names.contains(&property)) {
                found = true;
                for field in ["Type", "Default", "Example"] {
                    let marker = format!("- **{field}:**");
                    if !e.body.iter().any(|l| l.starts_with(&marker)) {
                        problems.push(format!(
                            "docs/configuration.md:{}: `{property}` has no `{marker}` line",
                            e.line
                        ));
                    }
                }
            }
        }
        if !found {
            problems.push(format!(
                "`{property}` is not documented: add a `### `{property}`` entry to section \"{}\" of docs/configuration.md",
                section_names.join("\" or \"")
            ));
        }
    };
    for (property, owner) in &wanted {
        let secs = PROPERTY_SECTIONS
            .iter()
            .find(|(o, _)| o == owner)
            .map(|(_, s)| *s)
            .unwrap_or_default();
        documented(secs, property, &mut problems);
    }
    for key in COMPOSE_KEYS {
        documented(&[COMPOSE_SECTION], key, &mut problems);
    }

    // The other way round: no entry for a property that does not exist (any more).
    for (s, names) in &allowed {
        let Some(body) = section(&all, s) else {
            continue;
        };
        for e in entries(body) {
            for n in &e.names {
                if !names.contains(*n) {
                    problems.push(format!(
                        "docs/configuration.md:{}: section \"{s}\" documents `{n}`, which is not a property there",
                        e.line
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The long options in a `--help` text (`--state-dir`, `--help`, …).
fn long_options(help: &str) -> BTreeSet<String> {
    help.lines()
        .map(str::trim)
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("--")))
        .map(|w| w.trim_end_matches(',').trim_end_matches("...").to_string())
        .collect()
}

/// The subcommands in `conlink --help`, with their one-line descriptions.
fn subcommands(help: &str) -> Vec<(String, String)> {
    help.lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let l = l.trim();
            let (name, about) = l.split_once(' ').unwrap_or((l, ""));
            (name.to_string(), about.trim().to_string())
        })
        .collect()
}

fn help_of(args: &[&str]) -> String {
    let out = conlink(&root())
        .args(args)
        .arg("--help")
        .output()
        .expect("run conlink");
    assert!(out.status.success(), "conlink {args:?} --help failed");
    text(&out.stdout)
}

#[test]
fn every_command_and_option_is_documented_in_cli_md() {
    let doc = read("docs/cli.md");
    let all = sections(&doc);
    let top = help_of(&[]);
    let commands = subcommands(&top);
    assert!(
        commands.iter().any(|(c, _)| c == "plan"),
        "no commands found in `conlink --help`: the parsing is broken\n{top}"
    );
    let common = long_options(&top);
    assert!(common.contains("--project"), "options not found\n{top}");
    let mut problems = Vec::new();

    let common_doc = section(&all, "Common options").unwrap_or_else(|| {
        panic!("docs/cli.md has no section \"Common options\"");
    });
    let common_names: BTreeSet<&str> = common_doc.iter().flat_map(|l| backticked(l.text)).collect();
    for o in &common {
        if !common_names.contains(o.as_str()) {
            problems.push(format!(
                "common option `{o}` is not in section \"Common options\" of docs/cli.md"
            ));
        }
    }

    for (command, about) in &commands {
        let heading = format!("conlink {command}");
        let Some(body) = section(&all, &heading) else {
            problems.push(format!("docs/cli.md has no section \"{heading}\""));
            continue;
        };
        let names: BTreeSet<&str> = body.iter().flat_map(|l| backticked(l.text)).collect();
        if command != "help" {
            for o in long_options(&help_of(&[command])).difference(&common) {
                if !names.contains(o.as_str()) {
                    problems.push(format!(
                        "option `{o}` of `conlink {command}` is not in section \"{heading}\" of docs/cli.md"
                    ));
                }
            }
        }
        let not_yet = "not implemented yet";
        if about.contains(not_yet) && !body.iter().any(|l| l.text.contains(not_yet)) {
            problems.push(format!(
                "`conlink {command}` is {not_yet}; section \"{heading}\" of docs/cli.md should say so"
            ));
        }
    }
    // No section for a command that does not exist.
    for (heading, _) in &all {
        if let Some(c) = heading.strip_prefix("conlink ") {
            if !commands.iter().any(|(name, _)| name == c) {
                problems.push(format!(
                    "docs/cli.md documents `conlink {c}`, which `conlink --help` does not list"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_field_and_value_of_the_json_plan_is_documented_in_plan_md() {
    let doc = read("docs/plan.md");
    let all = sections(&doc);
    let body = section(&all, "JSON form").expect("docs/plan.md has a section \"JSON form\"");
    let documented: BTreeSet<&str> = body.iter().flat_map(|l| backticked(l.text)).collect();

    // Field names, and the fixed string values (`op` names, kinds, modes, …).
    fn walk(v: &Value, names: &mut BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("properties", Value::Object(p)) => names.extend(p.keys().cloned()),
                        ("const", Value::String(s)) => {
                            names.insert(s.clone());
                        }
                        ("enum", Value::Array(values)) => {
                            names.extend(values.iter().filter_map(|v| v.as_str()).map(String::from))
                        }
                        _ => {}
                    }
                    walk(value, names);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, names)),
            _ => {}
        }
    }
    let mut names = BTreeSet::new();
    walk(&schema("schema/plan.schema.json"), &mut names);
    assert!(
        names.contains("undo"),
        "the walk of the plan schema is broken"
    );
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !documented.contains(n.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "fields or values of schema/plan.schema.json missing (in backticks) from section \"JSON form\" of docs/plan.md: {missing:?}"
    );
}

/// The ```yaml blocks of a markdown text: the line each starts on, and its content.
fn yaml_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match current.take() {
            Some(block) if fence => out.push(block),
            Some((start, mut body)) => {
                body.push_str(line);
                body.push('\n');
                current = Some((start, body));
            }
            None if fence && line.trim() == "```yaml" => current = Some((i + 1, String::new())),
            None => {}
        }
    }
    out
}

#[test]
fn yaml_examples_in_configuration_md_are_valid() {
    let doc = read("docs/configuration.md");
    let dir = TempDir::new("examples");
    let mut checked = 0;
    let mut problems = Vec::new();
    for (n, (line, yaml)) in yaml_blocks(&doc).into_iter().enumerate() {
        let first = yaml.lines().next().unwrap_or("");
        if first.starts_with("# fragment") {
            continue;
        }
        let (file, flag) = if first.starts_with("# compose file") {
            ("compose.yaml", "-c")
        } else {
            ("network.yaml", "-n")
        };
        // One directory per example: a compose file's directory names its project.
        let here = dir.0.join(format!("example-{n}"));
        std::fs::create_dir_all(&here).expect("example dir");
        std::fs::write(here.join(file), &yaml).expect("write example");
        let out = conlink(&here)
            .args(["--ovs", "no", "validate", flag, file])
            .output()
            .expect("run conlink");
        let stderr = text(&out.stderr);
        if !out.status.success() || stderr.contains("warning") {
            problems.push(format!(
                "docs/configuration.md:{line}: the example is not valid (`conlink validate {flag}`):\n{stderr}"
            ));
        }
        checked += 1;
    }
    assert!(
        checked >= 10,
        "only {checked} complete examples found in docs/configuration.md: are the ```yaml fences or markers broken?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Files of the repository, outside build output and git's own files.
fn repository_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => repository_files(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

/// The repository documents itself: nothing in it points at design input kept outside
/// it, or cites a reference page without its place under `docs/`.
#[test]
fn nothing_cites_the_design_input_outside_docs() {
    // Built from pieces so that this file does not match itself.
    let outside = [["shared", "spec"].join("/"), ["..", "shared"].join("/")];
    let names: Vec<String> = ["config", "plan", "cli"]
        .iter()
        .map(|n| format!("{n}.md"))
        .collect();
    let prefix = "docs/";
    let mut files = Vec::new();
    repository_files(&root(), &mut files);
    let mut problems = Vec::new();
    for file in files {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        let content = String::from_utf8_lossy(&bytes);
        let shown = file
            .strip_prefix(root())
            .unwrap_or(&file)
            .display()
            .to_string();
        for (i, line) in content.lines().enumerate() {
            for o in &outside {
                if line.contains(o.as_str()) {
                    problems.push(format!("{shown}:{}: mentions `{o}`", i + 1));
                }
            }
            for name in &names {
                for (at, _) in line.match_indices(name.as_str()) {
                    let before = &line[..at];
                    // The file name on its own, not the end of a longer name.
                    let part_of_word = before
                        .chars()
                        .last()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-');
                    if !part_of_word && !before.ends_with(prefix) {
                        problems.push(format!(
                            "{shown}:{}: cites `{name}` without `{prefix}`",
                            i + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
