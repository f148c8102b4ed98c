//! The in-memory driver (pkg/storage/driver/memory.go): records per namespace, nothing persists.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{make_key_parts, object_labels, Driver};
use crate::release::Release;
use crate::Error;

const DEFAULT_NAMESPACE: &str = "default";

/// One namespace's records: key → (release, labels).
type Records = BTreeMap<String, (Release, BTreeMap<String, String>)>;

/// Records kept in memory, per namespace.
pub struct MemoryDriver {
    namespace: Mutex<String>,
    cache: Mutex<BTreeMap<String, Records>>,
}

impl MemoryDriver {
    /// A driver that looks in `namespace` ("" = every namespace).
    pub fn new(namespace: &str) -> Self {
        MemoryDriver {
            namespace: Mutex::new(namespace.to_string()),
            cache: Mutex::new(BTreeMap::new()),
        }
    }

    /// Helm's `SetNamespace`.
    pub fn set_namespace(&self, namespace: &str) {
        *self.namespace.lock().unwrap_or_else(|e| e.into_inner()) = namespace.to_string();
    }

    fn ns(&self) -> String {
        self.namespace
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn each(&self, mut f: impl FnMut(&Release, &BTreeMap<String, String>)) {
        let ns = self.ns();
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        for (namespace, recs) in cache.iter() {
            if !ns.is_empty() && *namespace != ns {
                continue;
            }
            for (rls, lbs) in recs.values() {
                f(rls, lbs);
            }
        }
    }

    fn release_ns(rls: &Release) -> String {
        if rls.namespace.is_empty() {
            DEFAULT_NAMESPACE.to_string()
        } else {
            rls.namespace.clone()
        }
    }
}

impl Driver for MemoryDriver {
    fn name(&self) -> &'static str {
        "Memory"
    }

    async fn get(&self, key: &str) -> Result<Release, Error> {
        make_key_parts(key)?;
        let ns = self.ns();
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(&ns)
            .and_then(|recs| recs.get(key))
            .map(|(r, _)| r.clone())
            .ok_or(Error::NotFound)
    }

    async fn list(
        &self,
        filter: &(dyn Fn(&Release) -> bool + Sync),
    ) -> Result<Vec<Release>, Error> {
        let mut out = Vec::new();
        self.each(|r, _| {
            if filter(r) {
                out.push(r.clone());
            }
        });
        Ok(out)
    }

    async fn query(&self, labels: &BTreeMap<String, String>) -> Result<Vec<Release>, Error> {
        let mut out = Vec::new();
        self.each(|r, lbs| {
            if labels.iter().all(|(k, v)| lbs.get(k) == Some(v)) {
                out.push(r.clone());
            }
        });
        if out.is_empty() {
            return Err(Error::NotFound);
        }
        Ok(out)
    }

    async fn create(&self, key: &str, rls: &Release) -> Result<(), Error> {
        let ns = Self::release_ns(rls);
        self.set_namespace(&ns);
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let recs = cache.entry(ns).or_default();
        if recs.contains_key(key) {
            return Err(Error::Exists);
        }
        recs.insert(key.to_string(), (rls.clone(), object_labels(rls, None)));
        Ok(())
    }

    async fn update(&self, key: &str, rls: &Release) -> Result<(), Error> {
        let ns = Self::release_ns(rls);
        self.set_namespace(&ns);
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        match cache.get_mut(&ns).and_then(|recs| recs.get_mut(key)) {
            Some(slot) => {
                *slot = (rls.clone(), object_labels(rls, None));
                Ok(())
            }
            None => Err(Error::NotFound),
        }
    }

    async fn delete(&self, key: &str) -> Result<Release, Error> {
        make_key_parts(key)?;
        let ns = self.ns();
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get_mut(&ns)
            .and_then(|recs| recs.remove(key))
            .map(|(r, _)| r)
            .ok_or(Error::NotFound)
    }
}
