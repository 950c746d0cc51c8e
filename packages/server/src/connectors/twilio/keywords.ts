/**
 * The keywords Twilio's default SMS STOP filtering acts on for long codes and toll-free numbers
 * (help.twilio.com "Twilio support for opt-out keywords"; REVOKE and OPTOUT were added on 14 May 2025 after the FCC's
 * rule on revoking consent). Only a message that is the keyword alone counts: "STOP" does, "stop texting me" does not.
 * Twilio blocks further sends itself (error 21610) and still forwards the message to the webhook, so Parley sees it.
 */
export const OPT_OUT_KEYWORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'] as const;
export const OPT_IN_KEYWORDS = ['START', 'YES', 'UNSTOP'] as const;
export const HELP_KEYWORDS = ['HELP', 'INFO'] as const;

export type OptOutKeyword = 'stop' | 'start' | 'help';

const byWord = new Map<string, OptOutKeyword>([
  ...OPT_OUT_KEYWORDS.map((word) => [word, 'stop'] as const),
  ...OPT_IN_KEYWORDS.map((word) => [word, 'start'] as const),
  ...HELP_KEYWORDS.map((word) => [word, 'help'] as const),
]);

/** What a whole inbound message means to the opt-out rules (trimmed, any case), or null for an ordinary message. */
export function optOutKeyword(text: string | null | undefined): OptOutKeyword | null {
  if (!text) return null;
  return byWord.get(text.trim().toUpperCase()) ?? null;
}
