//! A stream through the same workers: parts cut by the growing schedule,
//! an unfinished upload resumed by the same stream (every part reused, none
//! sent again), and a different stream refused at the part that differs.

use super::*;
use crate::engine::stream::{read_part, run_stream, Stream};
use crate::plan::Schedule;

const KIB: u64 = 1024;

/// 64, 64, 128, 128, 256 KiB, …, never above 1 MiB.
fn schedule() -> Schedule {
    Schedule {
        start: 64 * KIB,
        every: 2,
        max: 1024 * KIB,
    }
}

/// Writes `data` to a file in the fixture's directory and opens it as a
/// stream (read in order, as standard input is).
fn stream_of(fx: &Fixture, name: &str, data: &[u8]) -> Stream {
    let path = fx.dir.path().parent().unwrap().join(name);
    std::fs::write(&path, data).unwrap();
    let reader = Arc::new(File::open(&path).unwrap());
    let (first, _) = read_part(&reader, schedule().part_size(1), false, None).unwrap();
    Stream {
        reader,
        schedule: schedule(),
        memory: 2 * 1024 * KIB,
        expected: None,
        first,
    }
}

async fn start_stream(fx: &Fixture) -> (Journal, Lock) {
    let new = NewUpload {
        source: Source {
            path: "-".into(),
            size: 0,
            mtime_ns: 0,
        },
        plan: Plan::stream(schedule(), 0),
        ..fx.new_upload()
    };
    let started = session::start(
        &*fx.store,
        &fx.dir,
        new,
        &Retry::fail_fast(3),
        &Cancel::new().1,
    )
    .await
    .unwrap();
    (started.journal, started.lock)
}

fn stream_run(
    fx: &Fixture,
    stream: &Stream,
    stop_before_complete: bool,
) -> Run<Faulty<MemoryStore>> {
    Run {
        file: stream.reader.clone(),
        plan: Plan::stream(schedule(), 0),
        stop_before_complete,
        ..fx.run(3, 3, Cancel::new().1)
    }
}

fn data(len: u64, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i * 131 % 251) as u8 ^ seed).collect()
}

#[tokio::test(start_paused = true)]
async fn a_stream_goes_up_in_growing_parts() {
    let fx = Fixture::new();
    let bytes = data((64 + 64 + 128 + 128) * KIB + 1000, 0);
    let stream = stream_of(&fx, "s1", &bytes);
    let (journal, lock) = start_stream(&fx).await;
    assert!(journal.stream.is_some(), "the journal records the schedule");
    let run = stream_run(&fx, &stream, false);
    let done = run_stream(run, journal, lock, stream)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let sizes: Vec<u64> = done.journal.parts.iter().map(|p| p.size).collect();
    assert_eq!(sizes, [64 * KIB, 64 * KIB, 128 * KIB, 128 * KIB, 1000]);
    assert_eq!(done.sent, bytes.len() as u64);
    let object = fx.memory().object("bkt", "dir/file.bin").unwrap();
    assert_eq!(object.size, bytes.len() as u64);
    assert_eq!(
        object.checksum_sha256,
        super::composite_sha256(&done.journal.parts)
    );
    assert!(!fx.has_journal(&done.journal.id));
}

#[tokio::test(start_paused = true)]
async fn the_same_stream_resumes_and_another_is_refused() {
    let fx = Fixture::new();
    let bytes = data(600 * KIB + 7, 1);
    let stream = stream_of(&fx, "s1", &bytes);
    let (journal, lock) = start_stream(&fx).await;
    let id = journal.id.clone();
    // Every part sent, the upload left open: what a kill before Complete leaves.
    let run = stream_run(&fx, &stream, true);
    let stopped = run_stream(run, journal, lock, stream).await;
    assert!(
        matches!(stopped, Err(Error::StoppedBeforeComplete { .. })),
        "{stopped:?}"
    );
    let parts = fx.journalled(&id);
    assert_eq!(parts, [1, 2, 3, 4, 5]);
    let sent = fx.store.calls(Op::UploadPart);

    // Another stream: it differs in part 3 (from 128 KiB on).
    let mut other = bytes.clone();
    other[(128 * KIB + 5) as usize] ^= 0xff;
    let (fx, id) = (&fx, id.as_str());
    let resume = |name: &'static str, data: Vec<u8>| async move {
        let stream = stream_of(fx, name, &data);
        let journal = fx.journal(id);
        let lock = fx.dir.lock(id).unwrap();
        run_stream(stream_run(fx, &stream, false), journal, lock, stream).await
    };
    let refused = resume("s2", other).await;
    assert!(
        matches!(refused, Err(Error::StreamDiffers { number: 3, .. })),
        "{refused:?}"
    );
    assert!(fx.has_journal(id), "the journal is kept");
    assert!(
        fx.memory().object("bkt", "dir/file.bin").is_none(),
        "no object"
    );
    // A stream that ends early differs where it ends.
    let short = resume("s3", bytes[..(128 * KIB) as usize].to_vec()).await;
    assert!(
        matches!(short, Err(Error::StreamDiffers { number: 3, .. })),
        "{short:?}"
    );
    assert_eq!(fx.store.calls(Op::UploadPart), sent, "nothing was sent");

    // The same stream: every part is read, found equal and skipped.
    let done = resume("s4", bytes.clone())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(fx.store.calls(Op::UploadPart), sent, "no part sent again");
    assert_eq!(done.sent, 0);
    let object = fx.memory().object("bkt", "dir/file.bin").unwrap();
    assert_eq!(object.size, bytes.len() as u64);
}
