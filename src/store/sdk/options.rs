//! The object options on the SDK's requests ([`crate::store::object_options`]):
//! the object's own on the request that creates it (PutObject,
//! CreateMultipartUpload, through [`on_create`] and [`on_put`]), and what
//! every request of a run carries (expected bucket owner, requester pays,
//! the SSE-C key) through one interceptor, [`RequestHeaders`], so that no
//! call can forget them.

use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;
use aws_sdk_s3::operation::create_multipart_upload::builders::CreateMultipartUploadFluentBuilder;
use aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder;
use aws_sdk_s3::types::{ObjectCannedAcl, ServerSideEncryption, StorageClass};
use aws_sdk_s3::Client;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::date_time::{DateTime, Format};

use super::SdkStore;
use crate::store::{ObjectOptions, RequestOptions};

/// The operations whose requests read or write an SSE-C object's bytes, and
/// so need its key (AWS documents it on each; CompleteMultipartUpload and
/// ListParts need it for an upload created with a checksum algorithm, as
/// s3up's are).
const SSE_C_OPERATIONS: &[&str] = &[
    "PutObject",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "HeadObject",
    "GetObject",
    "ListParts",
];

/// The same setters exist on both builders; one body for both.
macro_rules! apply {
    ($req:ident, $o:ident) => {{
        let x = &$o.extras;
        let mut req = $req
            .set_content_type($o.content_type.clone())
            .set_storage_class($o.storage_class.as_deref().map(StorageClass::from))
            .set_server_side_encryption(x.sse.as_deref().map(ServerSideEncryption::from))
            .set_ssekms_key_id(x.sse_kms_key_id.clone())
            .set_acl(x.acl.as_deref().map(ObjectCannedAcl::from))
            .set_cache_control(x.cache_control.clone())
            .set_content_disposition(x.content_disposition.clone())
            .set_content_encoding(x.content_encoding.clone())
            .set_content_language(x.content_language.clone())
            .set_expires(x.expires.as_deref().and_then(expires))
            .set_tagging(x.tagging.clone());
        for (k, v) in &$o.metadata {
            req = req.metadata(k, v);
        }
        req
    }};
}

/// CreateMultipartUpload with the object's options.
pub(super) fn on_create(
    req: CreateMultipartUploadFluentBuilder,
    o: &ObjectOptions,
) -> CreateMultipartUploadFluentBuilder {
    apply!(req, o)
}

/// PutObject with the object's options.
pub(super) fn on_put(req: PutObjectFluentBuilder, o: &ObjectOptions) -> PutObjectFluentBuilder {
    apply!(req, o)
}

/// The canned ACLs the SDK knows, for the CLI's value check.
pub fn canned_acls() -> &'static [&'static str] {
    ObjectCannedAcl::values()
}

/// `--expires` as the command line checked it (RFC 3339).
fn expires(s: &str) -> Option<DateTime> {
    DateTime::from_str(s, Format::DateTime).ok()
}

/// Parses an `--expires` value: RFC 3339 (`2027-01-01T00:00:00Z`) or an
/// HTTP date (`Fri, 01 Jan 2027 00:00:00 GMT`), returned as RFC 3339.
pub fn parse_expires(s: &str) -> Option<String> {
    let t = DateTime::from_str(s, Format::DateTime)
        .or_else(|_| DateTime::from_str(s, Format::HttpDate))
        .ok()?;
    t.fmt(Format::DateTime).ok()
}

/// The object's options as the fields of a presigned POST form (`serve`'s
/// `/s3/params`), each pinned by the policy so that a client cannot drop
/// it. A POST takes its tags as XML (AWS: "POST Object"), not as the
/// query string `x-amz-tagging` takes.
pub fn post_fields(o: &ObjectOptions) -> Vec<(String, String)> {
    let x = &o.extras;
    let named = [
        ("x-amz-server-side-encryption", &x.sse),
        (
            "x-amz-server-side-encryption-aws-kms-key-id",
            &x.sse_kms_key_id,
        ),
        ("x-amz-storage-class", &o.storage_class),
    ];
    let mut fields: Vec<(String, String)> = named
        .into_iter()
        .filter_map(|(name, v)| Some((name.to_string(), v.clone()?)))
        .collect();
    if let Some(tags) = &x.tagging {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let each: String = form_urlencoded::parse(tags.as_bytes())
            .map(|(k, v)| {
                format!(
                    "<Tag><Key>{}</Key><Value>{}</Value></Tag>",
                    esc(&k),
                    esc(&v)
                )
            })
            .collect();
        fields.push((
            "tagging".to_string(),
            format!("<Tagging><TagSet>{each}</TagSet></Tagging>"),
        ));
    }
    fields
}

impl SdkStore {
    /// The same store, every request carrying `request`.
    pub(crate) fn with_request(self, request: &RequestOptions) -> SdkStore {
        let config = self
            .client
            .config()
            .to_builder()
            .interceptor(RequestHeaders(request.clone()))
            .build();
        SdkStore {
            client: Client::from_conf(config),
            ..self
        }
    }
}

/// Adds the run's request-level options to every request before it is signed.
#[derive(Debug)]
struct RequestHeaders(RequestOptions);

impl Intercept for RequestHeaders {
    fn name(&self) -> &'static str {
        "s3up-request-options"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = cfg.load::<Metadata>().map(|m| m.name().to_string());
        let headers = context.request_mut().headers_mut();
        let o = &self.0;
        if let Some(owner) = &o.expected_bucket_owner {
            headers.insert("x-amz-expected-bucket-owner", owner.clone());
        }
        if let Some(payer) = &o.request_payer {
            headers.insert("x-amz-request-payer", payer.clone());
        }
        let wants_key = op.is_some_and(|op| SSE_C_OPERATIONS.contains(&op.as_str()));
        if let (Some(key), true) = (&o.sse_c_key, wants_key) {
            headers.insert("x-amz-server-side-encryption-customer-algorithm", "AES256");
            headers.insert("x-amz-server-side-encryption-customer-key", key.key_b64());
            headers.insert(
                "x-amz-server-side-encryption-customer-key-md5",
                key.md5_b64(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sdk::tests::captured;
    use crate::store::{ObjectExtras, SseCustomerKey, Store, UploadHandle};

    #[test]
    fn post_forms_carry_the_imposed_options() {
        let o = ObjectOptions {
            storage_class: Some("STANDARD_IA".into()),
            extras: ObjectExtras {
                sse: Some("aws:kms".into()),
                tagging: Some("team=a%26b&x=".into()),
                ..ObjectExtras::default()
            },
            ..ObjectOptions::default()
        };
        let f = post_fields(&o);
        let get = |n: &str| f.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("x-amz-server-side-encryption"), Some("aws:kms"));
        assert_eq!(get("x-amz-storage-class"), Some("STANDARD_IA"));
        assert_eq!(get("x-amz-server-side-encryption-aws-kms-key-id"), None);
        assert_eq!(
            get("tagging"),
            Some(
                "<Tagging><TagSet><Tag><Key>team</Key><Value>a&amp;b</Value></Tag>\
                 <Tag><Key>x</Key><Value></Value></Tag></TagSet></Tagging>"
            )
        );
    }

    #[test]
    fn expires_takes_rfc3339_and_http_dates() {
        let want = Some("2027-01-01T00:00:00Z".to_string());
        assert_eq!(parse_expires("2027-01-01T00:00:00Z"), want);
        assert_eq!(parse_expires("Fri, 01 Jan 2027 00:00:00 GMT"), want);
        assert_eq!(parse_expires("tomorrow"), None);
    }

    /// Every option lands in its header on create, and the request-level
    /// ones (the SSE-C key included) on an UploadPart too, but never the
    /// key on a call that does not take it.
    #[tokio::test]
    async fn options_become_headers() {
        let (store, rx) = captured();
        let key = SseCustomerKey::from_file_bytes(&[9u8; 32]).unwrap();
        let extras = ObjectExtras {
            sse: Some("aws:kms".into()),
            sse_kms_key_id: Some("alias/k".into()),
            acl: Some("public-read".into()),
            cache_control: Some("max-age=60".into()),
            content_disposition: Some("attachment".into()),
            content_encoding: Some("gzip".into()),
            content_language: Some("fr".into()),
            expires: Some("2027-01-01T00:00:00Z".into()),
            tagging: Some("a=1&b=2".into()),
            expected_bucket_owner: Some("123456789012".into()),
            request_payer: Some("requester".into()),
            ..ObjectExtras::default()
        };
        let opts = ObjectOptions {
            extras: extras.clone(),
            ..ObjectOptions::default()
        };
        let store = store.with_request(&extras.request_options(Some(key.clone())));
        let _ = store.create_upload("bkt", "k", &opts).await;
        let req = rx.expect_request();
        let h = |n: &str| req.headers().get(n).map(str::to_string);
        assert_eq!(
            h("x-amz-server-side-encryption").as_deref(),
            Some("aws:kms")
        );
        assert_eq!(
            h("x-amz-server-side-encryption-aws-kms-key-id").as_deref(),
            Some("alias/k")
        );
        assert_eq!(h("x-amz-acl").as_deref(), Some("public-read"));
        assert_eq!(h("cache-control").as_deref(), Some("max-age=60"));
        assert_eq!(h("content-disposition").as_deref(), Some("attachment"));
        assert_eq!(h("content-encoding").as_deref(), Some("gzip"));
        assert_eq!(h("content-language").as_deref(), Some("fr"));
        assert_eq!(
            h("expires").as_deref(),
            Some("Fri, 01 Jan 2027 00:00:00 GMT")
        );
        assert_eq!(h("x-amz-tagging").as_deref(), Some("a=1&b=2"));
        assert_eq!(
            h("x-amz-expected-bucket-owner").as_deref(),
            Some("123456789012")
        );
        assert_eq!(h("x-amz-request-payer").as_deref(), Some("requester"));
        assert_eq!(
            h("x-amz-server-side-encryption-customer-key-md5"),
            Some(key.md5_b64())
        );
        let signed = h("authorization").unwrap();
        assert!(signed.contains("x-amz-expected-bucket-owner"), "{signed}");

        let (plain, rx) = captured();
        let store = plain.with_request(&extras.request_options(Some(key.clone())));
        let upload = UploadHandle {
            bucket: "bkt".into(),
            key: "k".into(),
            upload_id: "u".into(),
        };
        let _ = store.abort_upload(&upload).await;
        let req = rx.expect_request();
        assert_eq!(
            req.headers().get("x-amz-expected-bucket-owner"),
            Some("123456789012")
        );
        assert_eq!(
            req.headers()
                .get("x-amz-server-side-encryption-customer-key"),
            None
        );
    }
}
