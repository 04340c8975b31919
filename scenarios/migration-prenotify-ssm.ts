// Seed 001 §2.C (FIG. 5): pre-notified migration through the state sharing managers. The source SSM is told first and asks the element for the local-only (type-2) state; type-1 state goes SSM to SSM; the migration managers carry only local-only state, and the destination VM resumes only after its SSM acknowledges the install. The world and checks are migration-prenotify's (scenarios/models/migration-lab.ts).

import { defineScenario } from '../sim/testbed/index.ts';
import { setupHandoffVariant } from './models/migration-lab.ts';

export default defineScenario({
  name: 'migration-prenotify-ssm',
  description: 'seed 001 FIG. 5: pre-notified migration through the state sharing managers, ACK-gated resume',
  duration: '10s',
  liveness: { from: '8s', within: '2s' },
  setup: (world) => void setupHandoffVariant(world, { handoff: 'prenotify', ssm: true }),
});
