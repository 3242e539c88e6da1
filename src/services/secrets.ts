/**
 * What is known to be a secret, and the one scrubber of free text. Secrets are recognised by what they
 * are, not by words around them: the keys of this process's credentials (registered when a connection
 * string is parsed), SAS tokens and their signatures (`sig=`), bearer tokens, key fields of JSON, and a
 * key inside a connection string (after `;`, which no device or registration ID can contain). A device ID
 * such as `meter-SharedAccessKey=1` is an ID, not a secret.
 */

const known = new Set<string>();

/** Remembers a secret value of this process (a policy key): it is redacted wherever it shows up. */
export function registerSecret(value: string | undefined): void {
  const v = value?.trim();
  // A very short value would redact ordinary text; real keys are 32+ characters.
  if (v && v.length >= 8) {
    known.add(v);
    // Keys travel URL-encoded too (in SAS tokens, in query strings).
    known.add(encodeURIComponent(v));
  }
}

/** Key-like value: base64 or URL-encoded base64. */
const KEY_VALUE = '(?:[A-Za-z0-9+/_-]|%[0-9A-Fa-f]{2})+={0,2}';

const PATTERNS: [RegExp, string][] = [
  // A SAS token: "SharedAccessSignature sr=...&sig=...&se=...&skn=..."
  [/SharedAccessSignature\s+sr=[^\s"',;]*/gi, 'SharedAccessSignature [redacted]'],
  // A signature anywhere (query strings, tokens cut in pieces).
  [new RegExp(String.raw`(^|[&?;\s])(sig)=${KEY_VALUE}`, 'gi'), '$1$2=[redacted]'],
  // Connection-string parts that carry a key or a token.
  [
    new RegExp(
      String.raw`(^|;)\s*(SharedAccessKey|AccountKey|SharedAccessSignature)=(?:SharedAccessSignature\s+[^;\s"']*|${KEY_VALUE})`,
      'gi',
    ),
    '$1$2=[redacted]',
  ],
  [/\bBearer\s+[\w\-.~+/]+=*/g, 'Bearer [redacted]'],
  [/("(?:primaryKey|secondaryKey|key|connectionString)"\s*:\s*)"[^"]*"/gi, '$1"[redacted]"'],
];

/** Free text (service messages, errors) without credentials; the text around them is kept. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const secret of known) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

const SECRET_TEXT = [
  /SharedAccessSignature\s+sr=/i,
  /&sig=/i,
  new RegExp(String.raw`(^|;)\s*(SharedAccessKey|AccountKey|SharedAccessSignature)=${KEY_VALUE}`, 'i'),
];

/** True when the text holds a known secret: a registered key, a SAS token, or a connection string's key. */
export function containsSecret(text: string): boolean {
  for (const secret of known) if (text.includes(secret)) return true;
  return SECRET_TEXT.some((p) => p.test(text));
}
