/** Plan warnings as wrapped lines: a severity marker and word first, then the recommended choice. */
import type { PlanWarning } from '../../core/plan-types.js';
import { plural, sanitize, wrapText } from '../../core/text.js';
import { severityLabel } from '../words.js';
import type { ListRow } from './WindowedList.js';

export type WarningLike = Pick<PlanWarning, 'severity' | 'message'> &
  Partial<Pick<PlanWarning, 'recommendation' | 'registrationIds' | 'path'>>;

export function warningLines(warnings: readonly WarningLike[], width: number): ListRow[] {
  const out: ListRow[] = [];
  for (const w of warnings) {
    const { marker, tone } = severityLabel(w);
    const devices = w.registrationIds?.length ? ` (${plural(w.registrationIds.length, 'device')})` : '';
    const via = w.path ? ` Through: ${sanitize(w.path)}.` : '';
    const text = `${marker}: ${sanitize(w.message)}${devices}${via}`;
    wrapText(text, width - 2).forEach((line, i) => {
      out.push({ text: i === 0 ? line : `  ${line}`, tone, bold: w.severity === 'danger' && i === 0 });
    });
    if (w.recommendation) {
      for (const line of wrapText(`Recommended: ${sanitize(w.recommendation)}`, width - 4)) {
        out.push({ text: `    ${line}`, tone: 'plain' });
      }
    }
  }
  return out;
}
