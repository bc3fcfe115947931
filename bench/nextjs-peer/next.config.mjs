// The peer as a Next.js starter kit would ship it: production build, server-rendered on each
// request, better-sqlite3 left to Node (a native module) rather than bundled.
import { fileURLToPath } from 'node:url';

export default {
  outputFileTracingRoot: fileURLToPath(new URL('.', import.meta.url)),
  turbopack: { root: fileURLToPath(new URL('.', import.meta.url)) },
  poweredByHeader: false,
  serverExternalPackages: ['better-sqlite3'],
};
