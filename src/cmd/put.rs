//! `s3up put FILE s3://BUCKET/KEY`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use super::{connect, connection, journal_dir, on_ctrl_c, open_source, progress, run_and_report};
use super::{style, Sending};
use crate::cli::{GlobalArgs, ObjectArgs, PutArgs};
use crate::engine::session::{self, NewUpload};
use crate::engine::{single, Dest};
use crate::error::Result;
use crate::output::{self, Summary};
use crate::plan::{Plan, DEFAULT_PART_SIZE};
use crate::store::ObjectOptions;

fn object_options(args: &ObjectArgs, file: &Path) -> ObjectOptions {
    let guessed = || mime_guess::from_path(file).first_raw().map(str::to_string);
    ObjectOptions {
        content_type: args.content_type.clone().or_else(guessed),
        storage_class: args.storage_class.clone(),
        metadata: args.metadata.clone(),
        if_none_match: args.if_none_match,
    }
}

pub(super) async fn put(global: &GlobalArgs, args: PutArgs) -> Result<()> {
    let started = Instant::now();
    let (file, source) = open_source(&args.file)?;
    let mut dest = Dest::from(&args.dest);
    if dest.key.is_empty() || dest.key.ends_with('/') {
        let name = args
            .file
            .file_name()
            .ok_or_else(|| output::no_file_name(&args.file))?;
        dest.key.push_str(&name.to_string_lossy());
    }
    let plan = Plan::new(source.size, args.part_size.unwrap_or(DEFAULT_PART_SIZE))
        .map_err(|e| output::cannot_plan(&args.file, &e))?;
    let tuning = &args.tuning;
    if let (Some(from), false) = (plan.raised_from, tuning.quiet || tuning.json) {
        output::part_size_raised(source.size, from, &plan);
    }
    let opts = object_options(&args.object, &args.file);
    let (store, used) = connect(&connection(global), tuning.stall_timeout).await?;
    let store = Arc::new(store);

    if opts.if_none_match {
        session::check_absent(&*store, &dest, tuning.retries)
            .await
            .map_err(output::engine_error)?;
    }

    if plan.is_single() {
        let whole = plan.part(1).expect("a plan has at least one part");
        let finished = single::put_single(
            &*store,
            &file,
            &args.file,
            whole,
            &dest,
            &opts,
            tuning.retries,
            &progress(tuning, started),
        )
        .await
        .map_err(output::engine_error)?;
        output::report(
            style(tuning),
            &Summary {
                dest: &dest,
                size: source.size,
                sent: source.size,
                parts: 1,
                upload_id: None,
                finished: &finished,
                started,
            },
        );
        return Ok(());
    }

    let dir = journal_dir(global)?;
    dir.create()
        .map_err(|e| output::journal_dir_create(dir.path(), &e))?;
    let new = NewUpload {
        dest,
        object: opts,
        connection: used,
        source,
        plan,
    };
    let (journal, lock) = session::start(&*store, &dir, new, tuning.retries)
        .await
        .map_err(output::engine_error)?;
    let todo = plan.parts().collect();
    let sending = Sending {
        store,
        dir,
        file,
        plan,
        tuning,
        cancel: on_ctrl_c(),
        started,
    };
    run_and_report(sending, journal, lock, todo, Vec::new()).await
}
