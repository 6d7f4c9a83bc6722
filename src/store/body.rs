//! A byte range of a file as a streaming HTTP body, and the meter that sees
//! each chunk go out.
//!
//! A part's body is read from the file as the HTTP client asks for it, in
//! [`BODY_SLICE`] chunks (it asks only when the socket takes more), so memory is
//! a few chunks per request whatever the part size. Chunks come from the page
//! cache on the async thread when it holds them ([`read_cached`]), else from
//! the blocking pool. Any HTTP transport (the SDK's, reqwest's) can send a
//! [`FileBody`]: it is an `http_body::Body`. Under `--limit-rate` each chunk
//! first waits for its share of the run's [`RateLimit`].
//!
//! [`hash_range`] is the one loop that reads a range to hash it: the engine's
//! hash pass before a part is sent and a resume's check of reused parts, and
//! any store that needs a digest the engine did not compute.

use std::fs::File;
use std::future::Future;
use std::os::unix::fs::FileExt;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};

use super::limit::RateLimit;
use super::watchdog::Stamp;
use super::PartSums;
use crate::checksum::{Algorithm, Hasher};

/// Chunks a part body is read and handed to the HTTP client in. Each chunk
/// costs a few syscalls (and a blocking-pool hop when it is not cached), so
/// larger is cheaper. Measured
/// on 1 GiB to a local Garage (2 cores), alternating binaries: 128 KiB cost
/// ~15% more CPU than 256 KiB, and 512 KiB (with 2 spares, the same memory
/// per part) ~5% less, at +1 MiB peak RSS.
pub const BODY_SLICE: usize = 512 * 1024;

/// Told of every chunk of a body as it is handed to the HTTP client. That is
/// not what the store has received (socket buffers hold megabytes), so a
/// progress display shows it only as "sent", and counts a part as done when
/// the store acknowledges it.
pub trait Meter: Send + Sync {
    fn sent(&self, bytes: u64);
}

/// Where a body's bytes are: a file read as they are sent, or a buffered
/// part of a stream (standard input), handed out without a copy.
#[derive(Clone, Debug)]
pub enum Origin {
    File(Arc<File>),
    Memory(Bytes),
}

impl From<Arc<File>> for Origin {
    fn from(file: Arc<File>) -> Origin {
        Origin::File(file)
    }
}

impl Origin {
    /// The SHA-256 (and MD5, `with_md5`, and the digest of `also`) of `len`
    /// bytes from `offset`; for a file, [`hash_range_with`] (it blocks: call
    /// it on the blocking pool).
    pub fn hash(
        &self,
        offset: u64,
        len: u64,
        with_md5: bool,
        also: Option<Algorithm>,
    ) -> std::io::Result<PartSums> {
        match self {
            Origin::File(file) => hash_range_with(file, offset, len, with_md5, also, None),
            Origin::Memory(bytes) => {
                let range = bytes
                    .get(offset as usize..(offset + len) as usize)
                    .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?;
                Ok(hash_bytes(range, with_md5, also))
            }
        }
    }
}

/// The SHA-256 of bytes in memory, their MD5 when `with_md5` and the digest
/// of `also`.
pub fn hash_bytes(bytes: &[u8], with_md5: bool, also: Option<Algorithm>) -> PartSums {
    let mut sums = PartHasher::new(with_md5, also);
    sums.update(bytes);
    sums.finish()
}

/// The digests of one part, fed in pieces: its SHA-256, its MD5 when asked,
/// and the digest of the upload's `--checksum-algorithm` when it is not
/// SHA-256. The one place that computes a [`PartSums`], whether the bytes
/// come from a file range, memory, or a stream as it is read.
pub struct PartHasher {
    sha256: sha2::Sha256,
    md5: Option<md5::Md5>,
    other: Option<Hasher>,
}

impl PartHasher {
    pub fn new(with_md5: bool, also: Option<Algorithm>) -> PartHasher {
        use sha2::Digest;
        PartHasher {
            sha256: sha2::Sha256::new(),
            md5: with_md5.then(md5::Md5::new),
            other: also.map(Hasher::new),
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        use sha2::Digest;
        self.sha256.update(bytes);
        if let Some(md5) = self.md5.as_mut() {
            md5.update(bytes);
        }
        if let Some(other) = self.other.as_mut() {
            other.update(bytes);
        }
    }

    pub fn finish(self) -> PartSums {
        use sha2::Digest;
        PartSums {
            sha256: self.sha256.finalize().into(),
            md5: self.md5.map(|m| m.finalize().into()),
            checksum: self.other.map(Hasher::finish),
        }
    }
}

/// A byte range of a file (or of a buffered stream part): the body of one
/// PutObject or UploadPart.
#[derive(Clone)]
pub struct FileRange {
    pub file: Origin,
    pub offset: u64,
    pub len: u64,
    /// Told of each chunk as it goes out, when set.
    pub meter: Option<Arc<dyn Meter>>,
}

impl std::fmt::Debug for FileRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileRange")
            .field("offset", &self.offset)
            .field("len", &self.len)
            .field("metered", &self.meter.is_some())
            .finish()
    }
}

/// Hashing reads a range through one buffer of this size (the engine runs
/// at most a few hashes at once): big enough that syscalls cost little next to
/// the hash, small enough to stay in the L2 cache between the copy and the hash.
pub const HASH_CHUNK: usize = 128 * 1024;

/// The SHA-256 of `len` bytes of `file` from `offset`, and their MD5 when
/// `with_md5`, read once with positioned reads through one [`HASH_CHUNK`]
/// buffer. It blocks: call it on the blocking pool. `meter`, when given, is
/// told of each chunk as it is read (the in-memory test store reads a body as
/// an HTTP client would).
pub fn hash_range(
    file: &File,
    offset: u64,
    len: u64,
    with_md5: bool,
    meter: Option<&dyn Meter>,
) -> std::io::Result<PartSums> {
    hash_range_with(file, offset, len, with_md5, None, meter)
}

/// [`hash_range`], and also the digest of `also` (an upload's
/// `--checksum-algorithm` other than SHA-256) in the same pass.
pub fn hash_range_with(
    file: &File,
    offset: u64,
    len: u64,
    with_md5: bool,
    also: Option<Algorithm>,
    meter: Option<&dyn Meter>,
) -> std::io::Result<PartSums> {
    let mut buf = vec![0; HASH_CHUNK.min(len as usize)];
    let mut sums = PartHasher::new(with_md5, also);
    let mut at = offset;
    let end = offset + len;
    while at < end {
        let n = (end - at).min(HASH_CHUNK as u64) as usize;
        file.read_exact_at(&mut buf[..n], at)?;
        sums.update(&buf[..n]);
        if let Some(meter) = meter {
            meter.sent(n as u64);
        }
        at += n as u64;
    }
    Ok(sums.finish())
}

/// How many chunk buffers a body keeps for reuse. Hyper queues a few chunks
/// before it writes them; once it has, their buffers come back here, so a
/// body allocates (and zeroes) only its first few chunks.
const SPARE_CHUNKS: usize = 2;

/// A [`FileRange`] as an HTTP body: read in [`BODY_SLICE`] chunks when the HTTP
/// client asks for them (it asks only when the socket takes more), from the
/// page cache when it holds them ([`read_cached`]), else on the blocking pool,
/// stamping progress each time. Memory is a few chunks per
/// request, whatever the part size. Under a [`RateLimit`], each chunk waits
/// for its grant before it is read.
pub struct FileBody {
    range: FileRange,
    sent: u64,
    stamp: Stamp,
    reading: Option<tokio::task::JoinHandle<std::io::Result<BytesMut>>>,
    /// Chunks handed to the client; reused once the client has dropped them.
    spare: Vec<Bytes>,
    /// The run's `--limit-rate`, when there is one.
    limit: Option<RateLimit>,
    /// Bytes the limit has granted this body and it has not handed out yet.
    granted: u64,
    /// Waiting for the grant's time, when it was not at once.
    waiting: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl FileBody {
    pub fn new(range: FileRange, stamp: Stamp) -> FileBody {
        FileBody {
            range,
            sent: 0,
            stamp,
            reading: None,
            spare: Vec::with_capacity(SPARE_CHUNKS),
            limit: None,
            granted: 0,
            waiting: None,
        }
    }

    /// The body hands out no chunk before `limit` grants it (`None`: no limit).
    pub fn limited(mut self, limit: Option<RateLimit>) -> FileBody {
        self.limit = limit;
        self
    }

    /// The size of the next chunk, once the limit (if any) has granted it;
    /// `Pending` while the body waits for its turn. The stamp is held across
    /// the wait: a body the limit holds back is not stalled.
    fn next_chunk(&mut self, left: u64, cx: &mut Context<'_>) -> Poll<usize> {
        let Some(limit) = &self.limit else {
            return Poll::Ready(left.min(BODY_SLICE as u64) as usize);
        };
        if self.granted == 0 && self.waiting.is_none() {
            let n = left.min(limit.grain()).min(BODY_SLICE as u64);
            let at = limit.reserve(n);
            self.granted = n;
            let now = tokio::time::Instant::now();
            if at > now {
                self.stamp.hold(at - now);
                self.waiting = Some(Box::pin(tokio::time::sleep_until(at)));
            }
        }
        if let Some(waiting) = &mut self.waiting {
            if waiting.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.waiting = None;
        }
        Poll::Ready(self.granted.min(left) as usize)
    }

    /// A buffer of exactly `n` bytes: a released chunk when one is free.
    fn buffer(&mut self, n: usize) -> BytesMut {
        for i in 0..self.spare.len() {
            if self.spare[i].is_unique() {
                let chunk = self.spare.swap_remove(i);
                if let Ok(mut buf) = chunk.try_into_mut() {
                    // A short read left it shorter than it can hold; growing
                    // within its capacity zeroes only the new tail.
                    if buf.capacity() >= n {
                        buf.resize(n, 0);
                        return buf;
                    }
                }
                break;
            }
        }
        BytesMut::zeroed(n)
    }

    /// Counts `buf` as sent and keeps a handle on it for reuse.
    fn hand_out(&mut self, buf: BytesMut) -> Bytes {
        let chunk = self.count_out(buf.freeze());
        if self.spare.len() < SPARE_CHUNKS {
            self.spare.push(chunk.clone());
        }
        chunk
    }

    /// Counts `chunk` as sent: the stall watch, the rate limit, the meter.
    fn count_out(&mut self, chunk: Bytes) -> Bytes {
        self.sent += chunk.len() as u64;
        self.granted = self.granted.saturating_sub(chunk.len() as u64);
        self.stamp
            .progress(chunk.len() as u64, self.sent == self.range.len);
        if let Some(meter) = &self.range.meter {
            meter.sent(chunk.len() as u64);
        }
        chunk
    }
}

/// Whether `preadv2(RWF_NOWAIT)` may still work here; cleared the first time
/// the kernel or file system says it does not support it.
#[cfg(target_os = "linux")]
static NOWAIT_WORKS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Reads into `buf` at `at` right here, on the async thread, but only what is
/// already in the page cache (`preadv2` with `RWF_NOWAIT` does not wait for
/// data to come from the disk). The part was hashed shortly before it is sent
/// (`engine::hash`), so its pages usually are:
/// a copy from memory is cheaper than a hop to the blocking pool and back.
/// `None` means "read it on the blocking pool": nothing cached, an error (which
/// the blocking read will report), or no `RWF_NOWAIT` on this system.
#[cfg(target_os = "linux")]
fn read_cached(file: &File, buf: &mut [u8], at: u64) -> Option<usize> {
    use rustix::io::{preadv2, Errno, ReadWriteFlags};
    if !NOWAIT_WORKS.load(Ordering::Relaxed) {
        return None;
    }
    match preadv2(
        file,
        &mut [std::io::IoSliceMut::new(buf)],
        at,
        ReadWriteFlags::NOWAIT,
    ) {
        Ok(0) => None,
        Ok(n) => Some(n),
        Err(Errno::OPNOTSUPP | Errno::NOSYS | Errno::INVAL) => {
            NOWAIT_WORKS.store(false, Ordering::Relaxed);
            None
        }
        Err(_) => None,
    }
}

#[cfg(not(target_os = "linux"))]
fn read_cached(_file: &File, _buf: &mut [u8], _at: u64) -> Option<usize> {
    None
}

impl http_body::Body for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let left = this.range.len - this.sent;
        if left == 0 && this.reading.is_none() {
            return Poll::Ready(None);
        }
        let file = match &this.range.file {
            Origin::File(file) => file.clone(),
            Origin::Memory(bytes) => {
                let bytes = bytes.clone();
                let n = match this.next_chunk(left, cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(n) => n,
                };
                let at = (this.range.offset + this.sent) as usize;
                let chunk = bytes.slice(at..at + n);
                return Poll::Ready(Some(Ok(http_body::Frame::data(this.count_out(chunk)))));
            }
        };
        let reading = match &mut this.reading {
            Some(reading) => reading,
            None => {
                let n = match this.next_chunk(left, cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(n) => n,
                };
                let mut buf = this.buffer(n);
                let at = this.range.offset + this.sent;
                match read_cached(&file, &mut buf, at) {
                    Some(got) => {
                        buf.truncate(got);
                        return Poll::Ready(Some(Ok(http_body::Frame::data(this.hand_out(buf)))));
                    }
                    None => this.reading.insert(tokio::task::spawn_blocking(move || {
                        file.read_exact_at(&mut buf, at).map(|()| buf)
                    })),
                }
            }
        };
        let read = match Pin::new(reading).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(read) => read,
        };
        this.reading = None;
        let buf = read.map_err(std::io::Error::other)??;
        Poll::Ready(Some(Ok(http_body::Frame::data(this.hand_out(buf)))))
    }
    fn is_end_stream(&self) -> bool {
        self.sent == self.range.len && self.reading.is_none()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.range.len - self.sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[derive(Default)]
    struct Counted(AtomicU64);

    impl Meter for Counted {
        fn sent(&self, bytes: u64) {
            self.0.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    /// Every byte of a body, polled to the end.
    async fn drain(mut body: FileBody) -> Vec<u8> {
        use http_body::Body;
        let mut out = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            out.extend_from_slice(frame.unwrap().data_ref().unwrap());
        }
        out
    }

    /// Under a limit, a body hands out chunks of at most 100 ms of the rate,
    /// and takes as long as its bytes cost at the rate, less the free burst.
    #[tokio::test(start_paused = true)]
    async fn a_limited_body_goes_at_the_rate() {
        use crate::store::limit::{RateLimit, BURST};
        use http_body::Body;
        let data: Vec<u8> = (0..1_048_576u32).map(|i| (i % 253) as u8).collect();
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, &data).unwrap();
        let range = FileRange {
            file: Arc::new(f).into(),
            offset: 0,
            len: data.len() as u64,
            meter: None,
        };
        let limit = RateLimit::new(1_000_000);
        let mut body = FileBody::new(range, Stamp::new()).limited(Some(limit.clone()));
        let start = tokio::time::Instant::now();
        let mut out = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            let frame = frame.unwrap();
            let chunk = frame.data_ref().unwrap();
            assert!(chunk.len() as u64 <= limit.grain(), "{}", chunk.len());
            out.extend_from_slice(chunk);
        }
        assert_eq!(out, data);
        let took = start.elapsed().as_secs_f64();
        let want = data.len() as f64 / 1e6 - BURST.as_secs_f64();
        assert!((took - want).abs() < 0.01, "{took} s, want {want} s");
    }

    /// One pass gives the range's SHA-256, its MD5 when asked, and tells the
    /// meter of every byte, whether the range spans several hash chunks or one.
    #[test]
    fn a_range_hashes_to_its_bytes() {
        use md5::Md5;
        use sha2::{Digest, Sha256};
        let data: Vec<u8> = (0..3 * HASH_CHUNK as u32 + 77)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, &data).unwrap();
        for (offset, len) in [
            (0, data.len()),
            (1_000, 2 * HASH_CHUNK + 5),
            (9, 10),
            (3, 0),
        ] {
            let bytes = &data[offset..offset + len];
            let metered = Counted::default();
            let sums = hash_range(&f, offset as u64, len as u64, true, Some(&metered)).unwrap();
            assert_eq!(sums.sha256, <[u8; 32]>::from(Sha256::digest(bytes)));
            assert_eq!(sums.md5, Some(<[u8; 16]>::from(Md5::digest(bytes))));
            assert_eq!(metered.0.load(Ordering::Relaxed), len as u64);
            let plain = hash_range(&f, offset as u64, len as u64, false, None).unwrap();
            assert_eq!((plain.sha256, plain.md5), (sums.sha256, None));
        }
    }

    /// A body is the exact byte range, however its chunks are read: from the
    /// page cache on the async thread (whole or short, where the cached pages
    /// end), or on the blocking pool for pages that are not cached.
    #[tokio::test]
    async fn a_body_is_its_range_whether_cached_or_not() {
        let len = 3 * BODY_SLICE + 12_345;
        let data: Vec<u8> = (0..len as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, &data).unwrap();
        f.sync_all().unwrap();
        let file = Arc::new(f);
        let (offset, end) = (1_000, len - 2_000);
        let metered = Arc::new(Counted::default());
        let range = FileRange {
            file: file.clone().into(),
            offset: offset as u64,
            len: (end - offset) as u64,
            meter: Some(metered.clone()),
        };

        let mut cached = vec![0; BODY_SLICE];
        file.read_exact_at(&mut cached, 0).unwrap();
        cached.fill(0);
        if let Some(n) = read_cached(&file, &mut cached, 0) {
            assert_eq!(&cached[..n], &data[..n], "read from the page cache");
        }
        let stamp = Stamp::new();
        assert_eq!(
            drain(FileBody::new(range.clone(), stamp.clone())).await,
            &data[offset..end]
        );
        assert_eq!(stamp.sent(), (end - offset) as u64);
        assert_eq!(metered.0.load(Ordering::Relaxed), (end - offset) as u64);
        assert!(stamp.is_done());

        // Drop the cached pages from the middle of the second chunk on, where
        // the file system allows: that chunk is read short, the rest blocking.
        #[cfg(target_os = "linux")]
        rustix::fs::fadvise(
            &*file,
            (BODY_SLICE + 100_000) as u64,
            None,
            rustix::fs::Advice::DontNeed,
        )
        .unwrap();
        assert_eq!(
            drain(FileBody::new(range, Stamp::new())).await,
            &data[offset..end]
        );
    }
}
