//! `s3up put FILE s3://BUCKET/KEY`, and the start of `put SRC…
//! s3://BUCKET/PREFIX/` and `sync`: which of the two the operands ask for
//! (trees are [`super::tree`]'s).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::context::{
    connect, connect_via, connection, journal_dir, object_options, on_ctrl_c, open_source,
    progress, report_single, restart, retry_policy,
};
use super::resume::{resume_journal, Resume};
use super::{run_and_report, Sending};
use crate::cli::{GlobalArgs, ObjectArgs, PutArgs, SyncArgs};
use crate::engine::reconcile;
use crate::engine::session::{self, NewUpload};
use crate::engine::single;
use crate::error::{Error, Result};
use crate::journal::session::Compare;
use crate::journal::{Journal, JournalDir, Source};
use crate::output;
use crate::plan::{Plan, DEFAULT_PART_SIZE};
use crate::s3::{Location, Target};
use crate::store::Connection;

pub(super) async fn put(global: &GlobalArgs, args: PutArgs) -> Result<()> {
    put_or_sync(global, args, None).await
}

pub(super) async fn sync(global: &GlobalArgs, args: SyncArgs) -> Result<()> {
    let compare = if args.checksum {
        Compare::Checksum
    } else if args.size_only {
        Compare::Size
    } else {
        Compare::SizeAndTime
    };
    put_or_sync(global, args.put, Some(compare)).await
}

/// One file, or a tree (several sources, a directory, or `sync`).
async fn put_or_sync(global: &GlobalArgs, args: PutArgs, sync: Option<Compare>) -> Result<()> {
    let started = Instant::now();
    // From the first moment: a Ctrl-C while Create is in flight, or between
    // Create and the journal's first save, must not leave an upload unrecorded.
    let cancel = on_ctrl_c();
    check_metadata(&args.object)?;
    super::context::checksum_choice(&args.object.checksum)?;
    let (sources, target) = operands(&args)?;
    let dest = destination(target.as_ref(), &args)?;
    if sources.iter().any(|p| super::stream::is_stream(p)) {
        if sources.len() > 1 || sync.is_some() {
            return Err(output::stream::alone());
        }
        return super::stream::put_stream(global, &args, &sources[0], dest, cancel, started).await;
    }
    let is_dir = |p: &PathBuf| std::fs::metadata(p).is_ok_and(|m| m.is_dir());
    let why = if sources.len() > 1 {
        Some(format!("{} sources were given", sources.len()))
    } else if is_dir(&sources[0]) {
        Some(format!("'{}' is a directory", sources[0].display()))
    } else if sync.is_some() {
        Some("sync uploads under a prefix".to_string())
    } else {
        None
    };
    if let Some(why) = why {
        if !dest.key.is_empty() && !dest.key.ends_with('/') {
            let shown = match &args.via {
                Some(_) => dest.key.clone(),
                None => dest.to_string(),
            };
            return Err(output::tree::needs_prefix(&shown, &why));
        }
        let tree = super::tree::TreePut {
            args: &args,
            sources,
            dest,
            sync,
            cancel,
            started,
        };
        return super::tree::put_tree(global, tree).await;
    }
    let file_arg = sources[0].clone();
    put_file(global, &args, &file_arg, dest, cancel, started).await
}

/// The operands: the sources, and the destination (last; with --via
/// optional, and only the last of two or more that is no local path).
fn operands(args: &PutArgs) -> Result<(Vec<PathBuf>, Option<Target>)> {
    let mut paths = args.paths.clone();
    let last_is_dest = match &args.via {
        Some(_) => paths.len() >= 2 && paths.last().is_some_and(|p| !p.exists()),
        None => true,
    };
    if !last_is_dest {
        return Ok((paths, None));
    }
    let last = paths.pop().unwrap_or_default();
    if paths.is_empty() {
        return Err(output::tree::no_destination());
    }
    let text = last.to_string_lossy();
    let target = Target::parse(&text).map_err(Error::Usage)?;
    Ok((paths, Some(target)))
}

/// One file: to KEY, or under PREFIX/ by its name.
async fn put_file(
    global: &GlobalArgs,
    args: &PutArgs,
    file_arg: &Path,
    mut dest: Location,
    cancel: crate::engine::Cancel,
    started: Instant,
) -> Result<()> {
    let (file, source) = open_source(file_arg)?;
    // With --via and no KEY, the backend chooses the key from the file name.
    let own_key = !dest.key.is_empty();
    if dest.key.is_empty() || dest.key.ends_with('/') {
        let name = file_arg
            .file_name()
            .ok_or_else(|| output::failure::no_file_name(file_arg))?;
        dest.key.push_str(&name.to_string_lossy());
    }
    let plan = Plan::new(source.size, args.part_size.unwrap_or(DEFAULT_PART_SIZE))
        .map_err(|e| output::failure::cannot_plan(file_arg, &e))?;
    let tuning = &args.tuning;
    if let (Some(from), false) = (plan.raised_from, tuning.quiet || tuning.json) {
        output::put::part_size_raised(source.size, from, &plan);
    }
    let mut opts = object_options(&args.object, file_arg);
    let request;
    (opts.extras, request) = super::object::extras(args)?;
    let (store, used) = match &args.via {
        Some(backend) => connect_via(
            backend,
            &args.token,
            tuning.stall_timeout,
            own_key,
            global.no_verify_ssl,
        )?,
        None => connect(&connection(global), tuning.stall_timeout, &args.token).await?,
    };
    let store = store.with_request_options(&request);
    let store = Arc::new(store.limited(tuning.rate_limit()));
    let dir = journal_dir(global)?;
    warn_if_running(&dir, &dest, &used).await;
    let progress = progress(tuning, started);
    let policy = retry_policy(&store, &dest.bucket, tuning, &progress);

    if opts.if_none_match {
        session::check_absent(&*store, &dest, &policy)
            .await
            .map_err(output::failure::engine_error)?;
    }
    crate::engine::checksum::check_supported(&*store, &dest, &opts.checksum)
        .await
        .map_err(output::failure::engine_error)?;

    // Through a backend a small file goes up as one part of a multipart
    // upload, with a journal and its SHA-256 signed, like any other; only an
    // empty file, which stores refuse as a part, goes up in one request.
    if plan.is_single() && (args.via.is_none() || source.size == 0) {
        let whole = plan.part(1).expect("a plan has at least one part");
        let finished = single::put_single(
            &*store,
            &file.clone().into(),
            file_arg,
            whole,
            &dest,
            &opts,
            &policy,
            &progress,
        )
        .await
        .map_err(output::failure::engine_error)?;
        report_single(tuning, &source.path, &dest, source.size, &finished, started);
        return Ok(());
    }

    dir.create()
        .map_err(|e| output::failure::journal_dir_create(dir.path(), &e))?;

    // The same command run again after an interruption resumes the upload it
    // started, instead of starting a second one (and leaving the first open).
    let earlier = unfinished(&dir, &source, &dest, &used, own_key).await;
    if args.restart {
        for (path, journal) in &earlier {
            restart(&store, &dir, path, journal, &dest).await?;
        }
    } else {
        match earlier.as_slice() {
            [] => {}
            [(path, journal)] => {
                if !tuning.quiet && !tuning.json {
                    output::put::resuming_earlier(&journal.id, file_arg);
                }
                // A new mtime alone is settled by the resume, which verifies
                // every part it reuses; a new size cannot be resumed.
                if reconcile::check_source(journal, &source).is_err() {
                    return Err(output::put::changed_use_restart(journal, file_arg));
                }
                let how = Resume {
                    token: &args.token,
                    tuning,
                    verify: true,
                    sse_c_key: args.object.extra.sse_c_key.as_deref(),
                };
                let record = resume_journal(global, &how, &dir, path, &cancel, started).await?;
                output::summary::json_document(record.into_iter().collect(), false);
                return Ok(());
            }
            several => {
                let ids: Vec<&str> = several.iter().map(|(_, j)| j.id.as_str()).collect();
                return Err(output::put::several_earlier(file_arg, &dest, &ids));
            }
        }
    }

    let dest_for_messages = dest.clone();
    let new = NewUpload {
        dest,
        object: opts,
        connection: used,
        source,
        plan,
        session: None,
    };
    let started_upload = session::start(&*store, &dir, new, &policy, &cancel)
        .await
        .map_err(output::failure::engine_error)?;
    if let Some(text) = output::failure::swept(&dest_for_messages, &started_upload.sweep) {
        output::warning(&text);
    }
    let todo = plan.parts().collect();
    let sending = Sending {
        store,
        dir,
        file,
        plan,
        tuning,
        progress,
        retry: policy,
        cancel,
        started,
        at_recorded_endpoint: true,
    };
    let record = run_and_report(
        sending,
        started_upload.journal,
        started_upload.lock,
        todo,
        Vec::new(),
    )
    .await?;
    output::summary::json_document(record.into_iter().collect(), false);
    Ok(())
}

/// Refuses one metadata name given twice: parse_metadata folds names to
/// lower case, as S3 does.
fn check_metadata(args: &ObjectArgs) -> Result<()> {
    for (i, (name, value)) in args.metadata.iter().enumerate() {
        if let Some((_, first)) = args.metadata[..i].iter().find(|(n, _)| n == name) {
            return Err(output::put::metadata_clash(name, first, value));
        }
    }
    Ok(())
}

/// Warns when a running s3up (one that holds its journal's lock) uploads to
/// the same destination at the same endpoint: both would complete, and the
/// last one would silently replace the other's object.
async fn warn_if_running(dir: &JournalDir, dest: &Location, used: &Connection) {
    let journals = dir.list_async().await;
    let running: Vec<&Journal> = journals
        .iter()
        .filter_map(|(_, j)| j.as_ref().ok())
        .filter(|j| {
            j.bucket == dest.bucket
                && j.key == dest.key
                && j.connection.endpoint_url == used.endpoint_url
                && dir.is_locked(&j.id)
        })
        .collect();
    if !running.is_empty() {
        output::put::same_destination(dest, &running);
    }
}

/// Unfinished journals of this file (by its absolute path) to this
/// destination, at the endpoint (or through the backend) this run uses. A
/// backend that chose the key chose it for the file, so then the key is not
/// compared (`own_key` false).
async fn unfinished(
    dir: &JournalDir,
    source: &Source,
    dest: &Location,
    used: &Connection,
    own_key: bool,
) -> Vec<(PathBuf, Journal)> {
    dir.list_async()
        .await
        .into_iter()
        .filter_map(|(path, j)| j.ok().map(|j| (path, j)))
        .filter(|(_, j)| {
            let same_place = match &used.via {
                Some(_) => !own_key || j.asked_for(&dest.key),
                None => j.bucket == dest.bucket && j.key == dest.key,
            };
            j.source.path == source.path
                && same_place
                && j.connection.endpoint_url == used.endpoint_url
                && j.connection.via == used.via
        })
        .collect()
}

/// Where `put` sends the file: `s3://BUCKET/KEY`, or with --via the KEY
/// asked for (empty: the backend chooses).
fn destination(target: Option<&Target>, args: &PutArgs) -> Result<Location> {
    match (target, &args.via) {
        (Some(Target::S3(url)), None) => Ok(url.clone()),
        (Some(Target::S3(url)), Some(_)) => Err(output::put::s3_url_with_via(url)),
        (Some(Target::Key(key)), Some(_)) => Ok(Location {
            bucket: String::new(),
            key: key.clone(),
        }),
        (None, Some(_)) => Ok(Location {
            bucket: String::new(),
            key: String::new(),
        }),
        (Some(Target::Key(s)), None) => Err(output::put::not_an_s3_url(
            Location::parse(s).err().unwrap_or_default(),
        )),
        (None, None) => Err(output::put::not_an_s3_url(
            "no destination was given: write it as s3://BUCKET/KEY".to_string(),
        )),
    }
}
