// Seed 001 §2.A (FIG. 2): migration with pre-notification, no state sharing manager. Three tenants' clients
// hold connections through a firewall (A), a DNAT (B) and a load balancer (C); one client of each migrates
// live h1 → h2. The source element is told first, streams its deltas to the migration manager until the
// stun, and the state travels with the VM; the destination installs it before the VM resumes, and the
// source deletes its copy. Checks: connections answered again within 1 s of resume, translations never
// change, A's connection opened after its rule was withdrawn never gets through, one running copy, no
// stale state used, isolation. summary.json: downtime, state bytes, gap packets per migration.

import { defineScenario } from '../sim/testbed/index.ts';
import { setupHandoffVariant } from './models/migration-lab.ts';

export default defineScenario({
  name: 'migration-prenotify',
  description: 'seed 001 FIG. 2: pre-notified live migration carries firewall, DNAT and LB state with the VM',
  duration: '10s',
  liveness: { from: '8s', within: '2s' },
  setup: (world) => void setupHandoffVariant(world, { handoff: 'prenotify', ssm: false }),
});
