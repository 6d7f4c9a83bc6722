//! The completion scripts in completions/ are generated from the CLI definition;
//! this fails when they are stale. Regenerate with `scripts/gen-completions`.

use std::path::Path;

const SCRIPTS: &[(&str, &str)] = &[
    ("bash", "s3up.bash"),
    ("zsh", "_s3up"),
    ("fish", "s3up.fish"),
    ("elvish", "s3up.elv"),
    ("powershell", "_s3up.ps1"),
];

#[test]
fn committed_completions_are_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, file) in SCRIPTS {
        let out = assert_cmd::Command::cargo_bin("s3up")
            .unwrap()
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "s3up completions {shell} failed");
        assert!(!out.stdout.is_empty());
        let committed = std::fs::read(dir.join(file))
            .unwrap_or_else(|e| panic!("completions/{file}: {e}; run scripts/gen-completions"));
        assert!(
            committed == out.stdout,
            "completions/{file} is stale: run scripts/gen-completions and commit the result"
        );
    }
}

#[test]
fn usage_errors_are_one_line_with_exit_2() {
    let out = assert_cmd::Command::cargo_bin("s3up")
        .unwrap()
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("s3up: error: ") && err.contains("tcsh"),
        "{err}"
    );
}
