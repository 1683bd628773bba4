import type {LaunchSpec, ProcessEvent} from './launch.js'

/** Messages between the SpawnerLauncher and its spawner processes (spawner.ts). */
export type ToSpawner =
  | {readonly op: 'start'; readonly spec: LaunchSpec}
  | {readonly op: 'signal'; readonly id: string; readonly signal: NodeJS.Signals; readonly note: string}
  | {readonly op: 'kill'; readonly id: string; readonly note: string}

export interface ToMain {
  readonly id: string
  readonly event: ProcessEvent
}
