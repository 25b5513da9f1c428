// Containers as the Docker Engine API shows them: list entries and inspect documents.
import type { ContainerSpec, ContainerView, HealthState, OneOffRun } from '../app/index.js';
import { lostExitResult } from '../app/index.js';
import type { ContainerTarget } from './container-target.js';

const zeroTime = '0001-01-01T00:00:00Z';

function ago(date: Date, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - date.getTime()) / 1000));
  if (s < 1) return 'Less than a second';
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'}`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} hour${h === 1 ? '' : 's'}`;
  return `${Math.round(h / 24)} days`;
}

interface Facts {
  id: string;
  name: string;
  image: string;
  imageId: string;
  created: Date;
  labels: Record<string, string>;
  state: 'created' | 'running' | 'exited';
  pid: number;
  exitCode: number;
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
  path: string;
  args: string[];
  env: string[];
  workingDir: string;
  user: string;
  entrypoint: string[] | null;
  cmd: string[] | null;
  restart: string;
  restartRetries: number;
  restartCount: number;
  autoRemove: boolean;
  openStdin: boolean;
  error: string;
  /** What its creator set over the image's config. */
  spec: ContainerSpec | undefined;
  /** Its health check's state, when it has a check. */
  health: HealthState | undefined;
}

export function factsOf(target: ContainerTarget, config: { Env?: string[] | null; WorkingDir?: string; User?: string; Entrypoint?: string[] | null; Cmd?: string[] | null } = {}): Facts {
  if (target.kind === 'unit') {
    const v: ContainerView = target.view;
    const restart = v.restart;
    return {
      id: v.id,
      name: v.name,
      image: v.image,
      imageId: v.imageId,
      created: new Date(v.created),
      labels: v.labels,
      state: v.state,
      pid: v.pid ?? 0,
      exitCode: v.exit?.exitCode ?? 0,
      startedAt: v.startedAt,
      finishedAt: v.exit?.finishedAt,
      path: v.command[0] ?? '',
      args: v.command.slice(1),
      env: config.Env ?? [],
      workingDir: config.WorkingDir ?? '',
      user: config.User ?? '',
      entrypoint: config.Entrypoint ?? null,
      cmd: config.Cmd ?? null,
      restart,
      restartRetries: v.restartRetries ?? 0,
      restartCount: v.restartCount,
      autoRemove: false,
      openStdin: false,
      // Without systemd, a run whose monitor was killed: it ended, but how is not known.
      error: v.exit?.result === lostExitResult ? 'exit status lost: the container ended while its monitor was not running' : '',
      spec: v.containerSpec,
      health: v.health,
    };
  }
  const r: OneOffRun = target.run;
  const command = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  return {
    id: r.id,
    name: r.name,
    image: r.image,
    imageId: r.imageId,
    created: r.created,
    labels: r.labels,
    state: r.state,
    pid: 0,
    exitCode: r.exitCode ?? 0,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    path: command[0] ?? '',
    args: command.slice(1),
    env: config.Env ?? [],
    workingDir: config.WorkingDir ?? '',
    user: config.User ?? '',
    entrypoint: config.Entrypoint ?? null,
    cmd: config.Cmd ?? null,
    restart: 'no',
    restartRetries: 0,
    restartCount: 0,
    autoRemove: true,
    openStdin: r.openStdin,
    error: r.error ?? '',
    spec: r.containerSpec,
    health: undefined,
  };
}

function statusText(f: Facts): string {
  if (f.state === 'running') return `Up ${ago(f.startedAt ?? f.created)}${f.health !== undefined ? ` (${f.health.status === 'starting' ? 'health: starting' : f.health.status})` : ''}`;
  if (f.state === 'exited') return `Exited (${f.exitCode}) ${ago(f.finishedAt ?? f.created)} ago`;
  return 'Created';
}

export function listEntry(f: Facts): Record<string, unknown> {
  return {
    Id: f.id,
    Names: [`/${f.name}`],
    Image: f.image,
    ImageID: f.imageId,
    Command: [f.path, ...f.args].join(' '),
    Created: Math.floor(f.created.getTime() / 1000),
    Ports: [],
    Labels: f.labels,
    State: f.state,
    Status: statusText(f),
    HostConfig: { NetworkMode: 'host' },
    NetworkSettings: { Networks: { host: { NetworkID: 'host', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' } } },
    Mounts: [],
  };
}


/** The mounts of the container spec, as inspect's Mounts lists them. */
function mountsOf(spec: ContainerSpec | undefined): Record<string, unknown>[] {
  return (spec?.mounts ?? []).flatMap((m) =>
    m.type === 'bind'
      ? [{ Type: 'bind', Source: m.source, Destination: m.destination, Mode: m.readOnly === true ? 'ro' : '', RW: m.readOnly !== true, Propagation: 'rprivate' }]
      : m.type === 'tmpfs'
        ? [{ Type: 'tmpfs', Source: '', Destination: m.destination, Mode: '', RW: true, Propagation: '' }]
        : [],
  );
}

export function inspectDocument(f: Facts, execIds: string[]): Record<string, unknown> {
  const binds = (f.spec?.mounts ?? []).flatMap((m) => (m.type === 'bind' ? [`${m.source}:${m.destination}${m.readOnly === true ? ':ro' : ''}`] : []));
  const caps = (list: string[] | undefined) => (list === undefined || list.length === 0 ? null : list);
  return {
    Id: f.id,
    Created: f.created.toISOString(),
    Path: f.path,
    Args: f.args,
    State: {
      Status: f.state,
      Running: f.state === 'running',
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: f.pid,
      ExitCode: f.exitCode,
      Error: f.error,
      StartedAt: f.startedAt?.toISOString() ?? zeroTime,
      FinishedAt: f.finishedAt?.toISOString() ?? zeroTime,
      ...(f.health !== undefined
        ? {
            Health: {
              Status: f.health.status,
              FailingStreak: f.health.failingStreak,
              Log: f.health.log.map((r) => ({ Start: r.start, End: r.end, ExitCode: r.exitCode, Output: r.output })),
            },
          }
        : {}),
    },
    Image: f.imageId,
    ResolvConfPath: '/etc/resolv.conf',
    HostnamePath: '',
    HostsPath: '/etc/hosts',
    LogPath: '',
    Name: `/${f.name}`,
    RestartCount: f.restartCount,
    Driver: 'ostree',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: execIds.length > 0 ? execIds : null,
    HostConfig: {
      NetworkMode: 'host',
      RestartPolicy: { Name: f.restart, MaximumRetryCount: f.restartRetries },
      AutoRemove: f.autoRemove,
      // docker-py returns a run's output only for these log drivers; the journal is ours.
      LogConfig: { Type: 'journald', Config: {} },
      Privileged: f.spec?.privileged === true,
      Binds: binds.length > 0 ? binds : null,
      CapAdd: caps(f.spec?.capabilities?.add),
      CapDrop: caps(f.spec?.capabilities?.drop),
      PidMode: f.spec?.hostPid === true ? 'host' : '',
      IpcMode: f.spec?.hostIpc === true ? 'host' : 'private',
      UTSMode: f.spec?.hostUts === true ? 'host' : '',
      Memory: f.spec?.resources?.memoryBytes ?? 0,
      NanoCpus: (f.spec?.resources?.cpuMillis ?? 0) * 1e6,
      CpuShares: 0,
      ReadonlyRootfs: true,
    },
    GraphDriver: { Name: 'ostree', Data: {} },
    Mounts: mountsOf(f.spec),
    Config: {
      Hostname: f.name,
      Domainname: '',
      User: f.user,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: false,
      OpenStdin: f.openStdin,
      StdinOnce: f.openStdin,
      Env: f.env,
      Cmd: f.cmd,
      Image: f.image,
      Volumes: null,
      WorkingDir: f.workingDir,
      Entrypoint: f.entrypoint,
      OnBuild: null,
      Labels: f.labels,
    },
    NetworkSettings: { Bridge: '', SandboxID: '', Ports: {}, Networks: { host: { NetworkID: 'host', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' } } },
  };
}
