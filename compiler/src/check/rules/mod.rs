//! The semantic rules: one rule, one function, named for what is wrong (the last part
//! of its diagnostic code: `conlink::check::vlanid_not_vlan` is [`kinds::vlanid_not_vlan`]).
//!
//! A rule looks at one value (or one link, one bridge, …), reports at most its own
//! diagnostic through the [`Checker`](super::Checker) and says whether the value
//! passed; rules that read a value also return what they read. Rules never call each
//! other: the checker (`check/links.rs`, `check/network.rs`, `check/commands.rs`)
//! runs them in order and decides what to check next. Per-kind rules read the kind's
//! row of [`LinkKind::properties`](crate::model::LinkKind::properties), so a new kind
//! of link needs no edit here.
//!
//! Each rule has a unit test beside it and a configuration under `tests/invalid/`
//! named after it whose rendered diagnostic is snapshotted.

pub mod addresses;
pub mod bridges;
pub mod commands;
pub mod kinds;
pub mod languages;
pub mod names;
pub mod nat_forward;
pub mod nodes;
pub mod sources;
pub mod targets;

/// What the rules' tests share: a configuration read from YAML (without the schema,
/// which the tests' inputs pass anyway) and the codes a rule reports on it.
#[cfg(test)]
pub(crate) mod testing {
    use super::super::checker::Checker;
    use crate::load::{de, yaml};
    use crate::model::{Config, Link};
    use crate::source::{FileId, SourceFile, SourceKind, SourceMap, Spanned};

    /// A configuration and the source it was read from.
    pub struct Case {
        pub sources: SourceMap,
        pub config: Config,
    }

    /// Reads `yaml` as a network file.
    pub fn case(yaml: &str) -> Case {
        let mut sources = SourceMap::new();
        sources.add(SourceFile::new("t.yaml", yaml, SourceKind::Network));
        let node = yaml::parse(FileId(0), yaml).expect("test YAML parses");
        let config = de::from_node::<Config>(&node).expect("test YAML is a configuration");
        Case { sources, config }
    }

    impl Case {
        /// The first link.
        pub fn link(&self) -> &Spanned<Link> {
            self.config.links.first().expect("a link")
        }

        /// The codes of what `rule` reports, and what it returned.
        pub fn run<T>(&self, rule: impl FnOnce(&mut Checker) -> T) -> (Vec<&'static str>, T) {
            let mut cx = Checker::new(&self.sources);
            let out = rule(&mut cx);
            (cx.diags.iter().map(|d| d.code).collect(), out)
        }

        /// The codes of what `rule` reports.
        pub fn codes<T>(&self, rule: impl FnOnce(&mut Checker) -> T) -> Vec<&'static str> {
            self.run(rule).0
        }
    }
}
