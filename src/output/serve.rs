//! `serve`: its refusals at start, the one line on stdout with the address,
//! and the words of its log lines about the bucket's CORS rules. (The HTTP
//! error bodies it answers clients with are the API's, in `crate::serve`.)

use std::net::SocketAddr;

use crate::error::Error;

pub fn bad_prefix(prefix: &str, why: &str) -> Error {
    Error::Usage(format!("--prefix '{prefix}': {why}"))
}

/// `--no-auth` on an address others can reach.
pub fn no_auth_refused(listen: SocketAddr) -> Error {
    Error::Usage(format!(
        "--no-auth is refused on {listen}, which is not a loopback address: without authentication anyone \
         who reaches the port could write to the bucket. Listen on 127.0.0.1, or use --tokens or --jwt-secret-file"
    ))
}

pub fn auth_needed() -> Error {
    Error::Usage(
        "serve needs authentication: give --tokens FILE or --jwt-secret-file FILE \
         (or --no-auth, on a loopback address only)"
            .into(),
    )
}

pub fn cannot_listen(listen: SocketAddr, e: &std::io::Error) -> Error {
    Error::failed(format!(
        "cannot listen on {listen}: {e}. Choose another address or port with --listen"
    ))
}

pub fn cannot_read_address(e: &std::io::Error) -> Error {
    Error::failed(format!("cannot read the listening address: {e}"))
}

/// The one line on stdout: scripts and tests read the address from it
/// (useful with port 0).
pub fn listening(addr: SocketAddr, bucket: &str, prefix: &str) {
    println!("s3up serve: listening on http://{addr} for s3://{bucket}/{prefix}");
}

pub fn serving_failed(addr: SocketAddr, e: &std::io::Error) -> Error {
    Error::failed(format!("serving on {addr} failed: {e}"))
}

pub fn cannot_set_cors(bucket: &str, e: &impl std::fmt::Display, json: &str) -> Error {
    Error::failed(format!(
        "cannot set the CORS configuration of bucket '{bucket}': {e}. Apply {json} yourself"
    ))
}

pub fn no_such_bucket(bucket: &str) -> Error {
    Error::failed(format!(
        "bucket '{bucket}' does not exist: create it, or name another with --bucket"
    ))
}

/// The log line for bucket CORS rules that leave browsers out (`gap`).
pub fn cors_gap(bucket: &str, gap: &str, json: &str) -> String {
    format!(
        "bucket '{bucket}': {gap}, so browsers cannot upload to the presigned URLs. \
         Apply {json} (e.g. `aws s3api put-bucket-cors --bucket {bucket} --cors-configuration '{json}'`), \
         or restart with --apply-bucket-cors"
    )
}

/// The log line for bucket CORS rules that could not be read.
pub fn cors_unreadable(bucket: &str, e: &impl std::fmt::Display, json: &str) -> String {
    format!("bucket '{bucket}': cannot read its CORS configuration ({e}); browsers need {json}")
}

/// Where the metrics are, with `--metrics-listen`: a log line, since
/// stdout holds the one line scripts read (and may close after it).
pub fn metrics_at(addr: SocketAddr) {
    tracing::info!("metrics on http://{addr}/metrics");
}

/// `--max-connections` lowered to fit the open-file limit.
pub fn connections_capped(wanted: usize, cap: usize, file_limit: u64) -> String {
    format!(
        "--max-connections {wanted} does not fit under this process's limit of {file_limit} open files: \
         serving at most {cap} connections. Raise the hard limit (ulimit -Hn, LimitNOFILE=) to allow more"
    )
}
