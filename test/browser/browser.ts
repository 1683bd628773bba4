import {existsSync, mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {type Browser, type Page, chromium} from 'playwright-core'
import {ROOT} from '../support/cli.js'

/** Debian's Chromium, never a downloaded browser; .ci/run installs it when it is missing. */
export const CHROMIUM = '/usr/bin/chromium'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

export const SCREENSHOTS = join(ROOT, 'test-output', 'screenshots')

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`)
  return chromium.launch({executablePath: CHROMIUM, args: FLAGS})
}

/** The page in light and in dark, full length, into test-output/screenshots/<name>-<scheme>.png. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, {recursive: true})
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({colorScheme: scheme})
    await page.screenshot({path: join(SCREENSHOTS, `${name}-${scheme}.png`), fullPage: true})
  }
  await page.emulateMedia({colorScheme: 'light'})
}

/** The one-time sign-in link `sched serve` printed. */
export function signInLink(stderr: string): string {
  const m = /dashboard: (http:\/\/\S+#signin=\S+)/.exec(stderr)
  if (!m) throw new Error(`no sign-in link in:\n${stderr}`)
  return m[1]
}
