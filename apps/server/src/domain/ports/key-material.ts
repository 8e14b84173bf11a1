// Access key material as the domain needs it: new key ids and secrets, and
// what the database keeps of a secret (a one-way hash). auth/keys.ts
// implements it; the shape of a key id is the domain's rule.
export const KEY_ID = /^AK[A-Z2-7]{16}$/;

export interface KeyMaterial {
  /** A new key id matching KEY_ID. */
  newKeyId(): string;
  /** A new secret, shown to the caller once. */
  newSecret(): string;
  /** What is stored of a secret; only verifying can tell it again. */
  hashSecret(secret: string): Promise<string>;
}
