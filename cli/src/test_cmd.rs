//! `helm test RELEASE` (Helm v4 pkg/cmd/release_testing.go): runs the release's test hooks
//! and prints the status block with its TEST SUITE lines, then the test pods' logs when asked.

use clap::{ArgAction, Args};
use rudder_release::action::{self, TestOptions};

use crate::release::{connect, no_color, parse_duration, status_table, GlobalArgs};

#[derive(Args, Debug, Clone)]
pub struct TestArgs {
    pub release: String,
    #[arg(long = "timeout", default_value = "5m0s")]
    pub timeout: String,
    #[arg(long = "logs", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub logs: bool,
    #[arg(long = "filter", action = ArgAction::Append, value_delimiter = ',')]
    pub filter: Vec<String>,
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Helm's filter words: `name=X` includes, `!name=X` (or `! name=X`) excludes, others are
/// ignored.
fn filters(items: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut include, mut exclude) = (Vec::new(), Vec::new());
    for f in items {
        if let Some(v) = f.strip_prefix("name=") {
            include.push(v.to_string());
        } else if let Some(rest) = f.strip_prefix('!') {
            let rest = rest
                .strip_prefix(|c: char| c.is_whitespace())
                .unwrap_or(rest);
            if let Some(v) = rest.strip_prefix("name=") {
                exclude.push(v.to_string());
            }
        }
    }
    (include, exclude)
}

pub async fn run(a: &TestArgs) -> crate::release::Outcome {
    let e = |m: String| (String::new(), m);
    let timeout = parse_duration(&a.timeout).map_err(|m| {
        e(format!(
            "invalid argument {:?} for \"--timeout\" flag: {m}",
            a.timeout
        ))
    })?;
    let (include, exclude) = filters(&a.filter);
    let opts = TestOptions {
        timeout,
        include,
        exclude,
    };
    let cfg = connect(&a.global).await.map_err(e)?;
    let run = action::run_tests(&cfg, &a.release, &opts).await;
    let Some(rel) = run.release.clone() else {
        return Err(e(run.error.unwrap_or_default()));
    };
    let mut out = status_table(&rel, a.global.debug, true, no_color(&a.global));
    let mut error = run.error.clone();
    if a.logs {
        out.push('\n');
        let (logs, errs) = action::test::pod_logs(&cfg.kube.client, &rel, &opts).await;
        out.push_str(&logs);
        if !errs.is_empty() {
            // Go's errors.Join(runErr, err): one message per line.
            let mut all: Vec<String> = error.take().into_iter().collect();
            all.extend(errs);
            error = Some(all.join("\n"));
        }
    }
    // Helm's deferred shutdown: the hooks' end-of-run deletions come after the logs; their
    // error is reported only when nothing failed before.
    let cleaned = action::test::cleanup(&cfg, &run, timeout).await;
    match (error, cleaned) {
        (Some(m), _) | (None, Err(m)) => Err((out, m)),
        (None, Ok(())) => Ok(out),
    }
}
