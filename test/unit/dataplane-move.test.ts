// The move action with OVS subfield semantics: whole-field copies as before, bit ranges that replace only
// their bits of the destination (the tunnel's ingress << 16 | egress packing and its split), the text form,
// and validateFlow refusing ranges outside 0..31 and ranges on the 48-bit MAC fields.
import { describe, expect, test } from 'vitest';
import { formatAction, formatFlow, type Action, type Flow } from '../../sim/dataplane/flow.ts';
import { validateFlow } from '../../sim/dataplane/flow-entry.ts';
import { fieldValues } from '../../sim/dataplane/field-values.ts';
import { FlowTable } from '../../sim/dataplane/flow-table.ts';
import { udpHeaders } from '../../sim/dataplane/header-builder.ts';
import { moveBits, runActions } from '../../sim/dataplane/pipeline.ts';

type Move = Extract<Action, { type: 'move' }>;
const udp = udpHeaders({ ethSrc: 0x0200_0000_0001, ethDst: 0x0200_0000_0002, ipSrc: 10, ipDst: 20, l4Src: 1000, l4Dst: 53 });
const flow = (actions: Action[]): Flow => ({ table: 0, priority: 1, match: {}, actions, cookie: 'c' });

/** The pipeline values after running `actions` from `preset`. */
function after(actions: Action[], preset: Partial<Record<'reg0' | 'reg6' | 'reg7' | 'tunMeta', number>> = {}) {
  const v = fieldValues(udp, 1, 0, preset.tunMeta ?? 0);
  v.reg0 = preset.reg0 ?? 0;
  v.reg6 = preset.reg6 ?? 0;
  v.reg7 = preset.reg7 ?? 0;
  runActions(new FlowTable(), v, actions, 100, false);
  return v;
}

describe('move with bit ranges', () => {
  test('packs two 16-bit ports into tunMeta and splits them back out, as the tunnel does', () => {
    const pack: Action[] = [
      { type: 'move', from: 'reg7', to: 'tunMeta', fromBit: 0, toBit: 0, bits: 16 },
      { type: 'move', from: 'reg6', to: 'tunMeta', fromBit: 0, toBit: 16, bits: 16 },
    ];
    const packed = after(pack, { reg6: 3, reg7: 0xffff, tunMeta: 0xdead_beef });
    expect(packed.tunMeta).toBe((3 << 16) | 0xffff); // every old bit overwritten
    const split: Action[] = [
      { type: 'move', from: 'tunMeta', to: 'reg7', fromBit: 0, toBit: 0, bits: 16 },
      { type: 'move', from: 'tunMeta', to: 'reg6', fromBit: 16, toBit: 0, bits: 16 },
    ];
    const v = after(split, { tunMeta: packed.tunMeta });
    expect([v.reg6, v.reg7]).toEqual([3, 0xffff]);
    expect(v.tunMeta).toBe(packed.tunMeta); // the source is left alone
  });

  test('leaves the destination bits outside the range unchanged', () => {
    expect(after([{ type: 'move', from: 'reg0', to: 'reg6', fromBit: 4, toBit: 8, bits: 8 }], { reg0: 0xab0, reg6: 0xffff_ffff }).reg6).toBe(0xffff_abff);
    expect(after([{ type: 'move', from: 'reg0', to: 'reg6', toBit: 31, bits: 1 }], { reg0: 1, reg6: 5 }).reg6).toBe(0x8000_0005);
    expect(after([{ type: 'move', from: 'reg0', to: 'reg6', fromBit: 31, bits: 1 }], { reg0: 0x8000_0000, reg6: 0x10 }).reg6).toBe(0x11);
  });

  test('a full 32-bit range is a plain copy, unsigned', () => {
    expect(after([{ type: 'move', from: 'reg0', to: 'reg6', bits: 32 }], { reg0: 0xffff_fffe, reg6: 7 }).reg6).toBe(0xffff_fffe);
    expect(moveBits(0xffff_ffff, 0, 0, 0, 32)).toBe(0xffff_ffff);
    expect(moveBits(0xffff_ffff, 0, 0, 16, 16)).toBe(0xffff_0000);
  });

  test('without a range the whole value moves, MACs included', () => {
    const v = after([{ type: 'move', from: 'ethSrc', to: 'ethDst' }]);
    expect(v.ethDst).toBe(0x0200_0000_0001);
  });
});

describe('text and validation', () => {
  test('the text shows a range only when one is given', () => {
    expect(formatAction({ type: 'move', from: 'reg7', to: 'tunMeta' })).toBe('move:reg7->tunMeta');
    expect(formatAction({ type: 'move', from: 'tunMeta', to: 'reg6', fromBit: 16, toBit: 0, bits: 16 })).toBe('move:tunMeta[16..31]->reg6[0..15]');
    expect(formatAction({ type: 'move', from: 'reg0', to: 'reg1', bits: 8 })).toBe('move:reg0[0..7]->reg1[0..7]');
    expect(formatFlow(flow([{ type: 'move', from: 'reg0', to: 'reg1', bits: 32 }]))).toContain('move:reg0[0..31]->reg1[0..31]');
  });

  test('validateFlow accepts ranges within 0..31 and refuses the rest', () => {
    const ok: Move[] = [
      { type: 'move', from: 'reg0', to: 'reg1', bits: 32 },
      { type: 'move', from: 'reg0', to: 'reg1', fromBit: 31, toBit: 0, bits: 1 },
      { type: 'move', from: 'tunMeta', to: 'reg6', fromBit: 16, bits: 16 },
      { type: 'move', from: 'ethSrc', to: 'ethDst' },
    ];
    for (const m of ok) expect(() => validateFlow(flow([m]))).not.toThrow();
    const bad: [Move, RegExp][] = [
      [{ type: 'move', from: 'reg0', to: 'reg1', fromBit: 16 }, /within bits 0\.\.31/], // bits defaults to 32
      [{ type: 'move', from: 'reg0', to: 'reg1', toBit: 17, bits: 16 }, /within bits 0\.\.31/],
      [{ type: 'move', from: 'reg0', to: 'reg1', fromBit: 32, bits: 1 }, /within bits 0\.\.31/],
      [{ type: 'move', from: 'reg0', to: 'reg1', bits: 0 }, /bits at least 1/],
      [{ type: 'move', from: 'reg0', to: 'reg1', fromBit: -1, bits: 1 }, /whole numbers/],
      [{ type: 'move', from: 'reg0', to: 'reg1', toBit: 1.5, bits: 1 }, /whole numbers/],
      [{ type: 'move', from: 'ethSrc', to: 'reg1', bits: 16 }, /MAC fields/],
      [{ type: 'move', from: 'reg1', to: 'ethDst', toBit: 0, bits: 8 }, /MAC fields/],
    ];
    for (const [m, why] of bad) {
      expect(() => validateFlow(flow([m]))).toThrow(why);
      expect(() => new FlowTable().add(flow([m]))).toThrow(why);
    }
  });
});
