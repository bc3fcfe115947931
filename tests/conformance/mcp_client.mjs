// The official MCP TypeScript SDK client (@modelcontextprotocol/sdk) through the platform's MCP
// gateway to echo-bot: connect (initialize over Streamable HTTP), list the tools, call `echo`.
// Usage: node mcp_client.mjs URL BEARER [expect] [host]
//   expect: "ok" (default) or "refused"; host: a Host header for every request (mcp.localhost:N
//   while URL names 127.0.0.1: this machine's resolver knows no *.localhost, and fetch may not
//   set Host, so those requests go through node:http, answers read whole).
// Prints PASS when what happened is what was expected.
import http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, bearer, expect = 'ok', host] = process.argv.slice(2);

function fetchWithHost(input, init = {}) {
  return new Promise((resolve, reject) => {
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const req = http.request(new URL(input), { method: init.method || 'GET', headers: { ...headers, host } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const body = [204, 205, 304].includes(res.statusCode) ? null : Buffer.concat(chunks);
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers)) out.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve(new Response(body, { status: res.statusCode, headers: out }));
      });
    });
    req.on('error', reject);
    if (init.body) req.write(init.body);
    req.end();
  });
}

const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${bearer}` } },
  ...(host ? { fetch: fetchWithHost } : {}),
});
const client = new Client({ name: 'breakpilot-conformance', version: '1.0.0' });
try {
  await client.connect(transport);
  const { tools } = await client.listTools();
  const echo = tools.find((t) => t.name === 'echo');
  if (!echo) throw new Error(`no echo tool in ${JSON.stringify(tools)}`);
  const result = await client.callTool({ name: 'echo', arguments: { message: 'hello through MCP' } });
  const text = result.content?.[0]?.text;
  if (result.isError || text !== 'hello through MCP') throw new Error(`echo answered ${JSON.stringify(result)}`);
  const bad = await client.callTool({ name: 'echo', arguments: {} });
  if (!bad.isError) throw new Error('echo without a message was not an error');
  await client.close();
  if (expect !== 'ok') { console.error('FAIL the gateway let this caller through'); process.exit(1); }
  console.log(`PASS tools=${tools.map((t) => t.name).join(',')} echo=${text}`);
} catch (e) {
  if (expect === 'refused') {
    console.log(`PASS refused: ${e.message}`);
    process.exit(0);
  }
  console.error(`FAIL ${e.stack || e.message}`);
  process.exit(1);
}
