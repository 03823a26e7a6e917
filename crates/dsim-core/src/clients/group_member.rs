//! A Kafka consumer's side of its group (Kafka's client-side `ConsumerCoordinator`): a
//! rebalance as the members take part in it, and the assignment a member brings up to date
//! at each poll. The group itself, which member owns which partition and the epochs it hands
//! out, is the broker's (`brokers/kafka/group.rs`); what a member does with a partition it
//! loses (commit first, drop what it buffered) is the client's, here.

use crate::brokers::Brokers;
use crate::clients::Clients;
use crate::engine::World;

impl Clients {
    /// Membership changed: the group hands the partitions out again. A member gives up the
    /// partitions it loses at a poll, committing what it processed first (Kafka commits
    /// before it rejoins, `onJoinPrepare`): an idle member at once, a busy one when it has
    /// finished its poll's records. A partition goes to its new owner, from the committed
    /// offset, once its live holder has let it go. A stalled or crashed consumer takes no
    /// part: it learns at its next poll or restart, and once the group has removed it, its
    /// partitions move without waiting for it.
    pub(crate) fn rebalance(&mut self, brokers: &mut Brokers, world: &mut World) {
        brokers.count_members();
        let n = world.consumers.len() as u16;
        for c in 0..n {
            if brokers.takes_part(world, c) && self.at_poll(world, c) {
                self.revoke_lost(brokers, world, c);
            }
        }
        brokers.assign_all(world);
    }

    /// Whether a consumer is between polls' work: nothing in hand, buffered or committing.
    fn at_poll(&self, world: &World, consumer: u16) -> bool {
        let c = &world.consumers[consumer as usize];
        c.current.is_none() && c.queue.is_empty() && c.txn.is_empty() && c.committing.is_none()
    }

    /// Brings one consumer's assignment up to date with the group, at its poll or restart.
    /// Partitions it lets go can now go to their new owners.
    pub(crate) fn sync_assignment(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
    ) {
        if self.revoke_lost(brokers, world, consumer) {
            brokers.assign_all(world);
        }
        brokers.assign_owned(world, consumer);
    }

    /// Drops the assignments a consumer no longer holds, and the records it buffered from
    /// them (their next owner reads them from the committed offset). Returns whether it let
    /// go of a partition that was still its current assignment.
    fn revoke_lost(&mut self, brokers: &mut Brokers, world: &mut World, consumer: u16) -> bool {
        let mut released = false;
        let mut i = world.consumers[consumer as usize].assigned.len();
        while i > 0 {
            i -= 1;
            let a = world.consumers[consumer as usize].assigned[i];
            let current = brokers.is_current(&a);
            let member = brokers.group.is_member(consumer);
            if current && member && brokers.owner_of(a.partition) == Some(consumer) {
                continue;
            }
            let stalled = world.consumers[consumer as usize].stalled;
            if current && world.mode.commits_after_processing() && !stalled {
                // Kafka's consumer commits its positions before it gives a partition up
                // (auto-commit in `onJoinPrepare`), so the next owner does not redo them.
                brokers.advance_committed(world, a.partition, a.processed);
            }
            released |= current;
            world.consumers[consumer as usize].assigned.swap_remove(i);
            self.drop_buffered(world, consumer, a.partition);
        }
        released
    }
}
