//! Complete: a lost Complete answer is recognised by the object it made, a
//! check that cannot tell keeps the journal, and only the parts' own
//! multipart ETag counts as ours.

use super::*;

#[tokio::test(start_paused = true)]
async fn a_lost_complete_answer_is_recognised() {
    for if_none_match in [false, true] {
        let mut fx = Fixture::new();
        fx.if_none_match = if_none_match;
        fx.store.lose_answer(Op::CompleteUpload, 1);
        let (id, result) = fx.put(3).await;
        let done = result.unwrap_or_else(|e| panic!("if_none_match {if_none_match}: {e:?}"));
        assert_eq!(fx.store.calls(Op::CompleteUpload), 2);
        assert_eq!(
            fx.store.calls(Op::CompletedObject),
            1,
            "the store was asked"
        );
        assert_eq!(
            done.finished.checksum_sha256,
            fx.memory()
                .object("bkt", "dir/file.bin")
                .unwrap()
                .checksum_sha256
        );
        assert!(!fx.has_journal(&id));
    }
}

#[tokio::test(start_paused = true)]
async fn a_lost_complete_answer_survives_a_failing_check() {
    // The check after a lost answer is retried like any call.
    let mut fx = Fixture::new();
    fx.if_none_match = true;
    fx.store.lose_answer(Op::CompleteUpload, 1);
    fx.store
        .fail(Op::CompletedObject, 1..=1, ErrorKind::Retryable);
    let (id, result) = fx.put(3).await;
    result.unwrap_or_else(|e| panic!("{e:?}"));
    assert!(!fx.has_journal(&id));

    // A check the store refuses (a role that may write but not read) keeps
    // the journal: the object may well be ours.
    let mut fx = Fixture::new();
    fx.if_none_match = true;
    fx.store.lose_answer(Op::CompleteUpload, 1);
    fx.store
        .fail(Op::CompletedObject, 1..=99, ErrorKind::AccessDenied);
    let (id, result) = fx.put(3).await;
    assert!(
        matches!(result, Err(Error::Undetermined { .. })),
        "{result:?}"
    );
    assert!(fx.has_journal(&id), "the journal is kept");
}

// A late, unfinished attempt at a part shadows the finished one (Garage
// 2.5.0): ListParts lists the part, Complete refuses it. The resume sends
// every part once more and completes; a part shadowed again after that
// stops the run, the journal and the upload kept.
#[tokio::test(start_paused = true)]
async fn a_shadowed_part_is_sent_again_once() {
    let fx = Fixture::new();
    let id = fx.put_all_but_complete().await;
    let upload_id = fx.journal(&id).upload_id;
    fx.memory().shadow_part(&upload_id, 2);
    let before = fx.store.part_calls().len();
    let done = fx
        .resume(&id, false)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        fx.parts_sent_since(before),
        (1..=PARTS as u32).collect::<Vec<_>>()
    );
    assert_eq!(done.sent, fx.plan.size);
    assert!(!fx.has_journal(&id));
    assert_eq!(fx.object_checksum(), Some(fx.file_checksum()));
    let said: Vec<_> = fx.progress.statuses.lock().unwrap().clone();
    assert!(
        said.iter().any(|s| matches!(
            s,
            crate::engine::Status::Resending { parts, error } if *parts == PARTS && error.contains("InvalidPart")
        )),
        "{said:?}"
    );

    // Shadowed again once the parts were sent again: the store's refusal
    // stops the run. (Complete's calls: 3 by the put, 2 by the resume.)
    let fx = Fixture::new();
    let id = fx.put_all_but_complete().await;
    let upload_id = fx.journal(&id).upload_id;
    fx.memory().shadow_part(&upload_id, 2);
    let second = fx.store.hold(Op::CompleteUpload, 5);
    let resuming = fx.resume(&id, false);
    tokio::pin!(resuming);
    tokio::select! {
        r = &mut resuming => panic!("ended before its second Complete: {r:?}"),
        () = second.arrived() => {}
    }
    fx.memory().shadow_part(&upload_id, 2);
    second.release();
    let result = resuming.await;
    assert_eq!(stopped_kind(&result), Some(ErrorKind::Fatal), "{result:?}");
    let Err(Error::Stopped { error, .. }) = &result else {
        unreachable!()
    };
    assert!(error.message.contains("InvalidPart"), "{error:?}");
    assert!(fx.has_journal(&id), "the journal is kept");
    assert_eq!(fx.memory().open_uploads(), vec![upload_id]);
}

#[test]
fn invalid_part_is_recognised_from_each_store() {
    use crate::engine::complete::is_invalid_part;
    let said = |kind, message: &str| {
        crate::store::StoreError::new(kind, "CompleteMultipartUpload", message)
    };
    // The SDK (Garage's words), serve, Companion relaying S3's error.
    for (kind, message) in [
        (
            ErrorKind::Fatal,
            "InvalidPart: Parts given to CompleteMultipartUpload do not match uploaded parts",
        ),
        (
            ErrorKind::Fatal,
            "the backend answered (http://b, HTTP 400 store_rejected: \
             CompleteMultipartUpload failed: InvalidPart)",
        ),
        (
            ErrorKind::Retryable,
            "the backend answered (http://c, HTTP 500 InvalidPart: One or more of the \
             specified parts could not be found.)",
        ),
    ] {
        assert!(is_invalid_part(&said(kind, message)), "{message}");
    }
    for message in [
        "InvalidPartOrder: The list of parts was not in ascending order",
        "InternalError: We encountered an internal error",
    ] {
        assert!(
            !is_invalid_part(&said(ErrorKind::Fatal, message)),
            "{message}"
        );
    }
}

#[test]
fn only_the_parts_own_multipart_etag_is_taken_for_ours() {
    use crate::engine::complete::{is_our_object, multipart_etag, Verdict};
    use crate::journal::PartRecord;
    use crate::store::ObjectInfo;
    let part = |n: u32, etag: &str| PartRecord {
        number: n,
        size: 10,
        etag: format!("\"{etag}\""),
        sha256: "not-base64!".into(),
        checksum: None,
    };
    let mut journal = crate::journal::tests::sample(vec![
        part(1, "0123456789abcdef0123456789abcdef"),
        part(2, "fedcba9876543210fedcba9876543210"),
    ]);
    journal.source.size = 20;
    let want = multipart_etag(&journal.parts).unwrap();
    assert!(want.ends_with("-2"));
    let object = |etag: &str| ObjectInfo {
        size: 20,
        etag: Some(format!("\"{etag}\"")),
        checksum_sha256: None,
        checksum: None,
    };
    assert_eq!(is_our_object(&object(&want), &journal), Verdict::Ours);
    // Same size, same part count, another upload's ETag: not ours.
    assert_eq!(
        is_our_object(&object("99999999999999999999999999999999-2"), &journal),
        Verdict::NotOurs
    );
    // Part ETags that are not MD5s (SSE-KMS): nothing to compare.
    journal.parts[0].etag = "\"kms-etag\"".into();
    assert_eq!(is_our_object(&object(&want), &journal), Verdict::CannotTell);
}
