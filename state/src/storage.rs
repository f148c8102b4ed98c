//! Helm's storage facade (pkg/storage/storage.go): keys, history, last/deployed revision and
//! `--history-max` pruning on top of a [`Driver`].

use std::collections::BTreeMap;

use crate::driver::{make_key, Driver};
use crate::release::{Release, Status};
use crate::Error;

/// A driver plus the max-history setting.
pub struct Storage<D> {
    pub driver: D,
    /// Revisions to keep (`--history-max`, default 10 in the CLI); 0 = unlimited. Applies to
    /// [`Storage::create`]; Helm's install uses a storage with 0, upgrade/rollback set it.
    pub max_history: usize,
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl<D: Driver> Storage<D> {
    pub fn new(driver: D) -> Self {
        Storage {
            driver,
            max_history: 0,
        }
    }

    /// One revision.
    pub async fn get(&self, name: &str, version: i64) -> Result<Release, Error> {
        self.driver.get(&make_key(name, version)).await
    }

    /// Stores a new revision, first pruning the history down to `max_history - 1` revisions
    /// (never the deployed one) when `max_history > 0`.
    pub async fn create(&self, rls: &Release) -> Result<(), Error> {
        if self.max_history > 0 {
            match self
                .remove_least_recent(&rls.name, self.max_history - 1)
                .await
            {
                Ok(()) | Err(Error::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        self.driver
            .create(&make_key(&rls.name, rls.version), rls)
            .await
    }

    /// [`Storage::create`] given the release's history as the caller just read it (with
    /// [`Storage::last_for_upgrade_with_history`], nothing written since): the pruning uses it
    /// instead of listing the revisions again.
    pub async fn create_after(&self, rls: &Release, history: Vec<Release>) -> Result<(), Error> {
        if self.max_history > 0 {
            match self.prune(&rls.name, self.max_history - 1, history).await {
                Ok(()) | Err(Error::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        self.driver
            .create(&make_key(&rls.name, rls.version), rls)
            .await
    }

    /// Rewrites a revision (e.g. to mark it superseded).
    pub async fn update(&self, rls: &Release) -> Result<(), Error> {
        self.driver
            .update(&make_key(&rls.name, rls.version), rls)
            .await
    }

    /// Removes a revision.
    pub async fn delete(&self, name: &str, version: i64) -> Result<Release, Error> {
        self.driver.delete(&make_key(name, version)).await
    }

    /// Every record the driver sees.
    pub async fn list_releases(&self) -> Result<Vec<Release>, Error> {
        self.driver.list(&|_| true).await
    }

    /// Records with status `uninstalled`.
    pub async fn list_uninstalled(&self) -> Result<Vec<Release>, Error> {
        self.driver
            .list(&|r| r.status() == Status::Uninstalled)
            .await
    }

    /// Records with status `deployed`.
    pub async fn list_deployed(&self) -> Result<Vec<Release>, Error> {
        self.driver.list(&|r| r.status() == Status::Deployed).await
    }

    /// All revisions labelled `status=deployed`; [`Error::NoDeployedReleases`] when none.
    pub async fn deployed_all(&self, name: &str) -> Result<Vec<Release>, Error> {
        match self
            .driver
            .query(&labels(&[
                ("name", name),
                ("owner", "helm"),
                ("status", "deployed"),
            ]))
            .await
        {
            Ok(ls) => Ok(ls),
            Err(e) if e.to_string().contains("not found") => {
                Err(Error::NoDeployedReleases(name.to_string()))
            }
            Err(e) => Err(e),
        }
    }

    /// The deployed revision (the highest if several are labelled deployed).
    pub async fn deployed(&self, name: &str) -> Result<Release, Error> {
        let ls = self.deployed_all(name).await?;
        ls.into_iter()
            .max_by_key(|r| r.version)
            .ok_or_else(|| Error::NoDeployedReleases(name.to_string()))
    }

    /// Every revision of a release (driver order); [`Error::NotFound`] when there is none.
    pub async fn history(&self, name: &str) -> Result<Vec<Release>, Error> {
        self.driver
            .query(&labels(&[("name", name), ("owner", "helm")]))
            .await
    }

    /// The highest revision.
    pub async fn last(&self, name: &str) -> Result<Release, Error> {
        let h = self.history(name).await?;
        h.into_iter()
            .max_by_key(|r| r.version)
            .ok_or_else(|| Error::NoRevision(name.to_string()))
    }

    /// The revision an upgrade starts from (upgrade.go): the last revision, failing with
    /// [`Error::NoDeployedReleases`] when there is none and with [`Error::Pending`] when it is
    /// `pending-*` (another operation holds the release; the pessimistic lock Helm relies on).
    pub async fn last_for_upgrade(&self, name: &str) -> Result<Release, Error> {
        Ok(self.last_for_upgrade_with_history(name).await?.0)
    }

    /// [`Storage::last_for_upgrade`] and the whole history it was picked from.
    pub async fn last_for_upgrade_with_history(
        &self,
        name: &str,
    ) -> Result<(Release, Vec<Release>), Error> {
        let h = match self.history(name).await {
            Ok(h) => h,
            Err(Error::NotFound) => return Err(Error::NoDeployedReleases(name.to_string())),
            Err(e) => return Err(e),
        };
        let last = h
            .iter()
            .max_by_key(|r| r.version)
            .cloned()
            .ok_or_else(|| Error::NoRevision(name.to_string()))?;
        if last.status().is_pending() {
            return Err(Error::Pending);
        }
        Ok((last, h))
    }

    /// Deletes the lowest revisions until `maximum` remain, skipping the deployed one.
    pub async fn remove_least_recent(&self, name: &str, maximum: usize) -> Result<(), Error> {
        let h = self.history(name).await?;
        self.prune(name, maximum, h).await
    }

    /// [`Storage::remove_least_recent`] on a history already read.
    async fn prune(&self, name: &str, maximum: usize, mut h: Vec<Release>) -> Result<(), Error> {
        if h.len() <= maximum {
            return Ok(());
        }
        h.sort_by_key(|r| r.version);
        let last_deployed = match self.deployed(name).await {
            Ok(r) => Some(r.version),
            Err(Error::NoDeployedReleases(_)) => None,
            Err(e) => return Err(e),
        };
        let mut to_delete = Vec::new();
        for rel in &h {
            if h.len() - to_delete.len() == maximum {
                break;
            }
            if last_deployed != Some(rel.version) {
                to_delete.push(rel.version);
            }
        }
        let mut errs = Vec::new();
        for v in to_delete {
            if let Err(e) = self.delete(name, v).await {
                errs.push(e);
            }
        }
        match errs.len() {
            0 => Ok(()),
            1 => Err(errs.remove(0)),
            n => Err(Error::Deletions(n, Box::new(errs.remove(0)))),
        }
    }
}

/// Keeps the highest revision of each release, grouping by JSON `namespace` + `name`
/// (`helm list`'s filterLatestReleases); the result is sorted by name, then namespace.
pub fn latest_releases(releases: Vec<Release>) -> Vec<Release> {
    let mut latest: BTreeMap<(String, String), Release> = BTreeMap::new();
    for r in releases {
        let key = (r.namespace.clone(), r.name.clone());
        match latest.get(&key) {
            Some(prev) if prev.version > r.version => {}
            _ => {
                latest.insert(key, r);
            }
        }
    }
    let mut out: Vec<Release> = latest.into_values().collect();
    out.sort_by(|a, b| {
        (a.name.as_str(), a.namespace.as_str()).cmp(&(b.name.as_str(), b.namespace.as_str()))
    });
    out
}
