// The peer as a Next.js starter kit would ship it: production build, server-rendered on each
// request, better-sqlite3 left to Node (a native module) rather than bundled.
export default {
  poweredByHeader: false,
  serverExternalPackages: ['better-sqlite3'],
};
