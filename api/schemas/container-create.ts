// The body of POST /containers/create (Docker Engine API 1.41), as far as syscontainer runs
// it: Image, Cmd, Entrypoint, Env, WorkingDir, User, Labels; HostConfig.RestartPolicy,
// AutoRemove, NetworkMode (the host's network: "host" or the default), LogConfig journald
// or json-file; Privileged, CapAdd/CapDrop, Binds/Mounts, host namespaces only for admins
// (and refused while the spec model lacks them); Memory, NanoCpus and CpuShares as the unit's
// limits. Every other field only at its zero value.
import * as z from 'zod';
import { zeroValue } from './zero-value.js';
import { builtOnFirstUse } from '../../app/index.js';

const text = (max: number) => z.string().max(max).refine((s) => !s.includes('\0'), 'contains a NUL byte');
const words = builtOnFirstUse(() => z.array(text(4096)).max(4096).nullish());

const hostConfig = builtOnFirstUse(() => z
  .object({
    NetworkMode: z.enum(['', 'default', 'host']).optional(),
    RestartPolicy: z
      .object({ Name: z.enum(['', 'no', 'always', 'unless-stopped', 'on-failure']).optional(), MaximumRetryCount: z.number().int().min(0).max(1000).optional() })
      .strict()
      .nullish(),
    AutoRemove: z.boolean().optional(),
    LogConfig: z.object({ Type: z.enum(['', 'journald', 'json-file']).optional(), Config: z.record(z.string(), z.string()).nullish() }).strict().nullish(),
    Privileged: z.boolean().optional(),
    CapAdd: z.array(text(64)).max(64).nullish(),
    CapDrop: z.array(text(64)).max(64).nullish(),
    Binds: z.array(text(4096)).max(256).nullish(),
    Mounts: z.array(z.unknown()).max(256).nullish(),
    PidMode: z.string().max(64).optional(),
    IpcMode: z.string().max(64).optional(),
    UTSMode: z.string().max(64).optional(),
    UsernsMode: z.string().max(64).optional(),
    CgroupnsMode: z.string().max(64).optional(),
    MemorySwappiness: z.number().int().min(-1).max(100).nullish(),
    // Limits: the unit's MemoryMax=, CPUQuota= and CPUWeight= (0: none, as docker has it).
    Memory: z.number().int().min(0).max(2 ** 50).optional(),
    NanoCpus: z.number().int().min(0).max(2 ** 40).optional(),
    CpuShares: z.number().int().min(0).max(262144).optional(),
    ConsoleSize: z.array(z.number().int().min(0)).max(2).nullish(),
    // docker CLI sends these empty for every create.
    Dns: z.array(z.never()).nullish(),
    DnsOptions: z.array(z.never()).nullish(),
    DnsSearch: z.array(z.never()).nullish(),
  })
  .catchall(zeroValue));

export const containerCreateSchema = builtOnFirstUse(() => z
  .object({
    Image: text(512).min(1, 'Image is required'),
    Cmd: words,
    Entrypoint: words,
    Env: z.array(text(65536)).max(1024).nullish(),
    WorkingDir: text(1024).optional(),
    User: text(128).optional(),
    Labels: z.record(text(256), text(4096)).nullish(),
    Hostname: z.string().max(253).optional(),
    AttachStdin: z.boolean().optional(),
    AttachStdout: z.boolean().optional(),
    AttachStderr: z.boolean().optional(),
    Tty: z.literal(false, 'Tty: containers with a terminal are not supported by syscontainer').optional(),
    OpenStdin: z.boolean().optional(),
    StdinOnce: z.boolean().optional(),
    NetworkDisabled: z.literal(false).optional(),
    Volumes: z.record(z.string(), z.object({}).strict()).nullish(),
    HostConfig: hostConfig.nullish(),
    /** docker's HealthConfig (durations in nanoseconds): read by the application layer. */
    Healthcheck: z.unknown().optional(),
    NetworkingConfig: z.unknown().optional(),
  })
  .catchall(zeroValue));

export type ContainerCreateBody = z.infer<typeof containerCreateSchema>;

export const execCreateSchema = builtOnFirstUse(() => z
  .object({
    Cmd: z.array(text(65536)).min(1, 'Cmd: a command to run is required').max(4096),
    AttachStdin: z.boolean().optional(),
    AttachStdout: z.boolean().optional(),
    AttachStderr: z.boolean().optional(),
    Detach: z.boolean().optional(),
    DetachKeys: z.string().max(64).optional(),
    Tty: z.literal(false, 'Tty: exec with a terminal is not supported by syscontainer').optional(),
    ConsoleSize: z.array(z.number().int().min(0)).max(2).nullish(),
    Privileged: z.literal(false, 'Privileged: privileged exec is not supported').optional(),
    // docker-py names the container in the body too; the path says which.
    Container: z.string().max(128).optional(),
  })
  .catchall(zeroValue));

export const execStartSchema = builtOnFirstUse(() => z
  .object({
    Detach: z.boolean().optional(),
    Tty: z.literal(false, 'Tty: exec with a terminal is not supported by syscontainer').optional(),
    ConsoleSize: z.array(z.number().int().min(0)).max(2).nullish(),
  })
  .catchall(zeroValue));
