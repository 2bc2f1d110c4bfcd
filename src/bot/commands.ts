/** Text commands, recognised forgivingly (any case, extra spaces, trailing punctuation, after an @mention). */

export type Command = 'invite' | 'help' | 'cancel';

const commands: Record<string, Command> = {
  'invite guest': 'invite',
  'invite a guest': 'invite',
  'invite guests': 'invite',
  invite: 'invite',
  help: 'help',
  '?': 'help',
  cancel: 'cancel',
  stop: 'cancel',
  quit: 'cancel',
  exit: 'cancel',
};

export function normalizeText(text: string | undefined): string {
  return (text ?? '')
    .replace(/<at>[^<]*<\/at>/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[.!]+$/, '')
    .toLowerCase();
}

export function parseCommand(text: string | undefined): Command | null {
  return commands[normalizeText(text)] ?? null;
}

export const commandList: Array<{ name: string; description: string }> = [
  { name: 'invite guest', description: 'Invite someone from outside the organization to an app whose access group you own.' },
  { name: 'cancel', description: 'Stop what we are doing; nothing is changed.' },
  { name: 'help', description: 'Show this list.' },
];
