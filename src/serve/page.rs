//! The browser uploader (issue 12): one hand-written page, its scripts (ES
//! modules, loaded with `<script type="module">`, no build step) and its style
//! sheet, compiled into the binary from `web/` with `include_str!`, so
//! `s3up serve` is the whole service and there is nothing to deploy. Every
//! file is one row of [`FILES`]; a new module is one new row.
//!
//! The page talks only to `serve` (same origin) and to the store (the part
//! PUTs), and the Content-Security-Policy says exactly that: scripts and
//! styles from `serve` itself (no inline code, no `eval`), connections to
//! `serve` and to the store's origin, no frames, no forms, no plugins. The
//! store's origin is read from the SDK's own presigned URLs at start-up, so
//! it follows `--endpoint-url` and path-style exactly as the part URLs do.
//! `script-src 'self'` covers the modules' `import`s, which are same-origin.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const JS: &str = "text/javascript; charset=utf-8";

/// Each of the page's files: its path, its Content-Type and its text. A module
/// must be served as JavaScript, or the browser refuses to run it.
const FILES: [(&str, &str, &str); 8] = [
    (
        "/",
        "text/html; charset=utf-8",
        include_str!("../../web/index.html"),
    ),
    ("/app.js", JS, include_str!("../../web/app.js")),
    ("/api.js", JS, include_str!("../../web/api.js")),
    ("/dom.js", JS, include_str!("../../web/dom.js")),
    ("/records.js", JS, include_str!("../../web/records.js")),
    ("/upload.js", JS, include_str!("../../web/upload.js")),
    ("/view.js", JS, include_str!("../../web/view.js")),
    (
        "/style.css",
        "text/css; charset=utf-8",
        include_str!("../../web/style.css"),
    ),
];

/// The page's response headers, built once at start-up.
#[derive(Debug, Clone)]
pub struct Page {
    csp: HeaderValue,
}

impl Page {
    /// `store_url` is a URL the part PUTs go to (the bucket's URL); without
    /// one (it could not be worked out), the page may connect to any https
    /// origin, and `serve` says so in its log.
    pub fn new(store_url: Option<&str>) -> Page {
        let store = store_url.and_then(origin).unwrap_or_else(|| {
            tracing::warn!(
                "cannot tell the store's origin from its URLs: the page's Content-Security-Policy allows connections to any https origin"
            );
            "https:".to_string()
        });
        let csp = format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self' {store}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        );
        Page {
            // `origin` lets through only characters a header value may hold.
            csp: HeaderValue::from_str(&csp)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
        }
    }

    fn respond(&self, content_type: &'static str, body: &'static str) -> Response {
        (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (header::CONTENT_SECURITY_POLICY, self.csp.clone()),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
                (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
                // The token travels in the fragment, which browsers never
                // send; no-referrer keeps even the page's path to itself.
                (
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            body,
        )
            .into_response()
    }
}

/// `scheme://host[:port]` of a URL, when it is one a CSP source can name.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
    };
    (matches!(scheme, "http" | "https") && ok(host)).then(|| format!("{scheme}://{host}"))
}

/// Every file of [`FILES`], open to anyone: the page holds no secret, and
/// asks for the token itself.
pub fn routes<S: Clone + Send + Sync + 'static>(page: Page) -> Router<S> {
    FILES
        .iter()
        .fold(Router::new(), |router, &(path, content_type, body)| {
            let page = page.clone();
            router.route(
                path,
                get(move || async move { page.respond(content_type, body) }),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(
            origin("http://127.0.0.1:3900/bucket/").as_deref(),
            Some("http://127.0.0.1:3900")
        );
        assert_eq!(
            origin("https://b.s3.eu-west-1.amazonaws.com/").as_deref(),
            Some("https://b.s3.eu-west-1.amazonaws.com")
        );
        assert_eq!(origin("https://a;b/"), None);
        assert_eq!(origin("ftp://a/"), None);
        assert_eq!(origin("nonsense"), None);
    }

    /// Every module a script imports is one the page serves.
    #[test]
    fn every_import_is_served() {
        for (path, _, body) in FILES.iter().filter(|f| f.1 == JS) {
            // One statement at a time: an import may span lines.
            let statements = body.split(';').filter_map(|chunk| {
                let at = chunk.find("\nimport ").map(|i| i + 1);
                let at = at.or(chunk.starts_with("import ").then_some(0))?;
                Some(&chunk[at..])
            });
            for line in statements {
                let Some(name) = line.split("'./").nth(1).and_then(|r| r.split('\'').next()) else {
                    panic!("{path}: an import not of './NAME': {line}");
                };
                assert!(
                    FILES.iter().any(|f| f.0 == format!("/{name}") && f.1 == JS),
                    "{path} imports {name}, which is not served"
                );
            }
        }
    }

    #[test]
    fn csp_names_the_store() {
        let p = Page::new(Some("http://127.0.0.1:3900/b/"));
        let csp = p.csp.to_str().unwrap_or_default();
        assert!(
            csp.contains("connect-src 'self' http://127.0.0.1:3900;"),
            "{csp}"
        );
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
    }
}
