//! The words of `s3up-lambda` (`serve` as an AWS Lambda function): its
//! refusals at cold start name the environment variable at fault.

use crate::error::Error;

pub fn no_bucket() -> Error {
    Error::Usage(
        "S3UP_BUCKET is not set: set it in the function's environment to the bucket to upload to"
            .into(),
    )
}

/// A variable whose value `serve`'s option would refuse; `why` is clap's line.
pub fn bad_variable(var: &str, why: &str) -> Error {
    Error::Usage(format!(
        "{var} in the function's environment: {why}. Fix the variable's value"
    ))
}

pub fn auth_needed() -> Error {
    Error::Usage(
        "s3up-lambda needs authentication: set S3UP_TOKENS to the tokens file's lines, \
         or S3UP_JWT_SECRET to the JWT secret, in the function's environment"
            .into(),
    )
}

/// A secret given as an ARN in a build without the `lambda` feature.
pub fn arn_not_read(var: &str) -> Error {
    Error::Usage(format!(
        "{var} holds an ARN, but this build does not read SSM or Secrets Manager: \
         build s3up-lambda with --features lambda, or put the value itself in {var}"
    ))
}

/// A value that starts as an ARN but names no parameter or secret.
pub fn bad_arn(var: &str, value: &str) -> Error {
    Error::Usage(format!(
        "{var} holds `{value}`, which is not the ARN of an SSM parameter or a Secrets Manager secret: \
         use arn:aws:ssm:REGION:ACCOUNT:parameter/NAME or \
         arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME, or put the value itself in {var}"
    ))
}

/// "SSM parameter" or "Secrets Manager secret".
fn holder(ssm: bool) -> &'static str {
    if ssm {
        "SSM parameter"
    } else {
        "Secrets Manager secret"
    }
}

/// The IAM action that reads it.
fn action(ssm: bool) -> &'static str {
    if ssm {
        "ssm:GetParameter"
    } else {
        "secretsmanager:GetSecretValue"
    }
}

pub fn secret_not_found(var: &str, arn: &str, ssm: bool) -> Error {
    Error::failed(format!(
        "{var} names the {} `{arn}`, which does not exist: create it in that region and account, \
         or fix the ARN",
        holder(ssm)
    ))
}

/// Refused by IAM: the role lacks the read action, or (`kms`) the key's Decrypt.
pub fn secret_denied(var: &str, arn: &str, ssm: bool, kms: bool) -> Error {
    let fix = if kms {
        "allow kms:Decrypt on the KMS key that encrypts it to the function's role \
         (SecretsKmsKeyArn in deploy/lambda/template.yaml)"
            .to_string()
    } else {
        format!(
            "allow {} on that ARN to the function's role (deploy/lambda/template.yaml does when the ARN is its parameter)",
            action(ssm)
        )
    };
    Error::failed(format!(
        "{var} names the {} `{arn}`, which the function may not read: {fix}",
        holder(ssm)
    ))
}

pub fn secret_empty(var: &str, arn: &str, ssm: bool) -> Error {
    let what = if ssm {
        "is empty"
    } else {
        "has no text value (SecretString)"
    };
    Error::failed(format!(
        "{var} names the {} `{arn}`, which {what}: store the value {var} would hold in it",
        holder(ssm)
    ))
}

/// Any other failure: network, throttling past the SDK's retries.
pub fn secret_unreadable(var: &str, arn: &str, why: &str) -> Error {
    Error::failed(format!(
        "{var} names `{arn}`, which could not be read: {why}. \
         Check that the function can reach the service (a VPC needs an endpoint for it), then retry"
    ))
}

pub fn runtime_failed(why: &str) -> Error {
    Error::failed(format!(
        "the Lambda runtime loop stopped: {why}. Check that AWS_LAMBDA_RUNTIME_API names the runtime API"
    ))
}

/// Cannot happen: the arguments name `serve`; said rather than panicked.
pub fn not_serve() -> Error {
    Error::failed("the function's settings did not parse as serve's options: report this as a bug")
}
