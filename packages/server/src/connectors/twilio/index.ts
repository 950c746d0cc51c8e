export { createTwilioConnector, EMPTY_TWIML, type TwilioChannel, type TwilioConnectorOptions, type TwilioInboundMessage, twilioConnector } from './connector.ts';
export { HELP_KEYWORDS, OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS, type OptOutKeyword, optOutKeyword } from './keywords.ts';
export { twilioSignature, verifyTwilioSignature } from './signature.ts';
export { NUMBERED_REPLY_HINT, renderSmsBody, resolveNumberedReply, SMS_BODY_LIMIT } from './sms-body.ts';
