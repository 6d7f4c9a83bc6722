use std::collections::BTreeMap;
use std::sync::Mutex;

use super::*;
use crate::engine::tree::{send_tree, Tree, TreeFile, TreeOutcome};
use crate::journal::session::{Session, TreeOptions, SESSION_VERSION};
use crate::journal::SessionWriter;

/// Files of a tree in a temp dir, its journal directory and a store.
struct TreeFx {
    _tmp: tempfile::TempDir,
    dir: JournalDir,
    files: Vec<TreeFile>,
    store: Arc<Faulty<MemoryStore>>,
}

/// `small` files of one part and `large` files of five parts.
fn tree_fixture(small: usize, large: usize) -> TreeFx {
    let tmp = tempfile::tempdir().unwrap();
    let dir = JournalDir::resolve(Some(tmp.path().join("journal"))).unwrap();
    dir.create().unwrap();
    let mut files = Vec::new();
    for i in 0..small + large {
        let (rel, size) = if i < large {
            (format!("big{i}.bin"), PART * 4 + 5)
        } else {
            (format!("s/{i}.dat"), 1000 + i as u64)
        };
        let path = tmp.path().join(rel.replace('/', "_"));
        std::fs::write(&path, vec![i as u8; size as usize]).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        files.push(TreeFile {
            dest: Location {
                bucket: "bkt".into(),
                key: format!("p/{rel}"),
            },
            rel,
            source: Source::of(&path, &meta),
            object: ObjectOptions::default(),
            journal: None,
        });
    }
    TreeFx {
        _tmp: tmp,
        dir,
        files,
        store: Arc::new(Faulty::new(MemoryStore::new())),
    }
}

/// The most files the scheduler reported in flight at once.
#[derive(Default)]
struct Flight {
    most: Mutex<u64>,
}

impl Progress for Flight {
    fn begin(&self, _: u64, _: u64, _: u64, _: u64) {}
    fn advance(&self, _: u64) {}
    fn retreat(&self, _: u64) {}
    fn part_done(&self, _: u64) {}
    fn part_reused(&self, _: u64) {}
    fn end(&self) {}
    fn files(&self, _done: u64, _total: u64, in_flight: u64) {
        let mut most = self.most.lock().unwrap();
        *most = (*most).max(in_flight);
    }
}

impl TreeFx {
    async fn send(&self, cancel: &Cancel, progress: Arc<Flight>) -> TreeOutcome {
        let session = Session {
            version: SESSION_VERSION,
            id: "5e5510115e55".into(),
            sources: vec![],
            bucket: "bkt".into(),
            prefix: "p/".into(),
            connection: Connection::default(),
            options: TreeOptions::default(),
            created_unix: 1,
            updated_unix: 1,
            files_total: self.files.len() as u64,
            bytes_total: 0,
            done: BTreeMap::new(),
        };
        self.dir.save_session(&session).unwrap();
        let writer = SessionWriter::spawn(self.dir.clone(), session);
        let tree = Tree {
            store: self.store.clone(),
            dir: self.dir.clone(),
            retry: Retry::fail_fast(2),
            progress,
            cancel: cancel.clone(),
            concurrency: 4,
            small_files: 3,
            part_size: PART,
            connection: Connection::default(),
            session: "5e5510115e55".into(),
            single_put: true,
            verify: true,
        };
        let outcome = send_tree(tree, self.files.clone(), (0, 0), writer.sender()).await;
        writer.finish().unwrap();
        outcome
    }

    fn objects(&self) -> usize {
        let store = self.store.inner();
        self.files
            .iter()
            .filter(|f| store.object("bkt", &f.dest.key).is_some())
            .count()
    }
}

// Issue 19: many files, few at once: never more in flight than the two pools.
#[tokio::test(start_paused = true)]
async fn files_in_flight_are_bounded_by_the_pools() {
    let fx = tree_fixture(40, 3);
    let flight = Arc::new(Flight::default());
    let outcome = fx.send(&Cancel::new().1, flight.clone()).await;
    assert_eq!(outcome.results.len(), 43);
    assert!(outcome.results.iter().all(|(_, r)| r.is_ok()));
    assert_eq!(fx.objects(), 43);
    let most = *flight.most.lock().unwrap();
    // 3 small files, and large files holding at least one of 4 part permits.
    assert!(most <= 3 + 4, "{most} files in flight");
    assert!(fx.store.inner().open_uploads().is_empty());
    assert!(fx.dir.list().is_empty(), "every file's journal is gone");
}

// Issue 19: a file that fails does not stop the others.
#[tokio::test(start_paused = true)]
async fn a_failing_file_does_not_stop_the_others() {
    let fx = tree_fixture(10, 2);
    fx.store.fail(Op::PutObject, 3..=3, ErrorKind::Fatal);
    fx.store
        .fail(Op::CreateUpload, 1..=1, ErrorKind::AccessDenied);
    let outcome = fx.send(&Cancel::new().1, Arc::default()).await;
    let failed = outcome.results.iter().filter(|(_, r)| r.is_err()).count();
    assert_eq!((outcome.results.len(), failed), (12, 2));
    assert_eq!(fx.objects(), 10);
}

// Issue 19: Ctrl-C leaves every large file resumable (its journal holds its
// upload, marked with the session) and starts no new file.
#[tokio::test(start_paused = true)]
async fn ctrl_c_leaves_every_file_resumable() {
    let fx = tree_fixture(20, 3);
    let held = fx.store.hold(Op::UploadPart, 3);
    let (raise, cancel) = Cancel::new();
    let flight = Arc::new(Flight::default());
    let sending = fx.send(&cancel, flight);
    let stopper = async {
        held.arrived().await;
        raise.send(true).unwrap();
    };
    let (outcome, ()) = tokio::join!(sending, stopper);
    let journals: Vec<Journal> = fx
        .dir
        .list()
        .into_iter()
        .filter_map(|(_, j)| j.ok())
        .collect();
    for (i, result) in &outcome.results {
        let f = &fx.files[*i];
        match result {
            Ok(_) => assert!(fx.store.inner().object("bkt", &f.dest.key).is_some()),
            Err(Error::Interrupted { .. }) if f.rel.starts_with("big") => {
                let j = journals.iter().find(|j| j.source.path == f.source.path);
                let j = j.unwrap_or_else(|| panic!("{} has no journal", f.rel));
                assert_eq!(j.session.as_deref(), Some("5e5510115e55"));
                assert!(fx.store.inner().open_uploads().contains(&j.upload_id));
            }
            Err(Error::Interrupted { .. }) => {
                // A PutObject dropped: nothing half-written.
                assert!(fx.store.inner().object("bkt", &f.dest.key).is_none());
            }
            Err(e) => panic!("{}: {e:?}", f.rel),
        }
    }
    assert!(
        outcome.results.iter().any(|(_, r)| r.is_err()),
        "the run stopped"
    );
}
