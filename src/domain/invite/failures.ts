/**
 * How a run of an invitation ends when the directory stops it: a permission the bot was not granted ("not set up",
 * the admins told what to grant), or an error past the retry budget (failed, with a reference; it can be retried).
 */
import { DirectoryError } from '../../graph/directory';
import { msg } from '../shared/message';
import { refused, type InviteOutcome, type InviteRefused } from './model';
import { report, type InviteRun } from './run';

/** The step names the failure message knows (a select argument in the catalog). */
export type StepName = 'check' | 'invite' | 'addMember';

/** A permission the check needs was not granted: the user hears it is not set up, the admins what to grant. */
export async function notSetUp(run: InviteRun, err: DirectoryError, doing: 'check' | 'member'): Promise<InviteRefused> {
  const { actor } = run.command;
  const permission = err.permission ?? 'a Microsoft Graph permission';
  await report(run, {
    tenantId: actor.tenantId,
    actor,
    doing: msg('admin:doing.invitingStep', { step: doing }),
    kind: 'missingPermission',
    app: null,
    group: null,
    detail: permission,
  });
  await run.audit({
    action: 'invite.refused',
    outcome: 'notSetUp',
    guestEmail: run.email,
    detail: `${err.code}: needs ${permission}`,
    graphRequestId: err.requestId ?? undefined,
  });
  return refused('notSetUp', msg('invite:refused.notSetUp'));
}

/** An error stopped the step: logged and audited; the owner gets a reference (the Graph request id, if any). */
export async function failure(
  run: InviteRun,
  err: unknown,
  step: StepName,
  names: { appName?: string; groupName?: string } = {},
): Promise<InviteOutcome> {
  const error =
    err instanceof DirectoryError
      ? err
      : new DirectoryError('unknown', 0, 'Unexpected', err instanceof Error ? err.message : String(err));
  const reference = (error.requestId ?? run.clock().getTime().toString(36)).slice(0, 36);
  run.options.logger.error('invite.failed', {
    step,
    code: error.code,
    status: error.status,
    graphRequestId: error.requestId ?? undefined,
    error: err,
  });
  await run.audit({
    action: 'invite.failed',
    outcome: `failed:${step}`,
    guestEmail: run.email,
    detail: `${error.code}: ${error.message}`.slice(0, 500),
    graphRequestId: error.requestId ?? undefined,
    ...names,
  });
  const what = error.kind === 'throttled' || error.kind === 'unavailable' ? error.kind : 'other';
  return {
    kind: 'failed',
    message: msg('invite:failed', { what, step }),
    reference,
    operationId: run.steps.record.id,
  };
}
