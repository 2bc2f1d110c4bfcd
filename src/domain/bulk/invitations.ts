/**
 * The invitation step of a bulk run, one chunk at a time: the chunk's addresses are marked `inviting` (written
 * before anything is sent), then sent in one `$batch` of `POST /invitations` and each answer recorded. Throttled
 * items are sent again; an item answered 5xx/504 (or not at all) may have been carried out, so it is looked up
 * (a few reads apart) before it is sent again. A resumed `inviting` address is looked up the same way first.
 */
import { DirectoryError, isPermissionDenied, type InvitationResult } from '../../graph/directory';
import { msg, type Msg } from '../shared/message';
import { readAfterWaits, retryTransient } from '../shared/retry';
import type { BulkRun, Slot } from './bulkRun';
import { graphDetail } from './model';

/** What became of one round of sending: the items to send again, those to look up first, the longest wait asked. */
interface Round {
  again: Slot[];
  unsure: Slot[];
  waitMs: number;
}

/** Invites a chunk of new addresses (pending, or `inviting` in an earlier run). */
export async function inviteChunk(run: BulkRun, chunk: Slot[], redirectUrl: string): Promise<void> {
  await markInviting(run, chunk);
  await run.flush();
  await sendInvitations(
    run,
    chunk.filter(({ i }) => run.entries[i].state === 'inviting'),
    redirectUrl,
  );
}

/**
 * Resumed `inviting` addresses not found by the look-up may still be replicating: they are confirmed before they
 * are sent again. The others are marked `inviting`.
 */
async function markInviting(run: BulkRun, chunk: Slot[]): Promise<void> {
  const unsure = chunk.filter(({ e }) => e.state === 'inviting');
  const confirmed =
    unsure.length > 0
      ? await confirmInvited(
          run,
          unsure.map(({ e }) => e.address),
        )
      : new Map<string, string>();
  for (const { e, i } of chunk) {
    const userId = confirmed.get(e.address);
    if (userId) run.markInvited(i, userId);
    else if (e.state !== 'inviting') run.record(i, { ...e, state: 'inviting' });
  }
}

/** Sends the items, and again those throttled or not carried out, within the retry budget; then they fail. */
async function sendInvitations(run: BulkRun, chunk: Slot[], redirectUrl: string): Promise<void> {
  let left = chunk;
  const budget = run.tools.policy.budget;
  for (let attempt = 0; left.length > 0; attempt++) {
    const answers = await ask(run, left, redirectUrl);
    const round: Round = { again: [], unsure: [], waitMs: 0 };
    for (const item of left) takeAnswer(run, item, answers.get(String(item.i)), attempt, round);
    // An item answered 5xx/504 (or missing) may have been carried out: look it up before sending it again.
    if (round.unsure.length > 0) await settleUnsure(run, round);
    if (round.again.length > 0 && attempt >= budget) {
      for (const item of round.again)
        run.record(item.i, {
          ...run.entries[item.i],
          state: 'failed',
          detail: msg('bulk:reason.failed', { detail: msg('bulk:reason.noAnswer') }),
        });
      return;
    }
    if (round.again.length > 0 && round.waitMs > 0) await run.tools.sleep(round.waitMs);
    left = round.again;
  }
}

/** One `$batch` of invitations, paced; a failure of the whole batch is each item's answer. */
async function ask(
  run: BulkRun,
  items: Slot[],
  redirectUrl: string,
): Promise<Map<string, InvitationResult | DirectoryError>> {
  await run.tools.pace(items.length);
  try {
    return await run.tools.directory.inviteGuests(
      items.map(({ e, i }) => ({ key: String(i), email: e.address, redirectUrl, ...invitationEmail(run, i) })),
    );
  } catch (err) {
    if (!(err instanceof DirectoryError)) throw err;
    return new Map(items.map(({ i }) => [String(i), err]));
  }
}

/** The invitation email of one address: its own message or the job's, the owner's language, whether it is sent. */
function invitationEmail(run: BulkRun, i: number): { message: string | null; language: string | null; send: boolean } {
  const { command } = run;
  const own = command.personal?.[i];
  return { message: own?.message ?? command.message, language: command.language ?? null, send: own ? own.send : true };
}

/** Records one item's answer, or puts it in the round to send again (throttled) or to look up (5xx, none). */
function takeAnswer(
  run: BulkRun,
  item: Slot,
  answer: InvitationResult | DirectoryError | undefined,
  attempt: number,
  round: Round,
): void {
  if (answer && !(answer instanceof DirectoryError)) {
    run.markInvited(item.i, answer.userId);
  } else if (answer?.kind === 'throttled') {
    round.again.push(item);
    round.waitMs = Math.max(round.waitMs, (answer.retryAfterSeconds ?? 2 ** attempt) * 1000);
  } else if (!answer || answer.kind === 'unavailable' || answer.kind === 'unknown') {
    round.unsure.push(item);
    round.waitMs = Math.max(round.waitMs, answer?.retryAfterSeconds ? answer.retryAfterSeconds * 1000 : 0);
  } else {
    run.record(item.i, { ...run.entries[item.i], state: 'refused', detail: invitationRefused(answer) });
  }
}

/** Why Graph refused an invitation: the permission or the tenant's invite setting, else Graph's own words. */
function invitationRefused(answer: DirectoryError): Msg {
  if (answer.kind !== 'forbidden')
    return msg('bulk:reason.invitationRefused', { detail: graphDetail(answer.code, answer.message) });
  return isPermissionDenied(answer)
    ? msg('bulk:reason.writeRefused', { detail: answer.permission ?? answer.code })
    : msg('bulk:reason.invitesNotAllowed');
}

/** The round's unsure items that show as users now are invited; the others are sent again. */
async function settleUnsure(run: BulkRun, round: Round): Promise<void> {
  const confirmed = await confirmInvited(
    run,
    round.unsure.map(({ e }) => e.address),
  );
  for (const item of round.unsure) {
    const userId = confirmed.get(item.e.address);
    if (userId) {
      run.tools.logger.info('graph.write.confirmed', { step: 'bulkInvite', position: item.i });
      run.markInvited(item.i, userId);
    } else round.again.push(item);
  }
}

/** Users that exist now for these addresses, read after each wait of the confirm schedule until all show. */
async function confirmInvited(run: BulkRun, addresses: readonly string[]): Promise<Map<string, string>> {
  const { directory, policy, sleep, waits } = run.tools;
  const found = new Map<string, string>();
  let left = [...addresses];
  if (left.length === 0) return found;
  await readAfterWaits(waits.confirm, sleep, async () => {
    const users = await retryTransient(() => directory.findUsersByEmails(left), policy);
    for (const address of left) {
      const user = users.get(address);
      if (user) found.set(address, user.id);
    }
    left = left.filter((a) => !found.has(a));
    return left.length === 0;
  });
  return found;
}
