/** Test support: an admitted credential whose verdicts a test controls. */
import type { AdmittedCredential, CredentialEnd } from './guard.js';

type Verdict = 'valid' | CredentialEnd;

/** A credential whose verdicts the test sets; `check()` waits until `answer()`. */
export class FakeCredential implements AdmittedCredential {
  known: Verdict | undefined = 'valid';
  checks = 0;
  private readonly watchers = new Set<(why: CredentialEnd) => void>();
  private pending: { resolve: (v: Verdict) => void; reject: (e: unknown) => void }[] = [];

  current(): Verdict | undefined {
    return this.known;
  }
  check(): Promise<Verdict> {
    this.checks++;
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }
  watch(onEnd: (why: CredentialEnd) => void): () => void {
    this.watchers.add(onEnd);
    return () => this.watchers.delete(onEnd);
  }
  get watching(): number {
    return this.watchers.size;
  }
  /** Answers every pending check. */
  answer(v: Verdict | Error): void {
    for (const p of this.pending.splice(0)) {
      if (v instanceof Error) p.reject(v);
      else p.resolve(v);
    }
  }
  /** The guard learnt that the credential ended (expiry timer, revocation). */
  end(why: CredentialEnd): void {
    this.known = why;
    for (const w of [...this.watchers]) w(why);
  }
}
