/**
 * The HTTP floor: a bare node:http server that reads the request body and answers a canned
 * response of the same shape as the model server's, without decoding or inference.
 * Run as a child process; prints `port=N` once listening.
 */
import { createServer } from 'node:http';

const reply = Buffer.from(process.argv[2] ?? '{}', 'base64');
const headerLength = process.argv[3];
const metadata = process.argv[4];
const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  // `flotilla bench` reads the model's metadata first: a canned copy of the real answer.
  if (req.method === 'GET' && metadata) {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(metadata) });
    res.end(metadata);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': reply.byteLength,
    };
    if (headerLength) headers['inference-header-content-length'] = headerLength;
    res.writeHead(200, headers);
    res.end(reply);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`port=${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
