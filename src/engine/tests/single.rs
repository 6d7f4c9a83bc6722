//! A file that fits in one part: a lost PutObject answer is recognised, and
//! another object in the way is still refused.

use super::*;

#[tokio::test(start_paused = true)]
async fn a_lost_put_answer_is_recognised() {
    let fx = Fixture::new();
    let small = fx.plan.part(1).unwrap();
    let opts = ObjectOptions {
        if_none_match: true,
        ..ObjectOptions::default()
    };
    fx.store.lose_answer(Op::PutObject, 1);
    let progress: Arc<dyn Progress> = fx.progress.clone();
    let finished = crate::engine::single::put_single(
        &*fx.store,
        &fx.file.clone().into(),
        &fx.path,
        small,
        &dest(),
        &opts,
        &Retry::fail_fast(3),
        &progress,
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(fx.store.calls(Op::PutObject), 2);
    assert_eq!(
        finished.checksum_sha256,
        fx.memory()
            .object("bkt", "dir/file.bin")
            .unwrap()
            .checksum_sha256
    );
    // Another object in the way is still refused: the first attempt fails
    // without effect, and the second finds the key taken by other bytes.
    let other = Fixture::new();
    let at = dest();
    let plain = ObjectOptions::default();
    let part2 = other.plan.part(2).unwrap();
    crate::engine::single::put_single(
        &*other.store,
        &other.file.clone().into(),
        &other.path,
        part2,
        &at,
        &plain,
        &Retry::fail_fast(3),
        &progress,
    )
    .await
    .unwrap();
    other.store.fail(Op::PutObject, 2..=2, ErrorKind::Retryable);
    let refused = crate::engine::single::put_single(
        &*other.store,
        &other.file.clone().into(),
        &other.path,
        small,
        &at,
        &opts,
        &Retry::fail_fast(3),
        &progress,
    )
    .await;
    assert!(matches!(refused, Err(Error::Exists { .. })), "{refused:?}");
    assert_eq!(other.store.calls(Op::PutObject), 3);
}
