import {SchedError} from '../core/errors.js'

/**
 * The cluster database cannot be reached now. Whoever meets it must not act as if its claim had
 * succeeded: a tick not claimed is not run, a lease not renewed is lost. Its own module, so that
 * the engine can recognise it without loading the database client.
 */
export class ClusterUnavailable extends SchedError {
  constructor(message: string, cause?: unknown) {
    super(message, {cause, hint: 'the node keeps its running runs and retries; check the database and the network to it'})
    this.name = 'ClusterUnavailable'
  }
}
