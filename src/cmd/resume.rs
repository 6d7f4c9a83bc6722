//! `s3up resume [ID|FILE ...]`: continue interrupted uploads.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::context::{
    connect, connection_for, journal_dir, on_ctrl_c, open_source, progress, retry_policy,
};
use super::{run_and_report, Sending};
use crate::cli::{GlobalArgs, ResumeArgs, TokenArgs, Tuning};
use crate::engine::reconcile::{self, Reconciled, SourceState};
use crate::engine::Cancel;
use crate::error::{Error, Result};
use crate::journal::{self, Journal, JournalDir, Session};
use crate::output::{self, summary::Record};
use crate::plan::Plan;

fn stem(p: &Path) -> String {
    p.file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string()
}

/// Picks the journals `resume` works on; a journal of a pending tree
/// session (`trees`) is the session's, and only an explicit target picks it.
async fn select_journals(
    dir: &JournalDir,
    args: &ResumeArgs,
    trees: &[&Session],
) -> Result<Vec<PathBuf>> {
    let mut entries = dir.list_async().await;
    let in_tree = |j: &Journal| {
        j.session
            .as_deref()
            .is_some_and(|id| trees.iter().any(|s| s.id == id))
    };
    if args.targets.is_empty() {
        entries.retain(|(_, j)| !j.as_ref().is_ok_and(in_tree));
    }
    if args.all {
        return Ok(entries.iter().map(|(p, _)| p.clone()).collect());
    }
    if args.targets.is_empty() {
        // A damaged journal is not a candidate; say so, and choose among the rest.
        for (_, j) in &entries {
            if let Err(e) = j {
                output::warning(&e.to_string());
            }
        }
        let good: Vec<&PathBuf> = entries
            .iter()
            .filter(|(_, j)| j.is_ok())
            .map(|(p, _)| p)
            .collect();
        return match (good.len(), trees.len()) {
            (0, 0) => Err(output::resume::nothing_pending(dir.path())),
            (1, 0) => Ok(vec![good[0].clone()]),
            (0, 1) => Ok(Vec::new()),
            _ => {
                let pending: Vec<_> = entries
                    .iter()
                    .filter_map(|(_, j)| j.as_ref().ok())
                    .collect();
                Err(output::resume::several_pending(&pending, trees))
            }
        };
    }
    let mut chosen = Vec::new();
    for target in &args.targets {
        // Only a plain name (an ID, or the stem of a journal file such as a
        // damaged one) is joined to the journal directory, so no target can
        // name a file outside it.
        let is_id = journal::is_valid_id(target);
        let plain = !target.is_empty()
            && target
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if plain && dir.journal_path(target).exists() {
            chosen.push(dir.journal_path(target));
            continue;
        }
        let Ok(abs) = std::fs::canonicalize(target) else {
            return Err(if is_id {
                output::resume::unknown_target(target)
            } else {
                output::resume::not_an_id_or_file(target)
            });
        };
        let owners: Vec<&PathBuf> = entries
            .iter()
            .filter(|(_, j)| j.as_ref().is_ok_and(|j| j.source.path == abs))
            .map(|(p, _)| p)
            .collect();
        match owners.as_slice() {
            [one] => chosen.push((*one).clone()),
            [] => return Err(output::resume::no_upload_of(target)),
            many => {
                let ids: Vec<String> = many.iter().map(|p| stem(p)).collect();
                return Err(output::resume::several_uploads_of(
                    target,
                    many.len(),
                    &ids.join(", "),
                ));
            }
        }
    }
    Ok(chosen)
}

pub(super) async fn resume(global: &GlobalArgs, args: ResumeArgs) -> Result<()> {
    // Timings count from here: finding and parsing the journals is resume's cost too.
    let mut started = Instant::now();
    let dir = journal_dir(global)?;
    let sessions: Vec<Session> = dir
        .list_sessions_async()
        .await
        .into_iter()
        .filter_map(|(_, s)| s.ok())
        .collect();
    // Tree sessions named by ID (or all of them, or the only thing pending).
    let (named, rest): (Vec<String>, Vec<String>) = args
        .targets
        .iter()
        .cloned()
        .partition(|t| sessions.iter().any(|s| &s.id == t));
    let all: Vec<&Session> = sessions.iter().collect();
    let trees: Vec<&Session> = if args.all {
        all.clone()
    } else {
        sessions.iter().filter(|s| named.contains(&s.id)).collect()
    };
    let args = ResumeArgs {
        targets: rest,
        ..args
    };
    let paths = if !trees.is_empty() && args.targets.is_empty() && !args.all {
        Vec::new()
    } else {
        select_journals(&dir, &args, &all).await?
    };
    let only_tree = paths.is_empty() && trees.is_empty() && !args.all && sessions.len() == 1;
    let trees: Vec<&Session> = if only_tree { all } else { trees };
    let cancel = on_ctrl_c();
    for s in trees {
        if cancel.is_raised() {
            return Err(output::resume::stopped_before_next());
        }
        super::tree::resume_session(
            global,
            s.clone(),
            &args.token,
            &args.tuning,
            !args.no_verify,
            args.sse_c_key.as_deref(),
            &cancel,
        )
        .await?;
    }
    if paths.is_empty() {
        return Ok(());
    }
    let total = paths.len();
    // --json prints one document: an array when several uploads were asked
    // for, whatever became of each (issue 13, item 5).
    let several = args.all || args.targets.len() > 1;
    let mut records = Vec::new();
    let mut failed = 0;
    let mut outcome = Ok(());
    for path in &paths {
        if cancel.is_raised() {
            outcome = Err(output::resume::stopped_before_next());
            break;
        }
        let how = Resume {
            token: &args.token,
            tuning: &args.tuning,
            verify: !args.no_verify,
            sse_c_key: args.sse_c_key.as_deref(),
        };
        let result = resume_journal(global, &how, &dir, path, &cancel, started).await;
        started = Instant::now();
        match result {
            Ok(record) => records.extend(record),
            Err(e) if total == 1 || matches!(e, Error::Interrupted { .. }) => {
                outcome = Err(e);
                break;
            }
            Err(e) => {
                if args.tuning.json {
                    let journal = JournalDir::load_path(path).ok();
                    let file = journal.as_ref().map(|j| j.source.path.as_path());
                    records.push(output::summary::json_failure(&stem(path), file, &e));
                } else {
                    output::error_line(&e);
                }
                failed += 1;
            }
        }
    }
    if args.tuning.json && (several || outcome.is_ok()) {
        output::summary::json_document(records, several);
    }
    outcome?;
    if failed > 0 {
        return Err(output::resume::some_failed(failed, total));
    }
    Ok(())
}

/// How one journal is resumed: by `resume`, or by `put` when it finds its
/// own unfinished upload.
pub(super) struct Resume<'a> {
    /// The `--via` backend's token, if the upload goes through one.
    pub token: &'a TokenArgs,
    pub tuning: &'a Tuning,
    /// Re-read the parts the journal names and compare them with the file
    /// (false: `--no-verify`).
    pub verify: bool,
    /// `--sse-c-key`: an SSE-C upload's key, which the journal does not keep.
    pub sse_c_key: Option<&'a Path>,
}

/// Resumes the upload whose journal is at `path`: locks it, checks the
/// source, reconciles with the store, sends what is missing and completes.
/// Returns the `--json` record, when asked for.
pub(super) async fn resume_journal(
    global: &GlobalArgs,
    how: &Resume<'_>,
    dir: &JournalDir,
    path: &Path,
    cancel: &Cancel,
    started: Instant,
) -> Result<Option<Record>> {
    let tuning = how.tuning;
    let quiet = tuning.quiet || tuning.json;
    let journal = JournalDir::load_path(path)?;
    if journal.stream.is_some() {
        return super::stream::resume_stream(global, tuning, how.token, dir, path, cancel, started)
            .await;
    }
    let id = journal.id.clone();
    let lock = dir.lock(&id)?;
    // Another run may have finished or changed it while we waited for nothing.
    let journal =
        JournalDir::load_path(path).map_err(|_| output::resume::finished_meanwhile(&id))?;
    let dest = journal.location();
    let (file, now) = open_source(&journal.source.path)
        .map_err(|e| output::resume::source_missing(&e, &id, &dest))?;
    let mut journal = journal;
    if reconcile::check_source(&journal, &now).map_err(output::failure::engine_error)?
        == SourceState::Touched
    {
        // Size and mtime no longer vouch for the parts: only their hashes can.
        if !how.verify {
            return Err(output::resume::touched_no_verify(&journal));
        }
        if !quiet {
            output::resume::touched(&journal);
        }
        // Saved by the reconciliation, which then trusts no part unverified.
        journal.source = now.clone();
    }
    let plan = Plan::new(now.size, journal.part_size)
        .ok()
        .filter(|p| p.part_size == journal.part_size && p.part_count == journal.part_count)
        .ok_or_else(|| output::resume::bad_plan(path, now.size, &id))?;
    let (store, used) = connect(
        &connection_for(global, &journal),
        tuning.stall_timeout,
        how.token,
    )
    .await?;
    let store = super::object::for_resume(store, &id, &journal.object.extras, how.sse_c_key)?;
    let store = Arc::new(store.limited(tuning.rate_limit()));
    let recorded = journal.connection.endpoint_url.as_deref();
    let at_recorded_endpoint = used.endpoint_url.as_deref() == recorded;
    if !at_recorded_endpoint {
        output::resume::other_endpoint(&id, used.endpoint_url.as_deref(), recorded);
    }
    let progress = progress(tuning, started);
    let policy = retry_policy(&store, &journal.bucket, tuning, &progress);
    let reconciled = reconcile::reconcile(
        &*store,
        dir,
        journal,
        &plan,
        how.verify,
        &policy,
        cancel,
        at_recorded_endpoint,
    )
    .await
    .map_err(output::failure::engine_error)?;
    let (journal, todo, candidates) = match reconciled {
        Reconciled::AlreadyCompleted(info) => {
            let etag = info.etag.as_deref();
            if tuning.json {
                let file = &now.path;
                return Ok(Some(output::summary::json_already_completed(
                    &id, file, &dest, etag,
                )));
            }
            if !tuning.quiet {
                output::resume::already_completed(&id, &dest, etag);
            }
            return Ok(None);
        }
        Reconciled::Ready {
            journal,
            todo,
            candidates,
        } => (*journal, todo, candidates),
    };
    if !quiet {
        output::resume::resuming(&output::resume::Resuming {
            id: &id,
            dest: &dest,
            at: &output::endpoint(&used),
            on_store: journal.parts.len() + candidates.len(),
            part_count: plan.part_count,
            sending: todo.len(),
            checking: candidates.len(),
        });
    }
    let sending = Sending {
        store,
        dir: dir.clone(),
        file,
        plan,
        tuning,
        progress,
        retry: policy,
        cancel: cancel.clone(),
        started,
        at_recorded_endpoint,
    };
    run_and_report(sending, journal, lock, todo, candidates).await
}
