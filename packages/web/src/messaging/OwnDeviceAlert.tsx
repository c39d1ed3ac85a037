import { formatDateTime } from '../ui/format';
import { useMessenger, useMessengerSnapshot } from './MessengerProvider';

/**
 * Shown on every screen while a device this browser has never seen is active on the user's own
 * account. Only the user can tell whether it is theirs; a device they do not recognise is how an
 * attacker (or a compromised server) would read their conversations.
 */
export function OwnDeviceAlert() {
  const messenger = useMessenger();
  const { unknownOwnDevices } = useMessengerSnapshot();
  if (!messenger || unknownOwnDevices.length === 0) return null;
  return (
    <div className="notice own-device-alert" role="alert">
      <p>
        <strong>{unknownOwnDevices.length === 1 ? 'A new device was added to your account' : `${unknownOwnDevices.length} new devices were added to your account`}:</strong>{' '}
        {unknownOwnDevices.map((d) => `${d.name} (${formatDateTime(d.createdAt)})`).join(', ')}. If this was not you, revoke it now (
        <a href="#/profile">review your devices</a>) and tell your security officer.
      </p>
      <button type="button" className="button button-secondary button-small" onClick={() => messenger.acknowledgeOwnDevices(unknownOwnDevices.map((d) => d.id))}>
        It was me
      </button>
    </div>
  );
}
