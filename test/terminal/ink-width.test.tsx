import { Box, type DOMElement, Text, measureElement } from 'ink';
import { render } from 'ink-testing-library';
import { useEffect, useRef } from 'react';
import { describe, expect, it } from 'vitest';
import {
  fitWidth,
  formatRow,
  layoutColumns,
  textWidth,
  truncate,
  wrapText,
} from '../../src/terminal/text.js';

/**
 * The app sizes its rows with terminal/text.ts; Ink lays them out with its own measure. Where the two
 * disagree, a row with a CJK or emoji ID is one cell too wide or too narrow and the columns misalign.
 * Ink's measure is read back here through its public API: each sample in its own shrink-free box.
 */
function Measure({ samples, onMeasure }: { samples: readonly string[]; onMeasure: (w: number[]) => void }) {
  const refs = useRef<(DOMElement | null)[]>([]);
  const rows = samples.map((text, n) => ({ id: n, text }));
  useEffect(() => {
    onMeasure(refs.current.map((el) => (el ? measureElement(el).width : -1)));
  }, [onMeasure]);
  return (
    <Box flexDirection="column" width={1000}>
      {rows.map((row) => (
        <Box
          key={row.id}
          flexShrink={0}
          alignSelf="flex-start"
          ref={(el) => {
            refs.current[row.id] = el;
          }}
        >
          <Text wrap="truncate">{row.text}</Text>
        </Box>
      ))}
    </Box>
  );
}

function inkWidths(samples: readonly string[]): Promise<number[]> {
  return new Promise((resolve) => {
    const app = render(<Measure samples={samples} onMeasure={resolve} />);
    setTimeout(() => app.unmount(), 0);
  });
}

const range = (from: number, to: number, step = 1): string[] => {
  const out: string[] = [];
  for (let cp = from; cp <= to; cp += step) out.push(String.fromCodePoint(cp));
  return out;
};

// Where the project's own table got it wrong: CJK punctuation and symbols, Hangul Jamo, fullwidth forms,
// emoji across every block (including those outside the old 1F300-1F64F / 1F900-1F9FF ranges), emoji
// sequences, and combining marks that take no cell.
const SAMPLES = [
  ...range(0x1100, 0x115f, 7),
  ...range(0x231a, 0x23ff, 3),
  ...range(0x2600, 0x27bf, 5),
  ...range(0x2e80, 0x303e, 11),
  ...range(0x3040, 0x30ff, 9),
  ...range(0x4e00, 0x9fff, 997),
  ...range(0xac00, 0xd7a3, 613),
  ...range(0xff01, 0xff60, 7),
  ...range(0x1f000, 0x1faff, 13),
  ...range(0x20000, 0x2a6df, 4999),
  'e\u0301',
  'a\u0308\u0323',
  '\u0915\u094d\u0937',
  '👍🏽',
  '🇯🇵',
  '👨‍👩‍👧',
  '❤️',
  '1️⃣',
  'sensor-日本-👍🏽-01',
  'ｆｕｌｌ－ｗｉｄｔｈ',
  'cafe\u0301-デバイス',
];

describe('terminal text measured as Ink measures it', () => {
  it('gives every CJK, emoji and combining-mark sample the width Ink lays it out at', async () => {
    const ink = await inkWidths(SAMPLES);
    const mismatches = SAMPLES.map((s, i) => ({ s, ours: textWidth(s), ink: ink[i] })).filter(
      (m) => m.ours !== m.ink,
    );
    expect(ink.every((w) => w >= 0)).toBe(true);
    expect(mismatches).toEqual([]);
  });

  it('fits wide IDs into exactly the cells Ink draws, so columns line up', async () => {
    const ids = [
      '设备-北京-0001',
      'sensor-🙂-😀-🚀-🛰️',
      '장치-서울-한국어-아이디',
      'cafe\u0301-デバイス-東京',
    ];
    const specs = [{ width: 3 }, { flex: 1 }, { width: 9 }];
    const widths = layoutColumns(specs, 30);
    const rows = ids.map((id) => formatRow(['[x]', id, 'enabled'], widths, specs));
    const cut = ids.flatMap((id) => [truncate(id, 7), fitWidth(id, 11), ...wrapText(`${id} ${id}`, 9)]);
    const ink = await inkWidths([...rows, ...cut]);
    expect(ink.slice(0, rows.length)).toEqual(rows.map(() => 30));
    cut.forEach((s, i) => {
      expect(ink[rows.length + i], s).toBe(textWidth(s));
    });
    for (const id of ids) {
      expect(textWidth(truncate(id, 7))).toBeLessThanOrEqual(7);
      expect(textWidth(fitWidth(id, 11))).toBe(11);
      for (const line of wrapText(`${id} ${id}`, 9)) expect(textWidth(line)).toBeLessThanOrEqual(9);
    }
  });
});
