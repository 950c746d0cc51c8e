/**
 * Parley with simulated SMS, Messenger and WhatsApp, for a person to try by hand:
 *
 *   npm run demo:channels                         # a fresh embedded database in a temp folder, removed on exit
 *   npm run demo:channels -- --data-dir ./demo    # kept between runs (the demo's admin login is kept in it)
 *   npm run demo:channels -- --port 8080          # Parley's port (default 8080; 0: any free port)
 *
 * It starts Parley (embedded mode, in this process) and the Twilio, Messenger and WhatsApp simulators on 127.0.0.1,
 * signs in as the first admin, creates the skill "Messaging" and makes the admin an agent of it, creates one channel
 * per simulator (its API base URL is the simulator), points each simulator's webhooks at Parley, passes Meta's
 * verification challenge, and prints where to text the brand from. Ctrl-C stops everything.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ChannelConfig, EndpointBody } from '@parley/protocol';
import { createRestClient, type RestClient } from '@parley/sdk';
import { ensureConsoleBuilt } from '../packages/console/scripts/ensure-built.ts';
import { loadConfig } from '../packages/server/src/config/config.ts';
import { startMessengerSimulator } from '../packages/server/src/connectors/messenger/simulator.ts';
import { startTwilioSimulator } from '../packages/server/src/connectors/twilio/simulator.ts';
import { startWhatsAppSimulator } from '../packages/server/src/connectors/whatsapp/simulator.ts';
import { createServer } from '../packages/server/src/server.ts';
import { buildWidget } from '../packages/widget/scripts/build.ts';

const USAGE = 'usage: npm run demo:channels -- [--port 8080] [--data-dir DIR] [--admin-email EMAIL --admin-password PASSWORD]';

/** What the simulators and the channels share: the brand's numbers, Page and credentials at the "providers". */
const TWILIO = { accountSid: `AC${'d'.repeat(32)}`, authToken: 'demo-twilio-auth-token', number: '+15550001234' };
const MESSENGER = { pageId: '100200300400500', appSecret: 'demo-messenger-app-secret', pageAccessToken: 'demo-messenger-page-access-token', verifyToken: 'demo-messenger-verify-token' };
const WHATSAPP = {
  phoneNumberId: '109876543210',
  displayPhoneNumber: '+15550005678',
  appSecret: 'demo-whatsapp-app-secret',
  accessToken: 'demo-whatsapp-access-token',
  verifyToken: 'demo-whatsapp-verify-token',
};
const SKILL_NAME = 'Messaging';
const LOGIN_FILE = 'demo-channels-login.json';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string' }, 'data-dir': { type: 'string' }, 'admin-email': { type: 'string' }, 'admin-password': { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = values.port ?? '8080';
  if (!/^\d+$/.test(port) || Number(port) > 65535) fail(`--port must be a port number, not "${port}"`);
  const temporary = values['data-dir'] === undefined;
  const dataDir = temporary ? fs.mkdtempSync(path.join(os.tmpdir(), 'parley-demo-channels-')) : path.resolve(values['data-dir'] as string);
  fs.mkdirSync(dataDir, { recursive: true });

  // What `npm start` builds first: the widget and the console (the console only when its sources changed).
  await buildWidget();
  ensureConsoleBuilt((line) => process.stdout.write(`${line}\n`));

  // The admin: given, or kept by an earlier run in this data dir, or created on this (first) start.
  const loginFile = path.join(dataDir, LOGIN_FILE);
  const kept = fs.existsSync(loginFile) ? (JSON.parse(fs.readFileSync(loginFile, 'utf8')) as { email: string; password: string }) : undefined;
  const newPassword = `demo-${randomBytes(9).toString('base64url')}`;
  const config = loadConfig({
    ...process.env,
    DATA_DIR: dataDir,
    PORT: port,
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    BOOTSTRAP_ADMIN_PASSWORD: newPassword,
  });
  const server = await createServer(config);
  const stoppers: (() => Promise<void>)[] = [() => server.close()];
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      process.stdout.write('\nstopping…\n');
      for (const close of stoppers.reverse()) await close().catch((error: unknown) => process.stderr.write(`${String(error)}\n`));
      if (temporary) fs.rmSync(dataDir, { recursive: true, force: true });
      process.stdout.write('stopped.\n');
    })();
    return stopping;
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));

  try {
    const parleyUrl = await server.listen();
    let login: { email: string; password: string };
    if (values['admin-email'] && values['admin-password']) login = { email: values['admin-email'], password: values['admin-password'] };
    else if (server.bootstrap) login = { email: server.bootstrap.adminEmail, password: newPassword };
    else if (kept) login = kept;
    else throw new Error(`${dataDir} already has an account that this demo did not create: pass --admin-email and --admin-password of one of its admins`);
    if (!temporary && server.bootstrap) fs.writeFileSync(loginFile, JSON.stringify(login), { mode: 0o600 });

    const twilio = await startTwilioSimulator({ accountSid: TWILIO.accountSid, authToken: TWILIO.authToken });
    stoppers.push(() => twilio.close());
    const messenger = await startMessengerSimulator({ pageId: MESSENGER.pageId, appSecret: MESSENGER.appSecret, pageAccessToken: MESSENGER.pageAccessToken });
    stoppers.push(() => messenger.close());
    const whatsapp = await startWhatsAppSimulator({
      phoneNumberId: WHATSAPP.phoneNumberId,
      displayPhoneNumber: WHATSAPP.displayPhoneNumber,
      appSecret: WHATSAPP.appSecret,
      accessToken: WHATSAPP.accessToken,
      statusDelayMs: 400,
    });
    stoppers.push(() => whatsapp.close());

    // Everything below goes through Parley's public API, as an admin in the console would.
    const session = await createRestClient({ baseUrl: parleyUrl }).login({ email: login.email, password: login.password });
    const rest = createRestClient({ baseUrl: parleyUrl, getAccessToken: () => session.accessToken });
    const me = await rest.call('me');
    if (me.kind !== 'user') throw new Error('expected to be signed in as a user');

    const skills = await rest.call('listSkills');
    const skill = skills.items.find((s) => s.name === SKILL_NAME) ?? (await rest.call('createSkill', { body: { name: SKILL_NAME } }));
    await rest.call('updateAgentRouting', { params: { userId: me.user.id }, body: { skillIds: [skill.id], maxConversations: 10 } });
    await rest.call('setMyState', { body: { state: 'online' } });

    const sms = await upsertChannel(rest, {
      name: 'Demo SMS',
      defaultSkillId: skill.id,
      apiBaseUrl: twilio.url,
      greeting: 'Thanks for calling the demo brand! Reply here and we will help you by text.',
      settings: { kind: 'sms', phoneNumber: TWILIO.number, accountSid: TWILIO.accountSid },
      credentials: { kind: 'sms', authToken: TWILIO.authToken },
    });
    const page = await upsertChannel(rest, {
      name: 'Demo Messenger',
      defaultSkillId: skill.id,
      apiBaseUrl: messenger.url,
      settings: { kind: 'messenger', pageId: MESSENGER.pageId },
      credentials: { kind: 'messenger', appSecret: MESSENGER.appSecret, pageAccessToken: MESSENGER.pageAccessToken, verifyToken: MESSENGER.verifyToken },
    });
    const wa = await upsertChannel(rest, {
      name: 'Demo WhatsApp',
      defaultSkillId: skill.id,
      apiBaseUrl: whatsapp.url,
      settings: { kind: 'whatsapp', phoneNumberId: WHATSAPP.phoneNumberId, displayPhoneNumber: WHATSAPP.displayPhoneNumber },
      credentials: { kind: 'whatsapp', appSecret: WHATSAPP.appSecret, accessToken: WHATSAPP.accessToken, verifyToken: WHATSAPP.verifyToken },
    });

    // The providers' side: where each sends its webhooks (what an admin types in Twilio's and Meta's consoles).
    const webhookOf = (channel: ChannelConfig) => `${parleyUrl}${channel.inboundWebhookPath}`;
    twilio.setSmsUrl(TWILIO.number, webhookOf(sms));
    const messengerVerified = await messenger.verify(webhookOf(page), MESSENGER.verifyToken);
    messenger.setWebhookUrl(webhookOf(page));
    const whatsappVerified = (await whatsapp.verify(webhookOf(wa), WHATSAPP.verifyToken)).ok;
    whatsapp.setWebhookUrl(webhookOf(wa));

    const lines = [
      '',
      'Parley and the channel simulators are running. Ctrl-C stops them.',
      '',
      `  Parley:        ${parleyUrl}   (data in ${dataDir}${temporary ? ', removed on exit' : ''})`,
      `  admin login:   ${login.email}`,
      `  password:      ${login.password}`,
      `  Meta's webhook verification: Messenger ${messengerVerified ? 'passed' : 'FAILED'}, WhatsApp ${whatsappVerified ? 'passed' : 'FAILED'}`,
      '',
      `1. Open the workspace at ${parleyUrl}/console/ and sign in as ${login.email} (you are an agent of the skill`,
      `   "${SKILL_NAME}"; check the top bar says Online). Settings > Channels lists the three channels.`,
      '2. Then write to the brand, and answer from the workspace:',
      `   - SMS:       the phone at ${twilio.url}/  (texts ${TWILIO.number})`,
      `   - Messenger: the chat at ${messenger.url}/  (Page ${MESSENGER.pageId})`,
      `   - WhatsApp:  the chat at ${whatsapp.url}/  (${WHATSAPP.displayPhoneNumber})`,
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The demo channel of this name: created, or (a kept data dir) pointed at this run's simulator. */
async function upsertChannel(rest: RestClient, body: NonNullable<EndpointBody<'createChannel'>> & { name: string }): Promise<ChannelConfig> {
  const existing = (await rest.call('listChannels')).items.find((c) => c.name === body.name && c.kind === body.settings.kind);
  if (!existing) return (await rest.call('createChannel', { body })).channel;
  const { name: _name, ...change } = body;
  return rest.call('updateChannel', { params: { channelId: existing.id }, body: { ...change, enabled: true } });
}

main().catch((error: unknown) => {
  process.stderr.write(`The channels demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
