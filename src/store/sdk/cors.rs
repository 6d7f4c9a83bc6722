//! The bucket's CORS rules, read and replaced for `s3up serve`: a browser
//! PUTs part bodies straight to the bucket, so the bucket must allow the
//! page's origin and expose `ETag` (Uppy reads it, DESIGN §4b). `serve`
//! checks the rules at start and, when asked, writes the one rule it needs.
//! Here because this folder is the only place that touches aws-sdk-s3.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::CorsConfiguration;

use super::errors::{classify, fatal};
use super::SdkStore;
use crate::store::errors::error_chain;
use crate::store::StoreError;

/// One CORS rule of a bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CorsRule {
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    #[serde(rename = "MaxAgeSeconds")]
    pub max_age_seconds: Option<i32>,
}

impl SdkStore {
    /// The bucket's CORS rules; `None` when it has no CORS configuration.
    pub async fn bucket_cors(&self, bucket: &str) -> Result<Option<Vec<CorsRule>>, StoreError> {
        let request = async {
            match self.client.get_bucket_cors().bucket(bucket).send().await {
                Ok(out) => Ok(Some(
                    out.cors_rules()
                        .iter()
                        .map(|r| CorsRule {
                            allowed_origins: r.allowed_origins().to_vec(),
                            allowed_methods: r.allowed_methods().to_vec(),
                            allowed_headers: r.allowed_headers().to_vec(),
                            expose_headers: r.expose_headers().to_vec(),
                            max_age_seconds: r.max_age_seconds(),
                        })
                        .collect(),
                )),
                Err(SdkError::ServiceError(e))
                    if e.err().code() == Some("NoSuchCORSConfiguration") =>
                {
                    Ok(None)
                }
                Err(e) => Err(classify("GetBucketCors", e)),
            }
        };
        self.watchdog.small("GetBucketCors", request).await
    }

    /// Replaces the bucket's whole CORS configuration with `rule`.
    pub async fn put_bucket_cors(&self, bucket: &str, rule: &CorsRule) -> Result<(), StoreError> {
        let built = aws_sdk_s3::types::CorsRule::builder()
            .set_allowed_origins(Some(rule.allowed_origins.clone()))
            .set_allowed_methods(Some(rule.allowed_methods.clone()))
            .set_allowed_headers(Some(rule.allowed_headers.clone()))
            .set_expose_headers(Some(rule.expose_headers.clone()))
            .set_max_age_seconds(rule.max_age_seconds)
            .build()
            .map_err(|e| fatal("PutBucketCors", error_chain(&e)))?;
        let config = CorsConfiguration::builder()
            .cors_rules(built)
            .build()
            .map_err(|e| fatal("PutBucketCors", error_chain(&e)))?;
        let request = async {
            self.client
                .put_bucket_cors()
                .bucket(bucket)
                .cors_configuration(config)
                .send()
                .await
                .map_err(|e| classify("PutBucketCors", e))?;
            Ok(())
        };
        self.watchdog.small("PutBucketCors", request).await
    }
}
