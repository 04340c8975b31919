// The same replicated set, but replicas acknowledge a write as soon as it arrives and write it to disk
// 200ms later. A crash in that window loses writes the clients were told had succeeded, so the
// `acknowledged-writes-survive` invariant fails: the run exits 1 and its summary names the seed to replay.

import { NS_PER_MS, parseDuration } from '../sim/kernel/time.ts';
import { defineScenario } from '../sim/testbed/index.ts';
import { buildGossipSet, GOSSIP_SET_DEFAULTS } from './models/gossip-set.ts';
import { gossipFaults } from './models/gossip-faults.ts';

export default defineScenario({
  name: 'gossip-lost-ack',
  description: 'replicas ack writes before they are durable; a crash loses acknowledged writes (an invariant fails)',
  duration: '10s',
  liveness: { from: '7s', within: '3s' },
  setup(world) {
    buildGossipSet(world, {
      ...GOSSIP_SET_DEFAULTS,
      ackAfter: 'received',
      diskWriteNs: 200 * NS_PER_MS,
      writesStopAtNs: parseDuration('7s'),
    });
  },
  faults: gossipFaults,
  faultTargets: (world) => world.fabric.nodeIds('replica'),
});
