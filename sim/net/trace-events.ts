// The fabric's journal entries. `net.*` are per-message (recorded at level full); `node.*` and `fault.*`
// are per-fault (recorded at level summary). Declared here, emitted only by fabric.ts.

import type { LinkConfig } from './link.ts';
import type { Message, NodeId } from './message.ts';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    'net.send': { id: number; src: NodeId; dst: NodeId; body: Message };
    'net.deliver': { id: number; src: NodeId; dst: NodeId };
    'net.duplicate': { id: number; copyOf: number; src: NodeId; dst: NodeId };
    'net.drop.loss': { id: number; src: NodeId; dst: NodeId };
    /** `at` says whether the cut was found when the message was sent or when it was due to arrive. */
    'net.drop.partition': { id: number; src: NodeId; dst: NodeId; at: 'send' | 'delivery' };
    'net.drop.crashed': { id: number; src: NodeId; dst: NodeId };
    'node.start': { node: NodeId; kind: string; incarnation: number };
    'fault.crash': { node: NodeId; incarnation: number };
    'fault.restart': { node: NodeId; incarnation: number };
    'fault.partition': { id: string; mode: 'groups' | 'one-way'; groups: NodeId[][] };
    'fault.heal': { id: string };
    'fault.degrade': { id: string; from: NodeId[]; to: NodeId[]; symmetric: boolean; link: Partial<LinkConfig> };
    'fault.restore': { id: string };
  }
}

export {};
