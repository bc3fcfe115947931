// An OTLP/HTTP receiver for the traces tests: Elastic's @elastic/mockotlpserver, which decodes
// each POST /v1/traces with the OpenTelemetry project's own .proto files (protobufjs). This is a
// receiver that decodes and records, not the OpenTelemetry Collector (a Go program that neither
// Debian 12 nor npm ships); what it proves is that our protobuf is what the protocol defines.
//
//   node otlp_receiver.mjs <port> <spans.jsonl>
//
// Writes one JSON line per span: its resource's and its own attributes as objects, ids in hex.
// Prints "otlp receiver listening" once it accepts.
import { appendFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { MockOtlpServer, normalizeTrace } = require('@elastic/mockotlpserver');

const [port, out] = process.argv.slice(2);
writeFileSync(out, '');

const server = new MockOtlpServer({
  services: ['http'],
  httpHostname: '127.0.0.1',
  httpPort: Number(port),
  logLevel: 'warn',
  onTrace(raw) {
    const trace = normalizeTrace(raw);
    for (const rs of trace.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const span of ss.spans ?? []) {
          const line = {
            resource: rs.resource?.attributes ?? {},
            scope: ss.scope?.name ?? '',
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? '',
            name: span.name,
            kind: span.kind,
            start: String(span.startTimeUnixNano),
            end: String(span.endTimeUnixNano),
            attributes: span.attributes ?? {},
            status: span.status ?? {},
            flags: span.flags ?? 0,
          };
          appendFileSync(out, JSON.stringify(line) + '\n');
        }
      }
    }
  },
});
await server.start();
console.log('otlp receiver listening');
process.on('SIGTERM', async () => {
  await server.stop();
  process.exit(0);
});
