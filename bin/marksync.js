#!/usr/bin/env node
// The installed command: everything lives in src/cli (compiled to dist/ by `npm run build`).
import { main } from '../dist/src/cli/main.js'

process.exitCode = await main(process.argv.slice(2))
