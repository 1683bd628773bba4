import type {RefusalCode} from '../engine/outcomes.js'

/** The HTTP status of each engine refusal (SPEC §11): the one mapping for this transport. */
export const REFUSAL_STATUS: Readonly<Record<RefusalCode, number>> = {
  unknown: 404,
  forbidden: 403,
  params: 400,
  service: 409,
  conflict: 409,
  invalid: 400,
  closing: 503,
  // 507 Insufficient Storage (RFC 4918): the server cannot store what the request needs.
  storage: 507,
  unavailable: 503,
}
