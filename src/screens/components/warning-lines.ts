/** Plan warnings as wrapped lines: a severity marker and word first, then the recommended choice. */
import { adviceText } from '../../core/advice.js';
import type { PlanWarning } from '../../core/plan-types.js';
import { plural, sanitize } from '../../core/text.js';
import { wrapText } from '../../terminal/text.js';
import { screenChoice } from '../choices.js';
import { severityLabel } from '../words.js';
import type { ListRow } from './WindowedList.js';

export type WarningLike = Pick<PlanWarning, 'severity' | 'message'> &
  Partial<Pick<PlanWarning, 'recommendation' | 'advice' | 'registrationIds' | 'path'>>;

/** The planner's advice in the TUI's words: a choice is named as its control on screen, never a flag. */
export function screenAdvice(w: Pick<WarningLike, 'recommendation' | 'advice'>): string | undefined {
  return w.advice ? adviceText(w.advice, 'tui', screenChoice) : w.recommendation;
}

const RANK: Record<WarningLike['severity'], number> = { danger: 0, caution: 1, info: 2 };

/** Dangers first (then cautions, then notes), so the first lines on a small screen are the critical ones. */
export function warningLines(warnings: readonly WarningLike[], width: number): ListRow[] {
  const out: ListRow[] = [];
  const ordered = [...warnings].sort((a, b) => RANK[a.severity] - RANK[b.severity]);
  for (const w of ordered) {
    const { marker, tone } = severityLabel(w);
    const devices = w.registrationIds?.length ? ` (${plural(w.registrationIds.length, 'device')})` : '';
    const via = w.path ? ` Through: ${sanitize(w.path)}.` : '';
    const text = `${marker}: ${sanitize(w.message)}${devices}${via}`;
    wrapText(text, width - 2).forEach((line, i) => {
      out.push({ text: i === 0 ? line : `  ${line}`, tone, bold: w.severity === 'danger' && i === 0 });
    });
    const advice = screenAdvice(w);
    if (advice) {
      for (const line of wrapText(`Recommended: ${sanitize(advice)}`, width - 4)) {
        out.push({ text: `    ${line}`, tone: 'plain' });
      }
    }
  }
  return out;
}
