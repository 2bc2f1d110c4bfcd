/** Directory operations across instances and restarts: leases, resumes, retries, replication waits, shutdown. */
import { duration, integer, type Env } from './parse';

export interface OperationSettings {
  leaseMs: number;
  resumeIntervalMs: number;
  retryAfterMs: number;
  retryMax: number;
  replicationWaitMs: number;
}

export interface ProcessSettings {
  /** How long a process holds a directory operation before another may resume it; resume check interval. */
  operations: OperationSettings;
  /** How long a stopping process waits for turns and operations in flight (SHUTDOWN_TIMEOUT). */
  shutdownTimeoutMs: number;
}

export function processSettings(env: Env): ProcessSettings {
  return {
    operations: {
      leaseMs: duration(env, 'OPERATION_LEASE', '60s'),
      resumeIntervalMs: duration(env, 'OPERATION_RESUME_INTERVAL', '30s'),
      retryAfterMs: duration(env, 'OPERATION_RETRY_AFTER', '15m'),
      retryMax: integer(env, 'OPERATION_RETRY_MAX', 3, 0),
      replicationWaitMs: duration(env, 'REPLICATION_WAIT', '15m'),
    },
    shutdownTimeoutMs: duration(env, 'SHUTDOWN_TIMEOUT', '10s'),
  };
}
