/**
 * Stored record: operation records, the confirmed directory writes recorded before they are carried out. Their
 * port, the inputs checked into column values, the row mapped back, and what a record holds about a person;
 * one mapping for both engines.
 */
import type { TableSpec } from '../erasure';
import type { JsonObject } from '../store';
import {
  checkCount,
  checkDate,
  checkOneOf,
  checkString,
  jsonObjectText,
  msToIso,
  parseJson,
  parseNullableObject,
  parseObject,
  patchColumns,
  type BigIntColumn,
  type JsonColumn,
  type PatchColumns,
} from '../values';

/**
 * - pending, running: not finished (resumed after a crash once the lease has expired);
 * - succeeded: ran to its end; its result says what happened (a refusal included);
 * - failed: stopped by an error before its end; can be reopened and run again from its recorded steps.
 */
export type OperationStatus = 'pending' | 'running' | 'succeeded' | 'failed';

export interface StepRecord {
  status: 'done' | 'failed';
  at: string;
  result?: JsonObject;
  error?: JsonObject;
  graphRequestId?: string;
}

/**
 * A confirmed directory write, recorded before it is carried out and updated step by step,
 * so that an interrupted operation can be resumed and never done twice.
 */
export interface OperationRecord {
  id: string;
  kind: string;
  tenantId: string;
  actorId: string;
  status: OperationStatus;
  input: JsonObject;
  steps: Record<string, StepRecord>;
  result: JsonObject | null;
  /** Where to report the outcome (opaque to the store, e.g. a conversation and card id). */
  replyTo: JsonObject | null;
  attempts: number;
  version: number;
  leaseOwner: string | null;
  leaseExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export type NewOperation = Pick<OperationRecord, 'id' | 'kind' | 'tenantId' | 'actorId' | 'input'> & {
  replyTo?: JsonObject | null;
};

export interface OperationPatch {
  status?: OperationStatus;
  steps?: Record<string, StepRecord>;
  result?: JsonObject | null;
  replyTo?: JsonObject | null;
  attempts?: number;
}

export interface OperationStore {
  /** Creates the record unless one with this id exists; either way returns the stored record. */
  create(op: NewOperation, now: Date): Promise<{ created: boolean; record: OperationRecord }>;
  get(id: string): Promise<OperationRecord | undefined>;
  /** Compare-and-set on `version`; returns the new record. Throws ConflictError on a version mismatch. */
  update(id: string, expectedVersion: number, patch: OperationPatch, now: Date): Promise<OperationRecord>;
  /**
   * Takes the lease when it is free or expired (or already held by `owner`); returns the record
   * with the lease, or undefined when another owner holds a live lease or the record is finished.
   */
  acquireLease(id: string, owner: string, ttlMs: number, now: Date): Promise<OperationRecord | undefined>;
  releaseLease(id: string, owner: string): Promise<void>;
  /**
   * Records not yet succeeded or failed, oldest first. With `leaseFreeAt`: only those whose lease is free or
   * expired then, so operations waiting on a held lease (e.g. for replication) never crowd out the ones a resumer
   * can run.
   */
  listUnfinished(limit: number, leaseFreeAt?: Date): Promise<OperationRecord[]>;
  /** Failed records last updated at or before `updatedBefore` with fewer than `maxAttempts` attempts, oldest first. */
  listFailed(updatedBefore: Date, maxAttempts: number, limit: number): Promise<OperationRecord[]>;
}

const STATUSES: readonly OperationStatus[] = ['pending', 'running', 'succeeded', 'failed'];

export interface OperationRow {
  id: string;
  kind: string;
  tenant_id: string;
  actor_id: string;
  status: OperationStatus;
  input: JsonColumn;
  steps: JsonColumn;
  result: JsonColumn | null;
  reply_to: JsonColumn | null;
  attempts: number;
  version: number;
  lease_owner: string | null;
  lease_expires_ms: BigIntColumn | null;
  created_at: string;
  updated_at: string;
}

export type OperationCreateParams = Pick<OperationRow, 'id' | 'kind' | 'tenant_id' | 'actor_id'> & {
  input: string;
  reply_to: string | null;
  now: string;
};

export function operationCreateParams(op: NewOperation, now: Date): OperationCreateParams {
  return {
    id: checkString(op.id, 'Operation id'),
    kind: checkString(op.kind, 'Operation kind'),
    tenant_id: checkString(op.tenantId, 'Operation tenantId'),
    actor_id: checkString(op.actorId, 'Operation actorId'),
    input: jsonObjectText(op.input, 'Operation input'),
    reply_to: op.replyTo == null ? null : jsonObjectText(op.replyTo, 'Operation replyTo'),
    now: checkDate(now).toISOString(),
  };
}

export const OPERATION_PATCH = [
  ['status', 'status'],
  ['steps', 'steps'],
  ['result', 'result'],
  ['replyTo', 'reply_to'],
  ['attempts', 'attempts'],
] as const satisfies readonly (readonly [keyof OperationPatch, keyof OperationRow])[];

export type OperationPatchColumn = (typeof OPERATION_PATCH)[number][1];

export function operationPatchColumns(patch: OperationPatch): PatchColumns<OperationPatchColumn> {
  return patchColumns(OPERATION_PATCH, patch, (field, value) => {
    switch (field) {
      case 'status':
        return checkOneOf(STATUSES, value, 'operation status');
      case 'attempts':
        return checkCount(value, 'attempts');
      case 'steps':
        return jsonObjectText(value, 'Operation steps');
      case 'result':
        return value === null ? null : jsonObjectText(value, 'Operation result');
      case 'replyTo':
        return value === null ? null : jsonObjectText(value, 'Operation replyTo');
    }
  });
}

export function checkMaxAttempts(maxAttempts: unknown): number {
  return checkCount(maxAttempts, 'maxAttempts');
}

export function toRecord(row: OperationRow): OperationRecord {
  return {
    id: row.id,
    kind: row.kind,
    tenantId: row.tenant_id,
    actorId: row.actor_id,
    status: row.status,
    input: parseObject(row.input),
    steps: parseJson<Record<string, StepRecord>>(row.steps),
    result: parseNullableObject(row.result),
    replyTo: parseNullableObject(row.reply_to),
    attempts: row.attempts,
    version: row.version,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_ms === null ? null : msToIso(row.lease_expires_ms),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export const OPERATION_SPEC: TableSpec = {
  table: 'operations',
  key: ['id'],
  tenantColumn: 'tenant_id',
  text: ['actor_id'],
  json: ['input', 'steps', 'result', 'reply_to'],
  subject: [],
  version: 'counter',
};
