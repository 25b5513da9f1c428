// One container as the applied files declare it, whatever the format (Kubernetes pod, paunch):
// the container spec of the runtime plus what apply itself orders, checks and records. The
// spec digest is computed over this (without `origin`), so two files that say the same thing
// in different formats make the same container.
import type { ContainerSpec } from '../../runtime/index.js';

/** How a check tests the container: a command in it, or a connection syscontainer makes itself. */
export type DeclaredProbe =
  | { type: 'exec'; command: string[] }
  | { type: 'shell'; script: string }
  | { type: 'http'; port: number; path: string; host?: string; https: boolean; headers: Record<string, string> }
  | { type: 'tcp'; port: number; host?: string };

export interface DeclaredCheck {
  probe: DeclaredProbe;
  intervalSeconds: number;
  timeoutSeconds: number;
  /** Consecutive failures before the container counts as unhealthy. */
  retries: number;
  startPeriodSeconds: number;
}

/** Where a declaration came from, for error lines and the ownership record. */
export interface DeclarationOrigin {
  /** The file as the user named it. */
  file: string;
  /** Absolute path of the file (or `-`): relative paths in it (env_file) are relative to its directory. */
  path: string;
  document: number;
  documents: number;
  /** `pod/etcd`, `daemonset/etcd`, `deployment/web`, `paunch`. */
  object: string;
  /** Path of the container's declaration inside the document (`spec.containers[1]`, `etcd`). */
  field: string;
}

export interface DeclaredContainer {
  /** POD-CONTAINER for pods, the map key for paunch. */
  name: string;
  image: string;
  /** always: pull before every apply; missing: pull when not stored (default); never. */
  pull: 'always' | 'missing' | 'never';
  /** service: runs and is restarted by its policy; oneshot: runs once to completion (initContainers, paunch detach: false). */
  role: 'service' | 'oneshot';
  spec: ContainerSpec;
  /** The restart policy; undefined keeps syscontainer's default (on-failure). */
  restart?: 'always' | 'unless-stopped' | 'on-failure' | 'no';
  /** With on-failure: the most restarts (paunch's on-failure:N). */
  restartRetries?: number;
  liveness?: DeclaredCheck;
  startup?: DeclaredCheck;
  readiness?: DeclaredCheck;
  /** Started after these (names), and they are pulled in: Kubernetes init containers. */
  requires: string[];
  /** Started after these and they are pulled in, but a failure of theirs does not stop this one: paunch's depends_on. */
  wants: string[];
  /** Started after these, if they start at all: paunch's start_order, syscontainer.io/after. */
  after: string[];
  /** Host paths the pod names (hostPath volumes, volume sources): checked before anything changes, made when "OrCreate". */
  hostPaths: { path: string; type: 'any' | 'Directory' | 'DirectoryOrCreate' | 'File' | 'FileOrCreate' | 'Socket' | 'CharDevice' | 'BlockDevice' }[];
  origin: DeclarationOrigin;
}

/**
 * paunch's `action: exec`: a command run in another, running container (the first word of
 * `command` names it), in start order, on every apply, as paunch ran it. Not a container:
 * nothing is installed or owned, so nothing is pruned.
 */
export interface DeclaredExec {
  /** The key of the paunch map. */
  name: string;
  /** The container it runs in. */
  target: string;
  command: string[];
  /** `UID[:GID]` or `NAME[:GROUP]` in the target's image; default the target's own user. */
  user?: string;
  /** Exit codes that count as success (paunch's exit_codes; default [0]). */
  exitCodes: number[];
  /** Runs once these containers are converged (the lower and equal start orders, and the target). */
  after: string[];
  origin: DeclarationOrigin;
}

/** An error (or, with --ignore-unsupported, a warning) about one place in one file. */
export interface DeclarationProblem {
  /** `FILE` or `FILE (document N)` and the object: `pods.yaml (document 2): pod/etcd`. */
  where: string;
  /** Dotted path of the field (`spec.containers[0].ports[0].hostPort`), empty for the whole document. */
  field: string;
  message: string;
  /** A field or value syscontainer does not support (not a wrong type or a bad value). */
  unsupported: boolean;
}

/** The line an error or warning about a declaration is printed as. */
export function problemLine(problem: DeclarationProblem): string {
  return `${problem.where}: ${problem.field === '' ? '' : `${problem.field}: `}${problem.message}`;
}

/** `FILE` or `FILE (document N)`, then the object when known. */
export function originWhere(origin: Pick<DeclarationOrigin, 'file' | 'document' | 'documents'> & { object?: string }): string {
  const doc = origin.documents > 1 ? ` (document ${origin.document})` : '';
  return `${origin.file}${doc}${origin.object ? `: ${origin.object}` : ''}`;
}
