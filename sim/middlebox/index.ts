// The middlebox layer's public surface (re-exports only).

export * from './records.ts';
export * from './vm-state.ts';
export { DEFAULT_ELEMENT_OPTIONS, elementOptions, type ElementOptions } from './element-options.ts';
export { MiddleboxElement, type ElementStats, type SharedStateSink, type SliceConfigView } from './element.ts';
export { alertKey, healthKey, rejectResponse } from './new-connection.ts';
export { DEFAULT_SSM_OPTIONS, StateSharingManager, type SharedSliceState, type SsmOptions } from './state-sharing-manager.ts';
export type { SsmMessage } from './ssm-messages.ts';
export { createMiddleboxHost, middleboxHookFactory, type MiddleboxHost, type MiddleboxHostOptions } from './middlebox-host.ts';
import './trace-events.ts';
