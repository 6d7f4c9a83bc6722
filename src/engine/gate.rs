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
