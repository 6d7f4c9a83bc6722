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

/// A secret given as an ARN, which this build does not fetch.
pub fn arn_not_read(var: &str) -> Error {
    Error::Usage(format!(
        "{var} holds an ARN, but this build reads secrets only from the environment: \
         put the value itself in {var}"
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
