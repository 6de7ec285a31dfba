// A receiver's check of a GET postback signed by nestjs-postback (HMAC-SHA256, Standard
// Webhooks), with nothing but Node.js. Run it as a server:
//   POSTBACK_SECRET=whsec_… PORT=8080 node verify-get.mjs
// POSTBACK_SECRET may hold several secrets, space-separated (a key rotation); set
// POSTBACK_COVERS=query if the shop signs the query string alone (signing.covers: 'query').
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

const TOLERANCE_SECONDS = 5 * 60;

/**
 * The postback's query parameters if `target` carries a valid signature by one of `secrets`;
 * null otherwise. `target` is the request target exactly as received, path and query still
 * percent-encoded (`req.url` in Node's http module; `req.originalUrl` in Express).
 */
export function verifyGetPostback(target, secrets, covers = 'path_and_query', now = Date.now()) {
  const question = target.indexOf('?');
  // The signature parameter comes last; everything before its "&" is what was signed.
  const cut = target.lastIndexOf('&pb_sig=');
  if (question === -1 || cut < question) return null;
  // Read the values from the verified text itself, never from another copy of the URL.
  const params = new URLSearchParams(target.slice(question + 1));
  const id = params.get('pb_id');
  const timestamp = params.get('pb_ts');
  const signatures = params.get('pb_sig'); // percent-decoded: "v1,<base64>", space-separated
  if (!id || !/^\d{1,12}$/.test(timestamp ?? '') || !signatures) return null;
  if (Math.abs(now / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return null;

  const unsigned = target.slice(0, cut);
  const payload = covers === 'query' ? unsigned.slice(question + 1) : unsigned;
  const received = signatures.split(' ').map((signature) => Buffer.from(signature));
  for (const secret of secrets) {
    if (!secret.startsWith('whsec_')) throw new Error('a secret is whsec_ + base64');
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const hmac = createHmac('sha256', key).update(`${id}.${timestamp}.${payload}`);
    const expected = Buffer.from(`v1,${hmac.digest('base64')}`);
    if (received.some((s) => s.length === expected.length && timingSafeEqual(s, expected))) {
      return params;
    }
  }
  return null;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const secrets = (process.env.POSTBACK_SECRET ?? '').split(' ').filter(Boolean);
  const covers = process.env.POSTBACK_COVERS || 'path_and_query';
  const port = Number(process.env.PORT ?? 8080);
  createServer((req, res) => {
    const params = verifyGetPostback(req.url ?? '', secrets, covers);
    if (!params) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('invalid signature\n');
      return;
    }
    // Record the conversion here, from params (params.get('cid'), …), deduplicated on pb_id.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(Object.fromEntries(params)));
  }).listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
}
