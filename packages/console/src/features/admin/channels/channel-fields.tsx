import type { ChannelKind } from '@parley/protocol';
import { type ReactNode, useId } from 'react';
import { Icon, type IconName } from '../../../ui/Icon.tsx';
import { CHANNEL_KINDS } from '../../../lib/channel-form.ts';

export const KIND_ICONS: Record<ChannelKind, IconName> = { sms: 'smartphone', messenger: 'message', whatsapp: 'messageCircle', connector: 'link' };

/** The kind of a channel as an icon and its name. */
export function ChannelKindLabel({ kind }: { kind: ChannelKind }) {
  return (
    <span className={`channel-kind channel-kind-${kind}`}>
      <Icon name={KIND_ICONS[kind]} size={14} />
      {CHANNEL_KINDS[kind].label}
    </span>
  );
}

/** A labelled input with its hint and its validation message from the API, tied by aria-describedby. */
export function InputField({
  label,
  value,
  onChange,
  error,
  hint,
  type = 'text',
  required,
  placeholder,
  maxLength,
  autoComplete,
  mono,
  after,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  hint?: ReactNode;
  type?: 'text' | 'password' | 'url' | 'tel';
  required?: boolean;
  placeholder?: string | undefined;
  maxLength?: number;
  autoComplete?: string;
  mono?: boolean;
  /** Beside the input (a "Generate" button). */
  after?: ReactNode;
}) {
  const id = useId();
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const input = (
    <input
      id={id}
      type={type}
      value={value}
      required={required}
      placeholder={placeholder}
      maxLength={maxLength}
      autoComplete={autoComplete}
      spellCheck={type === 'text' && mono ? false : undefined}
      className={mono ? 'mono' : undefined}
      aria-invalid={error ? true : undefined}
      aria-describedby={describedBy}
      onChange={(e) => onChange(e.target.value)}
    />
  );
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {after ? (
        <div className="input-with-action">
          {input}
          {after}
        </div>
      ) : (
        input
      )}
      {hint && (
        <span id={`${id}-hint`} className="muted small">
          {hint}
        </span>
      )}
      {error && (
        <span id={`${id}-error`} className="field-error">
          {error}
        </span>
      )}
    </div>
  );
}

/** Validation issues of a request, by path below the body ("settings.phoneNumber", "name"). */
export function issuesOf(error: unknown): Record<string, string> {
  const details = (error as { details?: { issues?: unknown } } | null)?.details;
  const issues = Array.isArray(details?.issues) ? (details.issues as { path?: unknown; message?: unknown }[]) : [];
  const out: Record<string, string> = {};
  for (const issue of issues) {
    if (typeof issue.path !== 'string' || typeof issue.message !== 'string') continue;
    const key = issue.path.replace(/^body\.?/, '');
    out[key] ??= issue.message;
  }
  return out;
}
