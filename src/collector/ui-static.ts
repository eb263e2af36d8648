/**
 * Serves the web UI (plain files, no bundler) from the `ui/` folder beside this module:
 * src/collector/ui/ when run from source, dist/collector/ui/ (copied by `npm run build`)
 * when run compiled, so an installed package needs nothing outside dist/.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { notFound } from './http-errors.js';

export const DEFAULT_UI_DIR = fileURLToPath(new URL('./ui/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** The page's `<meta http-equiv="Content-Security-Policy">`: rewritten to the collector's policy. */
const META_CSP = /(<meta\s+http-equiv="Content-Security-Policy"\s+content=")[^"]*(")/i;

/**
 * `metaPolicy`: the CSP the page repeats in its meta tag (security-headers.ts). The browser enforces
 * both the header and the meta policy, so the meta one must widen connect-src exactly as the header
 * does (the OIDC issuer) or sign-in with SSO would be blocked.
 */
export function registerUi(app: FastifyInstance, dir: string = DEFAULT_UI_DIR, metaPolicy?: string): boolean {
  if (!existsSync(join(dir, 'index.html'))) return false;
  const root = normalize(dir.endsWith(sep) ? dir : dir + sep);
  // Static files carry no captured data; the UI reads data through the API with credentials.
  app.get('/*', { config: { public: true } }, async (req, reply) => {
    if (req.url.startsWith('/api/')) throw notFound(`no route GET ${req.url.split('?', 1)[0]}`);
    let rel: string;
    try {
      rel = decodeURIComponent((req.url.split('?', 1)[0] ?? '/').replace(/^\/+/, '')) || 'index.html';
    } catch {
      throw notFound('no such file');
    }
    const file = normalize(join(root, rel));
    if (!file.startsWith(root)) throw notFound('no such file');
    let path = file;
    const st = await stat(path).catch(() => undefined);
    if (!st || !st.isFile()) {
      // Client-side routes (no extension) get the app; missing assets get a 404.
      if (extname(rel) !== '') throw notFound(`no such file: /${rel}`);
      path = join(root, 'index.html');
    }
    const type = TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
    let content: Buffer | string = await readFile(path);
    if (metaPolicy !== undefined && path.endsWith('.html'))
      content = content.toString('utf8').replace(META_CSP, (_m, a: string, b: string) => a + metaPolicy + b);
    return reply.type(type).header('cache-control', 'no-cache').send(content);
  });
  return true;
}
