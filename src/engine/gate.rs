//! A semaphore whose number of slots can change while slots are taken
//! ([`Gate`]): how the concurrency controller (`super::concurrency`) widens
//! and narrows the parts in flight without waiting for them.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore};

/// A semaphore whose number of slots can change while slots are taken.
/// Lowering it takes slots out as they come back.
pub struct Gate {
    slots: Arc<Semaphore>,
    /// Slots to take out of circulation as they come back.
    owed: AtomicU32,
    size: Mutex<u32>,
}

/// One slot of a [`Gate`], given back (or taken out) when dropped.
pub struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    gate: Arc<Gate>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let owed = self
            .gate
            .owed
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
        if let (Ok(_), Some(permit)) = (owed, self.permit.take()) {
            permit.forget();
        }
    }
}

impl Gate {
    pub fn new(size: u32) -> Arc<Gate> {
        Arc::new(Gate {
            slots: Arc::new(Semaphore::new(size as usize)),
            owed: AtomicU32::new(0),
            size: Mutex::new(size),
        })
    }

    /// A slot; `Err` once the gate is closed.
    pub async fn acquire(self: &Arc<Self>) -> Result<Slot, AcquireError> {
        let permit = self.slots.clone().acquire_owned().await?;
        Ok(Slot {
            permit: Some(permit),
            gate: self.clone(),
        })
    }

    /// No slot is handed out any more; waiters get `Err`.
    pub fn close(&self) {
        self.slots.close();
    }

    pub fn is_closed(&self) -> bool {
        self.slots.is_closed()
    }

    /// Every slot is taken (or owed).
    pub fn is_full(&self) -> bool {
        self.slots.available_permits() == 0
    }

    /// Makes the gate `to` slots big.
    pub fn resize(&self, to: u32) {
        let mut size = self.size.lock().unwrap_or_else(PoisonError::into_inner);
        if to > *size {
            let mut more = to - *size;
            // Cancel debts first: those slots are still out.
            while more > 0 {
                let paid = self
                    .owed
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
                if paid.is_err() {
                    break;
                }
                more -= 1;
            }
            self.slots.add_permits(more as usize);
        } else {
            let fewer = *size - to;
            let gone = self.slots.forget_permits(fewer as usize) as u32;
            self.owed.fetch_add(fewer - gone, Ordering::AcqRel);
        }
        *size = to;
    }
}

/// A part's slot that the part can give back before it ends, and take again.
///
/// An adaptive run on a long or thin link gives a part's slot back once its
/// body is all handed to the connection ([`Lease::give_back`]): the answer takes a round trip (and
/// the store's write) during which the part sends nothing, and on a long link
/// the next part should use that time. A retry takes a slot again first
/// ([`Lease::retake`]), so the bodies on the wire stay within the limit.
pub struct Lease {
    gate: Arc<Gate>,
    slot: Mutex<Option<Slot>>,
}

impl Lease {
    pub fn new(gate: Arc<Gate>, slot: Slot) -> Arc<Lease> {
        Arc::new(Lease {
            gate,
            slot: Mutex::new(Some(slot)),
        })
    }

    /// Gives the slot back, if held.
    pub fn give_back(&self) {
        let slot = self.held().take();
        drop(slot);
    }

    /// Takes a slot again, if it was given back. A closed gate (the run is
    /// stopping) hands none out: the part goes on without one, as the parts
    /// in flight finish.
    pub async fn retake(&self) {
        if self.held().is_some() {
            return;
        }
        if let Ok(slot) = self.gate.acquire().await {
            *self.held() = Some(slot);
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Option<Slot>> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_lease_gives_its_slot_back_and_takes_one_again() {
        let gate = Gate::new(1);
        let lease = Lease::new(gate.clone(), gate.acquire().await.unwrap());
        assert!(gate.is_full());
        // Given back (twice is once): another part can start.
        lease.give_back();
        lease.give_back();
        let other = gate.acquire().await.unwrap();
        // A retry waits for a slot while the other part holds the only one.
        let retaking = {
            let lease = lease.clone();
            tokio::spawn(async move { lease.retake().await })
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!retaking.is_finished());
        drop(other);
        retaking.await.unwrap();
        assert!(gate.is_full());
        // Held: taking again is a no-op, not a second slot.
        lease.retake().await;
        lease.give_back();
        assert!(!gate.is_full());
        // A closed gate hands out none: the part goes on without one.
        let _again = gate.acquire().await.unwrap();
        lease.give_back();
        gate.close();
        lease.retake().await;
    }

    #[tokio::test]
    async fn a_gate_shrinks_as_slots_come_back_and_grows_at_once() {
        let gate = Gate::new(3);
        let a = gate.acquire().await.unwrap();
        let b = gate.acquire().await.unwrap();
        gate.resize(1);
        // One free slot was taken out at once; one more is owed.
        assert!(gate.is_full());
        drop(a);
        assert!(gate.is_full(), "the owed slot was taken out");
        drop(b);
        let c = gate.acquire().await.unwrap();
        assert!(gate.is_full());
        gate.resize(4);
        let d = gate.acquire().await.unwrap();
        let e = gate.acquire().await.unwrap();
        let f = gate.acquire().await.unwrap();
        assert!(gate.is_full());
        // Growing cancels what is still owed before adding slots.
        gate.resize(2);
        gate.resize(3);
        drop((c, d, e, f));
        let _g: Vec<Slot> = vec![
            gate.acquire().await.unwrap(),
            gate.acquire().await.unwrap(),
            gate.acquire().await.unwrap(),
        ];
        assert!(gate.is_full());
        gate.close();
        assert!(gate.is_closed() && gate.acquire().await.is_err());
    }
}
