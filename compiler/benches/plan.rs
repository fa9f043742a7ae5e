//! Compiler benchmark: time and peak heap from YAML text to a finished plan, for
//! generated configurations of 1k, 10k and 100k links, beside the cost of only parsing
//! the same YAML (the floor).
//!
//! Run: `cargo bench -p compiler --bench plan` (optionally `-- 1000 10000` for sizes).
//! Each figure is the median of several runs; heap peaks come from a counting
//! allocator installed in this binary only.

#![allow(clippy::print_stdout)] // a benchmark prints its table

use compiler::interpolate::Env;
use compiler::source::{SourceFile, SourceKind};
use std::alloc::{GlobalAlloc, Layout};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::{Duration, Instant};

/// Counts live heap bytes and their peak, allocating through the system allocator as
/// the `conlink` binary does.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
/// Counting is switched on only for the runs that measure memory: shared counters
/// updated on every allocation would slow down (and serialise) the timed runs.
static COUNTING: AtomicBool = AtomicBool::new(false);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { std::alloc::System.alloc(layout) };
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            let live =
                LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed) + layout.size() as isize;
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { std::alloc::System.realloc(ptr, layout, new_size) };
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            if new_size >= layout.size() {
                let grow = (new_size - layout.size()) as isize;
                let live = LIVE.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub((layout.size() - new_size) as isize, Ordering::Relaxed);
            }
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { std::alloc::System.dealloc(ptr, layout) };
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Links per service (each on its own bridge and dev) and replicas per service.
const LINKS_PER_SERVICE: usize = 5;
const REPLICAS: usize = 2;
/// Link instances per bridge.
const PER_BRIDGE: usize = 50;

/// A compose file whose services together have `links` link instances.
fn generate(links: usize) -> String {
    let services = links.div_ceil(LINKS_PER_SERVICE * REPLICAS);
    let bridges = links.div_ceil(PER_BRIDGE).max(1);
    let mut y = String::with_capacity(links * 120);
    y.push_str("name: bench\nservices:\n");
    for s in 0..services {
        let _ = write!(
            y,
            "  svc{s}:\n    image: busybox\n    scale: {REPLICAS}\n    x-network:\n      links:\n"
        );
        for l in 0..LINKS_PER_SERVICE {
            let n = s * LINKS_PER_SERVICE + l;
            let bridge = n % bridges;
            // Each service gets two consecutive addresses in a /8 (room for 16M).
            let host = 2 * s as u32 + 1;
            let _ = writeln!(
                y,
                "        - {{dev: eth{l}, bridge: br{bridge}, ip: 10.{}.{}.{}/8, mtu: 1500}}",
                (host >> 16) & 0xff,
                (host >> 8) & 0xff,
                host & 0xff
            );
        }
    }
    y
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs `f` `runs` times untraced and returns the median time, then once more with
/// allocation counting on and returns the heap peak above what was in use before.
/// (The live count is signed: memory allocated before the counted run and freed during
/// it takes it below zero, which only lowers the peak the run itself reaches.)
fn measure<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, usize) {
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let out = f();
        times.push(t.elapsed());
        drop(out);
    }
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let out = f();
    let peak = PEAK.load(Ordering::Relaxed).max(0) as usize;
    COUNTING.store(false, Ordering::Relaxed);
    drop(out);
    (median(times), peak)
}

fn mib(b: usize) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect::<Vec<_>>();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000, 100_000]
    } else {
        sizes
    };
    let env = Env::new();
    let opts = compiler::Options {
        project: Some("bench".into()),
        ..compiler::Options::default()
    };

    println!(
        "{:>8} {:>9} | {:>10} {:>10} | {:>10} {:>9} | {:>10} {:>9} | {:>7} {:>6}",
        "links",
        "yaml KiB",
        "events ms",
        "tree ms",
        "plan ms",
        "plan MiB",
        "+text ms",
        "text MiB",
        "x parse",
        "x tree"
    );
    for &n in &sizes {
        let text = generate(n);
        let runs = if n >= 100_000 { 3 } else { 7 };

        // The floor: the YAML parser's events alone, then our span-carrying tree.
        let (events, _) = measure(runs, || {
            let mut count = 0usize;
            for ev in saphyr_parser::Parser::new_from_str(&text) {
                count += usize::from(ev.is_ok());
            }
            count
        });
        let (tree, _) = measure(runs, || {
            compiler::load::yaml::parse(compiler::source::FileId(0), &text).ok()
        });

        // File text to finished plan.
        let compile = || {
            let files = vec![SourceFile::new(
                "bench.yaml",
                text.clone(),
                SourceKind::Compose,
            )];
            compiler::compile(files, &env, &opts)
        };
        let check = compile();
        assert!(
            check.plan.is_some(),
            "generated configuration failed: {:?}",
            check.diagnostics
        );
        let steps: usize = check
            .plan
            .as_ref()
            .unwrap()
            .units
            .iter()
            .map(|u| u.steps.len())
            .sum();
        drop(check);
        let (plan_t, plan_mem) = measure(runs, compile);
        let (text_t, text_mem) = measure(runs, || {
            compile().plan.map(|p| compiler::render::text::render(&p))
        });

        println!(
            "{:>8} {:>9} | {:>10.1} {:>10.1} | {:>10.1} {:>9.1} | {:>10.1} {:>9.1} | {:>7.2} {:>6.2}",
            n,
            text.len() / 1024,
            ms(events),
            ms(tree),
            ms(plan_t),
            mib(plan_mem),
            ms(text_t),
            mib(text_mem),
            plan_t.as_secs_f64() / events.as_secs_f64(),
            plan_t.as_secs_f64() / tree.as_secs_f64(),
        );
        eprintln!("  ({n} links: {steps} plan steps)");
    }
    println!();
    println!(
        "events: saphyr-parser events only (the bare parse); tree: conlink's YAML tree with spans;"
    );
    println!("plan: file text to finished Plan (parse, interpolate, schema, merge, check, lower);");
    println!("MiB: peak heap of one such run (counted apart from the timed runs);");
    println!("+text: the same plus rendering `conlink plan` text; x parse = plan time / bare parse (events) time;");
    println!("x tree = plan time / time to parse the YAML into a tree (with spans).");
}
