// @hocuspocus/server in memory (no persistence extension), as an anchor for the benchmarks.
// Usage: node servers/hocuspocus.mjs PORT  (prints "listening on PORT" when ready)
import { Server } from '@hocuspocus/server'

const port = Number(process.argv[2] || 0)
const server = new Server({
  port,
  address: '127.0.0.1',
  quiet: true,
  stopOnSignals: true
})
await server.listen()
console.log(`listening on ${server.address.port}`)
