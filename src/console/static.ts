import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpApp } from '../http/app.ts';
import { AppError } from '../shared/errors.ts';

/** Where `npm install` / `npm start` put the built console (see web/build.ts). */
export const CONSOLE_DIST_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt']);

/**
 * The console keeps an API token in session storage, so the page must not run anything it did not
 * ship: scripts only from this origin, no framing. Styles set by the chart library need inline styles.
 */
const HTML_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

interface CachedFile {
  mtimeMs: number;
  size: number;
  body: Buffer;
  gzipped: Buffer | null;
  etag: string;
}

/**
 * Serves the built single-page console from `distDir` without a static-file dependency: hashed files
 * under `assets/` are cached for a year, everything else is revalidated, and a browser navigating to any
 * non-API path that is not a file gets `index.html`, so client-side routes survive a reload. API paths
 * and non-browser requests keep their 404 problems.
 */
export function consoleStaticRoutes(app: HttpApp, distDir: string = CONSOLE_DIST_DIR): void {
  const root = path.resolve(distDir);
  const cache = new Map<string, CachedFile>();

  const load = (file: string): CachedFile | null => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      return null;
    }
    if (!stat.isFile()) return null;
    const cached = cache.get(file);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached;
    const body = fs.readFileSync(file);
    const extension = path.extname(file);
    const entry: CachedFile = {
      mtimeMs: stat.mtimeMs,
      size: stat.size,
      body,
      gzipped: COMPRESSIBLE.has(extension) && body.length > 1024 ? gzipSync(body) : null,
      etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
    };
    cache.set(file, entry);
    return entry;
  };

  const send = (request: FastifyRequest, reply: FastifyReply, file: string, entry: CachedFile, immutable: boolean) => {
    const extension = path.extname(file);
    void reply.header('content-type', CONTENT_TYPES[extension] ?? 'application/octet-stream');
    void reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    void reply.header('etag', entry.etag);
    void reply.header('x-content-type-options', 'nosniff');
    if (extension === '.html') void reply.headers(HTML_HEADERS);
    if (entry.gzipped) void reply.header('vary', 'accept-encoding');
    if (request.headers['if-none-match'] === entry.etag) return reply.status(304).send();
    const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    if (entry.gzipped && acceptsGzip) {
      void reply.header('content-encoding', 'gzip');
      return reply.send(entry.gzipped);
    }
    return reply.send(entry.body);
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const rawPath = request.url.split('?')[0] ?? '/';
    let urlPath: string;
    try {
      urlPath = decodeURIComponent(rawPath);
    } catch {
      throw new AppError('not_found', `no file ${rawPath}`);
    }
    if (urlPath === '/api' || urlPath.startsWith('/api/')) throw new AppError('not_found', `no endpoint ${request.method} ${rawPath}`);
    const index = path.join(root, 'index.html');
    const file = path.resolve(root, `.${urlPath}`);
    const inside = file === root || file.startsWith(root + path.sep);
    if (!inside || urlPath.includes('\0')) throw new AppError('not_found', `no file ${rawPath}`);
    const entry = file === root ? null : load(file);
    if (entry) return send(request, reply, file, entry, urlPath.startsWith('/assets/'));
    // A missing asset is a 404, and so is any path asked for by something other than a browser
    // navigating (API clients probing `/v2/...` deserve a problem, not HTML); a browser gets the app,
    // which resolves its own routes.
    // The root is the console's address, whoever asks for it.
    const navigating = urlPath === '/' || String(request.headers.accept ?? '').includes('text/html');
    if (path.extname(urlPath) !== '' || !navigating) throw new AppError('not_found', `no endpoint ${request.method} ${rawPath}`);
    const indexEntry = load(index);
    if (!indexEntry) {
      throw new AppError('not_found', 'the web console is not built: run `npm install` or `npm start`, which build it into web/dist');
    }
    return send(request, reply, index, indexEntry, false);
  };

  const options = { config: { public: true }, schema: { hide: true } } as const;
  app.get('/', options, handler);
  app.get('/*', options, handler);
}
