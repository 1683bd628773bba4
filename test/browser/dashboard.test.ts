import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import type {Browser, BrowserContext, Page} from 'playwright-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {api, rawRequest} from '../support/control.js'
import {ROOT} from '../support/cli.js'
import {Recorder} from '../support/notify-servers.js'
import {Sandbox} from '../support/sandbox.js'
import {launchChromium, screenshots, signInLink} from './browser.js'

/**
 * The dashboard in Debian's Chromium against a real `sched serve` of the example config:
 * sign-in, the overview, a trigger through the form with its live log, a refused trigger, a
 * service stop, a broken reload, sign-out — with screenshots of every page, light and dark.
 */
const EXAMPLE = readFileSync(join(ROOT, 'examples', 'sched.toml'), 'utf8')
const UNITS = ['backup', 'deploy', 'heartbeat', 'report', 'ticker']

describe('the dashboard in a browser', {timeout: 60_000}, () => {
  const b = new Sandbox()
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let token = ''
  const requested: string[] = []
  const problems: string[] = []

  beforeAll(async () => {
    b.write(EXAMPLE)
    await b.start()
    token = b.daemon!.token
    browser = await launchChromium()
    context = await browser.newContext({viewport: {width: 1280, height: 900}})
    page = await context.newPage()
    page.on('request', (r) => requested.push(r.url()))
    page.on('dialog', (d) => void d.accept())
    // A CSP violation or a script error is a failure of the page, whatever the test checks.
    page.on('console', (m) => m.type() === 'error' && !/401|403|400|Unauthorized/.test(m.text()) && problems.push(m.text()))
    page.on('pageerror', (e) => problems.push(e.message))
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await b.dispose()
  })

  it('asks for the token, signs in with it, and the overview lists the example config', async () => {
    await page.goto(b.daemon!.url)
    await page.getByLabel('API token').waitFor()
    await screenshots(page, 'sign-in')
    await page.getByLabel('API token').fill('wrong')
    await page.getByRole('button', {name: 'Sign in'}).click()
    await page.getByText('That is not the API token of this daemon.').waitFor()
    await page.getByLabel('API token').fill(token)
    await page.getByRole('button', {name: 'Sign in'}).click()
    await page.locator('table.units').waitFor()
    const names = await page.locator('table.units th[scope=row] a').allTextContents()
    expect(names.sort()).toEqual(UNITS)
    // Grouped by `group`, schedules in words and cron, services with their instances.
    expect(await page.locator('tr.group-head th').allTextContents()).toEqual(['db (1)', 'reports (1)', 'no group (3)'])
    const backup = page.locator('tr', {has: page.getByRole('link', {name: 'backup', exact: true})})
    await expect.poll(() => backup.textContent()).toContain('At 02:30')
    expect(await backup.textContent()).toContain('30 2 * * *')
    expect(await backup.textContent()).toMatch(/CE(S)?T/)
    await expect.poll(() => page.locator('tr', {has: page.getByRole('link', {name: 'ticker'})}).textContent(), {timeout: 15_000}).toContain('running 2/2')
    const cookies = await context.cookies()
    expect(cookies).toHaveLength(1)
    expect(cookies[0]).toMatchObject({name: `sched_session_${new URL(b.daemon!.url).port}`, httpOnly: true, sameSite: 'Strict', path: '/', secure: false})
  })

  it('filters by name, group and state, in the URL, and the back button undoes it', async () => {
    await page.getByLabel('Name').fill('back')
    await expect.poll(() => page.locator('table.units th[scope=row] a').allTextContents()).toEqual(['backup'])
    expect(page.url()).toContain('?q=back')
    await page.getByLabel('Name').fill('')
    await page.getByLabel('Group').selectOption('reports')
    await expect.poll(() => page.locator('table.units th[scope=row] a').allTextContents()).toEqual(['report'])
    await page.getByLabel('Group').selectOption('')
    await page.getByLabel('State').selectOption('running')
    await expect.poll(() => page.locator('table.units th[scope=row] a').allTextContents()).toEqual(['ticker'])
    await page.getByLabel('State').selectOption('')
    await screenshots(page, 'overview')
    await page.getByRole('link', {name: 'report', exact: true}).click()
    await page.getByRole('heading', {name: /report/}).waitFor()
    await page.goBack()
    await page.locator('table.units').waitFor()
    expect(new URL(page.url()).pathname).toBe('/')
  })

  it('a trigger through the form starts a run that appears live, and its log streams to done', async () => {
    const before = (await api(b, 'GET', '/api/runs?task_name=backup')).body.total
    await page.goto(`${b.daemon!.url}/tasks/backup`)
    await page.getByRole('button', {name: 'Trigger run'}).waitFor()
    // The typed parameters as a form: the env parameter a text field with its default, the choices a select.
    expect(await page.getByLabel('TARGET').inputValue()).toBe('/tmp')
    expect(await page.getByLabel('--env').evaluate((el) => el.tagName)).toBe('SELECT')
    await page.getByLabel('--env').selectOption('prod')
    await page.getByLabel('TARGET').fill('/srv/dumps')
    await page.getByRole('button', {name: 'Trigger run'}).click()
    await page.getByText(/^Started run [0-9A-Z]{26}/).waitFor()
    const id = /[0-9A-Z]{26}/.exec((await page.getByText(/^Started run/).textContent())!)![0]
    // The history shows the new run without a reload (the page follows /api/events).
    await page.locator('table.runs').getByRole('link', {name: id}).waitFor()
    expect((await api(b, 'GET', '/api/runs?task_name=backup')).body.total).toBe(before + 1)
    await page.getByRole('link', {name: 'open run'}).click()
    await page.getByRole('heading', {name: new RegExp(`Run ${id}`)}).waitFor()
    // Live: the first line is there while the run still sleeps, then the stream ends with the run.
    await page.locator('.line .text', {hasText: 'dumping app to /srv/dumps/backup-'}).waitFor()
    const whileRunning = await page.locator('.log .count').first().textContent()
    await page.locator('.line .text', {hasText: /^done$/}).waitFor({timeout: 15_000})
    await expect.poll(() => page.locator('.log .count').first().textContent(), {timeout: 10_000}).toBe('2 lines')
    expect(whileRunning).toMatch(/live|loading/)
    await expect.poll(() => page.locator('h1 .badge').textContent()).toBe('success')
    expect(await page.locator('dl.facts').textContent()).toContain('succeeded: exited with a code in exit_codes')
    expect(await page.locator('table.params').textContent()).toContain('prod')
    await screenshots(page, 'run')
    await page.goto(`${b.daemon!.url}/tasks/backup`)
    await page.locator('.chart rect').first().waitFor()
    await screenshots(page, 'task')
  })

  it('a wrong parameter shows the error at its field and creates no run', async () => {
    await page.goto(`${b.daemon!.url}/tasks/deploy`)
    await page.getByRole('button', {name: 'Trigger run'}).waitFor()
    expect(await page.locator('label[for="param-version"]').textContent()).toContain('required')
    await page.getByRole('button', {name: 'Trigger run'}).click()
    await page.locator('#param-version-error').waitFor()
    expect(await page.locator('#param-version-error').textContent()).toMatch(/required/)
    expect(await page.getByLabel(/^version/).getAttribute('aria-invalid')).toBe('true')
    expect(await page.locator('form.trigger .result').textContent()).toMatch(/^Not started/)
    expect((await api(b, 'GET', '/api/runs?task_name=deploy')).body.total).toBe(0)
  })

  it('stops a service and shows it stopped', async () => {
    await page.goto(`${b.daemon!.url}/tasks/ticker`)
    await page.getByRole('button', {name: 'Stop', exact: true}).click()
    await page.getByText('Stopped ticker; it stays stopped until started again.').waitFor({timeout: 20_000})
    await expect.poll(() => page.locator('h1 .badge').textContent()).toBe('stopped')
    expect((await api(b, 'GET', '/api/tasks/ticker')).body.state.status).toBe('stopped')
    await screenshots(page, 'service')
  })

  it('a broken config on disk is flagged, and its reload shows every error with line and column', async () => {
    b.write(`${EXAMPLE}\n[tasks.broken]\nrun = "true"\nretyr_attempts = 1\ncron = "61 * * * *"\n`)
    await page.goto(`${b.daemon!.url}/daemon`)
    await page.getByText('changed on disk since it was loaded').waitFor()
    await page.getByRole('button', {name: 'Reload the config'}).click()
    const errors = page.locator('ul.config-errors li')
    await errors.first().waitFor()
    const texts = await errors.allTextContents()
    expect(texts).toHaveLength(2)
    expect(texts.join('\n')).toMatch(/tasks\.broken\.retyr_attempts.*\d+:\d+: unknown key "retyr_attempts"/)
    expect(texts.join('\n')).toMatch(/tasks\.broken\.cron.*\d+:\d+: /)
    await screenshots(page, 'daemon')
    b.write(EXAMPLE)
  })

  it('the notifications page lists what was sent, with its status and a link to the run', async () => {
    const hook = await new Recorder().start()
    try {
      hook.script('/hook', {status: 503, body: 'busy'})
      b.write(`${EXAMPLE}\n[notifiers.hook]\nkind = "webhook"\nurl = "${hook.url}/hook"\n\n[[route]]\ntasks = ["alarm"]\nnotifiers = ["hook"]\n\n[tasks.alarm]\nrun = "exit 3"\n`)
      expect((await api(b, 'POST', '/api/daemon/reload')).status).toBe(200)
      const run = (await api(b, 'POST', '/api/tasks/alarm/run', {body: {}})).body
      await page.goto(`${b.daemon!.url}/notifications`)
      await page.getByRole('heading', {name: 'Notifications'}).waitFor()
      // The first attempt met a 503; the retry (5 s later) delivers it, and Refresh shows it sent.
      await hook.waitFor('/hook', 1, 40_000)
      await page.getByRole('button', {name: 'Refresh'}).click()
      const row = page.locator('table.runs tbody tr', {has: page.getByRole('link', {name: 'alarm failed: exited with code 3'})})
      await expect.poll(() => row.locator('.badge').textContent(), {timeout: 10_000}).toBe('sent')
      expect(await row.textContent()).toContain('run.failed')
      expect(await row.locator('td').last().textContent()).toBe('2')
      expect(await row.getByRole('link', {name: 'alarm failed: exited with code 3'}).getAttribute('href')).toBe(`/runs/${run.id}`)
      await screenshots(page, 'notifications')
    } finally {
      b.write(EXAMPLE)
      await api(b, 'POST', '/api/daemon/reload')
      await hook.stop()
    }
  })

  it('signs out, after which the API refuses the old cookie', async () => {
    const [cookie] = await context.cookies()
    const header = {cookie: `${cookie.name}=${cookie.value}`}
    expect((await rawRequest(b.daemon!.url, 'GET', '/api/tasks', header)).status).toBe(200)
    await page.getByRole('button', {name: 'Sign out'}).click()
    await page.getByLabel('API token').waitFor()
    expect(await context.cookies()).toHaveLength(0)
    expect((await rawRequest(b.daemon!.url, 'GET', '/api/tasks', header)).status).toBe(401)
  })

  it('the one-time link signs in, leaves the address bar at once, and works only once', async () => {
    const link = signInLink(b.daemon!.stderr())
    await page.goto(link)
    await page.locator('table.units').waitFor()
    expect(page.url()).toBe(`${b.daemon!.url}/`)
    const second = await context.newPage()
    await second.goto(link.replace('#', '?x=1#'))
    // The link was used: a fresh context would be asked for the token (this one still has its cookie).
    const fresh = await browser.newContext()
    const other = await fresh.newPage()
    await other.goto(link)
    await other.getByText('The sign-in link did not work: this sign-in link was already used').waitFor()
    await fresh.close()
    await second.close()
  })

  it('no URL that reached the server held the token or a sign-in ticket, and the page met no CSP or script error', () => {
    expect(requested.length).toBeGreaterThan(20)
    for (const url of requested) {
      expect(url).not.toContain(token)
      expect(url).not.toContain('signin=')
    }
    expect(problems).toEqual([])
  })
})

describe('security headers of the dashboard', () => {
  const b = new Sandbox()
  beforeAll(async () => {
    b.write('[tasks.x]\nrun = "true"\n')
    await b.start()
  })
  afterAll(() => b.dispose())

  it('pages carry a strict CSP, assets are immutable and compressed, the page revalidates by ETag', async () => {
    const page = await rawRequest(b.daemon!.url, 'GET', '/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV', {'accept-encoding': 'br'})
    expect(page.status).toBe(200)
    expect(page.type).toBe('text/html; charset=utf-8')
    const csp = page.headers['content-security-policy'] as string
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("default-src 'none'")
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/)
    expect(page.headers['referrer-policy']).toBe('same-origin')
    expect(page.headers['x-content-type-options']).toBe('nosniff')
    expect(page.headers['cache-control']).toBe('no-cache')
    expect(page.headers['content-encoding']).toBe('br')
    const again = await rawRequest(b.daemon!.url, 'GET', '/', {'if-none-match': page.headers.etag as string})
    expect(again.status).toBe(304)

    const html = (await rawRequest(b.daemon!.url, 'GET', '/')).body
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)/)
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]
    const js = await rawRequest(b.daemon!.url, 'GET', script, {'accept-encoding': 'gzip'})
    expect(js.status).toBe(200)
    expect(js.type).toBe('text/javascript; charset=utf-8')
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(js.headers['content-encoding']).toBe('gzip')
    expect(js.headers.vary).toBe('Accept-Encoding')
    const css = /href="(\/assets\/[^"]+\.css)"/.exec(html)![1]
    expect((await rawRequest(b.daemon!.url, 'HEAD', css)).type).toBe('text/css; charset=utf-8')
    expect((await rawRequest(b.daemon!.url, 'GET', '/assets/nope.js')).status).toBe(404)
  })

  it('API answers are never run as a page either', async () => {
    const res = await rawRequest(b.daemon!.url, 'GET', '/api/tasks', {authorization: `Bearer ${b.daemon!.token}`})
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'")
  })
})
