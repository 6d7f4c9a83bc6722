//! Verifying the parts a resume reuses (issue 9, items 11 and 12): changed
//! bytes are found and sent again, lost parts are adopted when they match,
//! and the check runs while other parts are in flight.

use super::*;

// Issue 9, item 11: a part already on the store whose bytes changed in the
// file (same size, mtime put back) is found by the re-hash that resume does
// by default, and sent again before Complete: the object is the file as it
// is now, never old bytes next to new ones.
#[tokio::test(start_paused = true)]
async fn resume_resends_a_part_whose_bytes_changed_since_it_was_uploaded() {
    let fx = Fixture::new();
    fx.store.fail_part(4, 1..=1, ErrorKind::Fatal);
    let (id, result) = fx.put(1).await;
    assert!(result.is_err());
    assert_eq!(fx.journalled(&id), vec![1, 2, 3]);
    fx.flip_byte(PART + 10); // inside part 2
    let before = fx.store.part_calls().len();
    let done = fx.resume(&id, true).await.expect("resume completes");
    assert_eq!(fx.parts_sent_since(before), vec![2, 4, 5, 6]);
    assert_eq!(fx.object_checksum(), Some(fx.file_checksum()));
    assert_eq!(done.finished.checksum_sha256, Some(fx.file_checksum()));
    assert_eq!(
        fx.progress.bytes.load(Ordering::SeqCst),
        fx.plan.size,
        "verified parts are counted once, the resent one once"
    );
    assert_eq!(fx.progress.acked.load(Ordering::SeqCst), fx.plan.size);
    assert!(!fx.has_journal(&id));
}

/// Issue 9, item 12: parts the store holds that the journal lost (a SIGKILL
/// between batched saves) are verified against the file and adopted, not
/// sent again; one whose bytes differ is sent again.
async fn lost_parts_are_adopted_when_they_match(fx: Fixture) {
    let id = fx.put_all_but_complete().await;
    let upload_id = fx.journal(&id).upload_id;
    let stored_before = fx.memory().stored_parts(&upload_id).unwrap();
    fx.forget(&id, &[2, 3, 5]);
    fx.flip_byte(4 * PART + 7); // inside part 5
                                // This resume's Complete fails too, so the journal it leaves can be read.
    fx.store
        .fail(Op::CompleteUpload, 4..=6, ErrorKind::Retryable);
    let before = fx.store.part_calls().len();
    let result = fx.resume(&id, true).await;
    assert_eq!(
        stopped_kind(&result),
        Some(ErrorKind::Retryable),
        "{result:?}"
    );
    assert_eq!(fx.parts_sent_since(before), vec![5], "2 and 3 were adopted");
    let journal = fx.journal(&id);
    assert_eq!(journal.parts.len(), PARTS as usize);
    for n in [2, 3] {
        let record = &journal.parts[n as usize - 1];
        assert_eq!(record.etag, stored_before[n as usize - 1].1, "part {n}");
        let part = fx.plan.part(n).unwrap();
        assert_eq!(record.sha256, b64(&part_sha(&fx.file, part)), "part {n}");
    }

    let before = fx.store.part_calls().len();
    fx.resume(&id, true).await.expect("resume completes");
    assert_eq!(fx.parts_sent_since(before), Vec::<u32>::new());
    assert_eq!(fx.object_checksum(), Some(fx.file_checksum()));
}

#[tokio::test(start_paused = true)]
async fn lost_parts_are_adopted_by_their_listed_sha256() {
    lost_parts_are_adopted_when_they_match(Fixture::new()).await;
}

#[tokio::test(start_paused = true)]
async fn lost_parts_are_adopted_by_their_md5_etag() {
    lost_parts_are_adopted_when_they_match(Fixture::with_store(MemoryStore::like_moto())).await;
}

// With the opt-out, a journalled part is trusted without being read again
// (so a byte changed in it goes unseen: the risk the README states), but a
// part the journal lost is still verified before it is adopted.
#[tokio::test(start_paused = true)]
async fn without_verification_journalled_parts_are_trusted_and_lost_ones_still_checked() {
    let fx = Fixture::new();
    let id = fx.put_all_but_complete().await;
    let sent_first = fx.file_checksum();
    fx.forget(&id, &[2, 3]);
    fx.flip_byte(5); // inside part 1, which the journal holds
    fx.flip_byte(2 * PART + 5); // inside part 3, which it lost
    let before = fx.store.part_calls().len();
    fx.resume(&id, false).await.expect("resume completes");
    assert_eq!(
        fx.parts_sent_since(before),
        vec![3],
        "part 1 trusted, part 2 adopted, part 3 sent again"
    );
    let object = fx.object_checksum();
    assert_ne!(object, Some(fx.file_checksum()), "part 1 was not re-read");
    assert_ne!(object, Some(sent_first));
}

// The check runs while parts are sent, not before them, and what it finds
// goes to the same workers: with the resume's first part held at the store,
// part 2 (changed in the file) is found, queued and sent again meanwhile.
#[tokio::test(start_paused = true)]
async fn a_changed_part_is_found_and_resent_while_parts_are_in_flight() {
    let fx = Fixture::new();
    fx.store.fail_part(4, 1..=1, ErrorKind::Fatal);
    let (id, result) = fx.put(1).await;
    assert!(result.is_err());
    fx.flip_byte(PART + 3); // inside part 2
    let before = fx.store.part_calls().len();
    let held = fx.store.hold(Op::UploadPart, before as u32 + 1);
    let resuming = fx.resume(&id, true);
    tokio::pin!(resuming);
    let wait = async {
        held.arrived().await;
        // Hashes run on real threads: wait in real time, not in the test's
        // paused time.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !fx.store.part_calls()[before..].contains(&2) {
            assert!(
                std::time::Instant::now() < deadline,
                "part 2 not resent while a part was in flight: {:?}",
                fx.store.part_calls()
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
            tokio::task::yield_now().await;
        }
    };
    tokio::select! {
        () = wait => {}
        result = &mut resuming => panic!("resume ended with a part held: {result:?}"),
    }
    held.release();
    resuming.await.expect("resume completes");
    assert_eq!(fx.parts_sent_since(before), vec![2, 4, 5, 6]);
    assert_eq!(fx.object_checksum(), Some(fx.file_checksum()));
}
