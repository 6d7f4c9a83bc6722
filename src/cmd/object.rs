//! The object options of issue 23 from the command line to the store: the
//! journalled [`ObjectExtras`], and what every request carries
//! ([`RequestOptions`], the SSE-C key read from its file). On `resume` the
//! key is asked for again and checked against the MD5 the journal kept.

use std::path::Path;

use crate::cli::{ImposedArgs, ObjectExtraArgs, PutArgs};
use crate::error::Result;
use crate::output::options as words;
use crate::store::{AnyStore, ObjectExtras, ObjectOptions, RequestOptions, SseCustomerKey};

/// The options `put` was given, checked, with the SSE-C key read.
pub(super) fn extras(args: &PutArgs) -> Result<(ObjectExtras, RequestOptions)> {
    let x: &ObjectExtraArgs = &args.object.extra;
    if let (Some(sse), Some(_)) = (&x.sse, &x.sse_kms_key_id) {
        if !sse.starts_with("aws:kms") {
            return Err(words::kms_key_without_kms(sse));
        }
    }
    let key = x.sse_c_key.as_deref().map(read_key).transpose()?;
    let extras = ObjectExtras {
        sse: x.sse.clone(),
        sse_kms_key_id: x.sse_kms_key_id.clone(),
        sse_c: x.sse_c.clone(),
        sse_c_key_md5: key.as_ref().map(SseCustomerKey::md5_b64),
        acl: x.acl.clone(),
        cache_control: x.cache_control.clone(),
        content_disposition: x.content_disposition.clone(),
        content_encoding: x.content_encoding.clone(),
        content_language: x.content_language.clone(),
        expires: x.expires.clone(),
        tagging: x.tagging.clone(),
        expected_bucket_owner: x.expected_bucket_owner.clone(),
        request_payer: x.request_payer.clone(),
    };
    if args.via.is_some() && !extras.is_empty() {
        return Err(words::not_through_backend());
    }
    let request = extras.request_options(key);
    Ok((extras, request))
}

/// The store for resuming upload `id`, whose options are `extras`: every
/// request carrying them, with the SSE-C key from `key_file` when the
/// upload has one (required then, and refused when its MD5 differs).
pub(super) fn for_resume(
    store: AnyStore,
    id: &str,
    extras: &ObjectExtras,
    key_file: Option<&Path>,
) -> Result<AnyStore> {
    let key = match (&extras.sse_c_key_md5, key_file) {
        (None, None) => None,
        (None, Some(_)) => return Err(words::key_not_used(id)),
        (Some(_), None) => return Err(words::key_needed(id)),
        (Some(recorded), Some(path)) => {
            let key = read_key(path)?;
            if key.md5_b64() != *recorded {
                return Err(words::key_differs(id, &key.md5_b64(), recorded));
            }
            Some(key)
        }
    };
    Ok(store.with_request_options(&extras.request_options(key)))
}

fn read_key(path: &Path) -> Result<SseCustomerKey> {
    let bytes = std::fs::read(path).map_err(|e| words::key_unreadable(path, &e))?;
    SseCustomerKey::from_file_bytes(&bytes).ok_or_else(|| words::key_malformed(path, bytes.len()))
}

/// What `serve --sse … --storage-class … --tagging …` imposes on every upload.
pub(super) fn imposed(args: &ImposedArgs) -> Result<ObjectOptions> {
    if let (Some(sse), Some(_)) = (&args.sse, &args.sse_kms_key_id) {
        if !sse.starts_with("aws:kms") {
            return Err(words::kms_key_without_kms(sse));
        }
    }
    Ok(ObjectOptions {
        storage_class: args.storage_class.clone(),
        extras: ObjectExtras {
            sse: args.sse.clone(),
            sse_kms_key_id: args.sse_kms_key_id.clone(),
            tagging: args.tagging.clone(),
            ..ObjectExtras::default()
        },
        ..ObjectOptions::default()
    })
}
