//! One backend call: the route's URL, the bearer token, the watchdog, and
//! the answer read as JSON into a [`crate::protocol`] type, or classified as
//! an error (`errors`). Also the one call made without the token: asking
//! `GET /healthz` which backend this is ([`Dialect`]).

use serde::de::DeserializeOwned;

use super::{errors, Dialect, ViaStore};
use crate::protocol::{Health, WhoAmI, SERVICE};
use crate::store::{ErrorKind, Refusal, StoreError};

/// How a backend call is watched.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Wait {
    Small,
    /// Complete may take minutes on a large object.
    Complete,
}

impl ViaStore {
    /// Whether the backend and, once a part has gone there, S3 answer at all
    /// (`Store::probe`): `GET /healthz` and a `HEAD` of the last part's
    /// origin, whatever their status.
    pub(super) async fn reachable(&self) -> Result<(), StoreError> {
        let inner = &self.inner;
        inner
            .http
            .get(self.url(&["healthz"]))
            .send()
            .await
            .map_err(|e| errors::transport("backend healthz", &e))?;
        let origin = inner
            .part_origin
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(origin) = origin {
            inner
                .http
                .head(origin)
                .send()
                .await
                .map_err(|e| errors::transport("S3 probe", &e))?;
        }
        Ok(())
    }

    /// Keeps the origin (scheme, host, port) of a part's presigned URL, for
    /// [`ViaStore::reachable`].
    pub(super) fn note_part_origin(&self, url: &str) {
        let Ok(mut origin) = reqwest::Url::parse(url) else {
            return;
        };
        origin.set_path("/");
        origin.set_query(None);
        *self
            .inner
            .part_origin
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(origin);
    }

    /// The backend's dialect, asked once (`GET /healthz`, no token).
    pub async fn dialect(&self) -> Result<Dialect, StoreError> {
        let inner = &self.inner;
        inner
            .dialect
            .get_or_try_init(|| async {
                let url = self.url(&["healthz"]);
                let request = async {
                    let resp = inner
                        .http
                        .get(url)
                        .send()
                        .await
                        .map_err(|e| errors::transport("backend healthz", &e))?;
                    if resp.status().as_u16() >= 500 {
                        let status = resp.status().as_u16();
                        let body = resp.text().await.unwrap_or_default();
                        return Err(errors::backend_answer(
                            "backend healthz",
                            &inner.backend,
                            status,
                            &body,
                            false,
                            false,
                        ));
                    }
                    let ok = resp.status().is_success();
                    let health: Option<Health> = resp.json().await.ok();
                    let serve = ok && health.is_some_and(|h| h.service == SERVICE);
                    Ok(if serve {
                        Dialect::Serve
                    } else {
                        Dialect::Companion
                    })
                };
                inner.watchdog.small("backend healthz", request).await
            })
            .await
            .copied()
    }

    /// The backend URL with these path segments appended.
    pub(super) fn url(&self, segments: &[&str]) -> reqwest::Url {
        let mut url = self.inner.base.clone();
        // `new` checked that the base can take path segments.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Sends one backend request with the token and parses its JSON answer.
    /// `upload_route`: the request names an open upload (a 404 means it is gone).
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        op: &'static str,
        req: reqwest::RequestBuilder,
        upload_route: bool,
        wait: Wait,
    ) -> Result<T, StoreError> {
        let inner = &self.inner;
        let req = match &inner.token {
            Some(token) => req.bearer_auth(&token.0),
            None => req,
        };
        let request = async {
            let resp = req.send().await.map_err(|e| errors::transport(op, &e))?;
            let status = resp.status().as_u16();
            let body = resp.text().await.map_err(|e| errors::transport(op, &e))?;
            let value = serde_json::from_str::<serde_json::Value>(&body);
            // Uppy treats any JSON with an `error` field as a failure; so does s3up.
            let said_error = value.as_ref().is_ok_and(|v| v.get("error").is_some());
            if !(200..300).contains(&status) || said_error {
                let error = errors::backend_answer(
                    op,
                    &inner.backend,
                    status,
                    &body,
                    upload_route,
                    inner.token.is_some(),
                );
                return Err(self.refusal(error, &body).await);
            }
            let value = value.map_err(|e| {
                StoreError::new(
                    ErrorKind::Fatal,
                    op,
                    format!(
                        "the backend's answer is not JSON ({e}); is {} an s3up serve or Companion URL?",
                        inner.backend
                    ),
                )
            })?;
            serde_json::from_value(value).map_err(|e| {
                StoreError::new(
                    ErrorKind::Fatal,
                    op,
                    format!("the backend's answer is not the expected shape: {e}"),
                )
            })
        };
        match wait {
            Wait::Small => inner.watchdog.small(op, request).await,
            Wait::Complete => inner.watchdog.complete(op, request).await,
        }
    }

    /// A refusal made precise ([`Refusal`]): a 401 to a request that carried
    /// no token says the backend wants one; `serve`'s 403 `outside_prefix`
    /// is completed with the prefix the token may write and the bucket, asked
    /// of `GET /s3/whoami` (if that fails too, the refusal stays as it came).
    async fn refusal(&self, mut error: StoreError, body: &str) -> StoreError {
        let code = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("code")?.as_str().map(str::to_string));
        match error.status {
            Some(401) if self.inner.token.is_none() => {
                error.refusal = Some(Box::new(Refusal::TokenWanted));
            }
            Some(403) if code.as_deref() == Some("outside_prefix") => {
                if let Ok(who) = self.whoami().await {
                    error.refusal = Some(Box::new(Refusal::OutsidePrefix {
                        prefix: who.prefix,
                        bucket: who.bucket,
                    }));
                }
            }
            _ => {}
        }
        error
    }

    /// `GET /s3/whoami` (`serve` only): the token's ID, prefix and bucket.
    async fn whoami(&self) -> Result<WhoAmI, StoreError> {
        const OP: &str = "backend whoami";
        let inner = &self.inner;
        let mut req = inner.http.get(self.url(&["s3", "whoami"]));
        if let Some(token) = &inner.token {
            req = req.bearer_auth(&token.0);
        }
        let request = async {
            let resp = req.send().await.map_err(|e| errors::transport(OP, &e))?;
            if !resp.status().is_success() {
                return Err(StoreError::new(
                    ErrorKind::Fatal,
                    OP,
                    resp.status().to_string(),
                ));
            }
            resp.json::<WhoAmI>()
                .await
                .map_err(|e| StoreError::new(ErrorKind::Fatal, OP, e.to_string()))
        };
        inner.watchdog.small(OP, request).await
    }
}
