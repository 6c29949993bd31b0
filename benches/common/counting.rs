//! A counting global allocator for the benchmarks: the peak heap growth while a measured closure
//! runs. It counts only then (one relaxed load per allocation otherwise), so that the timed runs
//! pay no atomic read-modify-write per allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

struct Counting;
static ON: AtomicBool = AtomicBool::new(false);
/// Bytes allocated minus bytes freed since counting began (frees of older blocks count too).
static NET: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
/// Allocations (and reallocations) since counting began.
static CALLS: AtomicIsize = AtomicIsize::new(0);

fn grow(by: usize) {
    CALLS.fetch_add(1, Ordering::Relaxed);
    let now = NET.fetch_add(by as isize, Ordering::Relaxed) + by as isize;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrink(by: usize) {
    NET.fetch_sub(by as isize, Ordering::Relaxed);
}

// SAFETY: every call goes to `System` with the caller's arguments; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && ON.load(Ordering::Relaxed) {
            grow(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        if ON.load(Ordering::Relaxed) {
            shrink(layout.size());
        }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && ON.load(Ordering::Relaxed) {
            if new_size >= layout.size() {
                grow(new_size - layout.size());
            } else {
                CALLS.fetch_add(1, Ordering::Relaxed);
                shrink(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// What `f` asked of the allocator.
#[derive(Clone, Copy, Default)]
pub struct Usage {
    /// The peak heap growth (bytes) while `f` ran, its result kept alive until then.
    pub peak: usize,
    /// Calls to allocate, grow or shrink a block.
    pub calls: usize,
}

/// The heap's use while `f` runs.
pub fn usage<T>(f: impl FnOnce() -> T) -> Usage {
    NET.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    CALLS.store(0, Ordering::Relaxed);
    ON.store(true, Ordering::SeqCst);
    let out = f();
    ON.store(false, Ordering::SeqCst);
    drop(out);
    Usage { peak: PEAK.load(Ordering::Relaxed).max(0) as usize, calls: CALLS.load(Ordering::Relaxed).max(0) as usize }
}
