import type { FlowAction, FlowBotDefinition, FlowChoice, FlowInput, FlowState, Skill } from '@parley/protocol';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { useWorkspace } from '../../../app/context.ts';
import { describeAction, issuesBelow } from '../../../lib/flow-draft.ts';
import { ErrorNotice } from '../../../ui/feedback.tsx';
import { Icon } from '../../../ui/Icon.tsx';

type Line = { id: number; kind: 'consumer'; text: string } | { id: number; kind: 'bot'; text: string; choices: FlowChoice[] } | { id: number; kind: 'action'; action: FlowAction };

/**
 * A small chat with the unsaved definition: the admin writes as a consumer (or taps a quick reply) and sees the bot's
 * replies and actions. Each turn is `POST /v1/bots/flow-preview` with the definition as it is now and the state the
 * previous turn returned; nothing is stored. Validation messages go to the editor through `onIssues`.
 */
export function FlowPreview({ definition, skills, onIssues }: { definition: FlowBotDefinition; skills: Skill[]; onIssues: (issues: Record<string, string>) => void }) {
  const workspace = useWorkspace();
  const [lines, setLines] = useState<Line[]>([]);
  const [state, setState] = useState<FlowState | null>(null);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const nextId = useRef(0);
  const log = useRef<HTMLDivElement>(null);
  const latest = useRef(definition);
  latest.current = definition;
  const onIssuesRef = useRef(onIssues);
  onIssuesRef.current = onIssues;

  const fieldIssues = Object.keys(issuesBelow(error, 'body.definition')).length;
  const ended = lines.some((l) => l.kind === 'action' && (l.action.type === 'escalate' || l.action.type === 'close'));
  const skillName = (id: string) => skills.find((s) => s.id === id)?.name;

  const run = async (input: FlowInput, from: FlowState | null, before: Line[]) => {
    const id = () => nextId.current++;
    const shown = input.type === 'message' ? [...before, { id: id(), kind: 'consumer' as const, text: input.text }] : before;
    setLines(shown);
    setBusy(true);
    setError(null);
    try {
      const turn = await workspace.session.rest.call('previewFlow', { body: { definition: latest.current, state: from, input } });
      onIssuesRef.current({});
      setState(turn.state);
      setLines([
        ...shown,
        ...turn.replies.map((r) => ({ id: id(), kind: 'bot' as const, text: r.text, choices: r.choices })),
        ...turn.actions.map((action) => ({ id: id(), kind: 'action' as const, action })),
      ]);
    } catch (err) {
      setError(err);
      onIssuesRef.current(issuesBelow(err, 'body.definition'));
    } finally {
      setBusy(false);
    }
  };

  const restart = () => {
    setState(null);
    setText('');
    void run({ type: 'start' }, null, []);
  };

  // The bot greets when the preview opens.
  const started = useRef(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: once, when the preview opens
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    restart();
  }, []);

  useEffect(() => {
    const el = log.current;
    if (el && lines.length) el.scrollTop = el.scrollHeight;
  }, [lines]);

  const send = (message: string) => {
    if (!message.trim() || busy || ended) return;
    setText('');
    void run({ type: 'message', text: message }, state, lines);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    send(text);
  };
  const lastBot = [...lines].reverse().find((l) => l.kind === 'bot' && l.choices.length > 0);

  return (
    <section className="card flow-preview" aria-labelledby="preview-heading">
      <header className="card-header">
        <h2 id="preview-heading">Preview</h2>
        <button type="button" className="btn btn-small" onClick={restart} disabled={busy}>
          <Icon name="reply" size={14} /> Restart
        </button>
      </header>
      <div className="preview-log" ref={log} role="log" aria-label="Preview conversation" aria-busy={busy}>
        <ol className="preview-lines">
          {lines.map((line) => {
            if (line.kind === 'action')
              return (
                <li key={line.id} className="preview-action">
                  <span className={`chip ${line.action.type === 'set_fields' ? 'chip-ok' : 'chip-action'}`}>
                    <Icon name={line.action.type === 'escalate' ? 'transfer' : line.action.type === 'close' ? 'check' : 'user'} size={12} />
                    {describeAction(line.action, skillName)}
                  </span>
                </li>
              );
            if (line.kind === 'consumer')
              return (
                <li key={line.id} className="msg msg-right">
                  <span className="sr-only">You: </span>
                  <div className="bubble msg-text">{line.text}</div>
                </li>
              );
            return (
              <li key={line.id} className="msg msg-left">
                <span className="sr-only">Bot: </span>
                <div className="bubble msg-text">{line.text}</div>
                {line.choices.length > 0 && (
                  <ul className="qr-list" aria-label="Quick replies">
                    {line.choices.map((choice) => (
                      <li key={`${choice.title}-${choice.intentId}`}>
                        <button type="button" className="qr-chip" disabled={busy || ended || line !== lastBot} onClick={() => send(choice.title)}>
                          {choice.title}
                        </button>
                      </li>
                    ))}
                  </ul>
                )}
              </li>
            );
          })}
          {busy && (
            <li className="preview-typing muted small" aria-hidden="true">
              The bot is typing…
            </li>
          )}
        </ol>
      </div>
      {ended && <p className="preview-ended muted small">In a conversation the bot would stop here. Restart to try again.</p>}
      {error !== null && (
        <div className="preview-error">
          {fieldIssues > 0 ? (
            <p className="notice notice-error notice-compact" role="alert">
              The bot cannot run yet: fix the {fieldIssues === 1 ? 'field' : `${fieldIssues} fields`} marked in the editor, then restart.
            </p>
          ) : (
            <ErrorNotice error={error} compact />
          )}
        </div>
      )}
      <form className="preview-composer" onSubmit={submit}>
        <input
          aria-label="Message as the consumer"
          placeholder={ended ? 'The conversation left the bot' : 'Write as the consumer…'}
          value={text}
          disabled={ended}
          maxLength={2000}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" className="btn btn-primary btn-small" disabled={busy || ended || !text.trim()}>
          <Icon name="send" size={14} /> Send
        </button>
      </form>
    </section>
  );
}
