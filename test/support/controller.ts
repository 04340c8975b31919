// End-to-end controller tests' shared wiring and reading: a world with the northbound database and one
// controller, the controller process, installed and desired tables as sorted flow text, and the
// convergence check every controller test ends with.
import { expect } from 'vitest';
import { ControllerNode, DEFAULT_CONTROLLER_OPTIONS, type ControllerOptions } from '../../sim/control/controller-node.ts';
import { NorthboundNode } from '../../sim/control/northbound-node.ts';
import { rowToFlow, type FlowRow } from '../../sim/control/flow-text.ts';
import { formatFlow } from '../../sim/dataplane/flow.ts';
import { DataplaneBuilder } from '../../sim/dataplane/topology-builder.ts';
import { LogicalNetworks } from '../../sim/logical/logical-networks.ts';
import { evaluateFromScratch } from '../../sim/rules/index.ts';
import { World } from '../../sim/testbed/world.ts';

/** A world with the northbound database 'nb' and one controller 'ctl' subscribed to it; the data plane is the test's. */
export function controllerWorld(seed: number, options: Partial<ControllerOptions> = {}) {
  const world = new World({ seed, trace: 'off' });
  const nb = new LogicalNetworks();
  world.fabric.addNode('nb', (ctx) => new NorthboundNode(ctx, nb), { kind: 'northbound' });
  world.fabric.addNode('ctl', (ctx) => new ControllerNode(ctx, { ...DEFAULT_CONTROLLER_OPTIONS, ...options, northbound: 'nb' }), { kind: 'controller' });
  return { world, nb, dp: new DataplaneBuilder(world) };
}

export const controllerOf = (world: World, id = 'ctl'): ControllerNode => world.fabric.process<ControllerNode>(id)!;

/** A switch's installed flows, as sorted text. */
export const installed = (dp: DataplaneBuilder, id: string): string[] => dp.switchNode(id).switch.flows.flows().map(formatFlow).sort();

/** The controller's desired flows for a switch, as sorted text. */
export const desired = (world: World, id: string): string[] => controllerOf(world).desiredFlows(id).map(formatFlow).sort();

/**
 * Every switch in sync, and on each: installed = desired = the incremental program's physical_flow = a
 * from-scratch evaluation of the program; and the incremental and from-scratch outputs agree as wholes.
 */
export function expectConverged(world: World, dp: DataplaneBuilder, switches: readonly string[] = dp.switches): void {
  const ctl = controllerOf(world);
  expect(ctl.switches.allInSync()).toBe(true);
  const { engine, physicalFlow } = ctl.program;
  const batch = (evaluateFromScratch(engine).get('physical_flow') ?? []) as unknown as FlowRow[];
  const incremental = engine.contents(physicalFlow) as FlowRow[];
  const key = (r: FlowRow) => JSON.stringify(r);
  expect(batch.map(key).sort()).toEqual(incremental.map(key).sort());
  const text = (rows: readonly FlowRow[], id: string) => rows.filter((r) => r.chassis === id).map((r) => formatFlow(rowToFlow(r))).sort();
  for (const id of switches) {
    expect(installed(dp, id)).toEqual(desired(world, id));
    expect(installed(dp, id)).toEqual(text(batch, id));
    expect(installed(dp, id)).toEqual(text(incremental, id));
  }
}
