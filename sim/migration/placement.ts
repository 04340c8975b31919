// Where a VM may go (seed 003 Q13/Q14): a host qualifies when its published copy has every logical
// network the VM needs and the opaque switch serving each of them (matched by transport zone) is healthy
// with a free VIF port. A pure decision over what the caller gathered; owns the rule and the refusal
// reasons, not how the facts are collected (a destination's migration manager checks itself on prepare).

import type { NodeId } from '../net/index.ts';
import type { OpaqueSwitch, Publication } from './constructs.ts';

export type PlacementRefusal = 'no-network' | 'switch-unavailable' | 'no-free-port';

/** One candidate host as the decision sees it. */
export interface PlacementCandidate {
  readonly host: NodeId;
  /** The host's read-only copy of the NM's constructs (null: nothing published there). */
  readonly published: Publication | null;
  /** VIF ports in use or reserved on the host's switch. */
  readonly usedPorts: number;
}

export interface PlacementDecision {
  readonly chosen: NodeId | null;
  readonly refused: readonly { readonly host: NodeId; readonly reason: PlacementRefusal }[];
}

/** Why `candidate` cannot take a VM needing `networks`, or null when it can. */
export function refusalFor(networks: readonly string[], candidate: PlacementCandidate): PlacementRefusal | null {
  const copy = candidate.published;
  if (copy === null) return 'no-network';
  const own = copy.switches.filter((s) => s.host === candidate.host);
  const serving: OpaqueSwitch[] = [];
  for (const uuid of networks) {
    const network = copy.networks.find((n) => n.uuid === uuid);
    if (network === undefined) return 'no-network';
    const lfe = own.find((s) => s.tzs.includes(network.tz));
    if (lfe === undefined) return 'switch-unavailable';
    if (!serving.includes(lfe)) serving.push(lfe);
  }
  // A VM needing no particular network still needs a port on one of the host's switches.
  if (networks.length === 0) serving.push(...own);
  if (serving.length === 0 || serving.some((s) => s.status !== 'healthy')) return 'switch-unavailable';
  if (serving.some((s) => s.capacity - candidate.usedPorts < 1)) return 'no-free-port';
  return null;
}

/** The first candidate that qualifies, with the reason each one before it was rejected. */
export function placeVm(networks: readonly string[], candidates: readonly PlacementCandidate[]): PlacementDecision {
  const refused: { host: NodeId; reason: PlacementRefusal }[] = [];
  for (const candidate of candidates) {
    const reason = refusalFor(networks, candidate);
    if (reason === null) return { chosen: candidate.host, refused };
    refused.push({ host: candidate.host, reason });
  }
  return { chosen: null, refused };
}
