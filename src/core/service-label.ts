/** The words for a service's state in listings and the dashboard: "running 2/2", "starting 1/2", "backoff 0/1", "stopped", "FATAL". */
export function serviceLabel(state: {readonly status: string; readonly instances: readonly {readonly status: string}[]} | undefined): {text: string; tone: 'ok' | 'warn' | 'fail' | 'off'} {
  if (!state) return {text: 'stopped', tone: 'off'}
  const healthy = state.instances.filter((i) => i.status === 'running').length
  switch (state.status) {
    case 'fatal':
      return {text: 'FATAL', tone: 'fail'}
    case 'stopped':
      return {text: 'stopped', tone: 'off'}
    case 'running':
      return {text: `running ${healthy}/${state.instances.length}`, tone: 'ok'}
    default:
      return {text: `${state.status} ${healthy}/${state.instances.length}`, tone: 'warn'}
  }
}
