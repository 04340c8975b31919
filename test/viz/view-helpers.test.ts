// The views' pure helpers: stepping between events, reading step series, filtering packets, pairing a
// packet's tunnel hops with where they arrive, writing times, and controller colors.

import { describe, expect, it } from 'vitest';
import type { PacketHop, PacketSummary } from '../../viz/src/model/types.ts';
import { totalSeries, untilEnd, valueAt } from '../../viz/src/views/flow-series.ts';
import { filterPackets } from '../../viz/src/views/packet-filter.ts';
import { packetEdges } from '../../viz/src/views/packet-path.ts';
import { controllerColors } from '../../viz/src/views/palette.ts';
import { axisTickFormat, formatInstant, formatSpan } from '../../viz/src/views/time-format.ts';
import { nextTime, previousTime } from '../../viz/src/views/timeline-steps.ts';

describe('timeline steps', () => {
  const times = [10, 20, 20, 30];
  it('finds the event strictly before and after an instant', () => {
    expect(previousTime(times, 20)).toBe(10);
    expect(previousTime(times, 21)).toBe(20);
    expect(previousTime(times, 10)).toBeNull();
    expect(nextTime(times, 20)).toBe(30);
    expect(nextTime(times, 0)).toBe(10);
    expect(nextTime(times, 30)).toBeNull();
  });
});

describe('step series', () => {
  it('reads the value at an instant', () => {
    const points = [
      { t: 5, value: 1 },
      { t: 9, value: 4 },
    ];
    expect(valueAt(points, 4)).toBe(0);
    expect(valueAt(points, 5)).toBe(1);
    expect(valueAt(points, 100)).toBe(4);
  });

  it('totals series, one point per time of change', () => {
    const total = totalSeries({
      a: [
        { t: 1, value: 2 },
        { t: 5, value: 1 },
      ],
      b: [
        { t: 1, value: 3 },
        { t: 3, value: 4 },
      ],
    });
    expect(total).toEqual([
      { t: 1, value: 5 },
      { t: 3, value: 6 },
      { t: 5, value: 5 },
    ]);
  });

  it('carries the last value to the end', () => {
    expect(untilEnd([{ t: 1, value: 2 }], 10)).toEqual([
      { t: 1, value: 2 },
      { t: 10, value: 2 },
    ]);
    expect(untilEnd([], 10)).toEqual([]);
  });
});

describe('filterPackets', () => {
  const packets: PacketSummary[] = [
    { packetId: 1, t: 0, from: 'a1', label: 'ARP 10.0.0.1 → 10.0.0.2' },
    { packetId: 12, t: 1, from: 'b2', label: 'TCP 10.1.0.1:4 → 10.1.0.2:80' },
    { packetId: 21, t: 2, from: 'A1', label: 'ICMP 10.0.0.1 → 10.0.0.3' },
  ];
  it('matches an id exactly, or part of the sender or description, ignoring case', () => {
    expect(filterPackets(packets, '12', 10).shown.map((p) => p.packetId)).toEqual([12]);
    expect(filterPackets(packets, '#1', 10).shown.map((p) => p.packetId)).toEqual([1]);
    expect(filterPackets(packets, 'a1', 10).shown.map((p) => p.packetId)).toEqual([1, 21]);
    expect(filterPackets(packets, ':80', 10).shown.map((p) => p.packetId)).toEqual([12]);
    expect(filterPackets(packets, '  ', 10).matched).toBe(3);
  });
  it('caps what it shows and counts the rest', () => {
    const result = filterPackets(packets, '', 2);
    expect(result.shown).toHaveLength(2);
    expect(result.matched).toBe(3);
  });
});

describe('packetEdges', () => {
  const hop = (node: string, kind: PacketHop['kind'], to?: string): PacketHop => ({ t: 0, node, kind, detail: '', flows: [], ...(to !== undefined && { to }) });
  it('fans a broadcast out from its source, tunnel by tunnel', () => {
    const hops = [hop('h1', 'send'), hop('h1', 'pipeline'), hop('h1', 'tunnel', 'h3'), hop('h1', 'tunnel', 'h2'), hop('h2', 'pipeline'), hop('h2', 'receive'), hop('h3', 'pipeline')];
    expect(packetEdges('a1', hops)).toEqual([
      { from: 'a1', to: 'h1' },
      { from: 'h1', to: 'h3' },
      { from: 'h1', to: 'h2' },
    ]);
  });
  it('follows a relay through a pool node', () => {
    const hops = [hop('h1', 'pipeline'), hop('h1', 'tunnel', 'p1'), hop('p1', 'pipeline'), hop('p1', 'tunnel', 'h3'), hop('h3', 'pipeline')];
    expect(packetEdges('a1', hops).slice(1)).toEqual([
      { from: 'h1', to: 'p1' },
      { from: 'p1', to: 'h3' },
    ]);
  });
  it('draws nothing for a packet with no hops', () => {
    expect(packetEdges('a1', [])).toEqual([]);
  });
});

describe('time text', () => {
  it('writes instants to the nanosecond and spans in a readable unit', () => {
    expect(formatInstant(0)).toBe('0.000000000 s');
    expect(formatInstant(3_000_512_000)).toBe('3.000512000 s');
    expect(formatSpan(1_812_000_000)).toBe('1.81 s');
    expect(formatSpan(35_200)).toBe('35.2 µs');
    expect(formatSpan(812)).toBe('812 ns');
    expect(axisTickFormat(10e9)(2.5e9)).toBe('2.5 s');
    expect(axisTickFormat(5e6)(1.2e6)).toBe('1.2 ms');
    expect(axisTickFormat(8)(3)).toBe('3 ns');
  });
});

describe('controllerColors', () => {
  it('gives distinct colors in the given order, the same every time', () => {
    const ids = Array.from({ length: 18 }, (_, i) => `ctl-${i + 1}`);
    const colors = controllerColors(ids);
    expect(new Set(colors.values()).size).toBe(18);
    expect([...controllerColors(ids)]).toEqual([...colors]);
    expect(controllerColors(['ctl-2', 'ctl-1']).get('ctl-2')).toBe(colors.get('ctl-1'));
  });
});
