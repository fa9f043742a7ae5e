//! What the netem options hold where tc cannot be asked (beyond what tc 6.1 expresses),
//! and their decoding. The byte-for-byte comparison with tc is in
//! `tests/request_bytes.rs`.

use super::*;
use compiler::strings::netem::parse_netem;

fn netem(s: &str) -> Netem {
    parse_netem(s).unwrap_or_else(|e| panic!("{s}: {e:?}"))
}

/// The attributes after `tc_netem_qopt`, as (type, value).
fn attrs(options: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = QOPT_LEN;
    while at < options.len() {
        let len = usize::from(u16::from_ne_bytes([options[at], options[at + 1]]));
        let kind = u16::from_ne_bytes([options[at + 2], options[at + 3]]);
        out.push((kind, options[at + 4..at + len].to_vec()));
        at += len.next_multiple_of(4);
    }
    assert_eq!(at, options.len());
    out
}

fn qopt(options: &[u8]) -> [u32; 6] {
    std::array::from_fn(|i| u32::from_ne_bytes(options[i * 4..i * 4 + 4].try_into().unwrap()))
}

fn options(s: &str) -> Vec<u8> {
    netem_options(&netem(s), None).unwrap()
}

#[test]
fn whole_ticks_need_no_64_bit_times() {
    let o = options("delay 40ms 10ms");
    assert_eq!(qopt(&o), [625_000, 1000, 0, 0, 0, 156_250]);
    assert_eq!(attrs(&o), vec![]);
}

#[test]
fn times_ticks_cannot_carry_also_go_as_64_bit_nanoseconds() {
    // 1500 µs is 23437.5 ticks: tc sends 23437 (1.499968 ms); conlink adds the exact time.
    let o = options("delay 1500us 7ns");
    assert_eq!(qopt(&o)[0], 23_437);
    assert_eq!(qopt(&o)[5], 0);
    assert_eq!(
        attrs(&o),
        vec![
            (TCA_NETEM_LATENCY64, 1_500_000i64.to_ne_bytes().to_vec()),
            (TCA_NETEM_JITTER64, 7i64.to_ne_bytes().to_vec()),
        ]
    );
    // Beyond u32::MAX ticks (about 274.9 s): the ticks saturate.
    let o = options("delay 300s");
    assert_eq!(qopt(&o)[0], u32::MAX);
    assert_eq!(
        attrs(&o),
        vec![(
            TCA_NETEM_LATENCY64,
            300_000_000_000i64.to_ne_bytes().to_vec()
        )]
    );
    // The largest time that still fits in ticks, exactly.
    let max_ns = u64::from(u32::MAX) * 64;
    let o = options(&format!("delay {max_ns}ns"));
    assert_eq!((qopt(&o)[0], attrs(&o)), (u32::MAX, vec![]));
    let o = options(&format!("delay {}ns", max_ns + 64));
    assert_eq!(attrs(&o).len(), 1);
}

#[test]
fn rates_above_32_bits_go_as_rate64_first() {
    let o = options("rate 40gbit");
    let rate = [u32::MAX, 0, 0, 0]
        .iter()
        .flat_map(|v| v.to_ne_bytes())
        .collect::<Vec<_>>();
    assert_eq!(
        attrs(&o),
        vec![
            (TCA_NETEM_RATE64, 5_000_000_000u64.to_ne_bytes().to_vec()),
            (TCA_NETEM_RATE, rate),
        ]
    );
    // Exactly 2³² − 1 bytes per second still fits.
    let bits = u64::from(u32::MAX) * 8;
    let o = options(&format!("rate {bits}bit"));
    assert_eq!(attrs(&o).len(), 1);
    // Bits round down to bytes.
    let o = options("rate 15bit");
    assert_eq!(attrs(&o)[0].1[..4], 1u32.to_ne_bytes());
}

#[test]
fn a_duplicate_correlation_alone_is_sent() {
    let o = options("duplicate 1% 4%");
    let four = Percent::from_ppb(40_000_000).unwrap().to_kernel();
    let corr = [0, 0, four]
        .iter()
        .flat_map(|v| v.to_ne_bytes())
        .collect::<Vec<_>>();
    assert_eq!(attrs(&o), vec![(TCA_NETEM_CORR, corr)]);
}

#[test]
fn gap_defaults_to_one_only_with_a_reorder_probability() {
    assert_eq!(qopt(&options("delay 1ms reorder 5%"))[3], 1);
    assert_eq!(qopt(&options("delay 1ms reorder 0%"))[3], 0);
    assert_eq!(qopt(&options("delay 1ms reorder 5% gap 7"))[3], 7);
}

#[test]
fn distribution_tables() {
    let n = netem("delay 10ms 5ms distribution normal");
    assert_eq!(
        netem_options(&n, None),
        Err(NetemError::TableMissing {
            distribution: Distribution::Normal
        })
    );
    let pareto = DistTable {
        distribution: Distribution::Pareto,
        values: vec![1],
    };
    assert!(netem_options(&n, Some(&pareto)).is_err(), "wrong table");
    let table = DistTable::parse(
        Distribution::Normal,
        "# a comment\n 1 -2\t3\n\n# 99\n-32768 32767\n",
    )
    .unwrap();
    assert_eq!(table.values, vec![1, -2, 3, -32768, 32767]);
    let o = netem_options(&n, Some(&table)).unwrap();
    let bytes: Vec<u8> = table.values.iter().flat_map(|v| v.to_ne_bytes()).collect();
    assert_eq!(attrs(&o), vec![(TCA_NETEM_DELAY_DIST, bytes)]);
    // Uniform needs no table and sends none.
    let u = netem("delay 10ms 5ms distribution uniform");
    assert_eq!(attrs(&netem_options(&u, None).unwrap()), vec![]);
    assert_eq!(DistTable::load(Distribution::Uniform), Ok(None));

    for (text, error) in [
        ("1 2 x", "line 1: `x` is not a number from -32768 to 32767"),
        (
            "\n32768",
            "line 2: `32768` is not a number from -32768 to 32767",
        ),
        ("# only a comment\n", "the table is empty"),
    ] {
        assert_eq!(
            DistTable::parse(Distribution::Normal, text).map_err(|e| e.to_string()),
            Err(error.to_string())
        );
    }
    let too_long = "1 ".repeat(NETEM_DIST_MAX + 1);
    assert!(DistTable::parse(Distribution::Normal, &too_long)
        .unwrap_err()
        .to_string()
        .contains("more than the kernel's 16384"));
}

#[test]
fn a_missing_table_names_where_it_looked() {
    let e = NetemError::TableNotFound {
        distribution: Distribution::Pareto,
        searched: vec!["/a/tc".into(), "/b/tc".into()],
    };
    assert_eq!(
        e.to_string(),
        "netem `distribution pareto` needs tc's table pareto.dist, found in none of: /a/tc, /b/tc; \
         install iproute2 (it ships the tables), point TC_LIB_DIR at a directory holding it, \
         or use `distribution uniform`"
    );
    let search = DistTable::search_path();
    assert!(search.contains(&PathBuf::from("/usr/lib/tc")), "{search:?}");
}

#[test]
fn decoding_gives_back_what_was_asked() {
    let n = netem(
        "delay 1500us 3ms 10% loss 1% 2% duplicate 3% 4% corrupt 5% 6% reorder 7% 8% gap 9 \
         rate 40gbit limit 100",
    );
    let p = NetemParams::requested(&n);
    let k = |ppb: u32| Percent::from_ppb(ppb).unwrap().to_kernel();
    assert_eq!(
        p,
        NetemParams {
            latency_ns: 1_500_000,
            jitter_ns: 3_000_000,
            limit: 100,
            loss: k(10_000_000),
            gap: 9,
            duplicate: k(30_000_000),
            delay_corr: k(100_000_000),
            loss_corr: k(20_000_000),
            dup_corr: k(40_000_000),
            reorder: k(70_000_000),
            reorder_corr: k(80_000_000),
            corrupt: k(50_000_000),
            corrupt_corr: k(60_000_000),
            rate: 5_000_000_000,
        }
    );
    // A distribution does not change the parameters (and needs no table for them).
    let with_dist = netem("delay 10ms 5ms distribution pareto");
    assert_eq!(NetemParams::requested(&with_dist).jitter_ns, 5_000_000);
    assert_eq!(NetemParams::decode(&[0; 23]), None);
    assert_eq!(NetemParams::decode(&[0; 24]).unwrap().limit, 0);
}
