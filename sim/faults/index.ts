// Fault injection's public surface. Re-exports only.
export * from './schedule.ts';
export * from './windows.ts';
export * from './arbitrary.ts';
export * from './swarm.ts';
export { Nemesis } from './nemesis.ts';
