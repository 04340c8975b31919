// Seed 001 §2.D (FIG. 6): migration detected after the move, through the state sharing managers. The controller's fetch reaches the source migration manager, which asks its SSM: type-1 state goes SSM to SSM, local-only state manager to manager; the destination element pulls all of it from its SSM. Gap policy: buffer. The world and checks are migration-prenotify's (scenarios/models/migration-lab.ts).

import { defineScenario } from '../sim/testbed/index.ts';
import { setupHandoffVariant } from './models/migration-lab.ts';

export default defineScenario({
  name: 'migration-detected-ssm',
  description: 'seed 001 FIG. 6: detected migration with state sharing managers (type-1 SSM to SSM, local-only via the managers)',
  duration: '10s',
  liveness: { from: '8s', within: '2s' },
  setup: (world) => void setupHandoffVariant(world, { handoff: 'detected', ssm: true, gapPolicy: 'buffer' }),
});
