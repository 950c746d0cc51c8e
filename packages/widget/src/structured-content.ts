import type { StructuredElement } from '@parley/protocol';
import { type Child, h } from './dom.ts';

type Click = NonNullable<Extract<StructuredElement, { type: 'button' }>['click']>;
type Action = NonNullable<Click['actions']>[number];

export interface CardHandlers {
  /** A `publishText` action: the text is sent as the consumer's message. */
  publishText(text: string): void;
  /** A `link` action (or a map): opened in a new tab. */
  openLink(uri: string): void;
  /** The accessible name for a map element's link. */
  mapLabel: string;
}

const SAFE_COLOUR = /^(#[0-9a-f]{3,8}|[a-z]{3,20}|rgba?\([\d\s.,%]+\))$/i;

function applyStyle(el: HTMLElement, style: Extract<StructuredElement, { type: 'text' }>['style']): void {
  if (!style) return;
  if (style.bold) el.style.fontWeight = '700';
  if (style.italic) el.style.fontStyle = 'italic';
  if (style.size === 'small') el.classList.add('pw-small');
  if (style.size === 'large') el.classList.add('pw-large');
  // Colours from the agent side are kept to plain colour values (they are set through the CSSOM, never as CSS text).
  if (style.color && SAFE_COLOUR.test(style.color)) el.style.color = style.color;
  if (style['background-color'] && SAFE_COLOUR.test(style['background-color'])) el.style.backgroundColor = style['background-color'];
}

function runActions(actions: readonly Action[] | undefined, handlers: CardHandlers): void {
  for (const action of actions ?? []) {
    if (action.type === 'publishText') handlers.publishText(action.text);
    else if (action.type === 'link') handlers.openLink(action.uri);
    else if (action.type === 'navigate') handlers.openLink(mapUrl(action.la, action.lo));
  }
}

const mapUrl = (la: number, lo: number) => `https://www.openstreetmap.org/?mlat=${la}&mlon=${lo}#map=16/${la}/${lo}`;

/** The text a card shows, for notices and previews. */
export function cardText(element: StructuredElement): string {
  switch (element.type) {
    case 'text':
      return element.text;
    case 'button':
      return element.title;
    case 'image':
      return element.caption ?? '';
    case 'map':
      return '';
    default:
      return element.elements.map(cardText).filter(Boolean).join(' · ');
  }
}

/**
 * Draws LivePerson structured content: vertical and horizontal layouts, carousels, text, images, buttons and maps,
 * with publishText, link and navigate actions. Everything is built as DOM nodes; no HTML from the wire is parsed.
 */
export function renderCard(root: StructuredElement, handlers: CardHandlers): HTMLElement {
  const draw = (el: StructuredElement): Child => {
    switch (el.type) {
      case 'text': {
        const node = h('div', { class: 'pw-sc-text', dir: el.rtl ? 'rtl' : undefined, title: el.tooltip }, el.text);
        applyStyle(node, el.style);
        return node;
      }
      case 'image': {
        const img = h('img', { class: 'pw-sc-image', src: el.url, alt: el.caption ?? el.tooltip ?? '', loading: 'lazy', referrerpolicy: 'no-referrer' });
        const actions = el.click?.actions;
        if (!actions?.length) return img;
        const button = h('button', { type: 'button', class: 'pw-sc-image-button', 'aria-label': el.caption ?? el.tooltip ?? actions.map((a) => ('name' in a && a.name) || '').join(' ') }, img);
        button.addEventListener('click', () => runActions(actions, handlers));
        return button;
      }
      case 'button': {
        const button = h('button', { type: 'button', class: 'pw-sc-button', title: el.tooltip }, el.title);
        applyStyle(button, el.style);
        button.addEventListener('click', () => runActions(el.click.actions, handlers));
        return button;
      }
      case 'map': {
        const button = h('button', { type: 'button', class: 'pw-sc-button', title: el.tooltip }, handlers.mapLabel);
        button.addEventListener('click', () => (el.click?.actions?.length ? runActions(el.click.actions, handlers) : handlers.openLink(mapUrl(el.la, el.lo))));
        return button;
      }
      case 'carousel':
        return h('div', { class: 'pw-sc-carousel' }, ...el.elements.map((child) => wrapLayout(child)));
      default:
        return h('div', { class: `pw-sc-${el.type}` }, ...el.elements.map(draw));
    }
  };
  const wrapLayout = (el: StructuredElement): HTMLElement => {
    const border = 'border' in el ? el.border : undefined;
    const card = h('div', { class: `pw-card${border === 'borderLess' ? ' pw-borderless' : border === 'dropShadow' ? ' pw-shadow' : ''}` }, draw(el));
    return card;
  };
  return root.type === 'carousel' ? (draw(root) as HTMLElement) : wrapLayout(root);
}
