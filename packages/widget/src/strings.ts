/**
 * The widget's strings. English is the default and the fallback for any string a locale lacks; `{name}` placeholders
 * are filled by `t(key, { name })`. Keys ending in `_one` / `_other` are plural forms, chosen by `plural()`.
 * To add a language, add a table here: the locale is picked from the account's settings, else the visitor's browser.
 */
const en = {
  openChat: 'Open chat',
  closeChat: 'Close chat',
  openChatUnread_one: 'Open chat, {count} unread message',
  openChatUnread_other: 'Open chat, {count} unread messages',
  defaultSubtitle: 'We usually reply within a few minutes',
  agentSubtitle: 'You are chatting with {name}',
  conversationLog: 'Conversation',
  messageLabel: 'Message',
  placeholder: 'Write a message…',
  send: 'Send',
  attach: 'Attach a file',
  you: 'You',
  agent: 'Agent',
  sending: 'Sending…',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  notSent: 'Not sent',
  retry: 'Try again',
  reconnecting: 'Reconnecting…',
  offline: 'You are offline. Your messages will be sent when the connection is back.',
  connecting: 'Connecting…',
  cannotConnect: 'We cannot reach the chat right now. Retrying…',
  typing: '{name} is typing…',
  someoneTyping: 'Someone is typing…',
  joined: '{name} joined the conversation',
  left: '{name} left the conversation',
  closed: 'This conversation was closed. Write to start a new one.',
  reopened: 'The conversation was reopened',
  earlierConversation: 'Earlier conversation · {date}',
  conversationStarted: 'Conversation · {date}',
  showEarlier: 'Show earlier conversations',
  suggestedReplies: 'Suggested replies',
  download: 'Download {name}',
  fileSending: 'Uploading {name}…',
  image: 'Image',
  openMap: 'Open the map',
  newMessageTitle_one: '({count}) New message – {title}',
  newMessageTitle_other: '({count}) New messages – {title}',
  card: 'Card',
  surveyTitle: 'How would you rate this conversation?',
  score1: 'Very poor',
  score2: 'Poor',
  score3: 'OK',
  score4: 'Good',
  score5: 'Excellent',
  surveyComment: 'Anything to add? (optional)',
  surveySend: 'Send rating',
  surveySkip: 'Skip',
  surveyThanks: 'Thank you for your feedback!',
  surveyFailed: 'Your rating could not be sent. Please try again.',
} as const;

export type StringKey = keyof typeof en;
type PluralBase<K> = K extends `${infer B}_one` ? B : never;
export type PluralKey = PluralBase<StringKey>;
export type Strings = { readonly [K in StringKey]?: string };

const fr: Strings = {
  openChat: 'Ouvrir la discussion',
  closeChat: 'Fermer la discussion',
  openChatUnread_one: 'Ouvrir la discussion, {count} message non lu',
  openChatUnread_other: 'Ouvrir la discussion, {count} messages non lus',
  defaultSubtitle: 'Nous répondons en général en quelques minutes',
  agentSubtitle: 'Vous discutez avec {name}',
  conversationLog: 'Conversation',
  messageLabel: 'Message',
  placeholder: 'Écrivez un message…',
  send: 'Envoyer',
  attach: 'Joindre un fichier',
  you: 'Vous',
  agent: 'Conseiller',
  sending: 'Envoi…',
  sent: 'Envoyé',
  delivered: 'Remis',
  read: 'Lu',
  notSent: 'Non envoyé',
  retry: 'Réessayer',
  reconnecting: 'Reconnexion…',
  offline: 'Vous êtes hors ligne. Vos messages partiront dès le retour de la connexion.',
  connecting: 'Connexion…',
  cannotConnect: 'La discussion est injoignable pour le moment. Nouvel essai…',
  typing: '{name} écrit…',
  someoneTyping: 'Quelqu’un écrit…',
  joined: '{name} a rejoint la conversation',
  left: '{name} a quitté la conversation',
  closed: 'Cette conversation est terminée. Écrivez pour en commencer une nouvelle.',
  reopened: 'La conversation a été rouverte',
  earlierConversation: 'Conversation précédente · {date}',
  conversationStarted: 'Conversation · {date}',
  showEarlier: 'Afficher les conversations précédentes',
  suggestedReplies: 'Réponses suggérées',
  download: 'Télécharger {name}',
  fileSending: 'Envoi de {name}…',
  image: 'Image',
  openMap: 'Ouvrir la carte',
  newMessageTitle_one: '({count}) Nouveau message – {title}',
  newMessageTitle_other: '({count}) Nouveaux messages – {title}',
  card: 'Carte',
  surveyTitle: 'Comment évaluez-vous cette conversation ?',
  score1: 'Très mauvaise',
  score2: 'Mauvaise',
  score3: 'Correcte',
  score4: 'Bonne',
  score5: 'Excellente',
  surveyComment: 'Un commentaire ? (facultatif)',
  surveySend: 'Envoyer la note',
  surveySkip: 'Passer',
  surveyThanks: 'Merci pour votre avis !',
  surveyFailed: 'Votre note n’a pas pu être envoyée. Réessayez.',
};

const de: Strings = {
  openChat: 'Chat öffnen',
  closeChat: 'Chat schließen',
  openChatUnread_one: 'Chat öffnen, {count} ungelesene Nachricht',
  openChatUnread_other: 'Chat öffnen, {count} ungelesene Nachrichten',
  defaultSubtitle: 'Wir antworten meist innerhalb weniger Minuten',
  agentSubtitle: 'Sie schreiben mit {name}',
  conversationLog: 'Unterhaltung',
  messageLabel: 'Nachricht',
  placeholder: 'Nachricht schreiben…',
  send: 'Senden',
  attach: 'Datei anhängen',
  you: 'Sie',
  agent: 'Berater',
  sending: 'Wird gesendet…',
  sent: 'Gesendet',
  delivered: 'Zugestellt',
  read: 'Gelesen',
  notSent: 'Nicht gesendet',
  retry: 'Erneut versuchen',
  reconnecting: 'Verbindung wird wiederhergestellt…',
  offline: 'Sie sind offline. Ihre Nachrichten werden gesendet, sobald die Verbindung zurück ist.',
  typing: '{name} schreibt…',
  joined: '{name} ist der Unterhaltung beigetreten',
  left: '{name} hat die Unterhaltung verlassen',
  closed: 'Diese Unterhaltung wurde beendet. Schreiben Sie, um eine neue zu beginnen.',
  showEarlier: 'Frühere Unterhaltungen anzeigen',
  suggestedReplies: 'Vorgeschlagene Antworten',
  download: '{name} herunterladen',
  newMessageTitle_one: '({count}) Neue Nachricht – {title}',
  newMessageTitle_other: '({count}) Neue Nachrichten – {title}',
  surveyTitle: 'Wie bewerten Sie dieses Gespräch?',
  score1: 'Sehr schlecht',
  score2: 'Schlecht',
  score3: 'Okay',
  score4: 'Gut',
  score5: 'Ausgezeichnet',
  surveyComment: 'Möchten Sie etwas hinzufügen? (optional)',
  surveySend: 'Bewertung senden',
  surveySkip: 'Überspringen',
  surveyThanks: 'Vielen Dank für Ihr Feedback!',
};

const es: Strings = {
  openChat: 'Abrir el chat',
  closeChat: 'Cerrar el chat',
  openChatUnread_one: 'Abrir el chat, {count} mensaje sin leer',
  openChatUnread_other: 'Abrir el chat, {count} mensajes sin leer',
  defaultSubtitle: 'Solemos responder en pocos minutos',
  agentSubtitle: 'Estás hablando con {name}',
  conversationLog: 'Conversación',
  messageLabel: 'Mensaje',
  placeholder: 'Escribe un mensaje…',
  send: 'Enviar',
  attach: 'Adjuntar un archivo',
  you: 'Tú',
  agent: 'Agente',
  sending: 'Enviando…',
  sent: 'Enviado',
  delivered: 'Entregado',
  read: 'Leído',
  notSent: 'No enviado',
  retry: 'Reintentar',
  reconnecting: 'Reconectando…',
  offline: 'Sin conexión. Tus mensajes se enviarán cuando vuelva la conexión.',
  typing: '{name} está escribiendo…',
  joined: '{name} se unió a la conversación',
  left: '{name} dejó la conversación',
  closed: 'Esta conversación terminó. Escribe para empezar una nueva.',
  showEarlier: 'Ver conversaciones anteriores',
  suggestedReplies: 'Respuestas sugeridas',
  download: 'Descargar {name}',
  newMessageTitle_one: '({count}) Mensaje nuevo – {title}',
  newMessageTitle_other: '({count}) Mensajes nuevos – {title}',
  surveyTitle: '¿Cómo valoras esta conversación?',
  score1: 'Muy mala',
  score2: 'Mala',
  score3: 'Normal',
  score4: 'Buena',
  score5: 'Excelente',
  surveyComment: '¿Algo que añadir? (opcional)',
  surveySend: 'Enviar valoración',
  surveySkip: 'Omitir',
  surveyThanks: '¡Gracias por tu opinión!',
};

export const locales: Readonly<Record<string, Strings>> = { en, fr, de, es };

/**
 * The first of the candidates (e.g. the account's setting, then `navigator.languages`) the widget has strings for;
 * `fr-CA` matches `fr`. English when none does.
 */
export function pickLocale(candidates: ReadonlyArray<string | null | undefined>): string {
  for (const candidate of candidates) {
    if (!candidate) continue;
    const tag = candidate.toLowerCase();
    if (Object.hasOwn(locales, tag)) return tag;
    const language = tag.split('-')[0] ?? '';
    if (Object.hasOwn(locales, language)) return language;
  }
  return 'en';
}

export type Vars = Readonly<Record<string, string | number>>;

export interface Translator {
  readonly locale: string;
  t(key: StringKey, vars?: Vars): string;
  /** `key_one` or `key_other` by the locale's plural rules, with `{count}` filled. */
  plural(key: PluralKey, count: number, vars?: Vars): string;
}

const fill = (template: string, vars: Vars = {}) => template.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(vars, name) ? String(vars[name]) : whole));

export function translator(locale: string): Translator {
  const table = locales[locale] ?? en;
  const rules = new Intl.PluralRules(locale);
  const t = (key: StringKey, vars?: Vars) => fill(table[key] ?? en[key], vars);
  return {
    locale,
    t,
    plural: (key, count, vars) => t(`${key}_${rules.select(count) === 'one' ? 'one' : 'other'}` as StringKey, { count, ...vars }),
  };
}
