//! The bucket's CORS rules that a browser page needs to PUT parts and POST
//! forms straight to S3 with `serve`'s URLs: the rule `serve` offers to set,
//! and what an existing configuration lacks (`cmd::serve` checks it at start).

use crate::store::sdk::cors::CorsRule;

/// The CORS rule a browser needs on the bucket for `serve`'s URLs: PUT for
/// parts, POST for `/s3/params` forms, any header (the checksum header), and
/// `ETag` readable.
pub fn wanted_bucket_cors(origins: &[String]) -> CorsRule {
    CorsRule {
        allowed_origins: if origins.is_empty() {
            vec!["*".into()]
        } else {
            origins.to_vec()
        },
        allowed_methods: vec!["GET".into(), "PUT".into(), "POST".into()],
        allowed_headers: vec!["*".into()],
        expose_headers: vec!["ETag".into()],
        max_age_seconds: Some(3000),
    }
}

/// What is missing from the bucket's CORS rules for a browser at `origins`
/// (any origin when none is given), or `None` when nothing is.
pub fn bucket_cors_gap(rules: Option<&[CorsRule]>, origins: &[String]) -> Option<String> {
    let Some(rules) = rules.filter(|r| !r.is_empty()) else {
        return Some("the bucket has no CORS configuration".into());
    };
    let origins: Vec<&str> = if origins.is_empty() {
        vec!["*"]
    } else {
        origins.iter().map(String::as_str).collect()
    };
    let has = |list: &[String], want: &str| {
        list.iter()
            .any(|v| v == "*" || v.eq_ignore_ascii_case(want))
    };
    for origin in origins {
        for method in ["PUT", "POST"] {
            let rule = rules
                .iter()
                .find(|r| has(&r.allowed_origins, origin) && has(&r.allowed_methods, method));
            match rule {
                None => return Some(format!("no CORS rule lets origin '{origin}' {method}")),
                Some(r) => {
                    if !r
                        .expose_headers
                        .iter()
                        .any(|h| h.eq_ignore_ascii_case("etag"))
                    {
                        return Some(format!(
                            "the CORS rule for origin '{origin}' does not expose the ETag header"
                        ));
                    }
                    let headers_ok = ["content-type", "x-amz-checksum-sha256"]
                        .iter()
                        .all(|h| has(&r.allowed_headers, h));
                    if !headers_ok {
                        return Some(format!(
                            "the CORS rule for origin '{origin}' does not allow the Content-Type and x-amz-checksum-sha256 headers"
                        ));
                    }
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_gaps_are_found() {
        let none: &[String] = &[];
        assert!(bucket_cors_gap(None, none).is_some());
        let good = wanted_bucket_cors(none);
        assert_eq!(
            bucket_cors_gap(Some(std::slice::from_ref(&good)), none),
            None
        );
        let origin = vec!["https://app.example".to_string()];
        assert_eq!(
            bucket_cors_gap(Some(std::slice::from_ref(&good)), &origin),
            None
        );
        let no_etag = CorsRule {
            expose_headers: vec![],
            ..good.clone()
        };
        assert!(bucket_cors_gap(Some(&[no_etag]), none)
            .unwrap()
            .contains("ETag"));
        let no_put = CorsRule {
            allowed_methods: vec!["GET".into()],
            ..good.clone()
        };
        assert!(bucket_cors_gap(Some(&[no_put]), none)
            .unwrap()
            .contains("PUT"));
        let other = wanted_bucket_cors(&["https://other.example".to_string()]);
        assert!(bucket_cors_gap(Some(&[other]), &origin).is_some());
    }
}
