// A pool node (a non-leaf managed switch, seed 000): a switch with only tunnel ports, to which edge
// switches send unknown-unicast and broadcast/multicast traffic; its flows (from the controller) replicate
// a packet as one tunnel frame per destination switch. Owns nothing beyond the switch node itself — the
// replication is the controller's flows, which keeps the pool node honest about what it was told.

import type { NodeContext } from '../net/node.ts';
import { SwitchNode, type DataplaneShared } from './switch-node.ts';

export class PoolNode extends SwitchNode {
  constructor(ctx: NodeContext, shared: DataplaneShared) {
    super(ctx, shared);
  }
}
