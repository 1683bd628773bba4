import {parentPort, workerData} from 'node:worker_threads'
import type {ProcessControl} from './launch.js'
import {ProcessRunner} from './process-runner.js'
import type {ToMain, ToWorker} from './thread-messages.js'

/**
 * A worker thread of the ThreadLauncher: spawn() (fork + exec, a few ms of blocking each), pipe
 * reading and log writing happen here, off the daemon's event loop. It only executes; every
 * decision stays with the run's owner on the main thread.
 */
const port = parentPort!
const runner = new ProcessRunner(workerData.daemonEnv as Record<string, string>)
const controls = new Map<string, ProcessControl>()

port.on('message', (message: ToWorker) => {
  switch (message.op) {
    case 'start': {
      const id = message.spec.runId
      controls.set(
        id,
        runner.run(message.spec, (event) => {
          if (event.type === 'exited') controls.delete(id)
          port.postMessage({id, event} satisfies ToMain)
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
