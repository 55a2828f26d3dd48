#!/usr/bin/env node
// Entry point: load the Promise.withResolvers polyfill before any libp2p module (Node 20 lacks it).
import 'promise.withresolvers/auto'
const { main } = await import('../dist/src/cli/main.js')
process.exitCode = await main(process.argv.slice(2))
