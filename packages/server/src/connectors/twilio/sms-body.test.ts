import { describe, expect, it } from 'vitest';
import { NUMBERED_REPLY_HINT, renderSmsBody, resolveNumberedReply, SHORTENED_NOTE, SMS_BODY_LIMIT } from './sms-body.ts';

const plain = { quickReplies: [], media: null };

describe('renderSmsBody', () => {
  it('sends text as it is', () => {
    expect(renderSmsBody({ ...plain, text: 'Your order ships tomorrow.' })).toBe('Your order ships tomorrow.');
  });

  it('turns quick replies into numbered options and a hint', () => {
    const body = renderSmsBody({
      text: 'Did that answer your question?',
      quickReplies: [
        { title: 'Yes', payload: 'yes' },
        { title: 'No', payload: 'no' },
      ],
      media: null,
    });
    expect(body).toBe(`Did that answer your question?\n\n1. Yes\n2. No\n${NUMBERED_REPLY_HINT}`);
  });

  it("uses a file's caption when the message has no text, and nothing when neither", () => {
    const media = { url: 'https://files.example/a.png', contentType: 'image/png', fileName: 'a.png', caption: 'The receipt' };
    expect(renderSmsBody({ text: '', quickReplies: [], media })).toBe('The receipt');
    expect(renderSmsBody({ text: '  ', quickReplies: [], media: { ...media, caption: undefined } })).toBe('');
  });

  it('shortens a body over 1,600 characters at a word, with a note, keeping the options whole', () => {
    const long = 'word '.repeat(400).trim();
    const body = renderSmsBody({ text: long, quickReplies: [{ title: 'Call me', payload: 'call' }], media: null });
    expect(body.length).toBeLessThanOrEqual(SMS_BODY_LIMIT);
    expect(body).toContain(`word${SHORTENED_NOTE}\n\n1. Call me\n${NUMBERED_REPLY_HINT}`);
    expect(renderSmsBody({ ...plain, text: 'x'.repeat(SMS_BODY_LIMIT) })).toBe('x'.repeat(SMS_BODY_LIMIT));
  });

  it('never cuts an emoji in half', () => {
    const body = renderSmsBody({ ...plain, text: '😀'.repeat(1000) });
    expect(body.length).toBeLessThanOrEqual(SMS_BODY_LIMIT);
    expect(body.endsWith(`😀${SHORTENED_NOTE}`)).toBe(true);
  });
});

describe('resolveNumberedReply', () => {
  const offered = ['Yes', 'No', 'Talk to someone'];

  it.each([
    ['1', 'Yes'],
    ['2', 'No'],
    [' 3 ', 'Talk to someone'],
    ['2.', 'No'],
    ['3)', 'Talk to someone'],
    ['#1', 'Yes'],
    ['02', 'No'],
  ])('reads %j as the option %j', (text, option) => {
    expect(resolveNumberedReply(text, offered)).toBe(option);
  });

  it.each(['0', '4', '12', 'two', '1 please', 'Yes', '', '1.5'])('reads %j as no option', (text) => {
    expect(resolveNumberedReply(text, offered)).toBeNull();
  });

  it('reads nothing when no options were offered', () => {
    expect(resolveNumberedReply('1', [])).toBeNull();
  });
});
