//! The conditions and pauses of `conlink wait` in the order they were given.
//!
//! conlink 2.x's `wait` read its options one by one: each condition was waited for
//! where it stood, and `-s` changed the pause for the conditions after it. clap keeps
//! each option's values in a list of its own (`cli::WaitArgs`); the index where each
//! value appeared puts them back in order. With no condition at all, the one
//! condition is `--links`.

use super::condition::Condition;
use crate::cli::HostPort;
use clap::parser::ValueSource;
use clap::ArgMatches;
use std::path::PathBuf;
use std::time::Duration;

/// One thing to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// Wait until the condition holds.
    Until(Condition),
    /// From here on, pause this long between two checks.
    Pause(Duration),
}

/// The items of `wait`'s arguments (`m`, the matches of the `wait` subcommand), in the
/// order given. `project` is the marker's project for `--links`.
pub fn items(m: &ArgMatches, project: Option<&str>) -> Vec<Item> {
    let mut found: Vec<(usize, Item)> = Vec::new();
    each::<PathBuf>(m, "file", &mut found, |v| Item::Until(Condition::File(v)));
    each::<String>(m, "intf", &mut found, |v| {
        Item::Until(Condition::Interface(v))
    });
    each::<String>(m, "ip", &mut found, |v| Item::Until(Condition::Route(v)));
    each::<HostPort>(m, "tcp", &mut found, |v| Item::Until(Condition::Tcp(v)));
    each::<Vec<String>>(m, "cmd", &mut found, |v| Item::Until(Condition::Command(v)));
    each::<Duration>(m, "sleep", &mut found, Item::Pause);
    let links = || Item::Until(Condition::Links(project.map(String::from)));
    if m.value_source("links") == Some(ValueSource::CommandLine) {
        if let Some(at) = m.index_of("links") {
            found.push((at, links()));
        }
    }
    found.sort_by_key(|(at, _)| *at);
    let mut items: Vec<Item> = found.into_iter().map(|(_, item)| item).collect();
    if !items.iter().any(|i| matches!(i, Item::Until(_))) {
        // After any `-s`, so that it applies.
        items.push(links());
    }
    items
}

/// Adds every value of option `id` with the index it appeared at.
fn each<T: Clone + Send + Sync + 'static>(
    m: &ArgMatches,
    id: &str,
    found: &mut Vec<(usize, Item)>,
    item: impl Fn(T) -> Item,
) {
    let (Some(values), Some(at)) = (m.get_many::<T>(id), m.indices_of(id)) else {
        return;
    };
    found.extend(at.zip(values.cloned().map(item)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Args;
    use clap::CommandFactory;

    /// The items of `conlink wait ARGS…`, or clap's error.
    fn parse(args: &[&str]) -> Result<Vec<Item>, String> {
        let argv = ["conlink", "wait"].iter().chain(args);
        let m = Args::command()
            .try_get_matches_from(argv)
            .map_err(|e| e.to_string())?;
        let w = m.subcommand_matches("wait").expect("the wait subcommand");
        let project = crate::cli::Common::from_matches(&m, w).project;
        Ok(items(w, project.as_deref()))
    }

    fn until(c: Condition) -> Item {
        Item::Until(c)
    }

    fn secs(s: f64) -> Item {
        Item::Pause(Duration::from_secs_f64(s))
    }

    #[test]
    fn no_condition_means_all_of_this_containers_links() {
        assert_eq!(parse(&[]).unwrap(), [until(Condition::Links(None))]);
        assert_eq!(
            parse(&["--project", "demo", "-s", "0.2"]).unwrap(),
            [secs(0.2), until(Condition::Links(Some("demo".into())))]
        );
    }

    #[test]
    fn conditions_keep_the_order_given_with_each_pause_where_it_stood() {
        let items = parse(&[
            "-i",
            "eth0",
            "-s",
            "0.5",
            "-f",
            "/tmp/x",
            "--links",
            "-I",
            "eth1",
            "--if",
            "eth2",
            "--tcp",
            "web:80",
            "-c",
            "test  -e /x",
            "--sleep",
            "3",
            "--intf",
            "eth3",
        ])
        .unwrap();
        assert_eq!(
            items,
            [
                until(Condition::Interface("eth0".into())),
                secs(0.5),
                until(Condition::File("/tmp/x".into())),
                until(Condition::Links(None)),
                until(Condition::Route("eth1".into())),
                until(Condition::Interface("eth2".into())),
                until(Condition::Tcp(HostPort {
                    host: "web".into(),
                    port: 80
                })),
                until(Condition::Command(vec![
                    "test".into(),
                    "-e".into(),
                    "/x".into()
                ])),
                secs(3.0),
                until(Condition::Interface("eth3".into())),
            ]
        );
    }

    #[test]
    fn other_conditions_do_not_wait_for_the_links_unless_asked() {
        assert_eq!(
            parse(&["-i", "eth0"]).unwrap(),
            [until(Condition::Interface("eth0".into()))]
        );
    }

    #[test]
    fn the_command_after_the_separator_is_kept_as_given() {
        let m = Args::command()
            .try_get_matches_from([
                "conlink",
                "wait",
                "-i",
                "eth0",
                "--",
                "sh",
                "-c",
                "echo 'a b'",
                "-i",
                "",
            ])
            .unwrap();
        let w = m.subcommand_matches("wait").unwrap();
        let command: Vec<&String> = w.get_many::<String>("command").unwrap().collect();
        assert_eq!(command, ["sh", "-c", "echo 'a b'", "-i", ""]);
        // The words after `--` are not conditions.
        assert_eq!(items(w, None), [until(Condition::Interface("eth0".into()))]);
    }

    #[test]
    fn tcp_targets_take_a_host_and_a_port() {
        let tcp = |host: &str, port| {
            until(Condition::Tcp(HostPort {
                host: host.into(),
                port,
            }))
        };
        assert_eq!(
            parse(&["-t", "10.0.0.1:8080"]).unwrap(),
            [tcp("10.0.0.1", 8080)]
        );
        assert_eq!(
            parse(&["-t", "[fd00::1]:53"]).unwrap(),
            [tcp("fd00::1", 53)]
        );
        for bad in [
            "web",
            "web:",
            ":80",
            "web:0",
            "web:65536",
            "web:http",
            "fd00::1:53",
            "[fd00::1:53",
        ] {
            let err = parse(&["-t", bad]).expect_err(bad);
            assert!(err.contains(bad) || err.contains("port"), "{bad}: {err}");
        }
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            &["-s", "-1"][..],
            &["-s", "soon"],
            &["--timeout", "NaN"],
            &["--timeout", "inf"],
            &["-c", "   "],
            &["-i"],
            &["eth0"],
        ] {
            assert!(parse(args).is_err(), "{args:?} was accepted");
        }
        assert_eq!(
            parse(&["-s", "0"]).unwrap(),
            [secs(0.0), until(Condition::Links(None))]
        );
    }
}
