import {fileURLToPath} from 'node:url'
import {defineConfig} from 'vite'

/**
 * The dashboard: Preact through Vite's own Oxc JSX transform (no Babel preset), built into the
 * package's dist/web, which `sched serve` serves. Everything is bundled: no CDN, no inline
 * script (the daemon's CSP forbids both).
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  oxc: {jsx: {runtime: 'automatic', importSource: 'preact'}},
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: {polyfill: false},
    reportCompressedSize: false,
  },
  // `npx vite --config web/vite.config.ts` next to a running `sched serve`, for work on the page.
  server: {proxy: {'/api': 'http://127.0.0.1:9477'}},
})
