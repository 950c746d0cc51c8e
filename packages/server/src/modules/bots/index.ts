export { BOT_DIRECTORY_TTL_MS, BotDirectory } from './bot-directory.ts';
export { BOT_DELIVERY_ATTEMPTS, BotRuntime, type BotRuntimeHooks } from './bot-runtime.ts';
export { BotService } from './bot.service.ts';
export { flowTurn } from './flow/flow-engine.ts';
