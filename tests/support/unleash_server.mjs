// Runs a real Unleash (npm unleash-server, the open-source server) for the tests, on the test
// PostgreSQL, on a loopback port, with an admin token and a backend (client) token made at
// start; no telemetry, no version check: nothing leaves the machine.
// Usage: node unleash_server.mjs DATABASE_URL PORT ADMIN_TOKEN CLIENT_TOKEN
// Prints "unleash listening on PORT" once it serves; runs until killed.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [databaseUrl, port, adminToken, clientToken] = process.argv.slice(2);
process.env.INIT_ADMIN_API_TOKENS = adminToken;
process.env.INIT_BACKEND_API_TOKENS = clientToken;
process.env.SEND_TELEMETRY = 'false';
process.env.CHECK_VERSION = 'false';
const unleash = require('unleash-server');
const url = new URL(databaseUrl);
await unleash.start({
  db: {
    host: url.hostname,
    port: Number(url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1),
    ssl: false,
    pool: { min: 0, max: 4 },
  },
  server: { host: '127.0.0.1', port: Number(port) },
  authentication: { type: 'none', enableApiToken: true },
  versionCheck: { enable: false },
  telemetry: false,
  logLevel: 'warn',
});
console.log(`unleash listening on ${port}`);
