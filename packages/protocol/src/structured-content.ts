import { z } from 'zod';

/**
 * Structured ("rich") content in the JSON format the industry already uses: LivePerson's structured content, which
 * the open-source `json-pollock` renderer draws. Layouts (vertical, horizontal, carousel) nest basic elements (text,
 * image, button, map) with click actions. Quick replies use LivePerson's `quickReplies` shape.
 * Reference: developers.liveperson.com structured-content templates; json-pollock's schema.
 */
const Style = z
  .object({
    bold: z.boolean().optional(),
    italic: z.boolean().optional(),
    color: z.string().max(32).optional(),
    size: z.enum(['small', 'medium', 'large']).optional(),
    'background-color': z.string().max(32).optional(),
    'border-color': z.string().max(32).optional(),
    'border-radius': z.number().int().min(0).max(64).optional(),
  })
  .strict();

const HttpsUrl = z.url({ protocol: /^https?$/ }).max(2048);

export const ClickActionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('link'), name: z.string().max(256).optional(), uri: HttpsUrl, target: z.enum(['self', 'blank', 'slideout']).optional() }),
  z.strictObject({ type: z.literal('navigate'), name: z.string().max(256).optional(), la: z.number().min(-90).max(90), lo: z.number().min(-180).max(180) }),
  z.strictObject({ type: z.literal('publishText'), text: z.string().min(1).max(1000) }),
]);

export const ClickMetadataSchema = z
  .strictObject({
    type: z.string().min(1).max(64),
    id: z.string().max(256).optional(),
  })
  .catchall(z.unknown());

export const ClickSchema = z.strictObject({
  actions: z.array(ClickActionSchema).max(4).optional(),
  metadata: z.array(ClickMetadataSchema).max(8).optional(),
});

const TextElement = z.strictObject({
  type: z.literal('text'),
  text: z.string().min(1).max(5000),
  tooltip: z.string().max(256).optional(),
  rtl: z.boolean().optional(),
  style: Style.optional(),
  click: ClickSchema.optional(),
});
const ImageElement = z.strictObject({
  type: z.literal('image'),
  url: HttpsUrl,
  caption: z.string().max(256).optional(),
  tooltip: z.string().max(256).optional(),
  style: Style.optional(),
  click: ClickSchema.optional(),
});
const ButtonElement = z.strictObject({ type: z.literal('button'), title: z.string().min(1).max(128), tooltip: z.string().max(256).optional(), style: Style.optional(), click: ClickSchema });
const MapElement = z.strictObject({
  type: z.literal('map'),
  la: z.number().min(-90).max(90),
  lo: z.number().min(-180).max(180),
  tooltip: z.string().max(256).optional(),
  click: ClickSchema.optional(),
});

export type StructuredElement =
  | z.infer<typeof TextElement>
  | z.infer<typeof ImageElement>
  | z.infer<typeof ButtonElement>
  | z.infer<typeof MapElement>
  | { type: 'vertical' | 'horizontal'; tag?: string; border?: 'border' | 'borderLess' | 'dropShadow'; elements: StructuredElement[]; click?: z.infer<typeof ClickSchema> }
  | { type: 'carousel'; padding?: number; elements: StructuredElement[] };

export const StructuredElementSchema: z.ZodType<StructuredElement> = z.lazy(() =>
  z.discriminatedUnion('type', [
    TextElement,
    ImageElement,
    ButtonElement,
    MapElement,
    z.strictObject({
      type: z.enum(['vertical', 'horizontal']),
      tag: z.string().max(64).optional(),
      border: z.enum(['border', 'borderLess', 'dropShadow']).optional(),
      elements: z.array(StructuredElementSchema).min(1).max(50),
      click: ClickSchema.optional(),
    }),
    z.strictObject({ type: z.literal('carousel'), padding: z.number().int().min(0).max(64).optional(), elements: z.array(StructuredElementSchema).min(1).max(10) }),
  ]),
);

/** A structured-content document: its root is a layout (or carousel) element. */
export const StructuredContentSchema = StructuredElementSchema.refine((el) => el.type === 'vertical' || el.type === 'horizontal' || el.type === 'carousel', {
  message: 'The root of structured content must be a vertical, horizontal or carousel layout',
}).describe('A structured-content document (LivePerson format): its root must be a vertical, horizontal or carousel layout.');

export const QuickRepliesSchema = z.strictObject({
  type: z.literal('quickReplies'),
  itemsPerRow: z.number().int().min(1).max(8).default(8),
  replies: z
    .array(
      z.strictObject({
        type: z.literal('button'),
        title: z.string().min(1).max(25),
        tooltip: z.string().max(256).optional(),
        click: z.strictObject({
          actions: z
            .array(z.strictObject({ type: z.literal('publishText'), text: z.string().min(1).max(1000) }))
            .min(1)
            .max(1),
          metadata: z.array(ClickMetadataSchema).max(8).optional(),
        }),
      }),
    )
    .min(1)
    .max(24),
});
export type QuickReplies = z.infer<typeof QuickRepliesSchema>;
