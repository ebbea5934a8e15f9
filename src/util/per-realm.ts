/**
 * Something a scheme makes once per realm and keeps: the challenges of a plain refusal (Basic,
 * Bearer), Digest's challenge templates and its nonce MAC's message buffers.
 */
import { detach } from './detach';

/** Realms kept per table. Realms are few; the bound is for a realm made from each request's Host. */
const MAX_KEPT_REALMS = 64;

export class PerRealm<T> {
  private readonly values = new Map<string, T>();

  constructor(private readonly make: (realm: string) => T) {}

  /** What `make` gave for `realm`, made on first use. */
  get(realm: string): T {
    let value = this.values.get(realm);
    if (value === undefined) {
      // A copy: the realm may be a view of a longer text (a Host header), which a kept key or a
      // kept challenge would hold whole.
      const kept = detach(realm);
      value = this.make(kept);
      // Emptied rather than evicted one by one: reaching the bound means realms come from the
      // requests, and a table they fill is no use to keep.
      if (this.values.size >= MAX_KEPT_REALMS) this.values.clear();
      this.values.set(kept, value);
    }
    return value;
  }
}
