/** The bulk invitation's cards: the list with its review, and the progress card updated in place. */
import type { Attachment } from 'botbuilder';
import type { OperationRecord } from '../../store/store';
import type { CardUpdater } from '../background';
import { CardProgress } from './progress';
import { renderCard, type CardData, type Fact } from '../cards';
import { counts, type BulkSummary, type AddressResult, type BulkReview } from '../../domain/bulk/model';
import type { Localizer } from '../../i18n';
import { locFor } from '../locale';

/** Lines a page of the outcome shows (about 6 KB of card for 50 addresses). */
export const OUTCOME_PAGE_SIZE = 50;
const REVIEW_LINES_MAX = 50;

export interface ListCardInput {
  flowId: string;
  appName: string;
  groupName: string;
  addresses: string;
  message: string;
  error?: string;
  review?: BulkReview | null;
  /** From a file: how many of the addresses to send have their own welcome message, and how many get no email. */
  personal?: { own: number; silent: number } | null;
}

/** The list card; after a check, its review: the counts, then each line that will not be sent and why. */
export function listCard(l: Localizer, input: ListCardInput): Attachment {
  const review = input.review ?? null;
  const facts: Fact[] = [];
  const lines: string[] = [];
  const notes: string[] = [l.t('bulk:note.blocked')];
  if (review) {
    facts.push({ label: l.t('bulk:review.willInvite'), value: String(review.toInvite.length) });
    facts.push({
      label: l.t('bulk:review.existingGuests'),
      value: review.lookedUp ? String(review.existing.length) : '?',
    });
    facts.push({
      label: l.t('bulk:review.alreadyMembers'),
      value: review.lookedUp ? String(review.members.length) : '?',
    });
    facts.push({ label: l.t('bulk:review.notUsable'), value: String(review.invalid.length) });
    if (review.overAllowance.length > 0)
      facts.push({ label: l.t('bulk:review.overHourlyLimit'), value: String(review.overAllowance.length) });
    for (const line of review.refused.slice(0, REVIEW_LINES_MAX))
      lines.push(l.t('bulk:review.line', { position: line.position, entry: line.raw, reason: line.reason }));
    if (review.refused.length > REVIEW_LINES_MAX)
      lines.push(l.t('bulk:review.more', { count: review.refused.length - REVIEW_LINES_MAX }));
    if (!review.lookedUp) notes.push(l.t('bulk:note.lookupUnavailable'));
    if (input.personal && input.personal.own + input.personal.silent > 0)
      notes.push(l.t('files:reviewNote', input.personal));
    if (review.allowance && review.overAllowance.length > 0) {
      notes.push(
        l.t('bulk:note.hourlyLimit', {
          left: review.allowance.left,
          limit: review.allowance.limit,
          minutes: review.allowance.freeInMinutes,
        }),
      );
    }
  }
  const sendable = review ? review.toInvite.length + review.existing.length : 0;
  const data: CardData['bulk-invite'] = {
    flowId: input.flowId,
    prompt: l.t('bulk:listPrompt', { app: input.appName, group: input.groupName }),
    error: input.error ?? '',
    reviewed: review !== null,
    facts,
    lines,
    note: notes.join(' '),
    addresses: input.addresses.slice(0, 30000),
    message: input.message.slice(0, 1000),
    sendTitle: sendable > 0 ? l.t('bulk:sendButton', { count: sendable }) : '',
  };
  return renderCard('bulk-invite', data, l);
}

function stateText(l: Localizer, entry: AddressResult): string {
  const name = entry.state === 'added' && entry.invited ? 'invitedAdded' : entry.state;
  const state = l.t(`bulk:state.${name}`);
  return entry.detail && (entry.state === 'refused' || entry.state === 'failed')
    ? l.t('bulk:outcomeLineDetail', { address: entry.address, state, detail: entry.detail })
    : l.t('bulk:outcomeLine', { address: entry.address, state });
}

/** Counts while the job runs; at the end, the outcome per address, problems first, in client-side pages. */
export function progressCard(l: Localizer, summary: BulkSummary): Attachment {
  const c = counts(summary.entries);
  const facts: Fact[] = [
    { label: l.t('bulk:counts.done'), value: String(c.done) },
    { label: l.t('bulk:counts.waiting'), value: String(c.waiting) },
    { label: l.t('bulk:counts.failed'), value: String(c.failed) },
    { label: l.t('bulk:counts.skipped'), value: String(c.skipped) },
  ];
  if (c.pending > 0) facts.push({ label: l.t('bulk:counts.pending'), value: String(c.pending) });
  const finished = summary.status !== 'running';
  const title = l.t(
    summary.status === 'stopped'
      ? 'bulk:progress.stopped'
      : !finished
        ? 'bulk:progress.running'
        : c.failed > 0
          ? 'bulk:progress.finishedWithProblems'
          : 'bulk:progress.finished',
  );
  const color: CardData['bulk-progress']['color'] =
    summary.status === 'stopped' ? 'Attention' : !finished ? 'Default' : c.failed > 0 ? 'Warning' : 'Good';
  const pages: CardData['bulk-progress']['pages'] = [];
  if (finished || c.waiting > 0) {
    const rank = (e: AddressResult): number =>
      e.state === 'failed' || e.state === 'refused' ? 0 : e.state === 'waiting' ? 1 : 2;
    const lines = [...summary.entries].sort((a, b) => rank(a) - rank(b)).map((e) => stateText(l, e));
    const count = Math.ceil(lines.length / OUTCOME_PAGE_SIZE);
    const id = (n: number): string => `bulk-page-${n}`;
    for (let n = 0; n < count; n++) {
      const targets: Array<{ title: string; elements: string[] }> = [];
      if (n > 0) targets.push({ title: l.t('bulk:previous'), elements: [id(n), id(n - 1)] });
      if (n < count - 1) targets.push({ title: l.t('bulk:next'), elements: [id(n), id(n + 1)] });
      pages.push({
        id: id(n),
        visible: n === 0,
        heading: count > 1 ? l.t('bulk:page', { page: n + 1, pages: count }) : '',
        lines: lines.slice(n * OUTCOME_PAGE_SIZE, (n + 1) * OUTCOME_PAGE_SIZE),
        targets,
      });
    }
  }
  const notes: string[] = [];
  if (c.waiting > 0) notes.push(l.t('bulk:waitingNote'));
  if (finished && summary.entries.some((e) => e.state === 'failed'))
    notes.push(l.t('bulk:retryHint', { operationId: summary.operationId }));
  return renderCard('bulk-progress', { title, color, facts, pages, note: notes.join(' ') }, l);
}

/**
 * The cards of resumed jobs: progress at most every 2 s per job, and the final state after any update in flight
 * (never overwritten by a late progress update).
 */
export function resumedCards(updateCard: CardUpdater): {
  progress: (record: OperationRecord, summary: BulkSummary) => void;
  final: (record: OperationRecord, summary: BulkSummary) => Promise<void>;
} {
  const byJob = new Map<string, CardProgress<BulkSummary>>();
  const of = (record: OperationRecord): CardProgress<BulkSummary> | null => {
    const location = record.replyTo;
    if (!location) return null;
    let cards = byJob.get(record.id);
    if (!cards) {
      cards = new CardProgress<BulkSummary>((s) => updateCard(location, progressCard(locFor(location), s)));
      byJob.set(record.id, cards);
    }
    return cards;
  };
  return {
    progress: (record, summary) => of(record)?.progress(summary),
    final: async (record, summary) => {
      const cards = of(record);
      byJob.delete(record.id);
      await cards?.final(summary);
    },
  };
}
