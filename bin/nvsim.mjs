#!/usr/bin/env node
// The nvsim command. Scenarios and the simulator are TypeScript, run directly through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../sim/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
