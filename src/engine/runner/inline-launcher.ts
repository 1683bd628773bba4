import type {LaunchSpec, Launcher, ProcessControl, ProcessEvent} from './launch.js'
import {type FrameSink, ProcessRunner} from './process-runner.js'

/**
 * Starts processes in this process. For the foreground `sched trigger` (one run: a spawner
 * process would cost more than the spawn it moves) and for tests; it can show output live.
 */
export class InlineLauncher implements Launcher {
  private readonly runner: ProcessRunner
  private readonly running = new Set<Promise<void>>()

  constructor(daemonEnv: Readonly<Record<string, string | undefined>>, private readonly onFrame?: FrameSink) {
    this.runner = new ProcessRunner(daemonEnv)
  }

  launch(spec: LaunchSpec, onEvent: (event: ProcessEvent) => void): ProcessControl {
    let done!: () => void
    const exited = new Promise<void>((resolve) => (done = resolve))
    this.running.add(exited)
    void exited.then(() => this.running.delete(exited))
    return this.runner.run(
      spec,
      (event) => {
        onEvent(event)
        if (event.type === 'exited') done()
      },
      this.onFrame,
    )
  }

  async close(): Promise<void> {
    await Promise.all(this.running)
  }
}
