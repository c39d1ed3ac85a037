import { useEffect, useState, type FormEvent } from 'react';
import type { Campaign, CampaignSharing } from '@consilium/protocol';
import { campaignSharing, shareCampaign, unshareCampaign } from './api';

type Grantable = 'author' | 'viewer';

/**
 * Who shares a campaign and as what. Everyone it is shared with sees the list; only the owner
 * grants author (launch, cancel) or viewer (results only) and revokes. The server enforces the
 * same rules on every route; this panel only offers what the caller may do.
 */
export function SharingPanel({ campaign, onError, onChanged }: { campaign: Campaign; onError: (e: unknown) => void; onChanged: () => void }) {
  const [sharing, setSharing] = useState<CampaignSharing | null>(null);
  const [pick, setPick] = useState('');
  const [role, setRole] = useState<Grantable>('viewer');
  const isOwner = campaign.myRole === 'owner';
  useEffect(() => {
    campaignSharing(campaign.id).then(setSharing, onError);
  }, [campaign.id]);
  const done = (s: CampaignSharing) => {
    setSharing(s);
    setPick('');
    onChanged();
  };
  const share = (e: FormEvent) => {
    e.preventDefault();
    if (pick) shareCampaign(campaign.id, pick, role).then(done, onError);
  };
  if (!sharing) return null;
  return (
    <section aria-label="Campaign sharing" className="sharing-panel">
      <h3>Sharing: {campaign.name}</h3>
      <p className="muted">Your role: {campaign.myRole}. Authors launch and cancel; viewers see results only; the owner shares.</p>
      <ul>
        {sharing.members.map((m) => (
          <li key={m.accountId}>
            {m.displayName} ({m.email}): <strong>{m.role}</strong>
            {isOwner && m.role !== 'owner' && (
              <>
                {' '}
                <button
                  type="button"
                  className="button button-small button-secondary"
                  onClick={() => void shareCampaign(campaign.id, m.accountId, m.role === 'author' ? 'viewer' : 'author').then(done, onError)}
                >
                  Make {m.role === 'author' ? 'viewer' : 'author'}
                </button>{' '}
                <button type="button" className="button button-small button-secondary" onClick={() => void unshareCampaign(campaign.id, m.accountId).then(done, onError)}>
                  Revoke {m.displayName}
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
      {isOwner &&
        (sharing.candidates.length ? (
          <form onSubmit={share} className="settings-form">
            <label className="field">
              Share with
              <select value={pick} onChange={(e) => setPick(e.target.value)}>
                <option value="">Choose a colleague</option>
                {sharing.candidates.map((c) => (
                  <option key={c.accountId} value={c.accountId}>
                    {c.displayName} ({c.email})
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              as
              <select value={role} onChange={(e) => setRole(e.target.value as Grantable)}>
                <option value="viewer">viewer</option>
                <option value="author">author</option>
              </select>
            </label>
            <button type="submit" className="button button-small" disabled={!pick}>
              Share
            </button>
          </form>
        ) : (
          <p className="muted">No other admin or security officer to share with.</p>
        ))}
    </section>
  );
}
