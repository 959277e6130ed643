//! argon2id off the async workers, on a fixed pool with bounded admission.
//!
//! Each hash holds ~19 MiB and ~40 ms of a core, so unbounded parallelism (plain
//! `spawn_blocking`) turns a login flood into gigabytes of memory and collapsing throughput.
//! Here a fixed number of threads do the work, and at most `workers + queue` jobs are
//! admitted; the rest are refused at once (answered 503 with `Retry-After`) before any
//! database or CPU work is spent on them.

use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The hashing pool of one instance.
#[derive(Debug, Clone)]
pub struct HashingPool {
    admission: Arc<Semaphore>,
    jobs: Sender<Job>,
    capacity: usize,
}

/// An admitted slot: reserve it first, then spend it on one job.
#[derive(Debug)]
pub struct HashSlot {
    _permit: OwnedSemaphorePermit,
}

/// The pool is at capacity.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("password hashing is at capacity")]
pub struct Overloaded;

/// The pool's threads are gone (only during shutdown).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("password hashing pool is shut down")]
pub struct PoolGone;

impl HashingPool {
    /// Starts `workers` threads and admits at most `workers + queue` jobs at a time.
    pub fn new(workers: usize, queue: usize) -> std::io::Result<Self> {
        let workers = workers.max(1);
        let (jobs, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..workers {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("esr-hash-{n}"))
                .spawn(move || {
                    // One argon2 memory block array per pool thread, reused for every job.
                    esr_domain::keep_hash_memory_on_this_thread();
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return, // every sender dropped: the app is gone
                        }
                    }
                })?;
        }
        let capacity = workers + queue;
        Ok(Self {
            admission: Arc::new(Semaphore::new(capacity)),
            jobs,
            capacity,
        })
    }

    /// Admits one job or refuses at once.
    pub fn try_reserve(&self) -> Result<HashSlot, Overloaded> {
        Arc::clone(&self.admission)
            .try_acquire_owned()
            .map(|permit| HashSlot { _permit: permit })
            .map_err(|_| Overloaded)
    }

    /// Runs `f` on a pool thread inside the current tracing span; the slot is released when
    /// it finishes.
    pub async fn run<T, F>(&self, slot: HashSlot, f: F) -> Result<T, PoolGone>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            let result = span.in_scope(f);
            drop(slot);
            let _ = tx.send(result);
        });
        self.jobs.send(job).map_err(|_| PoolGone)?;
        rx.await.map_err(|_| PoolGone)
    }

    /// Jobs admitted right now (running or queued).
    pub fn in_flight(&self) -> usize {
        self.capacity - self.admission.available_permits()
    }

    /// Most jobs admitted at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn admits_up_to_capacity_then_refuses_at_once() {
        let pool = HashingPool::new(1, 1).expect("pool");
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let first = pool.try_reserve().expect("first admitted");
        let second = pool.try_reserve().expect("second admitted (queued)");
        assert!(pool.try_reserve().is_err(), "third refused");
        assert_eq!(pool.in_flight(), 2);
        let blocker = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(first, move || release_rx.recv().is_ok()).await })
        };
        let queued = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(second, || 42).await })
        };
        release_tx.send(()).expect("release");
        assert!(blocker.await.expect("join").expect("ran"));
        assert_eq!(queued.await.expect("join").expect("ran"), 42);
        assert_eq!(pool.in_flight(), 0);
        assert!(pool.try_reserve().is_ok(), "capacity is released");
    }
}
