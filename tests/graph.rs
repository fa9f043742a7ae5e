//! `conlink graph`: every example drawn in every format and compared with its
//! snapshot; Graphviz's `dot` reads the DOT form, the SVG form is well-formed XML and
//! the JSON form carries its version.

use crate::util::{conlink, entries, expect_code, parse_spec, root, snapshot_settings, text};
use std::io::Write;
use std::process::{Command, Stdio};

const FORMATS: [&str; 4] = ["dot", "mermaid", "json", "svg"];

/// `conlink graph` of one example in one format: its stdout.
fn graph(dir: &std::path::Path, format: &str) -> Vec<u8> {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let spec_file = dir.join("conlink.test");
    let spec = parse_spec(
        &std::fs::read_to_string(&spec_file)
            .unwrap_or_else(|e| panic!("{}: {e}", spec_file.display())),
        false,
    );
    let mut cmd = conlink(dir);
    cmd.args(["--ovs", "no", "graph"])
        .args(&spec.args)
        .args(["--format", format])
        .envs(spec.env.iter().map(|(k, v)| (k, v)));
    let out = cmd.output().expect("run conlink");
    expect_code(&out, 0, &format!("graph of example {name} ({format})"));
    out.stdout
}

fn examples() -> Vec<std::path::PathBuf> {
    let dirs: Vec<_> = entries(&root().join("examples"))
        .into_iter()
        .filter(|d| d.is_dir())
        .collect();
    assert!(dirs.len() >= 10, "expected at least 10 examples");
    dirs
}

#[test]
fn every_example_draws_as_snapshotted() {
    for dir in examples() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        for format in FORMATS {
            let out = graph(&dir, format);
            snapshot_settings().bind(|| {
                insta::assert_snapshot!(format!("graph__{name}__{format}"), text(&out));
            });
            match format {
                "svg" => {
                    let svg = text(&out);
                    let doc = roxmltree::Document::parse(&svg)
                        .unwrap_or_else(|e| panic!("example {name}: SVG is not XML: {e}"));
                    assert_eq!(doc.root_element().tag_name().name(), "svg");
                }
                "json" => {
                    let v: serde_json::Value = serde_json::from_slice(&out).expect("graph JSON");
                    assert_eq!(v["format"], 1, "example {name}: graph JSON version");
                }
                "mermaid" => assert!(text(&out).starts_with("flowchart LR\n")),
                _ => {}
            }
        }
    }
}

/// Graphviz reads every example's DOT (into its own canonical DOT, so nothing is
/// rendered). `scripts/test.sh` installs it; without it the test records a skip.
#[test]
fn graphviz_reads_every_dot_drawing() {
    if Command::new("dot").arg("-V").output().is_err() {
        runtime::testing::skip(
            "graph::graphviz_reads_every_dot_drawing",
            "Graphviz's `dot` is not installed (apt-get install graphviz)",
        );
        return;
    }
    for dir in examples() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let dot = graph(&dir, "dot");
        let mut child = Command::new("dot")
            .arg("-Tcanon")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dot");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(&dot)
            .expect("feed dot");
        let out = child.wait_with_output().expect("run dot");
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "example {name}: dot refused the drawing: {}",
            text(&out.stderr)
        );
    }
}
