//! Command-line errors clap finds, as one line (`main` prints them), and
//! what s3up answers to options other tools have.

/// clap's error as one line: without its `error:` prefix, usage block and
/// "For more information" line; a list under a line ending in ':' (missing
/// arguments) follows that line, comma-separated, and other lines (clap's
/// tips) follow after a semicolon.
pub fn clap_error_line(text: &str) -> String {
    let mut line = String::new();
    let mut in_list = false;
    // A usage block may run over several lines (`put` shows two forms).
    let mut in_usage = false;
    for l in text.lines().map(str::trim) {
        in_usage = l.starts_with("Usage:") || (in_usage && !l.is_empty());
        if l.is_empty() || in_usage || l.starts_with("For more") {
            continue;
        }
        let l = l.strip_prefix("error: ").unwrap_or(l);
        if line.is_empty() {
            line.push_str(l);
        } else if line.ends_with(':') {
            line.push(' ');
            line.push_str(l);
            in_list = true;
            continue;
        } else if in_list && !l.starts_with("tip:") {
            line.push_str(", ");
            line.push_str(l);
            continue;
        } else {
            line.push_str("; ");
            line.push_str(l);
        }
        in_list = false;
    }
    line.trim_end_matches('.').to_string()
}

/// What s3up answers to options users bring from other tools (aws s3 cp),
/// instead of clap's nearest match.
pub fn foreign_option(arg: &str) -> Option<String> {
    match arg {
        "--dryrun" | "--dry-run" => Some(format!(
            "s3up has no {arg}: `put` uploads, and creates nothing on S3 until the file, the \
             URL and the credentials have passed their checks. (`s3up abort --remote` without \
             --yes only lists what it would abort)"
        )),
        _ => None,
    }
}

/// What s3up answers to a command of another S3 tool (`s3up ls s3://…`):
/// what s3up is for, and where that command is, instead of clap's nearest
/// match (`ls` -> `list-pending`, which lists something else).
pub fn foreign_command(name: &str) -> Option<String> {
    let elsewhere = match name {
        "ls" | "rm" | "mv" | "mb" | "rb" | "presign" => format!("`aws s3 {name}`"),
        "get" | "download" => "`aws s3 cp s3://BUCKET/KEY FILE`".to_string(),
        "cat" => "`aws s3 cp s3://BUCKET/KEY -`".to_string(),
        "head" | "stat" => "`aws s3api head-object`".to_string(),
        _ => return None,
    };
    Some(format!(
        "s3up has no '{name}' command: it uploads files to S3 and resumes interrupted \
         uploads (put, sync, resume), and tidies up unfinished ones (list-pending, abort). \
         For '{name}' use a general S3 client, e.g. {elsewhere}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 13, item 6: "the following required arguments were not provided:; <S3_URL>".
    #[test]
    fn clap_errors_become_one_readable_line() {
        let missing = "error: the following required arguments were not provided:\n  <FILE>\n  \
                       <S3_URL>\n\nUsage: s3up put <FILE> <S3_URL>\n\nFor more information, \
                       try '--help'.\n";
        assert_eq!(
            clap_error_line(missing),
            "the following required arguments were not provided: <FILE>, <S3_URL>"
        );
        let tip = "error: unexpected argument '--retrys' found\n\n  tip: a similar argument \
                   exists: '--retries'\n\nUsage: s3up put <FILE> <S3_URL>\n";
        assert_eq!(
            clap_error_line(tip),
            "unexpected argument '--retrys' found; tip: a similar argument exists: '--retries'"
        );
    }
}
