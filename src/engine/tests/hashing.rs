//! Hashing ahead (issue 11): parts are hashed and announced before they are
//! sent, but not too far ahead, and a store that wants each part's MD5 gets
//! it from the same pass.

use super::*;

// Issue 11: each part is announced to the store, with its own SHA-256, once
// hashed and before it is sent, so a store that signs URLs can sign them while
// earlier parts are on the wire; but never more than `concurrency` parts
// beyond those in flight, so signed URLs stay young.
#[tokio::test(start_paused = true)]
async fn parts_are_announced_ahead_of_sending_but_not_too_far() {
    let fx = Fixture::new();
    let held = fx.store.hold_part(1);
    let (journal, lock) = fx.start().await;
    let run = fx.run(3, 1, Cancel::new().1);
    let sending = run_multipart(&run, journal, lock, fx.all(), Vec::new());
    let ahead = async {
        held.arrived().await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !fx.memory().announced().iter().any(|a| a.0 == 2) {
            assert!(
                std::time::Instant::now() < deadline,
                "part 2 was not announced while part 1 was being sent: {:?}",
                fx.memory().announced()
            );
            tokio::task::yield_now().await;
        }
        held.release();
    };
    let (result, ()) = tokio::join!(sending, ahead);
    result.unwrap();
    let announced = fx.memory().announced();
    // Hashes may finish out of order.
    let mut numbers: Vec<u32> = announced.iter().map(|a| a.0).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=PARTS as u32).collect::<Vec<_>>());
    for (n, sha, stored) in announced {
        let part = fx.plan.part(n).unwrap();
        assert_eq!(sha, part_sha(&fx.file, part), "part {n}'s checksum");
        // Concurrency 1: part n - 1 may be in flight, and part n one ahead.
        assert!(
            stored + 2 >= n,
            "part {n} announced with only {stored} parts stored"
        );
    }
    let two = fx
        .memory()
        .announced()
        .into_iter()
        .find(|a| a.0 == 2)
        .unwrap();
    assert_eq!(two.2, 0, "part 2 announced before part 1 was stored");
}

// A store that sends each part's MD5 (Companion's Content-MD5) gets it from
// the engine's hash pass, right for every part; others are not sent one.
#[tokio::test(start_paused = true)]
async fn the_md5_comes_from_the_hash_pass_when_the_store_wants_it() {
    let fx = Fixture::with_store(MemoryStore::wanting_md5());
    let (id, result) = fx.put(3).await;
    result.unwrap_or_else(|e| panic!("{e:?}"));
    assert!(!fx.has_journal(&id));
    assert_eq!(
        fx.store.calls(Op::UploadPart),
        PARTS as u32,
        "no part was refused"
    );
}
