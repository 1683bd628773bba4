import type {Daemon} from '../../engine/daemon.js'
import {type RunRecord, publicRun} from '../../state/run-record.js'
import {newestFirst} from '../../state/run-query.js'
import {unitStates} from '../../engine/unit-state.js'
import {unreachableAs503} from '../cluster-problem.js'
import {recentRuns} from '../overview.js'
import {HttpProblem} from '../problem.js'
import type {Route} from '../router.js'
import {sendJson} from '../server.js'

const MAX_RUNS = 100
const DEFAULT_RUNS = 20
/** Finished records never change: the last runs of a thousand units are read from disk once. */
const CACHE_LIMIT = 5000

/**
 * GET /api/overview?runs=20[&name=…]: every unit's live state, its newest run (the whole
 * record) and a strip of its newest runs (id, end reason, trigger) in one answer — what the
 * dashboard's overview would otherwise ask a thousand times. `name` (repeatable) limits the
 * answer to those units, for refreshing the ones an event touched.
 */
export function overviewRoutes(daemon: Daemon): Route[] {
  const finished = new Map<string, RunRecord>()
  const record = async (id: string): Promise<RunRecord | undefined> => {
    const cached = finished.get(id)
    if (cached) return cached
    const run = await daemon.view.record(id)
    if (run?.status === 'ended') {
      if (finished.size >= CACHE_LIMIT) finished.delete(finished.keys().next().value!)
      finished.set(id, run)
    }
    return run
  }
  return [
    {
      method: 'GET',
      path: '/api/overview',
      auth: true,
      handler: async (req, res) => {
        const runsText = req.query.get('runs')
        const perUnit = runsText === null ? DEFAULT_RUNS : Number(runsText)
        if (!Number.isInteger(perUnit) || perUnit < 1 || perUnit > MAX_RUNS) {
          throw new HttpProblem(400, `runs must be an integer from 1 to ${MAX_RUNS}`, [{location: 'query.runs', message: 'out of range', value: runsText}])
        }
        const wanted = new Set(req.query.getAll('name'))
        const units = daemon.config.units.filter((u) => wanted.size === 0 || wanted.has(u.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        const names = units.map((u) => u.name)
        const {owner, supervisor, cluster} = daemon
        // In a cluster the runs and the counts are every node's (in the database).
        const [strips, states] = await unreachableAs503(
          Promise.all([cluster ? cluster.recentRuns(names, perUnit) : recentRuns(newestFirst(daemon.view.entries()), names, perUnit), unitStates(units, owner, supervisor, cluster)]),
        )
        const last = await Promise.all(units.map((u) => {
          const newest = strips.get(u.name)![0]
          return newest ? record(newest.id) : undefined
        }))
        sendJson(res, 200, {
          units: units.map((u, i) => ({
            name: u.name,
            state: states.get(u.name),
            last_run: last[i] ? publicRun(last[i]) : null,
            recent_runs: strips.get(u.name),
          })),
        })
      },
    },
  ]
}
