//! The words for what a run is doing beyond moving bytes (the engine's
//! [`Status`]): the state's name in `--progress json`, the message on the
//! bar's line and in the samples, and the one line a change of state prints
//! when no bar is drawn (`--no-progress`, or stderr not a terminal).
//!
//! Pure functions of the status and the moment, so they are tested without a
//! clock; `crate::progress` calls them at each draw, which is how "next try in
//! 8 s" counts down.
//!
//! The time of day is UTC, said so: the crates already built here give the
//! local offset either not at all (`chrono` without its `clock` feature) or
//! never in a multithreaded process (`time`), and enabling `chrono`'s would
//! rebuild the whole AWS SDK above it for one display field.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::engine::Status;
use crate::units::clock;

/// The state's name, as `--progress json` gives it in `state`.
pub fn name(status: &Status) -> &'static str {
    match status {
        Status::Sending => "sending",
        Status::Retrying { .. } => "retrying",
        Status::Stalled { .. } => "stalled",
        Status::Offline { .. } => "offline",
        Status::Woke { .. } => "woke",
        Status::Resending { .. } => "resending",
    }
}

/// True in the states where nothing is known to move, so no ETA is shown.
pub fn halted(status: &Status) -> bool {
    matches!(
        status,
        Status::Stalled { .. } | Status::Offline { .. } | Status::Woke { .. }
    )
}

/// What a state says, in pieces, so that a narrow line can leave out the
/// detail (the endpoint and the error) and keep the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct Said {
    head: String,
    detail: String,
    tail: String,
}

impl Said {
    /// The whole message: `--progress json`'s `message`, a log line.
    pub fn full(&self) -> String {
        format!("{}{}{}", self.head, self.detail, self.tail)
    }

    /// Without the detail, for a bar's line with no room for it.
    pub fn short(&self) -> String {
        format!("{}{}", self.head, self.tail)
    }
}

/// What `status` says at `now` (a countdown counts to its deadline from
/// `now`); `None` while sending.
pub fn said(status: &Status, now: Instant) -> Option<Said> {
    let said = |head: String, detail: String, tail: String| Some(Said { head, detail, tail });
    match status {
        Status::Sending => None,
        Status::Retrying {
            part,
            op,
            attempt,
            attempts,
            error,
            ..
        } => said(
            format!(
                "retrying {} (attempt {attempt} of {attempts})",
                what(*part, op)
            ),
            colon(error),
            String::new(),
        ),
        Status::Stalled { part, idle } => said(
            format!(
                "stalled: {} has sent nothing for {}",
                what(*part, "a request"),
                seconds(idle.as_secs())
            ),
            String::new(),
            ", checking the network".into(),
        ),
        Status::Offline {
            since,
            endpoint,
            error,
            next_probe,
        } => {
            let wait = next_probe.saturating_duration_since(now);
            let next = match wait.as_millis().div_ceil(1000) as u64 {
                0 => "; trying again now".to_string(),
                s => format!("; next try in {}", seconds(s)),
            };
            let why = if error.is_empty() {
                String::new()
            } else {
                format!(" ({error})")
            };
            said(
                format!("waiting for the network since {}", time_of_day(*since)),
                format!(": no answer from {endpoint}{why}"),
                next,
            )
        }
        Status::Woke { gap } => said(
            format!("resumed after {} asleep", seconds(gap.as_secs())),
            String::new(),
            ": sending the parts in flight again".into(),
        ),
        Status::Resending { parts, error } => said(
            "Complete refused a part the store lists as uploaded".into(),
            format!(" ({error})"),
            format!(
                ": a late, unfinished attempt at it may shadow it; sending the {parts} parts again"
            ),
        ),
    }
}

/// The error a status carries, as `--progress json`'s `last_error` keeps it.
pub fn error(status: &Status) -> Option<String> {
    match status {
        Status::Retrying { error, .. }
        | Status::Offline { error, .. }
        | Status::Resending { error, .. }
            if !error.is_empty() =>
        {
            Some(error.clone())
        }
        Status::Stalled { .. } => said(status, Instant::now()).map(|s| s.head),
        _ => None,
    }
}

/// The line (without `s3up: `) that a change from `was` to `is` prints when
/// no bar is drawn, at `now` (`wall`: the wall clock then); `None` when
/// nothing is worth a line. A state repeated is no change: an outage's
/// probes (a new `next_probe` each) print one line, when it begins.
pub fn change(was: &Status, is: &Status, now: Instant, wall: SystemTime) -> Option<String> {
    match (was, is) {
        (Status::Offline { .. }, Status::Offline { .. }) => None,
        _ if was == is => None,
        (Status::Offline { since, .. }, Status::Sending) => {
            let gone = wall.duration_since(*since).unwrap_or(Duration::ZERO);
            Some(format!(
                "sending again after {} offline",
                seconds(gone.as_secs())
            ))
        }
        (Status::Stalled { .. }, Status::Sending) => Some("sending again".into()),
        // A retry that worked, or a wake whose line said what comes next.
        (_, Status::Sending) => None,
        _ => said(is, now).map(|s| s.full()),
    }
}

/// Prints a [`change`] line on stderr.
pub fn print_change(text: &str) {
    eprintln!("s3up: {text}");
}

/// "part 7", or what the call was when not a part's.
fn what(part: Option<u32>, otherwise: &str) -> String {
    part.map_or_else(|| otherwise.to_string(), |n| format!("part {n}"))
}

/// ": ERROR", or nothing for no error.
fn colon(error: &str) -> String {
    if error.is_empty() {
        String::new()
    } else {
        format!(": {error}")
    }
}

/// "8 s" under a minute (as the summary says seconds), then "1m02s".
fn seconds(secs: u64) -> String {
    if secs < 60 {
        format!("{secs} s")
    } else {
        clock(secs)
    }
}

/// "12:03:10 UTC" (see the module docs for why UTC).
fn time_of_day(t: SystemTime) -> String {
    let s = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) % 86_400;
    format!("{:02}:{:02}:{:02} UTC", s / 3600, s % 3600 / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline(now: Instant, wait: Duration) -> Status {
        Status::Offline {
            // 2026-12-03 12:03:10 UTC
            since: UNIX_EPOCH + Duration::from_secs(1_796_299_390),
            endpoint: "http://127.0.0.1:9000".into(),
            error: "connection refused".into(),
            next_probe: now + wait,
        }
    }

    fn retrying(part: Option<u32>, attempt: u32) -> Status {
        Status::Retrying {
            part,
            op: "CompleteMultipartUpload",
            attempt,
            attempts: 6,
            error: "503 SlowDown".into(),
            wait: Duration::from_millis(400),
        }
    }

    #[test]
    fn each_state_says_what_is_happening() {
        let now = Instant::now();
        let text = |s: &Status| said(s, now).map(|s| s.full());
        assert_eq!(text(&Status::Sending), None);
        assert_eq!(
            text(&offline(now, Duration::from_millis(7200))).unwrap(),
            "waiting for the network since 12:03:10 UTC: no answer from \
             http://127.0.0.1:9000 (connection refused); next try in 8 s"
        );
        assert_eq!(
            said(&offline(now, Duration::from_secs(90)), now)
                .unwrap()
                .short(),
            "waiting for the network since 12:03:10 UTC; next try in 1m30s"
        );
        assert!(text(&offline(now, Duration::ZERO))
            .unwrap()
            .ends_with("(connection refused); trying again now"));
        assert_eq!(
            text(&retrying(Some(7), 2)).unwrap(),
            "retrying part 7 (attempt 2 of 6): 503 SlowDown"
        );
        assert_eq!(
            text(&retrying(None, 3)).unwrap(),
            "retrying CompleteMultipartUpload (attempt 3 of 6): 503 SlowDown"
        );
        let stalled = Status::Stalled {
            part: Some(19),
            idle: Duration::from_secs(30),
        };
        assert_eq!(
            text(&stalled).unwrap(),
            "stalled: part 19 has sent nothing for 30 s, checking the network"
        );
        assert_eq!(
            text(&Status::Woke {
                gap: Duration::from_secs(60)
            })
            .unwrap(),
            "resumed after 1m00s asleep: sending the parts in flight again"
        );
        let resending = Status::Resending {
            parts: 3,
            error: "InvalidPart".into(),
        };
        assert_eq!(
            text(&resending).unwrap(),
            "Complete refused a part the store lists as uploaded (InvalidPart): \
             a late, unfinished attempt at it may shadow it; sending the 3 parts again"
        );
        assert_eq!(error(&resending).as_deref(), Some("InvalidPart"));
        let names: Vec<_> = [
            Status::Sending,
            retrying(Some(1), 2),
            stalled,
            offline(now, Duration::ZERO),
            Status::Woke {
                gap: Duration::ZERO,
            },
            resending,
        ]
        .iter()
        .map(name)
        .collect();
        assert_eq!(
            names,
            [
                "sending",
                "retrying",
                "stalled",
                "offline",
                "woke",
                "resending"
            ]
        );
    }

    #[test]
    fn a_line_for_each_change_and_none_for_a_probe() {
        let now = Instant::now();
        let wall = UNIX_EPOCH + Duration::from_secs(1_796_299_390 + 62);
        let first = offline(now, Duration::from_secs(2));
        let probe = offline(now, Duration::from_secs(4));
        let change = |was: &Status, is: &Status| change(was, is, now, wall);
        assert!(change(&Status::Sending, &first)
            .unwrap()
            .starts_with("waiting for the network since 12:03:10 UTC: no answer"));
        assert_eq!(change(&first, &probe), None, "a probe is no change");
        assert_eq!(
            change(&probe, &Status::Sending).unwrap(),
            "sending again after 1m02s offline"
        );
        assert_eq!(change(&Status::Sending, &Status::Sending), None);
        // Each retry is a line; the retry that works is not.
        let (r2, r3) = (retrying(Some(7), 2), retrying(Some(7), 3));
        assert!(change(&Status::Sending, &r2).is_some());
        assert!(change(&r2, &r3).is_some());
        assert_eq!(change(&r3, &r3), None);
        assert_eq!(change(&r3, &Status::Sending), None);
        let stalled = Status::Stalled {
            part: None,
            idle: Duration::from_secs(30),
        };
        assert_eq!(
            change(&Status::Sending, &stalled).unwrap(),
            "stalled: a request has sent nothing for 30 s, checking the network"
        );
        assert_eq!(change(&stalled, &Status::Sending).unwrap(), "sending again");
        let woke = Status::Woke {
            gap: Duration::from_secs(3700),
        };
        assert_eq!(
            change(&first, &woke).unwrap(),
            "resumed after 1h01m asleep: sending the parts in flight again"
        );
        assert_eq!(change(&woke, &Status::Sending), None);
    }

    #[test]
    fn the_errors_kept_are_the_ones_the_states_carry() {
        let now = Instant::now();
        assert_eq!(
            error(&offline(now, Duration::ZERO)).as_deref(),
            Some("connection refused")
        );
        assert_eq!(
            error(&retrying(Some(7), 2)).as_deref(),
            Some("503 SlowDown")
        );
        let stalled = Status::Stalled {
            part: Some(19),
            idle: Duration::from_secs(30),
        };
        assert_eq!(
            error(&stalled).as_deref(),
            Some("stalled: part 19 has sent nothing for 30 s")
        );
        assert_eq!(error(&Status::Sending), None);
        assert_eq!(
            error(&Status::Woke {
                gap: Duration::ZERO
            }),
            None
        );
    }
}
