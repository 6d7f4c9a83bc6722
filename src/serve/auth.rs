//! Who is calling, and what they may write: `Authorization: Bearer` tokens
//! from a tokens file, or HS256 JWTs, or (only on loopback) nobody at all.
//!
//! **Tokens file** (`--tokens FILE`), one token a line, `#` starts a comment:
//!
//! ```text
//! # sha256:HEX                                                              PREFIX   [ID]
//! sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  alice/   alice-laptop
//! ```
//!
//! - the first field is `sha256:` and the hex SHA-256 of the token (so the
//!   file holds no usable secret), or the token itself (accepted, but a
//!   warning says to store its hash instead);
//! - PREFIX is what the token may write, under `--prefix`; `/` means all of it;
//! - ID names the caller in the logs (default: `tokens:LINE`). The token
//!   itself is never logged.
//!
//! A presented token is hashed, and the hash is compared with every line in
//! constant time (`subtle`), so neither timing nor an early exit tells a
//! guesser how close it came.
//!
//! **JWTs** (`--jwt-secret-file FILE`): HS256 only, signed with the file's
//! contents (trailing newline removed). `exp` is required and enforced with no
//! leeway; the `prefix` claim is what the caller may write under `--prefix`;
//! `sub`, when present, names the caller in the logs.

use std::path::Path;
use std::time::Duration;

use axum::http::HeaderValue;
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use super::error::ApiError;
use super::keys::{self, normalize_prefix};

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// For the logs: the token's ID or the JWT's subject, never the token.
    pub id: String,
    /// Every key this caller names must start with this: `--prefix` and the
    /// caller's own prefix, each ending in `/` (or empty).
    pub scope: String,
}

#[derive(Debug, Clone)]
struct TokenEntry {
    sha256: [u8; 32],
    prefix: String,
    id: String,
}

/// A secret's text and where it came from (a file's path, or an environment
/// variable's name), for the messages about it.
pub struct Source<T> {
    pub value: T,
    pub origin: String,
}

impl<T> Source<T> {
    pub fn new(value: T, origin: String) -> Source<T> {
        Source { value, origin }
    }
}

/// How requests are authenticated; built once at start-up.
#[derive(Clone)]
pub struct Auth {
    server_prefix: String,
    tokens: Vec<TokenEntry>,
    jwt: Option<super::jwt::Verifier>,
    /// `--no-auth`: every request is the caller "anonymous" with all of `--prefix`.
    open: bool,
}

impl Auth {
    /// No authentication: only for `--no-auth` on a loopback address.
    pub fn open(server_prefix: &str) -> Auth {
        Auth {
            server_prefix: normalize_prefix(server_prefix),
            tokens: Vec::new(),
            jwt: None,
            open: true,
        }
    }

    /// From the tokens file and/or the JWT secret file, with the longest
    /// lifetime a JWT may have. Returns the warnings to print (plain tokens
    /// in the file) with it.
    pub fn load(
        server_prefix: &str,
        tokens: Option<&Path>,
        jwt_secret: Option<&Path>,
        jwt_max_lifetime: Duration,
    ) -> Result<(Auth, Vec<String>), String> {
        let tokens = match tokens {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    format!(
                        "cannot read the tokens file '{}': {e}. Check the path given to --tokens",
                        path.display()
                    )
                })?;
                Some(Source::new(text, path.display().to_string()))
            }
            None => None,
        };
        let jwt = match jwt_secret {
            Some(path) => {
                let secret = std::fs::read(path).map_err(|e| {
                    format!(
                        "cannot read the JWT secret file '{}': {e}. Check the path given to --jwt-secret-file",
                        path.display()
                    )
                })?;
                Some(Source::new(secret, path.display().to_string()))
            }
            None => None,
        };
        Auth::from_sources(server_prefix, tokens, jwt, jwt_max_lifetime)
    }

    /// From the tokens file's text and/or the JWT secret, wherever they were
    /// read from (a file, or the Lambda function's environment); each
    /// [`Source`] names its origin in the messages.
    pub fn from_sources(
        server_prefix: &str,
        tokens: Option<Source<String>>,
        jwt_secret: Option<Source<Vec<u8>>>,
        jwt_max_lifetime: Duration,
    ) -> Result<(Auth, Vec<String>), String> {
        let mut warnings = Vec::new();
        let entries = match tokens {
            Some(t) => parse_tokens(&t.value, &t.origin, &mut warnings)?,
            None => Vec::new(),
        };
        let jwt = match jwt_secret {
            Some(s) => {
                let secret = s.value.trim_ascii_end();
                if secret.len() < 32 {
                    return Err(format!(
                        "the JWT secret in '{}' is {} bytes: use at least 32 random bytes",
                        s.origin,
                        secret.len()
                    ));
                }
                Some(super::jwt::Verifier::new(secret, jwt_max_lifetime))
            }
            None => None,
        };
        Ok((
            Auth {
                server_prefix: normalize_prefix(server_prefix),
                tokens: entries,
                jwt,
                open: false,
            },
            warnings,
        ))
    }

    /// No authentication (`--no-auth`, loopback only).
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// The caller behind an `Authorization` header, or 401.
    pub fn authenticate(&self, header: Option<&HeaderValue>) -> Result<Caller, ApiError> {
        if self.open {
            return Ok(Caller {
                id: "anonymous".into(),
                scope: self.server_prefix.clone(),
            });
        }
        let Some(header) = header else {
            return Err(ApiError::unauthorized(
                "missing_token",
                "no Authorization header: send 'Authorization: Bearer TOKEN'",
            ));
        };
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "bad_token",
                    "the Authorization header is not 'Bearer TOKEN'",
                )
            })?;
        if let Some(caller) = self.caller_of_token(token) {
            return Ok(caller);
        }
        if let Some(verifier) = &self.jwt {
            if token.split('.').count() == 3 {
                return self.caller_of_jwt(verifier, token);
            }
        }
        Err(ApiError::unauthorized(
            "bad_token",
            "the token was not accepted: ask for a valid one",
        ))
    }

    fn caller_of_token(&self, token: &str) -> Option<Caller> {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Every entry is compared; the index is chosen without a branch.
        let mut found = u32::MAX;
        for (i, entry) in self.tokens.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            found.conditional_assign(&i, entry.sha256.ct_eq(&hash));
        }
        let entry = self.tokens.get(usize::try_from(found).ok()?)?;
        Some(Caller {
            id: entry.id.clone(),
            scope: format!("{}{}", self.server_prefix, entry.prefix),
        })
    }

    fn caller_of_jwt(
        &self,
        verifier: &super::jwt::Verifier,
        token: &str,
    ) -> Result<Caller, ApiError> {
        let claims = verifier.verify(token)?;
        // An empty claim would grant the whole of --prefix, like '/': an issuer
        // that fills it from a missing field must not mint such tokens by accident.
        if claims.prefix.is_empty() {
            return Err(ApiError::unauthorized(
                "bad_token",
                "the JWT's prefix claim is empty: use '/' for the whole of the server's prefix",
            ));
        }
        let prefix = checked_prefix(&claims.prefix).map_err(|why| {
            ApiError::unauthorized("bad_token", format!("the JWT's prefix claim {why}"))
        })?;
        Ok(Caller {
            id: claims
                .sub
                .map(|s| format!("jwt:{}", keys::quoted(&s)))
                .unwrap_or_else(|| "jwt".into()),
            scope: format!("{}{}", self.server_prefix, prefix),
        })
    }
}

/// A caller prefix, normalised (`/` is the whole of `--prefix`), or why not.
/// Only `/` itself means everything: `//` would normalise to the same, and
/// an issuer that writes it meant something else.
fn checked_prefix(p: &str) -> Result<String, String> {
    let normalized = normalize_prefix(p);
    if normalized.is_empty() {
        if p == "/" {
            return Ok(normalized);
        }
        return Err(format!(
            "'{}' is not a prefix: write '/' for the whole of the server's prefix, or a path such as 'alice/'",
            keys::quoted(p)
        ));
    }
    keys::check_form(&normalized)
        .map(|()| normalized)
        .map_err(|e| format!("'{}' is not a valid prefix: {}", keys::quoted(p), e.message))
}

fn parse_tokens(
    text: &str,
    origin: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<TokenEntry>, String> {
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at = || format!("{origin}:{n}");
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (secret, prefix, id) = match fields.as_slice() {
            [secret, prefix] => (*secret, *prefix, format!("tokens:{n}")),
            [secret, prefix, id] => (*secret, *prefix, (*id).to_string()),
            _ => {
                return Err(format!(
                    "{}: expected 'sha256:HEX PREFIX [ID]', found {} fields. Fix the line",
                    at(),
                    fields.len()
                ))
            }
        };
        let sha256: [u8; 32] = match secret.strip_prefix("sha256:") {
            Some(hexed) => hex::decode(hexed)
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| {
                    format!(
                        "{}: '{hexed}' is not 64 hex digits: write sha256: and the output of `printf %s TOKEN | sha256sum`",
                        at()
                    )
                })?,
            None => {
                warnings.push(format!(
                    "{} holds a plain token: store 'sha256:' and its SHA-256 instead (`printf %s TOKEN | sha256sum`)",
                    at()
                ));
                Sha256::digest(secret.as_bytes()).into()
            }
        };
        let prefix = checked_prefix(prefix).map_err(|why| format!("{}: prefix {why}", at()))?;
        entries.push(TokenEntry { sha256, prefix, id });
    }
    if entries.is_empty() {
        return Err(format!(
            "the tokens file '{origin}' has no tokens: add lines 'sha256:HEX PREFIX [ID]'"
        ));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn header(v: &str) -> HeaderValue {
        HeaderValue::from_str(v).unwrap()
    }

    fn tokens_auth(file: &str) -> Auth {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        std::fs::write(&path, file).unwrap();
        Auth::load("up", Some(&path), None, DAY).unwrap().0
    }

    #[test]
    fn tokens_file() {
        let alice = hex::encode(Sha256::digest(b"alice-token"));
        let auth = tokens_auth(&format!(
            "# comment\nsha256:{alice} alice laptop\nbob-token bob/\nroot-token /\n"
        ));
        let c = auth
            .authenticate(Some(&header("Bearer alice-token")))
            .unwrap();
        assert_eq!((c.id.as_str(), c.scope.as_str()), ("laptop", "up/alice/"));
        let c = auth
            .authenticate(Some(&header("Bearer bob-token")))
            .unwrap();
        assert_eq!((c.id.as_str(), c.scope.as_str()), ("tokens:3", "up/bob/"));
        let c = auth
            .authenticate(Some(&header("Bearer root-token")))
            .unwrap();
        assert_eq!(c.scope, "up/");
        for bad in ["Bearer nope", "Basic abc", "Bearer ", "alice-token"] {
            let e = auth.authenticate(Some(&header(bad))).unwrap_err();
            assert_eq!(e.status, 401, "{bad}");
            assert!(!e.message.contains("alice-token"));
        }
        assert_eq!(auth.authenticate(None).unwrap_err().code, "missing_token");
    }

    #[test]
    fn bad_tokens_files_are_refused_with_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        for text in ["", "sha256:abc alice", "t1", "t1 ../x", "t1 //"] {
            std::fs::write(&path, text).unwrap();
            let e = Auth::load("", Some(&path), None, DAY).err().unwrap();
            assert!(e.contains("tokens"), "{text}: {e}");
        }
    }

    #[test]
    fn jwts() {
        use jsonwebtoken::{encode, EncodingKey, Header};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        let secret = "0123456789abcdef0123456789abcdef";
        std::fs::write(&path, format!("{secret}\n")).unwrap();
        let (auth, _) = Auth::load("up/", None, Some(&path), DAY).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let jwt = |claims: serde_json::Value, key: &str| {
            let t = encode(
                &Header::default(),
                &claims,
                &EncodingKey::from_secret(key.as_bytes()),
            )
            .unwrap();
            auth.authenticate(Some(&header(&format!("Bearer {t}"))))
        };
        let c = jwt(
            serde_json::json!({"exp": now + 60, "prefix": "carol", "sub": "carol@x"}),
            secret,
        )
        .unwrap();
        assert_eq!(
            (c.id.as_str(), c.scope.as_str()),
            ("jwt:carol@x", "up/carol/")
        );
        let e = jwt(serde_json::json!({"exp": now - 5, "prefix": "c"}), secret).unwrap_err();
        assert_eq!(e.code, "expired_token");
        // An empty prefix claim is refused; '/' is how to grant everything.
        let e = jwt(serde_json::json!({"exp": now + 60, "prefix": ""}), secret).unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.code),
            (401, "bad_token"),
            "{}",
            e.message
        );
        let c = jwt(serde_json::json!({"exp": now + 60, "prefix": "/"}), secret).unwrap();
        assert_eq!(c.scope, "up/");
        // '//' is not '/': it is refused, not read as the whole prefix.
        let e = jwt(serde_json::json!({"exp": now + 60, "prefix": "//"}), secret).unwrap_err();
        assert!(e.message.contains("'//' is not a prefix"), "{}", e.message);
        let e = jwt(serde_json::json!({"prefix": "c"}), secret).unwrap_err();
        assert_eq!(e.status, 401);
        let e = jwt(serde_json::json!({"exp": now + 60}), secret).unwrap_err();
        assert_eq!(e.status, 401);
        let e = jwt(
            serde_json::json!({"exp": now + 60, "prefix": "c"}),
            "another-secret-another-secret-xx",
        )
        .unwrap_err();
        assert_eq!(e.code, "bad_token");
        let e = jwt(
            serde_json::json!({"exp": now + 60, "prefix": "../x"}),
            secret,
        )
        .unwrap_err();
        assert_eq!(e.status, 401);
    }
}
