// Message payloads: plain text cut from one corpus generated once per process, so building a
// message costs a substring, and permessage-deflate sees text that compresses like chat text
// (a payload of one repeated letter would make compression look free). Characters are ASCII
// letters, spaces and punctuation that need no escaping inside a JSON string.

const WORDS = (
  'the a to and of in is it you that for on was with he as I his they be at one have this from ' +
  'or had by hot word but what some we can out other were all there when up use your how said an ' +
  'each she which do their time if will way about many then them write would like so these her ' +
  'long make thing see him two has look more day could go come did number sound no most people my ' +
  'over know water than call first who may down side been now find any new work part take get ' +
  'place made live where after back little only round man year came show every good me give our ' +
  'under name very through just form sentence great think say help low line differ turn cause much ' +
  'mean before move right boy old too same tell does set three want air well also play small end ' +
  'put home read hand port large spell add even land here must big high such follow act why ask'
).split(' ');

const MIN_CORPUS = 1 << 20;

/** A deterministic pseudo-random text of at least `chars` characters (mulberry32). */
export function corpus(chars: number, seed = 0x5eed): string {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const parts: string[] = [];
  let n = 0;
  let sentence = 0;
  while (n < chars) {
    let w = WORDS[Math.floor(next() * WORDS.length)];
    if (sentence === 0) w = w[0].toUpperCase() + w.slice(1);
    sentence++;
    const end = sentence > 4 && next() < 0.12;
    if (end) {
      w += next() < 0.8 ? '.' : next() < 0.5 ? '?' : '!';
      sentence = 0;
    } else if (next() < 0.06) {
      w += ',';
    }
    parts.push(w);
    n += w.length + 1;
  }
  return parts.join(' ');
}

/** Payloads of exactly `size` characters, a different slice of the corpus for each message. */
export class Payloads {
  private readonly text: string;
  private readonly span: number;

  constructor(readonly size: number) {
    this.text = size > 0 ? corpus(Math.max(MIN_CORPUS, size * 4)) : '';
    this.span = Math.max(1, this.text.length - size);
  }

  /** The payload of message `seq`. */
  get(seq: number): string {
    if (this.size === 0) return '';
    // A large odd stride walks the corpus without repeating neighbouring slices.
    const at = (seq * 104_729) % this.span;
    return this.text.slice(at, at + this.size);
  }
}
