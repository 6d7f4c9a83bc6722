//! What a new user trips on (issue 23, section 3), each through the built
//! binary: `put --via` without a token, the resume command a `--via` upload
//! suggests, a key outside the token's prefix, `abort --remote` and the
//! uploads a local journal owns, `s3up ls`, and `put --help`'s headings.
//! (The page's wrong-token message is checked in `web.rs`, the demo by
//! running `scripts/demo`.)

use std::process::{Child, Command, Output, Stdio};

use crate::support;
use crate::support::proxy::FaultProxy;
use crate::support::serve::{hashed, Serve};
use crate::support::{assert_exit, assert_object_equals, Kind, Scratch, Server, MIB};

const TOKEN: &str = "newuser-token-0123456789abcdef";

/// `s3up serve` for `bucket` under `--prefix up`, where [`TOKEN`] may write `up/alice/`.
fn serve_with_token(srv: &Server, bucket: &str) -> Serve {
    Serve::on(srv, &srv.endpoint, bucket)
        .tokens(&format!("{} alice alice-id\n", hashed(TOKEN)))
        .start()
}

/// `s3up` as a client with no AWS variable and no token in its environment.
fn client(s: &Scratch) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("s3up"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", s.dir.path())
        .env("S3UP_JOURNAL_DIR", s.journal_dir())
        .stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run s3up")
}

/// Waits until the journal of the running `child` holds a part, then
/// interrupts it as Ctrl-C does; returns its output (exit 130 checked).
fn interrupt_after_a_part(s: &Scratch, mut child: Child) -> Output {
    let stderr = s.dir.path().join("child.err");
    support::wait_for(
        "a part in the journal",
        &mut child,
        || std::fs::read_to_string(&stderr).unwrap_or_default(),
        || s.journalled_parts() >= 1,
    );
    support::signal(&child, "-INT");
    let status = child.wait().unwrap();
    let out = Output {
        status,
        stdout: Vec::new(),
        stderr: std::fs::read(&stderr).unwrap_or_default(),
    };
    assert_exit(&out, 130);
    out
}

/// Spawns `cmd` (a put) with its stderr in the scratch dir's `child.err`.
fn spawn(s: &Scratch, cmd: &mut Command) -> Child {
    let log = std::fs::File::create(s.dir.path().join("child.err")).unwrap();
    cmd.stdout(Stdio::null()).stderr(log).spawn().unwrap()
}

/// The command between the backticks after "interrupted: …; ", split into
/// words as a shell would (the hint quotes a word only with '…').
fn suggested_command(stderr: &str) -> Vec<String> {
    let line = stderr
        .lines()
        .find(|l| l.contains("interrupted"))
        .unwrap_or_else(|| panic!("no interrupted line: {stderr}"));
    let cmd = line
        .split('`')
        .nth(1)
        .unwrap_or_else(|| panic!("no suggested command: {line}"));
    let mut words = Vec::new();
    let (mut word, mut quoted) = (String::new(), false);
    for c in cmd.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    words.push(word);
    assert_eq!(words[0], "s3up", "{line}");
    words.remove(0);
    words
}

/// Against `serve --no-auth`, `put --via` with no token sends no
/// Authorization header and works; so does `--token ""`. Against a serve
/// that wants a token, no token gets a 401, worded as "wants a token", with
/// how to give one (exit 1).
#[test]
fn put_via_without_a_token_sends_none() {
    let srv = support::server(Kind::Garage);
    let bucket = srv.new_bucket("nu-notoken");
    let open = Serve::on(srv, &srv.endpoint, &bucket)
        .args(&["--no-auth"])
        .start();
    let front = FaultProxy::recording(&open.url);
    let s = Scratch::new();
    let file = s.file("f.bin", 12 * MIB, 1);
    let out = run(client(&s).arg("put").arg(&file).args([
        "--via",
        &front.endpoint(),
        "up/f.bin",
        "--part-size",
        "5MiB",
    ]));
    assert_exit(&out, 0);
    assert_object_equals(srv, &bucket, "up/f.bin", &file);
    let requests = front.requests();
    assert!(
        requests.iter().any(|r| r.path.starts_with("/s3/multipart")),
        "the backend was not used: {:?}",
        requests.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    for r in &requests {
        assert_eq!(r.header("authorization"), None, "{} {}", r.method, r.path);
    }

    let out = run(client(&s)
        .arg("put")
        .arg(&file)
        .args(["--via", &open.url, "up/g.bin", "--token", ""]));
    assert_exit(&out, 0);
    assert_object_equals(srv, &bucket, "up/g.bin", &file);

    let guarded = serve_with_token(srv, &bucket);
    let out = run(client(&s)
        .arg("put")
        .arg(&file)
        .args(["--via", &guarded.url, "up/alice/h.bin"]));
    assert_exit(&out, 1);
    let line = support::one_error_line(&out);
    assert!(
        line.contains("the backend wants a token")
            && line.contains("HTTP 401")
            && line.contains("--token-file FILE")
            && line.contains("S3UP_TOKEN"),
        "{line}"
    );
    assert!(!line.contains("refused the token"), "{line}");
    assert!(s.journals().is_empty(), "{:?}", s.journals());
}

/// After Ctrl-C, a `--via` upload's suggested resume names the token's
/// source: `--token-file PATH` (and, pasted, it completes the upload), or
/// S3UP_TOKEN in words; never the token.
#[test]
fn the_suggested_resume_names_the_token_source() {
    let srv = support::server(Kind::Garage);
    let bucket = srv.new_bucket("nu-hint");
    let serve = serve_with_token(srv, &bucket);
    let s = Scratch::new();
    let file = s.file("big.bin", 30 * MIB, 2);
    let token_file = s.dir.path().join("my token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let slow = [
        "--part-size",
        "5MiB",
        "--concurrency",
        "1",
        "--limit-rate",
        "4MiB/s",
    ];

    let child = spawn(
        &s,
        client(&s)
            .arg("put")
            .arg(&file)
            .args(["--via", &serve.url, "up/alice/big.bin"])
            .arg("--token-file")
            .arg(&token_file)
            .args(slow),
    );
    let out = interrupt_after_a_part(&s, child);
    let err = support::text(&out.stderr);
    assert!(!err.contains(TOKEN), "the token was printed: {err}");
    let words = suggested_command(&err);
    assert_eq!(words[0], "resume", "{err}");
    assert_eq!(
        &words[2..],
        ["--token-file", token_file.to_str().unwrap()],
        "{err}"
    );
    // Pasted as it is, from another directory, it completes the upload.
    let out = run(client(&s).args(&words).current_dir("/"));
    assert_exit(&out, 0);
    assert_object_equals(srv, &bucket, "up/alice/big.bin", &file);
    assert!(s.journals().is_empty());

    // With S3UP_TOKEN, the hint says so in words.
    let child = spawn(
        &s,
        client(&s)
            .env("S3UP_TOKEN", TOKEN)
            .arg("put")
            .arg(&file)
            .args(["--via", &serve.url, "up/alice/env.bin"])
            .args(slow),
    );
    let out = interrupt_after_a_part(&s, child);
    let err = support::text(&out.stderr);
    assert!(!err.contains(TOKEN), "the token was printed: {err}");
    let line = err.lines().find(|l| l.contains("interrupted")).unwrap();
    assert!(
        line.contains("` (with S3UP_TOKEN set, as now) sends the other"),
        "{line}"
    );
    let words = suggested_command(&err);
    assert_eq!(words.len(), 2, "{line}");
    let out = run(client(&s).env("S3UP_TOKEN", TOKEN).args(&words));
    assert_exit(&out, 0);
    assert_object_equals(srv, &bucket, "up/alice/env.bin", &file);
}

/// A key outside the token's prefix: said so, with the prefix to use and
/// the bucket, not blamed on the token, and no `s3:///` with an empty bucket.
#[test]
fn a_key_outside_the_tokens_prefix_names_the_prefix_and_bucket() {
    let srv = support::server(Kind::Garage);
    let bucket = srv.new_bucket("nu-prefix");
    let serve = serve_with_token(srv, &bucket);
    let s = Scratch::new();
    let file = s.file("big400.bin", 6 * MIB, 3);
    let out = run(client(&s)
        .env("S3UP_TOKEN", TOKEN)
        .arg("put")
        .arg(&file)
        .args(["--via", &serve.url, "alice/big400.bin"]));
    assert_exit(&out, 1);
    let line = support::one_error_line(&out);
    assert_eq!(
        line,
        format!(
            "s3up: error: the key 'alice/big400.bin' is outside what this token may write in \
             bucket '{bucket}': its keys must start with 'up/alice/'. Name a key under that \
             prefix (e.g. up/alice/big400.bin), or give no key and the backend puts the file \
             there"
        )
    );
    assert!(s.journals().is_empty());
    assert!(srv.list_uploads(&bucket).is_empty());
}

/// `abort --remote` lists an upload a local journal owns as kept, with its
/// journal, leaves it and its journal alone with --yes and says how many it
/// kept and why; `--include-local` aborts it and removes its journal.
#[test]
fn abort_remote_keeps_uploads_a_journal_owns() {
    let srv = support::server(Kind::Garage);
    let bucket = srv.new_bucket("nu-abort");
    let s = Scratch::new();
    let orphan = srv.create_upload(&bucket, "orphan.bin");
    let file = s.file("mine.bin", 20 * MIB, 4);
    let mut put = s.s3up_std(srv, &srv.endpoint);
    put.arg("put")
        .arg(&file)
        .arg(format!("s3://{bucket}/mine.bin"))
        .args(["--part-size", "5MiB", "--concurrency", "1"])
        .args(["--limit-rate", "4MiB/s"]);
    interrupt_after_a_part(&s, spawn(&s, &mut put));
    let journal = s.only_journal();
    let (id, owned) = (
        journal["id"].as_str().unwrap().to_string(),
        journal["upload_id"].as_str().unwrap().to_string(),
    );
    let abort = |extra: &[&str]| {
        let out = s
            .s3up(srv, &srv.endpoint)
            .args(["abort", "--older-than", "0s", "--remote"])
            .arg(format!("s3://{bucket}"))
            .args(extra)
            .output()
            .unwrap();
        assert_exit(&out, 0);
        support::text(&out.stdout)
    };
    let row = |stdout: &str, upload: &str| {
        stdout
            .lines()
            .find(|l| l.contains(upload))
            .unwrap_or_else(|| panic!("no row for {upload}: {stdout}"))
            .to_string()
    };
    let listed = |upload: &str| srv.list_uploads(&bucket).iter().any(|(_, u)| u == upload);

    let stdout = abort(&[]);
    assert!(
        row(&stdout, &owned).starts_with("would keep")
            && row(&stdout, &owned).contains(&format!("[journal {id}: `s3up resume {id}`")),
        "{stdout}"
    );
    assert!(row(&stdout, &orphan).starts_with("would abort"), "{stdout}");

    let stdout = abort(&["--yes"]);
    assert!(row(&stdout, &owned).starts_with("kept"), "{stdout}");
    assert!(
        stdout.lines().last().is_some_and(|l| l
            == "aborted 1 upload; kept 1 upload that a local journal owns, as `s3up resume` \
                continues them (add --include-local to abort them too, with their journals)"),
        "{stdout}"
    );
    assert!(!listed(&orphan), "the orphan is still there");
    assert!(listed(&owned), "the owned upload was aborted");
    assert_eq!(s.journals().len(), 1, "its journal was removed");

    let stdout = abort(&["--yes", "--include-local"]);
    assert!(
        row(&stdout, &owned).starts_with("aborted")
            && row(&stdout, &owned).contains(&format!("[journal {id}, removed]")),
        "{stdout}"
    );
    assert!(!listed(&owned));
    assert!(s.journals().is_empty(), "{:?}", s.journals());
}

/// `s3up ls s3://…` says what s3up is for and where `ls` is, not clap's
/// "a similar subcommand exists: 'list-pending'".
#[test]
fn ls_answers_with_what_s3up_is_for() {
    let s = Scratch::new();
    let out = run(client(&s).args(["ls", "s3://some-bucket/"]));
    assert_exit(&out, 2);
    let line = support::one_error_line(&out);
    assert_eq!(
        line,
        "s3up: error: s3up has no 'ls' command: it uploads files to S3 and resumes \
         interrupted uploads (put, sync, resume), and tidies up unfinished ones (list-pending, \
         abort). For 'ls' use a general S3 client, e.g. `aws s3 ls`. Run `s3up --help` for usage"
    );
    assert!(!line.contains("tip"), "{line}");
}

/// `put --help` shows put's own options first, then the global ones and the
/// backend's under headings of their own.
#[test]
fn put_help_groups_the_global_options() {
    let s = Scratch::new();
    let out = run(client(&s).args(["put", "--help"]));
    assert_exit(&out, 0);
    let help = support::text(&out.stdout);
    let at = |needle: &str| {
        help.find(needle)
            .unwrap_or_else(|| panic!("no {needle:?} in put --help:\n{help}"))
    };
    // An option's own line, not a mention in another's help or the usage.
    let opt = |name: &str| at(&format!("\n      {name}"));
    let global = at("\nGlobal options (every command):\n");
    let backend = at("\nThrough a backend (--via), with no AWS credentials:\n");
    for own in [
        "--part-size",
        "--exclude",
        "--concurrency",
        "--content-type",
    ] {
        assert!(opt(own) < global.min(backend), "{own}:\n{help}");
    }
    for option in [
        "--endpoint-url",
        "--region",
        "--profile",
        "--path-style",
        "--journal-dir",
    ] {
        assert!(opt(option) > global, "{option}:\n{help}");
    }
    for option in ["--via <URL>", "--token-file", "--token <TOKEN>"] {
        let pos = opt(option);
        assert!(
            pos > backend && (global < backend || pos < global),
            "{option}:\n{help}"
        );
    }
}
