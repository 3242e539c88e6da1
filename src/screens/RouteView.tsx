/** Which screen shows a route. */
import { DevicesScreen } from './DevicesScreen.js';
import { EnrollmentsScreen } from './EnrollmentsScreen.js';
import { FindDevicesScreen } from './FindDevicesScreen.js';
import { PermanenceScreen } from './PermanenceScreen.js';
import { ReviewScreen } from './ReviewScreen.js';
import type { Route } from './routes.js';
import { RunScreen } from './RunScreen.js';
import { RunDetailScreen, RunsScreen } from './RunsScreen.js';
import { SummaryScreen } from './SummaryScreen.js';
import { TargetScreen } from './TargetScreen.js';

export function RouteView({ route }: { route: Route }) {
  switch (route.screen) {
    case 'target':
      return <TargetScreen />;
    case 'enrollments':
      return <EnrollmentsScreen />;
    case 'devices':
      return <DevicesScreen source={route.source} />;
    case 'permanence':
      return <PermanenceScreen info={route.info} />;
    case 'review':
      return (
        <ReviewScreen
          info={route.info}
          actions={route.actions}
          resume={route.resume}
          restoreOf={route.restoreOf}
        />
      );
    case 'runs':
      return <RunsScreen />;
    case 'findDevices':
      return <FindDevicesScreen />;
    case 'runDetail':
      return <RunDetailScreen listing={route.listing} />;
    case 'run':
      return <RunScreen plan={route.plan} handle={route.handle} />;
    case 'summary':
      return <SummaryScreen plan={route.plan} summary={route.summary} />;
  }
}
