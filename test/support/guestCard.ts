/**
 * What a person does on a guest card (`my guests`, a review): choose the guest in the `guest` list, then click one of
 * the buttons under it. Returns the verb and the data the client sends (the button's data with the chosen guest).
 */
import { cardText } from './botHarness';

type Node = Record<string, unknown>;

function find(node: unknown, match: (n: Node) => boolean): Node | undefined {
  if (Array.isArray(node)) {
    for (const n of node) {
      const found = find(n, match);
      if (found) return found;
    }
    return undefined;
  }
  if (!node || typeof node !== 'object') return undefined;
  if (match(node as Node)) return node as Node;
  for (const value of Object.values(node as Node)) {
    const found = find(value, match);
    if (found) return found;
  }
  return undefined;
}

const isGuestList = (n: Node): boolean => n.type === 'Input.ChoiceSet' && n.id === 'guest';

export function guestAction(
  card: Node,
  title: string,
  guestText: string,
): { verb: string; data: Record<string, string> } {
  const selection = find(card.body, (n) => n.type === 'Container' && find(n.items, isGuestList) !== undefined);
  const choices = (selection ? (find(selection.items, isGuestList)?.choices ?? []) : []) as Array<{
    title: string;
    value: string;
  }>;
  const choice = choices.find((c) => c.title.includes(guestText));
  const set = selection ? find(selection.items, (i) => i.type === 'ActionSet') : undefined;
  const actions = (set?.actions ?? []) as Array<{ title: string; verb: string; data: Record<string, string> }>;
  const action = actions.find((a) => a.title === title);
  if (!choice || !action) throw new Error(`No '${title}' for ${guestText} on: ${cardText(card)}`);
  return { verb: action.verb, data: { ...action.data, guest: choice.value } };
}

/** The guests shown on the card: a container each (the one holding the `guest` list is not one). */
export function guestItems(card: Node): Node[] {
  const body = card.body as Node[];
  return body.filter((b) => b.type === 'Container' && b.separator === true && find(b.items, isGuestList) === undefined);
}

/** The choices of the card's `guest` list. */
export function guestChoices(card: Node): Array<{ title: string; value: string }> {
  const list = find(card.body, isGuestList);
  return (list?.choices ?? []) as Array<{ title: string; value: string }>;
}
