import { useEffect, useState } from 'react';
import { useWorkspace, useWorkspaceState } from '../../app/context.ts';
import { navigate } from '../../app/router.ts';
import { describeError } from '../../app/workspace.ts';
import { channelLabel, consumerLabel } from '../../lib/format.ts';
import { Icon } from '../../ui/Icon.tsx';

/** Conversations ringing for the agent (skills in ring mode), with a countdown to the offer's expiry. */
export function OfferNotices() {
  const workspace = useWorkspace();
  const { offers } = useWorkspaceState();
  const [now, setNow] = useState(Date.now());
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (offers.length === 0) return;
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [offers.length]);

  useEffect(() => {
    for (const offer of offers) if (Date.parse(offer.expiresAt) < now - 1_000) workspace.dismissOffer(offer.conversation.id);
  }, [now, offers, workspace]);

  if (offers.length === 0) return null;
  return (
    <section className="offers" aria-label="Incoming conversations">
      {offers.map((offer) => {
        const left = Math.max(0, Math.ceil((Date.parse(offer.expiresAt) - now) / 1000));
        const total = Math.max(1, (Date.parse(offer.expiresAt) - Date.parse(offer.conversation.routing?.queuedAt ?? offer.conversation.updatedAt)) / 1000);
        const id = offer.conversation.id;
        return (
          <div key={id} className="offer" role="alertdialog" aria-labelledby={`offer-${id}`}>
            <div className="offer-head">
              <span className="offer-icon">
                <Icon name="zap" />
              </span>
              <div>
                <p className="offer-title" id={`offer-${id}`}>
                  Incoming conversation
                </p>
                <p className="muted">
                  {consumerLabel(offer.conversation.consumerId)} · {channelLabel(offer.conversation.channel)}
                </p>
              </div>
              <span className="offer-count">
                {left}s<span className="sr-only"> left</span>
              </span>
            </div>
            <div className="offer-bar" aria-hidden="true">
              <span style={{ width: `${Math.min(100, (left / total) * 100)}%` }} />
            </div>
            {error && <p className="field-error">{error}</p>}
            <div className="row-end">
              <button type="button" className="btn" onClick={() => workspace.decline(id).catch((err: unknown) => setError(describeError(err)))}>
                Decline
              </button>
              <button
                type="button"
                className="btn btn-primary"
                onClick={() =>
                  workspace.accept(id).then(
                    () => navigate(`/conversations/${id}`),
                    (err: unknown) => setError(describeError(err)),
                  )
                }
              >
                Accept
              </button>
            </div>
          </div>
        );
      })}
    </section>
  );
}
