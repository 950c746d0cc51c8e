/** Secrets shown once: the editor hands those of a new bot to the list, which shows them on its way back. */
export interface ShownSecrets {
  name: string;
  secret: string;
  signingSecret: string;
}

let pending: ShownSecrets | null = null;

export function showSecretsOnList(secrets: ShownSecrets): void {
  pending = secrets;
}

/** The secrets handed over, once. */
export function takeShownSecrets(): ShownSecrets | null {
  const value = pending;
  pending = null;
  return value;
}
