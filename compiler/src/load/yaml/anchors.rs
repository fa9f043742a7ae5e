//! Anchors and aliases: `&name` marks a node, `*name` stands for a copy of it.
//!
//! Aliases are expanded as the tree is built, so later stages never see them. A few
//! nested aliases can describe an exponentially large tree ("billion laughs"), so every
//! copy counts against [`MAX_NODES`].

use crate::diag::Diagnostic;
use crate::load::node::Node;
use crate::source::Span;
use std::collections::HashMap;

/// Upper bound on the number of nodes in one document, counting every copy an alias
/// makes. Real configuration files are many orders of magnitude smaller than this.
pub(super) const MAX_NODES: usize = 1_000_000;

/// Finished anchored nodes by saphyr's anchor id, with how many nodes each holds.
#[derive(Default)]
pub(super) struct Anchors(HashMap<usize, (Node, usize)>);

impl Anchors {
    /// Remembers a finished node that carries anchor `id`; `count` is how many nodes it
    /// holds, itself included.
    pub(super) fn register(&mut self, id: usize, node: &Node, count: usize) {
        self.0.insert(id, (node.clone(), count));
    }

    /// A copy of the node anchored as `id`, for an alias written at `at`, with its node
    /// count, which is added to `nodes` (the document's count so far).
    pub(super) fn expand(
        &self,
        id: usize,
        nodes: &mut usize,
        at: Span,
    ) -> Result<(Node, usize), Box<Diagnostic>> {
        let Some((node, count)) = self.0.get(&id) else {
            // saphyr rejects unknown anchors itself; an anchor it knows but we have not
            // finished is one whose alias sits inside the anchored node.
            return Err(Box::new(
                Diagnostic::error(
                    "conlink::yaml::alias",
                    "an alias cannot refer to a node that contains it",
                )
                .at(at, "recursive alias"),
            ));
        };
        *nodes = nodes.saturating_add(*count);
        if *nodes > MAX_NODES {
            return Err(Box::new(
                Diagnostic::error(
                    "conlink::yaml::too_large",
                    format!("aliases expand this document to more than {MAX_NODES} nodes"),
                )
                .at(at, "expanding this alias exceeds the limit"),
            ));
        }
        Ok((node.clone(), *count))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::load::node::Value;

    #[test]
    fn anchors_and_aliases_are_expanded() {
        let text = "base: &b {x: 1, y: [a, b]}\ncopy: *b\nname: &n hello\nagain: *n\n";
        let doc = ok(text);
        assert_eq!(get(&doc, "copy").value, get(&doc, "base").value);
        assert_eq!(get(&doc, "again").value, Value::Str("hello".into()));
        // Anchors may be redefined; an alias takes the latest definition.
        let doc = ok("a: &x 1\nb: &x 2\nc: *x\n");
        assert_eq!(get(&doc, "c").value, Value::Int(2));
    }

    #[test]
    fn alias_bombs_are_capped() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let d = errs(&text);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "conlink::yaml::too_large");
    }

    #[test]
    fn recursive_alias_is_an_error() {
        assert_eq!(errs("a: &a [1, *a]\n")[0].code, "conlink::yaml::alias");
    }
}
