//! Rules about the strings that carry a small language (docs/configuration.md,
//! "String languages: route, netem, ethtool", and "forward and nat"): each must parse,
//! and the error points at the offending word inside the string.

use super::super::checker::Checker;
use super::super::strings::{
    parse_ethtool, parse_forward, parse_link_route, parse_netem_with_warnings, Forward, StringError,
};
use crate::model::StrList;
use crate::plan::{Ethtool, Netem, Route};
use crate::source::Spanned;

/// A `route` of the link whose interface is `dev` that is not `ip route add` syntax
/// conlink supports. Returns the route.
pub fn route(cx: &mut Checker, dev: &str, r: &Spanned<String>) -> Option<Route> {
    parse_link_route(&r.value, Some(dev))
        .map_err(|e| cx.string_error("conlink::check::route", "route", r, e))
        .ok()
}

/// A `netem` that is not netem syntax conlink supports. The items of a list are joined
/// with spaces (one qdisc, one `tc` command line), and an error inside is mapped back
/// to the item it came from. An option given twice, in one item or two, is
/// `conlink::check::netem_repeated`, a warning: the last one counts, as in `tc`.
/// Returns the settings.
pub fn netem(cx: &mut Checker, list: &StrList) -> Option<Netem> {
    let mut joined = String::new();
    let mut starts = Vec::new();
    for item in &list.0 {
        if !joined.is_empty() {
            joined.push(' ');
        }
        starts.push(joined.len());
        joined.push_str(&item.value);
    }
    // The item an error or warning at `e` is in, with `e` made relative to it.
    let locate = |mut e: StringError| {
        let i = starts.iter().rposition(|s| *s <= e.start).unwrap_or(0);
        e.start -= starts[i];
        e.end = e.end.saturating_sub(starts[i]);
        (&list.0[i], e)
    };
    match parse_netem_with_warnings(&joined) {
        Ok((n, warnings)) => {
            for w in warnings {
                let (item, w) = locate(w);
                cx.string_warning("conlink::check::netem_repeated", item, w);
            }
            Some(n)
        }
        Err(e) => {
            let (item, e) = locate(e);
            cx.string_error("conlink::check::netem", "netem", item, e);
            None
        }
    }
}

/// An `ethtool` setting that is not `-K FEATURE on|off …` with features ethtool knows.
/// Returns the settings.
pub fn ethtool(cx: &mut Checker, e: &Spanned<String>) -> Option<Ethtool> {
    parse_ethtool(&e.value)
        .map_err(|err| cx.string_error("conlink::check::ethtool", "ethtool setting", e, err))
        .ok()
}

/// A `forward` that is not `EXTERNAL:TARGET/tcp|udp`. Returns the forward.
pub fn forward(cx: &mut Checker, f: &Spanned<String>) -> Option<Forward> {
    parse_forward(&f.value)
        .map_err(|e| cx.string_error("conlink::check::forward", "forward", f, e))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::super::testing::case;
    use super::*;

    /// The codes a rule reports on the first item of `PROPERTY: VALUE` on a link.
    fn first_item<T>(
        property: &str,
        value: &str,
        rule: fn(&mut Checker, &Spanned<String>) -> Option<T>,
    ) -> Vec<&'static str> {
        let c = case(&format!(
            "links: [{{service: a, bridge: s, {property}: '{value}'}}]"
        ));
        let l = c.link();
        let list = match property {
            "route" => &l.route,
            "ethtool" => &l.ethtool,
            "forward" => &l.forward,
            other => panic!("no list property {other}"),
        };
        let item = list.as_ref().unwrap().0[0].clone();
        let (codes, value) = c.run(|cx| rule(cx, &item));
        assert_eq!(value.is_some(), codes.is_empty());
        codes
    }

    #[test]
    fn route_reports_routes_that_do_not_parse() {
        let on_eth0 = |cx: &mut Checker, r: &Spanned<String>| route(cx, "eth0", r);
        assert!(first_item("route", "default via 10.0.0.1", on_eth0).is_empty());
        assert!(first_item("route", "default via 10.0.0.1 dev eth0", on_eth0).is_empty());
        assert_eq!(
            first_item("route", "default via 10.0.0.1 dev eth1", on_eth0),
            ["conlink::check::route"]
        );
    }

    #[test]
    fn netem_reports_settings_that_do_not_parse() {
        let c = case("links: [{service: a, bridge: s, netem: [delay 10ms, loss 200%]}]");
        let list = c.link().netem.clone().unwrap();
        let (codes, value) = c.run(|cx| netem(cx, &list));
        assert_eq!((codes, value), (vec!["conlink::check::netem"], None));
        let c = case("links: [{service: a, bridge: s, netem: [delay 10ms, loss 2%]}]");
        let list = c.link().netem.clone().unwrap();
        assert!(c.run(|cx| netem(cx, &list)).1.is_some());
    }

    #[test]
    fn netem_warns_of_repeated_options_and_keeps_the_last() {
        let c =
            case("links: [{service: a, bridge: s, netem: [delay 10ms, rate 1mbit delay 20ms]}]");
        let list = c.link().netem.clone().unwrap();
        let (codes, value) = c.run(|cx| netem(cx, &list));
        assert_eq!(codes, ["conlink::check::netem_repeated"]);
        assert_eq!(value.unwrap().delay.unwrap().time_ns, 20_000_000);
    }

    #[test]
    fn ethtool_reports_settings_that_do_not_parse() {
        assert!(first_item("ethtool", "-K tx off", ethtool).is_empty());
        assert_eq!(
            first_item("ethtool", "-s eth0 speed 100", ethtool),
            ["conlink::check::ethtool"]
        );
    }

    #[test]
    fn forward_reports_forwards_that_do_not_parse() {
        assert!(first_item("forward", "8080:80/tcp", forward).is_empty());
        assert_eq!(
            first_item("forward", "8080:80", forward),
            ["conlink::check::forward"]
        );
    }
}
