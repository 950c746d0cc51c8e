import { type ReactNode, useId, useState } from 'react';
import { Icon } from '../../../ui/Icon.tsx';

/** A labelled text input (or textarea) with its validation message from the API, tied by aria-describedby. */
export function TextField({
  label,
  value,
  onChange,
  error,
  multiline,
  placeholder,
  maxLength,
  required,
  hint,
  type = 'text',
  mono,
  onBlur,
  onEnter,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  multiline?: boolean;
  placeholder?: string;
  maxLength?: number;
  required?: boolean;
  hint?: ReactNode;
  type?: 'text' | 'url' | 'number';
  mono?: boolean;
  onBlur?: () => void;
  /** Enter in a single-line field: instead of submitting the form. */
  onEnter?: () => void;
}) {
  const id = useId();
  const describedBy = [error ? `${id}-error` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    value,
    placeholder,
    maxLength,
    required,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
    className: mono ? 'mono' : undefined,
    onBlur,
  };
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {multiline ? (
        <textarea rows={2} {...common} onChange={(e) => onChange(e.target.value)} />
      ) : (
        <input
          type={type}
          {...common}
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={
            onEnter
              ? (e) => {
                  if (e.key === 'Enter') {
                    e.preventDefault();
                    onEnter();
                  }
                }
              : undefined
          }
        />
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

/** A labelled select with its validation message. */
export function SelectField({
  label,
  value,
  onChange,
  options,
  error,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: { value: string; label: string }[];
  error?: string | undefined;
}) {
  const id = useId();
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-error` : undefined}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {error && (
        <span id={`${id}-error`} className="field-error">
          {error}
        </span>
      )}
    </div>
  );
}

/**
 * A list of short texts (phrases, escalation phrases) as removable chips, with an input that adds one on Enter or
 * with the Add button. `errors` are keyed by index (`"3"`) or `""` for the list itself.
 */
export function TextListField({
  label,
  items,
  onChange,
  errors = {},
  placeholder,
  maxLength,
  max,
  itemName,
}: {
  label: string;
  items: string[];
  onChange: (items: string[]) => void;
  errors?: Record<string, string>;
  placeholder?: string;
  maxLength?: number;
  max?: number;
  itemName: string;
}) {
  const id = useId();
  const [text, setText] = useState('');
  const add = () => {
    const value = text.trim();
    if (!value || items.includes(value) || (max !== undefined && items.length >= max)) return;
    onChange([...items, value]);
    setText('');
  };
  const messages = Object.entries(errors);
  return (
    <fieldset className={`field${messages.length ? ' field-invalid' : ''}`}>
      <legend>{label}</legend>
      {items.length > 0 && (
        <ul className="text-list" aria-label={label}>
          {items.map((item, i) => (
            <li key={item} className={`chip text-chip${errors[String(i)] ? ' chip-danger' : ''}`}>
              <span>{item}</span>
              <button type="button" aria-label={`Remove the ${itemName} “${item}”`} onClick={() => onChange(items.filter((_, j) => j !== i))}>
                <Icon name="close" size={12} />
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="text-list-add">
        <input
          id={id}
          value={text}
          placeholder={placeholder}
          maxLength={maxLength}
          aria-label={`Add a ${itemName}`}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              add();
            }
          }}
        />
        <button type="button" className="btn btn-small" onClick={add} disabled={!text.trim()}>
          <Icon name="plus" size={14} /> Add
        </button>
      </div>
      {messages.map(([key, message]) => (
        <span key={key} className="field-error">
          {key === '' ? message : `“${items[Number(key)] ?? key}”: ${message}`}
        </span>
      ))}
    </fieldset>
  );
}

/** The issues of `issues` below `prefix` ("intents.0" → {"name": …}), for a part of a form. */
export function below(issues: Record<string, string>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, message] of Object.entries(issues)) {
    if (path === prefix) out[''] = message;
    else if (path.startsWith(`${prefix}.`)) out[path.slice(prefix.length + 1)] = message;
  }
  return out;
}

/** Options of a skill select, the first meaning "none". */
export function skillOptionsOf(skills: { id: string; name: string }[] | undefined, none: string): { value: string; label: string }[] {
  return [{ value: '', label: none }, ...(skills ?? []).map((s) => ({ value: s.id, label: s.name }))];
}
