//! `--checksum-algorithm` over aws-sdk-s3: each algorithm as the SDK names
//! it, the checksum a request carries or an answer reports, and which store
//! answers (`crate::checksum::StoreKind`), so that a choice the store was
//! measured to refuse is refused before anything is created.

use std::sync::{Arc, OnceLock};

use aws_sdk_s3::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumType};

use super::SdkStore;
use crate::checksum::{Algorithm, Choice, Kind, StoreKind};

/// The algorithm as the SDK names it.
pub(super) fn sdk_algorithm(a: Algorithm) -> ChecksumAlgorithm {
    match a {
        Algorithm::Sha256 => ChecksumAlgorithm::Sha256,
        Algorithm::Crc64Nvme => ChecksumAlgorithm::Crc64Nvme,
        Algorithm::Crc32c => ChecksumAlgorithm::Crc32C,
        Algorithm::Crc32 => ChecksumAlgorithm::Crc32,
        Algorithm::Sha1 => ChecksumAlgorithm::Sha1,
    }
}

/// The checksum type, sent only when it is not S3's default for the algorithm
/// (composite, except CRC64NVME), so a default upload's requests are
/// unchanged byte for byte.
pub(super) fn sdk_type(choice: &Choice) -> Option<ChecksumType> {
    match choice.kind {
        Kind::FullObject => Some(ChecksumType::FullObject),
        Kind::Composite => None,
    }
}

/// Sets a [`crate::checksum::Tagged`]'s value on any SDK builder that takes
/// checksums (PutObject, UploadPart, CompletedPart, Complete): each has one
/// setter per algorithm.
macro_rules! with_checksum {
    ($req:expr, $tagged:expr) => {{
        let t: &$crate::checksum::Tagged = $tagged;
        let v = t.b64.clone();
        match t.algorithm {
            $crate::checksum::Algorithm::Sha256 => $req.checksum_sha256(v),
            $crate::checksum::Algorithm::Crc64Nvme => $req.checksum_crc64_nvme(v),
            $crate::checksum::Algorithm::Crc32c => $req.checksum_crc32_c(v),
            $crate::checksum::Algorithm::Crc32 => $req.checksum_crc32(v),
            $crate::checksum::Algorithm::Sha1 => $req.checksum_sha1(v),
        }
    }};
}
pub(super) use with_checksum;

/// The checksum other than SHA-256 an SDK answer reports (HeadObject,
/// PutObject, Complete), if any.
macro_rules! reported {
    ($out:expr) => {{
        let out = &$out;
        let found = [
            (
                $crate::checksum::Algorithm::Crc64Nvme,
                out.checksum_crc64_nvme(),
            ),
            ($crate::checksum::Algorithm::Crc32c, out.checksum_crc32_c()),
            ($crate::checksum::Algorithm::Crc32, out.checksum_crc32()),
            ($crate::checksum::Algorithm::Sha1, out.checksum_sha1()),
        ]
        .into_iter()
        .find_map(|(algorithm, v)| {
            v.map(|b64| $crate::checksum::Tagged {
                algorithm,
                b64: b64.to_string(),
            })
        });
        found
    }};
}
pub(super) use reported;

/// Remembers the `Server` header of the first answer it sees.
#[derive(Debug, Clone, Default)]
pub(super) struct ServerHeader(pub Arc<OnceLock<Option<String>>>);

impl Intercept for ServerHeader {
    fn name(&self) -> &'static str {
        "s3up-server-header"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let server = context.response().headers().get("server");
        let _ = self.0.set(server.map(str::to_string));
        Ok(())
    }
}

impl SdkStore {
    /// Which store this is, from the `Server` header of a HeadBucket answer
    /// (asked once per process, only for a choice other than the default).
    async fn store_kind(&self, bucket: &str) -> StoreKind {
        if let Some(kind) = self.kind.get() {
            return *kind;
        }
        let seen = ServerHeader::default();
        let _ = self
            .watchdog
            .small("HeadBucket", async {
                let _ = self
                    .client
                    .head_bucket()
                    .bucket(bucket)
                    .customize()
                    .interceptor(seen.clone())
                    .send()
                    .await;
                Ok(())
            })
            .await;
        let server = seen.0.get().cloned().flatten();
        let kind = StoreKind::from_server_header(server.as_deref());
        // Only a store that answered is remembered; after no answer, ask again.
        if seen.0.get().is_some() {
            let _ = self.kind.set(kind);
        }
        kind
    }

    /// What this store was measured to answer to `choice`, when it refuses it.
    pub(super) async fn refusal(
        &self,
        bucket: &str,
        choice: &Choice,
    ) -> Option<(StoreKind, &'static str)> {
        let kind = self.store_kind(bucket).await;
        kind.refuses(choice).map(|answer| (kind, answer))
    }
}
