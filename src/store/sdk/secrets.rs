//! A secret read once, at an AWS Lambda function's cold start, from SSM
//! Parameter Store (`GetParameter` with decryption) or Secrets Manager
//! (`GetSecretValue`), for `s3up-lambda` (feature `lambda`; the `s3up`
//! binary never links these clients).
//!
//! Credentials come from the ordinary chain (the function's role), as S3's
//! do; the region is the ARN's, so a secret kept in another region is read
//! there. An endpoint can be named per service, as the SDK allows
//! (`AWS_ENDPOINT_URL_SSM`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`; the tests
//! point them at moto).

use aws_config::{BehaviorVersion, Region};
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};

use crate::store::errors::error_chain;

/// Which service holds the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// SSM Parameter Store: a `String` or `SecureString` parameter.
    Ssm,
    /// Secrets Manager: a secret's `SecretString`.
    SecretsManager,
}

/// Why a secret could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// No such parameter or secret (in the ARN's region and account).
    NotFound,
    /// The credentials may not read it; `kms` when it is the KMS key's
    /// decryption that was refused.
    AccessDenied { kms: bool },
    /// Anything else (network, throttling past the retries): the SDK's words.
    Failed(String),
}

/// The value of the parameter or secret `arn` names, read in `region`;
/// `None` when it has no string value (a binary secret).
pub async fn read(service: Service, region: &str, arn: &str) -> Result<Option<String>, ReadError> {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .load()
        .await;
    match service {
        Service::Ssm => aws_sdk_ssm::Client::new(&sdk)
            .get_parameter()
            // GetParameter takes the ARN itself, which also reads a
            // parameter shared from another account.
            .name(arn)
            .with_decryption(true)
            .send()
            .await
            .map(|out| out.parameter.and_then(|p| p.value))
            .map_err(classify),
        Service::SecretsManager => aws_sdk_secretsmanager::Client::new(&sdk)
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map(|out| out.secret_string)
            .map_err(classify),
    }
}

fn classify<E, R>(e: SdkError<E, R>) -> ReadError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let message = e.message().unwrap_or_default().to_ascii_lowercase();
    match e.code() {
        Some(code) => from_code(code, &message).unwrap_or_else(|| failed(&e)),
        None => failed(&e),
    }
}

/// The error codes of both services that mean "not there" or "not allowed".
fn from_code(code: &str, message: &str) -> Option<ReadError> {
    match code {
        "ParameterNotFound" | "ResourceNotFoundException" => Some(ReadError::NotFound),
        "AccessDeniedException" | "AccessDenied" => Some(ReadError::AccessDenied {
            kms: message.contains("kms"),
        }),
        // SSM's and Secrets Manager's words for a KMS key they may not use.
        "InvalidKeyId" | "DecryptionFailure" | "KMSAccessDeniedException" => {
            Some(ReadError::AccessDenied { kms: true })
        }
        _ => None,
    }
}

fn failed(e: &(dyn std::error::Error + 'static)) -> ReadError {
    ReadError::Failed(
        error_chain(e)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_secret_errors_are_told_apart_by_code() {
        assert_eq!(
            from_code("ParameterNotFound", ""),
            Some(ReadError::NotFound)
        );
        assert_eq!(
            from_code("ResourceNotFoundException", ""),
            Some(ReadError::NotFound)
        );
        assert_eq!(
            from_code(
                "AccessDeniedException",
                "user: x is not authorized to perform: ssm:getparameter"
            ),
            Some(ReadError::AccessDenied { kms: false })
        );
        assert_eq!(
            from_code("AccessDeniedException", "access to kms is not allowed"),
            Some(ReadError::AccessDenied { kms: true })
        );
        assert_eq!(
            from_code("DecryptionFailure", ""),
            Some(ReadError::AccessDenied { kms: true })
        );
        assert_eq!(from_code("ThrottlingException", ""), None);
    }
}
