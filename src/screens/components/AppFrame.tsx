/** The App's frame: the header, the top screen (the others of the stack stay mounted, hidden), the footer. */
import { Box } from 'ink';
import type { Prompt } from '../App.js';
import type { KeyHint } from '../context.js';
import { RouteIdContext, TopRouteContext } from '../context.js';
import { RouteView } from '../RouteView.js';
import { breadcrumbParts, type RouteEntry } from '../routes.js';
import { Footer, Header, HelpOverlay } from './Chrome.js';
import { Line } from './Line.js';

export function AppFrame({
  stack,
  help,
  prompt,
  status,
  hints,
  sandbox,
  columns,
  rows,
  bodyRows,
}: {
  stack: RouteEntry[];
  help: boolean;
  prompt: Prompt;
  status: string | undefined;
  hints: Record<number, KeyHint[]>;
  sandbox: boolean;
  columns: number;
  rows: number;
  bodyRows: number;
}) {
  const top = stack.at(-1) as RouteEntry;
  const crumbs = stack.flatMap((e) => breadcrumbParts(e.route));
  const topHints = hints[top.id] ?? [];
  return (
    <TopRouteContext.Provider value={top.id}>
      <Box flexDirection="column" width={columns} height={rows - 1}>
        <Header sandbox={sandbox} crumbs={crumbs} />
        <Box flexDirection="column" height={bodyRows} overflow="hidden">
          {help ? <HelpOverlay hints={topHints} height={bodyRows} /> : null}
          {stack.map((e) => (
            <Box key={e.id} flexDirection="column" display={!help && e === top ? 'flex' : 'none'}>
              <RouteIdContext.Provider value={e.id}>
                <RouteView route={e.route} />
              </RouteIdContext.Provider>
            </Box>
          ))}
        </Box>
        {prompt === 'quitDuringRun' ? (
          <Line
            text="A run is going. Abort it safely (in-flight calls finish) and quit? y/n"
            tone="caution"
            bold
          />
        ) : status ? (
          <Line text={status} tone="caution" bold />
        ) : (
          <Footer hints={topHints} />
        )}
      </Box>
    </TopRouteContext.Provider>
  );
}
