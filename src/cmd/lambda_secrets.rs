//! `S3UP_TOKENS` / `S3UP_JWT_SECRET` given as an ARN: the value is read at
//! cold start from SSM Parameter Store (`arn:aws:ssm:REGION:ACCOUNT:parameter/NAME`,
//! `GetParameter` with decryption) or Secrets Manager
//! (`arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME`, `GetSecretValue`'s
//! `SecretString`), in the ARN's region, with the function's role. Any other
//! value is the secret itself. Read once per instance: a changed secret
//! reaches new instances (or after an update of the function).
//!
//! The ARN is parsed here, always; the reading (`store::sdk::secrets`) is in
//! the `lambda` build only, and any other build refuses an ARN in one line.

use crate::error::Result;
use crate::output;

/// The service an ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Ssm,
    SecretsManager,
}

/// A parameter's or secret's ARN, checked.
#[derive(Debug, PartialEq, Eq)]
pub struct SecretArn<'a> {
    pub holder: Holder,
    pub region: &'a str,
    /// The whole ARN, as given (trimmed): both services take it as the name.
    pub arn: &'a str,
}

/// `Ok(None)` when `value` is no ARN (it is the secret itself);
/// `Err(())` when it starts as an ARN but names no parameter or secret.
#[allow(clippy::result_unit_err)]
pub fn parse(value: &str) -> Result<Option<SecretArn<'_>>, ()> {
    let arn = value.trim();
    if !arn.starts_with("arn:") {
        return Ok(None);
    }
    if arn.chars().any(char::is_whitespace) {
        return Err(());
    }
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, partition, service, region, account, resource] = fields[..] else {
        return Err(());
    };
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    if !partition.starts_with("aws") || !region_ok || !account_ok {
        return Err(());
    }
    let holder = match service {
        "ssm" => resource
            .strip_prefix("parameter/")
            .filter(|name| !name.is_empty() && !name.starts_with('/'))
            .map(|_| Holder::Ssm),
        "secretsmanager" => resource
            .strip_prefix("secret:")
            .filter(|name| !name.is_empty())
            .map(|_| Holder::SecretsManager),
        _ => None,
    };
    holder
        .map(|holder| {
            Some(SecretArn {
                holder,
                region,
                arn,
            })
        })
        .ok_or(())
}

/// `value` of the variable `var`, with an ARN replaced by the secret it
/// names, read now; `None` stays `None`.
pub async fn resolve(var: &str, value: Option<String>) -> Result<Option<String>> {
    let Some(value) = value else {
        return Ok(None);
    };
    match parse(&value) {
        Ok(None) => Ok(Some(value)),
        Ok(Some(arn)) => read(var, &arn).await.map(Some),
        Err(()) => Err(output::lambda::bad_arn(var, value.trim())),
    }
}

#[cfg(feature = "lambda")]
async fn read(var: &str, arn: &SecretArn<'_>) -> Result<String> {
    use crate::store::sdk::secrets::{self, ReadError, Service};
    let (service, ssm) = match arn.holder {
        Holder::Ssm => (Service::Ssm, true),
        Holder::SecretsManager => (Service::SecretsManager, false),
    };
    match secrets::read(service, arn.region, arn.arn).await {
        Ok(Some(value)) if !value.trim().is_empty() => Ok(value),
        Ok(_) => Err(output::lambda::secret_empty(var, arn.arn, ssm)),
        Err(ReadError::NotFound) => Err(output::lambda::secret_not_found(var, arn.arn, ssm)),
        Err(ReadError::AccessDenied { kms }) => {
            Err(output::lambda::secret_denied(var, arn.arn, ssm, kms))
        }
        Err(ReadError::Failed(why)) => Err(output::lambda::secret_unreadable(var, arn.arn, &why)),
    }
}

#[cfg(not(feature = "lambda"))]
async fn read(var: &str, _arn: &SecretArn<'_>) -> Result<String> {
    Err(output::lambda::arn_not_read(var))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_arns_of_parameters_and_secrets_are_parsed() {
        let arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/s3up/tokens";
        assert_eq!(
            parse(&format!(" {arn}\n")),
            Ok(Some(SecretArn {
                holder: Holder::Ssm,
                region: "eu-west-1",
                arn,
            }))
        );
        let arn = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:s3up/jwt-AbC123";
        assert_eq!(
            parse(arn),
            Ok(Some(SecretArn {
                holder: Holder::SecretsManager,
                region: "cn-north-1",
                arn,
            }))
        );
        // Not an ARN: the value itself.
        assert_eq!(parse("sha256:abcd alice/ a"), Ok(None));
        assert_eq!(parse("a-secret-that-mentions-arn:aws:ssm"), Ok(None));
    }

    #[test]
    fn lambda_malformed_arns_are_refused() {
        for bad in [
            "arn:",
            "arn:aws:ssm:eu-west-1:123456789012",
            "arn:aws:ssm::123456789012:parameter/x",
            "arn:aws:ssm:eu-west-1:1234:parameter/x",
            "arn:aws:ssm:EU-WEST-1:123456789012:parameter/x",
            "arn:aws:ssm:eu-west-1:123456789012:parameter/",
            "arn:aws:ssm:eu-west-1:123456789012:parameter//x",
            "arn:aws:ssm:eu-west-1:123456789012:document/x",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:",
            "arn:aws:secretsmanager:eu-west-1:123456789012:parameter/x",
            "arn:aws:s3:::bucket/key",
            "arn:other:ssm:eu-west-1:123456789012:parameter/x",
            "arn:aws:ssm:eu-west-1:123456789012:parameter/a b",
        ] {
            assert_eq!(parse(bad), Err(()), "{bad}");
        }
    }

    #[test]
    fn lambda_a_malformed_arn_names_its_variable() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let e = rt
            .block_on(resolve(
                "S3UP_TOKENS",
                Some("arn:aws:ssm:eu-west-1:123:parameter/x".into()),
            ))
            .unwrap_err();
        assert_eq!(e.exit_code(), crate::error::EXIT_USAGE);
        let e = e.to_string();
        assert!(
            e.starts_with("S3UP_TOKENS holds `arn:aws:ssm:eu-west-1:123:parameter/x`"),
            "{e}"
        );
        assert!(
            e.contains("parameter/NAME") && e.contains("secret:NAME"),
            "{e}"
        );
        // Plain values and absent variables pass through unread.
        let plain = rt.block_on(resolve("S3UP_TOKENS", Some("x y".into())));
        assert_eq!(plain.unwrap().as_deref(), Some("x y"));
        assert!(rt.block_on(resolve("S3UP_TOKENS", None)).unwrap().is_none());
    }

    /// Without the `lambda` feature nothing is read, and an ARN says so.
    #[cfg(not(feature = "lambda"))]
    #[test]
    fn lambda_an_arn_is_refused_by_a_build_without_the_feature() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/s3up/tokens";
        let e = rt
            .block_on(resolve("S3UP_JWT_SECRET", Some(arn.into())))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("S3UP_JWT_SECRET holds an ARN") && e.contains("--features lambda"),
            "{e}"
        );
    }
}
