//! Abort until the store no longer lists the upload.
//!
//! Parts still in flight when an upload is aborted can make it linger, so the
//! abort is repeated until ListParts answers NoSuchUpload.

use std::time::Duration;

use super::retry::{retry, Retry};
use crate::store::{ErrorKind, Store, StoreError, UploadHandle};

/// Rounds of abort-then-check before giving up.
const ROUNDS: u32 = 5;

/// Aborts `upload` and repeats until it is gone. Returns false when it was
/// already gone before this call.
pub async fn until_gone<S: Store>(store: &S, upload: &UploadHandle) -> Result<bool, StoreError> {
    let mut was_there = true;
    let policy = Retry::fail_fast(4);
    for round in 0..ROUNDS {
        match retry(&policy, || store.abort_upload(upload)).await {
            Ok(()) => {}
            Err(e) if e.kind == ErrorKind::NoSuchUpload => was_there &= round > 0,
            Err(e) => return Err(e),
        }
        match store.list_parts(upload).await {
            Err(e) if e.kind == ErrorKind::NoSuchUpload => return Ok(was_there),
            Err(e) if !e.is_retryable() => return Err(e),
            _ => tokio::time::sleep(Duration::from_millis(500 << round)).await,
        }
    }
    Err(StoreError::new(
        ErrorKind::Fatal,
        "AbortMultipartUpload",
        format!("the upload is still listed after {ROUNDS} aborts"),
    ))
}
