//! The checksum an upload carries (`--checksum-algorithm`, `--checksum-type`,
//! issue 23): the algorithms, how a part's digest is computed, and how the
//! object's checksum follows from its parts'. The one place that knows the
//! algorithms (a leaf: the store sends what this computes, the engine
//! journals and compares it, the command line names it).
//!
//! Every part is hashed with SHA-256 whatever the choice: that digest signs
//! the request's payload (`x-amz-content-sha256`), is what the journal checks a
//! reused part against, and is what a presigning backend signs. Another
//! algorithm is computed in the same pass, over the same buffer, and sent
//! as the part's `x-amz-checksum-*` header instead of the SHA-256 one.
//!
//! The object's checksum, as S3 defines it
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>):
//! - composite: the algorithm over the parts' binary digests, then `-N`;
//! - full object (CRC64NVME, CRC32, CRC32C only): the CRC of the whole
//!   file, which the CRCs of the parts combine into without reading the file
//!   again ([`crc_fast::checksum_combine`]). A reader can check it without
//!   knowing the part size. CRC64NVME is full-object only on AWS.
//!
//! The CRCs come from `crc-fast` (the crate aws-sdk-s3's own checksums use,
//! SIMD on x86-64 and aarch64, with the combine S3's full-object checksums
//! need), SHA-1 from RustCrypto's `sha1`: both already built for the SDK.

use base64::Engine;
use serde::{Deserialize, Serialize};

/// `--checksum-algorithm`: what each part (and the object) is checksummed with.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, clap::ValueEnum,
)]
pub enum Algorithm {
    #[default]
    #[serde(rename = "SHA256")]
    #[value(name = "SHA256")]
    Sha256,
    #[serde(rename = "CRC64NVME")]
    #[value(name = "CRC64NVME")]
    Crc64Nvme,
    #[serde(rename = "CRC32C")]
    #[value(name = "CRC32C")]
    Crc32c,
    #[serde(rename = "CRC32")]
    #[value(name = "CRC32")]
    Crc32,
    #[serde(rename = "SHA1")]
    #[value(name = "SHA1")]
    Sha1,
}

/// `--checksum-type`: how the object's checksum follows from its parts'.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A checksum of the parts' checksums, "…-N" (S3's COMPOSITE).
    #[default]
    Composite,
    /// The checksum of the whole object (S3's FULL_OBJECT; CRCs only).
    FullObject,
}

impl Algorithm {
    pub const ALL: [Algorithm; 5] = [
        Algorithm::Sha256,
        Algorithm::Crc64Nvme,
        Algorithm::Crc32c,
        Algorithm::Crc32,
        Algorithm::Sha1,
    ];

    /// As S3 and the command line spell it.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "SHA256",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc32 => "CRC32",
            Algorithm::Sha1 => "SHA1",
        }
    }

    /// The request header that carries a part's (or an object's) checksum.
    pub fn header(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "x-amz-checksum-sha256",
            Algorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Sha1 => "x-amz-checksum-sha1",
        }
    }

    /// The algorithm S3 (and the wire) names so, in any case.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// Whether `b64` is one digest of this algorithm (base64 of its width).
    pub fn well_formed(self, b64: &str) -> bool {
        unb64(b64).is_some_and(|b| b.len() == self.width())
    }

    /// Whether S3 can give an object a full-object checksum with it.
    pub fn can_be_full_object(self) -> bool {
        self.crc().is_some()
    }

    fn crc(self) -> Option<crc_fast::CrcAlgorithm> {
        match self {
            Algorithm::Crc64Nvme => Some(crc_fast::CrcAlgorithm::Crc64Nvme),
            Algorithm::Crc32c => Some(crc_fast::CrcAlgorithm::Crc32Iscsi),
            Algorithm::Crc32 => Some(crc_fast::CrcAlgorithm::Crc32IsoHdlc),
            Algorithm::Sha256 | Algorithm::Sha1 => None,
        }
    }

    /// Bytes in a digest.
    fn width(self) -> usize {
        match self {
            Algorithm::Sha256 => 32,
            Algorithm::Sha1 => 20,
            Algorithm::Crc64Nvme => 8,
            Algorithm::Crc32c | Algorithm::Crc32 => 4,
        }
    }
}

/// What an upload is checksummed with: journalled with the object's options,
/// so `resume` sends the same. The default is SHA-256, composite, as every
/// s3up before issue 23 did (README, "Checksums", says why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Choice {
    pub algorithm: Algorithm,
    #[serde(rename = "type")]
    pub kind: Kind,
}

/// A combination S3 does not allow, for the command line to word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// SHA-1 and SHA-256 have no full-object form.
    NoFullObject(Algorithm),
    /// CRC64NVME has only the full-object form.
    OnlyFullObject(Algorithm),
}

impl Choice {
    /// The choice the flags make: CRC64NVME is full-object unless told
    /// otherwise (its only form on AWS), the rest composite.
    pub fn new(algorithm: Algorithm, kind: Option<Kind>) -> Result<Choice, Invalid> {
        let kind = kind.unwrap_or(if algorithm == Algorithm::Crc64Nvme {
            Kind::FullObject
        } else {
            Kind::Composite
        });
        match (algorithm, kind) {
            (Algorithm::Crc64Nvme, Kind::Composite) => Err(Invalid::OnlyFullObject(algorithm)),
            (a, Kind::FullObject) if !a.can_be_full_object() => Err(Invalid::NoFullObject(a)),
            _ => Ok(Choice { algorithm, kind }),
        }
    }

    pub fn is_default(&self) -> bool {
        *self == Choice::default()
    }

    pub fn full_object(&self) -> bool {
        self.kind == Kind::FullObject
    }

    /// S3's name of the type (`x-amz-checksum-type`), which the wire uses.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Composite => "COMPOSITE",
            Kind::FullObject => "FULL_OBJECT",
        }
    }

    /// The choice a backend is asked for by S3's names: `None` for an
    /// algorithm or type it does not know, `Some(Err)` for a combination
    /// S3 does not allow.
    pub fn from_names(algorithm: &str, kind: Option<&str>) -> Option<Result<Choice, Invalid>> {
        let algorithm = Algorithm::from_name(algorithm)?;
        let kind = match kind {
            None => None,
            Some(k) if k.eq_ignore_ascii_case("COMPOSITE") => Some(Kind::Composite),
            Some(k) if k.eq_ignore_ascii_case("FULL_OBJECT") => Some(Kind::FullObject),
            Some(_) => return None,
        };
        Some(Choice::new(algorithm, kind))
    }

    /// The algorithm to compute besides SHA-256, if any.
    pub fn extra(&self) -> Option<Algorithm> {
        (self.algorithm != Algorithm::Sha256).then_some(self.algorithm)
    }

    /// The checksum S3 reports for an object made of parts whose digests
    /// (base64) and sizes are given, in order: composite "…-N", or the whole
    /// object's CRC. `None` when a digest is missing or not base64.
    pub fn object<'a>(&self, parts: impl IntoIterator<Item = (&'a str, u64)>) -> Option<String> {
        let algorithm = self.algorithm;
        match (self.kind, algorithm.crc()) {
            (Kind::FullObject, Some(crc)) => {
                let mut whole: Option<u64> = None;
                for (digest, len) in parts {
                    let part = from_bytes(&unb64(digest)?, algorithm)?;
                    whole = Some(match whole {
                        None => part,
                        Some(w) => crc_fast::checksum_combine(crc, w, part, len),
                    });
                }
                // An empty object's CRC is that of no bytes.
                let whole = whole.unwrap_or_else(|| crc_fast::checksum(crc, b""));
                Some(b64(&to_bytes(whole, algorithm)))
            }
            _ => {
                let mut h = Hasher::new(algorithm);
                let mut n = 0;
                for (digest, _) in parts {
                    h.update(&unb64(digest)?);
                    n += 1;
                }
                Some(format!("{}-{n}", h.finish().b64()))
            }
        }
    }
}

/// One digest, of the algorithm it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sum {
    pub algorithm: Algorithm,
    bytes: [u8; 32],
}

impl Sum {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.algorithm.width()]
    }

    /// Base64, as S3 writes checksums.
    pub fn b64(&self) -> String {
        b64(self.as_bytes())
    }
}

/// A checksum as S3 writes it (base64; composite ones end in "-N"), with
/// the algorithm that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    pub algorithm: Algorithm,
    pub b64: String,
}

impl Tagged {
    pub fn of(sum: &Sum) -> Tagged {
        Tagged {
            algorithm: sum.algorithm,
            b64: sum.b64(),
        }
    }
}

/// Computes one algorithm's digest incrementally.
pub enum Hasher {
    Crc(crc_fast::Digest, Algorithm),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Hasher {
        use sha1::Digest as _;
        match algorithm.crc() {
            Some(crc) => Hasher::Crc(crc_fast::Digest::new(crc), algorithm),
            None if algorithm == Algorithm::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            None => Hasher::Sha256(<sha2::Sha256 as sha2::Digest>::new()),
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Crc(d, _) => d.update(bytes),
            Hasher::Sha1(h) => sha1::Digest::update(h, bytes),
            Hasher::Sha256(h) => sha2::Digest::update(h, bytes),
        }
    }

    pub fn finish(self) -> Sum {
        let mut bytes = [0; 32];
        let algorithm = match self {
            Hasher::Crc(d, algorithm) => {
                let b = to_bytes(d.finalize(), algorithm);
                bytes[..b.len()].copy_from_slice(&b);
                algorithm
            }
            Hasher::Sha1(h) => {
                bytes[..20].copy_from_slice(&sha1::Digest::finalize(h));
                Algorithm::Sha1
            }
            Hasher::Sha256(h) => {
                bytes.copy_from_slice(&sha2::Digest::finalize(h));
                Algorithm::Sha256
            }
        };
        Sum { algorithm, bytes }
    }
}

/// A CRC as S3 writes it: big-endian, 4 or 8 bytes.
fn to_bytes(crc: u64, algorithm: Algorithm) -> Vec<u8> {
    if algorithm.width() == 8 {
        crc.to_be_bytes().to_vec()
    } else {
        (crc as u32).to_be_bytes().to_vec()
    }
}

fn from_bytes(bytes: &[u8], algorithm: Algorithm) -> Option<u64> {
    match (algorithm.width(), bytes.len()) {
        (8, 8) => Some(u64::from_be_bytes(bytes.try_into().ok()?)),
        (4, 4) => Some(u64::from(u32::from_be_bytes(bytes.try_into().ok()?))),
        _ => None,
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// The digest part of a checksum S3 reports: stores differ on the "-N" suffix.
pub fn digest_part(checksum: &str) -> &str {
    checksum.split('-').next().unwrap_or("")
}

/// Which store answers, as far as a choice's support goes: those measured
/// to mishandle a choice are named, so that it can be refused before
/// anything is created.
///
/// A table, not a probe: moto answers 200 to every choice, at Create, at
/// each part and at Complete, and shows what it did only in the checksum it
/// stores (HeadObject after Complete), so only a finished object would tell,
/// and nothing may be created first. The table is keyed by the `Server`
/// header of one HeadBucket answer, asked only for a choice other than the
/// default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// moto's standalone server (Werkzeug).
    Moto,
    /// Any other store (AWS, MinIO, …): it says for itself.
    Other,
    /// An upload backend (`put --via`): `s3 serve` or Uppy Companion.
    Backend,
}

impl StoreKind {
    /// Which store answers, from the `Server` header of any of its answers:
    /// moto 5.1.22's server says `Werkzeug/3.1.9 Python/3.11.7` (measured).
    pub fn from_server_header(server: Option<&str>) -> StoreKind {
        match server {
            Some(s) if s.starts_with("Werkzeug/") => StoreKind::Moto,
            _ => StoreKind::Other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Moto => "moto",
            StoreKind::Other => "the store",
            StoreKind::Backend => "the upload backend",
        }
    }

    /// What a stock Uppy Companion (`--via`) answers for any algorithm but
    /// the default; `s3up serve` signs each one.
    pub const BACKEND_ANSWER: &'static str = "it is Uppy Companion, which signs no checksum \
        into its part URLs (s3up serve signs every algorithm the bucket's store accepts)";

    /// `Some(answer)` when this store was measured to refuse (or to mishandle)
    /// the choice; the answer is what it did.
    pub fn refuses(self, choice: &Choice) -> Option<&'static str> {
        refusal(self, choice)
    }
}

/// The measured table (README, "Checksums"; tests/e2e/checksums.rs). moto
/// 5.1.22, installed as `moto[server]` (scripts/install-servers), accepts
/// every choice and answers 200, but stores a wrong checksum for some: its
/// `compute_checksum` falls back to CRC32 for CRC32C when the optional
/// `crc32c` module is missing, and to SHA-256 for any algorithm it does not
/// know, and it ignores `x-amz-checksum-type`. Other stores (AWS; Garage
/// 2.5.0 implements all five algorithms and both types) answer for
/// themselves.
fn refusal(store: StoreKind, choice: &Choice) -> Option<&'static str> {
    match (store, choice.algorithm, choice.kind) {
        (StoreKind::Backend, _, _) if !choice.is_default() => Some(StoreKind::BACKEND_ANSWER),
        (StoreKind::Moto, Algorithm::Crc32c, _) => Some(
            "it answers 200 but stores a CRC32 as the CRC32C (its optional crc32c module \
             is missing: moto[s3crc32c])",
        ),
        (StoreKind::Moto, Algorithm::Crc64Nvme, _) => {
            Some("it answers 200 but stores a SHA-256 as the CRC64NVME (moto 5.1 does not know it)")
        }
        (StoreKind::Moto, _, Kind::FullObject) => {
            Some("it answers 200 but ignores x-amz-checksum-type and stores a composite checksum")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(algorithm: Algorithm, data: &[u8]) -> String {
        let mut h = Hasher::new(algorithm);
        h.update(data);
        h.finish().b64()
    }

    /// The check values of each CRC ("123456789"), as the CRC catalogue lists them.
    #[test]
    fn crcs_match_their_catalogue_check_values() {
        let check = |a, want: u64| {
            let got = unb64(&sum(a, b"123456789")).unwrap();
            assert_eq!(from_bytes(&got, a), Some(want), "{a:?}");
        };
        check(Algorithm::Crc32, 0xCBF4_3926);
        check(Algorithm::Crc32c, 0xE306_9283);
        check(Algorithm::Crc64Nvme, 0xAE8B_1486_0A79_9888);
        assert_eq!(
            hex_of(&sum(Algorithm::Sha1, b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    fn hex_of(b: &str) -> String {
        unb64(b)
            .unwrap()
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect()
    }

    /// The full-object CRC combined from the parts is the CRC of the whole.
    #[test]
    fn full_object_crc_combines_from_parts() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for a in [Algorithm::Crc64Nvme, Algorithm::Crc32, Algorithm::Crc32c] {
            let choice = Choice::new(a, Some(Kind::FullObject)).unwrap();
            let parts: Vec<(String, u64)> = data
                .chunks(30_000)
                .map(|c| (sum(a, c), c.len() as u64))
                .collect();
            let got = choice.object(parts.iter().map(|(s, n)| (s.as_str(), *n)));
            assert_eq!(got, Some(sum(a, &data)), "{a:?}");
        }
    }

    #[test]
    fn composite_is_the_digest_of_the_digests() {
        let choice = Choice::new(Algorithm::Crc32c, None).unwrap();
        let (a, b) = (
            sum(Algorithm::Crc32c, b"one"),
            sum(Algorithm::Crc32c, b"two"),
        );
        let mut both = unb64(&a).unwrap();
        both.extend(unb64(&b).unwrap());
        let want = format!("{}-2", sum(Algorithm::Crc32c, &both));
        assert_eq!(
            choice.object([(a.as_str(), 3), (b.as_str(), 3)]),
            Some(want)
        );
    }

    #[test]
    fn only_crcs_have_a_full_object_form_and_crc64nvme_has_only_that() {
        assert_eq!(
            Choice::new(Algorithm::Sha1, Some(Kind::FullObject)),
            Err(Invalid::NoFullObject(Algorithm::Sha1))
        );
        assert_eq!(
            Choice::new(Algorithm::Crc64Nvme, Some(Kind::Composite)),
            Err(Invalid::OnlyFullObject(Algorithm::Crc64Nvme))
        );
        assert!(Choice::new(Algorithm::Crc64Nvme, None)
            .unwrap()
            .full_object());
        assert!(!Choice::new(Algorithm::Crc32, None).unwrap().full_object());
        assert!(Choice::new(Algorithm::Sha256, None).unwrap().is_default());
    }

    #[test]
    fn choice_journals_by_s3_names() {
        let c = Choice::new(Algorithm::Crc64Nvme, None).unwrap();
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(text, r#"{"algorithm":"CRC64NVME","type":"full-object"}"#);
        assert_eq!(serde_json::from_str::<Choice>(&text).unwrap(), c);
    }
}
