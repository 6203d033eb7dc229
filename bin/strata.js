#!/usr/bin/env node
// The `strata` command. The TypeScript is compiled to dist/ by `npm run build` (run by `prepare`
// on `npm ci`), so `npx strata` works right after installing.
import { runCli } from '../dist/src/cli/main.js';

process.exitCode = await runCli(process.argv);
