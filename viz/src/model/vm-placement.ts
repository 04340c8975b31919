// Which host each VM runs on, over time. A VM attached to a second host (a migration's destination, which
// attaches it stunned) keeps running on the first until it resumes on the second (`mig.resume`) or the
// first lets it go (`dp.vif.detach`); when the host it runs on detaches it, it is on the host that attached
// it last, if any. A host crash does not detach anything: a host's VM list is persistent. Owns that rule
// and the VM → host history; it does not read records itself.

import { KeyedHistory } from './keyed-history.ts';

export class VmPlacement {
  /** VM → the host it runs on. */
  readonly history = new KeyedHistory<string>();
  /** VM → the hosts it is attached to, in attach order. */
  private readonly attachedTo = new Map<string, Set<string>>();

  attach(t: number, vm: string, host: string): void {
    let hosts = this.attachedTo.get(vm);
    if (hosts === undefined) this.attachedTo.set(vm, (hosts = new Set()));
    hosts.delete(host);
    hosts.add(host);
    if (this.history.current(vm) === undefined) this.history.set(t, vm, host);
  }

  detach(t: number, vm: string, host: string): void {
    const hosts = this.attachedTo.get(vm);
    if (hosts === undefined || !hosts.delete(host)) return;
    if (this.history.current(vm) === host) this.history.set(t, vm, lastOf(hosts));
  }

  /** The VM started running on `host` (a migration resumed it there). */
  resume(t: number, vm: string, host: string): void {
    if (this.attachedTo.get(vm)?.has(host)) this.history.set(t, vm, host);
  }
}

function lastOf(hosts: ReadonlySet<string>): string | undefined {
  let last: string | undefined;
  for (const host of hosts) last = host;
  return last;
}
