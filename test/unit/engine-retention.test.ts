import {describe, expect, it} from 'vitest'
import {NS} from '../../src/core/duration.js'
import {ulid, ulidTime} from '../../src/core/ulid.js'
import {planRetention, type RetentionPolicy} from '../../src/engine/retention.js'
import type {RunEntry} from '../../src/state/runs.js'

const D = 86_400_000
const NOW = Date.parse('2026-05-04T12:00:00Z')

interface Spec {
  /** A label to assert on. */
  readonly label: string
  readonly unit: string
  /** Creation time, ms before NOW. */
  readonly ago: number
  readonly state?: RunEntry['state']
}

/**
 * Run entries whose ids encode their creation time. ulid() never goes back in time (an earlier
 * time reuses the last one), so ids are made oldest first, and each is checked.
 */
function entries(specs: readonly Spec[]): {list: RunEntry[]; label: (doomed: readonly RunEntry[]) => string[]} {
  const labels = new Map<string, string>()
  const byTime = [...specs].sort((a, b) => b.ago - a.ago)
  const ids = new Map<Spec, string>()
  for (const s of byTime) {
    const id = ulid(NOW - s.ago)
    if (ulidTime(id) !== NOW - s.ago) throw new Error(`ulid(${NOW - s.ago}) encodes ${ulidTime(id)}: make ids oldest first`)
    ids.set(s, id)
  }
  const list = specs.map((s): RunEntry => {
    const id = ids.get(s)!
    labels.set(id, s.label)
    const state = s.state ?? 'success'
    return {id, unit: s.unit, triggered_by: 'cron', state, file: `${id}.cron.${state}.json`}
  })
  return {list, label: (doomed) => doomed.map((e) => labels.get(e.id)!).sort()}
}

const policy = (units: Record<string, {keep_runs?: number; keep_for?: number}>, maxStorage = 0): RetentionPolicy => ({
  units: new Map(Object.entries(units).map(([name, p]) => [name, {keep_runs: p.keep_runs ?? 0, keep_for: p.keep_for ?? 0}])),
  maxStorage,
})

// Each test runs at a later NOW offset so ids keep increasing across the file.
let shift = 0
const later = (specs: Spec[]): Spec[] => {
  shift += 1000 * D
  return specs.map((s) => ({...s, ago: s.ago - shift}))
}
const nowFor = () => NOW + shift

describe('planRetention: keep_runs', () => {
  it('keeps the N newest finished runs of each unit, deletes the rest', () => {
    const specs = later([
      {label: 'a1', unit: 'a', ago: 5 * D},
      {label: 'b1', unit: 'b', ago: 4.5 * D},
      {label: 'a2', unit: 'a', ago: 4 * D, state: 'failed'},
      {label: 'a3', unit: 'a', ago: 3 * D, state: 'missed'},
      {label: 'b2', unit: 'b', ago: 2.5 * D},
      {label: 'a4', unit: 'a', ago: 2 * D},
      {label: 'b3', unit: 'b', ago: 1.5 * D},
      {label: 'a5', unit: 'a', ago: 1 * D, state: 'dst_skipped'},
    ])
    const {list, label} = entries(specs)
    expect(label(planRetention(list, policy({a: {keep_runs: 2}, b: {keep_runs: 1}}), nowFor()))).toEqual(['a1', 'a2', 'a3', 'b1', 'b2'])
    expect(label(planRetention(list, policy({a: {keep_runs: 5}, b: {keep_runs: 3}}), nowFor()))).toEqual([])
    expect(label(planRetention(list, policy({a: {keep_runs: 0}, b: {keep_runs: 0}}), nowFor()))).toEqual([])
  })

  it('active runs are neither counted nor deleted', () => {
    const {list, label} = entries(
      later([
        {label: 'old-active', unit: 'a', ago: 9 * D, state: 'active'},
        {label: 'a1', unit: 'a', ago: 3 * D},
        {label: 'a2', unit: 'a', ago: 2 * D},
        {label: 'a3', unit: 'a', ago: 1 * D},
        {label: 'new-active', unit: 'a', ago: 0, state: 'active'},
      ]),
    )
    expect(label(planRetention(list, policy({a: {keep_runs: 2}}), nowFor()))).toEqual(['a1'])
    expect(label(planRetention(list, policy({a: {keep_runs: 1}}), nowFor()))).toEqual(['a1', 'a2'])
  })

  it('runs are ordered by id, not by their order in the listing', () => {
    const {list, label} = entries(
      later([
        {label: 'new', unit: 'a', ago: 1 * D},
        {label: 'old', unit: 'a', ago: 3 * D},
        {label: 'mid', unit: 'a', ago: 2 * D},
      ]),
    )
    expect(label(planRetention(list, policy({a: {keep_runs: 1}}), nowFor()))).toEqual(['mid', 'old'])
  })
})

describe('planRetention: keep_for (by the time in the run id)', () => {
  it('deletes finished runs created before now − keep_for; one exactly at the boundary stays', () => {
    const {list, label} = entries(
      later([
        {label: '30d', unit: 'a', ago: 30 * D},
        {label: '30d-active', unit: 'a', ago: 30 * D - 1, state: 'active'},
        {label: '7d+1ms', unit: 'a', ago: 7 * D + 1},
        {label: '7d', unit: 'a', ago: 7 * D},
        {label: '1d', unit: 'a', ago: 1 * D},
        {label: 'b-30d', unit: 'b', ago: 30 * D - 2},
      ]),
    )
    expect(label(planRetention(list, policy({a: {keep_for: 7 * NS.d}, b: {keep_for: 31 * NS.d}}), nowFor()))).toEqual(['30d', '7d+1ms'])
    expect(label(planRetention(list, policy({a: {keep_for: 1 * NS.h}, b: {keep_for: 1 * NS.h}}), nowFor()))).toEqual(['1d', '30d', '7d', '7d+1ms', 'b-30d'])
  })

  it('keep_runs and keep_for together: a run goes if either rule says so', () => {
    const {list, label} = entries(
      later([
        {label: 'old', unit: 'a', ago: 10 * D},
        {label: 'mid1', unit: 'a', ago: 3 * D},
        {label: 'mid2', unit: 'a', ago: 2 * D},
        {label: 'new', unit: 'a', ago: 1 * D},
      ]),
    )
    expect(label(planRetention(list, policy({a: {keep_runs: 3, keep_for: 5 * NS.d}}), nowFor()))).toEqual(['old'])
    expect(label(planRetention(list, policy({a: {keep_runs: 2, keep_for: 5 * NS.d}}), nowFor()))).toEqual(['mid1', 'old'])
    expect(label(planRetention(list, policy({a: {keep_runs: 10, keep_for: 2.5 * NS.d}}), nowFor()))).toEqual(['mid1', 'old'])
  })

  it('a unit without a policy (e.g. removed from the config) is untouched by keep rules', () => {
    const {list, label} = entries(
      later([
        {label: 'gone1', unit: 'gone', ago: 400 * D},
        {label: 'gone2', unit: 'gone', ago: 300 * D},
        {label: 'a1', unit: 'a', ago: 200 * D},
        {label: 'a2', unit: 'a', ago: 100 * D},
      ]),
    )
    expect(label(planRetention(list, policy({a: {keep_runs: 1, keep_for: 1 * NS.d}}), nowFor()))).toEqual(['a1', 'a2'])
  })
})

describe('planRetention: max_storage', () => {
  it('deletes the oldest finished runs across units until the total is under the cap', () => {
    const {list, label} = entries(
      later([
        {label: 'a1', unit: 'a', ago: 6 * D},
        {label: 'b1', unit: 'b', ago: 5 * D},
        {label: 'a2', unit: 'a', ago: 4 * D},
        {label: 'b2', unit: 'b', ago: 3 * D},
        {label: 'a3', unit: 'a', ago: 2 * D},
        {label: 'b3', unit: 'b', ago: 1 * D},
      ]),
    )
    const sizes = new Map(list.map((e) => [e.id, 100]))
    // b has no keep rules, yet its runs count for max_storage and can be deleted for it.
    const p = (max: number) => policy({a: {}}, max)
    expect(label(planRetention(list, p(600), nowFor(), sizes))).toEqual([])
    expect(label(planRetention(list, p(599), nowFor(), sizes))).toEqual(['a1'])
    expect(label(planRetention(list, p(350), nowFor(), sizes))).toEqual(['a1', 'a2', 'b1'])
    expect(label(planRetention(list, p(300), nowFor(), sizes))).toEqual(['a1', 'a2', 'b1'])
    expect(label(planRetention(list, p(1), nowFor(), sizes))).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3'])
  })

  it('counts what keep rules delete first, and sizes differ per run', () => {
    const {list, label} = entries(
      later([
        {label: 'a1', unit: 'a', ago: 6 * D},
        {label: 'b1', unit: 'b', ago: 5 * D},
        {label: 'a2', unit: 'a', ago: 4 * D},
        {label: 'b2', unit: 'b', ago: 3 * D},
      ]),
    )
    const bytes = [600, 500, 1000, 40] // a1, b1, a2, b2: 2140 in all
    const sizes = new Map(list.map((e, i) => [e.id, bytes[i]]))
    // keep_runs 1 drops a1 (600): 1540 left; the cap of 1100 then takes b1 (500): 1040.
    expect(label(planRetention(list, policy({a: {keep_runs: 1}}, 1100), nowFor(), sizes))).toEqual(['a1', 'b1'])
    // After keep_runs, 1540 bytes are under a cap of 2000: no storage deletion.
    expect(label(planRetention(list, policy({a: {keep_runs: 1}}, 2000), nowFor(), sizes))).toEqual(['a1'])
    // Without keep rules the cap of 2000 takes the oldest, a1, alone: 1540.
    expect(label(planRetention(list, policy({}, 2000), nowFor(), sizes))).toEqual(['a1'])
  })

  it('never chooses an active run, though its bytes count', () => {
    const {list, label} = entries(
      later([
        {label: 'active-old', unit: 'a', ago: 9 * D, state: 'active'},
        {label: 'f1', unit: 'a', ago: 5 * D},
        {label: 'f2', unit: 'a', ago: 4 * D},
        {label: 'active-new', unit: 'b', ago: 1 * D, state: 'active'},
      ]),
    )
    const sizes = new Map(list.map((e) => [e.id, 100]))
    expect(label(planRetention(list, policy({}, 250), nowFor(), sizes))).toEqual(['f1', 'f2'])
    expect(label(planRetention(list, policy({}, 300), nowFor(), sizes))).toEqual(['f1'])
    expect(label(planRetention(list, policy({}, 1), nowFor(), sizes))).toEqual(['f1', 'f2'])
  })

  it('no cap (0), or no sizes: nothing deleted for storage', () => {
    const {list, label} = entries(later([{label: 'f1', unit: 'a', ago: 5 * D}]))
    expect(label(planRetention(list, policy({}, 0), nowFor(), new Map([[list[0].id, 1e12]])))).toEqual([])
    expect(label(planRetention(list, policy({}, 1), nowFor()))).toEqual([])
  })
})
