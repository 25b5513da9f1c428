// Who runs an installed container. With a systemd manager, systemd does: the unit's main
// process is `runc run NAME`, so restarts, boot and the journal are systemd's. Without one
// (containers, CI) a small monitor process per container runs `runc run` (container-monitor.ts),
// with its output in the deployment's container.log. Both record each run's exit in the
// deployment (exit-status.ts). The transactions and queries call this interface and never
// ask which of the two it is; the choice is made once per RuntimeContext (choose.ts).
//
// Every method names the container; those that start it also take its bundle, the directory of
// the deployment to run (DIR/config.json, DIR/rootfs). Callers hold the container's lock
// (container-lock.ts) around every method that changes something. Errors are ERUNTIME
// SyscontainerErrors carrying the tool's own message (runc.ts, systemd.ts).

import type { JournalEntry } from '../systemd.js';

/** How a start ended: the container runs, or its command ended at once with status 0. */
export type StartOutcome = 'running' | 'exited';
/** What launch did: started it, or found it running already. */
export type LaunchOutcome = 'started' | 'running';

/** What a supervisor knows of a container right now. */
export interface SupervisedState {
  /** running, stopped, failed, activating, … (systemd ActiveState/SubState, or runc's status). */
  state: string;
  /** The container's init as the host sees it, when it has one. */
  pid: number | undefined;
  /** Whether it starts at boot; undefined where nothing starts containers at boot. */
  enabled: boolean | undefined;
  /** Text that lists the container's processes (systemctl status), when the supervisor has one. */
  details: string | undefined;
  /** How often the restart policy ran it again since its last explicit start (systemd's NRestarts). */
  restarts: number;
}

export interface Supervisor {
  /** Which one this is, as data for the user (`status` says "managed by"). Never branch on it. */
  readonly kind: 'systemd' | 'runc';

  /**
   * Whether something runs a container's health checks on their interval by itself (systemd:
   * the NAME-healthcheck.timer started with the unit). Where not, `healthcheck run` is by hand
   * and the health gate of an update runs the checks it waits for.
   */
  readonly schedulesHealthChecks: boolean;

  /** Whether the container runs now (or is starting or reloading). False for an unknown one; read-only. */
  isRunning(name: string): Promise<boolean>;

  /**
   * Starts the container from `bundle` (its unit must be published and loaded: see reload) and
   * waits the context's settle time to see it stay up. Call it when the container is not
   * running. Resolves 'running', or 'exited' when its command ended with status 0 and was not
   * restarted (a one-shot service: Atomic installed those); throws ERUNTIME, with the last lines
   * of its output as the hint, when it failed or does not stay up; it is then left stopped or
   * failed, as the supervisor saw it.
   */
  start(name: string, bundle: string): Promise<StartOutcome>;

  /**
   * Starts the container from `bundle` without waiting to see it stay up (docker's start: the
   * container may be a command that runs and exits), unless it runs already: 'running' then,
   * nothing done (one look at it, not one to decide and another to start). Resolves 'started'
   * once it runs or has already exited (bounded wait), so whoever lists it next sees it started.
   */
  launch(name: string, bundle: string): Promise<LaunchOutcome>;

  /** Sends `signal` (a name: KILL, TERM, …) to the container's init. ERUNTIME when it is not running. */
  kill(name: string, signal: string): Promise<void>;

  /**
   * Stops the container and every process of it, and returns when they are gone and runc has
   * forgotten it (so the next start can reuse the id). Idempotent: a stopped or unknown
   * container is fine.
   */
  stop(name: string): Promise<void>;

  /**
   * Replaces the container, running or not, by one started from `bundle`; then as start (waits,
   * throws ERUNTIME when the new one does not stay up). Used by `restart`; a switch (update,
   * rollback) stops the container first, with the unit it was started by, then starts it.
   */
  restart(name: string, bundle: string): Promise<StartOutcome>;

  /**
   * The published unit files in `changes` were just written or removed: makes the supervisor
   * run what they say now. systemd: a daemon-reload (it re-reads every unit on the host, and
   * is serialised host-wide) only when it holds an older version of one of them; a unit it never
   * loaded is read at its start. Idempotent.
   */
  reload(changes: UnitChanges): Promise<void>;

  /**
   * Makes the container start at boot. Resolves false when nothing here starts containers at
   * boot (runc-direct): the unit is written but not enabled. Throws ERUNTIME.
   */
  enable(name: string): Promise<boolean>;

  /**
   * Loads, enables and starts a unit of ours that is not a container's (the daily
   * syscontainer-auto-update.timer), already written to the unit directory. Resolves false
   * where nothing runs units (runc-direct).
   */
  startHostUnit(unit: string): Promise<boolean>;

  /** Undoes enable. Idempotent: a unit not enabled, or gone, is fine. */
  disable(name: string): Promise<void>;

  /**
   * After uninstall removed the unit file: forgets everything of the container the supervisor
   * kept (systemd: the loaded unit and its failed state; runc-direct: the empty cgroup
   * directories runc made, waiting up to 3 s for a killed container's processes to be reaped).
   * Idempotent; never removes anything that still runs.
   */
  forget(name: string): Promise<void>;

  /**
   * Makes pod `pod`'s network namespace (podNetnsPath: loopback up, nothing else) that its
   * containers join. systemd: the pod's unit (`unit`, written here when it differs) owns it,
   * enabled and started, so it comes back at boot before them; runc-direct: made directly.
   * Idempotent.
   */
  ensurePodNetwork(pod: string, unit: { file: string; text: string }): Promise<void>;

  /** Removes the pod's network namespace and its unit file. Idempotent. */
  removePodNetwork(pod: string, unitFile: string): Promise<void>;

  /**
   * The container's state now, `bundle` the deployment it runs (or ran) from; a never started
   * container is `stopped`. Read-only, but for one repair: without systemd, a run whose monitor
   * was killed gets its lost exit recorded (exit-status.ts).
   */
  status(name: string, bundle: string): Promise<SupervisedState>;

  /** The state word (as status().state) of each container (name and bundle), with one runc call for them all. Read-only. */
  states(containers: readonly { name: string; bundle: string }[]): Promise<Map<string, string>>;

  /** The container's output, the last `lines` lines when given ('' when there is none). Read-only. */
  logs(name: string, bundle: string, options: { lines?: number }): Promise<string>;

  /**
   * Hands the container's output to `write` (the last `lines` lines first when given), then
   * what follows as it comes, until `signal` aborts; resolves then. Read-only.
   */
  followLogs(name: string, bundle: string, options: { lines?: number; write: (chunk: string) => void; signal: AbortSignal }): Promise<void>;

  /**
   * The container's output line by line, each with its time and stream (the REST service's
   * logs and attach): what came after `cursor` (as an earlier call returned it) when given,
   * else the last `lines` (all when not given) between sinceMs and untilMs. Also returns the
   * cursor to pass next. systemd: the unit's journal, stderr apart; runc-direct: container.log,
   * each line stamped with its time and stream by the monitor (container-log.ts).
   * Read-only.
   */
  outputEntries(name: string, bundle: string, query: OutputEntriesQuery): Promise<{ entries: JournalEntry[]; cursor: string | undefined }>;
}

/** Unit files (names: NAME.service, …) just written with new contents, and just removed. */
export interface UnitChanges {
  written: readonly string[];
  removed: readonly string[];
}

export interface OutputEntriesQuery {
  lines?: number;
  sinceMs?: number;
  untilMs?: number;
  cursor?: string;
}
