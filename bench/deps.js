#!/usr/bin/env node
// Where sched chose its own code or a less usual library over the named ones (README,
// "Dependencies"): each contender in a fresh process, timed cold (load + first use) and warm.
// `npx tsx bench/deps.js` prints one JSON object.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const work = mkdtempSync(join(tmpdir(), 'sched-bench-deps-'))
process.on('exit', () => rmSync(work, {recursive: true, force: true}))
const config = join(work, 'sched.toml')
let toml = ''
for (let i = 0; i < 1000; i++) toml += `[tasks.task-${i}]\nrun = "echo ${i}"\ncron = "${i % 60} ${i % 24} * * 1-5"\ntimezone = "America/New_York"\ndescription = "task ${i}"\ntimeout = "5m"\n\n`
writeFileSync(config, toml)

const contenders = {
  toml_smol: `const t = performance.now(); const {parse} = await import('smol-toml'); const text = (await import('node:fs')).readFileSync(${JSON.stringify(config)}, 'utf8'); parse(text); const cold = performance.now() - t; const w = performance.now(); parse(text); out(cold, performance.now() - w)`,
  toml_toml: `const t = performance.now(); const {default: toml} = await import('toml'); const text = (await import('node:fs')).readFileSync(${JSON.stringify(config)}, 'utf8'); toml.parse(text); const cold = performance.now() - t; const w = performance.now(); toml.parse(text); out(cold, performance.now() - w)`,
  // next 1000 ticks of 1000 expressions in a DST zone, from one instant
  cron_sched: `const t = performance.now(); const {parseSchedule} = await import('./src/cron/expression.ts'); const {scheduleFor} = await import('./src/cron/schedule.ts'); const run = () => { for (let i = 0; i < 1000; i++) scheduleFor(parseSchedule(\`\${i % 60} \${i % 24} * * 1-5\`), 'America/New_York', 0).nextTick(Date.parse('2026-03-07T12:00:00Z')) }; run(); const cold = performance.now() - t; const w = performance.now(); run(); out(cold, performance.now() - w)`,
  cron_parser: `const t = performance.now(); const {CronExpressionParser} = await import('cron-parser'); const run = () => { for (let i = 0; i < 1000; i++) CronExpressionParser.parse(\`\${i % 60} \${i % 24} * * 1-5\`, {tz: 'America/New_York', currentDate: new Date('2026-03-07T12:00:00Z')}).next() }; run(); const cold = performance.now() - t; const w = performance.now(); run(); out(cold, performance.now() - w)`,
}

const result = {}
for (const [name, code] of Object.entries(contenders)) {
  const cold = []
  const warm = []
  for (let i = 0; i < 5; i++) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `const out = (c, w) => console.log(JSON.stringify([c, w])); ${code}`], {encoding: 'utf8'})
    if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`)
    const [c, w] = JSON.parse(r.stdout)
    cold.push(c)
    warm.push(w)
  }
  const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]
  result[`${name}_cold_ms`] = Math.round(median(cold) * 10) / 10
  result[`${name}_warm_ms`] = Math.round(median(warm) * 10) / 10
}
console.log(JSON.stringify(result, null, 2))
