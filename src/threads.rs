//! Spawning worker threads that start at once, on another CPU than their spawner.
//!
//! On this project's 2-core host (a KVM guest, Linux 6.18), a new thread is placed on its
//! parent's CPU, where it waits while the parent computes until the load balancer moves it: 1–4
//! ms in about half of the spawns (0.1 ms otherwise), against a parallel `init` of GPT-2 that
//! lasts 0.1 s. Nor does sleeping until the thread has started help: the thread then runs at once,
//! but the parent, woken by it, is put back on the same CPU and the two share it until the next
//! balance. So the spawner yields its CPU until every thread has started ([`Started::wait_for`]),
//! and a thread that starts on its spawner's CPU moves itself to another one it may run on
//! ([`Started::arrive`]: its affinity without that CPU, then its affinity as it was). Measured
//! with `init` of GPT-2 on 2 threads: the worker's first chunk began 0.9–4.5 ms after the line
//! started before, 0.14–0.22 ms after.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The spawner's side: the CPU it runs on, and how many threads have started.
pub(crate) struct Started {
    /// The spawner's CPU when last seen ([`NO_CPU`]: not known).
    cpu: AtomicUsize,
    count: AtomicUsize,
}

/// [`Started::cpu`] when the platform does not tell.
const NO_CPU: usize = usize::MAX;

impl Started {
    /// Made by the spawning thread, before it spawns.
    pub(crate) fn new() -> Started {
        Started {
            cpu: AtomicUsize::new(current_cpu().unwrap_or(NO_CPU)),
            count: AtomicUsize::new(0),
        }
    }

    /// Called first by each spawned thread: moves off the spawner's CPU if it is on it, and
    /// counts itself as started.
    pub(crate) fn arrive(&self) {
        let spawner = self.cpu.load(Ordering::Acquire);
        if spawner != NO_CPU && current_cpu() == Some(spawner) {
            move_off(spawner);
        }
        self.count.fetch_add(1, Ordering::Release);
    }

    /// Yields the CPU until `n` threads have arrived. The spawner notes its CPU before each
    /// yield: while it yields, an idle CPU may take it rather than the thread queued behind it,
    /// and the thread must then stay where it is.
    pub(crate) fn wait_for(&self, n: usize) {
        while self.count.load(Ordering::Acquire) < n {
            if let Some(cpu) = current_cpu() {
                self.cpu.store(cpu, Ordering::Release);
            }
            std::thread::yield_now();
        }
    }
}

/// The CPU this thread runs on (Linux only).
#[cfg(target_os = "linux")]
fn current_cpu() -> Option<usize> {
    // SAFETY: `sched_getcpu` takes no argument and only reads the CPU number.
    let cpu = unsafe { libc::sched_getcpu() };
    usize::try_from(cpu).ok()
}

#[cfg(not(target_os = "linux"))]
fn current_cpu() -> Option<usize> {
    None
}

/// Moves this thread to another CPU of its affinity than `cpu`, and leaves its affinity as it
/// was. Does nothing if `cpu` is the only one or a call fails (the thread then stays until the
/// balancer moves it, as it would have).
#[cfg(target_os = "linux")]
fn move_off(cpu: usize) {
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: a `cpu_set_t` is plain bits (all zero is the empty set); the calls get and set this
    // thread's affinity (pid 0) through a set of the size given, and `CPU_CLR`/`CPU_COUNT` stay
    // within it (`cpu` comes from `sched_getcpu`, below `CPU_SETSIZE`, or `CPU_CLR` ignores it).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, size, &raw mut set) != 0 {
            return;
        }
        let mut others = set;
        libc::CPU_CLR(cpu, &mut others);
        if libc::CPU_COUNT(&others) == 0 {
            return;
        }
        if libc::sched_setaffinity(0, size, &raw const others) == 0 {
            libc::sched_setaffinity(0, size, &raw const set);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn move_off(_cpu: usize) {}

#[cfg(test)]
mod tests {
    use super::Started;

    #[test]
    fn waits_for_every_thread() {
        let started = Started::new();
        let done = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..5 {
                s.spawn(|| {
                    started.arrive();
                    done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                });
            }
            started.wait_for(5);
        });
        assert_eq!(done.into_inner(), 5);
        // Nothing to wait for.
        Started::new().wait_for(0);
    }

    /// A thread that moves off its spawner's CPU keeps the affinity it had.
    #[cfg(target_os = "linux")]
    #[test]
    fn moving_off_leaves_the_affinity_as_it_was() {
        let affinity = || {
            let size = std::mem::size_of::<libc::cpu_set_t>();
            // SAFETY: as in `move_off`.
            unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                assert_eq!(libc::sched_getaffinity(0, size, &raw mut set), 0);
                (0..libc::CPU_SETSIZE as usize)
                    .filter(|&c| libc::CPU_ISSET(c, &set))
                    .collect::<Vec<_>>()
            }
        };
        let before = affinity();
        let cpu = super::current_cpu().expect("sched_getcpu on Linux");
        std::thread::scope(|s| {
            s.spawn(|| {
                super::move_off(cpu);
                assert_eq!(affinity(), before);
            });
        });
    }
}
