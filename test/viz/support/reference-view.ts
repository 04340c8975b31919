// A deliberately naive reading of a trace's state at one time, for checking the trace model's indexed
// viewAt: it replays every record from the start up to the time, with no checkpoints, no change lists and
// no caching. It states the model's rules (viz/src/model) again in their plainest form: mastership from
// coordination-manager records, or from switch role records for switches no coordination manager assigns,
// lost on a crash; crashed from a crash until the next start; partitions until healed; a VM runs on the
// host it was first attached to until it resumes elsewhere or that host detaches it.

export interface ReferenceView {
  readonly controllers: string[];
  readonly switches: string[];
  readonly vms: string[];
  readonly masterOf: Record<string, string>;
  readonly ldpsMasterOf: Record<string, string>;
  readonly crashed: string[];
  readonly partitions: { id: string; mode: string; groups: string[][] }[];
  readonly vmHost: Record<string, string>;
  readonly violations: { t: number; id: string; detail: string }[];
}

type Rec = { t: number; type: string } & Record<string, any>;

export function parseLines(lines: readonly string[]): Rec[] {
  return lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Rec);
}

export function referenceViewAt(records: readonly Rec[], time: number): ReferenceView {
  const cmSwitches = new Set(records.filter((r) => r.type === 'cm.master' && String(r.entity).startsWith('switch:')).map((r) => String(r.entity).slice(7)));
  const kindOf = new Map<string, string>();
  const vmsSeen = new Set<string>();
  const crashed = new Set<string>();
  const master = new Map<string, string>(); // 'switch:h1' / 'ldps:A' → instance
  const partitions = new Map<string, { id: string; mode: string; groups: string[][] }>();
  const attached = new Map<string, string[]>();
  const runningOn = new Map<string, string>();
  const violations: ReferenceView['violations'] = [];
  for (const r of records) {
    if (r.t > time) break;
    switch (r.type) {
      case 'node.start':
        if (!kindOf.has(r.node)) kindOf.set(r.node, r.kind);
        crashed.delete(r.node);
        break;
      case 'fault.crash':
        crashed.add(r.node);
        for (const [entity, instance] of [...master]) if (instance === r.node) master.delete(entity);
        break;
      case 'fault.restart':
        crashed.delete(r.node);
        break;
      case 'cm.master':
        if (r.held && !crashed.has(r.instance)) master.set(r.entity, r.instance);
        if (!r.held && master.get(r.entity) === r.instance) master.delete(r.entity);
        break;
      case 'switch.role':
        if (cmSwitches.has(r.node)) break;
        if (r.role === 'master' && !crashed.has(r.controller)) master.set(`switch:${r.node}`, r.controller);
        if (r.role !== 'master' && master.get(`switch:${r.node}`) === r.controller) master.delete(`switch:${r.node}`);
        break;
      case 'fault.partition':
        partitions.set(r.id, { id: r.id, mode: r.mode, groups: r.groups });
        break;
      case 'fault.heal':
        partitions.delete(r.id);
        break;
      case 'dp.vif.attach': {
        vmsSeen.add(r.vm);
        const hosts = (attached.get(r.vm) ?? []).filter((h) => h !== r.node);
        attached.set(r.vm, [...hosts, r.node]);
        if (!runningOn.has(r.vm)) runningOn.set(r.vm, r.node);
        break;
      }
      case 'dp.vif.detach': {
        const hosts = attached.get(r.vm) ?? [];
        if (!hosts.includes(r.node)) break;
        const left = hosts.filter((h) => h !== r.node);
        attached.set(r.vm, left);
        if (runningOn.get(r.vm) === r.node) {
          if (left.length > 0) runningOn.set(r.vm, left[left.length - 1]);
          else runningOn.delete(r.vm);
        }
        break;
      }
      case 'mig.resume':
        if ((attached.get(r.vm) ?? []).includes(r.node)) runningOn.set(r.vm, r.node);
        break;
      case 'check.violation':
        violations.push({ t: r.t, id: r.id, detail: r.detail });
        break;
    }
  }
  const entitiesOf = (prefix: string) =>
    Object.fromEntries([...master].filter(([e]) => e.startsWith(prefix)).map(([e, i]) => [e.slice(prefix.length), i]));
  const nodesOf = (kinds: string[]) => [...kindOf].filter(([, k]) => kinds.includes(k)).map(([n]) => n).sort();
  return {
    controllers: nodesOf(['controller']),
    switches: nodesOf(['host', 'pool', 'gateway']),
    vms: [...vmsSeen].sort(),
    masterOf: entitiesOf('switch:'),
    ldpsMasterOf: entitiesOf('ldps:'),
    crashed: [...crashed].sort(),
    partitions: [...partitions.values()].sort((a, b) => (a.id < b.id ? -1 : 1)),
    vmHost: Object.fromEntries(runningOn),
    violations,
  };
}
