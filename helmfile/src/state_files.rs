//! Which state files a helmfile run reads, and visiting several of them (helmfile v1.8.0's
//! findDesiredStateFiles and visitStatesWithContext in pkg/app/app.go).
//!
//! Without `-f`, helmfile reads `helmfile.yaml`, `helmfile.yaml.gotmpl`, or every
//! `helmfile.d/*.y*ml` and `helmfile.d/*.y*ml.gotmpl` (one sorted list); `-f DIR` reads a
//! directory the same way. Each file is its own state: a file lacking the selected environment is
//! skipped, selectors match across all files, and the "no releases found" error comes only when
//! no file had a selected release.
//!
//! helmfile processes several files in parallel unless `--sequential-helmfiles` is given; Rudder
//! always visits them in order (deterministic output), as helmfile's sequential mode does: with
//! more than one file it loads each with its directory as base directory instead of changing into
//! it, so chart and file paths come out absolute.

use std::path::{Path, PathBuf};

use crate::commands::Outcome;
use crate::{LoadOptions, State};

const DEFAULT_FILE: &str = "helmfile.yaml";
const DEFAULT_GOTMPL: &str = "helmfile.yaml.gotmpl";
const DEFAULT_DIR: &str = "helmfile.d";

/// The state files to visit, spelled as helmfile spells them in errors (`helmfile.d/a.yaml`):
/// `specified` (`-f`) is a file or a directory; without it the default names are looked up in
/// `cwd`. `reverse` (destroy) reverses a directory's order. The error is helmfile's text.
pub fn find(specified: Option<&str>, cwd: &Path, reverse: bool) -> Result<Vec<String>, String> {
    let dir = match specified {
        Some(f) if cwd.join(f).is_file() => return Ok(vec![f.to_string()]),
        Some(f) if cwd.join(f).is_dir() => f.to_string(),
        Some(f) => return Err(format!("specified state file {f} is not found")),
        None => {
            let (yaml, gotmpl) = (
                cwd.join(DEFAULT_FILE).is_file(),
                cwd.join(DEFAULT_GOTMPL).is_file(),
            );
            if yaml && gotmpl {
                return Err(format!(
                    "both {DEFAULT_FILE} and {DEFAULT_FILE}.gotmpl exist. Please remove one of them"
                ));
            }
            let default = if yaml {
                Some(DEFAULT_FILE)
            } else if gotmpl {
                Some(DEFAULT_GOTMPL)
            } else {
                None
            };
            match default {
                Some(d) if cwd.join(DEFAULT_DIR).is_dir() => {
                    return Err(format!(
                        "configuration conlict error: you can have either {d} or {DEFAULT_DIR}, but not both"
                    ));
                }
                Some(d) => return Ok(vec![d.to_string()]),
                None if cwd.join(DEFAULT_DIR).is_dir() => DEFAULT_DIR.to_string(),
                None => return Err(format!(
                    "no state file found. It must be named {DEFAULT_DIR}/*.{{yaml,yml,yaml.gotmpl,yml.gotmpl}}, {DEFAULT_FILE}, or {DEFAULT_GOTMPL}, otherwise specified with the --file flag or HELMFILE_FILE_PATH environment variable"
                )),
            }
        }
    };
    // filepath.Glob(filepath.Join(dir, "*.y*ml")) and "*.y*ml.gotmpl": the joined (cleaned)
    // directory prefixes every name; both lists are sorted together.
    let prefix = rudder_engine::funcs::helmfile::clean(Path::new(&dir));
    let mut names: Vec<String> = std::fs::read_dir(cwd.join(&dir))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| yaml_name(n) || n.strip_suffix(".gotmpl").is_some_and(yaml_name))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut files: Vec<String> = names
        .iter()
        .map(|n| match prefix.to_string_lossy().as_ref() {
            "." => n.clone(),
            p => format!("{p}/{n}"),
        })
        .collect();
    files.sort();
    if reverse {
        files.reverse();
    }
    Ok(files)
}

/// A state file as given (`sub/helmfile.yaml`) split the way helmfile works from it: the
/// directory it runs in (joined to `cwd`), the file name loaded there, and the label helmfile puts
/// before its errors (`sub/helmfile.yaml`, or `./helmfile.yaml` from the working directory).
pub fn split(cwd: &Path, file: &str) -> (PathBuf, String, String) {
    match Path::new(file).parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => {
            let name = Path::new(file).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            (cwd.join(p), name.clone(), format!("{}/{name}", p.display()))
        }
        None => (cwd.to_path_buf(), file.to_string(), format!("./{file}")),
    }
}

/// Whether `name` matches the glob `*.y*ml`: a `.y` somewhere before a final `ml`.
fn yaml_name(name: &str) -> bool {
    name.strip_suffix("ml")
        .is_some_and(|head| head.contains(".y"))
}

/// How [`visit`] treats each state's outcome.
pub struct Visit {
    /// An exit code that is not a failure: the file's output is kept, the next file visited, and
    /// the run ends with this code (`--detailed-exitcode`'s 2: changes found).
    pub tolerated_code: Option<i32>,
}

/// Visits `files` (more than one, from [`find`]) in order as helmfile's sequential mode does:
/// each loaded from `cwd` with its own directory as base directory, the one without the
/// selected environment skipped, `each` run on the others with the state, the state loaded
/// without selectors (when selecting) and the label helmfile puts before its errors. The outputs
/// are concatenated; the first failure ends the run with the failing file named; when no file
/// selected a release, the run ends with helmfile's "no releases found" error (exit 3).
pub fn visit(
    files: &[String],
    cwd: &Path,
    opts: &LoadOptions,
    how: &Visit,
    mut each: impl FnMut(&State, Option<&State>, &str) -> Outcome,
) -> Outcome {
    let mut out = Outcome::default();
    let mut matched = false;
    let mut tolerated = false;
    for rel in files {
        let label = error_label(rel);
        let abs = rudder_engine::funcs::helmfile::clean(&cwd.join(rel));
        let abs_s = abs.to_string_lossy().into_owned();
        let mut st = match crate::load_with_base_dir(&abs, opts) {
            Ok(Some(st)) => st,
            Ok(None) => continue,
            Err(e) => {
                out.stderr.push_str(&format!("in {label}: {e}\n"));
                out.code = 1;
                return out;
            }
        };
        // helmfile's FullFilePath joins the working directory to a file path that is already
        // absolute in this mode (`#  Source: /cwd/cwd/helmfile.d/a.yaml`).
        let shown_path = cwd.join(abs_s.trim_start_matches('/'));
        st.full_path = shown_path.clone();
        let all = if opts.selectors.is_empty() {
            None
        } else {
            let mut lo = opts.clone();
            lo.selectors.clear();
            crate::load_with_base_dir(&abs, &lo)
                .ok()
                .flatten()
                .map(|mut a| {
                    a.full_path = shown_path;
                    a
                })
        };
        out.stderr
            .push_str(&crate::commands::load_warnings(all.as_ref().unwrap_or(&st)));
        matched |= crate::count_releases(&st) > 0;
        let r = each(&st, all.as_ref(), &label);
        out.stdout.push_str(&r.stdout);
        out.stderr.push_str(&r.stderr);
        if r.code != 0 {
            if how.tolerated_code == Some(r.code) {
                tolerated = true;
            } else {
                out.code = r.code;
                return out;
            }
        }
    }
    if !matched {
        let env = opts.environment.as_deref().unwrap_or("default");
        out.stderr
            .push_str(&format!("{}\n", crate::no_match(opts, env)));
        out.code = 3;
    } else if tolerated {
        out.code = how.tolerated_code.unwrap_or_default();
    }
    out
}

/// helmfile's `in DIR/FILE` (`filepath.Dir` and `filepath.Base` of the listed path).
fn error_label(rel: &str) -> String {
    let p = Path::new(rel);
    let dir = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let base = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{}/{base}", dir.display())
}

/// `helmfile list` over several states: helmfile collects the rows of every file into one table
/// (sorted by namespace, then name); `states` are the visited ones.
pub fn list_table(states: &[State]) -> Result<String, String> {
    let Some(first) = states.first() else {
        return Ok(String::new());
    };
    // A state holding no release of its own whose nested states are the visited files.
    let mut holder = first.clone();
    holder.spec = Default::default();
    holder.subs = states.to_vec();
    holder.list_table()
}
