//! CPU seconds per GiB of each `--checksum-algorithm`, with the code s3up
//! runs (`s3up::checksum::Hasher`, and the SHA-256 every part gets anyway),
//! over data in memory through the same 128 KiB chunks as s3up's hash pass.
//! The README's "Checksums" table comes from it:
//!
//! ```text
//! cargo run --release --example checksum_cost [-- GIB ROUNDS]
//! ```
//!
//! CPU time is the process's user+sys (getrusage through /proc/self/stat,
//! in clock ticks), the best of ROUNDS (default 3) passes over GIB (default
//! 1) GiB each; one thread, so it is also the wall time of one hash job.

use s3up::checksum::{Algorithm, Hasher};

const CHUNK: usize = 128 * 1024;

/// The process's CPU time so far (user + sys), in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name's closing parenthesis; utime and stime are
    // fields 14 and 15 of the whole line, 12 and 13 after it.
    let after = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let gib: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(1);
    let rounds: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let total = gib << 30;
    // 64 MiB of varied bytes, hashed over and over (from the cache, as a
    // part just read is).
    let data: Vec<u8> = (0..64u64 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    println!("| algorithm | CPU s/GiB, alone | CPU s/GiB, s3up's pass (SHA-256 + it) |");
    println!("|---|---|---|");
    for algorithm in Algorithm::ALL {
        let alone = best(rounds, total, &data, &[algorithm]);
        let pass = if algorithm == Algorithm::Sha256 {
            alone
        } else {
            best(rounds, total, &data, &[Algorithm::Sha256, algorithm])
        };
        println!(
            "| {} | {:.2} | {:.2} |",
            algorithm.name(),
            alone / gib as f64,
            pass / gib as f64
        );
    }
}

/// The least CPU time, over `rounds`, to hash `total` bytes with each of `algorithms`.
fn best(rounds: u32, total: u64, data: &[u8], algorithms: &[Algorithm]) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let cpu = cpu_seconds();
        let mut hashers: Vec<Hasher> = algorithms.iter().map(|a| Hasher::new(*a)).collect();
        let mut done = 0;
        while done < total {
            for chunk in data.chunks(CHUNK) {
                for h in &mut hashers {
                    h.update(chunk);
                }
            }
            done += data.len() as u64;
        }
        for h in hashers {
            std::hint::black_box(h.finish());
        }
        best = best.min(cpu_seconds() - cpu);
    }
    best
}
