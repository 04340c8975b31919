// Seed 001 §2.B (FIG. 3): migration detected after the move, no state sharing manager. The VM moves with no word to its element; the destination switch reports the VIF with its origin, the destination switch's physical master asks the source migration manager for the state, and the state follows the VM. Until it is installed the destination element meets the VM's packets with the state-gap policy (here: buffer). The world and checks are migration-prenotify's (scenarios/models/migration-lab.ts).

import { defineScenario } from '../sim/testbed/index.ts';
import { setupHandoffVariant } from './models/migration-lab.ts';

export default defineScenario({
  name: 'migration-detected',
  description: 'seed 001 FIG. 3: migration detected at the destination; the controller fetches the middlebox state after the move',
  duration: '10s',
  liveness: { from: '8s', within: '2s' },
  setup: (world) => void setupHandoffVariant(world, { handoff: 'detected', ssm: false, gapPolicy: 'buffer' }),
});
