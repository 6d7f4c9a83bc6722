//! `list-pending`: the table of local journals and the table of the uploads
//! a store holds, or the same as `--json` arrays.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{destination, warning};
use crate::s3::Location;

use crate::journal::{Journal, JournalError, Session};
use crate::store::{ListedPart, ListedUpload};
use crate::units;

/// One local journal in `list-pending --json`: what it holds, or why it
/// could not be read.
#[derive(Serialize)]
#[serde(untagged)]
enum LocalRecord<'a> {
    Journal {
        id: &'a str,
        file: String,
        destination: String,
        backend: Option<&'a str>,
        upload_id: &'a str,
        parts_done: usize,
        parts_total: u64,
        bytes_done: u64,
        bytes_total: u64,
        updated_unix: u64,
        running: bool,
        /// Standard input: its parts and bytes in all are not known (0), and
        /// `resume ID` needs the same stream piped in.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        stream: bool,
    },
    Tree {
        id: &'a str,
        kind: &'static str,
        sources: Vec<String>,
        destination: String,
        backend: Option<&'a str>,
        files_done: usize,
        files_total: u64,
        bytes_done: u64,
        bytes_total: u64,
        updated_unix: u64,
        running: bool,
    },
    Damaged {
        journal: String,
        error: String,
    },
}

/// One upload a store holds, in `list-pending --remote --json`.
#[derive(Serialize)]
struct RemoteRecord<'a> {
    bucket: &'a str,
    key: &'a str,
    upload_id: &'a str,
    initiated_unix: Option<u64>,
    parts: Option<usize>,
    bytes: Option<u64>,
    journal: Option<&'a str>,
    file: Option<String>,
}

/// A JSON array on stdout.
fn print_json<T: Serialize>(rows: &[T]) {
    // Plain data of strings and numbers (paths made valid UTF-8 with
    // U+FFFD where they are not): serializing it cannot fail.
    if let Ok(text) = serde_json::to_string(rows) {
        println!("{text}");
    }
}

/// "42s", "5m", "3h", "2d": how long ago `unix` was.
pub(super) fn age(unix: u64) -> String {
    units::age(crate::units::now_unix().saturating_sub(unix))
}

/// One local journal, for `list-pending`: parsed (and whether a run holds
/// it), or the reason it could not be.
pub type LocalEntry<'a> = (&'a PathBuf, Result<(&'a Journal, bool), &'a JournalError>);

/// One tree session, for `list-pending`: parsed (whether a run holds it,
/// and the bytes its unfinished files hold), or why it could not be.
pub type TreeRow<'a> = (
    &'a PathBuf,
    Result<(&'a Session, bool, u64), &'a JournalError>,
);

pub fn local_pending(dir: &Path, entries: &[LocalEntry<'_>], trees: &[TreeRow<'_>], json: bool) {
    if json {
        let trees = trees.iter().map(|(path, s)| match s {
            Ok((s, running, partial)) => LocalRecord::Tree {
                id: &s.id,
                kind: "tree",
                sources: s
                    .sources
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect(),
                destination: s.location().to_string(),
                backend: s.connection.via.as_deref(),
                files_done: s.done.len(),
                files_total: s.files_total,
                bytes_done: s.bytes_done() + partial,
                bytes_total: s.bytes_total,
                updated_unix: s.updated_unix,
                running: *running,
            },
            Err(e) => LocalRecord::Damaged {
                journal: path.to_string_lossy().into_owned(),
                error: e.to_string(),
            },
        });
        let rows: Vec<LocalRecord<'_>> = entries
            .iter()
            .map(|(path, j)| match j {
                Ok((j, running)) => LocalRecord::Journal {
                    id: &j.id,
                    file: j.source.path.to_string_lossy().into_owned(),
                    destination: j.location().to_string(),
                    backend: j.connection.via.as_deref(),
                    upload_id: &j.upload_id,
                    parts_done: j.parts.len(),
                    parts_total: j.part_count,
                    bytes_done: j.bytes_done(),
                    bytes_total: j.source.size,
                    updated_unix: j.updated_unix,
                    running: *running,
                    stream: j.stream.is_some(),
                },
                Err(e) => LocalRecord::Damaged {
                    journal: path.to_string_lossy().into_owned(),
                    error: e.to_string(),
                },
            })
            .chain(trees)
            .collect();
        print_json(&rows);
        return;
    }
    for (_, j) in entries {
        if let Err(e) = j {
            warning(&e.to_string());
        }
    }
    for (_, s) in trees {
        if let Err(e) = s {
            warning(&e.to_string());
        }
    }
    let good: Vec<(&Journal, bool)> = entries.iter().filter_map(|(_, j)| j.ok()).collect();
    let good_trees: Vec<&(&Session, bool, u64)> =
        trees.iter().filter_map(|(_, s)| s.as_ref().ok()).collect();
    if good.is_empty() && good_trees.is_empty() {
        println!("no pending uploads (journals in '{}')", dir.display());
        return;
    }
    let mut rows =
        vec![["ID", "PARTS", "BYTES", "ACTIVE", "DESTINATION", "FILE"].map(String::from)];
    for (j, running) in good {
        let running = if running { " (running)" } else { "" };
        if j.stream.is_some() {
            rows.push([
                j.id.clone(),
                format!("{}/?", j.parts.len()),
                format!("{}/?", units::size(j.bytes_done())),
                format!("{} ago", age(j.updated_unix)),
                destination(j),
                super::stream::pending(j, running),
            ]);
            continue;
        }
        rows.push([
            j.id.clone(),
            format!("{}/{}", j.parts.len(), j.part_count),
            format!(
                "{}/{}",
                units::size(j.bytes_done()),
                units::size(j.source.size)
            ),
            format!("{} ago", age(j.updated_unix)),
            destination(j),
            format!("{}{running}", j.source.path.display()),
        ]);
    }
    for (s, running, partial) in good_trees {
        let running = if *running { " (running)" } else { "" };
        let destination = match &s.connection.via {
            Some(via) => format!("{} via {via}", s.prefix),
            None => s.location().to_string(),
        };
        rows.push([
            s.id.clone(),
            format!("files {}/{}", s.done.len(), s.files_total),
            format!(
                "{}/{}",
                units::size(s.bytes_done() + partial),
                units::size(s.bytes_total)
            ),
            format!("{} ago", age(s.updated_unix)),
            destination,
            format!("{} (tree){running}", s.sources_text()),
        ]);
    }
    for line in table(&rows, &[false, true, true, true, false, false]) {
        println!("{line}");
    }
}

/// Rows as lines of columns two spaces apart, each as wide as its widest
/// cell (right-aligned where `right` says), the last one unpadded: long keys
/// and paths push the columns along instead of breaking them.
pub fn table<const N: usize>(rows: &[[String; N]], right: &[bool; N]) -> Vec<String> {
    let mut widths = [0; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, cell)| match (i + 1 == N, right[i]) {
                    (true, _) => cell.clone(),
                    (false, true) => format!("{cell:>w$}", w = widths[i]),
                    (false, false) => format!("{cell:<w$}", w = widths[i]),
                })
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect()
}

/// One upload the store holds, for `list-pending --remote`: its parts (when
/// they could be listed) and the journal that owns it.
pub type RemoteRow<'a> = (
    &'a ListedUpload,
    Option<Vec<ListedPart>>,
    Option<&'a Journal>,
);

pub fn remote_pending(remote: &Location, rows: &[RemoteRow<'_>], json: bool) {
    if json {
        let v: Vec<RemoteRecord<'_>> = rows
            .iter()
            .map(|(u, parts, owner)| RemoteRecord {
                bucket: &remote.bucket,
                key: &u.key,
                upload_id: &u.upload_id,
                initiated_unix: u.initiated_unix,
                parts: parts.as_ref().map(Vec::len),
                bytes: parts
                    .as_ref()
                    .map(|p| p.iter().map(|p| p.size).sum::<u64>()),
                journal: owner.map(|j| j.id.as_str()),
                file: owner.map(|j| j.source.path.to_string_lossy().into_owned()),
            })
            .collect();
        print_json(&v);
        return;
    }
    if rows.is_empty() {
        println!("no in-progress uploads under {remote}");
        return;
    }
    let mut lines =
        vec![["AGE", "PARTS", "BYTES", "JOURNAL", "KEY", "UPLOAD ID"].map(String::from)];
    for (u, parts, owner) in rows {
        lines.push([
            u.initiated_unix.map_or("?".to_string(), age),
            parts
                .as_ref()
                .map_or("?".to_string(), |p| p.len().to_string()),
            parts.as_ref().map_or("?".to_string(), |p| {
                units::size(p.iter().map(|p| p.size).sum())
            }),
            owner.map_or("-".to_string(), |j| j.id.clone()),
            u.key.clone(),
            u.upload_id.clone(),
        ]);
    }
    for line in table(&lines, &[true, true, true, false, false, false]) {
        println!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 13, item 8: a long key pushed list-pending's columns apart.
    #[test]
    fn table_columns_follow_their_widest_cell() {
        let rows = [
            ["ID", "PARTS", "DESTINATION", "FILE"].map(String::from),
            [
                "a1",
                "1/13",
                "s3://b/a-very-long-key/that/goes/on/and/on.bin",
                "/x",
            ]
            .map(String::from),
            ["b2", "10/100", "s3://b/k", "/y (running)"].map(String::from),
        ];
        let lines = table(&rows, &[false, true, false, false]);
        assert_eq!(
            lines,
            [
                "ID   PARTS  DESTINATION                                     FILE",
                "a1    1/13  s3://b/a-very-long-key/that/goes/on/and/on.bin  /x",
                "b2  10/100  s3://b/k                                        /y (running)",
            ]
        );
    }
}
