// An instance record: how a new one is made from a create request, and what the API shows of it.
import { randomBytes } from 'node:crypto';
import { isoTime } from '../common/clock.js';
import { WispError } from '../errors.js';
import type { InstanceRecord, VersionRecord } from '../store/records.js';

export interface CreateInstanceRequest {
  class?: string;
  args?: unknown[];
  name?: string;
  resources?: { cpu?: number; memory?: number; custom?: Record<string, number> };
  maxRestarts?: number;
  /** `every-call`: each reply waits until a checkpoint taken after the call is committed. */
  checkpoint?: 'every-call';
  /** Checkpoint this often (ms) while calls come in. */
  checkpointEveryMs?: number;
  /** Hibernate after this long with no call and no socket; 0: never. Default: the function's config.idleSuspendMs. */
  idleSuspendMs?: number;
}

/** What the API shows of an instance: the record without its constructor args and blob digest, times in ISO. */
export type InstanceView = Omit<InstanceRecord, 'args' | 'checkpoint' | 'createdAt' | 'updatedAt' | 'checkpointedAt'> & {
  createdAt: string;
  updatedAt: string;
  checkpointedAt: string | null;
};

export const view = ({ args: _args, checkpoint: _checkpoint, createdAt, updatedAt, checkpointedAt, ...rest }: InstanceRecord): InstanceView => ({
  ...rest,
  checkpointedAt: checkpointedAt === null ? null : isoTime(checkpointedAt),
  createdAt: isoTime(createdAt),
  updatedAt: isoTime(updatedAt),
});
export const nameKey = (fn: string, name: string) => `name:${fn}/${name}`;
const newInstanceId = () => `ins_${randomBytes(10).toString('hex')}`;

function pickClass(version: VersionRecord, requested: string | undefined): string {
  const { classes } = version.exports;
  const fn = `function "${version.name}" version ${version.version}`;
  if (requested !== undefined) {
    if (classes.includes(requested)) return requested;
    throw new WispError('CLASS_NOT_FOUND', `${fn} exports no class "${requested}"${classes.length ? `; it exports ${classes.join(', ')}` : ''}`);
  }
  if (classes.length === 1) return classes[0]!;
  if (classes.length === 0) throw new WispError('CLASS_NOT_FOUND', `${fn} exports no class; export one to create instances of it`);
  throw new WispError('INVALID_REQUEST', `${fn} exports several classes (${classes.join(', ')}); say which with "class"`);
}

/** What an instance reserves: what its create request asks, the defaults for the rest. */
export function requestedResources(request: CreateInstanceRequest, defaults: { cpu: number; memory: number }): { cpu: number; memory: number; custom: Record<string, number> } {
  return { cpu: request.resources?.cpu ?? defaults.cpu, memory: request.resources?.memory ?? defaults.memory, custom: request.resources?.custom ?? {} };
}

/** The record of an instance about to start: status `starting`, no checkpoint. */
export function newInstanceRecord(version: VersionRecord, request: CreateInstanceRequest, defaults: { cpu: number; memory: number }, now: number, node: string): InstanceRecord {
  return {
    id: newInstanceId(),
    function: version.name,
    version: version.version,
    class: pickClass(version, request.class),
    name: request.name ?? null,
    group: null,
    status: 'starting',
    resources: requestedResources(request, defaults),
    maxRestarts: request.maxRestarts ?? 0,
    restarts: 0,
    args: request.args ?? [],
    checkpoint: null,
    checkpointedAt: null,
    durability: request.checkpoint ?? null,
    checkpointEveryMs: request.checkpointEveryMs ?? null,
    idleSuspendMs: (request.idleSuspendMs ?? version.config.idleSuspendMs) || null,
    // Made here: owned here, first epoch.
    node,
    epoch: 1,
    createdAt: now,
    updatedAt: now,
  };
}
