// The official MCP TypeScript SDK client (@modelcontextprotocol/sdk) through the platform's MCP
// gateway to echo-bot: connect (initialize over Streamable HTTP), list the tools, call `echo`.
// Usage: node mcp_client.mjs URL BEARER [expect]   expect: "ok" (default) or "refused"
// Prints PASS when what happened is what was expected.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, bearer, expect = 'ok'] = process.argv.slice(2);
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${bearer}` } },
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
