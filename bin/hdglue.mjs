#!/usr/bin/env node
// The `hdglue` command: a thin launcher for the compiled CLI (dist/cli/main.js).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
