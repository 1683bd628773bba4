import type {ProcessControl} from './launch.js'
import {HelperSpawn} from './child-spawn.js'
import {ProcessRunner} from './process-runner.js'
import type {ToMain, ToSpawner} from './spawner-messages.js'

/**
 * A spawner process of the SpawnerLauncher: spawn() (fork + exec, a few ms of blocking each), pipe
 * reading and log writing happen here, out of the daemon. It only executes; every decision stays
 * with the run's owner in the daemon. Its environment is the daemon's.
 */
// The spawn helper sits beside this bundle in dist/ when the build had a C compiler.
const runner = new ProcessRunner({...process.env}, HelperSpawn.beside(import.meta.url)?.spawn)
const controls = new Map<string, ProcessControl>()
/** Runs that must not outlive the daemon (LaunchSpec.diesWithDaemon). */
const bound = new Set<string>()
/**
 * The daemon ended this spawner, or died: exit at once. A run still going is the next boot's
 * recovery's, exactly as if the daemon had started it itself — but a cluster service instance
 * dies now: its lease went with the daemon and another node will start it. A dead daemon is
 * noticed by whichever comes first: the channel's disconnect, or a report that cannot be sent
 * (an unhandled send error would end this process without killing them).
 */
function orphaned(): void {
  for (const id of bound) controls.get(id)?.kill('[sched] the daemon holding this instance\'s slot lease is gone; sending SIGKILL')
  process.exit(0)
}
process.on('disconnect', orphaned)

function send(message: ToMain): void {
  if (!process.connected) return orphaned()
  process.send!(message, undefined, undefined, (error) => error && orphaned())
}

process.on('message', (message: ToSpawner) => {
  switch (message.op) {
    case 'start': {
      const id = message.spec.runId
      if (message.spec.diesWithDaemon) bound.add(id)
      controls.set(
        id,
        runner.run(message.spec, (event) => {
          if (event.type === 'exited') {
            controls.delete(id)
            bound.delete(id)
          }
          send({id, event})
        }),
      )
      break
    }
    case 'signal':
      controls.get(message.id)?.signal(message.signal, message.note)
      break
    case 'kill':
      controls.get(message.id)?.kill(message.note)
      break
  }
})
