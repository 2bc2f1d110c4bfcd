/**
 * `my guests`, `guest report` and the card actions on guests and reviews (Action.Execute invokes, or the
 * Action.Submit fallback). Card data only names what to act on; the domain checks everything again on the server.
 */
import { randomUUID } from 'node:crypto';
import {
  CardFactory,
  MessageFactory,
  type AdaptiveCardInvokeResponse,
  type Attachment,
  type TurnContext,
} from 'botbuilder';
import type { Logger } from '../../logging';
import type { Actor } from '../../domain/shared/model';
import type { GuestActionOutcome } from '../../domain/guests/actionContext';
import type { GuestFilter, GuestLifecycleService } from '../../domain/guests/lifecycle';
import type { ReadCheck } from '../readLimit';
import type { GuestReviewService, ReviewDecision } from '../../domain/guests/review';
import { guestReport } from '../../domain/guests/report';
import type { Store } from '../../store/store';
import type { SlowWork } from '../background';
import { isRecord } from '../cardPrompt';
import { actorFrom } from '../identity';
import { cardLocation, replaceOrSend } from '../cardReply';
import { msg, type Msg } from '../../domain/shared/message';
import type { Localizer } from '../../i18n';
import { loc } from '../locale';
import type { ExportKind, FileExport } from '../files/export';
import { confirmRemoveCard, guestReportCard, myGuestsCard, noticeCard, parseGuestChoice, reviewCard } from './cards';

export const GUEST_VERBS = [
  'guests.list',
  'guests.resend',
  'guests.remove',
  'guests.removeConfirm',
  'guests.removeCancel',
  'review.keep',
  'review.remove',
  'review.keepAll',
  'guests.export',
  'report.export',
] as const;
type Verb = (typeof GUEST_VERBS)[number];
type Data = Record<string, string>;

export function isGuestVerb(verb: unknown): verb is Verb {
  return typeof verb === 'string' && (GUEST_VERBS as readonly string[]).includes(verb);
}

export interface GuestActionsOptions {
  /** READS_PER_USER_PER_HOUR: paging and filtering the guest list reads the groups' guests again. */
  readCheck?: ReadCheck;
  lifecycle: GuestLifecycleService;
  review: GuestReviewService;
  store: Store;
  logger: Logger;
  slow: SlowWork;
  isAdmin: (actor: Actor) => Promise<boolean>;
  reviewDefault: ReviewDecision;
  reviewIntervalMs: number;
  reviewGraceMs: number;
  clock?: () => Date;
  /** Export as a CSV file (file consent card); without it the Export buttons are not shown. */
  files?: FileExport;
}

/** The verbs that act on one guest, chosen in the card (see `target`). */
const ON_A_GUEST: readonly Verb[] = ['guests.resend', 'guests.remove', 'review.keep', 'review.remove'];

/** A card for whoever clicked something that is not theirs (it names no guest). */
const notYours = (l: Localizer): Attachment =>
  noticeCard(l, l.t('common:notDone'), l.t('security:notYours'), 'attention');

const styleOf = (outcome: GuestActionOutcome): 'good' | 'attention' | 'warning' =>
  outcome.kind === 'done' ? 'good' : outcome.kind === 'refused' ? 'attention' : 'warning';

export class GuestActions {
  constructor(private readonly options: GuestActionsOptions) {}

  private filterOf(data: Data): GuestFilter {
    const page = Number(data.page ?? '0');
    return {
      page: Number.isInteger(page) && page >= 0 ? page : 0,
      pendingOnly: data.pending === 'true',
      appId: data.appId && data.appId !== 'all' ? data.appId : null,
    };
  }

  private async list(
    l: Localizer,
    actor: Actor,
    filter: GuestFilter,
    notice: Msg | null = null,
    style: 'default' | 'good' | 'attention' | 'warning' = 'default',
  ): Promise<Attachment> {
    return myGuestsCard(
      l,
      await this.options.lifecycle.listMyGuests(actor, filter),
      filter,
      notice ? l.msg(notice) : '',
      style,
      this.options.files !== undefined,
    );
  }

  /** `my guests` */
  async myGuests(context: TurnContext): Promise<void> {
    const actor = actorFrom(context);
    if (!actor) return;
    await context.sendActivity(
      MessageFactory.attachment(await this.list(loc(context), actor, { page: 0, pendingOnly: false, appId: null })),
    );
  }

  /** `guest report` (admins) */
  async report(context: TurnContext): Promise<void> {
    const actor = actorFrom(context);
    const l = loc(context);
    if (!actor || !(await this.options.isAdmin(actor))) {
      await context.sendActivity(l.t('guests:report.forAdmins'));
      return;
    }
    await context.sendActivity(MessageFactory.attachment(await this.reportCard(l, actor)));
  }

  private async reportCard(l: Localizer, actor: Actor): Promise<Attachment> {
    const now = this.options.clock?.() ?? new Date();
    const apps = await guestReport(this.options.store, actor.tenantId, now, {
      intervalMs: this.options.reviewIntervalMs,
      graceMs: this.options.reviewGraceMs,
    });
    return guestReportCard(l, apps, this.options.files !== undefined);
  }

  /** Export: the file consent card goes out as a new message; the card clicked stays (shown again as it is now). */
  private async exportList(context: TurnContext, l: Localizer, actor: Actor, kind: ExportKind): Promise<Attachment> {
    const offered = (await this.options.files?.offer(context, kind)) ?? false;
    if (kind === 'owner') return this.list(l, actor, this.filterOf({}));
    return offered
      ? this.reportCard(l, actor)
      : noticeCard(l, l.t('common:notDone'), l.t('guests:report.forAdmins'), 'attention');
  }

  /**
   * The guest a Resend, Remove, Keep button acts on: chosen in the card's `guest` list (a guest id on a review card,
   * `groupId/guestId` on `my guests`), or named by the button itself on cards sent before that list. Null when none.
   */
  private target(verb: Verb, data: Data): Data | null {
    const onReview =
      verb === 'review.keep' || verb === 'review.remove' || (verb === 'guests.resend' && !!data.reviewId);
    if (onReview) {
      const guestId = data.guest || data.guestId;
      return guestId && !guestId.includes('/') ? { ...data, guestId } : null;
    }
    const chosen = parseGuestChoice(data.guest);
    if (chosen) return { ...data, ...chosen };
    return data.groupId && data.guestId ? data : null;
  }

  private async perform(context: TurnContext, verb: Verb, given: Data): Promise<Attachment> {
    const actor = actorFrom(context);
    const l = loc(context);
    if (!actor) return noticeCard(l, l.t('common:notDone'), l.t('guests:refused.notSignedIn'), 'attention');
    const data = ON_A_GUEST.includes(verb) ? this.target(verb, given) : given;
    if (!data) return this.noGuestChosen(l, actor, given);
    const activityId = context.activity.id;
    switch (verb) {
      case 'guests.list': {
        const refusal = await this.options.readCheck?.(context);
        if (refusal) return noticeCard(l, l.t('common:notDone'), refusal, 'attention');
        return this.list(l, actor, this.filterOf(data));
      }
      case 'guests.removeCancel':
        return this.list(l, actor, this.filterOf({}), msg('common:cancelled'));
      case 'guests.export':
      case 'report.export':
        return this.exportList(context, l, actor, verb === 'report.export' ? 'admin' : 'owner');
      case 'guests.resend':
        return this.resend(l, actor, data, activityId);
      case 'guests.remove':
        return this.confirmRemove(l, actor, data);
      case 'guests.removeConfirm': {
        const outcome = await this.options.lifecycle.remove(
          { kind: 'owner', actor },
          data.groupId,
          data.guestId,
          `remove-${data.nonce}`,
          activityId,
        );
        return this.list(l, actor, this.filterOf({}), outcome.message, styleOf(outcome));
      }
      case 'review.keep':
      case 'review.remove':
      case 'review.keepAll':
        return this.decideReview(l, actor, verb, data, activityId);
    }
  }

  /** A Resend, Remove or Keep with no guest chosen: the card clicked, shown again with a warning. */
  private async noGuestChosen(l: Localizer, actor: Actor, given: Data): Promise<Attachment> {
    const none = msg('guests:select.none');
    if (!given.reviewId) return this.list(l, actor, this.filterOf(given), none, 'warning');
    if (await this.mayViewReview(actor, given.reviewId, given.groupId))
      return this.reviewAfter(l, given.reviewId, none);
    return notYours(l);
  }

  private async resend(l: Localizer, actor: Actor, data: Data, activityId?: string): Promise<Attachment> {
    const outcome = await this.options.lifecycle.resend(actor, data.groupId, data.guestId, activityId, l.locale);
    if (data.reviewId) {
      // The review card lists guest addresses: shown again only to an owner of the review's own group.
      if (await this.mayViewReview(actor, data.reviewId, data.groupId))
        return this.reviewAfter(l, data.reviewId, outcome.message);
      return noticeCard(l, l.t('guests:resend.button'), l.msg(outcome.message), styleOf(outcome));
    }
    return this.list(l, actor, this.filterOf({}), outcome.message, styleOf(outcome));
  }

  /** The confirmation names the guest: only for an owner of the group now (the card data may be forged). */
  private async confirmRemove(l: Localizer, actor: Actor, data: Data): Promise<Attachment> {
    if (!(await this.ownsNow(actor.userId, data.groupId))) return notYours(l);
    const { lifecycle, store } = this.options;
    const owned = (await lifecycle.ownedGroups(actor)).find((g) => g.groupId === data.groupId);
    const record = await store.guests.get({ tenantId: actor.tenantId, groupId: data.groupId, guestId: data.guestId });
    const who = record?.guestEmail ?? (await lifecycle.describeGuest(data.guestId));
    return confirmRemoveCard(
      l,
      who,
      owned?.groupName ?? record?.groupName ?? data.groupId,
      owned?.appName ?? record?.appName ?? l.t('guests:someApp'),
      { groupId: data.groupId, guestId: data.guestId, nonce: randomUUID() },
    );
  }

  /** Keep, Remove, Keep all on a review card; the decision is always passed on (the domain audits a refused one). */
  private async decideReview(
    l: Localizer,
    actor: Actor,
    verb: 'review.keep' | 'review.remove' | 'review.keepAll',
    data: Data,
    activityId?: string,
  ): Promise<Attachment> {
    const { review } = this.options;
    const decision: ReviewDecision = verb === 'review.remove' ? 'remove' : 'keep';
    // The review card lists guest addresses: whoever is not an owner of the review's group now sees none.
    const open = await review.getReview(data.reviewId);
    const mayView = !!open && open.view.groupId === data.groupId && (await this.ownsNow(actor.userId, data.groupId));
    const guestId = verb === 'review.keepAll' ? null : data.guestId;
    const result = await review.decide(actor, data.reviewId, data.groupId, guestId, decision, activityId);
    if (!mayView) return notYours(l);
    if (result.kind === 'refused') return this.reviewAfter(l, data.reviewId, result.message);
    return reviewCard(l, result.review, this.options.reviewDefault, {
      notice: result.notice ? l.msg(result.notice) : undefined,
    });
  }

  /** The review is of this group and the actor owns the group now (else its card, with addresses, is not shown). */
  private async mayViewReview(actor: Actor, reviewId: string, groupId: string | undefined): Promise<boolean> {
    const open = await this.options.review.getReview(reviewId);
    if (!open || open.view.groupId !== groupId) return false;
    return this.ownsNow(actor.userId, groupId);
  }

  private async ownsNow(userId: string, groupId: string): Promise<boolean> {
    if (typeof groupId !== 'string' || groupId === '') return false;
    return (await this.options.lifecycle.ownersNow(groupId)).some((o) => o.id === userId);
  }

  private async reviewAfter(l: Localizer, reviewId: string, notice: Msg): Promise<Attachment> {
    const current = await this.options.review.getReview(reviewId);
    return current
      ? reviewCard(l, current.view, this.options.reviewDefault, { notice: l.msg(notice) })
      : noticeCard(l, l.t('common:notDone'), l.msg(notice), 'attention');
  }

  /** Universal Actions: the response replaces the card for the person who clicked; slow ones update it later. */
  async invoke(context: TurnContext, verb: unknown, data: unknown): Promise<AdaptiveCardInvokeResponse> {
    const respond = (card: Attachment): AdaptiveCardInvokeResponse => ({
      statusCode: 200,
      type: CardFactory.contentTypes.adaptiveCard,
      value: card.content as Record<string, unknown>,
    });
    const l = loc(context);
    if (!isGuestVerb(verb) || !isRecord(data))
      return respond(noticeCard(l, l.t('common:notDone'), l.t('guests:refused.unknownAction'), 'attention'));
    const fields = data as Data;
    const replyToId = context.activity.replyToId;
    const quick: readonly Verb[] = [
      'guests.list',
      'guests.remove',
      'guests.removeCancel',
      'guests.export',
      'report.export',
    ];
    if (replyToId && !quick.includes(verb)) {
      const location = cardLocation(context, replyToId);
      const result = await this.options.slow.background.within(
        verb,
        this.perform(context, verb, fields),
        this.options.slow.invokeDeadlineMs,
        async (card) => {
          await this.options.slow.updateCard(location, card);
        },
      );
      return respond(
        result.done ? result.value : noticeCard(l, l.t('guests:working.title'), l.t('guests:working.text'), 'default'),
      );
    }
    return respond(await this.perform(context, verb, fields));
  }

  /** Action.Submit fallback: returns false when the activity is not a guest action. */
  async submit(context: TurnContext): Promise<boolean> {
    const value: unknown = context.activity.value;
    if (!isRecord(value) || !isGuestVerb(value.verb)) return false;
    const { verb, ...fields } = value as Data;
    const card = await this.perform(context, verb as Verb, fields);
    await replaceOrSend(context, card, this.options.logger);
    return true;
  }
}
