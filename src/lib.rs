//! s3up: upload large files to S3 with multipart upload that survives interruptions.
