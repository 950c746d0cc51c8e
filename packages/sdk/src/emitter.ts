/** Listener signatures by event name. */
export type ListenerMap<M> = { [K in keyof M]: (...args: never[]) => void };

/** A minimal typed event emitter. A listener that throws does not stop the others; `onListenerError` hears it. */
export class Emitter<M extends ListenerMap<M>> {
  readonly #listeners = new Map<keyof M, Set<M[keyof M]>>();
  readonly #onListenerError: (error: unknown, type: keyof M) => void;

  constructor(onListenerError: (error: unknown, type: keyof M) => void) {
    this.#onListenerError = onListenerError;
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof M>(type: K, listener: M[K]): () => void {
    let set = this.#listeners.get(type);
    if (!set) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    set.add(listener);
    return () => this.off(type, listener);
  }

  /** Removes a listener. */
  off<K extends keyof M>(type: K, listener: M[K]): void {
    this.#listeners.get(type)?.delete(listener);
  }

  /** Number of listeners for `type`. */
  count(type: keyof M): number {
    return this.#listeners.get(type)?.size ?? 0;
  }

  /** Calls every listener of `type` with `args`. */
  emit<K extends keyof M>(type: K, ...args: Parameters<M[K]>): void {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) {
      try {
        Reflect.apply(listener, undefined, args);
      } catch (error) {
        this.#onListenerError(error, type);
      }
    }
  }
}
