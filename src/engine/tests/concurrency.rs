//! Adaptive concurrency (issue 18) on the memory store: the run starts
//! several parts at once, and finishes every part exactly once.

use super::*;
use crate::engine::Concurrency;

#[tokio::test(start_paused = true)]
async fn an_adaptive_run_starts_parts_together_and_sends_each_once() {
    let fx = Fixture::new();
    let held = fx.store.hold_part(1);
    fx.store.fail_part(4, 1..=1, ErrorKind::Retryable);
    let (journal, lock) = fx.start().await;
    let id = journal.id.clone();
    let run = Run {
        concurrency: Concurrency::Auto { max: 64 },
        ..fx.run(3, 1, Cancel::new().1)
    };
    let sending = run_multipart(&run, journal, lock, fx.all(), Vec::new());
    let others = async {
        held.arrived().await;
        // While part 1 is held, the other parts go (8 at the start).
        while fx.store.part_calls().len() < PARTS as usize + 1 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        held.release();
    };
    let (result, ()) = tokio::join!(sending, others);
    let done = result.unwrap_or_else(|e| panic!("{e:?}"));
    let mut calls = fx.store.part_calls();
    calls.sort_unstable();
    assert_eq!(
        calls,
        vec![1, 2, 3, 4, 4, 5, 6],
        "part 4 twice, each other once"
    );
    assert!(!fx.has_journal(&id));
    assert_eq!(
        fx.memory()
            .object("bkt", "dir/file.bin")
            .unwrap()
            .checksum_sha256,
        done.finished.checksum_sha256
    );
}
