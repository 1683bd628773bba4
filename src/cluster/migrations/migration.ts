/** One step of the cluster schema. Versions count up from 1; a released migration never changes. */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}
