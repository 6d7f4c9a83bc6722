//! ListObjectsV2, every page: `sync`'s one listing of a prefix.

use super::SdkStore;
use crate::store::{ListedObject, StoreError};

impl SdkStore {
    /// Every object under `prefix`, following continuation tokens.
    pub(super) async fn list_all_objects(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<ListedObject>, StoreError> {
        let mut objects = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_max_keys(self.page_size)
                .set_continuation_token(token.take())
                .send();
            let out = self
                .watchdog
                .small("ListObjectsV2", async {
                    request
                        .await
                        .map_err(|e| self.classify("ListObjectsV2", bucket, "", e))
                })
                .await?;
            for o in out.contents() {
                objects.push(ListedObject {
                    key: o.key().unwrap_or_default().to_string(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                    etag: o.e_tag().map(str::to_string),
                    modified_unix: o.last_modified().map(|t| t.secs().max(0) as u64),
                });
            }
            token = out.next_continuation_token().map(str::to_string);
            if out.is_truncated() != Some(true) || token.is_none() {
                break;
            }
        }
        Ok(objects)
    }
}
