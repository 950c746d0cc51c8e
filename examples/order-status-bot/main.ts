/**
 * Runs Orderbot (./bot.ts) with its configuration from the environment:
 *
 *   PARLEY_URL=http://127.0.0.1:8080 BOT_SECRET=... BOT_SIGNING_SECRET=... BILLING_SKILL_ID=... PORT=3000 npm run example:bot
 *
 * `npx tsx examples/order-status-bot/setup.ts` creates the bot in Parley and prints these values.
 */
import { createOrderStatusBot } from './bot.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`Set ${name}. examples/order-status-bot/README.md says how to get it (setup.ts prints every value).`);
    process.exit(1);
  }
  return value;
}

const bot = createOrderStatusBot({
  parleyUrl: process.env.PARLEY_URL ?? 'http://127.0.0.1:8080',
  botSecret: required('BOT_SECRET'),
  signingSecret: required('BOT_SIGNING_SECRET'),
  billingSkillId: required('BILLING_SKILL_ID'),
});
const url = await bot.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
console.log(`Orderbot listens at ${url} (the bot's webhookUrl in Parley)`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log('Orderbot stops');
    void bot.close().then(() => process.exit(0));
  });
}
