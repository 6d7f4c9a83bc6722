//! [`AnyStore`]: every store s3up can use (the SDK's, or a backend's through
//! `--via`), dispatched by enum rather than `dyn` (see the `store` module docs).

use super::*;

/// Every store s3up can use, dispatched statically (see the module docs).
#[derive(Debug, Clone)]
pub enum AnyStore {
    Sdk(sdk::SdkStore),
    Via(via::ViaStore),
}

impl AnyStore {
    /// The same store, every body it sends drawing on `limit`
    /// (`--limit-rate`; `None`: as fast as the link goes).
    pub fn limited(self, limit: Option<RateLimit>) -> AnyStore {
        match self {
            AnyStore::Sdk(s) => AnyStore::Sdk(s.limited(limit)),
            AnyStore::Via(s) => AnyStore::Via(s.limited(limit)),
        }
    }
}

/// Forwards one call to whichever store this is.
macro_rules! dispatch {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStore::Sdk($s) => $call.await,
            AnyStore::Via($s) => $call.await,
        }
    };
}

impl Store for AnyStore {
    async fn probe(&self, bucket: &str) -> Result<(), StoreError> {
        dispatch!(self, s => s.probe(bucket))
    }

    fn endpoint(&self) -> String {
        match self {
            AnyStore::Sdk(s) => s.endpoint(),
            AnyStore::Via(s) => s.endpoint(),
        }
    }

    fn round_trip(&self) -> Option<std::time::Duration> {
        match self {
            AnyStore::Sdk(s) => s.round_trip(),
            AnyStore::Via(s) => s.round_trip(),
        }
    }

    async fn head_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        dispatch!(self, s => s.head_object(bucket, key))
    }

    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: FileRange,
        sums: PartSums,
        opts: &ObjectOptions,
    ) -> Result<Finished, StoreError> {
        dispatch!(self, s => s.put_object(bucket, key, body, sums, opts))
    }

    async fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        opts: &ObjectOptions,
    ) -> Result<UploadHandle, StoreError> {
        dispatch!(self, s => s.create_upload(bucket, key, opts))
    }

    async fn upload_part(
        &self,
        upload: &UploadHandle,
        number: u32,
        body: FileRange,
        sums: PartSums,
    ) -> Result<String, StoreError> {
        dispatch!(self, s => s.upload_part(upload, number, body, sums))
    }

    async fn wants_md5(&self) -> bool {
        dispatch!(self, s => s.wants_md5())
    }

    async fn refuses_checksum(
        &self,
        bucket: &str,
        choice: &Choice,
    ) -> Option<(StoreKind, &'static str)> {
        dispatch!(self, s => s.refuses_checksum(bucket, choice))
    }

    fn will_send(&self, upload: &UploadHandle, number: u32, sha256: [u8; 32]) {
        match self {
            AnyStore::Sdk(s) => s.will_send(upload, number, sha256),
            AnyStore::Via(s) => s.will_send(upload, number, sha256),
        }
    }

    fn signs_ahead(&self) -> bool {
        match self {
            AnyStore::Sdk(s) => s.signs_ahead(),
            AnyStore::Via(s) => s.signs_ahead(),
        }
    }

    async fn complete_upload(
        &self,
        upload: &UploadHandle,
        parts: &[CompletedPart],
        whole: Option<&Tagged>,
        if_none_match: bool,
    ) -> Result<Finished, StoreError> {
        dispatch!(self, s => s.complete_upload(upload, parts, whole, if_none_match))
    }

    async fn abort_upload(&self, upload: &UploadHandle) -> Result<(), StoreError> {
        dispatch!(self, s => s.abort_upload(upload))
    }

    async fn list_parts(&self, upload: &UploadHandle) -> Result<Vec<ListedPart>, StoreError> {
        dispatch!(self, s => s.list_parts(upload))
    }

    async fn completed_object(
        &self,
        upload: &UploadHandle,
    ) -> Result<Option<ObjectInfo>, StoreError> {
        dispatch!(self, s => s.completed_object(upload))
    }

    async fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<ListedUpload>, StoreError> {
        dispatch!(self, s => s.list_uploads(bucket, prefix))
    }

    async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<ListedObject>, StoreError> {
        dispatch!(self, s => s.list_objects(bucket, prefix))
    }
}
