import { describeEventBus } from './event-bus.contract.ts';
import { createInProcessBus } from './in-process-bus.ts';

describeEventBus('in-process bus', async () => createInProcessBus(() => {}));
