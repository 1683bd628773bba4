/**
 * A run's environment, lowest precedence first: the daemon's environment without its own
 * SCHED_* settings (the API token must not leak), the unit's merged env_file/env, secrets,
 * env parameters, then the run's own SCHED_* variables.
 */
export interface RunIdentity {
  readonly task: string
  readonly runId: string
  readonly attempt: number
  readonly instance?: number
  /** In a cluster: the node that runs it. */
  readonly node?: string
}

export interface EnvLayers {
  readonly daemon: NodeJS.ProcessEnv
  readonly unit: Readonly<Record<string, string>>
  readonly secrets: Readonly<Record<string, string>>
  readonly params: Readonly<Record<string, string>>
  readonly run: RunIdentity
  /** When the run switches user: HOME, USER and LOGNAME of that user, as login tools set them. */
  readonly account?: Readonly<Record<string, string>>
}

export function composeEnv(layers: EnvLayers): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(layers.daemon)) {
    if (v !== undefined && !k.startsWith('SCHED_')) env[k] = v
  }
  Object.assign(env, layers.account, layers.unit, layers.secrets, layers.params)
  env.SCHED_TASK = layers.run.task
  env.SCHED_RUN_ID = layers.run.runId
  env.SCHED_ATTEMPT = String(layers.run.attempt)
  if (layers.run.instance !== undefined) env.SCHED_INSTANCE = String(layers.run.instance)
  if (layers.run.node !== undefined) env.SCHED_NODE = layers.run.node
  return env
}
