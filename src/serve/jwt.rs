//! HS256 JWTs (`--jwt-secret-file`), checked to RFC 7519 and 7515.
//!
//! `jsonwebtoken` checks the signature and the algorithm (HS256 only, so
//! neither `none` nor an RSA key read as an HMAC secret gets through); the
//! claims are checked here, each with its own reason, because the crate
//! gives a malformed `exp` the reason of a missing one and checks no `iat`:
//! - `exp` is required, a NumericDate (a number of seconds since 1970), and
//!   enforced with no leeway;
//! - `nbf` and `iat`, when present, are NumericDates, and neither may lie
//!   more than [`LEEWAY`] ahead of the server's clock (the issuer's may run
//!   a little fast);
//! - the token may not live longer than `--jwt-max-lifetime` (default a day):
//!   neither `exp - iat` nor `exp - now` may exceed it, so a leaked token
//!   minted for a century is refused;
//! - a `crit` header is refused: it names extensions the recipient must
//!   understand (RFC 7515 §4.1.11), and this server understands none;
//! - `prefix` is a string, checked like a tokens file's ([`super::auth`]);
//!   `sub`, when present, a string.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde_json::{Map, Value};

use super::error::ApiError;

/// How far ahead of the server's clock `nbf` and `iat` may be.
pub const LEEWAY: Duration = Duration::from_secs(60);

/// The claims `serve` reads from a valid JWT.
#[derive(Debug, PartialEq, Eq)]
pub struct Claims {
    pub prefix: String,
    pub sub: Option<String>,
}

/// The secret and the rules.
#[derive(Clone)]
pub struct Verifier {
    key: jsonwebtoken::DecodingKey,
    max_lifetime: Duration,
}

fn refused(why: impl Into<String>) -> ApiError {
    ApiError::unauthorized("bad_token", why)
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Verifier {
    pub fn new(secret: &[u8], max_lifetime: Duration) -> Verifier {
        Verifier {
            key: jsonwebtoken::DecodingKey::from_secret(secret),
            max_lifetime,
        }
    }

    /// The claims of `token`, or why it is refused.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        self.verify_at(token, now_secs())
    }

    fn verify_at(&self, token: &str, now: f64) -> Result<Claims, ApiError> {
        check_header(token)?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &self.key, &validation)
            .map_err(|_| {
                refused("the JWT was not accepted (bad signature, algorithm or form): ask for a valid one")
            })?
            .claims;
        let leeway = LEEWAY.as_secs_f64();
        let exp = numeric_date(&claims, "exp")?
            .ok_or_else(|| refused("the JWT has no 'exp' claim: it needs 'exp' and 'prefix'"))?;
        if now >= exp {
            return Err(ApiError::unauthorized(
                "expired_token",
                "the JWT has expired: get a new one",
            ));
        }
        if let Some(nbf) = numeric_date(&claims, "nbf")? {
            if nbf > now + leeway {
                return Err(refused(format!(
                    "the JWT is not valid yet: its 'nbf' is {:.0} s from now",
                    nbf - now
                )));
            }
        }
        let max = self.max_lifetime.as_secs_f64();
        let too_long = |secs: f64| {
            refused(format!(
                "the JWT lives {:.0} s, longer than this server takes ({:.0} s, --jwt-max-lifetime): \
                 ask for a shorter-lived one",
                secs, max
            ))
        };
        if let Some(iat) = numeric_date(&claims, "iat")? {
            if iat > now + leeway {
                return Err(refused(format!(
                    "the JWT was issued in the future: its 'iat' is {:.0} s from now; check the issuer's clock",
                    iat - now
                )));
            }
            if exp - iat > max {
                return Err(too_long(exp - iat));
            }
        }
        if exp - now > max + leeway {
            return Err(too_long(exp - now));
        }
        let prefix = match claims.get("prefix") {
            Some(Value::String(p)) => p.clone(),
            None => {
                return Err(refused(
                    "the JWT has no 'prefix' claim: it needs 'exp' and 'prefix'",
                ))
            }
            Some(_) => return Err(refused("the JWT's 'prefix' claim is not a string")),
        };
        let sub = match claims.get("sub") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(refused("the JWT's 'sub' claim is not a string")),
        };
        Ok(Claims { prefix, sub })
    }
}

/// Refuses a header with `crit`: its extensions must be understood, and
/// none is.
fn check_header(token: &str) -> Result<(), ApiError> {
    let header = token.split('.').next().unwrap_or("");
    let header: Option<Map<String, Value>> = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let Some(header) = header else {
        return Err(refused("the JWT's header is not base64url-encoded JSON"));
    };
    if let Some(crit) = header.get("crit") {
        return Err(refused(format!(
            "the JWT's header names critical extensions this server does not understand (crit: {}): \
             ask for a token without them",
            super::keys::quoted(&crit.to_string())
        )));
    }
    Ok(())
}

/// A NumericDate claim: absent, or a number of seconds since 1970.
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>, ApiError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| bad_date(name, "a number out of range")),
        Some(Value::String(_)) => Err(bad_date(name, "a string")),
        Some(Value::Bool(_)) => Err(bad_date(name, "a boolean")),
        Some(Value::Null) => Err(bad_date(name, "null")),
        Some(_) => Err(bad_date(name, "a JSON object or array")),
    }
}

fn bad_date(name: &str, found: &str) -> ApiError {
    refused(format!(
        "the JWT's '{name}' claim is {found}, not a NumericDate (a number of seconds since 1970)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: f64 = 1_800_000_000.0;

    fn token(header: &Header, claims: Value) -> String {
        encode(header, &claims, &EncodingKey::from_secret(SECRET)).unwrap()
    }

    fn check(claims: Value) -> Result<Claims, ApiError> {
        let v = Verifier::new(SECRET, Duration::from_secs(86_400));
        v.verify_at(&token(&Header::default(), claims), NOW)
    }

    fn reason(claims: Value) -> String {
        let e = check(claims).unwrap_err();
        assert_eq!(e.status, 401);
        e.message
    }

    #[test]
    fn the_claims_are_checked_with_their_own_reasons() {
        let now = NOW as u64;
        let ok =
            check(json!({"exp": now + 600, "prefix": "c", "sub": "carol", "iat": now, "nbf": now}));
        assert_eq!(
            ok.unwrap(),
            Claims {
                prefix: "c".into(),
                sub: Some("carol".into())
            }
        );
        // Within the leeway, the issuer's clock may be ahead.
        check(json!({"exp": now + 600, "prefix": "c", "iat": now + 30, "nbf": now + 30})).unwrap();
        let day = 86_400;
        for (claims, says) in [
            (
                json!({"exp": now + 600, "prefix": "c", "nbf": now + day}),
                "not valid yet",
            ),
            (
                json!({"exp": now + 600, "prefix": "c", "iat": now + day}),
                "issued in the future",
            ),
            (
                json!({"exp": now + 100 * 365 * day, "prefix": "c"}),
                "--jwt-max-lifetime",
            ),
            (
                json!({"exp": now + 600, "iat": now - 2 * day, "prefix": "c"}),
                "--jwt-max-lifetime",
            ),
            (
                json!({"exp": (now + 600).to_string(), "prefix": "c"}),
                "'exp' claim is a string, not a NumericDate",
            ),
            (
                json!({"exp": now + 600, "nbf": "soon", "prefix": "c"}),
                "'nbf' claim",
            ),
            (json!({"prefix": "c"}), "no 'exp' claim"),
            (json!({"exp": now + 600}), "no 'prefix' claim"),
            (
                json!({"exp": now + 600, "prefix": 7}),
                "'prefix' claim is not a string",
            ),
            (
                json!({"exp": now + 600, "prefix": "c", "sub": 7}),
                "'sub' claim is not a string",
            ),
        ] {
            let why = reason(claims.clone());
            assert!(why.contains(says), "{claims}: {why}");
        }
        let e = check(json!({"exp": now - 1, "prefix": "c"})).unwrap_err();
        assert_eq!(e.code, "expired_token");
    }

    #[test]
    fn crit_and_other_algorithms_are_refused() {
        let v = Verifier::new(SECRET, Duration::from_secs(86_400));
        let claims = json!({"exp": NOW as u64 + 600, "prefix": "c"});
        // jsonwebtoken's Header has no `crit`: build the header by hand.
        let b64 =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let header = json!({"alg": "HS256", "typ": "JWT", "crit": ["exp-ext"], "exp-ext": 1});
        let signing_input = format!("{}.{}", b64(&header), b64(&claims));
        let sig = jsonwebtoken::crypto::sign(
            signing_input.as_bytes(),
            &EncodingKey::from_secret(SECRET),
            jsonwebtoken::Algorithm::HS256,
        )
        .unwrap();
        let e = v
            .verify_at(&format!("{signing_input}.{sig}"), NOW)
            .unwrap_err();
        assert!(e.message.contains("crit"), "{}", e.message);
        let e = v
            .verify_at(
                &token(&Header::new(jsonwebtoken::Algorithm::HS384), claims),
                NOW,
            )
            .unwrap_err();
        assert!(e.message.contains("algorithm"), "{}", e.message);
    }
}
