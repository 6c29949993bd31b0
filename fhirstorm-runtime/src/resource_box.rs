//! [`ResourceBox`], the box each variant of a version's `AnyResource` holds its resource in.
//!
//! A `Box<Patient>` is dropped by code the compiler writes into every crate that drops one: for
//! `AnyResource`, the drop code of every resource and datatype of the version (about 150,000
//! lines of LLVM IR for R4). A program that reads an `AnyResource` and lets it go compiled all of
//! that itself, in release builds on every change to its own code (40 CPU-s for a one-line edit
//! of a 5-line `main.rs`). A `ResourceBox` drops its resource by calling a function compiled in
//! the models crate ([`DropBoxed::drop_boxed`], one per resource type), so the user's crate
//! compiles a call instead.
//!
//! It derefs to the resource, so reading and changing one through `AnyResource` looks as with a
//! `Box`: `AnyResource::Patient(p) => p.name.first()`. To take the resource out, use
//! [`ResourceBox::into_inner`] (or `Resource::from_any` / `AnyResource::downcast`).

#![allow(unsafe_code)]

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

/// A resource type whose boxed values are dropped by code compiled where the type is defined.
/// Generated for every resource type; the implementation must drop the box, and nothing else.
pub trait DropBoxed: Sized {
    /// Drops `boxed`. Implementations are `#[inline(never)]`, so that callers in other crates
    /// call them instead of compiling the drop themselves.
    fn drop_boxed(boxed: Box<Self>);
}

/// A box whose resource is dropped by code compiled in the models crate (see the module docs).
pub struct ResourceBox<T: DropBoxed>(ManuallyDrop<Box<T>>);

impl<T: DropBoxed> ResourceBox<T> {
    /// Boxes `value`.
    pub fn new(value: T) -> Self {
        ResourceBox(ManuallyDrop::new(Box::new(value)))
    }

    /// Takes an existing box.
    pub fn from_box(boxed: Box<T>) -> Self {
        ResourceBox(ManuallyDrop::new(boxed))
    }

    /// The box, to own the resource again.
    pub fn into_box(self) -> Box<T> {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped (it is `ManuallyDrop`) nor used again, so the box is
        // taken out exactly once and nothing else will drop it.
        unsafe { ManuallyDrop::take(&mut this.0) }
    }

    /// The resource.
    pub fn into_inner(self) -> T {
        *self.into_box()
    }
}

impl<T: DropBoxed> Drop for ResourceBox<T> {
    fn drop(&mut self) {
        // SAFETY: this is the last use of the field: the value is being dropped.
        let boxed = unsafe { ManuallyDrop::take(&mut self.0) };
        T::drop_boxed(boxed);
    }
}

impl<T: DropBoxed> Deref for ResourceBox<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DropBoxed> DerefMut for ResourceBox<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: DropBoxed> AsRef<T> for ResourceBox<T> {
    fn as_ref(&self) -> &T {
        &self.0
    }
}

impl<T: DropBoxed> AsMut<T> for ResourceBox<T> {
    fn as_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: DropBoxed> From<T> for ResourceBox<T> {
    fn from(value: T) -> Self {
        ResourceBox::new(value)
    }
}

impl<T: DropBoxed> From<Box<T>> for ResourceBox<T> {
    fn from(boxed: Box<T>) -> Self {
        ResourceBox::from_box(boxed)
    }
}

impl<T: DropBoxed + Clone> Clone for ResourceBox<T> {
    fn clone(&self) -> Self {
        ResourceBox::new(T::clone(self))
    }
}

impl<T: DropBoxed + fmt::Debug> fmt::Debug for ResourceBox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        T::fmt(self, f)
    }
}

impl<T: DropBoxed + PartialEq> PartialEq for ResourceBox<T> {
    fn eq(&self, other: &Self) -> bool {
        T::eq(self, other)
    }
}

impl<T: DropBoxed + Default> Default for ResourceBox<T> {
    fn default() -> Self {
        ResourceBox::new(T::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static DROPPED: AtomicUsize = AtomicUsize::new(0);

    #[derive(Clone, Debug, PartialEq)]
    struct Counted(String);

    impl Drop for Counted {
        fn drop(&mut self) {
            DROPPED.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl DropBoxed for Counted {
        fn drop_boxed(boxed: Box<Self>) {
            drop(boxed)
        }
    }

    #[test]
    fn each_value_is_dropped_once_and_taken_out_whole() {
        let before = DROPPED.load(Ordering::SeqCst);
        let a = ResourceBox::new(Counted("a".into()));
        let b = a.clone();
        assert_eq!(a, b);
        assert_eq!(a.as_ref().0, "a");
        drop(a);
        assert_eq!(DROPPED.load(Ordering::SeqCst) - before, 1);
        let inner = b.into_inner();
        assert_eq!(DROPPED.load(Ordering::SeqCst) - before, 1, "taking it out drops nothing");
        drop(inner);
        assert_eq!(DROPPED.load(Ordering::SeqCst) - before, 2);
        let mut c: ResourceBox<Counted> = Box::new(Counted("c".into())).into();
        c.as_mut().0 = "changed".into();
        assert_eq!(format!("{c:?}"), "Counted(\"changed\")");
        drop(c.into_box());
        assert_eq!(DROPPED.load(Ordering::SeqCst) - before, 3);
    }
}
