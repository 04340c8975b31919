// The data plane and tenants the controller-cluster scenarios share: four edge hosts and three tenants
// (A, B, C), each with a logical switch and a VM on three of the four hosts, and traffic within every
// tenant plus a broadcast. Owns only this declaration; the cluster and its checks are the scenario's.

import type { World } from '../../sim/testbed/index.ts';
import { NvTestbed, type NvTestbedOptions, type Probe } from './nv-testbed.ts';

export const TENANTS = ['A', 'B', 'C'] as const;
export const HOSTS = ['h1', 'h2', 'h3', 'h4'];

/** `trafficUntil`: when the probes stop (by default 9.8 s); keep it past the liveness phase's start. */
export function threeTenantCluster(world: World, cluster: NonNullable<NvTestbedOptions['cluster']>, trafficUntil = '9800ms'): NvTestbed {
  const t = new NvTestbed(world, { cluster });
  for (const h of HOSTS) t.host(h);
  TENANTS.forEach((tenant, i) => {
    t.logicalSwitch(`ls-${tenant}`, tenant, `10.${i}.0.0/24`);
    HOSTS.forEach((host, j) => {
      if ((i + j) % 4 === 3) return; // each tenant on three of the four hosts
      const hex = (n: number) => n.toString(16).padStart(2, '0');
      t.vm(`${tenant.toLowerCase()}${j + 1}`, { host, switch: `ls-${tenant}`, mac: `02:00:00:00:${hex(i + 1)}:${hex(j + 1)}`, ip: `10.${i}.0.${j + 1}` });
    });
  });
  t.start();
  t.traffic({
    from: '1500ms',
    until: trafficUntil,
    every: '250ms',
    probes: () => {
      const probes: Probe[] = [];
      for (const tenant of TENANTS) probes.push(...NvTestbed.allPairs(t.attachedVms(t.vmNames().filter((v) => v.startsWith(tenant.toLowerCase())))));
      probes.push({ kind: 'broadcast', from: 'b2' });
      return probes;
    },
  });
  return t;
}
