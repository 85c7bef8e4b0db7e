// Every way an instance call, start or checkpoint can end badly, as a catalogued error.
import { WispError } from '../errors.js';
import type { InstanceRecord } from '../store/records.js';
import type { InstanceOutcome } from '../runtime/protocol.js';
import type { TaskFailure } from '../runtime/task-failure.js';
import { userErrorExtension } from '../runtime/user-error.js';

type Failure = Extract<InstanceOutcome<never>, { ok: false }>;

export function fromCallFailure(failure: Failure, instanceId: string, method: string): WispError {
  const { name, message, code } = failure.error;
  switch (failure.phase) {
    case 'method':
      return new WispError('METHOD_NOT_FOUND', `instance ${instanceId}: ${message}`);
    case 'result':
      if (code === 'RESULT_TOO_LARGE') return new WispError('RESULT_TOO_LARGE', `instance ${instanceId} method ${method}: ${message}`);
      return new WispError('METHOD_ERROR', `instance ${instanceId} method ${method} returned a result that cannot be sent: ${message}`, userErrorExtension(failure.error));
    default:
      return new WispError('METHOD_ERROR', `instance ${instanceId} method ${method} threw ${name}: ${message}`, userErrorExtension(failure.error));
  }
}

export function fromStartFailure(failure: Failure, fn: string, className: string): WispError {
  const { name, message } = failure.error;
  if (failure.phase === 'class') return new WispError('CLASS_NOT_FOUND', `function "${fn}" ${message.replace(/^the module /, '')}`);
  const what = failure.phase === 'load' ? 'failed to load' : `${className} constructor or restore threw`;
  return new WispError('INSTANCE_INIT_FAILED', `function "${fn}" ${what}: ${name}: ${message}`, userErrorExtension(failure.error));
}

export function fromThreadFailure(failure: TaskFailure, instanceId: string, what: string): WispError {
  switch (failure.reason) {
    case 'timeout':
      return new WispError('METHOD_TIMEOUT', `instance ${instanceId}: ${failure.message}; its thread was stopped`);
    case 'crashed':
      return new WispError('INSTANCE_CRASHED', `instance ${instanceId} crashed during ${what}: ${failure.message}`);
    default:
      return new WispError('INSTANCE_UNAVAILABLE', `instance ${instanceId} is not running: ${failure.message}`, { retryAfterSeconds: 1 });
  }
}

const LIMIT_NOTE = "instances.checkpointBytes, at most a quarter of the instance's memory";

export function checkpointFailed(failure: Failure, instanceId: string): WispError {
  // Measured by Wisp, not thrown by user code: the message says the size and the limit.
  if (failure.error.code === 'CHECKPOINT_TOO_LARGE') {
    return new WispError('CHECKPOINT_FAILED', `instance ${instanceId}: ${failure.error.message} (${LIMIT_NOTE}); no checkpoint was taken`);
  }
  return new WispError('CHECKPOINT_FAILED', `instance ${instanceId}: its state cannot be checkpointed: ${failure.error.name}: ${failure.error.message}`, userErrorExtension(failure.error));
}

/** A checkpoint whose bytes came back over the limit (see instance-launcher.ts checkpointLimit). */
export function checkpointTooLarge(record: InstanceRecord, size: string, limit: number): WispError {
  return new WispError('CHECKPOINT_FAILED', `instance ${record.id}: its state is ${size}, over the ${limit}-byte checkpoint limit (${LIMIT_NOTE}); no checkpoint was taken`);
}

/** This node lost its cluster lease: `why` says what it therefore will not do; worth a retry in a moment. */
export function nodeFenced(why: string): WispError {
  return new WispError('NODE_FENCED', why, { retryAfterSeconds: 1 });
}

/** A start under way when this node let go of what it held: the instance is not this node's to run. */
export const fencedWhileStarting = (id: string): WispError => nodeFenced(`this node lost its cluster lease while instance ${id} started; it stays with the cluster's next owner`);

export const isNodeFenced = (err: unknown): boolean => err instanceof WispError && err.code === 'NODE_FENCED';

/** Failures of a take-over that say nothing about the instance: another node may well start it. */
export const TRANSIENT_TAKEOVER: ReadonlySet<string> = new Set(['INSUFFICIENT_RESOURCES', 'STORE_UNAVAILABLE', 'NODE_FENCED']);
