import {createHash} from 'node:crypto'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {dirname, extname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {brotliCompressSync, constants, gzipSync} from 'node:zlib'
import {etagMatches, pickEncoding} from './encoding.js'

/**
 * The dashboard's policy: its own scripts, styles and API only — no inline script or style, no
 * other origin, no framing. Everything it needs is in the package, so it works offline.
 */
export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

const PAGE_HEADERS = {
  'content-security-policy': DASHBOARD_CSP,
  // `same-origin` rather than `no-referrer`: the latter makes a same-origin POST say `Origin: null`.
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
}
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg'])

/** One built file, held in memory (the whole dashboard is a few hundred KB before compression). */
export class Asset {
  readonly type: string
  readonly etag: string
  private readonly encoded = new Map<'br' | 'gzip', Buffer>()

  constructor(
    readonly name: string,
    readonly body: Buffer,
    /** Hashed file names never change content: cached for a year. */
    readonly immutable: boolean,
  ) {
    this.type = TYPES[extname(name)] ?? 'application/octet-stream'
    this.etag = `W/"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
  }

  get compressible(): boolean {
    return COMPRESSIBLE.has(extname(this.name))
  }

  /** Compressed once, on first request, then kept. */
  encoding(coding: 'br' | 'gzip'): Buffer {
    let out = this.encoded.get(coding)
    if (!out) {
      out = coding === 'br' ? brotliCompressSync(this.body, {params: {[constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: this.body.length}}) : gzipSync(this.body, {level: 9})
      this.encoded.set(coding, out)
    }
    return out
  }
}

/**
 * The built dashboard (`npm run build` writes it into dist/web of the package), found from
 * this module's own location, so it works from the bundle, from src/ in tests and from an
 * installed package alike.
 */
export class DashboardAssets {
  private constructor(
    readonly dir: string,
    readonly index: Asset | undefined,
    private readonly files: ReadonlyMap<string, Asset>,
  ) {}

  static load(dir: string = builtDashboardDir()): DashboardAssets {
    const indexPath = join(dir, 'index.html')
    if (!existsSync(indexPath)) return new DashboardAssets(dir, undefined, new Map())
    const files = new Map<string, Asset>()
    const assetsDir = join(dir, 'assets')
    for (const name of existsSync(assetsDir) ? readdirSync(assetsDir) : []) files.set(name, new Asset(name, readFileSync(join(assetsDir, name)), true))
    return new DashboardAssets(dir, new Asset('index.html', readFileSync(indexPath), false), files)
  }

  /** A file of dist/web/assets by its bare name: a lookup, so no path ever reaches the disk. */
  file(name: string): Asset | undefined {
    return this.files.get(name)
  }
}

/** dist/web of the package this module belongs to: the nearest folder up holding package.json. */
export function builtDashboardDir(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  return join(dir, 'dist', 'web')
}

/** Answers with `asset`: conditional (ETag → 304), compressed when the client accepts it. */
export function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset): void {
  const headers: Record<string, string | number> = {
    ...PAGE_HEADERS,
    'content-type': asset.type,
    'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    etag: asset.etag,
    vary: 'Accept-Encoding',
  }
  if (etagMatches(req.headers['if-none-match'], asset.etag)) {
    res.writeHead(304, headers)
    res.end()
    return
  }
  const coding = asset.compressible ? pickEncoding(req.headers['accept-encoding']) : undefined
  const body = coding ? asset.encoding(coding) : asset.body
  if (coding) headers['content-encoding'] = coding
  headers['content-length'] = body.length
  res.writeHead(200, headers)
  res.end(req.method === 'HEAD' ? undefined : body)
}

/** What `/` says when the dashboard was never built (a development checkout). */
export function sendNotBuilt(res: ServerResponse, dir: string): void {
  const text = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sched: dashboard not built</title></head><body><h1>The dashboard is not built</h1><p>sched found no dashboard files in <code>${escapeHtml(dir)}</code>. Run <code>npm run build</code> in the sched checkout, then reload this page. The API under <code>/api</code> works without it.</p></body></html>`
  res.writeHead(503, {...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text)})
  res.end(text)
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
