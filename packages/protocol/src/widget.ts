import { z } from 'zod';

/**
 * The consumer messaging widget's settings, per account: how the widget on the brand's site looks and greets. Admins
 * change them; the widget reads them without credentials (by the public widget key), so they hold nothing secret.
 */
export const WidgetPositionSchema = z.enum(['bottom-right', 'bottom-left']).describe('Which bottom corner of the page the launcher sits in.');
export type WidgetPosition = z.infer<typeof WidgetPositionSchema>;

export const WidgetSettingsSchema = z
  .strictObject({
    primaryColor: z
      .string()
      .regex(/^#[0-9a-fA-F]{6}$/, 'A colour as #rrggbb')
      .describe('The brand colour of the launcher, header and own messages, as `#rrggbb`; text on it is black or white, whichever contrasts more.'),
    greeting: z.string().trim().min(1).max(500).describe('The first message a consumer sees, before anyone has written.'),
    position: WidgetPositionSchema,
    locale: z
      .string()
      .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, 'A language tag such as `en` or `fr-CA`')
      .optional()
      .describe("The widget's language (`en`, `fr`, `de`, `es`, ...); without it the visitor's browser language is used."),
    title: z.string().trim().min(1).max(80).optional().describe("The window's title; the account's name when absent."),
  })
  .describe('How the widget looks and greets.');
export type WidgetSettings = z.infer<typeof WidgetSettingsSchema>;

/** What an account's widget uses until an admin changes it. */
export const DEFAULT_WIDGET_SETTINGS: WidgetSettings = {
  primaryColor: '#2456d6',
  greeting: 'Hi there! How can we help you today?',
  position: 'bottom-right',
};

export const WidgetConfigQuerySchema = z.strictObject({
  widgetKey: z.string().min(8).max(128).describe("The account's public widget key (`pwk_...`), as in the script tag."),
});

export const WidgetConfigSchema = z
  .object({
    accountName: z.string().describe("The account's name (the default title)."),
    settings: WidgetSettingsSchema,
  })
  .describe('What the widget needs to draw itself; public, nothing secret.');
export type WidgetConfig = z.infer<typeof WidgetConfigSchema>;
