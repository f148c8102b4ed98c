//! The test bed from Rust tests: bring the local cluster up once per test process (or reuse the
//! running one), find the oracles built by `conformance/oracles`, run commands with the test bed's
//! environment, and read objects back from the real apiserver.
//!
//! Nothing here skips: a missing component is a test failure that says how to get it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};

/// The workspace root (where `Cargo.toml` and `conformance/` live).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `conformance/versions.env` as a map (`HELM4_VERSION` → `v4.3.1`, ...).
pub fn pinned_versions() -> BTreeMap<String, String> {
    let path = workspace_root().join("conformance/versions.env");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Path of an oracle binary (`helm`, `helm3`, `helmfile`, `gotmpl-oracle`, ...). Panics with the
/// command that builds it if it is not there.
pub fn oracle(name: &str) -> PathBuf {
    // RUDDER_ORACLES_BIN lets a second checkout (a git worktree) use the oracles built in another.
    let dir = std::env::var_os("RUDDER_ORACLES_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/oracles/bin"));
    let path = dir.join(name);
    if !path.exists() {
        panic!(
            "the real `{name}` is not built ({} is missing): run `conformance/oracles {name}`",
            path.display()
        );
    }
    path
}

/// A running test bed.
#[derive(Debug, Clone)]
pub struct Testbed {
    pub kubeconfig: PathBuf,
    pub server: String,
    token: String,
}

static TESTBED: OnceLock<Result<Testbed, String>> = OnceLock::new();

/// Brings the test bed up (`conformance/testbed up`, idempotent) once per test process and returns
/// it. Panics with the script's output if it cannot come up.
pub fn testbed() -> &'static Testbed {
    let result = TESTBED.get_or_init(|| start().map_err(|e| format!("{e:#}")));
    match result {
        Ok(tb) => tb,
        Err(e) => panic!("the test bed is not available: {e}\nhint: run `conformance/testbed up` and read target/testbed/logs/"),
    }
}

fn start() -> Result<Testbed> {
    let root = workspace_root();
    // A test bed that already runs (e.g. the main checkout's, used from a git worktree).
    if let Some(kc) = std::env::var_os("RUDDER_TESTBED_KUBECONFIG").filter(|p| Path::new(p).exists()) {
        return from_kubeconfig(PathBuf::from(kc));
    }
    let out = Command::new(root.join("conformance/testbed"))
        .arg("up")
        .current_dir(&root)
        .output()
        .context("running conformance/testbed up")?;
    if !out.status.success() {
        bail!(
            "conformance/testbed up failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    from_kubeconfig(root.join("target/testbed/kubeconfig"))
}

fn from_kubeconfig(kubeconfig: PathBuf) -> Result<Testbed> {
    let text = std::fs::read_to_string(&kubeconfig)
        .with_context(|| format!("reading {}", kubeconfig.display()))?;
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(key).map(|v| v.trim().to_string()))
            .with_context(|| format!("no `{key}` in {}", kubeconfig.display()))
    };
    Ok(Testbed { server: field("server:")?, token: field("token:")?, kubeconfig })
}

impl Testbed {
    /// The test bed's second cluster (context `testbed-b`: its own apiserver, controllers and kwok
    /// Nodes), for runs that deploy to two clusters. Its kubeconfig selects `testbed-b`; the main
    /// kubeconfig has both contexts.
    pub fn second(&self) -> Result<Testbed> {
        let kc = self.kubeconfig.with_file_name("kubeconfig-b");
        let tb = from_kubeconfig(kc.clone())?;
        let text = std::fs::read_to_string(&kc)?;
        let server = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("server:"))
            .nth(1)
            .map(|v| v.trim().to_string())
            .with_context(|| format!("no second cluster in {} (run `conformance/testbed up`)", kc.display()))?;
        let t = Testbed { server, ..tb };
        t.get_json("/version").context("the second cluster (testbed-b) does not answer: run `conformance/testbed up`")?;
        Ok(t)
    }
}

impl Testbed {
    /// A command with `KUBECONFIG` pointing at the test bed and helm's own state kept in a
    /// private directory, so tests do not read or write the user's helm configuration.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>, home: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("KUBECONFIG", &self.kubeconfig)
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_DATA_HOME", home.join("data"))
            .env("HELMFILE_UPGRADE_NOTICE_DISABLED", "1")
            .env_remove("HELM_DRIVER")
            .env_remove("HELM_NAMESPACE")
            .env_remove("HELM_KUBECONTEXT");
        cmd
    }

    /// GET a path of the apiserver and parse the JSON answer.
    pub fn get_json(&self, path: &str) -> Result<serde_json::Value> {
        self.request("GET", path)
    }

    /// DELETE a path of the apiserver (e.g. a namespace a test created).
    pub fn delete(&self, path: &str) -> Result<serde_json::Value> {
        self.request("DELETE", path)
    }

    fn request(&self, method: &str, path: &str) -> Result<serde_json::Value> {
        let out = Command::new("curl")
            .args(["-sk", "--max-time", "10", "-X", method, "-H"])
            .arg(format!("Authorization: Bearer {}", self.token))
            .arg(format!("{}{}", self.server, path))
            .output()
            .context("running curl against the test bed")?;
        if !out.status.success() {
            bail!("{method} {path}: curl failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        serde_json::from_slice(&out.stdout)
            .with_context(|| format!("{method} {path}: not JSON: {}", String::from_utf8_lossy(&out.stdout)))
    }
}

/// Runs a command and returns its output, failing with everything it printed if it failed.
pub fn run_ok(cmd: &mut Command) -> Result<Output> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out)
}

/// A fresh, unique name for a namespace or release (`prefix-<pid>-<n>`).
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// The shared corpus (`../shared/corpus` beside the workspace, or `$RUDDER_SHARED/corpus`).
pub fn corpus_dir() -> PathBuf {
    let shared = std::env::var_os("RUDDER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared"));
    let dir = shared.join("corpus");
    if !dir.is_dir() {
        panic!(
            "the shared corpus is missing at {}: clone the project with shared/ beside it or set RUDDER_SHARED",
            dir.display()
        );
    }
    dir
}
