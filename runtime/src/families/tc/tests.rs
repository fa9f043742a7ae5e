//! The readback of tc filters and the header fields of filter requests.

use super::*;
use rtnetlink::packet_route::tc::TcMirrorActionType;

#[test]
fn redirect_target_needs_the_whole_shape() {
    let redirect = FilterInfo {
        kind: "u32".into(),
        handle: 0x8000_0800,
        parent: INGRESS_HANDLE,
        priority: 49152,
        protocol: 3,
        u32_keys: Some(vec![(0, 0, 0)]),
        mirred: vec![Mirred {
            action: TcMirrorActionType::EgressRedir,
            ifindex: 7,
        }],
    };
    assert_eq!(redirect.redirect_target(), Some(7));
    let mut mirror = redirect.clone();
    mirror.mirred[0].action = TcMirrorActionType::EgressMirror;
    assert_eq!(mirror.redirect_target(), None);
    let mut narrow = redirect.clone();
    narrow.u32_keys = Some(vec![(0xffff_ffff, 1, 0)]);
    assert_eq!(narrow.redirect_target(), None);
    let mut table = redirect;
    table.u32_keys = None;
    assert_eq!(table.redirect_target(), None);
}

#[test]
fn filter_header_fields() {
    // `protocol all` in network order in the low half, priority in the high half.
    assert_eq!(filter_info(0, ETH_P_ALL).to_ne_bytes(), [0, 3, 0, 0]);
    assert_eq!(filter_info(1, 0x0800), 0x0001_0008);
}
