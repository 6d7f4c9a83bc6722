//! `--checksum-algorithm` and `--checksum-type` (issue 23).

use clap::Args;

/// The checksum each part and the object carry (issue 23).
#[derive(Debug, Clone, Default, Args)]
pub struct ChecksumArgs {
    /// Checksum of each part, checked by the store [default: SHA256]
    #[arg(long, value_enum, ignore_case = true, value_name = "ALGORITHM")]
    pub checksum_algorithm: Option<crate::checksum::Algorithm>,

    /// composite: a checksum of the parts' checksums; full-object: the whole
    /// object's CRC, for CRC64NVME, CRC32C and CRC32 [default: full-object
    /// for CRC64NVME, else composite]
    #[arg(long, value_enum, value_name = "TYPE")]
    pub checksum_type: Option<crate::checksum::Kind>,
}
