/** Limits and clean-up for text users type that the bot stores, sends to Graph or shows in cards. */

export const WELCOME_MESSAGE_MAX = 1000;

/** Removes control characters (keeps line breaks and tabs), normalizes line endings and trims. */
export function cleanText(value: string, { multiline }: { multiline: boolean }): string {
  const normalized = value.replace(/\r\n?/g, '\n');
  const stripped = normalized.replace(
    multiline
      ? /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g
      : /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g,
    '',
  );
  return stripped.trim();
}
