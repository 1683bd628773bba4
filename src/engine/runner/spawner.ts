import type {ProcessControl} from './launch.js'
import {ProcessRunner} from './process-runner.js'
import type {ToMain, ToSpawner} from './spawner-messages.js'

/**
 * A spawner process of the SpawnerLauncher: spawn() (fork + exec, a few ms of blocking each), pipe
 * reading and log writing happen here, out of the daemon. It only executes; every decision stays
 * with the run's owner in the daemon. Its environment is the daemon's.
 */
const runner = new ProcessRunner({...process.env})
const controls = new Map<string, ProcessControl>()
const send = (message: ToMain) => process.send?.(message)

// The daemon ended this spawner, or died: exit at once. A run still going is the next boot's
// recovery's, exactly as if the daemon had started it itself.
process.on('disconnect', () => process.exit(0))

process.on('message', (message: ToSpawner) => {
  switch (message.op) {
    case 'start': {
      const id = message.spec.runId
      controls.set(
        id,
        runner.run(message.spec, (event) => {
          if (event.type === 'exited') controls.delete(id)
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
