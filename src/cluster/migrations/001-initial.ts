import type {Migration} from './migration.js'

/**
 * The first schema. Times are the database's (`now()`): leases and heartbeats never compare two
 * machines' clocks. Names (tasks, services, nodes) are the config's, checked before they get here.
 */
export const initial: Migration = {
  version: 1,
  name: 'nodes, fire ledger, runs, queue, slot leases',
  sql: `
CREATE TABLE sched.nodes (
  name text PRIMARY KEY,
  -- A new one per process start: a node that was replaced under its own name can no longer write.
  incarnation uuid NOT NULL,
  advertise text,
  config_hash text NOT NULL,
  version text NOT NULL,
  host text NOT NULL,
  state_dir text NOT NULL,
  pid integer NOT NULL,
  started_at timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  -- The node's clock minus the database's at its last heartbeat.
  skew_ms double precision,
  left_at timestamptz
);

-- One row per task: the lock its admission takes, and when the cluster first saw it (the
-- catch-up anchor of a task that never fired).
CREATE TABLE sched.tasks (
  name text PRIMARY KEY,
  first_seen_at timestamptz NOT NULL DEFAULT now()
);

-- Who fired each tick. The primary key is the guarantee: one claim per (task, tick).
CREATE TABLE sched.fire_ledger (
  task text NOT NULL,
  scheduled_at timestamptz NOT NULL,
  node text NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (task, scheduled_at)
);

-- Run records, as in the state directory (SPEC §3), with the node that runs or ran each.
CREATE TABLE sched.runs (
  id text PRIMARY KEY,
  task_name text NOT NULL,
  kind text NOT NULL,
  status text NOT NULL,
  end_reason text,
  exit_code integer,
  signal text,
  triggered_by text NOT NULL,
  scheduled_at timestamptz,
  created_at timestamptz NOT NULL,
  started_at timestamptz,
  ended_at timestamptz,
  duration_ms double precision,
  retry_attempt integer NOT NULL,
  retry_of_run_id text,
  instance_index integer,
  params jsonb NOT NULL,
  pid integer,
  log_bytes bigint NOT NULL,
  message text,
  process_start text,
  -- null while queued; then the node that claimed it and that node's incarnation.
  node text,
  incarnation uuid,
  -- A stop asked for by another node (terminate, an operator): the owner acts on it.
  stop_requested text,
  -- Its admission order (from the queue's sequence): its place if it queues, or goes back to
  -- the queue because its node died before starting it.
  queue_seq bigint NOT NULL
);
CREATE INDEX runs_task ON sched.runs (task_name, id);
CREATE INDEX runs_unfinished ON sched.runs (task_name, node) WHERE status <> 'ended';

CREATE TABLE sched.queue (
  seq bigserial PRIMARY KEY,
  run_id text NOT NULL UNIQUE REFERENCES sched.runs (id) ON DELETE CASCADE,
  task_name text NOT NULL
);
CREATE INDEX queue_task ON sched.queue (task_name, seq);

-- Fencing tokens only grow: a later holder of a slot always has a larger one.
CREATE SEQUENCE sched.fencing_tokens;
CREATE TABLE sched.slots (
  service text NOT NULL,
  -- The instance index for placement = "any_node"; the node's name for "every_node".
  slot text NOT NULL,
  node text,
  incarnation uuid,
  token bigint NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (service, slot)
);
CREATE INDEX slots_holder ON sched.slots (node);
`,
}
