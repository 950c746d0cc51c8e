import type { z } from 'zod';
import type { ConsumerSessionRequestSchema, ConsumerSessionSchema } from '@parley/protocol';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import type { Db } from '../../infra/db/database.ts';
import type { AccountService, TokenSigner } from '../accounts/index.ts';
import { randomToken, sha256 } from '../accounts/secrets.ts';
import type { BrandTokenVerifier } from './brand-token-verifier.ts';

type Session = z.infer<typeof ConsumerSessionSchema>;

const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Consumer identities. An unauthenticated consumer is a device: the widget key gets it a device token that the
 * device keeps and presents again. An authenticated consumer is the brand's (iss, sub) pair, the same on every device.
 */
export class ConsumerService {
  constructor(
    private readonly db: Db,
    private readonly accounts: AccountService,
    private readonly signer: TokenSigner,
    private readonly brandTokens: BrandTokenVerifier,
    private readonly settings: { consumerTokenTtlSeconds: number },
    private readonly clock: Clock,
  ) {}

  async createSession(input: z.infer<typeof ConsumerSessionRequestSchema>): Promise<Session> {
    const account = await this.accounts.findByWidgetKey(input.widgetKey);
    if (!account) throw new AppError('INVALID_WIDGET_KEY', 'Unknown widget key');
    const now = this.clock.now();

    if (input.brandToken) {
      if (!account.consumerAuth) throw new AppError('CONSUMER_AUTH_NOT_CONFIGURED', 'This account does not accept authenticated consumers yet');
      const identity = await this.brandTokens.verify(input.brandToken, account.consumerAuth);
      const phone = typeof identity.claims.phone_number === 'string' && E164.test(identity.claims.phone_number) ? identity.claims.phone_number : null;
      const row = await this.db
        .insertInto('consumers')
        .values({ account_id: account.id, external_issuer: identity.issuer, external_subject: identity.subject, phone_number: phone })
        .onConflict((oc) => oc.constraint('consumers_external_identity').doUpdateSet({ last_seen_at: now, ...(phone ? { phone_number: phone } : {}) }))
        .returning('id')
        .executeTakeFirstOrThrow();
      return this.session(row.id, account.id, true, null);
    }

    if (input.deviceToken) {
      const device = await this.db
        .updateTable('consumer_devices')
        .set({ last_seen_at: now })
        .where('token_hash', '=', sha256(input.deviceToken))
        .where('account_id', '=', account.id)
        .returning('consumer_id')
        .executeTakeFirst();
      if (device) return this.session(device.consumer_id, account.id, false, input.deviceToken);
      // An unknown device token (cleared database, another account) gets a fresh identity rather than an error:
      // the widget must always be able to talk.
    }

    const deviceToken = randomToken('pdt');
    const consumerId = await this.db.transaction().execute(async (trx) => {
      const consumer = await trx.insertInto('consumers').values({ account_id: account.id, external_issuer: null, external_subject: null }).returning('id').executeTakeFirstOrThrow();
      await trx
        .insertInto('consumer_devices')
        .values({ consumer_id: consumer.id, account_id: account.id, token_hash: sha256(deviceToken) })
        .execute();
      return consumer.id;
    });
    return this.session(consumerId, account.id, false, deviceToken);
  }

  private async session(consumerId: string, accountId: string, authenticated: boolean, deviceToken: string | null): Promise<Session> {
    const access = await this.signer.sign({ typ: 'consumer', sub: consumerId, acc: accountId }, this.settings.consumerTokenTtlSeconds);
    return { consumerId, accountId, authenticated, accessToken: access.token, accessTokenExpiresAt: access.expiresAt.toISOString(), deviceToken };
  }

  /**
   * The consumer behind a channel address with no known contact yet: for a phone number (SMS, WhatsApp), the
   * authenticated consumer whose brand token vouched for it (so web and SMS are one person); else a new consumer.
   */
  async forChannelAddress(accountId: string, address: { phoneNumber: string | null }): Promise<string> {
    if (address.phoneNumber) {
      const known = await this.db
        .selectFrom('consumers')
        .select('id')
        .where('account_id', '=', accountId)
        .where('phone_number', '=', address.phoneNumber)
        .orderBy('last_seen_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (known) return known.id;
    }
    const created = await this.db
      .insertInto('consumers')
      .values({ account_id: accountId, external_issuer: null, external_subject: null, phone_number: address.phoneNumber })
      .returning('id')
      .executeTakeFirstOrThrow();
    return created.id;
  }
}
