// A gateway (an extender, seed 000): a switch node with tunnel ports toward the managed side and one
// physical port (PHYSICAL_PORT) wired to an unmanaged external segment (external-segment.ts). Its flows
// bridge a logical switch to that segment: frames from tunnels out of the physical port, and frames
// from the segment into the logical pipeline. Owns nothing beyond the switch node's physical port.

import type { NodeId } from '../net/message.ts';
import type { NodeContext } from '../net/node.ts';
import { PHYSICAL_PORT, type PhysicalPort } from './ports.ts';
import { SwitchNode, type DataplaneShared } from './switch-node.ts';

export class GatewayNode extends SwitchNode {
  constructor(ctx: NodeContext, shared: DataplaneShared) {
    super(ctx, shared);
  }

  /** The physical port, once wired. */
  get physicalPort(): PhysicalPort | undefined {
    const port = this.switch.ports.get(PHYSICAL_PORT);
    return port?.kind === 'physical' ? port : undefined;
  }

  /** The external segment the physical port is wired to, if any. */
  get segment(): NodeId | undefined {
    return this.physicalPort?.segment;
  }
}
