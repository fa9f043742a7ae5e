//! Merging configuration fragments into one configuration (docs/configuration.md,
//! "Sources and merging").
//!
//! Fragments arrive in merge order (each compose file's top-level `x-network`, then its
//! services' `x-network`s, then the network files). Top-level lists are concatenated;
//! then links with the same `(target, dev)`, bridges with the same name, tunnels with the
//! same `(type, vni)` and nodes with the same name are folded into one, in source order:
//! a later scalar replaces an earlier one. "String or list" properties
//! ([`crate::model::StrList`]) follow conlink 2.x: a later string replaces an earlier
//! string, two lists are concatenated, and a string merged with a list joins it as one
//! item.

use crate::model::{Bridge, Config, Link, NodeDef, StrList, Target, Tunnel, Written};
use crate::source::Spanned;
use indexmap::map::Entry;
use indexmap::IndexMap;

/// Merges fragments in order.
pub fn merge(mut fragments: Vec<Config>) -> Config {
    // Each item is moved once, straight from its fragment into the merged list: links
    // are large and there may be a hundred thousand of them.
    let links = merge_links_by_target_dev(take_all(&mut fragments, |f| &mut f.links));
    let bridges = merge_by_key(
        take_all(&mut fragments, |f| &mut f.bridges),
        |b| Some(b.bridge.value.clone()),
        merge_bridge,
    );
    let tunnels = merge_by_key(
        take_all(&mut fragments, |f| &mut f.tunnels),
        |t| Some((t.kind.value, t.vni.value)),
        merge_tunnel,
    );
    let nodes = merge_by_key(
        take_all(&mut fragments, |f| &mut f.nodes),
        |n| Some(n.name.value.clone()),
        merge_node,
    );
    let commands = take_all(&mut fragments, |f| &mut f.commands).collect();
    Config {
        links,
        bridges,
        tunnels,
        commands,
        nodes,
    }
}

/// One top-level list of every fragment, concatenated in order, moving the items out.
fn take_all<'a, T: 'a>(
    fragments: &'a mut [Config],
    list: fn(&mut Config) -> &mut Vec<T>,
) -> impl Iterator<Item = T> + 'a {
    fragments
        .iter_mut()
        .flat_map(move |f| std::mem::take(list(f)))
}

/// Folds items with the same key into the first one, keeping first-appearance order.
/// Items without a key (`None`) are kept as they are; later checks report them.
fn merge_by_key<T, K: std::hash::Hash + Eq>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> Option<K>,
    fold: impl Fn(&mut T, T),
) -> Vec<T> {
    let items = items.into_iter();
    let mut out: Vec<T> = Vec::with_capacity(items.size_hint().0);
    let mut index: IndexMap<K, usize> = IndexMap::with_capacity(items.size_hint().0);
    for item in items {
        match key(&item).map(|k| index.entry(k)) {
            None => out.push(item),
            Some(Entry::Occupied(e)) => fold(&mut out[*e.get()], item),
            Some(Entry::Vacant(e)) => {
                e.insert(out.len());
                out.push(item);
            }
        }
    }
    out
}

/// Links are one link per `(target, dev)`; `dev` defaults to `eth0`.
pub fn merge_links_by_target_dev(
    links: impl IntoIterator<Item = Spanned<Link>>,
) -> Vec<Spanned<Link>> {
    merge_by_key(
        links,
        |l: &Spanned<Link>| l.target().map(|t: Target| (t, l.dev().to_string())),
        |a, b| merge_link(&mut a.value, b.value),
    )
}

/// A later scalar replaces an earlier one.
fn replace<T>(into: &mut Option<T>, from: Option<T>) {
    if from.is_some() {
        *into = from;
    }
}

/// A "string or list" property: a later string replaces an earlier string (2.x users
/// override a top-level `netem: "delay 200ms"` with a service's own string); otherwise
/// the two are concatenated in source order, a string counting as a list of one, and
/// the result is a list, so a third string joins it too.
fn append(into: &mut Option<StrList>, from: Option<StrList>) {
    match (into.as_mut(), from) {
        (Some(a), Some(b)) if a.1 == Written::String && b.1 == Written::String => *a = b,
        (Some(a), Some(b)) => {
            a.0.extend(b.0);
            a.1 = Written::List;
        }
        (None, Some(b)) => *into = Some(b),
        (_, None) => {}
    }
}

fn merge_link(a: &mut Link, b: Link) {
    replace(&mut a.kind, b.kind);
    replace(&mut a.service, b.service);
    replace(&mut a.container, b.container);
    replace(&mut a.node, b.node);
    replace(&mut a.bridge, b.bridge);
    replace(&mut a.dev, b.dev);
    replace(&mut a.outer_dev, b.outer_dev);
    append(&mut a.ip, b.ip);
    replace(&mut a.mac, b.mac);
    replace(&mut a.mtu, b.mtu);
    append(&mut a.route, b.route);
    replace(&mut a.nat, b.nat);
    append(&mut a.netem, b.netem);
    append(&mut a.ethtool, b.ethtool);
    replace(&mut a.mode, b.mode);
    replace(&mut a.vlanid, b.vlanid);
    append(&mut a.forward, b.forward);
}

fn merge_bridge(a: &mut Bridge, b: Bridge) {
    replace(&mut a.mode, b.mode);
    replace(&mut a.mtu, b.mtu);
}

fn merge_tunnel(a: &mut Tunnel, b: Tunnel) {
    a.bridge = b.bridge;
    a.remote = b.remote;
    append(&mut a.netem, b.netem);
    replace(&mut a.dstport, b.dstport);
    replace(&mut a.mtu, b.mtu);
    append(&mut a.ip, b.ip);
    replace(&mut a.mac, b.mac);
}

fn merge_node(a: &mut NodeDef, b: NodeDef) {
    for (k, v) in b.sysctls.0 {
        a.sysctls.set(k, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Mtu;
    use crate::source::Span;

    fn s(v: &str) -> Spanned<String> {
        Spanned::new(v.to_string(), Span::default())
    }

    fn link(service: &str, dev: Option<&str>) -> Spanned<Link> {
        Spanned::new(
            Link {
                service: Some(s(service)),
                dev: dev.map(s),
                ..Link::default()
            },
            Span::default(),
        )
    }

    fn values(l: &Option<StrList>) -> Vec<&str> {
        l.as_ref()
            .map(|l| l.0.iter().map(|s| s.value.as_str()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn links_with_same_target_and_dev_merge_in_order() {
        let mut a = link("web", None);
        a.value.ip = Some(StrList(
            vec![s("10.0.0.1/24"), s("fd00::1/64")],
            Written::List,
        ));
        a.value.mtu = Some(Spanned::new(Mtu(1500), Span::default()));
        let mut b = link("web", Some("eth0"));
        // A string after a list appends (2.x split it into characters).
        b.value.ip = Some(StrList(vec![s("10.0.1.1/24")], Written::String));
        b.value.mtu = Some(Spanned::new(Mtu(9000), Span::default()));
        let c = link("web", Some("eth1"));
        let merged = merge_links_by_target_dev(vec![a, b, c]);
        assert_eq!(merged.len(), 2);
        assert_eq!(
            values(&merged[0].ip),
            ["10.0.0.1/24", "fd00::1/64", "10.0.1.1/24"]
        );
        assert_eq!(merged[0].mtu.unwrap().value, Mtu(9000));
        assert_eq!(merged[1].dev(), "eth1");
    }

    /// The merge of "string or list" values, as 2.x merged them but for the split.
    #[test]
    fn strings_replace_strings_and_lists_concatenate() {
        fn one(v: &str) -> Option<StrList> {
            Some(StrList(vec![s(v)], Written::String))
        }
        fn many(vs: &[&str]) -> Option<StrList> {
            Some(StrList(vs.iter().map(|v| s(v)).collect(), Written::List))
        }
        let cases: [(Vec<Option<StrList>>, &[&str]); 6] = [
            (
                vec![one("delay 200ms"), one("rate 10mbit delay 40ms")],
                &["rate 10mbit delay 40ms"],
            ),
            (vec![many(&["a", "b"]), many(&["c"])], &["a", "b", "c"]),
            (vec![many(&["a"]), one("b")], &["a", "b"]),
            (vec![one("a"), many(&["b", "c"])], &["a", "b", "c"]),
            // Once a list, a later string joins it rather than replacing it.
            (vec![one("a"), many(&["b"]), one("c")], &["a", "b", "c"]),
            (vec![one("a"), None, one("c")], &["c"]),
        ];
        for (values_in, expected) in cases {
            let links = values_in.into_iter().map(|netem| {
                let mut l = link("web", None);
                l.value.netem = netem;
                l
            });
            let merged = merge_links_by_target_dev(links.collect::<Vec<_>>());
            assert_eq!(values(&merged[0].netem), expected);
        }
    }

    #[test]
    fn different_targets_do_not_merge() {
        let a = link("web", None);
        let b = Spanned::new(
            Link {
                container: Some(s("web")),
                ..Link::default()
            },
            Span::default(),
        );
        assert_eq!(merge_links_by_target_dev(vec![a, b]).len(), 2);
    }

    #[test]
    fn links_without_one_target_are_kept_for_the_checks() {
        let a = Spanned::<Link>::default();
        let b = Spanned::<Link>::default();
        assert_eq!(merge_links_by_target_dev(vec![a, b]).len(), 2);
    }
}
