// The default scenario. Five replicas of a gossiped grow-only set and two clients writing to them, through
// a partition into halves, a replica crash and restart, a slow and lossy replica, and a one-way cut.
// Faults stop at 7s; by 10s every acknowledged write must be on every replica and all replicas must agree.
// Writes are acknowledged only once durable, so all invariants should hold for any seed.

import { parseDuration } from '../sim/kernel/time.ts';
import { defineScenario } from '../sim/testbed/index.ts';
import { buildGossipSet, GOSSIP_SET_DEFAULTS } from './models/gossip-set.ts';
import { gossipFaults } from './models/gossip-faults.ts';

export default defineScenario({
  name: 'gossip-partition',
  description: 'gossiped replicated set through a partition, a crash, a slow link and a one-way cut; all invariants hold',
  duration: '10s',
  liveness: { from: '7s', within: '3s' },
  setup(world) {
    buildGossipSet(world, { ...GOSSIP_SET_DEFAULTS, ackAfter: 'durable', writesStopAtNs: parseDuration('7s') });
  },
  faults: gossipFaults,
  faultTargets: (world) => world.fabric.nodeIds('replica'),
});
