import {ExitCode, SchedCommand} from '../cli/base.js'
import {type ClusterNodeInfo, clusterStatus} from '../cli/cluster-status.js'
import {renderTable} from '../cli/table.js'
import {formatRelative} from '../cli/time.js'
import {formatDuration, msToNs} from '../core/duration.js'
import {liveDaemon} from '../state/claim.js'
import type {StateLayout} from '../state/layout.js'
import {TICKET_LIFETIME_MS, signInUrl} from '../state/sign-in-ticket.js'
import {readToken} from '../state/token.js'
import {type PublicRun, type RunRecord, publicRun} from '../state/run-record.js'
import {RunStore} from '../state/runs.js'
import {UnitBooks} from '../state/unit-books.js'

interface StatusData {
  daemon: Record<string, unknown> | null
  /** A cluster node: its name, health and whether it runs the cluster's config (runs and units are then the cluster's). */
  cluster?: ClusterNodeInfo
  busy: {pid: number; command: string | null} | null
  active_runs: PublicRun[]
  units: {name: string; kind: string; last_run: {id: string; status: string; end_reason: string | null; started_at: string | null; ended_at: string | null} | null; state?: {status: string; instances: readonly unknown[]} | null}[]
}

export default class Status extends SchedCommand {
  static summary = 'Is a daemon serving this state directory? Its runs and units.'
  static description =
    'Shows the daemon serving the state directory (pid, uptime, URL, config path, version, where the API token is), the runs active now, and every unit with its last run. Reads the state directory; exits 0 when a daemon is up, 4 when none is.'
  static examples = [
    {command: '<%= config.bin %> status', description: 'For people.'},
    {command: '<%= config.bin %> status --json | jq .daemon.url', description: 'For scripts and health checks.'},
  ]

  /** --json: {daemon, busy, active_runs, units}, with exit 4 as well when no daemon runs. */
  static enableJsonFlag = true

  async run(): Promise<StatusData> {
    const {flags} = await this.parse(Status)
    const {units: configured, layout} = this.configuredUnits(flags.config, flags['state-dir'])
    const claim = liveDaemon(layout)
    const daemon = claim?.mode === 'serve' ? claim : undefined
    const store = new RunStore(layout)
    const now = Date.now()
    const active: RunRecord[] = []
    for (const entry of store.listActive()) {
      const record = store.readSync(entry)
      if (record?.status === 'running') active.push(record)
    }
    const books = new UnitBooks(layout)
    if (daemon) books.load()
    const units = configured.map((u) => {
      const lastEntry = store.latest(u.name)
      const last = lastEntry ? store.readSync(lastEntry) : undefined
      return {
        name: u.name,
        kind: u.kind,
        last_run: last ? {id: last.id, status: last.status, end_reason: last.end_reason, started_at: last.started_at, ended_at: last.ended_at} : null,
        ...(u.kind === 'service' ? {state: daemon ? (books.get(u.name)?.service ?? null) : null} : {}),
      }
    })
    const token = process.env.SCHED_API_TOKEN ? '$SCHED_API_TOKEN' : layout.tokenFile
    const data: StatusData = {
      daemon: daemon
        ? {
            pid: daemon.pid,
            started_at: daemon.started_at,
            uptime_s: Math.round((now - Date.parse(daemon.started_at)) / 1000),
            url: daemon.url ?? null,
            config_path: daemon.config_path,
            state_dir: daemon.state_dir,
            version: daemon.version,
            token,
          }
        : null,
      busy: claim && !daemon ? {pid: claim.pid, command: claim.command ?? null} : null,
      active_runs: active.map(publicRun),
      units,
    }
    // A cluster node's state directory holds no run records: its daemon answers for the cluster.
    // (A daemon on its own, or one whose API this user cannot use, keeps the state directory's view.)
    const shared = daemon?.url ? await clusterStatus(layout).catch(() => undefined) : undefined
    if (shared) {
      data.cluster = shared.cluster
      data.active_runs = shared.active
      data.units = units.map((u) => {
        const seen = shared.units.get(u.name)
        const last = seen?.last_run
        return {...u, last_run: last ? {id: last.id, status: last.status, end_reason: last.end_reason, started_at: last.started_at, ended_at: last.ended_at} : null, ...(u.kind === 'service' ? {state: seen?.state ?? null} : {})}
      })
    }

    if (!this.jsonEnabled()) this.render(data, now, daemon?.url ? dashboardLink(daemon.url, layout, now) : undefined)
    if (!daemon) process.exitCode = ExitCode.noDaemon
    return data
  }

  private render(data: StatusData, now: number, signIn?: string): void {
    const c = this.out()
    const d = data.daemon
    if (d) {
      this.log(`${c.green('daemon running')}: pid ${d.pid}, up ${formatDuration(msToNs(Number(d.uptime_s) * 1000))}, ${d.url ?? 'no API'}`)
      this.log(`  config ${d.config_path} · state ${d.state_dir} · version ${d.version} · token ${d.token}`)
      if (signIn) this.log(`  dashboard: ${signIn} (one-time sign-in link, valid ${TICKET_LIFETIME_MS / 60_000} minutes)`)
      const k = data.cluster
      if (k) {
        const health = k.healthy ? c.green('healthy') : c.red('cannot reach the cluster database')
        const config = k.config_matches ? 'runs the cluster\'s config' : c.red(`runs another config than the cluster (${k.config_hash.slice(0, 12)} against ${k.cluster_config_hash?.slice(0, 12)}): deploy the same sched.toml and reload`)
        this.log(`  cluster node ${k.node} · ${health} · ${config}; runs below are the cluster's (sched cluster status for the nodes)`)
      }
    } else {
      this.log(`${c.red('no daemon')} is serving this state directory${data.busy ? ` (pid ${data.busy.pid} runs ${data.busy.command} in the foreground)` : ''}`)
    }
    if (data.active_runs.length) {
      this.log('\nactive runs:')
      this.log(renderTable(['ID', 'TASK', 'STARTED', 'PID'], data.active_runs.map((r) => [r.id, r.task_name + (r.instance_index !== null ? `#${r.instance_index}` : ''), r.started_at ? formatRelative(Date.parse(r.started_at), now) : '', String(r.pid ?? '')])))
    }
    if (data.units.length) {
      this.log('\nunits:')
      const rows = data.units.map((u) => {
        const last = u.last_run ? `${u.last_run.status === 'ended' ? u.last_run.end_reason : u.last_run.status}${u.last_run.started_at ? ` ${formatRelative(Date.parse(u.last_run.started_at), now)}` : ''}` : c.dim('never run')
        const state = u.kind === 'service' ? (u.state ? (u.state.status === 'fatal' ? c.red('FATAL') : u.state.status) : c.dim('stopped')) : ''
        return [u.name, u.kind, last, state]
      })
      this.log(renderTable(['NAME', 'KIND', 'LAST RUN', 'STATE'], rows))
    }
  }
}

/** A fresh one-time dashboard link, when this user can read the token (it is never printed itself). */
function dashboardLink(url: string, layout: StateLayout, now: number): string | undefined {
  const token = readToken(layout)
  return token ? signInUrl(url, token, now) : undefined
}
