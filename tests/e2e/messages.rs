//! Issue 13, items 3 to 8: what a user reads and types, through the built
//! binary. Network errors name the endpoint URL, suggested commands carry the
//! connection options they need, an unknown profile is named, `--json` is
//! one document, words from other tools get real answers, and two uploads to
//! one key are warned about.

use std::path::Path;
use std::process::{Output, Stdio};

use crate::support;
use crate::support::proxy::{Fault, FaultProxy, Match, Rule};
use crate::support::{
    assert_exit, assert_object_equals, assert_ok, one_error_line, Kind, Scratch, MIB,
};
use serde_json::Value;

/// `s3up ARGS` with no server, no AWS config and dummy credentials.
fn offline(s: &Scratch, args: &[&str]) -> Output {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("s3up"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", s.dir.path())
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("S3UP_JOURNAL_DIR", s.journal_dir())
        .args(args)
        .output()
        .unwrap()
}

/// The only stderr line, which must be `s3up: error: {want}`, and the exit code.
fn says(out: &Output, code: i32, want: &str) {
    assert_exit(out, code);
    assert_eq!(one_error_line(out), format!("s3up: error: {want}"));
}

// Item 3: the URL that gave no answer is named, as aws names it.
#[test]
fn a_refused_connection_names_the_endpoint_url() {
    let s = Scratch::new();
    let file = s.file("a.bin", 1024, 1);
    let out = offline(
        &s,
        &[
            "put",
            "--retries",
            "0",
            "--endpoint-url",
            "http://127.0.0.1:1",
            file.to_str().unwrap(),
            "s3://bkt/a.bin",
        ],
    );
    assert_exit(&out, 1);
    let line = one_error_line(&out);
    assert!(
        line.starts_with(
            "s3up: error: PutObject failed: Could not connect to the endpoint URL: \
             \"http://127.0.0.1:1/bkt/a.bin\" (dispatch failure"
        ) && line.ends_with(
            "(gave up after 1 attempt). Check the network and the endpoint, then try again"
        ),
        "{line}"
    );
    // A multipart put: the refused Create made nothing, so no lost answer
    // is looked for.
    let big = s.file("b.bin", 10 * MIB, 2);
    let out = offline(
        &s,
        &[
            "put",
            "--retries",
            "1",
            "--endpoint-url",
            "http://127.0.0.1:1",
            big.to_str().unwrap(),
            "s3://bkt/b.bin",
        ],
    );
    assert_exit(&out, 1);
    let line = one_error_line(&out);
    assert!(
        line.starts_with(
            "s3up: error: CreateMultipartUpload failed: Could not connect to the endpoint URL: \
             \"http://127.0.0.1:1/bkt/b.bin\""
        ) && line.ends_with(
            "(gave up after 2 attempts). Check the network and the endpoint, then try again"
        ),
        "{line}"
    );
}

// Item 3: every suggested command carries the options given on the command
// line, and the resuming line names the endpoint.
#[test]
fn suggested_commands_carry_the_connection_options() {
    let srv = support::server(Kind::Garage);
    let s = Scratch::new();
    let bucket = srv.new_bucket("again");
    let file = s.file("g.bin", 11 * MIB, 2);
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::always(
        Match::CompleteMultipartUpload,
        Fault::internal_error(),
    ));
    let jdir = s.journal_dir();
    let jdir = jdir.to_str().unwrap();
    let ep = proxy.endpoint();
    let run = |args: &[&str]| {
        s.s3up_std(srv, &ep)
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ENDPOINT_URL_S3")
            .env_remove("S3UP_JOURNAL_DIR")
            .args(args)
            .args(["--journal-dir", jdir])
            .output()
            .unwrap()
    };
    let dest = format!("s3://{bucket}/g.bin");
    let out = run(&[
        "put",
        "-q",
        "--retries",
        "0",
        "--endpoint-url",
        &ep,
        "--region",
        "garage",
        file.to_str().unwrap(),
        &dest,
    ]);
    assert_exit(&out, 3);
    let id = s.only_journal()["id"].as_str().unwrap().to_string();
    let options = format!("--endpoint-url {ep} --region garage --journal-dir {jdir}");
    let line = one_error_line(&out);
    assert!(
        line.ends_with(&format!(
            "The upload is saved: run `s3up resume {id} {options}` to continue"
        )),
        "{line}"
    );

    // An endpoint that refuses: ListParts names its URL, and the hint its options.
    let out = run(&[
        "resume",
        &id,
        "--retries",
        "0",
        "--endpoint-url",
        "http://127.0.0.1:1",
    ]);
    assert_exit(&out, 3);
    // After the warning that this is not the endpoint the journal records.
    let err = support::text(&out.stderr);
    let line = err.lines().last().unwrap();
    assert!(
        line.contains(&format!(
            "ListParts failed: Could not connect to the endpoint URL: \
             \"http://127.0.0.1:1/{bucket}/g.bin\""
        )) && line.ends_with(&format!(
            "run `s3up resume {id} --endpoint-url http://127.0.0.1:1 --journal-dir {jdir}` to \
             continue"
        )),
        "{line}"
    );

    // The suggestion, pasted, works once the store answers.
    proxy.clear_rules();
    let out = run(&["resume", &id, "--endpoint-url", &ep, "--region", "garage"]);
    assert_ok(&out);
    assert!(
        support::text(&out.stderr).contains(&format!("s3up: resuming {id} to {dest} at {ep}: ")),
        "{}",
        support::text(&out.stderr)
    );
    assert_object_equals(srv, &bucket, "g.bin", &file);
}

// Item 4: an unknown profile is named; a known one is used; no "pass
// --profile" when one was passed.
#[test]
fn profiles_are_checked_by_name() {
    let srv = support::server(Kind::Garage);
    let s = Scratch::new();
    let bucket = srv.new_bucket("prof");
    let file = s.file("p.bin", 1024, 3);
    let config = s.dir.path().join("config");
    let credentials = s.dir.path().join("credentials");
    std::fs::write(&config, "[profile nokeys]\nregion = garage\n").unwrap();
    let env: std::collections::HashMap<String, String> = srv.env().into_iter().collect();
    std::fs::write(
        &credentials,
        format!(
            "[ci]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
        ),
    )
    .unwrap();
    let put = |profile: &str, env_keys: bool| {
        let mut cmd = s.s3up_std(srv, &srv.endpoint);
        cmd.env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN");
        if !env_keys {
            cmd.env_remove("AWS_ACCESS_KEY_ID")
                .env_remove("AWS_SECRET_ACCESS_KEY");
        }
        match profile.strip_prefix("env:") {
            Some(name) => cmd.env("AWS_PROFILE", name).arg("put"),
            None => cmd.args(["put", "--profile", profile]),
        };
        cmd.arg(&file)
            .arg(format!("s3://{bucket}/p.bin"))
            .output()
            .unwrap()
    };
    // Credentials in the environment no longer hide the mistake.
    says(
        &put("nosuchprofile", true),
        1,
        &format!(
            "the config profile 'nosuchprofile' could not be found in {} or {}. Check the name \
             (`aws configure list-profiles` lists them), or leave out --profile",
            config.display(),
            credentials.display()
        ),
    );
    says(
        &put("env:nosuchprofile", true),
        1,
        &format!(
            "the config profile 'nosuchprofile' (from AWS_PROFILE) could not be found in {} or \
             {}. Check the name (`aws configure list-profiles` lists them), or unset AWS_PROFILE",
            config.display(),
            credentials.display()
        ),
    );
    let out = put("nokeys", false);
    assert_exit(&out, 1);
    let line = one_error_line(&out);
    assert!(
        line.starts_with("s3up: error: no AWS credentials found (")
            && line.ends_with("). Check the credentials of profile 'nokeys'"),
        "{line}"
    );
    assert!(!line.contains("pass --profile"), "{line}");
    // A profile from the credentials file alone is found and used.
    assert_ok(&put("ci", false));
    assert_object_equals(srv, &bucket, "p.bin", &file);
}

// Item 5: `resume --all --json` is one JSON array; each record names its
// journal and file. `put --json` is one object.
#[test]
fn json_is_one_document() {
    let srv = support::server(Kind::Garage);
    let s = Scratch::new();
    let bucket = srv.new_bucket("json");
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::always(
        Match::CompleteMultipartUpload,
        Fault::internal_error(),
    ));
    let files: Vec<_> = (0..2)
        .map(|i| s.file(&format!("j{i}.bin"), 11 * MIB, 20 + i))
        .collect();
    for (i, f) in files.iter().enumerate() {
        let out = s
            .s3up(srv, &proxy.endpoint())
            .args(["put", "-q", "--retries", "0"])
            .arg(f)
            .arg(format!("s3://{bucket}/j{i}.bin"))
            .output()
            .unwrap();
        assert_exit(&out, 3);
    }
    let ids: Vec<String> = s
        .journals()
        .iter()
        .map(|p| p.file_stem().unwrap().to_str().unwrap().to_string())
        .collect();
    proxy.clear_rules();
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["resume", "--all", "--json"])
        .output()
        .unwrap();
    assert_ok(&out);
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", support::text(&out.stdout)));
    let records = doc.as_array().expect("an array");
    assert_eq!(records.len(), 2, "{doc}");
    for r in records {
        let id = r["id"].as_str().unwrap();
        assert!(ids.iter().any(|i| i == id), "{r}");
        let file = Path::new(r["file"].as_str().unwrap());
        let i = files
            .iter()
            .position(|f| std::fs::canonicalize(f).unwrap() == file)
            .unwrap_or_else(|| panic!("{r}"));
        assert_eq!(r["key"], format!("j{i}.bin"));
        assert_object_equals(srv, &bucket, &format!("j{i}.bin"), &files[i]);
    }

    let small = s.file("small.bin", 1000, 9);
    let out = s
        .s3up(srv, &srv.endpoint)
        .args(["put", "--json"])
        .arg(&small)
        .arg(format!("s3://{bucket}/"))
        .output()
        .unwrap();
    assert_ok(&out);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["id"].is_null(), "one PutObject has no journal: {doc}");
    assert_eq!(
        Path::new(doc["file"].as_str().unwrap()),
        std::fs::canonicalize(&small).unwrap()
    );
}

// Item 6: clap's errors on one line, and answers for words from other tools.
#[test]
fn usage_errors_read_well_and_answer_other_tools_words() {
    let s = Scratch::new();
    let file = s.file("u.bin", 10, 4);
    let f = file.to_str().unwrap();
    says(
        &offline(&s, &["put"]),
        2,
        "the following required arguments were not provided: <SRC>. Run `s3up --help` for usage",
    );
    // `cp` is `put`, not a near miss of `completions`.
    says(
        &offline(&s, &["cp", f]),
        2,
        "no destination was given: write it last, as s3://BUCKET/KEY for a file or \
         s3://BUCKET/PREFIX/ for several files or a directory",
    );
    // Issue 19: --recursive is taken (a directory always goes whole), and a
    // directory needs a prefix.
    let dir = s.dir.path().join("d");
    std::fs::create_dir(&dir).unwrap();
    let d = dir.to_str().unwrap();
    says(
        &offline(&s, &["cp", d, "s3://bkt/k", "--recursive"]),
        2,
        &format!(
            "'{d}' is a directory, so the destination must be a prefix: 's3://bkt/k' names \
             one object. End it with '/', e.g. 's3://bkt/k/'"
        ),
    );
    says(
        &offline(&s, &["put", "--dryrun", f, "s3://bkt/k"]),
        2,
        "s3up has no --dryrun: `put` uploads, and creates nothing on S3 until the file, the \
         URL and the credentials have passed their checks. (`s3up abort --remote` without \
         --yes only lists what it would abort). Run `s3up --help` for usage",
    );
    says(
        &offline(&s, &["abort", "--remote", "s3://bkt/old/"]),
        2,
        "--remote needs --older-than AGE, so that uploads still in progress are spared. Add it, \
         e.g. `s3up abort --remote s3://bkt/old/ --older-than 7d` (without --yes it only lists \
         them; --older-than 0s takes every one)",
    );
    let help = offline(&s, &["resume", "--help"]);
    assert_ok(&help);
    let help = support::text(&help.stdout);
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("when there are several, it names each one and exits"),
        "{help}"
    );
    assert!(!help.contains("asks which"), "{help}");
}

// Item 8: decimals, metadata names that clash, ages echoed as typed.
#[test]
fn small_things_are_said_plainly() {
    let srv = support::server(Kind::Garage);
    let s = Scratch::new();
    let bucket = srv.new_bucket("small");
    let file = s.file("m.bin", 10, 5);
    let f = file.to_str().unwrap();
    let url = format!("s3://{bucket}/m.bin");
    says(
        &offline(&s, &["put", "--part-size", "5.5MiB", f, &url]),
        2,
        "invalid value '5.5MiB' for '--part-size <SIZE>': '5.5MiB' is not a whole number: sizes \
         take no decimals. Write it in a smaller unit, like 5632KiB. Run `s3up --help` for usage",
    );
    says(
        &offline(
            &s,
            &[
                "put",
                "--metadata",
                "owner=me",
                "--metadata",
                "Owner=you",
                f,
                &url,
            ],
        ),
        2,
        "--metadata names 'owner' twice (values 'me' and 'you'); S3 folds metadata names to \
         lower case, so only one would be kept. Give each name once",
    );
    let out = s
        .s3up(srv, &srv.endpoint)
        .args([
            "abort",
            "--remote",
            &format!("s3://{bucket}/"),
            "--older-than",
            "7d",
        ])
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(
        support::text(&out.stdout),
        format!("no in-progress uploads under s3://{bucket}/ are older than 7d\n")
    );
}

// Item 7: a second put to a key a running s3up is uploading to is warned.
#[test]
fn a_second_upload_to_the_same_key_is_warned() {
    let srv = support::server(Kind::Garage);
    let s = Scratch::new();
    let bucket = srv.new_bucket("twice");
    let first = s.file("one.bin", 11 * MIB, 6);
    let second = s.file("two.bin", 11 * MIB, 7);
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::always(Match::UploadPart, Fault::Stall));
    let url = format!("s3://{bucket}/same.bin");
    let mut running = s
        .s3up_std(srv, &proxy.endpoint())
        .args(["put", "--stall-timeout", "600"])
        .arg(&first)
        .arg(&url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    support::wait_for("the first put's parts", &mut running, String::new, || {
        proxy.requests().iter().any(|r| r.is_upload_part())
    });
    // The second put goes through the same proxy, so both name the same
    // endpoint; with the rules cleared its parts pass, while the first put's
    // part stays stalled and its journal stays locked.
    let id = s.only_journal()["id"].as_str().unwrap().to_string();
    proxy.clear_rules();
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["put", "-q"])
        .arg(&second)
        .arg(&url)
        .output()
        .unwrap();
    running.kill().unwrap();
    running.wait().unwrap();
    assert_ok(&out);
    let want = format!(
        "s3up: warning: another running s3up is uploading to {url} ({id} from '{}'): whichever \
         completes last replaces the other's object",
        std::fs::canonicalize(&first).unwrap().display()
    );
    assert_eq!(support::text(&out.stderr).trim_end(), want);
}
