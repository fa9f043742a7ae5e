//! The nf_tables wire format: numbers from the kernel's uapi headers
//! (`linux/netfilter/nfnetlink.h`, `linux/netfilter/nf_tables.h`,
//! `linux/netfilter.h`), an attribute writer and an attribute reader.
//!
//! Every nf_tables message body is a `struct nfgenmsg` (family, version, resource id;
//! 4 bytes) followed by netlink attributes. Unlike rtnetlink, nf_tables integers are
//! **big-endian** (the kernel reads them with `ntohl`), strings are NUL-terminated, and
//! nested attributes carry `NLA_F_NESTED`.

/// `NFNL_SUBSYS_NFTABLES`: the nfnetlink subsystem; a message type is `subsys << 8 | msg`.
pub const NFNL_SUBSYS_NFTABLES: u16 = 10;
/// `NFNL_MSG_BATCH_BEGIN` / `_END` (`NLMSG_MIN_TYPE` and the next one).
pub const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
pub const NFNL_MSG_BATCH_END: u16 = 0x11;
const NFNETLINK_V0: u8 = 0;

// enum nf_tables_msg_types
pub const NFT_MSG_NEWTABLE: u16 = 0;
pub const NFT_MSG_GETTABLE: u16 = 1;
pub const NFT_MSG_DELTABLE: u16 = 2;
pub const NFT_MSG_NEWCHAIN: u16 = 3;
pub const NFT_MSG_GETCHAIN: u16 = 4;
pub const NFT_MSG_NEWRULE: u16 = 6;
pub const NFT_MSG_GETRULE: u16 = 7;

// enum nft_table_attributes
pub const NFTA_TABLE_NAME: u16 = 1;
// enum nft_chain_attributes
pub const NFTA_CHAIN_TABLE: u16 = 1;
pub const NFTA_CHAIN_NAME: u16 = 3;
pub const NFTA_CHAIN_HOOK: u16 = 4;
pub const NFTA_CHAIN_TYPE: u16 = 7;
// enum nft_hook_attributes
pub const NFTA_HOOK_HOOKNUM: u16 = 1;
pub const NFTA_HOOK_PRIORITY: u16 = 2;
// enum nft_rule_attributes
pub const NFTA_RULE_TABLE: u16 = 1;
pub const NFTA_RULE_CHAIN: u16 = 2;
pub const NFTA_RULE_EXPRESSIONS: u16 = 4;
// enum nft_list_attributes / nft_expr_attributes
pub const NFTA_LIST_ELEM: u16 = 1;
pub const NFTA_EXPR_NAME: u16 = 1;
pub const NFTA_EXPR_DATA: u16 = 2;
// enum nft_data_attributes
pub const NFTA_DATA_VALUE: u16 = 1;
// enum nft_meta_attributes and the keys conlink matches on (enum nft_meta_keys)
pub const NFTA_META_DREG: u16 = 1;
pub const NFTA_META_KEY: u16 = 2;
pub const NFT_META_IIFNAME: u32 = 6;
pub const NFT_META_OIFNAME: u32 = 7;
pub const NFT_META_NFPROTO: u32 = 15;
pub const NFT_META_L4PROTO: u32 = 16;
// enum nft_cmp_attributes, enum nft_cmp_ops
pub const NFTA_CMP_SREG: u16 = 1;
pub const NFTA_CMP_OP: u16 = 2;
pub const NFTA_CMP_DATA: u16 = 3;
pub const NFT_CMP_EQ: u32 = 0;
// enum nft_payload_attributes, enum nft_payload_bases
pub const NFTA_PAYLOAD_DREG: u16 = 1;
pub const NFTA_PAYLOAD_BASE: u16 = 2;
pub const NFTA_PAYLOAD_OFFSET: u16 = 3;
pub const NFTA_PAYLOAD_LEN: u16 = 4;
pub const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
pub const NFT_PAYLOAD_TRANSPORT_HEADER: u32 = 2;
// enum nft_immediate_attributes
pub const NFTA_IMMEDIATE_DREG: u16 = 1;
pub const NFTA_IMMEDIATE_DATA: u16 = 2;
// enum nft_nat_attributes, enum nft_nat_types
pub const NFTA_NAT_TYPE: u16 = 1;
pub const NFTA_NAT_FAMILY: u16 = 2;
pub const NFTA_NAT_REG_ADDR_MIN: u16 = 3;
pub const NFTA_NAT_REG_PROTO_MIN: u16 = 5;
pub const NFTA_NAT_FLAGS: u16 = 7;
pub const NFT_NAT_SNAT: u32 = 0;
pub const NFT_NAT_DNAT: u32 = 1;
/// `NF_NAT_RANGE_PROTO_SPECIFIED` (linux/netfilter/nf_nat.h): the nat expression
/// rewrites the port too. nft sends it explicitly; the kernel would also infer it.
pub const NF_NAT_RANGE_PROTO_SPECIFIED: u32 = 1 << 1;

/// The 16-byte data registers `NFT_REG_1` and `NFT_REG_2` (enum nft_registers), the
/// ones nft itself uses for matches and nat.
pub const NFT_REG_1: u32 = 1;
pub const NFT_REG_2: u32 = 2;

// enum nfproto (linux/netfilter.h): table and nat families.
pub const NFPROTO_INET: u8 = 1;
pub const NFPROTO_IPV4: u8 = 2;
pub const NFPROTO_IPV6: u8 = 10;

// enum nf_inet_hooks (linux/netfilter.h)
pub const NF_INET_PRE_ROUTING: u32 = 0;
pub const NF_INET_LOCAL_IN: u32 = 1;
pub const NF_INET_FORWARD: u32 = 2;
pub const NF_INET_LOCAL_OUT: u32 = 3;
pub const NF_INET_POST_ROUTING: u32 = 4;

/// `IFNAMSIZ`: `meta iifname`/`oifname` load the whole 16-byte, NUL-padded name.
pub const IFNAMSIZ: usize = 16;

const NLA_F_NESTED: u16 = 1 << 15;
const NLA_TYPE_MASK: u16 = !(1 << 15 | 1 << 14);
const NLA_HDRLEN: usize = 4;

/// The full netlink message type of an nf_tables message.
pub fn msg_type(msg: u16) -> u16 {
    NFNL_SUBSYS_NFTABLES << 8 | msg
}

/// A message body under construction: the `nfgenmsg` header, then attributes.
#[derive(Default)]
pub struct Body {
    buf: Vec<u8>,
}

impl Body {
    /// A body for family `family` (an `NFPROTO_*`, or 0 for all families in a dump).
    pub fn new(family: u8) -> Body {
        Body::with_res_id(family, 0)
    }

    /// The body of a batch marker: its resource id names the subsystem the batch is
    /// for, in network byte order.
    pub fn batch_marker() -> Body {
        Body::with_res_id(0, NFNL_SUBSYS_NFTABLES)
    }

    fn with_res_id(family: u8, res_id: u16) -> Body {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[family, NFNETLINK_V0]);
        buf.extend_from_slice(&res_id.to_be_bytes());
        Body { buf }
    }

    pub fn bytes(&mut self, ty: u16, data: &[u8]) -> &mut Body {
        let len = NLA_HDRLEN + data.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.pad();
        self
    }

    /// A NUL-terminated string, as the kernel's `NLA_STRING` policy expects from nft.
    pub fn str(&mut self, ty: u16, s: &str) -> &mut Body {
        let mut data = Vec::with_capacity(s.len() + 1);
        data.extend_from_slice(s.as_bytes());
        data.push(0);
        self.bytes(ty, &data)
    }

    /// A 32-bit integer in network byte order (nf_tables reads every u32 with `ntohl`).
    pub fn be32(&mut self, ty: u16, v: u32) -> &mut Body {
        self.bytes(ty, &v.to_be_bytes())
    }

    /// A nested attribute whose content `fill` writes; its length is patched in after.
    pub fn nest(&mut self, ty: u16, fill: impl FnOnce(&mut Body)) -> &mut Body {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0, 0]);
        self.buf
            .extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        fill(self);
        let len = (self.buf.len() - start) as u16;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }

    /// `NFTA_*_DATA` style value: a nest holding one `NFTA_DATA_VALUE`.
    pub fn data_value(&mut self, ty: u16, value: &[u8]) -> &mut Body {
        self.nest(ty, |b| {
            b.bytes(NFTA_DATA_VALUE, value);
        })
    }

    fn pad(&mut self) {
        self.buf.resize(self.buf.len().next_multiple_of(4), 0);
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }
}

/// A whole request (netlink header included) for [`crate::netlink::Socket::dump_raw_with`],
/// which fills in the sequence number.
pub fn request(msg_type: u16, flags: u16, body: &Body) -> Vec<u8> {
    let payload = body.as_bytes();
    let mut out = Vec::with_capacity(16 + payload.len());
    out.extend_from_slice(&(16 + payload.len() as u32).to_ne_bytes());
    out.extend_from_slice(&msg_type.to_ne_bytes());
    out.extend_from_slice(&(flags | libc::NLM_F_REQUEST as u16).to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(payload);
    out
}

/// One nf_tables message from the kernel: its type, family and attributes.
pub struct Reply<'a> {
    pub msg_type: u16,
    pub family: u8,
    attrs: &'a [u8],
}

impl<'a> Reply<'a> {
    /// Parses a whole message (netlink header included); `None` if it is too short.
    pub fn parse(msg: &'a [u8]) -> Option<Reply<'a>> {
        if msg.len() < 20 {
            return None;
        }
        Some(Reply {
            msg_type: u16::from_ne_bytes([msg[4], msg[5]]),
            family: msg[16],
            attrs: &msg[20..],
        })
    }

    /// The first attribute of type `ty`.
    pub fn attr(&self, ty: u16) -> Option<&'a [u8]> {
        attrs(self.attrs).find(|(t, _)| *t == ty).map(|(_, v)| v)
    }

    /// A string attribute, without its terminating NUL.
    pub fn string(&self, ty: u16) -> Option<String> {
        let raw = self.attr(ty)?;
        let raw = raw.split(|b| *b == 0).next().unwrap_or(&[]);
        Some(String::from_utf8_lossy(raw).into_owned())
    }
}

/// The attributes in `buf`, as (type without flag bits, value).
pub fn attrs(mut buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if buf.len() < NLA_HDRLEN {
            return None;
        }
        let len = u16::from_ne_bytes([buf[0], buf[1]]) as usize;
        let ty = u16::from_ne_bytes([buf[2], buf[3]]) & NLA_TYPE_MASK;
        if len < NLA_HDRLEN || len > buf.len() {
            return None;
        }
        let value = &buf[NLA_HDRLEN..len];
        buf = &buf[len.next_multiple_of(4).min(buf.len())..];
        Some((ty, value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_padded_and_nests_measured() {
        let mut b = Body::new(NFPROTO_IPV4);
        b.str(NFTA_TABLE_NAME, "t").nest(NFTA_CHAIN_HOOK, |b| {
            b.be32(NFTA_HOOK_HOOKNUM, 4);
        });
        let bytes = b.as_bytes();
        // nfgenmsg: family ipv4, version 0, res_id 0.
        assert_eq!(&bytes[..4], &[2, 0, 0, 0]);
        // "t\0": length 6, padded to 8.
        assert_eq!(&bytes[4..12], &[6, 0, 1, 0, b't', 0, 0, 0]);
        // The nest: 4 header + 8 for the u32 attribute, with NLA_F_NESTED.
        assert_eq!(&bytes[12..16], &[12, 0, 4, 0x80]);
        assert_eq!(&bytes[16..24], &[8, 0, 1, 0, 0, 0, 0, 4]);
    }

    #[test]
    fn batch_marker_names_the_subsystem_big_endian() {
        assert_eq!(Body::batch_marker().as_bytes(), &[0, 0, 0, 10]);
    }

    #[test]
    fn reader_walks_what_the_writer_wrote() {
        let mut b = Body::new(NFPROTO_INET);
        b.str(NFTA_CHAIN_TABLE, "tab").str(NFTA_CHAIN_NAME, "pre");
        let msg = request(msg_type(NFT_MSG_NEWCHAIN), 0, &b);
        let reply = Reply::parse(&msg).unwrap();
        assert_eq!(reply.family, NFPROTO_INET);
        assert_eq!(reply.msg_type, 10 << 8 | 3);
        assert_eq!(reply.string(NFTA_CHAIN_TABLE).as_deref(), Some("tab"));
        assert_eq!(reply.string(NFTA_CHAIN_NAME).as_deref(), Some("pre"));
        assert_eq!(reply.string(NFTA_RULE_EXPRESSIONS), None);
    }
}
