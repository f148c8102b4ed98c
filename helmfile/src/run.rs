//! The execution engine behind `helmfile apply`, `sync` and `destroy`: a plan of releases run
//! along the `needs` graph, in-process, on tokio tasks.
//!
//! helmfile v1.8.0 cuts the DAG into depth groups and runs one group at a time, so one slow
//! release holds back every release of the next group. Here a release starts as soon as
//! everything it needs has succeeded, bounded only by `--concurrency` (0 = one worker per
//! release). Releases of different clusters (`kubeContext`) share nothing but the worker limit,
//! so a failure in one cluster leaves the others running unless [`FailureScope::Run`]
//! (`fail_fast`) is asked.
//!
//! The engine knows nothing about Helm: it calls an executor per release and records the
//! [`Outcome`] it returns. `apply`/`sync` pass an executor that installs or upgrades one release;
//! `destroy` runs the same plan with [`RunOptions::reverse`] so dependents go first.
//!
//! Wiring a command to it (the executor owns what it needs through `Arc`s):
//! ```text
//! let plan = Plan::new(nodes).map_err(|e| format!("in ./helmfile.yaml: {e}"))?;
//! let opts = RunOptions::new(concurrency, /*reverse*/ false, fail_fast);
//! let mut progress = report::Progress::auto(plan.nodes().len());
//! let ctx = Arc::new(ctx);
//! let rep = run::run(&plan, &opts, "sync", move |node: Node| {
//!     let ctx = ctx.clone();
//!     async move { ctx.sync_one(&node).await }          // -> Outcome
//! }, &mut |e| progress.event(&e)).await;
//! print!("{}", report::affected_releases(&rep, color)); // helmfile's own summary
//! eprint!("{}", report::summary(&rep, color));          // the deploy report table
//! report::emit(&rep, &report_opts).await?;              // --report-json/-prometheus/push
//! if !rep.success() { return Err(rep.errors().join("\n")) }
//! ```

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// One release of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// helmfile's release id (`ReleaseToID`): `[kubeContext/][namespace/]name`.
    pub id: String,
    pub name: String,
    pub namespace: String,
    /// The release's `kubeContext` ("" = the current context).
    pub cluster: String,
    /// Ids of the releases this one needs (already resolved as helmfile resolves `needs`).
    pub needs: Vec<String>,
    /// The release's `chart:` as written (helmfile's summary tables show it).
    pub chart: String,
}

impl Node {
    /// A node with helmfile's id for `(kubeContext, namespace, name)`.
    pub fn new(name: &str, namespace: &str, cluster: &str, needs: Vec<String>) -> Node {
        Node { id: release_id(cluster, namespace, name), name: name.into(), namespace: namespace.into(), cluster: cluster.into(), needs, chart: String::new() }
    }

    /// The same node with its `chart:` set.
    pub fn with_chart(mut self, chart: &str) -> Node {
        self.chart = chart.into();
        self
    }
}

/// helmfile's `ReleaseToID`: `kubeContext/namespace/name`, empty parts left out.
pub fn release_id(cluster: &str, namespace: &str, name: &str) -> String {
    let mut id = String::new();
    if !cluster.is_empty() {
        id.push_str(cluster);
        id.push('/');
    }
    if !namespace.is_empty() {
        id.push_str(namespace);
        id.push('/');
    }
    id.push_str(name);
    id
}

/// What was done to a release.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Install,
    Upgrade,
    /// Nothing changed (apply found no diff).
    Noop,
    Delete,
    Rollback,
    /// Nothing was attempted (the release was skipped before it started).
    None,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Install => "install",
            Action::Upgrade => "upgrade",
            Action::Noop => "noop",
            Action::Delete => "delete",
            Action::Rollback => "rollback",
            Action::None => "none",
        }
    }
}

/// How a release ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Ok,
    Failed,
    /// Not started: something it depends on failed, or the run stopped (fail-fast).
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

/// What the executor reports for one release.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub action: Action,
    pub result: Status,
    /// How long the release took. The engine fills it with the wall time of the executor's
    /// future when the executor leaves it zero.
    pub duration: Duration,
    /// Hooks (chart hooks or helmfile hooks) that failed while the release ran.
    pub hook_failures: u32,
    /// The release was rolled back (`atomic`, or `--rollback-on-failure`).
    pub rolled_back: bool,
    /// Error text for failures, reason for skips, free text otherwise.
    pub message: String,
    /// The chart version installed (helmfile's `installedVersion`, shown in its summary).
    pub chart_version: String,
}

impl Outcome {
    pub fn ok(action: Action) -> Outcome {
        Outcome { action, result: Status::Ok, duration: Duration::ZERO, hook_failures: 0, rolled_back: false, message: String::new(), chart_version: String::new() }
    }

    pub fn failed(action: Action, message: impl Into<String>) -> Outcome {
        Outcome { result: Status::Failed, message: message.into(), ..Outcome::ok(action) }
    }

    pub fn skipped(message: impl Into<String>) -> Outcome {
        Outcome { result: Status::Skipped, message: message.into(), ..Outcome::ok(Action::None) }
    }
}

/// How far a failure reaches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FailureScope {
    /// Only the releases that (transitively) need the failed one are skipped.
    Dependents,
    /// As helmfile, which runs the releases in groups (needs levels) and stops after a group in
    /// which one failed, but per cluster: the releases of the failed release's level (and lower
    /// ones) in its cluster still start, no release of a later level there does; other clusters
    /// go on. The default.
    #[default]
    Cluster,
    /// No further release starts anywhere (`fail_fast`).
    Run,
}

/// Options of one run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// `--concurrency`: releases running at once; 0 = one worker per release.
    pub concurrency: usize,
    /// Run dependents before what they need (destroy/delete).
    pub reverse: bool,
    pub failure_scope: FailureScope,
}

impl RunOptions {
    /// Options with `fail_fast` mapped onto [`FailureScope::Run`] (otherwise the default scope).
    pub fn new(concurrency: usize, reverse: bool, fail_fast: bool) -> RunOptions {
        RunOptions { concurrency, reverse, failure_scope: if fail_fast { FailureScope::Run } else { FailureScope::Cluster } }
    }
}

/// Errors building a plan, with helmfile's texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The dag library's `cycle detected: a -> b -> a`.
    #[error("cycle detected: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    /// helmfile's GroupReleasesByDependency text for a `needs` that names no release.
    #[error("release(s) {} depend(s) on an undefined release {undefined:?}. Perhaps you made a typo in \"needs\" or forgot defining a release named {:?} with appropriate \"namespace\" and \"kubeContext\"?", quoted(.dependents), .undefined.rsplit('/').next().unwrap_or_default())]
    Undefined { undefined: String, dependents: Vec<String> },
    #[error("release {0:?} is defined more than once in the plan")]
    Duplicate(String),
}

fn quoted(v: &[String]) -> String {
    v.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ")
}

/// A checked plan: ids unique, every need defined, no cycle.
#[derive(Clone, Debug)]
pub struct Plan {
    nodes: Vec<Node>,
    index: BTreeMap<String, usize>,
}

impl Plan {
    /// Checks the graph as helmfile's dag.Sort does: undefined needs first, then cycles.
    pub fn new(nodes: Vec<Node>) -> Result<Plan, PlanError> {
        let mut index = BTreeMap::new();
        for (i, n) in nodes.iter().enumerate() {
            if index.insert(n.id.clone(), i).is_some() {
                return Err(PlanError::Duplicate(n.id.clone()));
            }
        }
        // Undefined needs (the first undefined id in sorted order, for a stable message).
        let mut undefined: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for n in &nodes {
            for d in &n.needs {
                if !index.contains_key(d) {
                    undefined.entry(d.as_str()).or_default().push(n.id.clone());
                }
            }
        }
        if let Some((u, deps)) = undefined.into_iter().next() {
            return Err(PlanError::Undefined { undefined: u.to_string(), dependents: deps });
        }
        let plan = Plan { nodes, index };
        if let Some(c) = plan.find_cycle() {
            return Err(PlanError::Cycle(c));
        }
        Ok(plan)
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Kahn's algorithm as the dag library runs it; on leftover edges, the cycle path it
    /// reports: from the smallest id left on a cycle, following edges (need → needer) until an
    /// id repeats. (The library takes an arbitrary edge from a Go map, so where a node has two
    /// ways onward its message varies from run to run and can even wander off the cycle; here
    /// the smallest edge that stays on a cycle is taken, so the message is stable and always a
    /// cycle helmfile can print.)
    fn find_cycle(&self) -> Option<Vec<String>> {
        let mut inputs: BTreeMap<&str, usize> = self.nodes.iter().map(|n| (n.id.as_str(), 0)).collect();
        let mut outputs: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for n in &self.nodes {
            let uniq: BTreeSet<&str> = n.needs.iter().map(String::as_str).collect();
            for d in uniq {
                outputs.entry(d).or_default().insert(n.id.as_str());
                *inputs.get_mut(n.id.as_str())? += 1;
            }
        }
        let mut queue: VecDeque<&str> = inputs.iter().filter(|(_, &c)| c == 0).map(|(k, _)| *k).collect();
        while let Some(n) = queue.pop_front() {
            for m in outputs.remove(n).unwrap_or_default() {
                let c = inputs.get_mut(m)?;
                *c -= 1;
                if *c == 0 {
                    queue.push_back(m);
                }
            }
        }
        // Nodes left with edges: on a cycle, or downstream of one. Drop the downstream ones
        // (no edge back into the set) until every remaining node has a way onward, so the walk
        // below stays on the cycle.
        let mut left: BTreeSet<&str> = inputs.iter().filter(|(_, &c)| c > 0).map(|(k, _)| *k).collect();
        loop {
            let dead: Vec<&str> = left.iter().copied().filter(|k| !outputs.get(k).is_some_and(|o| o.iter().any(|m| left.contains(m)))).collect();
            if dead.is_empty() {
                break;
            }
            for d in dead {
                left.remove(d);
            }
        }
        let start = *left.iter().next()?;
        let mut seen = BTreeSet::new();
        let mut path = Vec::new();
        let mut cur = start;
        while seen.insert(cur) {
            path.push(cur.to_string());
            cur = outputs.get(cur).and_then(|o| o.iter().copied().find(|m| left.contains(m)))?;
        }
        path.push(cur.to_string());
        Some(path)
    }

    /// Ids each node waits for: its needs, or (reverse) the nodes that need it.
    fn waits_for(&self, reverse: bool) -> Vec<Vec<usize>> {
        let mut w = vec![Vec::new(); self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            for d in &n.needs {
                let j = self.index[d];
                if reverse {
                    w[j].push(i);
                } else {
                    w[i].push(j);
                }
            }
        }
        for v in &mut w {
            v.sort_unstable();
            v.dedup();
        }
        w
    }
}

/// Progress of a run, as it happens.
#[derive(Clone, Debug)]
pub enum Event<'a> {
    Started { node: &'a Node },
    Finished { node: &'a Node, outcome: &'a Outcome },
}

/// One release's line in the report.
#[derive(Clone, Debug)]
pub struct ReleaseRun {
    pub node: Node,
    pub outcome: Outcome,
    /// Start and end, from the start of the run (None when skipped).
    pub started: Option<Duration>,
    pub finished: Option<Duration>,
}

/// What a run did, releases in plan order.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// e.g. "apply", "sync", "destroy" (set by the caller; used in the report's labels).
    pub command: String,
    pub started_at: SystemTime,
    pub duration: Duration,
    pub releases: Vec<ReleaseRun>,
}

impl RunReport {
    /// Every release ended ok.
    pub fn success(&self) -> bool {
        self.releases.iter().all(|r| r.outcome.result == Status::Ok)
    }

    /// Clusters in first-seen plan order.
    pub fn clusters(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.releases {
            if !out.contains(&r.node.cluster) {
                out.push(r.node.cluster.clone());
            }
        }
        out
    }

    /// helmfile's error lines for the failed releases: `release "NAME" failed: ERR`.
    pub fn errors(&self) -> Vec<String> {
        self.releases
            .iter()
            .filter(|r| r.outcome.result == Status::Failed)
            .map(|r| format!("release \"{}\" failed: {}", r.node.name, r.outcome.message))
            .collect()
    }
}

/// Runs `plan` with `exec` (one call per release, each on its own tokio task) and returns what
/// happened. `on_event` sees every start and finish, in the order the scheduler handles them
/// (for live progress). Must be called inside a tokio runtime.
///
/// A node starts once every node it waits for ended ok. When one fails, the nodes waiting on
/// it (transitively) are skipped with "needs X which failed" (reverse: "needed by X which
/// failed"), and [`RunOptions::failure_scope`] decides whether the rest of its cluster, or of
/// the run, still starts. A panicking executor counts as a failed release.
pub async fn run<F, Fut>(
    plan: &Plan,
    opts: &RunOptions,
    command: &str,
    exec: F,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> RunReport
where
    F: Fn(Node) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let started_at = SystemTime::now();
    let t0 = Instant::now();
    let n = plan.nodes.len();
    let waits = plan.waits_for(opts.reverse);
    let mut waiters: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, w) in waits.iter().enumerate() {
        for &j in w {
            waiters[j].push(i);
        }
    }
    let level = levels(&waits);
    let mut pending: Vec<usize> = waits.iter().map(Vec::len).collect();
    let limit = if opts.concurrency == 0 { n.max(1) } else { opts.concurrency };
    let exec = Arc::new(exec);
    let mut results: Vec<Option<(Outcome, Option<Duration>, Option<Duration>)>> = vec![None; n];
    // Ready nodes, kept in plan order so runs are reproducible.
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| pending[i] == 0).collect();
    // Per cluster: why it stopped, and the highest needs level that may still start there.
    let mut stopped_clusters: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut stopped_run: Option<String> = None;
    let mut tasks: tokio::task::JoinSet<(usize, Outcome, Duration, Duration)> = tokio::task::JoinSet::new();
    let mut task_of: BTreeMap<tokio::task::Id, (usize, Duration)> = BTreeMap::new();
    let mut running = 0usize;
    let mut per_cluster: BTreeMap<String, usize> = BTreeMap::new();

    loop {
        // Start what may start.
        while running < limit {
            // Fair across clusters: the ready node of the cluster with the fewest running
            // releases goes first (plan order among equals), so a long cluster cannot hold every
            // worker while another one waits.
            let Some(i) = ready.iter().copied().min_by_key(|&i| (per_cluster.get(&plan.nodes[i].cluster).copied().unwrap_or(0), i)) else { break };
            ready.remove(&i);
            let node = &plan.nodes[i];
            let stop = stopped_run.clone().or_else(|| {
                stopped_clusters.get(&node.cluster).filter(|(_, upto)| level[i] > *upto).map(|(why, _)| why.clone())
            });
            if let Some(why) = stop {
                let o = Outcome::skipped(why);
                on_event(Event::Finished { node, outcome: &o });
                results[i] = Some((o, None, None));
                skip_waiters(plan, opts.reverse, i, &waiters, &mut results, on_event);
                continue;
            }
            on_event(Event::Started { node });
            let f = exec.clone();
            let owned = node.clone();
            let start = t0.elapsed();
            let h = tasks.spawn(async move {
                let s = t0.elapsed();
                let o = f(owned).await;
                (i, o, s, t0.elapsed())
            });
            task_of.insert(h.id(), (i, start));
            running += 1;
            *per_cluster.entry(node.cluster.clone()).or_default() += 1;
        }
        if running == 0 {
            break;
        }
        let Some(joined) = tasks.join_next_with_id().await else { break };
        running -= 1;
        let (i, mut outcome, s, e) = match joined {
            Ok((id, (i, o, s, e))) => {
                task_of.remove(&id);
                (i, o, s, e)
            }
            Err(err) => {
                let (i, s) = task_of.remove(&err.id()).unwrap_or((usize::MAX, Duration::ZERO));
                if i == usize::MAX {
                    continue;
                }
                (i, Outcome::failed(Action::None, format!("release task ended abnormally: {err}")), s, t0.elapsed())
            }
        };
        if outcome.duration.is_zero() {
            outcome.duration = e.saturating_sub(s);
        }
        let node = &plan.nodes[i];
        if let Some(c) = per_cluster.get_mut(&node.cluster) {
            *c = c.saturating_sub(1);
        }
        on_event(Event::Finished { node, outcome: &outcome });
        let failed = outcome.result != Status::Ok;
        results[i] = Some((outcome, Some(s), Some(e)));
        if failed {
            skip_waiters(plan, opts.reverse, i, &waiters, &mut results, on_event);
            let why = format!("not started: {} failed", node.id);
            match opts.failure_scope {
                FailureScope::Dependents => {}
                FailureScope::Cluster => {
                    let e = stopped_clusters.entry(node.cluster.clone()).or_insert((why, level[i]));
                    e.1 = e.1.min(level[i]);
                }
                FailureScope::Run => {
                    stopped_run.get_or_insert(why);
                }
            }
        } else {
            for &w in &waiters[i] {
                pending[w] -= 1;
                if pending[w] == 0 && results[w].is_none() {
                    ready.insert(w);
                }
            }
        }
    }

    let releases = plan
        .nodes
        .iter()
        .zip(results)
        .map(|(node, r)| {
            let (outcome, started, finished) = r.unwrap_or_else(|| (Outcome::skipped("not started"), None, None));
            ReleaseRun { node: node.clone(), outcome, started, finished }
        })
        .collect();
    RunReport { command: command.to_string(), started_at, duration: t0.elapsed(), releases }
}

/// Marks everything (transitively) waiting on `failed` as skipped.
/// Each node's needs level in the run's direction: 0 for a node that waits for nothing, else one
/// more than the highest level it waits for (helmfile's groups). The plan is acyclic.
fn levels(waits: &[Vec<usize>]) -> Vec<usize> {
    let mut level: Vec<Option<usize>> = vec![None; waits.len()];
    for start in 0..waits.len() {
        // Iterative depth-first: a node is resolved once all it waits for are.
        let mut stack = vec![start];
        while let Some(&i) = stack.last() {
            if level[i].is_some() {
                stack.pop();
                continue;
            }
            let open: Vec<usize> = waits[i].iter().copied().filter(|&j| level[j].is_none()).collect();
            if open.is_empty() {
                level[i] = Some(waits[i].iter().map(|&j| level[j].unwrap_or(0) + 1).max().unwrap_or(0));
                stack.pop();
            } else {
                stack.extend(open);
            }
        }
    }
    level.into_iter().map(|l| l.unwrap_or(0)).collect()
}

fn skip_waiters(
    plan: &Plan,
    reverse: bool,
    failed: usize,
    waiters: &[Vec<usize>],
    results: &mut [Option<(Outcome, Option<Duration>, Option<Duration>)>],
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) {
    let mut stack = vec![failed];
    while let Some(f) = stack.pop() {
        let fid = &plan.nodes[f].id;
        for &w in &waiters[f] {
            if results[w].is_some() {
                continue;
            }
            let why = match (reverse, f == failed) {
                (false, true) => format!("needs {fid} which failed"),
                (false, false) => format!("needs {fid} which was skipped"),
                (true, true) => format!("needed by {fid} which failed"),
                (true, false) => format!("needed by {fid} which was skipped"),
            };
            let o = Outcome::skipped(why);
            on_event(Event::Finished { node: &plan.nodes[w], outcome: &o });
            results[w] = Some((o, None, None));
            stack.push(w);
        }
    }
}
