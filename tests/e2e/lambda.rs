//! `serve` as an AWS Lambda function (issue 22), end to end: the
//! `s3up-lambda` build runs under `cargo lambda watch` (the emulator serves
//! the Lambda runtime API and the function URL on loopback) against Garage,
//! configured from its environment with a tokens line. Through the function
//! URL: `put --via` killed and resumed, Companion's wire format with its
//! refusals, and the browser page in headless Chromium, reload included.
//! Also here, with no server: the template's role against the README's IAM
//! table. (The routing of function URL and API Gateway events is tested in
//! process, in `src/serve/lambda.rs`; `cfn-lint` runs in scripts/test.)

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support;
use crate::support::browser::Browser;
use crate::support::lambda::{self, Watch};
use crate::support::proxy::{Fault, FaultProxy, Match, Rule};
use crate::support::serve::hashed;
use crate::support::{assert_exit, assert_object_equals, random_bytes, Scratch, Server, MIB};

const TOKEN: &str = "lambda-token-0123456789abcdef";
/// The function's S3UP_PREFIX and alice's own prefix.
const SCOPE: &str = "up/alice/";
const ORIGIN: &str = "https://app.example.com";
const LONG: Duration = Duration::from_secs(180);

/// The function for `bucket` under prefix `up`, where [`TOKEN`] may write
/// `up/alice/`, talking to S3 at `endpoint`.
fn start(srv: &Server, endpoint: &str, bucket: &str) -> Watch {
    let tokens = format!("{} alice alice-id", hashed(TOKEN));
    Watch::start(
        srv,
        endpoint,
        bucket,
        &[
            ("S3UP_PREFIX", "up"),
            ("S3UP_TOKENS", &tokens),
            ("S3UP_CORS_ORIGINS", ORIGIN),
        ],
    )
}

/// `s3up` as a client holding only the token: no AWS_* variable at all.
fn client(scratch: &Scratch) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("s3up"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", scratch.dir.path())
        .env("S3UP_JOURNAL_DIR", scratch.journal_dir())
        .env("S3UP_TOKEN", TOKEN)
        .stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run s3up")
}

/// `put --via FUNCTION_URL` of 40 MiB in 5 MiB parts, killed (SIGKILL) with
/// two parts in its journal, then `resume`: the object equals the file.
#[test]
fn put_via_the_function_url_killed_and_resumed() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("lambda-kill");
    let proxy = FaultProxy::start(&srv.endpoint);
    let watch = start(srv, &proxy.endpoint(), &bucket);
    proxy.add_rule(Rule::always(
        Match::UploadPart,
        // Slow enough that the kill lands long before the end, even on a
        // loaded machine (it raced at 4 MiB/s once, under load 7).
        Fault::Throttle {
            bytes_per_sec: 2 * MIB,
        },
    ));
    let s = Scratch::new();
    let file = s.file("big.bin", 40 * MIB, 22);
    let key = "up/alice/big.bin";
    let mut cmd = client(&s);
    cmd.arg("put")
        .arg(&file)
        .args(["--via", &watch.url, key])
        .args(["--part-size", "5MiB", "--concurrency", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    support::wait_for(
        "two parts in the journal",
        &mut child,
        || watch.log(),
        || s.journalled_parts() >= 2,
    );
    support::sigkill(&mut child);
    proxy.sever();
    let journal = s.only_journal();
    assert_eq!(
        journal["connection"]["via"],
        watch.url.as_str(),
        "{journal}"
    );
    assert_eq!(
        srv.object_size(&bucket, key),
        None,
        "completed before the kill"
    );
    assert_eq!(srv.list_uploads(&bucket).len(), 1);

    proxy.clear_rules();
    let out = run(client(&s).arg("resume"));
    assert_exit(&out, 0);
    assert_object_equals(srv, &bucket, key, &file);
    assert!(s.journals().is_empty());
    assert!(srv.list_uploads(&bucket).is_empty());
}

/// An HTTP client for the function URL, and its JSON answers.
struct Api<'w> {
    http: reqwest::blocking::Client,
    watch: &'w Watch,
}

impl Api<'_> {
    fn send(&self, req: reqwest::blocking::RequestBuilder, token: bool) -> (u16, Value) {
        let req = if token { req.bearer_auth(TOKEN) } else { req };
        let res = req.send().expect("the function URL answers");
        let status = res.status().as_u16();
        let text = res.text().unwrap_or_default();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("answer {status} is not JSON: {text}"));
        (status, body)
    }

    fn get(&self, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        self.send(self.http.get(self.watch.path(path)).query(query), true)
    }

    fn post(&self, path: &str, query: &[(&str, &str)], body: Value) -> (u16, Value) {
        let req = self
            .http
            .post(self.watch.path(path))
            .query(query)
            .json(&body);
        self.send(req, true)
    }

    /// PUTs `body` to a presigned URL; the part's ETag.
    fn put_part(&self, url: &str, body: Vec<u8>) -> String {
        let res = self.http.put(url).body(body).send().expect("PUT a part");
        assert_eq!(res.status(), 200, "part PUT: {:?}", res.text());
        let etag = res.headers().get("etag").expect("an ETag");
        etag.to_str().unwrap().to_string()
    }
}

/// Companion's routes through the function URL, as `@uppy/aws-s3` calls
/// them: create, sign one part and a batch, list, complete, abort; and the
/// refusals, each JSON with its status. CORS comes from `serve` alone: one
/// `Access-Control-Allow-Origin`, not a second from the emulator.
#[test]
fn companion_wire_format_through_the_function_url() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("lambda-wire");
    let watch = start(srv, &srv.endpoint, &bucket);
    let api = Api {
        http: reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap(),
        watch: &watch,
    };
    let create =
        json!({"filename": "wire.bin", "type": "application/octet-stream", "metadata": {}});
    let (status, made) = api.post("/s3/multipart", &[], create.clone());
    assert_eq!(status, 200, "{made}");
    let key = made["key"].as_str().unwrap().to_string();
    let id = made["uploadId"].as_str().unwrap().to_string();
    assert!(
        key.starts_with(SCOPE) && key.ends_with("wire.bin"),
        "{made}"
    );
    assert_eq!(made["bucket"], bucket.as_str());

    let first = random_bytes(5 * MIB, 1);
    let last = random_bytes(MIB + 17, 2);
    let (status, signed) = api.get(&format!("/s3/multipart/{id}/1"), &[("key", &key)]);
    assert_eq!(status, 200, "{signed}");
    let etag1 = api.put_part(signed["url"].as_str().unwrap(), first.clone());
    let (status, batch) = api.get(
        &format!("/s3/multipart/{id}/batch"),
        &[("key", &key), ("partNumbers", "2")],
    );
    assert_eq!(status, 200, "{batch}");
    let etag2 = api.put_part(batch["presignedUrls"]["2"].as_str().unwrap(), last.clone());

    let (status, listed) = api.get(&format!("/s3/multipart/{id}"), &[("key", &key)]);
    assert_eq!(status, 200, "{listed}");
    let parts: Vec<(u64, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["PartNumber"].as_u64().unwrap(),
                p["ETag"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(parts, [(1, etag1.clone()), (2, etag2.clone())], "{listed}");

    let (status, done) = api.post(
        &format!("/s3/multipart/{id}/complete"),
        &[("key", &key)],
        json!({"parts": [{"PartNumber": 1, "ETag": etag1}, {"PartNumber": 2, "ETag": etag2}]}),
    );
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["key"], key.as_str(), "{done}");
    assert!(done["location"].as_str().is_some(), "{done}");
    let mut whole = first;
    whole.extend_from_slice(&last);
    let s = Scratch::new();
    let copy = s.dir.path().join("whole.bin");
    std::fs::write(&copy, &whole).unwrap();
    assert_object_equals(srv, &bucket, &key, &copy);

    // Abort: created, then deleted, and S3 holds no upload.
    let (_, other) = api.post("/s3/multipart", &[], create);
    let other_id = other["uploadId"].as_str().unwrap();
    let other_key = other["key"].as_str().unwrap();
    let del = api
        .http
        .delete(watch.path(&format!("/s3/multipart/{other_id}")))
        .query(&[("key", other_key)]);
    assert_eq!(api.send(del, true), (200, json!({})));
    assert!(srv.list_uploads(&bucket).is_empty());

    // Refusals: a key outside the prefix, on create and on list; no token.
    let (status, refused) = api.post(
        "/s3/multipart",
        &[],
        json!({"filename": "x.bin", "type": "application/octet-stream", "metadata": {}, "key": "up/bob/x.bin"}),
    );
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["code"], "outside_prefix", "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.contains("up/bob/x.bin")),
        "{refused}"
    );
    let (status, refused) = api.get(&format!("/s3/multipart/{id}"), &[("key", "up/bob/x.bin")]);
    assert_eq!(
        (status, &refused["code"]),
        (403, &json!("outside_prefix")),
        "{refused}"
    );
    let (status, refused) = api.send(api.http.get(watch.path("/s3/whoami")), false);
    assert_eq!(
        (status, &refused["code"]),
        (401, &json!("missing_token")),
        "{refused}"
    );

    let res = api
        .http
        .get(watch.path("/s3/whoami"))
        .bearer_auth(TOKEN)
        .header("origin", ORIGIN)
        .send()
        .unwrap();
    let allow: Vec<_> = res
        .headers()
        .get_all("access-control-allow-origin")
        .iter()
        .collect();
    assert_eq!(allow, [ORIGIN], "one Access-Control-Allow-Origin, serve's");
}

/// What the page shows about its files, for failure messages.
const DESCRIBE: &str = "return JSON.stringify({notice: document.getElementById('notice').textContent, \
    files: Array.from(document.querySelectorAll('li.file')).map(li => ({state: li.dataset.state, \
    done: li.dataset.partsDone, parts: li.dataset.parts, msg: li.querySelector('.msg').textContent}))})";

/// The page, loaded from the function URL in headless Chromium, uploads a
/// file in 5 MiB parts; reloaded mid-upload, it resumes the same upload
/// with the same file, and the parts done before the reload are kept.
#[test]
fn the_page_from_the_function_url_uploads_and_resumes_after_a_reload() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("lambda-page");
    // The bucket's CORS rule, as deploy/lambda/template.yaml sets it: the
    // page's origin is the function URL's, the parts go to the store.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let rule = aws_sdk_s3::types::CorsRule::builder()
        .allowed_origins("*")
        .allowed_methods("GET")
        .allowed_methods("PUT")
        .allowed_methods("POST")
        .allowed_headers("*")
        .expose_headers("ETag")
        .max_age_seconds(3000)
        .build()
        .unwrap();
    let cors = aws_sdk_s3::types::CorsConfiguration::builder()
        .cors_rules(rule)
        .build()
        .unwrap();
    rt.block_on(
        srv.client()
            .put_bucket_cors()
            .bucket(&bucket)
            .cors_configuration(cors)
            .send(),
    )
    .expect("PutBucketCors");
    let proxy = FaultProxy::start(&srv.endpoint);
    let watch = start(srv, &proxy.endpoint(), &bucket);
    for n in 3..=4 {
        proxy.add_rule(Rule::always(
            Match::UploadPartNumber(n),
            Fault::Throttle {
                bytes_per_sec: 256 * 1024,
            },
        ));
    }
    let s = Scratch::new();
    let file = s.file("page.bin", 20 * MIB, 33);
    let browser = Browser::start();
    let ready = || {
        browser.wait_for(
            "the page to accept the token",
            "return !document.getElementById('uploader').hidden",
            // The page's first requests arrive together, and the emulator
            // starts a function instance for each with `cargo run`: under
            // load (the whole suite beside it) that took over 60 s once.
            Duration::from_secs(180),
            DESCRIBE,
        );
        browser.js("document.getElementById('partsize').value = '5'; \
             document.getElementById('concurrency').value = '2'; return true");
    };
    browser.goto(&format!("{}/#token={TOKEN}", watch.url));
    ready();
    browser.pick("#files", &[&file]);
    browser.wait_for(
        "2 parts written down",
        "const all = JSON.parse(localStorage.getItem('s3up.uploads.v1') || '{}'); \
         return Object.values(all).some(r => Object.keys(r.parts).length >= 2)",
        LONG,
        DESCRIBE,
    );
    let attr = |name: &str| {
        browser.js(&format!(
            "const li = document.querySelector('li.file:last-child'); return li ? li.dataset.{name} : null"
        ))
    };
    let (key, upload) = (attr("key"), attr("uploadId"));
    assert!(key.as_str().is_some_and(|k| k.starts_with(SCOPE)), "{key}");

    browser.refresh();
    ready();
    proxy.clear_rules();
    browser.pick("#files", &[&file]);
    browser.wait_for(
        "the file to be done",
        "const li = document.querySelector('li.file:last-child'); \
         return !!li && li.dataset.state === 'done'",
        LONG,
        DESCRIBE,
    );
    let msg = browser.js("return document.querySelector('li.file .msg').textContent");
    assert!(
        msg.as_str().is_some_and(|m| m.contains("parts were kept")),
        "{msg}"
    );
    assert_eq!((attr("key"), attr("uploadId")), (key.clone(), upload));
    assert_object_equals(srv, &bucket, key.as_str().unwrap(), &file);
    assert!(srv.list_uploads(&bucket).is_empty());
}

/// Puts `params` (name, value) into moto's SSM as SecureStrings and
/// `secrets` (name, value) into its Secrets Manager, with boto3 from .venv
/// (moto serves both on its S3 port); returns their ARNs, in that order.
fn seed_moto(moto: &Server, params: &[(&str, &str)], secrets: &[(&str, &str)]) -> Vec<String> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/install-servers (moto brings boto3)",
        python.display()
    );
    let script = r#"
import boto3, json, sys
todo = json.loads(sys.argv[1])
ssm, sm = boto3.client("ssm"), boto3.client("secretsmanager")
for name, value in todo["params"]:
    ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
    print(ssm.get_parameter(Name=name)["Parameter"]["ARN"])
for name, value in todo["secrets"]:
    print(sm.create_secret(Name=name, SecretString=value)["ARN"])
"#;
    let todo = json!({"params": params, "secrets": secrets}).to_string();
    let out = Command::new(python)
        .args(["-c", script, &todo])
        .envs(moto.env())
        // No profile: boto3, unlike the SDK, refuses a named one it cannot find.
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run .venv/bin/python");
    assert_exit(&out, 0);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The function's settings with its secrets read from SSM and Secrets
/// Manager, which `moto` models: endpoints named per service, as the SDK
/// allows, while S3 stays `srv`'s (Garage).
fn secret_envs<'a>(moto: &'a Server, tokens: &'a str, jwt: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("S3UP_PREFIX", "up"),
        ("S3UP_TOKENS", tokens),
        ("S3UP_JWT_SECRET", jwt),
        ("AWS_ENDPOINT_URL_SSM", &moto.endpoint),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &moto.endpoint),
    ]
}

const JWT_SECRET: &str = "lambda-jwt-secret-from-secrets-manager-0123456789";

/// S3UP_TOKENS the ARN of a SecureString parameter, S3UP_JWT_SECRET the ARN
/// of a Secrets Manager secret (both in moto), S3 on Garage: `put --via`
/// with the token stored in SSM uploads, a wrong token is refused, and a
/// JWT signed with the secret stored in Secrets Manager is accepted.
#[test]
fn secrets_read_from_ssm_and_secrets_manager_at_cold_start() {
    let srv = support::server(support::Kind::Garage);
    let moto = support::server(support::Kind::Moto);
    let bucket = srv.new_bucket("lambda-secrets");
    let tokens = format!("{} alice alice-id", hashed(TOKEN));
    let arns = seed_moto(
        moto,
        &[(&format!("/s3up-test/{bucket}/tokens"), &tokens)],
        &[(&format!("s3up-test/{bucket}/jwt"), JWT_SECRET)],
    );
    let [tokens_arn, jwt_arn] = &arns[..] else {
        panic!("two ARNs from moto: {arns:?}")
    };
    assert!(
        tokens_arn.starts_with("arn:aws:ssm:us-east-1:"),
        "{tokens_arn}"
    );
    assert!(
        jwt_arn.starts_with("arn:aws:secretsmanager:us-east-1:"),
        "{jwt_arn}"
    );
    let watch = Watch::start(
        srv,
        &srv.endpoint,
        &bucket,
        &secret_envs(moto, tokens_arn, jwt_arn),
    );

    // The token whose hash is in the SSM parameter.
    let s = Scratch::new();
    let file = s.file("secret.bin", 6 * MIB, 23);
    let key = "up/alice/secret.bin";
    let out = run(client(&s).arg("put").arg(&file).args([
        "--via",
        &watch.url,
        key,
        "--part-size",
        "5MiB",
    ]));
    assert_exit(&out, 0);
    assert_object_equals(srv, &bucket, key, &file);

    // A token that is not there.
    let out = run(client(&s)
        .env("S3UP_TOKEN", "not-the-token-0123456789")
        .arg("put")
        .arg(&file)
        .args(["--via", &watch.url, "up/alice/wrong.bin"]));
    assert_exit(&out, 1);
    assert_eq!(srv.object_size(&bucket, "up/alice/wrong.bin"), None);

    // JWTs signed with the secret in Secrets Manager, and with another.
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let claims = json!({"exp": exp, "prefix": "carol", "sub": "carol"});
    let jwt = |secret: &str| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    };
    let http = reqwest::blocking::Client::new();
    let create = |token: &str| {
        let r = http
            .post(watch.path("/s3/multipart"))
            .bearer_auth(token)
            .json(&json!({"filename": "jwt.bin"}))
            .send()
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().unwrap())
    };
    let (status, made) = create(&jwt(JWT_SECRET));
    assert_eq!(status, 200, "{made}");
    assert!(
        made["key"].as_str().unwrap().starts_with("up/carol/"),
        "{made}"
    );
    let (status, refused) = create(&jwt("another-secret-of-at-least-32-bytes-0000"));
    assert_eq!(status, 401, "{refused}");
}

/// `s3up-lambda` itself, as Lambda starts it (built by cargo with the
/// `lambda` feature, as the emulator builds it), with `envs`: its exit and
/// what it printed. Each of these fails before it asks for an event.
fn cold_start(srv: &Server, moto: &Server, envs: &[(&str, &str)]) -> Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    lambda::cargo_env(&mut Command::new(cargo))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "run",
            "--quiet",
            "--features",
            "lambda",
            "--bin",
            "s3up-lambda",
        ])
        .envs(srv.env())
        .env("S3UP_BUCKET", "any-bucket")
        .env("AWS_ENDPOINT_URL_SSM", &moto.endpoint)
        .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", &moto.endpoint)
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("cargo run --bin s3up-lambda")
}

/// The one error line the function printed (its log line under Lambda).
fn error_line(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("s3up-lambda:"))
        .collect();
    assert_eq!(lines.len(), 1, "one error line: {}", support::describe(out));
    lines[0].to_string()
}

/// A parameter or secret that is not there, and a malformed ARN, end the
/// cold start with one line that names the variable and the ARN.
#[test]
fn a_missing_parameter_or_secret_ends_the_cold_start_in_one_line() {
    let srv = support::server(support::Kind::Garage);
    let moto = support::server(support::Kind::Moto);
    let missing = "arn:aws:ssm:us-east-1:123456789012:parameter/s3up-test/no-such-tokens";
    let out = cold_start(srv, moto, &[("S3UP_TOKENS", missing)]);
    assert_exit(&out, 1);
    let line = error_line(&out);
    assert_eq!(
        line,
        format!(
            "s3up-lambda: error: S3UP_TOKENS names the SSM parameter `{missing}`, which does not \
             exist: create it in that region and account, or fix the ARN"
        )
    );

    let missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:s3up-test/no-such-AbCdEf";
    let out = cold_start(srv, moto, &[("S3UP_JWT_SECRET", missing)]);
    assert_exit(&out, 1);
    let line = error_line(&out);
    assert!(
        line.contains(&format!(
            "S3UP_JWT_SECRET names the Secrets Manager secret `{missing}`, which does not exist"
        )),
        "{line}"
    );

    // An empty parameter.
    let arns = seed_moto(moto, &[("/s3up-test/blank-tokens", " ")], &[]);
    let out = cold_start(srv, moto, &[("S3UP_TOKENS", &arns[0])]);
    assert_exit(&out, 1);
    let line = error_line(&out);
    assert!(line.contains("which is empty"), "{line}");

    let out = cold_start(
        srv,
        moto,
        &[("S3UP_TOKENS", "arn:aws:ssm:us-east-1:tokens")],
    );
    assert_exit(&out, 2);
    let line = error_line(&out);
    assert!(
        line.contains("S3UP_TOKENS holds `arn:aws:ssm:us-east-1:tokens`, which is not the ARN"),
        "{line}"
    );
}

/// The (action, resource) pairs of the README's IAM table, resources as
/// written there (`arn:aws:s3:::BUCKET/PREFIX*`); `--apply-bucket-cors`'s
/// row left out, since the function never applies the bucket's CORS (the
/// template sets it).
fn readme_iam() -> BTreeSet<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = readme
        .find("**IAM.** The credentials `serve` runs with need exactly:")
        .expect("the README's IAM table");
    let mut pairs = BTreeSet::new();
    for row in readme[start..]
        .lines()
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
    {
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").collect();
        if cells.len() != 2 || cells[1].contains("only with `--apply-bucket-cors`") {
            continue;
        }
        let (actions, on) = cells[0]
            .trim()
            .split_once(" on ")
            .expect("ACTION on RESOURCE");
        let resource = on.split(" (").next().unwrap().trim().trim_matches('`');
        for action in actions.split(',') {
            pairs.insert((
                action.trim().trim_matches('`').to_string(),
                resource.to_string(),
            ));
        }
    }
    pairs
}

/// The (action, resource) pairs of the template's role, resources written
/// as the README writes them.
fn template_iam() -> BTreeSet<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/lambda/template.yaml");
    let template = std::fs::read_to_string(path).expect("deploy/lambda/template.yaml");
    let policy = template
        .split("PolicyName: s3up-serve")
        .nth(1)
        .expect("the role's s3up-serve policy");
    let policy = policy.split("\n  Function:").next().unwrap();
    let readme_form = |r: &str| match r.trim().trim_matches('"') {
        "!GetAtt FunctionLogs.Arn" => "the function's log group".to_string(),
        "!Ref TokensArn" | "!Ref JwtSecretArn" => {
            "the ARN that `S3UP_TOKENS` or `S3UP_JWT_SECRET` holds".to_string()
        }
        "!Ref SecretsKmsKeyArn" => {
            "the customer-managed KMS key of that parameter or secret".to_string()
        }
        r => r
            .trim_start_matches("!Sub ")
            .trim_matches('"')
            .replace("${AWS::Partition}", "aws")
            .replace("${BucketName}", "BUCKET")
            .replace("${Prefix}", "PREFIX"),
    };
    let mut pairs = BTreeSet::new();
    let chunks: Vec<&str> = policy.split("- Sid:").collect();
    for (before, statement) in chunks.iter().zip(&chunks[1..]) {
        // A statement for a secret given as an ARN, or its KMS key, is
        // there only when that parameter is given (`- !If` and a condition
        // just before its Sid); the S3 and log statements always are.
        let conditional = before.trim_end().lines().rev().nth(1).map(str::trim) == Some("- !If");
        let secret = ["ssm:", "secretsmanager:", "kms:"]
            .iter()
            .any(|a| statement.contains(&format!("- {a}")));
        assert_eq!(
            conditional, secret,
            "only the secrets' statements are conditional: {statement}"
        );
        let mut actions = Vec::new();
        let mut resource = None;
        let mut in_actions = false;
        for line in statement.lines().map(str::trim) {
            if line == "Action:" {
                in_actions = true;
            } else if let Some(a) = line.strip_prefix("- ").filter(|_| in_actions) {
                actions.push(a.to_string());
            } else if let Some(r) = line.strip_prefix("Resource:") {
                resource = Some(readme_form(r));
                in_actions = false;
            } else {
                in_actions = false;
            }
        }
        let resource = resource.expect("each statement names its Resource");
        assert!(statement.contains("Effect: Allow"), "{statement}");
        for a in actions {
            pairs.insert((a, resource.clone()));
        }
    }
    pairs
}

/// The template's role holds exactly the actions of the README's IAM table,
/// each on the resource the table names: no more, no fewer.
#[test]
fn the_templates_role_matches_the_readme_iam_table() {
    let readme = readme_iam();
    let template = template_iam();
    assert!(
        readme.len() >= 9,
        "the README's table was not read: {readme:?}"
    );
    assert_eq!(
        template, readme,
        "deploy/lambda/template.yaml's role (left) differs from the README's IAM table (right)"
    );
}
