// The middlebox software of one host: its element and its state sharing manager, wired together and
// presented to the switch as one MiddleboxHook (sim/dataplane/middlebox-hook.ts) that also takes the
// managers' 'ssm.*' fabric messages. Built afresh at every (re)start of the node: all of it is volatile.
// Owns this wiring and the hook factory the testbed plugs into DataplaneShared; nothing else.

import type { MiddleboxHookFactory, MiddleboxMode, MiddleboxVerdict, MiddleboxHook } from '../dataplane/middlebox-hook.ts';
import type { Headers } from '../dataplane/headers.ts';
import type { Message, NodeId } from '../net/message.ts';
import type { NodeContext } from '../net/node.ts';
import { MiddleboxElement } from './element.ts';
import { elementOptions, type ElementOptions } from './element-options.ts';
import { DEFAULT_SSM_OPTIONS, StateSharingManager, type SsmOptions } from './state-sharing-manager.ts';

export interface MiddleboxHostOptions {
  element?: Partial<ElementOptions>;
  ssm?: Partial<SsmOptions>;
}

export interface MiddleboxHost extends MiddleboxHook {
  readonly element: MiddleboxElement;
  readonly ssm: StateSharingManager;
  onMessage(from: NodeId, body: Message): boolean;
}

export function createMiddleboxHost(ctx: NodeContext, options: MiddleboxHostOptions = {}): MiddleboxHost {
  const element = new MiddleboxElement(ctx, options.element ?? {});
  const ssm = new StateSharingManager(ctx, element, options.ssm ?? {});
  return {
    element,
    ssm,
    process: (tag: number, vmKey: number, mode: MiddleboxMode, headers: Headers, commit: boolean): MiddleboxVerdict => element.process(tag, vmKey, mode, headers, commit),
    hold: (tag: number, vmKey: number, retry: () => void): void => element.hold(tag, vmKey, retry),
    configure: (records: readonly string[]): void => element.configure(records),
    onMessage: (from: NodeId, body: Message): boolean => ssm.onMessage(from, body),
  };
}

/** The factory for DataplaneShared.middlebox; bad options throw here, before any node starts. */
export function middleboxHookFactory(options: MiddleboxHostOptions = {}): MiddleboxHookFactory {
  for (const key of Object.keys(options)) if (key !== 'element' && key !== 'ssm') throw new Error(`middlebox host: unknown option '${key}'`);
  elementOptions(options.element ?? {});
  for (const key of Object.keys(options.ssm ?? {})) if (!(key in DEFAULT_SSM_OPTIONS)) throw new Error(`state sharing manager: unknown option '${key}'`);
  return (ctx) => createMiddleboxHost(ctx, options);
}
