//! Times lexing and parsing of every template file under a directory (a chart with its
//! subcharts), single-threaded: `cargo run --release -p rudder-engine --example parse_speed DIR [ROUNDS]`.
//! Used to see where the parse phase of `rudder template` goes; prints MB/s for each stage.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

/// mimalloc, counting the bytes live and the allocations made.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Relaxed);
        ALLOCS.fetch_add(1, Relaxed);
        unsafe { mimalloc::MiMalloc.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        unsafe { mimalloc::MiMalloc.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new, Relaxed);
        LIVE.fetch_sub(l.size(), Relaxed);
        ALLOCS.fetch_add(1, Relaxed);
        unsafe { mimalloc::MiMalloc.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn collect(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut ents: Vec<_> = rd.flatten().collect();
    ents.sort_by_key(|e| e.file_name());
    for e in ents {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.components().any(|c| c.as_os_str() == "templates") {
            if let Ok(t) = std::fs::read_to_string(&p) {
                out.push((p.display().to_string(), t));
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).expect("usage: parse_speed DIR [ROUNDS]");
    let rounds: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(20);
    let mut texts = Vec::new();
    collect(std::path::Path::new(dir), &mut texts);
    let bytes: usize = texts.iter().map(|(_, t)| t.len()).sum();
    let opts = || rudder_engine::lex::Options {
        break_ok: true,
        continue_ok: true,
    };
    let mut best_lex = f64::MAX;
    let mut tokens = 0;
    for _ in 0..rounds {
        let t0 = Instant::now();
        tokens = 0;
        for (_, t) in &texts {
            tokens += rudder_engine::lex::lex(t, "", "", opts()).items.len();
        }
        best_lex = best_lex.min(t0.elapsed().as_secs_f64());
    }
    let mut funcs = rudder_engine::funcs::helm();
    funcs.insert(
        "lookup",
        rudder_engine::Func::pure(
            rudder_engine::Signature::new(vec![], rudder_engine::GoType::String),
            |_| Ok(rudder_engine::Value::string("")),
        ),
    );
    let set = rudder_engine::TemplateSet::new(funcs);
    let mut best_parse = f64::MAX;
    let mut first = 0.0;
    for round in 0..rounds {
        let mut s = set.clone();
        let pairs: Vec<(&str, &str)> = texts
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let (live0, allocs0) = (LIVE.load(Relaxed), ALLOCS.load(Relaxed));
        let t0 = Instant::now();
        let mut errors = 0;
        for p in pairs.chunks(1) {
            if let Err((_, e)) = s.parse_all(p) {
                if errors == 0 {
                    eprintln!("{}", e.message);
                }
                errors += 1;
            }
        }
        assert_eq!(errors, 0, "templates that failed to parse");
        let took = t0.elapsed().as_secs_f64();
        if round == 0 {
            first = took;
            println!(
                "trees: {:.2} MB live in {} allocations",
                (LIVE.load(Relaxed) - live0) as f64 / 1e6,
                ALLOCS.load(Relaxed) - allocs0
            );
        }
        best_parse = best_parse.min(took);
    }
    let mb = bytes as f64 / 1e6;
    {
        use rudder_engine::parse::node::*;
        use std::mem::size_of;
        println!(
            "sizes: Node {} Arg {} Pipe {} Command {} Branch {} Number {}",
            size_of::<Node>(),
            size_of::<Arg>(),
            size_of::<Pipe>(),
            size_of::<Command>(),
            size_of::<Branch>(),
            size_of::<Number>()
        );
    }
    println!("{} files, {:.2} MB, {} tokens", texts.len(), mb, tokens);
    println!(
        "lex:   {:.2} ms ({:.0} MB/s)",
        best_lex * 1e3,
        mb / best_lex
    );
    println!(
        "parse: {:.2} ms ({:.0} MB/s, lexing included)",
        best_parse * 1e3,
        mb / best_parse
    );
    println!(
        "first parse round (fresh memory, as in one render): {:.2} ms",
        first * 1e3
    );
}
