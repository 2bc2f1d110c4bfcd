/** The bulk invitation's cards: the list with its review, and the progress card updated in place. */
import type { Attachment } from 'botbuilder';
import type { OperationRecord } from '../../store/store';
import type { CardUpdater } from '../background';
import { CardProgress } from './progress';
import { renderCard, type CardData, type Fact } from '../cards';
import { counts, type BulkSummary, type AddressResult } from '../../domain/bulk/bulkInvite';
import type { BulkReview } from '../../domain/bulk/bulkInvite';
import { bulkText } from '../../domain/bulk/messages';

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
  max: number;
}

export function listCard(input: ListCardInput): Attachment {
  const review = input.review ?? null;
  const facts: Fact[] = [];
  const lines: string[] = [];
  if (review) {
    facts.push({ label: bulkText.willInvite, value: String(review.toInvite.length) });
    facts.push({ label: bulkText.existingGuests, value: review.lookedUp ? String(review.existing.length) : '?' });
    facts.push({ label: bulkText.alreadyMembers, value: review.lookedUp ? String(review.members.length) : '?' });
    facts.push({ label: bulkText.notUsable, value: String(review.invalid.length) });
    for (const entry of review.invalid.slice(0, REVIEW_LINES_MAX)) lines.push(`${entry.position}. ${entry.raw} — ${bulkText.problem(entry.problem!, entry.detail, input.max)}`);
    if (review.invalid.length > REVIEW_LINES_MAX) lines.push(`… +${review.invalid.length - REVIEW_LINES_MAX}`);
  }
  const sendable = review ? review.toInvite.length + review.existing.length : 0;
  const data: CardData['bulk-invite'] = {
    flowId: input.flowId,
    title: bulkText.title,
    prompt: bulkText.listPrompt(input.appName, input.groupName),
    error: input.error ?? '',
    reviewed: review !== null,
    reviewHeading: bulkText.reviewHeading,
    facts,
    lines,
    note: [bulkText.blockedNote, review && !review.lookedUp ? bulkText.lookupUnavailable : ''].filter(Boolean).join(' '),
    listLabel: bulkText.listLabel,
    listPlaceholder: bulkText.listPlaceholder,
    listRequired: bulkText.listRequired,
    addresses: input.addresses.slice(0, 30000),
    messageLabel: bulkText.messageLabel,
    messagePlaceholder: bulkText.messagePlaceholder,
    message: input.message.slice(0, 1000),
    checkTitle: bulkText.checkButton,
    sendTitle: sendable > 0 ? bulkText.sendButton(sendable) : '',
    cancelTitle: bulkText.cancelButton,
  };
  return renderCard('bulk-invite', data);
}

function stateText(entry: AddressResult): string {
  const name = entry.state === 'added' && entry.invited ? 'invitedAdded' : entry.state;
  const state = bulkText.state[name] ?? entry.state;
  return entry.detail && (entry.state === 'refused' || entry.state === 'failed') ? `${state}: ${entry.detail}` : state;
}

/** Counts while the job runs; at the end, the outcome per address, problems first, in client-side pages. */
export function progressCard(summary: BulkSummary): Attachment {
  const c = counts(summary.entries);
  const facts: Fact[] = [
    { label: bulkText.counts.done, value: String(c.done) },
    { label: bulkText.counts.waiting, value: String(c.waiting) },
    { label: bulkText.counts.failed, value: String(c.failed) },
    { label: bulkText.counts.skipped, value: String(c.skipped) },
  ];
  if (c.pending > 0) facts.push({ label: bulkText.counts.pending, value: String(c.pending) });
  const finished = summary.status !== 'running';
  const title = summary.status === 'stopped' ? bulkText.stoppedTitle : !finished ? bulkText.progressTitle : c.failed > 0 ? bulkText.finishedWithProblemsTitle : bulkText.finishedTitle;
  const color: CardData['bulk-progress']['color'] = summary.status === 'stopped' ? 'Attention' : !finished ? 'Default' : c.failed > 0 ? 'Warning' : 'Good';
  const pages: CardData['bulk-progress']['pages'] = [];
  if (finished || c.waiting > 0) {
    const rank = (e: AddressResult): number => (e.state === 'failed' || e.state === 'refused' ? 0 : e.state === 'waiting' ? 1 : 2);
    const lines = [...summary.entries].sort((a, b) => rank(a) - rank(b)).map((e) => `${e.address} — ${stateText(e)}`);
    const count = Math.ceil(lines.length / OUTCOME_PAGE_SIZE);
    const id = (n: number): string => `bulk-page-${n}`;
    for (let n = 0; n < count; n++) {
      const targets: Array<{ title: string; elements: string[] }> = [];
      if (n > 0) targets.push({ title: bulkText.previous, elements: [id(n), id(n - 1)] });
      if (n < count - 1) targets.push({ title: bulkText.next, elements: [id(n), id(n + 1)] });
      pages.push({ id: id(n), visible: n === 0, heading: count > 1 ? bulkText.page(n + 1, count) : '', lines: lines.slice(n * OUTCOME_PAGE_SIZE, (n + 1) * OUTCOME_PAGE_SIZE), targets });
    }
  }
  const notes: string[] = [];
  if (c.waiting > 0) notes.push(bulkText.waitingNote);
  if (finished && summary.entries.some((e) => e.state === 'failed')) notes.push(bulkText.retryHint(summary.operationId));
  return renderCard('bulk-progress', { title, color, facts, pages, note: notes.join(' ') });
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
      cards = new CardProgress<BulkSummary>((s) => updateCard(location, progressCard(s)));
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
