// The fixed fault schedule the gossip scenarios share: every fault kind once, all healed by 6.5s.

import { DEGRADE_PRESETS } from '../../sim/faults/windows.ts';
import { parseFaultSchedule, type FaultSchedule } from '../../sim/faults/schedule.ts';

export function gossipFaults(): FaultSchedule {
  return parseFaultSchedule([
    { at: '1s', verb: 'partition', id: 'halves', groups: [['r1', 'r2'], ['r3', 'r4', 'r5']] },
    { at: '2s', verb: 'crash', node: 'r4' },
    { at: '3s', verb: 'heal', id: 'halves' },
    { at: '4s', verb: 'restart', node: 'r4' },
    { at: '4500ms', verb: 'degrade', id: 'slow-r2', from: ['r2'], to: ['r1', 'r3', 'r4', 'r5'], link: { ...DEGRADE_PRESETS.slow, ...DEGRADE_PRESETS.flaky } },
    { at: '5s', verb: 'partition-one-way', id: 'r5-deaf', from: ['r1', 'r2', 'r3', 'r4'], to: ['r5'] },
    { at: '6s', verb: 'restore', id: 'slow-r2' },
    { at: '6500ms', verb: 'heal', id: 'r5-deaf' },
  ]);
}
