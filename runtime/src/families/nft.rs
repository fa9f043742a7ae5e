//! nftables: a table of conlink's with its chains and rules, added in one atomic batch,
//! deleted whole. It is in place when a table of that name is there (conlink never
//! adopts a table it did not create: adding one that exists fails). The batches are
//! built by `crate::nft`; each namespace's nftables socket is opened once per run.

use crate::action::{Action, At, Check, Subject};
use crate::context::Context;
use crate::error::StepError;
use crate::nft;
use crate::places::Place;
use crate::state::Extra;
use compiler::plan::{NftChain, NftFamily, NftRule};

/// `nft -f …`: a table with its chains and rules (`Op::NftTableAdd`).
pub struct AddTable<'a> {
    pub family: NftFamily,
    pub table: &'a str,
    pub chains: &'a [NftChain],
}

/// `nft delete table FAMILY TABLE` (`Op::NftTableDel`).
pub struct DelTable<'a> {
    pub family: NftFamily,
    pub table: &'a str,
}

impl Action for AddTable<'_> {
    fn batched(&self) -> bool {
        false
    }

    fn check(&self, cx: &mut Context, at: &At, _: Option<&Extra>) -> Result<Check, StepError> {
        let there = match cx.live(at.ns)?.nft() {
            Ok(sock) => nft::list_tables(sock)?.contains(&(self.family, self.table.to_string())),
            Err(_) => false,
        };
        Ok(if there {
            Check::InPlace
        } else {
            Check::Missing
        })
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        // Only rules that name conlink's external interface or address need it.
        let external = if needs_external(self.chains) {
            Some(cx.external()?)
        } else {
            None
        };
        let sock = cx.place(at.ns)?.nft()?;
        nft::add_table(
            sock,
            self.family,
            self.table,
            self.chains,
            external.as_ref(),
        )?;
        Ok(Extra::None)
    }
}

impl Action for DelTable<'_> {
    fn batched(&self) -> bool {
        false
    }

    fn carry_out(&self, cx: &mut Context, at: &At, _: &Extra) -> Result<Extra, StepError> {
        let sock = cx.place(at.ns)?.nft()?;
        match nft::del_table(sock, self.family, self.table) {
            Err(e) if !e.is_gone() => Err(e.into()),
            _ => Ok(Extra::None),
        }
    }

    fn subject(&self) -> Option<Subject<'_>> {
        Some(Subject::NftTable(self.table))
    }
}

/// Whether a table's rules refer to conlink's external interface or address.
fn needs_external(chains: &[NftChain]) -> bool {
    chains.iter().flat_map(|c| c.rules.iter()).any(|r| match r {
        NftRule::Dnat { iif_external, .. } => *iif_external,
        NftRule::Snat { to, .. } => to.is_none(),
    })
}

/// Deletes the nft tables of `project` in a namespace (their names start with
/// `conlink.PROJECT.`; project names have no `.`), for `destroy`. Returns how many.
pub fn delete_project_tables(place: &mut Place, project: &str) -> Result<usize, StepError> {
    let prefix = crate::names::nft_table_prefix(project);
    let sock = place.nft()?;
    let mut n = 0;
    for (family, table) in nft::list_tables(sock)? {
        if table.starts_with(&prefix) {
            match nft::del_table(sock, family, &table) {
                Err(e) if !e.is_gone() => return Err(e.into()),
                _ => n += 1,
            }
        }
    }
    Ok(n)
}
