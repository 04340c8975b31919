// The page's colors: each controller a distinct categorical color by its order of first start (stable for
// a trace, whatever the time), and the fixed colors of the other marks (down, no master, selection, packet
// path…). Owns the palette; the topology, legend, LDPS list and charts all take their colors from here, so
// they agree.

import { schemeSet1, schemeTableau10 } from 'd3';

/** Tableau 10, then Set 1 without its grey (grey means "down"): 18 colors before any repeats. */
const CONTROLLER_PALETTE: readonly string[] = [...schemeTableau10, ...schemeSet1.filter((c) => c !== '#999999')];

/** Controller id → color, in the order given (the model's first-start order). */
export function controllerColors(controllers: readonly string[]): ReadonlyMap<string, string> {
  return new Map(controllers.map((id, i) => [id, CONTROLLER_PALETTE[i % CONTROLLER_PALETTE.length]]));
}

export const MARK_COLORS = {
  noMaster: '#ffffff',
  down: '#c8c8c8',
  downCross: '#444444',
  partitionOutline: '#111111',
  outline: '#4a5560',
  /** Northbound, network manager, segments: nodes no controller masters. */
  unmastered: '#eef1f4',
  vm: '#34495e',
  tunnel: '#b9c2cc',
  tunnelSelected: '#6b7785',
  selected: '#1f5fbf',
  highlighted: '#ffc400',
  packetPath: '#d4007a',
  label: '#1d2630',
} as const;
