/**
 * What the widget keeps on the device, per widget key: the device token (the same anonymous consumer next time) and
 * messages written but not yet acknowledged (sent again, idempotently, after a reload). localStorage can be missing
 * or throw (privacy modes, sandboxed frames): then nothing is kept and the widget still works for the visit.
 */
export interface PendingText {
  key: string;
  text: string;
  createdAt: string;
}

export class DeviceStore {
  readonly #prefix: string;

  constructor(
    widgetKey: string,
    private readonly storage: Storage | null = safeLocalStorage(),
  ) {
    this.#prefix = `parley:${widgetKey}:`;
  }

  get deviceToken(): string | null {
    return this.#get('device');
  }

  set deviceToken(token: string | null) {
    this.#set('device', token);
  }

  /** The conversation whose CSAT survey the consumer skipped: not shown again on this device. */
  get skippedSurvey(): string | null {
    return this.#get('csat-skipped');
  }

  set skippedSurvey(conversationId: string | null) {
    this.#set('csat-skipped', conversationId);
  }

  get pending(): PendingText[] {
    try {
      const parsed: unknown = JSON.parse(this.#get('outbox') ?? '[]');
      return Array.isArray(parsed) ? parsed.filter((p): p is PendingText => typeof p?.key === 'string' && typeof p?.text === 'string' && typeof p?.createdAt === 'string') : [];
    } catch {
      return [];
    }
  }

  addPending(item: PendingText): void {
    this.#set('outbox', JSON.stringify([...this.pending.filter((p) => p.key !== item.key), item].slice(-50)));
  }

  removePending(key: string): void {
    const rest = this.pending.filter((p) => p.key !== key);
    this.#set('outbox', rest.length > 0 ? JSON.stringify(rest) : null);
  }

  #get(name: string): string | null {
    try {
      return this.storage?.getItem(this.#prefix + name) ?? null;
    } catch {
      return null;
    }
  }

  #set(name: string, value: string | null): void {
    try {
      if (value === null) this.storage?.removeItem(this.#prefix + name);
      else this.storage?.setItem(this.#prefix + name, value);
    } catch {
      // full or forbidden: kept for this visit only
    }
  }
}

function safeLocalStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}
