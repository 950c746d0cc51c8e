/**
 * Creates what Orderbot needs in a Parley account: an "Orders" skill the bot serves, a "Billing" skill for people, and
 * the webhook bot itself; prints the bot's secrets (Parley shows them only this once).
 *
 *   PARLEY_URL=http://127.0.0.1:8080 PARLEY_ADMIN_TOKEN=... BOT_WEBHOOK_URL=http://127.0.0.1:3000/parley \
 *     npx tsx examples/order-status-bot/setup.ts
 *
 * PARLEY_ADMIN_TOKEN is an admin's access token (`POST /v1/auth/login`) or an API key (`pak_...`) with the scopes
 * `account:read`, `account:write` and `bots:write`.
 */
import { pathToFileURL } from 'node:url';
import { createRestClient, type RestClient } from '@parley/sdk';

export interface OrderStatusBotSetup {
  ordersSkillId: string;
  billingSkillId: string;
  botId: string;
  /** The bot's credential for Parley's API. */
  secret: string;
  /** Verifies the `parley-signature` of deliveries. */
  signingSecret: string;
}

/** Finds or creates the two skills, then creates the bot (a new bot, with new secrets, on every call). */
export async function setupOrderStatusBot(admin: RestClient, options: { webhookUrl: string; name?: string }): Promise<OrderStatusBotSetup> {
  const skills = (await admin.call('listSkills')).items;
  const skill = async (name: string) => skills.find((s) => s.name === name)?.id ?? (await admin.call('createSkill', { body: { name } })).id;
  const ordersSkillId = await skill('Orders');
  const billingSkillId = await skill('Billing');
  const created = await admin.call('createBot', {
    body: {
      name: options.name ?? 'Orderbot',
      delivery: 'webhook',
      webhookUrl: options.webhookUrl,
      // Conversations of the Orders skill go to the bot before any person.
      skillIds: [ordersSkillId],
      // Where Parley sends the conversation when it escalates by itself (the consumer asks for a person, the bot is
      // too slow or down): null is the conversation's own skill, Orders, whose people take over.
      escalationSkillId: null,
      responseTimeoutSeconds: 15,
    },
  });
  return { ordersSkillId, billingSkillId, botId: created.bot.id, secret: created.secret, signingSecret: created.signingSecret };
}

async function main(): Promise<void> {
  const parleyUrl = process.env.PARLEY_URL ?? 'http://127.0.0.1:8080';
  const token = process.env.PARLEY_ADMIN_TOKEN;
  const webhookUrl = process.env.BOT_WEBHOOK_URL ?? 'http://127.0.0.1:3000/parley';
  if (!token) throw new Error('Set PARLEY_ADMIN_TOKEN to an admin access token or an API key (see the top of this file).');
  const admin = createRestClient({ baseUrl: parleyUrl, getAccessToken: () => token });
  const setup = await setupOrderStatusBot(admin, { webhookUrl });
  const port = new URL(webhookUrl).port || '80';
  console.log(`Created Orderbot (${setup.botId}): it serves the skill Orders (${setup.ordersSkillId}) and hands billing to Billing (${setup.billingSkillId}).`);
  console.log('Its secrets are shown only now. Start it with:\n');
  console.log(`  PARLEY_URL=${parleyUrl} BOT_SECRET=${setup.secret} BOT_SIGNING_SECRET=${setup.signingSecret} BILLING_SKILL_ID=${setup.billingSkillId} PORT=${port} npm run example:bot\n`);
  console.log("Conversations reach it in the Orders skill. The widget's conversations name no skill: make Orders the account's default one:");
  console.log(`  curl -X PATCH -H "authorization: Bearer $PARLEY_ADMIN_TOKEN" -H 'content-type: application/json' -d '{"defaultSkillId":"${setup.ordersSkillId}"}' ${parleyUrl}/v1/routing/settings`);
  console.log('and give a person the Billing skill (console: Skills & capacity) to receive the escalations.');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
