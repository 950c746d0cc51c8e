export { ConversionService } from './conversion.service.ts';
export { type CsatHooks, CsatService, SURVEY_QUESTION, SURVEY_QUICK_REPLIES, SURVEY_THANKS, scoreOf } from './csat.service.ts';
export { ENGAGEMENT_DEFAULTS, EngagementSettingsService } from './engagement-settings.ts';
